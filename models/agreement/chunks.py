"""The tokens of ``models.tokens`` that agreement needs, without tokenizing whole texts.

Token agreement tags every token, but outside the spans every token is "O" for everyone:
it only needs each text's number of tokens and the tokens that spans touch. Both come
from the whitespace-separated chunks of the texts, found with numpy:

- no token contains whitespace, and the tokenizer reads no character before the position
  it matches at, so the tokens of a text are the tokens of its chunks, each tokenized
  alone (``token_spans(chunk)``);
- a chunk of letters only (``str.isalpha``) is one token: it has no digit to start a
  number, no apostrophe for an elision, and a word runs over letters;
- any other chunk ("Pékin,", "l’Ukraine", "2,5") is tokenized by ``token_spans`` itself,
  once per distinct chunk (they repeat much in running text).

A batch of texts is read as one string, the texts separated by a newline.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import lru_cache
from itertools import chain

import numpy as np
from numpy.typing import NDArray

from models.tokens import token_spans

IntArray = NDArray[np.int64]
Tokens = tuple[int, ...]  # a chunk's tokens, flat: start, end, start, end... in the chunk
TABLE = 0x3001  # every whitespace character is below (U+3000 is the last one)
CACHE = 1 << 16  # distinct chunks remembered per agreement run
SPACE, LETTER, OTHER = 0, 1, 2
ENCODING = "utf-32-le"  # one code point, four bytes: offsets map to bytes by × 4


def _kind(character: str) -> int:
    if character.isspace():
        return SPACE
    return LETTER if character.isalpha() else OTHER


# the kind of every character below TABLE, then OTHER for all the others (safe: a chunk
# with a character counted as OTHER is tokenized by token_spans)
KINDS = np.array([_kind(chr(code)) for code in range(TABLE)] + [OTHER], dtype=np.uint8)


class ChunkedTexts:
    """The chunks of the ``wanted`` texts; ``tokenize`` is ``token_spans`` of a chunk,
    flattened (``chunk_tokenizer()``)."""

    def __init__(
        self, texts: Sequence[str], wanted: NDArray[np.bool_], tokenize: Callable[[bytes], Tokens]
    ) -> None:
        lengths = [len(text) + 1 for text in texts]
        self.offsets: IntArray = np.cumsum([0, *lengths], dtype=np.int64)[:-1]
        encoded = "\n".join(texts).encode(ENCODING, "surrogatepass")  # 4 bytes a character
        codes = np.frombuffer(encoded, dtype="<u4")
        kinds = KINDS.take(np.minimum(codes, TABLE))
        edges = np.flatnonzero(np.diff(kinds != SPACE, prepend=False, append=False))
        starts, ends = edges[0::2], edges[1::2]
        mixed = np.zeros(len(starts), dtype=bool)  # a chunk with some non-letter
        mixed[np.searchsorted(starts, np.flatnonzero(kinds == OTHER), side="right") - 1] = True
        text = np.repeat(
            np.arange(len(texts)),
            np.diff(np.searchsorted(starts, self.offsets), append=len(starts)),
        )
        keep = wanted[text]
        self.starts, self.ends, self.is_mixed = starts[keep], ends[keep], mixed[keep]
        self.chunk_text = text[keep]
        self.mixed = np.flatnonzero(self.is_mixed)
        starts, ends = 4 * self.starts[self.mixed], 4 * self.ends[self.mixed]
        chunks = map(encoded.__getitem__, map(slice, starts.tolist(), ends.tolist()))
        self.tokens = list(map(tokenize, chunks))  # (bytes: sliced faster than text)

    def text_of(self, positions: IntArray) -> IntArray:
        """The index of the text each (batch-wide) position belongs to."""
        return np.searchsorted(self.offsets, positions, side="right") - 1

    def token_counts(self) -> IntArray:
        """Each text's number of tokens (0 for the texts not wanted)."""
        texts = len(self.offsets)
        counts = np.bincount(self.chunk_text, minlength=texts)
        extra = np.fromiter(map(len, self.tokens), np.int64, len(self.tokens)) // 2 - 1
        counts += np.bincount(self.chunk_text[self.mixed], extra, minlength=texts).astype(np.int64)
        return counts

    def tokens_touched(self, starts: IntArray, ends: IntArray) -> tuple[IntArray, IntArray]:
        """(starts, ends), in order, of the tokens of every chunk that shares a character
        with one of the (batch-wide) extents [starts, ends) of wanted texts."""
        first = np.searchsorted(self.ends, starts, side="right")
        last = np.searchsorted(self.starts, ends, side="left")
        first, last = first[first < last], last[first < last]
        size = len(self.starts) + 1
        depth = np.bincount(first, minlength=size) - np.bincount(last, minlength=size)
        touched = np.cumsum(depth[:-1]) > 0
        plain = np.flatnonzero(touched & ~self.is_mixed)
        chosen = np.flatnonzero(touched[self.mixed])
        tokens = [self.tokens[index] for index in chosen.tolist()]
        flat = np.fromiter(chain.from_iterable(tokens), np.int64)
        base = np.repeat(self.starts[self.mixed[chosen]], [len(t) // 2 for t in tokens])
        all_starts = np.concatenate([self.starts[plain], flat[0::2] + base])
        all_ends = np.concatenate([self.ends[plain], flat[1::2] + base])
        order = np.argsort(all_starts, kind="stable")
        return all_starts[order], all_ends[order]


def chunk_tokenizer() -> Callable[[bytes], Tokens]:
    """``token_spans`` of a chunk (encoded in ENCODING), flattened, remembered for the
    CACHE chunks last seen."""

    @lru_cache(maxsize=CACHE)
    def tokenize(chunk: bytes) -> Tokens:
        return tuple(chain.from_iterable(token_spans(chunk.decode(ENCODING, "surrogatepass"))))

    return tokenize
