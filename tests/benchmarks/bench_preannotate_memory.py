"""Peak memory and speed of pre-annotation by batch size (``models.preannotate.BATCH``).

    .venv/bin/python tests/benchmarks/bench_preannotate_memory.py [--documents 320]
        [--batch-sizes 64 32 16 8]

For each batch size and each pipeline (NER only; with event suggestions, which adds
spaCy's lemmatizing components), a child process imports ``--documents`` articles of
``scale_corpus`` (about 625 words each) into a fresh SQLite file, pre-annotates them with
``preannotate`` and prints documents a second and its peak resident memory (VmHWM; the
spaCy model alone is about 130 MB NER only, 310 MB with suggestions).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import scale_corpus

from models.jobs import run
from models.preannotate import BATCH, preannotate
from models.store import Store
from models.transfer import import_file


def peak_mb() -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def child(corpus: Path, batch: int, suggest: bool) -> None:
    with tempfile.TemporaryDirectory() as folder:
        store = Store.open(str(Path(folder) / "glose.sqlite"))
        project = store.ensure_project()
        run(import_file(store, project.id, corpus))
        project = store.project(project.name) or project
        started = time.perf_counter()
        report = run(preannotate(store, project, batch_size=batch, suggest=suggest))
        seconds = time.perf_counter() - started
        store.close()
    print(json.dumps({"documents": report.documents, "seconds": seconds, "peak": peak_mb()}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--documents", type=int, default=320)
    parser.add_argument("--batch-sizes", type=int, nargs="+", default=[64, 32, BATCH, 8])
    parser.add_argument("--child", nargs=3, help=argparse.SUPPRESS)  # corpus, batch, suggest
    options = parser.parse_args()
    if options.child:
        corpus, batch, suggest = options.child
        child(Path(corpus), int(batch), suggest == "1")
        return
    with tempfile.TemporaryDirectory() as folder:
        corpus = Path(folder) / "corpus.jsonl"
        scale_corpus.write_jsonl(corpus, options.documents)
        print(f"{options.documents} articles; default batch {BATCH}")
        print(f"{'pipeline':<18} {'batch':>5} {'docs/s':>7} {'peak MB':>8}")
        for suggest in (False, True):
            for batch in options.batch_sizes:
                arguments = [str(corpus), str(batch), "1" if suggest else "0"]
                output = subprocess.run(
                    [sys.executable, __file__, "--child", *arguments],
                    check=True,
                    capture_output=True,
                    text=True,
                ).stdout
                result = json.loads(output.strip().splitlines()[-1])
                name = "with suggestions" if suggest else "NER only"
                speed = result["documents"] / result["seconds"]
                print(f"{name:<18} {batch:>5} {speed:>7.1f} {result['peak']:>8.0f}", flush=True)


if __name__ == "__main__":
    main()
