"""The column-wise agreement (pages of numpy columns, chunked tokens, sorted overlap
matching) against the straightforward definitions, on random data."""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.agreement import corpus
from models.agreement.chunks import ChunkedTexts, chunk_tokenizer
from models.agreement.corpus import AnnotatedDocument, CorpusAgreement, corpus_agreement
from models.agreement.page import _sorted_rows
from models.agreement.spans import (
    exact_matches,
    iob_tags,
    overlap_matches,
    trigger_spans,
    trigger_type_pairs,
)
from models.jobs import run
from models.records import DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.tokens import token_spans

# letters (one outside the Latin-1 range, one the long s the elisions match), digits,
# every separator the tokenizer treats apart, a combining accent, no-break and other
# spaces, symbols, an emoji (two UTF-16 units)
ALPHABET = "abdlqsuéſЖ019,.'’-_\u0301 \xa0\n\u3000«»?😀"
LABELS = ("PER", "LOC", "ORG")
ANNOTATORS = ("ann", "bob", "cy")


def reference_overlap(a: Sequence[SpanRecord], b: Sequence[SpanRecord]) -> Counter[str]:
    """The greedy one-to-one overlap pairing of ``models.agreement.spans``, trying every
    pair (the definition the sorted matching must equal)."""
    matched: Counter[str] = Counter()
    for label in {span.label for span in [*a, *b]}:
        spans_a = [s for s in a if s.label == label]
        spans_b = [s for s in b if s.label == label]
        candidates = []
        for i, x in enumerate(spans_a):
            for j, y in enumerate(spans_b):
                shared = min(x.end, y.end) - max(x.start, y.start)
                if shared > 0:
                    extent = max(x.end, y.end) - min(x.start, y.start)
                    candidates.append((-shared, extent, x.start, x.end, y.start, y.end, i, j))
        used_a: set[int] = set()
        used_b: set[int] = set()
        for *_, i, j in sorted(candidates):
            if i not in used_a and j not in used_b:
                used_a.add(i)
                used_b.add(j)
        matched[label] = len(used_a)
    return +matched


