"""Benchmark: corpus search (``models.search``) at 100,000 documents, SQLite and PostgreSQL.

    .venv/bin/python tests/benchmarks/bench_search.py [--size 100000] [--pg URL]

The corpus is scale_corpus's (about 625 words an article), imported once with
``models.transfer.import_file`` and cached under --cache (/tmp/glose-search): the SQLite file
``<size>.sqlite``, and on PostgreSQL the project ``bench-<size>`` of the --pg database. It
prints, for each query, the p50 and p95 latency of ``search`` (the first page of --limit
hits with their snippets, and the total when the index counts it), of its first hits (what
the search panel lists first: a phrase's page fills step by step, ``Found``), of ``count``
where the total is separate (phrases on SQLite), and of the document list's filter (its
count and first page, ``Store.first_rows``), with the number of matching documents.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

from scale_corpus import write_jsonl

from models.jobs import run
from models.search import Found, Query, count, parse, search, search_job
from models.store import ProjectInfo, Store
from models.transfer import import_file

QUERIES = {
    "rare word": "{rare}",
    "common word": "russie",
    "two words": "poutine pékin",
    "no accents": "pekin",
    "phrase": '"exercices militaires"',
    "sparse phrase": '"russie chine"',
    "prefix": "mosc*",
    "typing (prefix)": "coopérat",
    "exclusion": "poutine -pékin",
    "no hit": "zyxwvut",
}


def corpus_store(url: str, size: int, cache: Path) -> tuple[Store, ProjectInfo]:
    """The store holding the ``size``-article project, imported on the first run."""
    jsonl = write_jsonl(cache / f"{size}.jsonl", size)
    target = Path(url) if "://" not in url else None
    building = target is not None and not target.exists()
    store = Store.open(str(target.with_suffix(".partial")) if building and target else url)
    name = f"bench-{size}"
    project = store.project(name)
    if project is None:
        project = store.ensure_project(name)
        started = time.perf_counter()
        print(f"importing {size} articles into {store.url}…", file=sys.stderr)
        run(import_file(store, project.id, jsonl))
        print(f"  {time.perf_counter() - started:.0f} s", file=sys.stderr)
    if building and target is not None:
        store.close()
        target.with_suffix(".partial").replace(target)
        store = Store.open(str(target))
        project = store.project(name)
        assert project is not None
    return store, project


def timed(action: Callable[[], object], repeat: int) -> tuple[float, float]:
    """p50 and p95 in ms over ``repeat`` runs, after one warm-up run."""
    action()
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        times.append((time.perf_counter() - started) * 1000)
    times.sort()
    return statistics.median(times), times[min(int(len(times) * 0.95), len(times) - 1)]


def bench(store: Store, project: ProjectInfo, size: int, repeat: int, limit: int) -> None:
    annotator = store.annotator_id("bench", "human")
    backend = "PostgreSQL" if store.team else "SQLite"
    print(f"\n{backend}, {size:,} documents, first page of {limit}, {repeat} runs")
    print(
        f"{'query':<16} {'text':<24} {'hits':>7} {'search p50/p95':>15} "
        f"{'first hits':>15} {'count p50/p95':>15} {'list p50/p95':>15}"
    )
    for name, text in QUERIES.items():
        text = text.format(rare=f"{size // 2:07d}")
        query: Query = parse(text, typing=name.startswith("typing"))
        page = search(store, project.id, query, limit=limit)
        total = page.total if page.total is not None else count(store, project.id, query)
        search_ms = timed(lambda q=query: search(store, project.id, q, limit=limit), repeat)
        first_ms = timed(lambda q=query: first_hits(store, project, q, limit), repeat)
        count_ms = (
            timed(lambda q=query: count(store, project.id, q), max(repeat // 5, 3))
            if page.total is None
            else None
        )

        def listing(t: str = text) -> None:  # what the list model asks for (first_rows)
            store.first_rows(project.id, annotator, limit, search=t)

        list_ms = timed(listing, repeat)
        print(
            f"{name:<16} {text:<24} {total:>7} {_pair(search_ms):>15} {_pair(first_ms):>15} "
            f"{_pair(count_ms) if count_ms else '(in search)':>15} {_pair(list_ms):>15}"
        )


def first_hits(store: Store, project: ProjectInfo, query: Query, limit: int) -> None:
    """Run ``search_job`` until it gives hits: a ``Found`` step with some, or its page."""
    job = search_job(store, project.id, query, limit=limit)
    for step in job:
        if isinstance(step, Found) and step.hits:
            job.close()
            return


def _pair(times: tuple[float, float]) -> str:
    return f"{times[0]:.1f}/{times[1]:.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=100_000, help="articles in the corpus")
    parser.add_argument("--cache", type=Path, default=Path("/tmp/glose-search"))
    parser.add_argument("--pg", help="also on this PostgreSQL database URL")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--limit", type=int, default=20, help="hits on the first page")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    options = parser.parse_args()
    options.cache.mkdir(parents=True, exist_ok=True)
    urls = ([] if options.no_sqlite else [str(options.cache / f"{options.size}.sqlite")]) + (
        [options.pg] if options.pg else []
    )
    for url in urls:
        store, project = corpus_store(url, options.size, options.cache)
        try:
            bench(store, project, options.size, options.repeat, options.limit)
        finally:
            store.close()


if __name__ == "__main__":
    main()
