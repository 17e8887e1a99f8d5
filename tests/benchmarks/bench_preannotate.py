"""Benchmark: glose import + pre-annotation end to end against raw ``nlp.pipe``.

Writes N copies of the sample corpus as .txt files (each copy ends with its own copy-number
line, so hashing does not dedupe them), then, in each round, times

- raw: ``nlp.pipe`` over the same texts as spaCy sees them in glose (normalised beforehand,
  off the clock), with the same components, batch size and processes;
- glose: ``import_texts`` of the files into a fresh SQLite store, then ``preannotate``.

and prints words/s of each (words = whitespace-separated words of the texts), their ratio
(the target is >= 0.85), entities (the same in both) and seconds, best round of each.

    .venv/bin/python tests/benchmarks/bench_preannotate.py --copies 20 --n-process 1
"""

from __future__ import annotations

import argparse
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from spacy.language import Language

from models.jobs import run
from models.normalise import normalise
from models.preannotate import load_pipeline, preannotate
from models.sample import sample_corpus_paths
from models.store import Store
from models.transfer import import_texts

TARGET = 0.85


@dataclass(frozen=True, slots=True)
class Timing:
    seconds: float
    entities: int


def write_copies(folder: Path, copies: int) -> list[str]:
    """The copies as files under ``folder``; returns their texts in import order."""
    texts = []
    for copy in range(copies):
        for path in sample_corpus_paths():
            text = f"{path.read_text('utf-8')}\n\nCopie {copy + 1}\n"
            (folder / f"{copy:04d}_{path.name}").write_text(text, "utf-8")
            texts.append(text)
    return texts


def time_raw(nlp: Language, texts: list[str], batch_size: int, n_process: int) -> Timing:
    began = time.perf_counter()
    found = sum(
        len(doc.ents) for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process)
    )
    return Timing(time.perf_counter() - began, found)


def time_glose(
    nlp: Language, corpus: Path, database: Path, batch_size: int, n_process: int
) -> Timing:
    store = Store.open(str(database))
    try:
        project = store.ensure_project("bench")
        began = time.perf_counter()
        imported = run(import_texts(store, project.id, [corpus]))
        job = preannotate(store, project, nlp=nlp, batch_size=batch_size, n_process=n_process)
        report = run(job)
        seconds = time.perf_counter() - began
    finally:
        store.close()
    assert imported.added == report.documents, (imported, report)
    return Timing(seconds, report.entities)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=20, help="copies of the sample corpus")
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    args = parser.parse_args()

    nlp = load_pipeline()
    with tempfile.TemporaryDirectory(prefix="glose-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        texts = write_copies(corpus, args.copies)
        words = sum(len(text.split()) for text in texts)
        normalised = [normalise(text) for text in texts]
        list(nlp.pipe(normalised[:5]))  # warm up
        raw: list[Timing] = []
        glose: list[Timing] = []
        for round_ in range(args.rounds):
            raw.append(time_raw(nlp, normalised, args.batch_size, args.n_process))
            database = Path(tmp) / f"round{round_}.sqlite"
            glose.append(time_glose(nlp, corpus, database, args.batch_size, args.n_process))

    assert {timing.entities for timing in raw + glose} == {raw[0].entities}, (raw, glose)
    best_raw = min(raw, key=lambda timing: timing.seconds)
    best_glose = min(glose, key=lambda timing: timing.seconds)
    raw_rate, glose_rate = words / best_raw.seconds, words / best_glose.seconds
    ratio = glose_rate / raw_rate
    print(
        f"{len(texts)} documents, {words} words; components {nlp.pipe_names}; "
        f"batch size {args.batch_size}, n_process {args.n_process}, best of {args.rounds}"
    )
    print(
        f"raw nlp.pipe : {raw_rate:9.0f} words/s  {best_raw.seconds:7.2f} s  "
        f"{best_raw.entities} entities"
    )
    print(
        f"glose        : {glose_rate:9.0f} words/s  {best_glose.seconds:7.2f} s  "
        f"{best_glose.entities} entities (import + pre-annotate + store)"
    )
    print(f"ratio        : {ratio:.3f} (target >= {TARGET}) {'OK' if ratio >= TARGET else 'LOW'}")
    print(
        "all rounds (raw s / glose s): "
        + ", ".join(f"{r.seconds:.2f}/{g.seconds:.2f}" for r, g in zip(raw, glose, strict=True))
    )


if __name__ == "__main__":
    main()