def reference_agreement(
    annotators: Sequence[str],
    documents: Sequence[AnnotatedDocument],
    labels: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> dict[str, Any]:
    """Every measure fed one document at a time: whole-text tokens, IOB tags per
    annotator, every span pair tried (the accumulators and the result of
    ``CorpusAgreement`` are shared; only how they are fed differs)."""
    agreement = CorpusAgreement(annotators, labels, targets)
    for document in documents:
        agreement.documents += 1
        layers = {n: r for n in annotators if (r := document.layers.get(n)) is not None}
        tokens = token_spans(document.text) if len(layers) > 1 else []
        tags = {name: iob_tags(record.spans, tokens) for name, record in layers.items()}
        for (a, b), pair in agreement._pairs.items():
            if a not in layers or b not in layers:
                continue
            spans_a, spans_b = layers[a].spans, layers[b].spans
            pair.documents += 1
            pair.exact.add(exact_matches(spans_a, spans_b), spans_a, spans_b)
            pair.overlap.add(reference_overlap(spans_a, spans_b), spans_a, spans_b)
            pair.tokens.add_parallel(tags[a], tags[b])
            triggers_a, triggers_b = (
                trigger_spans(layers[a].events),
                trigger_spans(layers[b].events),
            )
            pair.triggers.add(exact_matches(triggers_a, triggers_b), triggers_a, triggers_b)
            pair.types.pairs.update(trigger_type_pairs(layers[a].events, layers[b].events).pairs)
        if len(tags) > 1:
            for unit, count in Counter(zip(*tags.values(), strict=True)).items():
                agreement._alpha_token.add(unit, count)
        agreement._add_stance({name: record.stance for name, record in layers.items()})
    return agreement.result()


@st.composite
def extents(draw: st.DrawFn, length: int) -> tuple[int, int]:
    start = draw(st.integers(0, length + 1))
    return start, start + draw(st.integers(0, 6))


@st.composite
def layers(draw: st.DrawFn, length: int) -> DocumentRecord | None:
    if draw(st.integers(0, 4)) == 0:
        return None  # no layer
    spans = [
        SpanRecord(*draw(extents(length)), draw(st.sampled_from(LABELS)))
        for _ in range(draw(st.integers(0, 6)))
    ]
    stance = [
        StanceRecord(target, draw(st.sampled_from(["pour", "contre"])))
        for target in draw(st.sets(st.sampled_from(["Russie", "Chine"])))
    ]
    events = [
        EventRecord(draw(st.sampled_from(["VISITE", "SOMMET"])), draw(extents(length)))
        for _ in range(draw(st.integers(0, 2)))
    ]
    return DocumentRecord("", spans=spans, stance=stance, events=events)


@st.composite
def documents(draw: st.DrawFn) -> AnnotatedDocument:
    text = draw(st.text(ALPHABET, max_size=30))
    return AnnotatedDocument(text, {name: draw(layers(len(text))) for name in ANNOTATORS})


spans_of_one_label = st.lists(
    st.builds(SpanRecord, st.integers(0, 12), st.integers(1, 14), st.just("LOC")).filter(
        lambda span: span.end > span.start
    ),
    max_size=8,
)


@given(spans_of_one_label, spans_of_one_label)
def test_agreement_overlap_matches_equals_every_pair_tried(
    a: list[SpanRecord], b: list[SpanRecord]
) -> None:
    assert overlap_matches(a, b) == reference_overlap(a, b)
    assert overlap_matches(b, a) == reference_overlap(b, a)


@given(st.lists(st.tuples(st.integers(-(2**62), 2**62), st.integers(0, 3), st.integers(0, 9))))
def test_agreement_sorted_rows_sort_and_mark_distinct_rows(
    rows: list[tuple[int, int, int]],
) -> None:
    """Rows packed into one key, or sorted column by column when the key would overflow."""
    columns = [np.array([row[i] for row in rows], dtype=np.int64) for i in range(3)]
    order, new = _sorted_rows(columns)
    ordered = sorted(rows)
    assert [rows[i] for i in order.tolist()] == ordered
    assert new.tolist() == [i == 0 or ordered[i] != ordered[i - 1] for i in range(len(rows))]


@given(st.lists(st.text(ALPHABET, max_size=25), max_size=6), st.data())
def test_agreement_chunked_tokens_equal_token_spans(texts: list[str], data: st.DataObject) -> None:
    """Token counts, and the tokens of the whitespace-separated chunks that extents touch."""
    wanted = data.draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    chunked = ChunkedTexts(texts, np.array(wanted, dtype=bool), chunk_tokenizer())
    counts = [
        len(token_spans(text)) if want else 0 for text, want in zip(texts, wanted, strict=True)
    ]
    assert chunked.token_counts().tolist() == counts
    extents_drawn, expected = [], []
    for offset, text, want in zip(chunked.offsets.tolist(), texts, wanted, strict=True):
        if not want or not text:
            continue
        mine = [
            (offset + start, offset + min(end, len(text)))
            for start, end in data.draw(st.lists(extents(len(text) - 1), max_size=3))
        ]
        extents_drawn += mine
        for chunk in re.finditer(r"\S+", text):
            first, last = offset + chunk.start(), offset + chunk.end()
            if any(start < last and first < end for start, end in mine):
                expected += [(first + s, first + e) for s, e in token_spans(chunk.group())]
    starts = np.array([start for start, _ in extents_drawn], dtype=np.int64)
    ends = np.array([end for _, end in extents_drawn], dtype=np.int64)
    found = chunked.tokens_touched(starts, ends)
    assert list(zip(found[0].tolist(), found[1].tolist(), strict=True)) == expected
    every = [
        (offset + start, offset + end)
        for offset, text, want in zip(chunked.offsets.tolist(), texts, wanted, strict=True)
        if want
        for start, end in token_spans(text)
    ]
    assert set(expected) <= set(every)  # the chunks' tokens are the text's


@settings(max_examples=200, deadline=None)
@given(st.lists(documents(), max_size=6), st.integers(1, 3))
def test_agreement_corpus_equals_one_document_at_a_time(
    items: list[AnnotatedDocument], page: int
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus, "PAGE", page)
        fast = run(corpus_agreement(ANNOTATORS, items))
    assert fast == reference_agreement(ANNOTATORS, items)
