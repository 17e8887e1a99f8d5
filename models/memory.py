"""Correction memory: what analysts did with each surface form, and pre-annotation from it.

A form is a span's text, normalised (``models.normalise``, spaces collapsed). From every
layer an analyst (or gold) marked done the memory counts, per form, the labels given to its
mentions (and by whom), the model's proposals of it the analysts kept (same range) and
those they deleted (no analyst span overlaps them). Then, on the model's output:

- a form deleted more often than labelled is suppressed (web furniture, "Lire aussi");
- a form with a clear majority label (at least ``MAJORITY`` of its mentions) relabels the
  model's span ("Xi" MISC → PER) and its whole-word mentions the model missed are added
  (a spaCy PhraseMatcher on the normalised text: tens of thousands of forms cost little);
- an ambiguous form (no clear majority) is left to the model.

Spans the memory relabels or adds have origin "pattern"; ``Memory.reason`` says why
("labelled PER 3 times by alice"). Nothing here touches the database.
"""

from __future__ import annotations

import base64
import json
import threading
import zlib
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cache
from typing import TYPE_CHECKING, Any

from models.normalise import normalise
from models.rules import Span

if TYPE_CHECKING:
    from spacy.tokens import Doc

MAJORITY = 2 / 3
SUPPRESS = ""  # the decision of a suppressed form
Placed = tuple[int, int, str, str]  # start, end, label, origin
# One blank pipeline per language for every memory (the first takes seconds to make); its
# tokenizer and the matchers on its vocabulary are used by one thread at a time.
_SPACY = threading.Lock()


def form_of(surface: str) -> str:
    """The memory key of a span's text: normalised, spaces collapsed."""
    return " ".join(normalise(surface).split())


@dataclass(slots=True)
class FormStats:
    labels: Counter[str] = field(default_factory=Counter)
    annotators: Counter[str] = field(default_factory=Counter)
    kept: int = 0
    deleted: int = 0

    def decision(self) -> str | None:
        """The label to give the form, SUPPRESS, or None (ambiguous: left to the model)."""
        labelled = sum(self.labels.values())
        if self.deleted > labelled:
            return SUPPRESS
        if not labelled:
            return None
        label, count = self.labels.most_common(1)[0]
        return label if count / labelled >= MAJORITY else None


