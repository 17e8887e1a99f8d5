"""Token boundaries for snapping selections and moving entity edges by one token.

A fast regular-expression tokenizer that agrees with spaCy's French tokenizer on the
boundaries that matter for entities: words (with inner hyphens and apostrophes of
compounds such as "aujourd'hui"), elisions ("l’", "qu’", "d'") split from the next word,
numbers with decimal separators, and every other symbol on its own. The same rules over
whole batches of texts with numpy, for spaCy training data: ``models.token_arrays``.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right

ELISIONS = ("c", "d", "j", "l", "m", "n", "s", "t", "qu", "jusqu", "lorsqu", "puisqu", "quoiqu")
_ELISION = rf"(?:{'|'.join(ELISIONS)})['’]"
WORD_MARKS = "\u0300-\u036f\u1ab0-\u1aff\u1dc0-\u1dff\u20d0-\u20ff\ufe20-\ufe2f"  # combining
_WORD = rf"\w[\w{WORD_MARKS}]*"  # "Pe\u0301kin" (decomposed accents) is one word
_TOKEN = re.compile(
    rf"(?i:{_ELISION})(?=\w)"  # elided article or pronoun before a word
    r"|\d+(?:[.,]\d+)*"  # numbers: 18, 1,5, 2.024
    rf"|{_WORD}(?:[-'’]{_WORD})*"  # words, hyphenated compounds
    r"|[^\w\s]",  # any other symbol alone
)


def token_spans(text: str) -> list[tuple[int, int]]:
    return [match.span() for match in _TOKEN.finditer(text)]


class TokenIndex:
    """Token boundaries of one text with the snapping operations the editor needs."""

    __slots__ = ("ends", "starts")

    def __init__(self, text: str) -> None:
        spans = token_spans(text)
        self.starts = [start for start, _ in spans]
        self.ends = [end for _, end in spans]

    def snap(self, start: int, end: int) -> tuple[int, int] | None:
        """Widen [start, end) to whole tokens; None when it covers no token."""
        first = bisect_right(self.ends, start)  # first token ending after start
        last = bisect_left(self.starts, end) - 1  # last token starting before end
        if first > last or first >= len(self.starts):
            return None
        return self.starts[first], self.ends[last]

    def shift_start(self, start: int, end: int, step: int) -> int:
        """Start moved by ``step`` tokens (-1 left, +1 right), never past the end token."""
        index = bisect_left(self.starts, start)
        if index >= len(self.starts) or self.starts[index] != start:
            index = max(bisect_right(self.starts, start) - 1, 0)
        index = min(max(index + step, 0), len(self.starts) - 1)
        candidate = self.starts[index]
        return candidate if candidate < end else start

    def shift_end(self, start: int, end: int, step: int) -> int:
        """End moved by ``step`` tokens, never before the start token."""
        index = bisect_left(self.ends, end)
        if index >= len(self.ends):
            index = len(self.ends) - 1
        index = min(max(index + step, 0), len(self.ends) - 1)
        candidate = self.ends[index]
        return candidate if candidate > start else end


# character classes of split_tokens, as bits of one uint8 per code point
