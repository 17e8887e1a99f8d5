"""Offset conversion between Python code points and UTF-16 code units.

Glose stores code points. Qt (QTextCursor positions) and Label Studio count UTF-16 units,
where a character outside the Basic Multilingual Plane (most emoji) takes two units.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from itertools import accumulate

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


class Utf16Map:
    """Converts offsets of one text both ways in O(log n); identity when the text is all BMP."""

    __slots__ = ("_astral", "_length")

    def __init__(self, text: str) -> None:
        # code point index of each astral character, in order (the scan runs in C)
        self._astral = [match.start() for match in _ASTRAL.finditer(text)]
        self._length = len(text)

    @property
    def identity(self) -> bool:
        return not self._astral

    def to_utf16(self, offset: int) -> int:
        if not self._astral:
            return offset
        return offset + bisect_right(self._astral, offset - 1)

    def from_utf16(self, unit: int) -> int:
        """Code point offset of UTF-16 ``unit``; a unit inside a surrogate pair rounds down."""
        if not self._astral:
            return unit
        low, high = 0, self._length
        while low < high:
            middle = (low + high + 1) // 2
            if self.to_utf16(middle) <= unit:
                low = middle
            else:
                high = middle - 1
        return low

    def utf16_length(self) -> int:
        return self.to_utf16(self._length)


def utf16_positions(text: str) -> list[int]:
    """UTF-16 offset of every code point offset 0..len(text) (for bulk conversion)."""
    return [0, *accumulate(2 if ord(char) > 0xFFFF else 1 for char in text)]
