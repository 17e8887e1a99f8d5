"""A deterministic synthetic corpus shaped like the one of issue 8: N French articles of
about 625 words and exactly 40 entity spans each, built from the sentences of the bundled
sample articles.

The sample articles are run once through the real fr_core_news_sm (sentences and entities);
article ``i`` is then a sequence of sentences drawn with ``random.Random(seed + i)`` until it
reaches the word count, headed by a unique dispatch line, with 40 of its entities kept (the
others dropped at random, deterministically). Importable by every benchmark:

    from scale_corpus import write_jsonl  # tests/benchmarks on sys.path
    write_jsonl(path, 10_000)
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
CORPUS = ROOT / "resources" / "corpus"
WORDS = 625
SPANS = 40

Sentence = tuple[str, tuple[tuple[int, int, str], ...]]


@cache
def sentences() -> tuple[Sentence, ...]:
    """Every sentence of the sample corpus with its entities (offsets within the sentence)."""
    import spacy

    nlp = spacy.load("fr_core_news_sm", exclude=["lemmatizer", "morphologizer", "tagger"])
    out: list[Sentence] = []
    texts = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))]
    for doc in nlp.pipe(texts):
        for sent in doc.sents:
            text = sent.text.strip()
            if len(text.split()) < 4:
                continue
            base = sent.start_char + sent.text.index(text)
            ents = tuple(
                (ent.start_char - base, ent.end_char - base, ent.label_)
                for ent in sent.ents
                if ent.start_char >= base and ent.end_char <= base + len(text)
            )
            out.append((text, ents))
    return tuple(out)


def article(index: int, seed: int = 0, words: int = WORDS, spans: int = SPANS) -> dict[str, Any]:
    """Article ``index`` as a native JSONL object (text, title, meta, spans)."""
    pool = sentences()
    rng = random.Random(seed * 1_000_003 + index)
    head = f"Dépêche {index:07d}."
    parts, found, length, count = [head], [], len(head), 1
    while count < words or len(found) < spans:
        text, ents = pool[rng.randrange(len(pool))]
        separator = "\n\n" if rng.random() < 0.25 else " "
        offset = length + len(separator)
        parts.append(separator + text)
        found.extend((offset + start, offset + end, label) for start, end, label in ents)
        length = offset + len(text)
        count += len(text.split())
    kept = sorted(rng.sample(found, spans))
    return {
        "id": f"scale-{index}",
        "title": f"Article {index}",
        "text": "".join(parts),
        "meta": {"source": "scale", "n": index},
        "spans": [{"start": start, "end": end, "label": label} for start, end, label in kept],
    }


def articles(count: int, seed: int = 0) -> Iterator[dict[str, Any]]:
    for index in range(count):
        yield article(index, seed)


def annotator_version(item: dict[str, Any], annotator: int) -> dict[str, Any]:
    """Another annotator's take on ``item``: each span kept (90 %), relabelled (4 %), cut by
    its last character when longer than one (3 %) or dropped (3 %), deterministically."""
    rng = random.Random(f"{item['id']}/{annotator}")
    labels = sorted({span["label"] for span in item["spans"]} | {"MISC", "ORG"})
    spans = []
    for span in item["spans"]:
        draw = rng.random()
        if draw < 0.03:
            continue
        span = dict(span)
        if draw < 0.07:
            span["label"] = rng.choice([label for label in labels if label != span["label"]])
        elif draw < 0.10 and span["end"] - span["start"] > 1:
            span["end"] -= 1
        spans.append(span)
    return {**item, "spans": spans}


def write_jsonl(path: Path, count: int, seed: int = 0, annotator: int | None = None) -> Path:
    """``count`` articles as native JSONL at ``path`` (rewritten only when missing), as
    ``annotator_version(item, annotator)`` when an annotator number is given."""
    if not path.exists():
        partial = path.with_suffix(".partial")
        with partial.open("w", encoding="utf-8") as out:
            for item in articles(count, seed):
                if annotator is not None:
                    item = annotator_version(item, annotator)
                out.write(json.dumps(item, ensure_ascii=False) + "\n")
        partial.replace(path)
    return path


if __name__ == "__main__":
    import argparse

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("-n", "--count", type=int, default=10_000)
    options = parser.parse_args()
    write_jsonl(options.out, options.count)
    print(options.out)
