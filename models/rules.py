"""Guideline span rules the pre-annotation applies after the model: pure functions over
(text, spans) → spans.

The rules are data of the label schema (``[rules]``, see ``models.labels``): leading
determiners and elided articles to strip (a list per language: "la Chine" → "Chine",
"l’OTAN" → "OTAN"), punctuation and spaces stripped at both ends of a span (guillemets,
quotes, a final comma or full stop), a minimum length and labels to drop. A span the rules
leave empty or too short is dropped; spans keep their order and never grow.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from models.normalise import normalise

Span = tuple[int, int, str]  # start, end (code points, end exclusive), label


@dataclass(frozen=True, slots=True)
class SpanRules:
    """``determiners``: (language, words) pairs; a word ending in an apostrophe is an
    elided article ("l’") and is stripped without a following space."""

    determiners: tuple[tuple[str, tuple[str, ...]], ...] = ()
    strip_punctuation: bool = False
    min_length: int = 1
    drop_labels: tuple[str, ...] = ()

    def words(self, language: str) -> tuple[str, ...]:
        """The determiners of ``language``, normalised and longest first ("de la" before
        "de")."""
        for lang, words in self.determiners:
            if lang == language:
                folded = {normalise(word).lower() for word in words}
                return tuple(sorted(folded, key=lambda word: (-len(word), word)))
        return ()

    @property
    def active(self) -> bool:
        return bool(
            self.determiners or self.strip_punctuation or self.min_length > 1 or self.drop_labels
        )


def apply_rules(
    text: str, spans: Iterable[Span], rules: SpanRules, language: str = "fr"
) -> list[Span]:
    """``spans`` of ``text`` trimmed and filtered by ``rules`` for ``language``."""
    words = rules.words(language)
    drop = set(rules.drop_labels)
    kept: list[Span] = []
    for start, end, label in spans:
        if label in drop:
            continue
        trimmed = trim(text, start, end, words, rules.strip_punctuation)
        if trimmed is not None and trimmed[1] - trimmed[0] >= rules.min_length:
            kept.append((trimmed[0], trimmed[1], label))
    return kept


def trim(
    text: str, start: int, end: int, determiners: tuple[str, ...], punctuation: bool
) -> tuple[int, int] | None:
    """[start, end) without its edge spaces, edge punctuation (when ``punctuation``) and
    leading ``determiners`` (normalised, lowercase); None when nothing is left."""
    changed = True
    while changed and start < end:
        changed = False
        while start < end and _strippable(text[start], punctuation):
            start, changed = start + 1, True
        while start < end and _strippable(text[end - 1], punctuation):
            end, changed = end - 1, True
        skip = _determiner(normalise(text[start:end]).lower(), determiners)
        if skip and (text[start].islower() or _sentence_start(text, start)):
            start, changed = start + skip, True
    return (start, end) if start < end else None


def _sentence_start(text: str, offset: int) -> bool:
    """Whether ``offset`` opens a sentence, a line or a quotation: a capitalised article
    there is an article ("La Chine a…"), elsewhere part of a name ("selon Le Monde")."""
    window = text[max(0, offset - 80) : offset]
    before = window.rstrip()
    gap = window[len(before) :]
    return not before or "\n" in gap or before[-1] in '.!?:;«"“(–—-|'


def _strippable(char: str, punctuation: bool) -> bool:
    if char.isspace():
        return True
    return punctuation and unicodedata.category(char)[0] in "PS"


def _determiner(surface: str, determiners: tuple[str, ...]) -> int:
    """Length of the leading determiner of ``surface`` (with its space), 0 when none or
    when it is the whole span."""
    for word in determiners:
        if not surface.startswith(word) or len(surface) <= len(word):
            continue
        if word.endswith("'"):
            return len(word) if surface[len(word)].isalnum() else 0
        if surface[len(word)].isspace():
            return len(word) + 1
    return 0
