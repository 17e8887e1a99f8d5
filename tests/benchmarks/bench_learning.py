"""Benchmark: pre-annotation that learns, leave-one-article-out on the gold fixture.

For each of the five articles of ``tests/data/gold/sample_gold.jsonl`` (annotator gold,
made by ``docs/guidelines.md``), the other four are the analysts' done work. Exact-span F1
(offsets and label) against gold, over the five held-out articles, of:

1. raw: fr_core_news_sm's NER on the normalised text (as ``models.preannotate`` runs it);
2. + rules: the default schema's ``[rules]`` (determiners, punctuation, min length);
3. + memory: a correction memory learned from the other four articles (gold against the
   model's ruled spans), applied after the rules;
4. + fine-tuned: the NER fine-tuned on the other four (``--epochs``), then rules and memory.

Each stage must not be worse than the one before. Then the speed of memory matching: a
memory of 10,000 forms (the gold forms and made-up names) applied to the Docs of a
pre-annotation run over ``--copies`` copies of the corpus, against the time of that run;
memory must add less than 10%.

    .venv/bin/python tests/benchmarks/bench_learning.py --epochs 3 --copies 20
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import spacy
from spacy.language import Language

from models.agreement.spans import F1Counts, exact_matches
from models.formats import jsonl
from models.labels import load_default
from models.learning import Learner, LearningSettings
from models.memory import Memory
from models.normalise import normalise
from models.preannotate import DEFAULT_MODEL, load_pipeline
from models.records import DocumentRecord, SpanRecord
from models.rules import Span, apply_rules
from models.training import examples, fine_tune

GOLD = Path(__file__).resolve().parent.parent / "data" / "gold" / "sample_gold.jsonl"
SCHEMA = load_default()
LABELS = set(SCHEMA.entity_ids)
STAGES = ("raw model", "+ rules", "+ memory", "+ fine-tuned")


def gold() -> list[DocumentRecord]:
    return [item for item in jsonl.read(GOLD) if isinstance(item, DocumentRecord)]


def model_spans(nlp: Language, text: str) -> list[Span]:
    doc = nlp(normalise(text))
    return [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in LABELS]


def ruled(text: str, spans: list[Span]) -> list[Span]:
    return apply_rules(text, spans, SCHEMA.rules, SCHEMA.language)


def spans_of(record: DocumentRecord) -> list[Span]:
    return [(s.start, s.end, s.label) for s in record.spans]


def memory_from(records: list[DocumentRecord], raw: dict[int, list[Span]]) -> Memory:
    memory = Memory(SCHEMA.language)
    for index, record in enumerate(records):
        memory.learn(record.text, spans_of(record), ruled(record.text, raw[index]), "gold")
    return memory


def fold_spans(
    records: list[DocumentRecord], held: int, raw: list[list[Span]], epochs: int
) -> list[list[Span]]:
    """The four stages' spans of the held-out article."""
    others = [r for i, r in enumerate(records) if i != held]
    other_raw = {j: raw[i] for j, i in enumerate(i for i in range(len(records)) if i != held)}
    text = records[held].text
    memory = memory_from(others, other_raw)
    learner = Learner(SCHEMA, LearningSettings(), memory)
    tuned = spacy.load(DEFAULT_MODEL)
    data = examples(tuned, [(r.text, spans_of(r)) for r in others])
    for _ in fine_tune(tuned, data, epochs):
        pass
    tuned_memory = memory_from(
        others, {j: model_spans(tuned, r.text) for j, r in enumerate(others)}
    )
    tuned_learner = Learner(SCHEMA, LearningSettings(), tuned_memory)
    return [
        raw[held],
        ruled(text, raw[held]),
        [(s, e, label) for s, e, label, _ in learner.spans(text, raw[held])],
        [(s, e, label) for s, e, label, _ in tuned_learner.spans(text, model_spans(tuned, text))],
    ]


def records(spans: list[Span]) -> list[SpanRecord]:
    return [SpanRecord(*span) for span in spans]


def leave_one_out(epochs: int) -> list[float]:
    items = gold()
    nlp = load_pipeline()
    raw = [model_spans(nlp, record.text) for record in items]
    counts = [F1Counts() for _ in STAGES]
    for held, record in enumerate(items):
        truth = records(spans_of(record))
        for stage, spans in zip(counts, fold_spans(items, held, raw, epochs), strict=True):
            found = records(spans)
            stage.add(exact_matches(truth, found), truth, found)
    scores = [stage.f1().value or 0.0 for stage in counts]
    print(f"{'stage':<16} {'F1':>6}   (leave-one-article-out, {len(items)} articles)")
    for name, score in zip(STAGES, scores, strict=True):
        print(f"{name:<16} {score:6.3f}")
    return scores


def memory_speed(copies: int, forms: int = 10_000) -> float:
    """Memory matching time over pre-annotation time, with a ``forms``-form memory."""
    items = gold()
    memory = memory_from(items, {i: [] for i in range(len(items))})
    for number in range(forms - len(memory)):
        memory.learn(f"Nom{number} Propre", [(0, len(f"Nom{number} Propre"), "ORG")], [], "x")
    assert len(memory) >= forms
    nlp = load_pipeline()
    texts = [normalise(record.text) for record in items] * copies
    began = time.perf_counter()
    docs = list(nlp.pipe(texts, batch_size=64))
    pipeline = time.perf_counter() - began
    memory.apply(texts[0], [], docs[0])  # builds the PhraseMatcher once, as a run does
    began = time.perf_counter()
    for doc in docs:
        memory.apply(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents], doc)
    matching = time.perf_counter() - began
    began = time.perf_counter()
    for doc in docs:  # a refresh: no spaCy run, the memory tokenizes the text itself
        memory.apply(doc.text, [(e.start_char, e.end_char, e.label_) for e in doc.ents])
    retokenized = time.perf_counter() - began
    share = matching / pipeline
    print(
        f"memory of {len(memory)} forms on {len(docs)} documents: pre-annotation "
        f"{pipeline:.2f} s, memory {matching:.3f} s = {share:.1%} (target < 10%); "
        f"refresh without spaCy (tokenizing again) {retokenized:.3f} s"
    )
    return share


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--epochs", type=int, default=3)
    parser.add_argument("--copies", type=int, default=20)
    args = parser.parse_args()
    scores = leave_one_out(args.epochs)
    worse = [STAGES[i + 1] for i in range(len(scores) - 1) if scores[i + 1] < scores[i]]
    print("each stage at least as good as the one before" if not worse else f"WORSE: {worse}")
    memory_speed(args.copies)


if __name__ == "__main__":
    main()
