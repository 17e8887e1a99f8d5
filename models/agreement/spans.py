"""Span agreement: exact and overlap F1, IOB tags per token, event triggers.

F1 between two annotators is symmetric: 2·matched / (|A| + |B|). Spans are plain
``SpanRecord``s (events are turned into one span per trigger labelled with the type).

Overlap matching rule: two spans match when they have the same label and share at least
one character. Candidate pairs are taken greedily, one-to-one, in this order: longest
shared stretch first, then smallest combined extent (so an exact match beats a wider one
that overlaps as much), then by position. Greedy matching may pair fewer spans than a
maximum bipartite matching in contrived nestings; it is deterministic and order-free.

The greedy pairing is computed without trying every pair: identical spans are always
paired first (an exact pair shares the whole of both spans, and any other candidate of
either span shares less or spans wider), so only the spans left over are matched, and
their overlapping pairs are found by a sweep over the spans sorted by start.
"""

from __future__ import annotations

from bisect import bisect_right
from collections import Counter, defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence

from models.agreement.categorical import CohenKappa, Measure
from models.records import EventRecord, SpanRecord

OUTSIDE = "O"
Extent = tuple[int, int]  # (start, end) of a span


class F1Counts:
    """Matched spans and span counts of two annotators, per label, accumulated over documents."""

    __slots__ = ("count_a", "count_b", "matched")

    def __init__(self) -> None:
        self.matched: Counter[str] = Counter()
        self.count_a: Counter[str] = Counter()
        self.count_b: Counter[str] = Counter()

    def add(self, matched: Counter[str], a: Iterable[SpanRecord], b: Iterable[SpanRecord]) -> None:
        self.add_counts(
            matched, Counter(span.label for span in a), Counter(span.label for span in b)
        )

    def add_counts(
        self, matched: Mapping[str, int], count_a: Mapping[str, int], count_b: Mapping[str, int]
    ) -> None:
        """Matched spans and each annotator's spans, per label, already counted."""
        self.matched.update(matched)
        self.count_a.update(count_a)
        self.count_b.update(count_b)

    @property
    def labels(self) -> set[str]:
        return set(self.count_a) | set(self.count_b)

    def f1(self, label: str | None = None) -> Measure:
        """F1 over all labels, or for one label."""
        if label is None:
            matched, total = self.matched.total(), self.count_a.total() + self.count_b.total()
        else:
            matched, total = self.matched[label], self.count_a[label] + self.count_b[label]
        if total == 0:
            what = "any span" if label is None else f"a {label} span"
            return Measure(None, f"neither annotator marked {what}")
        return Measure.of(2 * matched, total)


def exact_matches(a: Iterable[SpanRecord], b: Iterable[SpanRecord]) -> Counter[str]:
    """Per label, how many spans of ``a`` have an identical span (offsets and label) in ``b``."""
    common = Counter(a) & Counter(b)
    matched: Counter[str] = Counter()
    for span, count in common.items():
        matched[span.label] += count
    return matched


def overlap_matches(a: Iterable[SpanRecord], b: Iterable[SpanRecord]) -> Counter[str]:
    """Per label, spans paired one-to-one with an overlapping span of the same label."""
    by_label: defaultdict[str, tuple[list[Extent], list[Extent]]] = defaultdict(lambda: ([], []))
    for span in a:
        by_label[span.label][0].append((span.start, span.end))
    for span in b:
        by_label[span.label][1].append((span.start, span.end))
    matched: Counter[str] = Counter()
    for label, (extents_a, extents_b) in by_label.items():
        matched[label] = _overlap_count(extents_a, extents_b)
    return +matched


def _overlap_count(a: Sequence[Extent], b: Sequence[Extent]) -> int:
    """How many (start, end) extents of ``a`` (one label) the greedy rule pairs with ``b``'s
    (an empty extent shares no character: it overlaps nothing, not even its copy)."""
    counts_a = Counter(extent for extent in a if extent[1] > extent[0])
    counts_b = Counter(extent for extent in b if extent[1] > extent[0])
    exact = counts_a & counts_b
    rest_a, rest_b = sorted((counts_a - exact).elements()), sorted((counts_b - exact).elements())
    return exact.total() + greedy_overlaps(rest_a, rest_b)


