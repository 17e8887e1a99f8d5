"""Benchmark: glose import + pre-annotation end to end against raw ``nlp.pipe``.

Writes N copies of the sample corpus as .txt files (each copy ends with its own copy-number
line, so hashing does not dedupe them), then, in each round, times

- raw: ``nlp.pipe`` over the same texts as spaCy sees them in glose (normalised beforehand,
  off the clock), with the same components, batch size and processes;
- glose: ``import_texts`` of the files into a fresh SQLite store, then ``preannotate``.

and prints words/s of each (words = whitespace-separated words of the texts), their ratio
(the target is >= 0.85), entities (the same in both) and seconds, best round of each.

This is done twice: NER only (the fast path, event suggestions off), then with event
suggestions, where raw runs the lemmatizing pipeline and the trigger Matcher
(``models.suggest.Suggester``) on each Doc and glose stores the suggested events too.

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
from models.labels import load_default
from models.normalise import normalise
from models.preannotate import BATCH, load_pipeline, preannotate
from models.sample import sample_corpus_paths
from models.store import Store
from models.suggest import Suggester
from models.transfer import import_texts

TARGET = 0.85


@dataclass(frozen=True, slots=True)
class Timing:
    seconds: float
    entities: int
    events: int


def write_copies(folder: Path, copies: int) -> list[str]:
    """The copies as files under ``folder``; returns their texts in import order."""
    texts = []
    for copy in range(copies):
        for path in sample_corpus_paths():
            text = f"{path.read_text('utf-8')}\n\nCopie {copy + 1}\n"
            (folder / f"{copy:04d}_{path.name}").write_text(text, "utf-8")
            texts.append(text)
    return texts


def time_raw(
    nlp: Language, suggester: Suggester | None, texts: list[str], batch_size: int, n_process: int
) -> Timing:
    began = time.perf_counter()
    entities = events = 0
    for doc in nlp.pipe(texts, batch_size=batch_size, n_process=n_process):
        entities += len(doc.ents)
        events += len(suggester(doc)) if suggester is not None else 0
    return Timing(time.perf_counter() - began, entities, events)


def time_glose(
    nlp: Language, suggest: bool, corpus: Path, database: Path, batch_size: int, n_process: int
) -> Timing:
    store = Store.open(str(database))
    try:
        project = store.ensure_project("bench")
        began = time.perf_counter()
        imported = run(import_texts(store, project.id, [corpus]))
        job = preannotate(
            store, project, nlp=nlp, batch_size=batch_size, n_process=n_process, suggest=suggest
        )
        report = run(job)
        seconds = time.perf_counter() - began
    finally:
        store.close()
    assert imported.added == report.documents, (imported, report)
    return Timing(seconds, report.entities, report.events)


def compare(
    nlp: Language, suggest: bool, tmp: Path, texts: list[str], args: argparse.Namespace
) -> float:
    """Best-of-rounds raw and glose timings of one pipeline, printed; their ratio."""
    corpus = tmp / "corpus"
    words = sum(len(text.split()) for text in texts)
    normalised = [normalise(text) for text in texts]
    suggester = Suggester(nlp, load_default()) if suggest else None
    list(nlp.pipe(normalised[:5]))  # warm up
    raw: list[Timing] = []
    glose: list[Timing] = []
    for round_ in range(args.rounds):
        raw.append(time_raw(nlp, suggester, normalised, args.batch_size, args.n_process))
        database = tmp / f"{'events' if suggest else 'ner'}{round_}.sqlite"
        glose.append(time_glose(nlp, suggest, corpus, database, args.batch_size, args.n_process))
    found = {(timing.entities, timing.events) for timing in raw + glose}
    assert found == {(raw[0].entities, raw[0].events)}, (raw, glose)
    best_raw = min(raw, key=lambda timing: timing.seconds)
    best_glose = min(glose, key=lambda timing: timing.seconds)
    raw_rate, glose_rate = words / best_raw.seconds, words / best_glose.seconds
    ratio = glose_rate / raw_rate
    what = "with event suggestions" if suggest else "NER only"
    print(f"-- {what}: components {nlp.pipe_names}" + (" + trigger Matcher" if suggest else ""))
    print(
        f"raw nlp.pipe : {raw_rate:9.0f} words/s  {best_raw.seconds:7.2f} s  "
        f"{best_raw.entities} entities, {best_raw.events} events"
    )
    print(
        f"glose        : {glose_rate:9.0f} words/s  {best_glose.seconds:7.2f} s  "
        f"{best_glose.entities} entities, {best_glose.events} events "
        "(import + pre-annotate + store)"
    )
    print(f"ratio        : {ratio:.3f} (target >= {TARGET}) {'OK' if ratio >= TARGET else 'LOW'}")
    print(
        "all rounds (raw s / glose s): "
        + ", ".join(f"{r.seconds:.2f}/{g.seconds:.2f}" for r, g in zip(raw, glose, strict=True))
    )
    return ratio


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=20, help="copies of the sample corpus")
    parser.add_argument("--n-process", type=int, default=1)
    parser.add_argument("--batch-size", type=int, default=BATCH)
    parser.add_argument("--rounds", type=int, default=3, help="best of this many rounds")
    parser.add_argument("--only", choices=("ner", "events"), help="run one comparison only")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="glose-bench-") as tmp:
        corpus = Path(tmp) / "corpus"
        corpus.mkdir()
        texts = write_copies(corpus, args.copies)
        words = sum(len(text.split()) for text in texts)
        print(
            f"{len(texts)} documents, {words} words; batch size {args.batch_size}, "
            f"n_process {args.n_process}, best of {args.rounds}"
        )
        ratios = {
            name: compare(load_pipeline(events=suggest), suggest, Path(tmp), texts, args)
            for name, suggest in (("NER only", False), ("with suggestions", True))
            if args.only in (None, "events" if suggest else "ner")
        }
    print("ratios: " + ", ".join(f"{name} {ratio:.3f}" for name, ratio in ratios.items()))


if __name__ == "__main__":
    main()
