"""Benchmark: ``store_agreement`` over 3 annotators on the synthetic scale corpus (issue 8:
under 2 s at 10,000 articles of 40 spans each, database read included).

    .venv/bin/python tests/benchmarks/bench_agreement.py [--sizes 1000 3000 10000]
        [--repeat 3] [--cache /tmp/glose-agreement] [--dump DIR]

For each N a SQLite file holds the project with three annotators a, b, c, each imported
from ``scale_corpus.write_jsonl(..., annotator=0|1|2)`` (each keeps, relabels, cuts or drops
the corpus spans differently). The files are cached under ``--cache`` (the import is the
slow part). Each N is timed in its own subprocess: the median and best of ``--repeat``
runs (wall clock) and their median CPU time (on a busy shared machine CPU time says more
than wall time), the process's peak RSS, the Python peak of one run (tracemalloc), and a
digest of the result, so that two versions of the code can be checked to give the same
figures (``--dump`` writes the results as JSON for a closer look).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from typing import Any

from scale_corpus import write_jsonl

from models.agreement.store_io import store_agreement
from models.jobs import run
from models.store import Store
from models.transfer import import_file

ANNOTATORS = ("a", "b", "c")
PROJECT = "bench"


def database(cache: Path, count: int) -> Path:
    """The cached database of ``count`` articles by the three annotators (built if missing)."""
    path = cache / f"agreement-{count}.sqlite"
    if path.exists():
        return path
    cache.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".partial")
    partial.unlink(missing_ok=True)
    store = Store.open(str(partial))
    try:
        project = store.ensure_project(PROJECT)
        for number, name in enumerate(ANNOTATORS):
            source = write_jsonl(cache / f"{count}-{name}.jsonl", count, annotator=number)
            began = time.perf_counter()
            run(import_file(store, project.id, source, "jsonl", annotator=name))
            print(f"  imported {count} as {name} in {time.perf_counter() - began:.1f} s")
    finally:
        store.close()
    partial.replace(path)
    return path


def peak_rss_mb() -> float:
    """This process's peak resident memory (VmHWM)."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError("no VmHWM in /proc/self/status")


def agreement(store: Store) -> dict[str, Any]:
    project = store.project(PROJECT)
    assert project is not None
    return run(store_agreement(store, project, list(ANNOTATORS), status="any"))


def child(path: Path, repeat: int, dump: Path | None) -> dict[str, Any]:
    store = Store.open(str(path))
    try:
        rss_before = peak_rss_mb()
        seconds, cpu = [], []
        for _ in range(repeat):
            began, began_cpu = time.perf_counter(), time.process_time()
            result = agreement(store)
            seconds.append(time.perf_counter() - began)
            cpu.append(time.process_time() - began_cpu)
        rss_after = peak_rss_mb()
        tracemalloc.start()
        agreement(store)
        _, python_peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    finally:
        store.close()
    text = json.dumps(result, sort_keys=True, ensure_ascii=False)
    if dump is not None:
        dump.mkdir(parents=True, exist_ok=True)
        (dump / f"{path.stem}.json").write_text(text, encoding="utf-8")
    return {
        "documents": result["documents"],
        "seconds": statistics.median(seconds),
        "best": min(seconds),
        "cpu": statistics.median(cpu),
        "rss_before": rss_before,
        "rss_after": rss_after,
        "python_peak": python_peak / 2**20,
        "f1_overlap": result["entities"]["pairs"][0]["f1_overlap"],
        "digest": hashlib.sha256(text.encode()).hexdigest()[:12],
    }


HEADER = (
    "     N   docs | median s  best s  CPU s | peak RSS MB before → after | Python peak MB"
    " | f1_overlap a×b | result digest"
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 3000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--cache", type=Path, default=Path("/tmp/glose-agreement"))
    parser.add_argument("--dump", type=Path, help="write each result as JSON in this folder")
    parser.add_argument("--child", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        print(json.dumps(child(args.child, args.repeat, args.dump)))
        return
    paths = {count: database(args.cache, count) for count in args.sizes}
    print(HEADER)
    for count, path in paths.items():
        command = [sys.executable, __file__, "--child", str(path), "--repeat", str(args.repeat)]
        if args.dump:
            command += ["--dump", str(args.dump)]
        done = subprocess.run(command, stdout=subprocess.PIPE, text=True, check=True)
        r = json.loads(done.stdout.strip().splitlines()[-1])
        print(
            f"{count:>6} {r['documents']:>6} | {r['seconds']:>8.2f} {r['best']:>7.2f}"
            f" {r['cpu']:>6.2f}"
            f" | {r['rss_before']:>11.0f} → {r['rss_after']:<11.0f}"
            f" | {r['python_peak']:>14.1f} | {r['f1_overlap']:.12f} | {r['digest']}"
        )


if __name__ == "__main__":
    main()