def greedy_overlaps(a: Sequence[Extent], b: Sequence[Extent]) -> int:
    """The greedy one-to-one pairing of the module's rule over extents sorted by start."""
    candidates = []
    for i, j in _overlapping(a, b):
        (start_a, end_a), (start_b, end_b) = a[i], b[j]
        shared = min(end_a, end_b) - max(start_a, start_b)
        extent = max(end_a, end_b) - min(start_a, start_b)
        candidates.append((-shared, extent, start_a, end_a, start_b, end_b, i, j))
    used_a: set[int] = set()
    used_b: set[int] = set()
    for *_, i, j in sorted(candidates):
        if i not in used_a and j not in used_b:
            used_a.add(i)
            used_b.add(j)
    return len(used_a)


def _overlapping(a: Sequence[Extent], b: Sequence[Extent]) -> Iterator[tuple[int, int]]:
    """(i, j) of every a[i], b[j] sharing a character; both sorted by start. Each extent,
    in start order, meets the other side's extents still open at its start."""
    open_a: list[int] = []
    open_b: list[int] = []
    i = j = 0
    while i < len(a) or j < len(b):
        if j == len(b) or (i < len(a) and a[i][0] <= b[j][0]):
            start, end = a[i]
            open_b = [k for k in open_b if b[k][1] > start]
            yield from ((i, k) for k in open_b if min(end, b[k][1]) > start)
            open_a.append(i)
            i += 1
        else:
            start, end = b[j]
            open_a = [k for k in open_a if a[k][1] > start]
            yield from ((k, j) for k in open_a if min(end, a[k][1]) > start)
            open_b.append(j)
            j += 1


def iob_tags(spans: Iterable[SpanRecord], tokens: Sequence[tuple[int, int]]) -> list[str]:
    """One tag per token: "B-LABEL", "I-LABEL" or "O".

    A token belongs to a span when they share a character. Where spans overlap, the one
    starting first (the longer one on a tie) keeps the tokens; a later span tags only the
    tokens still free, its first free token getting "B-".
    """
    tags = [OUTSIDE] * len(tokens)
    ends = [end for _, end in tokens]
    for span in sorted(spans, key=lambda s: (s.start, -s.end, s.label)):
        begin = True
        index = bisect_right(ends, span.start)  # first token ending after the span's start
        while index < len(tokens) and tokens[index][0] < span.end:
            if tags[index] == OUTSIDE:
                tags[index] = ("B-" if begin else "I-") + span.label
                begin = False
            index += 1
    return tags


def trigger_spans(events: Iterable[EventRecord]) -> list[SpanRecord]:
    """Each event as its trigger span labelled with the event type."""
    return [SpanRecord(e.trigger[0], e.trigger[1], e.type) for e in events]


def trigger_type_pairs(a: Iterable[EventRecord], b: Iterable[EventRecord]) -> CohenKappa:
    """(type by a, type by b) for the triggers both marked on the same span.

    Several events on one trigger span are paired identical types first, then the rest in
    sorted order; unpaired ones are not counted.
    """
    types_a: defaultdict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    types_b: defaultdict[tuple[int, int], Counter[str]] = defaultdict(Counter)
    for event in a:
        types_a[event.trigger][event.type] += 1
    for event in b:
        types_b[event.trigger][event.type] += 1
    pairs = CohenKappa()
    for trigger, counts_a in types_a.items():
        counts_b = types_b.get(trigger)
        if counts_b is None:
            continue
        same = counts_a & counts_b
        for kind, count in same.items():
            pairs.add(kind, kind, count)
        rest_a = sorted((counts_a - same).elements())
        rest_b = sorted((counts_b - same).elements())
        for x, y in zip(rest_a, rest_b, strict=False):
            pairs.add(x, y)
    return pairs
