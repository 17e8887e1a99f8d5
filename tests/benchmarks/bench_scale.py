"""Scale benchmark (issue 8): Glose against the raw sqlite3 limit on N synthetic articles.

    .venv/bin/python tests/benchmarks/bench_scale.py [-n 10000] [--skip spacy agreement]
        [--repeat 3] [--pg postgresql+psycopg://user@host/db]

The articles come from ``scale_corpus.write_jsonl`` (cached in ``--work``). Each measure runs
in its own subprocess, so that its peak memory (VmHWM, the peak resident set) is its own
(the DocBin export's worker processes, ``models.formats.docbin_workers``, are read as they
close and printed after it: "195 + 150"):

- import: native JSONL with spans. raw = ``json.loads`` of each line and sqlite3
  ``executemany`` of the documents then the spans in one transaction into an equivalent
  schema (WAL, synchronous=NORMAL like Glose); glose = ``models.transfer.import_file`` into a
  fresh Store file (the empty database is created, migrations included, before the clock).
- export JSONL / spaCy DocBin: raw = a plain read of the same documents and spans written as
  JSON lines (the raw limit of both rows); glose = ``models.transfer.export``.
- fetch: one document with all its layers, p95 over ``--fetches`` random documents of the
  three-annotator database: glose = ``Store.document`` and, for each annotator, the calls the
  GUI makes to show a layer (``find_layer``, ``entities``, ``stance``, ``events``);
  raw = the document row and its spans. A second line gives the p95 of the CPU time, which
  a busy machine does not inflate.
- size: the Glose file after the import against the raw file (after a WAL checkpoint,
  page_count × page_size). The raw file plus the FTS5 index Glose keeps for search
  (detail=none, external content, built in one 'rebuild') is a second reference line, for
  the size and for the import time.
- agreement: ``store_agreement`` over three annotators, each an import of
  ``write_jsonl(..., annotator=k)`` with ``--annotator`` a, b, c (no raw column).

With ``--pg URL`` the import and the JSONL export also run on PostgreSQL (schema
glose_scale of that database, dropped and made again).
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ANNOTATORS = ("a", "b", "c")
RAW_SCHEMA = """
CREATE TABLE documents (id INTEGER PRIMARY KEY, external_id TEXT, title TEXT, text TEXT,
                        meta TEXT);
CREATE TABLE spans (doc_id INTEGER NOT NULL REFERENCES documents (id), start INTEGER,
                    "end" INTEGER, label TEXT);
CREATE INDEX ix_spans_doc ON spans (doc_id);
"""
RAW_FTS = """
CREATE VIRTUAL TABLE documents_fts USING fts5 (title, text, content='documents',
    content_rowid='id', tokenize='unicode61 remove_diacritics 2', detail=none);