class Memory:
    def __init__(self, language: str = "fr") -> None:
        self.language = language
        self.forms: dict[str, FormStats] = {}
        self._matchers: dict[int, Any] = {}  # PhraseMatcher (None: no form has a label)

    def __len__(self) -> int:
        return len(self.forms)

    def learn(
        self, text: str, analyst: Iterable[Span], model: Iterable[Span], annotator: str
    ) -> None:
        """Count one done layer: the analyst's spans of ``text`` against the model's."""
        analyst = list(analyst)
        ranges = {(start, end) for start, end, _ in analyst}
        for start, end, label in analyst:
            stats = self._stats(text[start:end])
            stats.labels[label] += 1
            stats.annotators[annotator] += 1
        covered = bytearray(len(text) + 1)
        for start, end, _ in analyst:
            covered[start:end] = b"\1" * (end - start)
        for start, end, _ in model:
            if (start, end) in ranges:
                self._stats(text[start:end]).kept += 1
            elif not any(covered[start:end]):
                self._stats(text[start:end]).deleted += 1
        self._matchers.clear()

    def _stats(self, surface: str) -> FormStats:
        return self.forms.setdefault(form_of(surface), FormStats())

    def decision(self, surface: str) -> str | None:
        stats = self.forms.get(form_of(surface))
        return stats.decision() if stats is not None else None

    def decisions(self) -> dict[str, str]:
        """Form → label or SUPPRESS, for every form that is not left to the model: all
        ``apply`` depends on (two memories with the same decisions place the same spans)."""
        decided = ((form, stats.decision()) for form, stats in self.forms.items())
        return {form: decision for form, decision in decided if decision is not None}

    def copy(self) -> Memory:
        """A memory with the same counts (and its own matchers)."""
        twin = Memory(self.language)
        twin.forms = {
            form: FormStats(Counter(s.labels), Counter(s.annotators), s.kept, s.deleted)
            for form, s in self.forms.items()
        }
        return twin

    def apply(self, text: str, spans: Iterable[Span], doc: Doc | None = None) -> list[Placed]:
        """The model's ``spans`` of ``text`` after the memory, sorted; ``doc`` (optional) is
        the tokenized normalised text (spaCy's Doc of the pre-annotation run)."""
        placed: list[Placed] = []
        for start, end, label in spans:
            decided = self.decision(text[start:end])
            if decided == SUPPRESS:
                continue
            if decided and decided != label:
                placed.append((start, end, decided, "pattern"))
            else:
                placed.append((start, end, label, "model"))
        taken = bytearray(len(text) + 1)
        for start, end, _, _ in placed:
            taken[start:end] = b"\1" * (end - start)
        with _SPACY:
            matches = self._matches(text, doc)
        for start, end, label in matches:
            if not any(taken[start:end]):
                taken[start:end] = b"\1" * (end - start)
                placed.append((start, end, label, "pattern"))
        return sorted(placed)

    def _matches(self, text: str, doc: Doc | None) -> list[Span]:
        """Mentions of the forms with a label, longest first."""
        if doc is None:
            if self._matchers and all(m is None for m in self._matchers.values()):
                return []
            doc = self._tokenizer()(normalise(text))
        matcher = self._matcher(doc)
        if matcher is None:
            return []
        strings = doc.vocab.strings
        found = [
            (doc[first].idx, doc[last - 1].idx + len(doc[last - 1]), strings[key])
            for key, first, last in matcher(doc)
        ]
        return sorted(found, key=lambda span: (span[0] - span[1], span[0]))

    def warm(self) -> None:
        """Make the tokenizer and the matcher now (the first tokenizer takes seconds)."""
        with _SPACY:
            self._matcher(self._tokenizer()(""))

    def _tokenizer(self) -> Any:
        return _blank(self.language).tokenizer

    def _matcher(self, doc: Doc) -> Any:
        """A PhraseMatcher on ``doc``'s vocabulary, one key per label; None when no form
        has a label."""
        key = id(doc.vocab)
        if key not in self._matchers:
            from spacy.matcher import PhraseMatcher

            by_label: dict[str, list[str]] = {}
            for form, stats in self.forms.items():
                decided = stats.decision()
                if decided:
                    by_label.setdefault(decided, []).append(form)
            matcher = None
            if by_label:
                matcher = PhraseMatcher(doc.vocab, attr="ORTH")
                for label, forms in by_label.items():
                    matcher.add(label, list(self._tokenizer().pipe(forms)))
            self._matchers[key] = matcher
        return self._matchers[key]

    def reason(self, surface: str) -> str | None:
        """Why the memory decides what it does about ``surface`` (a tooltip), None when it
        does not know the form."""
        stats = self.forms.get(form_of(surface))
        if stats is None:
            return None
        who = ", ".join(name for name, _ in stats.annotators.most_common())
        labelled = sum(stats.labels.values())
        if stats.decision() == SUPPRESS:
            return f"deleted {_times(stats.deleted)}, labelled {_times(labelled)}"
        (label, count), *others = stats.labels.most_common()
        text = f"labelled {label} {_times(count)}"
        if others:
            text += " (" + ", ".join(f"{other} {_times(n)}" for other, n in others) + ")"
        text += f" by {who}"
        return text if stats.decision() else f"ambiguous: {text}, left to the model"


@cache
def _blank(language: str) -> Any:
    import spacy

    return spacy.blank(language)


def encode_decisions(decisions: dict[str, str]) -> str:
    """``Memory.decisions`` as a short string (sorted JSON, compressed): equal decisions,
    equal strings."""
    data = json.dumps(sorted(decisions.items()), ensure_ascii=False, separators=(",", ":"))
    return base64.b64encode(zlib.compress(data.encode("utf-8"), 6)).decode("ascii")


def decode_decisions(encoded: str) -> dict[str, str]:
    return dict(json.loads(zlib.decompress(base64.b64decode(encoded))))


def _times(count: int) -> str:
    return "once" if count == 1 else f"{count} times"
