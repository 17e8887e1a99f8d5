"""Token agreement of a page: how many tokens got each combination of IOB tags.

The tags follow ``models.agreement.spans.iob_tags``: a span tags the tokens it shares a
character with that no span before it in (start, −end, label) order took, the first of
them "B-". Only the tokens some span touches are tagged one by one; every other token of
a document is "O" for each annotator with a layer, and is counted by the document's
number of tokens.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Sequence

import numpy as np

from models.agreement.chunks import Begins, TextTokens
from models.agreement.page import Page, SpanIdentities, sorted_rows
from models.agreement.spans import OUTSIDE
from models.agreement.token_rules import IntArray

ABSENT = -1  # tag code of an annotator without a layer on the document; 0 is "O"
Unit = tuple[str | None, ...]  # one token's tag by each annotator (None: no layer)
COUNTED = 1 << 16  # tag combinations counted in one array (else rows sorted)


def token_units(
    page: Page, spans: SpanIdentities, tokenize: Callable[[bytes], Begins]
) -> Counter[Unit]:
    """How many tokens got each combination of tags, over the documents with two or more
    annotators (the others have no token agreement); ``spans`` are the page's."""
    annotators = page.present.shape[1]
    wanted = page.present.sum(axis=1) >= 2
    if not wanted.any():
        return Counter()
    tokens = TextTokens(page.texts, wanted, tokenize)
    lengths = np.fromiter(map(len, page.texts), np.int64, len(page.texts)) * wanted
    # the distinct spans in the order they tag, (document, start, −end, label); batch-wide
    # and within their text (none in the texts not wanted)
    order, _ = sorted_rows((spans.document, spans.start, -spans.end, spans.label))
    document, start, end = spans.document[order], spans.start[order], spans.end[order]
    base, length = tokens.offsets[document], lengths[document]
    touched, first, last = tokens.touched(
        base + np.minimum(start, length), base + np.minimum(end, length)
    )
    label = spans.label[order]
    position = np.empty(len(order), dtype=np.int64)  # of each distinct span in that order
    position[order] = np.arange(len(order))
    rows = wanted[page.span_document]
    tags = np.empty((len(touched), annotators), dtype=np.int64)
    for annotator in range(annotators):
        # the annotator's distinct spans (a copy of a span tags nothing the span did not)
        mine = np.zeros(len(order), dtype=bool)
        mine[position[spans.of_span[rows & (page.span_annotator == annotator)]]] = True
        tags[:, annotator] = _iob_codes(len(touched), first[mine], last[mine], label[mine])
    # the tokens touched, one each, then the other tokens ("O"), per document
    token_document = tokens.text_of(tokens.starts[touched])
    outside = tokens.token_counts() - np.bincount(token_document, minlength=len(page.texts))
    tags = np.concatenate((tags, np.zeros((len(page.texts), annotators), dtype=np.int64)))
    documents = np.concatenate((token_document, np.arange(len(page.texts))))
    weights = np.concatenate((np.ones(len(touched), dtype=np.int64), outside))
    tags[~page.present[documents]] = ABSENT
    kept = wanted[documents] & (weights > 0)
    names = _tags(page.labels)
    units: Counter[Unit] = Counter()
    for codes, count in _combinations(tags[kept], weights[kept], len(names)):
        units[_decode(codes, names)] += count
    return units


def _iob_codes(tokens: int, first: IntArray, last: IntArray, labels: IntArray) -> IntArray:
    """One annotator's tag code for each of ``tokens``: 0 "O", 2·label + 1 "B-label",
    2·label + 2 "I-label"; spans sorted by (start, −end, label), each sharing a character
    with the tokens [first, last). Those before the furthest ``last`` of the spans before
    it are taken, so it keeps [max(first, furthest), last)."""
    furthest = np.maximum.accumulate(np.concatenate(([0], last)))[:-1]
    keep = np.maximum(first, furthest)
    kept = keep < last
    keep, last, labels = keep[kept], last[kept], labels[kept]
    inside = 2 * labels + 2
    size = tokens + 1
    codes = np.bincount(keep, inside, minlength=size) - np.bincount(last, inside, minlength=size)
    tags = np.cumsum(codes[:-1]).astype(np.int64)
    tags[keep] = 2 * labels + 1
    return tags


def _combinations(tags: IntArray, weights: IntArray, codes: int) -> Iterator[tuple[list[int], int]]:
    """Each distinct row of ``tags`` (codes from ABSENT to ``codes`` − 2) with the sum of
    its rows' ``weights``: counted in one array when all combinations fit, else sorted."""
    combinations = codes ** tags.shape[1]
    if combinations <= max(COUNTED, len(tags)):
        key = np.zeros(len(tags), dtype=np.int64)
        for column in tags.T:
            key = key * codes + (column - ABSENT)
        sums = np.bincount(key, weights, minlength=combinations)
        found = np.flatnonzero(sums)
        for index, count in zip(found.tolist(), sums[found].tolist(), strict=True):
            digits = []
            for _ in range(tags.shape[1]):
                index, digit = divmod(index, codes)
                digits.append(digit + ABSENT)
            yield digits[::-1], int(count)
        return
    order, new = sorted_rows(list(tags.T))
    firsts = np.flatnonzero(new)
    counts = np.add.reduceat(weights[order], firsts) if len(firsts) else firsts
    yield from zip(tags[order[firsts]].tolist(), counts.tolist(), strict=True)


def _decode(codes: Sequence[int], tags: Sequence[str | None]) -> Unit:
    """The tags of the codes (``tags`` from ``_tags``: the last one, None, is ABSENT)."""
    return tuple(map(tags.__getitem__, codes))


def _tags(labels: Sequence[str]) -> list[str | None]:
    """The tag of each code from 0, then None (at index ABSENT)."""
    tags: list[str | None] = [OUTSIDE]
    for label in labels:
        tags += [f"B-{label}", f"I-{label}"]
    return [*tags, None]
