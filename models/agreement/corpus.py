"""Agreement over a corpus, streamed: documents go through a page at a time into counters
(integers, so the order of the pages changes nothing). A page's spans are numpy columns
measured together (``models.agreement.page``); stance and events, a few per document,
stay records.

The result is the JSON-ready structure of ``glose agreement --format json``::

    {"annotators": [...], "documents": N,
     "entities": {"pairs": [{"a", "b", "documents", "f1_exact", "f1_overlap", "kappa_token",
                             "per_label": {LABEL: {"f1_exact", "f1_overlap"}}}],
                  "alpha_token": X},
     "stance": {TARGET: {"pairs": [{"a", "b", "items", "kappa"}],
                         "items", "fleiss_items", "fleiss_kappa", "alpha"}},
     "events": {"pairs": [{"a", "b", "documents", "f1_trigger", "type_agreement",
                           "type_kappa"}]}}

An undefined score is null, and the object holding it gets a "reasons" entry
({key: why}). A pair only counts documents where both annotators have a layer; an
annotator without a layer on a document is a missing value for α. A stance target an
annotator left empty is missing too (not a category); Fleiss' κ, which needs every item
rated by the same number of raters, uses the documents rated by every annotator.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

import numpy as np

from models.agreement.categorical import CohenKappa, FleissKappa, KrippendorffAlpha, Measure
from models.agreement.chunks import chunk_tokenizer
from models.agreement.page import Page, SpanIdentities, label_codes, pair_spans
from models.agreement.spans import F1Counts, exact_matches, trigger_spans, trigger_type_pairs
from models.agreement.tags import Unit, token_units
from models.jobs import Job
from models.records import DocumentRecord, EventRecord, Progress, StanceRecord

FEWER_THAN_TWO = "fewer than two annotators"
NOTHING_SHARED = "no document annotated by both"
PAGE = 200  # documents measured together at most
CHARACTERS = 2_000_000  # ... and about as many characters of text at most (numpy arrays)


@dataclass(frozen=True, slots=True)
class AnnotatedDocument:
    """One document's text and each annotator's layer (None or absent: no layer)."""

    text: str
    layers: Mapping[str, DocumentRecord | None]


@dataclass(slots=True)
class _Pair:
    documents: int = 0
    exact: F1Counts = field(default_factory=F1Counts)
    overlap: F1Counts = field(default_factory=F1Counts)
    tokens: CohenKappa = field(default_factory=CohenKappa)
    triggers: F1Counts = field(default_factory=F1Counts)
    types: CohenKappa = field(default_factory=CohenKappa)


@dataclass(slots=True)
class _Target:
    pairs: dict[tuple[str, str], CohenKappa]
    fleiss: FleissKappa = field(default_factory=FleissKappa)
    alpha: KrippendorffAlpha = field(default_factory=KrippendorffAlpha)
    items: int = 0


class CorpusAgreement:
    """Accumulates every measure of issue 5 over documents fed one at a time."""

    def __init__(
        self, annotators: Sequence[str], labels: Sequence[str] = (), targets: Sequence[str] = ()
    ) -> None:
        self.annotators = list(dict.fromkeys(annotators))
        self.labels = list(labels)
        self.targets = list(targets)
        self.documents = 0
        self._pairs = {pair: _Pair() for pair in combinations(self.annotators, 2)}
        self._alpha_token = KrippendorffAlpha()
        self._units: Counter[Unit] = Counter()  # token tags not yet in the measures
        self._targets: dict[str, _Target] = {}
        self._tokenize = chunk_tokenizer()
        for target in targets:
            self._target(target)

    def _target(self, name: str) -> _Target:
        if name not in self._targets:
            self._targets[name] = _Target({pair: CohenKappa() for pair in self._pairs})
        return self._targets[name]

    def add(self, document: AnnotatedDocument) -> None:
        self.add_page(self.page([document]))

    def page(self, documents: Sequence[AnnotatedDocument]) -> Page:
        """The documents as a page of columns (annotators in ``self.annotators`` order)."""
        present = np.zeros((len(documents), len(self.annotators)), dtype=bool)
        rows: list[tuple[int, int, int, int]] = []
        labels: list[str] = []
        stance: list[dict[int, list[StanceRecord]]] = [{} for _ in documents]
        events: list[dict[int, list[EventRecord]]] = [{} for _ in documents]
        for index, document in enumerate(documents):
            for annotator, name in enumerate(self.annotators):
                record = document.layers.get(name)
                if record is None:
                    continue
                present[index, annotator] = True
                rows += [(index, annotator, span.start, span.end) for span in record.spans]
                labels += [span.label for span in record.spans]
                if record.stance:
                    stance[index][annotator] = record.stance
                if record.events:
                    events[index][annotator] = record.events
        names, codes = label_codes(labels)
        columns = np.array(rows, dtype=np.int64).reshape(-1, 4).T
        return Page(
            [d.text for d in documents],
            present,
            names,
            columns[0],
            columns[1],
            columns[2],
            columns[3],
            codes,
            stance,
            events,
        )

    def add_page(self, page: Page) -> None:
        """A page of documents (annotators in ``self.annotators`` order)."""
        self.documents += len(page.texts)
        spans = SpanIdentities(page)
        names = self.annotators
        with_events = [index for index, events in enumerate(page.events) if events]
        for (a, b), pair in zip(
            combinations(range(len(names)), 2), self._pairs.values(), strict=True
        ):
            both = page.present[:, a] & page.present[:, b]
            pair.documents += int(both.sum())
            counts = pair_spans(page, spans, a, b)
            pair.exact.add_counts(counts.exact, counts.count_a, counts.count_b)
            pair.overlap.add_counts(counts.overlap, counts.count_a, counts.count_b)
            for events in (page.events[index] for index in with_events if both[index]):
                self._add_events(pair, events.get(a, ()), events.get(b, ()))
        self._units.update(token_units(page, spans, self._tokenize))  # (measured at the end)
        for by_annotator in page.stance:
            if by_annotator:
                self._add_stance({names[a]: records for a, records in by_annotator.items()})

    def _add_units(self) -> None:
        """The token tags counted so far, into the token measures (the same combinations
        recur from page to page: each is added once, with its count)."""
        for unit, count in self._units.items():
            self._alpha_token.add(unit, count)
            for (tag_a, tag_b), pair in zip(
                combinations(unit, 2), self._pairs.values(), strict=True
            ):
                if tag_a is not None and tag_b is not None:
                    pair.tokens.add(tag_a, tag_b, count)
        self._units.clear()

    @staticmethod
    def _add_events(pair: _Pair, a: Sequence[EventRecord], b: Sequence[EventRecord]) -> None:
        triggers_a, triggers_b = trigger_spans(a), trigger_spans(b)
        pair.triggers.add(exact_matches(triggers_a, triggers_b), triggers_a, triggers_b)
        pair.types.pairs.update(trigger_type_pairs(a, b).pairs)

    def _add_stance(self, layers: Mapping[str, Sequence[StanceRecord]]) -> None:
        values = {name: {s.target: s.value for s in stance} for name, stance in layers.items()}
        for name in sorted({target for by_target in values.values() for target in by_target}):
            target = self._target(name)
            given = {a: by_target[name] for a, by_target in values.items() if name in by_target}
            target.items += 1
            for (a, b), kappa in target.pairs.items():
                if a in given and b in given:
                    kappa.add(given[a], given[b])
            if len(given) == len(self.annotators):
                target.fleiss.add(given.values())
            target.alpha.add(given.values())

    def result(self) -> dict[str, Any]:
        self._add_units()
        many = len(self.annotators) > 1
        entities: dict[str, Any] = {"pairs": [self._entity_pair(a, b) for a, b in self._pairs]}
        _put(entities, "alpha_token", self._alpha_token.result(), many)
        names = self.targets + sorted(set(self._targets) - set(self.targets))
        stance = {name: self._stance(self._targets[name], many) for name in names}
        events = {"pairs": [self._event_pair(a, b) for a, b in self._pairs]}
        return {
            "annotators": self.annotators,
            "documents": self.documents,
            "entities": entities,
            "stance": stance,
            "events": events,
        }

    def _entity_pair(self, a: str, b: str) -> dict[str, Any]:
        pair = self._pairs[(a, b)]
        out: dict[str, Any] = {"a": a, "b": b, "documents": pair.documents}
        _shared(pair.exact.f1(), pair).put(out, "f1_exact")
        _shared(pair.overlap.f1(), pair).put(out, "f1_overlap")
        _shared(pair.tokens.result(), pair).put(out, "kappa_token")
        labels = self.labels + sorted(pair.exact.labels - set(self.labels))
        out["per_label"] = {}
        for label in labels:
            scores: dict[str, Any] = {}
            _shared(pair.exact.f1(label), pair).put(scores, "f1_exact")
            _shared(pair.overlap.f1(label), pair).put(scores, "f1_overlap")
            out["per_label"][label] = scores
        return out

    def _event_pair(self, a: str, b: str) -> dict[str, Any]:
        pair = self._pairs[(a, b)]
        out: dict[str, Any] = {"a": a, "b": b, "documents": pair.documents}
        _shared(pair.triggers.f1(), pair).put(out, "f1_trigger")
        _shared(pair.types.agreement(), pair).put(out, "type_agreement")
        _shared(pair.types.result(), pair).put(out, "type_kappa")
        return out

    @staticmethod
    def _stance(target: _Target, many: bool) -> dict[str, Any]:
        pairs = []
        for (a, b), kappa in target.pairs.items():
            out: dict[str, Any] = {"a": a, "b": b, "items": kappa.items}
            kappa.result().put(out, "kappa")
            pairs.append(out)
        result: dict[str, Any] = {
            "pairs": pairs,
            "items": target.items,
            "fleiss_items": target.fleiss.items,
        }
        fleiss = target.fleiss.result()
        if many and target.fleiss.items == 0:
            fleiss = Measure(None, "no document has a value from every annotator")
        _put(result, "fleiss_kappa", fleiss, many)
        _put(result, "alpha", target.alpha.result(), many)
        return result


def _shared(measure: Measure, pair: _Pair) -> Measure:
    """A pair's measure, undefined with a plain reason when they share no document."""
    return measure if pair.documents else Measure(None, NOTHING_SHARED)


