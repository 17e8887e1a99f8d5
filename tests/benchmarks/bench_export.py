"""Benchmark: the spaCy DocBin writer (``models.formats.spacy_docbin.Writer``) alone, on the
synthetic corpus of issue 8 (``scale_corpus.articles``: ~625 words and 40 entities an
article) held in memory as records, against spaCy's own way of making the same DocBin
(spaCy's tokenizer, a ``Doc`` per record with its entities, ``DocBin.add``, ``to_disk``,
100 documents a file: what the writer did before) on the first ``--baseline`` documents.
The database read is ``bench_scale.py``'s business.

    .venv/bin/python tests/benchmarks/bench_export.py [--sizes 1000 10000] [--repeat 3]
                                                      [--baseline 1000]

Prints the writer's median time over ``--repeat`` runs, its main thread's CPU time (the
zlib compression runs on a second thread), the size of the output and the Python peak
memory of one more run (tracemalloc), then the baseline, as documents a second.
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
import tracemalloc
from pathlib import Path

from scale_corpus import articles

from models.formats import jsonl, spacy_docbin
from models.formats.common import blank_nlp
from models.records import DocumentRecord


def corpus(size: int) -> list[DocumentRecord]:
    return [jsonl.decode(item) for item in articles(size)]


def write(records: list[DocumentRecord], out: Path) -> tuple[float, float]:
    """(wall seconds, main-thread CPU seconds) of the writer on ``records``."""
    began, cpu = time.perf_counter(), time.thread_time()
    with spacy_docbin.Writer(out, dev_fraction=0.2) as writer:
        for record in records:
            writer.write(record)
    return time.perf_counter() - began, time.thread_time() - cpu


def peak_mb(records: list[DocumentRecord], out: Path) -> float:
    tracemalloc.start()
    write(records, out)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def spacy_way(records: list[DocumentRecord], out: Path) -> float:
    """Seconds to build the same DocBin files with spaCy's objects (entities that do not
    fit spaCy's tokens are widened, overlapping ones dropped: a baseline, not an export)."""
    from spacy.tokens import DocBin
    from spacy.util import filter_spans

    nlp = blank_nlp("fr")
    began = time.perf_counter()
    out.mkdir()
    for first in range(0, len(records), spacy_docbin.SHARD_SIZE):
        docbin = DocBin(attrs=spacy_docbin.ATTRS, store_user_data=True)
        for record in records[first : first + spacy_docbin.SHARD_SIZE]:
            doc = nlp.tokenizer(record.text)
            spans = [
                doc.char_span(s.start, s.end, s.label, alignment_mode="expand")
                for s in record.spans
            ]
            doc.ents = filter_spans([span for span in spans if span is not None])
            doc.user_data["glose"] = {"meta": record.meta}
            docbin.add(doc)
        docbin.to_disk(out / f"{first // spacy_docbin.SHARD_SIZE:04d}.spacy")
    return time.perf_counter() - began


def size_mb(folder: Path) -> float:
    return sum(file.stat().st_size for file in folder.rglob("*.spacy")) / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[1000, 10_000])
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--baseline", type=int, default=1000, help="documents (0: none)")
    args = parser.parse_args()
    records = corpus(max(args.sizes))
    import spacy.strings  # noqa: F401  (spaCy's import is the CLI's cost, not the writer's)

    print("   docs | writer s (median) | doc/s   | main CPU s | output MB | Python peak MB")
    with tempfile.TemporaryDirectory() as name:
        directory = Path(name)
        for size in args.sizes:
            runs = [write(records[:size], directory / f"w{size}-{n}") for n in range(args.repeat)]
            wall = statistics.median(run[0] for run in runs)
            cpu = statistics.median(run[1] for run in runs)
            peak = peak_mb(records[:size], directory / f"p{size}")
            print(
                f"{size:>7} | {wall:>17.2f} | {size / wall:>7.0f} | {cpu:>10.2f}"
                f" | {size_mb(directory / f'w{size}-0'):>9.1f} | {peak:>14.1f}"
            )
        if args.baseline:
            blank_nlp("fr")  # loaded before the timing
            sample = records[: args.baseline]
            seconds = spacy_way(sample, directory / "baseline")
            ours, _ = write(sample, directory / "ours")
            print(
                f"spaCy's objects on {len(sample)} docs: {seconds:.2f} s"
                f" ({len(sample) / seconds:.0f} doc/s); the writer: {ours:.2f} s"
                f" ({len(sample) / ours:.0f} doc/s), {seconds / ours:.0f}× faster"
            )


if __name__ == "__main__":
    main()
