"""The tokens of ``models.tokens`` over a batch of texts, as numpy columns.

Token agreement tags every token, but outside the spans every token is "O" for everyone:
it needs each text's number of tokens and the tokens that spans touch. Both come from the
code points of the texts (joined by a newline) with no Python step per token:

- no token contains whitespace, and the tokenizer reads no character before the position
  it matches at, so the tokens of a text are those of its whitespace-separated chunks,
  each tokenized alone;
- ``models.agreement.token_rules`` marks where tokens begin by the kinds of the
  characters, but for a few chunks (letters and digits side by side, "_", combining
  marks...): those are tokenized by ``token_spans`` itself, once per distinct chunk
  (they repeat much in running text).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain

import numpy as np

from models.agreement.token_rules import ENCODING, KINDS, SPACE, IntArray, Mask, begins
from models.tokens import token_spans

Begins = tuple[int, ...]  # where a chunk's tokens begin, in the chunk
CACHE = 1 << 16  # distinct chunks remembered per agreement run
WALK = 16  # characters stepped over one at a time to the edge of a chunk (then searched)


class TextTokens:
    """Every token of the ``wanted`` texts (``token_spans`` of each; the other texts count
    as empty), batch-wide offsets in the texts joined by a newline; ``tokenize`` gives the
    begins of a chunk's tokens (``chunk_tokenizer()``)."""

    def __init__(
        self, texts: Sequence[str], wanted: Mask, tokenize: Callable[[bytes], Begins]
    ) -> None:
        kept = [text if want else "" for text, want in zip(texts, wanted.tolist(), strict=True)]
        lengths = np.fromiter(map(len, kept), np.int64, len(kept)) + 1
        self.offsets: IntArray = np.cumsum(lengths) - lengths
        encoded = "\n".join(kept).encode(ENCODING, "surrogatepass")  # 4 bytes a character
        codes = np.frombuffer(encoded, dtype="<u4")
        kinds = np.empty(len(codes) + 2, dtype=np.uint8)  # a space either side
        kinds[0] = kinds[-1] = SPACE
        KINDS.take(codes, mode="clip", out=kinds[1:-1])  # (OTHER from the table's end)
        begin, tangled = begins(kinds, codes)
        solid = kinds != SPACE
        if len(tangled):
            _tokenize(begin, solid, tangled, encoded, tokenize)
        stop = begin | ~solid[1:-1]  # a token ends before each of these
        self.starts: IntArray = np.flatnonzero(begin)
        self.ends: IntArray = np.flatnonzero(solid[1:-1] & np.append(stop[1:], True)) + 1

    def text_of(self, positions: IntArray) -> IntArray:
        """The index of the text each (batch-wide) position belongs to."""
        found: IntArray = np.searchsorted(self.offsets, positions, side="right") - 1
        return found

    def token_counts(self) -> IntArray:
        """Each text's number of tokens (0 for the texts not wanted)."""
        first = np.searchsorted(self.starts, self.offsets)
        counts: IntArray = np.diff(first, append=len(self.starts))
        return counts

    def touched(self, starts: IntArray, ends: IntArray) -> tuple[IntArray, IntArray, IntArray]:
        """The indices, in order, of the tokens sharing a character with one of the
        (batch-wide) extents [starts, ends); and for each extent, the range [first, last)
        of those (by their index in the former) it shares a character with."""
        first = np.searchsorted(self.ends, starts, side="right")
        last = np.searchsorted(self.starts, ends, side="left")
        sizes = np.maximum(last - first, 0)
        inside = np.repeat(first - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())
        touched = np.zeros(len(self.starts) + 1, dtype=bool)
        touched[inside] = True
        before = np.zeros(len(touched), dtype=np.int64)  # the tokens touched before each
        np.cumsum(touched[:-1], out=before[1:])
        found: IntArray = np.flatnonzero(touched)
        return found, before[first], before[last]


def _tokenize(
    begin: Mask,
    solid: Mask,
    tangled: IntArray,
    encoded: bytes,
    tokenize: Callable[[bytes], Begins],
) -> None:
    """The begins of the tokens of the chunks with a ``tangled`` position, from
    ``tokenize``; ``solid`` is whether each character (one more either side) is no
    space."""
    # the spaces before and after, in kinds (one more in front): the chunk lies between
    starts, first = np.unique(_until(solid, tangled + 1, -1), return_index=True)
    ends = _until(solid, tangled[first] + 1, 1) - 1
    sizes = ends - starts
    begin[np.repeat(starts - (np.cumsum(sizes) - sizes), sizes) + np.arange(sizes.sum())] = False
    chunks = map(encoded.__getitem__, map(slice, (4 * starts).tolist(), (4 * ends).tolist()))
    found = list(map(tokenize, chunks))  # (bytes: sliced faster than text)
    counts = np.fromiter(map(len, found), np.int64, len(found))
    flat = np.fromiter(chain.from_iterable(found), np.int64, int(counts.sum()))
    begin[np.repeat(starts, counts) + flat] = True


def _until(flags: Mask, indices: IntArray, step: int) -> IntArray:
    """For each of ``indices``, the first index from it on (by ``step``, 1 or -1), itself
    included, where ``flags`` is False: stepped WALK times, then searched."""
    found = indices.copy()
    going = np.flatnonzero(flags[found])
    for _ in range(WALK):
        if not len(going):
            return found
        found[going] += step
        going = going[flags[found[going]]]
    if len(going):  # (long runs)
        stops = np.flatnonzero(~flags)
        if step > 0:
            found[going] = stops[np.searchsorted(stops, found[going])]
        else:
            found[going] = stops[np.searchsorted(stops, found[going], side="right") - 1]
    return found


def chunk_tokenizer() -> Callable[[bytes], Begins]:
    """Where the tokens of a chunk (encoded in ENCODING) begin (``token_spans``),
    remembered for the CACHE chunks last seen."""

    @lru_cache(maxsize=CACHE)
    def tokenize(chunk: bytes) -> Begins:
        return tuple(start for start, _ in token_spans(chunk.decode(ENCODING, "surrogatepass")))

    return tokenize