def _put(out: dict[str, Any], key: str, measure: Measure, many: bool) -> None:
    """A corpus-wide measure, undefined with a plain reason when there is one annotator."""
    (measure if many else Measure(None, FEWER_THAN_TWO)).put(out, key)


def corpus_agreement(
    annotators: Sequence[str],
    documents: Iterable[AnnotatedDocument],
    total: int | None = None,
    labels: Sequence[str] = (),
    targets: Sequence[str] = (),
) -> Job[dict[str, Any]]:
    """Every measure over ``documents`` (streamed), yielding progress after each one.

    ``labels`` and ``targets`` (e.g. from the project's schema) are always reported, in
    that order, even without data; others met in the documents follow.
    """
    agreement = CorpusAgreement(annotators, labels, targets)
    page: list[AnnotatedDocument] = []
    characters = 0
    for done, document in enumerate(documents, 1):
        page.append(document)
        characters += len(document.text)
        if page_full(len(page), characters):
            agreement.add_page(agreement.page(page))
            page, characters = [], 0
        yield Progress(done, total, "agreement")
    agreement.add_page(agreement.page(page))
    return agreement.result()


def page_full(documents: int, characters: int) -> bool:
    """Whether a page of that many documents and characters is to be measured now."""
    return documents >= PAGE or characters >= CHARACTERS
