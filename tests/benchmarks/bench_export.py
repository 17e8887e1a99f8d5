"""Benchmark: ``glose export --format spacy`` (``models.transfer.export`` on a Store) against
building the same DocBin from spaCy Docs already in memory, and peak memory, for 10× and
100× the sample corpus (pre-annotated once with the real fr_core_news_sm).

    .venv/bin/python tests/benchmarks/bench_export.py [--sizes 10 100]

Each size runs in its own subprocess so that its peak RSS (``ru_maxrss``) is its own; the
Python peak of the export alone is measured with tracemalloc on a second run.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path
from typing import Any

from sqlalchemy import insert

from models.formats import jsonl, spacy_docbin
from models.jobs import run
from models.preannotate import preannotate
from models.records import DocumentRecord
from models.schema import Entity, Layer
from models.store import Store
from models.transfer import export, import_texts

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "resources" / "corpus"
MODEL = "model"  # the project's model annotator


def annotated_corpus(directory: Path) -> Path:
    """The sample corpus pre-annotated by the real model, as native JSONL."""
    store = Store.open(str(directory / "seed.sqlite"))
    try:
        project = store.ensure_project("seed")
        run(import_texts(store, project.id, [CORPUS]))
        run(preannotate(store, project))
        path = directory / "seed.jsonl"
        run(export(store, project.id, path, source="model"))
    finally:
        store.close()
    return path


def copies(seed: Path, times: int) -> list[DocumentRecord]:
    """``times`` copies of the seed records, each text made unique by a suffix."""
    records = [r for r in jsonl.read(seed) if isinstance(r, DocumentRecord)]
    out = []
    for n in range(times):
        for record in records:
            out.append(
                DocumentRecord(text=f"{record.text}\n[{n}]", title=record.title, spans=record.spans)
            )
    return out


def fill(store: Store, records: list[DocumentRecord]) -> int:
    """Documents and the model's layers with Core inserts; returns the project id."""
    project = store.ensure_project("bench")
    model = store.annotator_id(project.model_annotator, "model")
    for start in range(0, len(records), 1000):
        page = records[start : start + 1000]
        ids = store.add_documents(project.id, page)
        with store.transaction() as session:
            layers = session.scalars(
                insert(Layer).returning(Layer.id, sort_by_parameter_order=True),
                [{"document_id": i, "annotator_id": model, "status": "done"} for i in ids],
            ).all()
            rows = [
                {"layer_id": layer, "start": s.start, "end": s.end, "label": s.label}
                for layer, record in zip(layers, page, strict=True)
                for s in record.spans
            ]
            session.execute(insert(Entity), [{**row, "origin": "model"} for row in rows])
    return project.id


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited from the
    parent across exec)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def python_peak_mb(store: Store, project_id: int, out: Path, fmt: str) -> float:
    tracemalloc.start()
    run(export(store, project_id, out, fmt=fmt, source=MODEL))
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    return peak / 2**20


def child(seed: Path, times: int) -> dict[str, Any]:
    records = copies(seed, times)
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        store = Store.open(str(directory / "bench.sqlite"))
        project_id = fill(store, records)
        spacy_docbin.blank_nlp("fr")  # loaded before any timing
        rss_before = peak_rss_mb()
        began = time.perf_counter()
        report = run(export(store, project_id, directory / "a", fmt="spacy", source=MODEL))
        export_seconds = time.perf_counter() - began
        rss_after = peak_rss_mb()
        spacy_peak = python_peak_mb(store, project_id, directory / "b", "spacy")
        jsonl_peak = python_peak_mb(store, project_id, directory / "b.jsonl", "jsonl")
        store.close()
        began = time.perf_counter()
        spacy_docbin.write_config(directory / "c", True, False, False)
        config_seconds = time.perf_counter() - began
        writer = spacy_docbin.Writer(directory / "d")
        began = time.perf_counter()
        docs = [writer.doc(record) for record in records]  # tokenizing: the store left out
        tokenize_seconds = time.perf_counter() - began
        from spacy.tokens import DocBin

        began = time.perf_counter()
        docbin = DocBin(store_user_data=True)
        for doc in docs:
            docbin.add(doc)
        docbin.to_disk(directory / "d.spacy")
        docbin_seconds = time.perf_counter() - began
    return {
        "times": times,
        "documents": report.documents,
        "export": report.documents / export_seconds,
        "config_seconds": config_seconds,
        "records": len(docs) / (tokenize_seconds + docbin_seconds),
        "docs": len(docs) / docbin_seconds,
        "rss_before": rss_before,
        "rss_after": rss_after,
        "spacy_peak": spacy_peak,
        "jsonl_peak": jsonl_peak,
        "warnings": list(report.warnings),
    }


HEADER = (
    "copies   docs | export spacy doc/s (config s) | records→DocBin doc/s | Docs→DocBin doc/s"
    " | peak RSS MB before/after export | Python peak MB: spacy export, jsonl export"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[10, 100])
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--seed", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.seed, args.child)))
        return
    with tempfile.TemporaryDirectory() as name:
        seed = annotated_corpus(Path(name))
        print(HEADER)
        for times in args.sizes:
            command = [sys.executable, __file__, "--child", str(times), "--seed", str(seed)]
            done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
            r = json.loads(done.stdout.strip().splitlines()[-1])
            print(
                f"{r['times']:>5}× {r['documents']:>6} | {r['export']:>10.0f}"
                f" ({r['config_seconds']:.2f})"
                f" | {r['records']:>10.0f} | {r['docs']:>10.0f}"
                f" | {r['rss_before']:>6.0f} / {r['rss_after']:<6.0f}"
                f" | {r['spacy_peak']:>7.1f}, {r['jsonl_peak']:.1f}"
            )


if __name__ == "__main__":
    main()