INSERT INTO documents_fts (documents_fts) VALUES ('rebuild');
"""
SKIPPABLE = ("spacy", "fetch", "agreement")
PG_SCHEMA = "glose_scale"


# -- what each subprocess runs ------------------------------------------------------------
def peak_mb(process: str = "self") -> float:
    """A process's peak resident memory (VmHWM: unlike ru_maxrss, not inherited across
    exec from the parent)."""
    for line in Path(f"/proc/{process}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmHWM in /proc/{process}/status")


def watch_workers() -> list[float]:
    """The peak memory of each DocBin worker process, read as it is closed."""
    from models.formats import docbin_workers

    peaks: list[float] = []
    close = docbin_workers._Worker.close

    def closing(worker: docbin_workers._Worker, kill: bool) -> None:
        peaks.append(peak_mb(str(worker.process.pid)))
        close(worker, kill)

    docbin_workers._Worker.close = closing  # type: ignore[method-assign]
    return peaks


def connect_raw(path: Path) -> sqlite3.Connection:
    connection = sqlite3.connect(path, isolation_level=None)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = NORMAL")
    return connection


def file_size(path: Path) -> int:
    """Bytes of the SQLite database after a WAL checkpoint (page_count × page_size)."""
    connection = sqlite3.connect(path)
    try:
        connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        size: int = pages * connection.execute("PRAGMA page_size").fetchone()[0]
        return size
    finally:
        connection.close()


def fresh(path: Path) -> Path:
    for stale in (path, Path(f"{path}-wal"), Path(f"{path}-shm")):
        stale.unlink(missing_ok=True)
    return path


def raw_import(work: Path, n: int) -> dict[str, Any]:
    path = fresh(work / f"raw-{n}.sqlite")
    began = time.perf_counter()
    connection = connect_raw(path)
    connection.executescript(RAW_SCHEMA)
    documents, spans = [], []
    with corpus(work, n).open("rb") as lines:
        for doc_id, line in enumerate(lines, 1):
            item = json.loads(line)
            meta = json.dumps(item["meta"], ensure_ascii=False)
            documents.append((doc_id, item["id"], item["title"], item["text"], meta))
            spans += [(doc_id, s["start"], s["end"], s["label"]) for s in item["spans"]]
    connection.execute("BEGIN")
    connection.executemany("INSERT INTO documents VALUES (?, ?, ?, ?, ?)", documents)
    connection.executemany("INSERT INTO spans VALUES (?, ?, ?, ?)", spans)
    connection.execute("COMMIT")
    connection.close()
    seconds = time.perf_counter() - began
    fts = fresh(work / f"raw-fts-{n}.sqlite")
    source, target = sqlite3.connect(path), sqlite3.connect(fts)
    source.backup(target)
    source.close()
    began = time.perf_counter()
    target.executescript(RAW_FTS)
    target.close()
    indexed = seconds + time.perf_counter() - began
    return {"seconds": seconds, "fts": indexed, "size": file_size(path), "size_fts": file_size(fts)}


def glose_import(
    work: Path, n: int, db: str = "", files: tuple[tuple[Path, str | None], ...] = ()
) -> dict[str, Any]:
    """``glose import`` of the corpus (or of ``files``) into a fresh database: a SQLite file
    of ``work`` or, with ``db``, a fresh schema of that PostgreSQL database."""
    from models.jobs import run
    from models.store import Store
    from models.transfer import import_file

    path = work / f"{'three' if files else 'glose'}-{n}.sqlite"
    store = Store.open(fresh_schema(db) if db else str(fresh(path)))
    project = store.ensure_project()
    began = time.perf_counter()
    for source, annotator in files or ((corpus(work, n), None),):
        report = run(import_file(store, project.id, source, annotator=annotator))
        if report.problems or report.added + report.duplicates != n or report.layers != n:
            raise RuntimeError(f"{source}: import went wrong: {report}")
    seconds = time.perf_counter() - began
    store.close()
    return {"seconds": seconds, "size": 0 if db else file_size(path)}


def fresh_schema(db: str, fresh: bool = True) -> str:
    """URL of the schema glose_scale of the PostgreSQL database ``db``, emptied first."""
    from sqlalchemy import create_engine, make_url, text
    from sqlalchemy.pool import NullPool

    if fresh:
        admin = create_engine(db, poolclass=NullPool, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            connection.execute(text(f"DROP SCHEMA IF EXISTS {PG_SCHEMA} CASCADE"))
            connection.execute(text(f"CREATE SCHEMA {PG_SCHEMA}"))
        admin.dispose()
    url = make_url(db).update_query_dict({"options": f"-csearch_path={PG_SCHEMA}"})
    return url.render_as_string(hide_password=False)


def three_annotators(work: Path, n: int) -> dict[str, Any]:
    files = tuple((corpus(work, n, k), name) for k, name in enumerate(ANNOTATORS))
    return glose_import(work, n, files=files)


def raw_export(work: Path, n: int) -> dict[str, Any]:
    connection = sqlite3.connect(work / f"raw-{n}.sqlite")
    out = work / "raw-export.jsonl"
    began = time.perf_counter()
    documents = connection.execute(
        "SELECT id, external_id, title, text, meta FROM documents ORDER BY id"
    )
    spans = connection.execute('SELECT doc_id, start, "end", label FROM spans ORDER BY doc_id')
    pending = next(spans, None)
    with out.open("w", encoding="utf-8") as handle:
        for doc_id, external_id, title, text, meta in documents:
            found = []
            while pending is not None and pending[0] == doc_id:
                found.append({"start": pending[1], "end": pending[2], "label": pending[3]})
                pending = next(spans, None)
            item = {"id": external_id, "text": text, "title": title, "meta": json.loads(meta)}
            item["spans"] = found
            handle.write(json.dumps(item, ensure_ascii=False) + "\n")
    seconds = time.perf_counter() - began
    connection.close()
    return {"seconds": seconds}


def glose_export(work: Path, n: int, fmt: str, db: str = "") -> dict[str, Any]:
    from models.jobs import run
    from models.store import Store
    from models.transfer import export

    store = Store.open(fresh_schema(db, fresh=False) if db else str(work / f"glose-{n}.sqlite"))
    project = store.project()
    assert project is not None
    out = work / ("glose-export.jsonl" if fmt == "jsonl" else "glose-export-spacy")
    workers = watch_workers()
    if fmt == "spacy":
        from models.formats.common import blank_nlp

        blank_nlp()  # a one-off load, not the export
    began = time.perf_counter()
    report = run(export(store, project.id, out, fmt=fmt, source="import"))
    seconds = time.perf_counter() - began
    store.close()
    if report.documents != n:
        raise RuntimeError(f"export wrote {report.documents} documents, not {n}")
    return {"seconds": seconds, "workers": workers}


def p95(fetch: Callable[[int], object], ids: list[int]) -> dict[str, Any]:
    """95th percentile of the wall time of ``fetch`` over ``ids`` ("seconds"), and of its
    CPU time ("cpu": what the wall time would be on an idle machine)."""
    wall, cpu = [], []
    for document_id in ids:
        began, began_cpu = time.perf_counter(), time.thread_time()
        fetch(document_id)
        wall.append(time.perf_counter() - began)
        cpu.append(time.thread_time() - began_cpu)
    return {
        "seconds": statistics.quantiles(wall, n=20)[-1],
        "cpu": statistics.quantiles(cpu, n=20)[-1],
    }


def raw_fetch(work: Path, n: int, count: int) -> dict[str, Any]:
    connection = sqlite3.connect(work / f"raw-{n}.sqlite")

    def fetch(document_id: int) -> object:
        row = connection.execute(
            "SELECT id, title, text, meta FROM documents WHERE id = ?", (document_id,)
        ).fetchone()
        spans = connection.execute(
            'SELECT start, "end", label FROM spans WHERE doc_id = ?', (document_id,)
        ).fetchall()
        return row[2], json.loads(row[3]), spans

    return p95(fetch, random.Random(8).sample(range(1, n + 1), min(count, n)))


def glose_fetch(work: Path, n: int, count: int) -> dict[str, Any]:
    from sqlalchemy import select

    from models.events import events
    from models.layers import entities, find_layer
    from models.schema import Document
    from models.stance import stance
    from models.store import Store

    store = Store.open(str(work / f"three-{n}.sqlite"))
    annotator_ids = [store.annotator_id(name) for name in ANNOTATORS]
    with store.reading() as session:
        ids = sorted(session.scalars(select(Document.id)))

    def fetch(document_id: int) -> object:
        document = store.document(document_id)
        layers = []
        for annotator_id in annotator_ids:
            layer = find_layer(store, document_id, annotator_id)
            assert layer is not None
            found = entities(store, layer.id), stance(store, layer.id), events(store, layer.id)
            layers.append(found)
        return document, layers

    result = p95(fetch, random.Random(8).sample(ids, min(count, n)))
    store.close()
    return result


def agreement(work: Path, n: int) -> dict[str, Any]:
    from models.agreement.store_io import store_agreement
    from models.jobs import run
    from models.store import Store

    store = Store.open(str(work / f"three-{n}.sqlite"))
    project = store.project()
    assert project is not None
    began = time.perf_counter()
    run(store_agreement(store, project, list(ANNOTATORS), status="any"))
    seconds = time.perf_counter() - began
    store.close()
    return {"seconds": seconds}


def corpus(work: Path, n: int, annotator: int | None = None) -> Path:
    suffix = "" if annotator is None else f"-k{annotator}"
    return work / f"{n}{suffix}.jsonl"


def write_corpora(work: Path, n: int, three: bool) -> dict[str, Any]:
    from scale_corpus import write_jsonl

    write_jsonl(corpus(work, n), n)
    for k in range(len(ANNOTATORS)) if three else ():
        write_jsonl(corpus(work, n, k), n, annotator=k)
    return {"seconds": 0.0}


def child(op: str, work: Path, n: int, fetches: int, pg: str) -> dict[str, Any]:
    jobs: dict[str, Callable[[], dict[str, Any]]] = {
        "corpora": lambda: write_corpora(work, n, three=False),
        "corpora3": lambda: write_corpora(work, n, three=True),
        "raw_import": lambda: raw_import(work, n),
        "glose_import": lambda: glose_import(work, n),
        "pg_import": lambda: glose_import(work, n, pg),
        "three": lambda: three_annotators(work, n),
        "raw_export": lambda: raw_export(work, n),
        "glose_jsonl": lambda: glose_export(work, n, "jsonl"),
        "pg_jsonl": lambda: glose_export(work, n, "jsonl", pg),
        "glose_spacy": lambda: glose_export(work, n, "spacy"),
        "raw_fetch": lambda: raw_fetch(work, n, fetches),
        "glose_fetch": lambda: glose_fetch(work, n, fetches),
        "agreement": lambda: agreement(work, n),
    }
    result = jobs[op]()
    result["peak"] = peak_mb()
    return result


# -- the driver ---------------------------------------------------------------------------
def measure(op: str, args: argparse.Namespace) -> dict[str, Any]:
    """Run ``op`` ``--repeat`` times, each in a fresh subprocess; the median times, the
    highest peak, the other figures of the last run."""
    runs = []
    for _ in range(args.repeat if not op.startswith(("corpora", "three")) else 1):
        command = [sys.executable, __file__, "--op", op, "-n", str(args.n), "--work", args.work]
        command += ["--fetches", str(args.fetches), "--pg", args.pg]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    result = dict(runs[-1])
    for timed in ("seconds", "fts", "cpu"):
        if timed in result:
            result[timed] = statistics.median(r[timed] for r in runs)
    result["peak"] = max(r["peak"] for r in runs)
    worker_peaks = [peak for r in runs for peak in r.get("workers", [])]
    result["workers"] = [max(worker_peaks)] if worker_peaks else []  # the highest of any
    return result


def rows(args: argparse.Namespace) -> Iterator[tuple[str, Any, Any, str, str]]:
    """(operation, raw figure, glose figure, unit, target) for each measure, as it runs."""
    three = not {"fetch", "agreement"} <= set(args.skip)
    measure("corpora3" if three else "corpora", args)
    raw, glose = measure("raw_import", args), measure("glose_import", args)
    yield "import JSONL + spans", raw, glose, "s", "≤ 3 s, ≤ 1.5×"
    yield "  (raw + FTS5 index)", {"seconds": raw["fts"], "peak": None}, glose, "s", "≤ 1.5×"
    raw_out = measure("raw_export", args)
    yield "export JSONL", raw_out, measure("glose_jsonl", args), "s", "≤ 2 s, ≤ 2×"
    if args.pg:
        yield "import, PostgreSQL", raw, measure("pg_import", args), "s", "≤ 3 s, ≤ 1.5×"
        yield "export JSONL, PostgreSQL", raw_out, measure("pg_jsonl", args), "s", "≤ 2 s, ≤ 2×"
    if "spacy" not in args.skip:
        yield "export spaCy DocBin", raw_out, measure("glose_spacy", args), "s", "≤ 2 s, ≤ 2×"
    yield "database size", size(raw, "size"), size(glose, "size"), "MB", "≤ 1.2×"
    yield "  (raw + FTS5 index)", size(raw, "size_fts"), size(glose, "size"), "MB", "≤ 1.2×"
    if three:
        measure("three", args)
    if "fetch" not in args.skip:
        raw_fetch, glose_fetch = measure("raw_fetch", args), measure("glose_fetch", args)
        yield "fetch doc + 3 layers p95", raw_fetch, glose_fetch, "ms", "< 5 ms"
        yield "  (CPU time p95)", cpu(raw_fetch), cpu(glose_fetch), "ms", "< 5 ms"
    if "agreement" not in args.skip:
        yield "agreement, 3 annotators", None, measure("agreement", args), "s", "< 2 s"


def cpu(result: dict[str, Any]) -> dict[str, Any]:
    return {"seconds": result["cpu"], "peak": None}


def size(result: dict[str, Any], key: str) -> dict[str, Any]:
    return {"seconds": result[key] / 2**20, "peak": None}


def figure(result: dict[str, Any] | None, unit: str) -> str:
    if result is None:
        return "-"
    if unit == "ms":
        return f"{result['seconds'] * 1000:.2f}"
    return f"{result['seconds']:.1f}" if unit == "MB" else f"{result['seconds']:.2f}"


def peak(result: dict[str, Any] | None) -> str:
    """The peak memory, and that of each worker process (the DocBin export's) after it."""
    if result is None or result["peak"] is None:
        return "-"
    return " + ".join(f"{mb:.0f}" for mb in (result["peak"], *result.get("workers", ())))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("-n", type=int, default=10_000, help="articles (default 10,000)")
    parser.add_argument("--work", default="/tmp/glose-scale", help="corpora and databases")
    parser.add_argument("--skip", nargs="*", default=[], choices=SKIPPABLE, help="rows to skip")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measure (median)")
    parser.add_argument("--fetches", type=int, default=500, help="documents fetched")
    parser.add_argument("--pg", default="", help="also import and export on this PostgreSQL URL")
    parser.add_argument("--op", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.op:
        print(json.dumps(child(args.op, Path(args.work), args.n, args.fetches, args.pg)))
        return
    Path(args.work).mkdir(parents=True, exist_ok=True)
    print(f"N = {args.n:,} articles, {args.repeat} run(s) a measure (median)")
    header = ("operation", "raw", "glose", "ratio", "target", "peak MB raw", "peak MB glose")
    line = "{:<29} | {:>8} | {:>8} | {:>6} | {:<14} | {:>11} | {:>13}"
    print(line.format(*header))
    print(line.format(*("-" * width for width in (29, 8, 8, 6, 14, 11, 13))))
    for name, raw, glose, unit, target in rows(args):
        ratio = f"{glose['seconds'] / raw['seconds']:.2f}×" if raw else "-"
        figures = (figure(raw, unit), figure(glose, unit), ratio, target, peak(raw), peak(glose))
        print(line.format(f"{name} ({unit})", *figures), flush=True)


if __name__ == "__main__":
    main()
