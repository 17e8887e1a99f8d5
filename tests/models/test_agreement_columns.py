"""The column-wise agreement (pages of numpy columns, chunked tokens, sorted overlap
matching) against the straightforward definitions, on random data."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models.agreement import chunks, corpus, tags
from models.agreement.chunks import TextTokens, chunk_tokenizer
from models.agreement.corpus import AnnotatedDocument, CorpusAgreement, corpus_agreement
from models.agreement.page import sorted_rows
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
    order, new = sorted_rows(columns)
    ordered = sorted(rows)
    assert [rows[i] for i in order.tolist()] == ordered
    assert new.tolist() == [i == 0 or ordered[i] != ordered[i - 1] for i in range(len(rows))]


@given(st.lists(st.text(ALPHABET, max_size=25), max_size=6), st.data())
def test_agreement_text_tokens_equal_token_spans(texts: list[str], data: st.DataObject) -> None:
    """Every token of the texts wanted, their counts, and the tokens that extents touch;
    chunk edges found by steps or by a search (WALK)."""
    wanted = data.draw(st.lists(st.booleans(), min_size=len(texts), max_size=len(texts)))
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(chunks, "WALK", data.draw(st.sampled_from([0, 1, chunks.WALK])))
        tokens = TextTokens(texts, np.array(wanted, dtype=bool), chunk_tokenizer())
    every = [
        (offset + start, offset + end)
        for offset, text, want in zip(tokens.offsets.tolist(), texts, wanted, strict=True)
        if want
        for start, end in token_spans(text)
    ]
    assert list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)) == every
    counts = [
        len(token_spans(text)) if want else 0 for text, want in zip(texts, wanted, strict=True)
    ]
    assert tokens.token_counts().tolist() == counts
    extents_drawn = []
    for offset, text, want in zip(tokens.offsets.tolist(), texts, wanted, strict=True):
        if want and text:
            extents_drawn += [
                (offset + start, offset + min(end, len(text)))
                for start, end in data.draw(st.lists(extents(len(text) - 1), max_size=3))
            ]
    starts = np.array([start for start, _ in extents_drawn], dtype=np.int64)
    ends = np.array([end for _, end in extents_drawn], dtype=np.int64)
    expected = [
        index
        for index, (first, last) in enumerate(every)
        if any(start < last and first < end for start, end in extents_drawn)
    ]
    touched, first, last = tokens.touched(starts, ends)
    assert touched.tolist() == expected
    for start, end, low, high in zip(starts, ends, first.tolist(), last.tolist(), strict=True):
        # the tokens touched ending after the start, then those starting before the end
        assert low == sum(every[index][1] <= start for index in expected)
        assert high == sum(every[index][0] < end for index in expected)


# pieces of French compounds and elisions (spelled in either case, with the long s and
# the dotless i the elisions match), numbers, their joiners, symbols, and characters left
# to token_spans (a digit beside a letter, "_", a combining accent, an emoji)
PIECES = ["l", "qu", "jusqu", "LORSQU", "puisqu", "quoiqu", "presqu", "ſ", "ı", "İ", "ab"]
PIECES += ["é", "t", "squ", "’", "'", "-", " ", "\n", ".", ",", "«", "9", "2,5", "٣", "²"]
PIECES += ["_", "\u0301", "😀"]


@given(st.lists(st.lists(st.sampled_from(PIECES), max_size=14).map("".join), max_size=4))
def test_agreement_text_tokens_follow_elisions_and_compounds(texts: list[str]) -> None:
    """The rules of ``token_rules.begins`` on texts made of elisions, compounds, numbers
    and their joiners."""
    tokens = TextTokens(texts, np.ones(len(texts), dtype=bool), chunk_tokenizer())
    every = [
        (offset + start, offset + end)
        for offset, text in zip(tokens.offsets.tolist(), texts, strict=True)
        for start, end in token_spans(text)
    ]
    assert list(zip(tokens.starts.tolist(), tokens.ends.tolist(), strict=True)) == every


@settings(max_examples=200, deadline=None)
@given(st.lists(documents(), max_size=6), st.integers(1, 3), st.sampled_from([tags.COUNTED, 0]))
def test_agreement_corpus_equals_one_document_at_a_time(
    items: list[AnnotatedDocument], page: int, counted: int
) -> None:
    """Pages of one to three documents; tag combinations counted in one array, or sorted."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(corpus, "PAGE", page)
        patch.setattr(tags, "COUNTED", counted)
        fast = run(corpus_agreement(ANNOTATORS, items))
    assert fast == reference_agreement(ANNOTATORS, items)
