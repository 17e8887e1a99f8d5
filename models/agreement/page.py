"""A page of documents with every annotator's spans as numpy columns, and the span
measures of the page, computed column-wise (the token measures: ``models.agreement.tags``).

The results are the integer counts the per-document definitions give
(``models.agreement.spans``): exact matches are the multiset intersection of identical
spans; overlap matches add the greedy pairing of the spans left over, per document and
label.
"""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from models.agreement.spans import greedy_overlaps
from models.agreement.token_rules import IntArray
from models.records import EventRecord, StanceRecord


@dataclass(frozen=True, slots=True)
class Page:
    """Documents (texts), which annotators have a counted layer on each (``present``,
    documents × annotators) and all their spans, one row per span."""

    texts: Sequence[str]
    present: NDArray[np.bool_]
    labels: Sequence[str]  # the names of the span_label codes, sorted (as iob_tags sorts)
    span_document: IntArray
    span_annotator: IntArray
    span_start: IntArray
    span_end: IntArray
    span_label: IntArray
    stance: Sequence[Mapping[int, Sequence[StanceRecord]]]  # per document, by annotator
    events: Sequence[Mapping[int, Sequence[EventRecord]]]


@dataclass(frozen=True, slots=True)
class PairSpans:
    """Span counts of a pair of annotators over the documents both annotated."""

    exact: Counter[str]
    overlap: Counter[str]
    count_a: Counter[str]
    count_b: Counter[str]


def label_codes(labels: Sequence[str]) -> tuple[list[str], IntArray]:
    """The distinct labels, sorted, and the code of each of ``labels`` (its index there)."""
    names = sorted(set(labels))
    code = {name: index for index, name in enumerate(names)}
    return names, np.fromiter(map(code.__getitem__, labels), np.int64, len(labels))


def _counter(labels: Sequence[str], counts: IntArray) -> Counter[str]:
    return Counter({labels[code]: int(n) for code, n in enumerate(counts.tolist()) if n})


class SpanIdentities:
    """The distinct spans of a page (document, label, start, end), sorted, with the
    identity of each span row."""

    def __init__(self, page: Page) -> None:
        keys = (page.span_document, page.span_label, page.span_start, page.span_end)
        order, new = sorted_rows(keys)
        columns = [column[order] for column in keys]
        self.of_span = np.empty(len(order), dtype=np.int64)
        self.of_span[order] = np.cumsum(new) - 1
        self.document, self.label, self.start, self.end = (column[new] for column in columns)
        group = np.ones(len(self.document), dtype=bool)  # a (document, label) group starts
        group[1:] = (np.diff(self.document) != 0) | (np.diff(self.label) != 0)
        self.group = np.cumsum(group) - 1
        self.groups = int(group.sum())

    def __len__(self) -> int:
        return len(self.document)


def pair_spans(page: Page, spans: SpanIdentities, a: int, b: int) -> PairSpans:
    """Exact and overlap matches of annotators ``a`` and ``b`` (column indices)."""
    both = page.present[:, a] & page.present[:, b]
    shared = both[page.span_document]
    labels = len(page.labels)
    row_a = shared & (page.span_annotator == a)
    row_b = shared & (page.span_annotator == b)
    copies_a = np.bincount(spans.of_span[row_a], minlength=len(spans))
    copies_b = np.bincount(spans.of_span[row_b], minlength=len(spans))
    same = np.minimum(copies_a, copies_b)
    exact = np.bincount(spans.label, same, minlength=labels).astype(np.int64)
    overlap = np.bincount(spans.label, same * (spans.end > spans.start), minlength=labels)
    overlap = overlap.astype(np.int64) + _overlaps_left(
        spans, copies_a - same, copies_b - same, labels
    )
    count_a = np.bincount(page.span_label[row_a], minlength=labels)
    count_b = np.bincount(page.span_label[row_b], minlength=labels)
    return PairSpans(
        _counter(page.labels, exact),
        _counter(page.labels, overlap),
        _counter(page.labels, count_a),
        _counter(page.labels, count_b),
    )


def _overlaps_left(
    spans: SpanIdentities, left_a: IntArray, left_b: IntArray, labels: int
) -> IntArray:
    """Per label, the greedy overlap pairs among the spans not matched exactly (``left_a``
    and ``left_b`` copies of each identity), within each (document, label) group.

    Every overlapping pair of a group is listed; a pair whose two spans overlap nothing
    else is matched whatever the order, so only the groups with a span in two or more
    overlapping pairs go through ``greedy_overlaps``."""
    identities = np.arange(len(spans))
    copy_a, copy_b = np.repeat(identities, left_a), np.repeat(identities, left_b)
    group_a, group_b = spans.group[copy_a], spans.group[copy_b]
    per_b = np.bincount(group_b, minlength=spans.groups)
    first_b = np.cumsum(per_b) - per_b
    fan = per_b[group_a]  # each a copy meets every b copy of its group
    pair_a = np.repeat(np.arange(len(copy_a)), fan)
    pair_b = np.repeat(first_b[group_a] - (np.cumsum(fan) - fan), fan) + np.arange(fan.sum())
    ia, ib = copy_a[pair_a], copy_b[pair_b]
    hit = np.minimum(spans.end[ia], spans.end[ib]) > np.maximum(spans.start[ia], spans.start[ib])
    pair_a, pair_b = pair_a[hit], pair_b[hit]
    alone = (np.bincount(pair_a, minlength=len(copy_a))[pair_a] == 1) & (
        np.bincount(pair_b, minlength=len(copy_b))[pair_b] == 1
    )
    contested = np.unique(group_a[pair_a[~alone]])
    simple = ~np.isin(group_a[pair_a], contested)
    matched = np.bincount(spans.label[copy_a[pair_a[simple]]], minlength=labels)
    for group in contested.tolist():  # the copies are in group order
        side_a = copy_a[slice(*np.searchsorted(group_a, [group, group + 1]))]
        side_b = copy_b[slice(*np.searchsorted(group_b, [group, group + 1]))]
        matched[spans.label[side_a[0]]] += greedy_overlaps(
            _extents(spans, side_a), _extents(spans, side_b)
        )
    return matched


def _extents(spans: SpanIdentities, identities: IntArray) -> list[tuple[int, int]]:
    starts, ends = spans.start[identities].tolist(), spans.end[identities].tolist()
    return list(zip(starts, ends, strict=True))


def sorted_rows(columns: Sequence[IntArray]) -> tuple[IntArray, NDArray[np.bool_]]:
    """The order that sorts rows by ``columns`` (the first one first) and, in that order,
    whether each row differs from the one before it. The columns are packed into one
    integer key when their ranges allow it (one sort instead of one per column)."""
    lows = [int(column.min()) if len(column) else 0 for column in columns]
    sizes = [
        int(column.max()) - low + 1 if len(column) else 1
        for column, low in zip(columns, lows, strict=True)
    ]
    if math.prod(sizes) < 1 << 63:
        key = np.zeros(len(columns[0]), dtype=np.int64)
        for column, low, size in zip(columns, lows, sizes, strict=True):
            key = key * size + (column - low)
        order = np.argsort(key, kind="stable")
        differs = [np.diff(key[order]) != 0]
    else:
        order = np.lexsort(columns[::-1])
        differs = [np.diff(column[order]) != 0 for column in columns]
    new = np.ones(len(order), dtype=bool)
    new[1:] = np.any(differs, axis=0)
    return order, new
