"""The tokens of ``models.tokens`` for whole batches of texts, with numpy (spaCy training
data; kept apart so that the editor, which only snaps selections, does not load numpy).

``split_tokens`` applies the rules of ``models.tokens`` to a batch of texts with numpy over
their code points (no Python work per token but the making of each token's string), splits
wherever an entity begins or ends, and gives whitespace as spaCy's ``Doc`` holds it: one
space after a token is that token's trailing space. It differs from ``token_spans``
only where that would cost: a digit starts no token of its own ("18h30" is one token, so
are dates with hyphens such as "2024-05-16"), and a combining mark is a word character
wherever it stands. ``TokenCache`` gives the same tokens for a stream of batches (the
spaCy export's tokenizer), each distinct space-separated chunk of text tokenized once: a
batch costs a few numpy passes over its code points (a 64-bit hash of each chunk, looked up
in a hash table, and a check of the chunk found, code point by code point) and per chunk,
and Python work only for the chunks not met before.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from itertools import pairwise

import numpy as np
from numpy.typing import NDArray

from models.chunk_keys import ChunkKeys, KeyTable, Scratch, unequal
from models.tokens import ELISIONS, WORD_MARKS

_IS_WORD, _IS_BLANK, _IS_DIGIT, _IS_HYPHEN, _IS_APOSTROPHE, _IS_DECIMAL = 1, 2, 4, 8, 16, 32
_CLASS_PATTERNS = {  # what sets each bit (the space ' ' is not _IS_BLANK)
    _IS_WORD: re.compile(rf"[\w{WORD_MARKS}]+"),
    _IS_DIGIT: re.compile(r"\d+"),
    _IS_BLANK: re.compile(r"[^\S ]+"),
}
_NO_OFFSETS = np.zeros(0, np.int64)


@dataclass(frozen=True, slots=True)
class Tokens:
    """The tokens of a batch of texts, in the order of the texts."""

    words: list[str]  # each token's text
    starts: NDArray[np.int64]  # each token's offset in the texts joined
    spaces: NDArray[np.bool_]  # whether a space follows the token (spaCy's ``Doc(spaces=)``)
    counts: NDArray[np.int64]  # the number of tokens of each text


@cache
def _classes() -> NDArray[np.uint8]:
    """The class bits of every code point, from the regular expressions of ``_TOKEN``."""
    table = np.zeros(0x110000, np.uint8)
    every = np.arange(0x110000, dtype=np.uint32).tobytes().decode("utf-32-le", "surrogatepass")
    for bit, pattern in _CLASS_PATTERNS.items():
        for match in pattern.finditer(every):
            table[match.start() : match.end()] |= bit
    for chars, bits in (("-", _IS_HYPHEN), ("'’", _IS_APOSTROPHE), (".,", _IS_DECIMAL)):
        table[[ord(char) for char in chars]] = bits
    return table


def split_tokens(
    texts: Sequence[str],
    starts: NDArray[np.int64] = _NO_OFFSETS,
    ends: NDArray[np.int64] = _NO_OFFSETS,
) -> Tokens:
    """The tokens of ``texts`` (see the module docstring), split so that each offset of
    ``starts`` begins a token and each offset of ``ends`` ends one; offsets are into the
    texts joined (``"".join(texts)``), as are the tokens' starts.

    A space is the trailing space of the token before it unless it follows another space,
    begins a text, or an offset asks for it as a token; a space that is not trailing is a
    token of its own, and so is each run of other whitespace. So a text gives the tokens
    of its space-separated chunks, one after the other (what ``TokenCache`` relies on)."""
    joined = "".join(texts)
    size = len(joined)
    lengths = np.fromiter(map(len, texts), np.int64, len(texts))
    bases = np.cumsum(lengths) - lengths
    if not size:
        return Tokens([], _NO_OFFSETS, np.zeros(0, bool), np.zeros(len(texts), np.int64))
    codes = np.frombuffer(joined.encode("utf-32-le", "surrogatepass"), np.uint32)
    kinds = _classes().take(codes)
    text_start = _mask(size, bases[bases < size])
    begins, finishes = _mask(size + 1, starts), _mask(size + 1, ends)
    joins, elided = _connectors(codes, kinds, text_start)
    word = joins | ((kinds & _IS_WORD) != 0)
    space = codes == 32
    trailing = space & ~np.concatenate(([True], space[:-1]))
    trailing &= ~text_start & ~begins[:-1] & ~finishes[1:]
    kind = word.view(np.int8) + 2 * ((kinds & _IS_BLANK) != 0).view(np.int8)  # 0: alone
    begin = ~trailing & (
        text_start
        | begins[:-1]
        | finishes[:-1]
        | (kind == 0)
        | np.concatenate(([True], (kind[1:] != kind[:-1]) | trailing[:-1]))
    )
    begin[elided + 1] = True
    token_starts = np.flatnonzero(begin)
    spaces = trailing[np.append(token_starts[1:], size) - 1]
    later = token_starts[1:]
    words = _cut(codes, trailing, later[~trailing[later - 1]], joined)
    if trailing[-1]:
        words.pop()  # the separator of the last trailing space ends no token
    counts = np.diff(np.append(np.searchsorted(token_starts, bases), len(token_starts)))
    return Tokens(words, token_starts, spaces, counts)


def _mask(size: int, offsets: NDArray[np.int64]) -> NDArray[np.bool_]:
    mask = np.zeros(size, bool)
    mask[offsets] = True
    return mask


def _connectors(
    codes: NDArray[np.uint32], kinds: NDArray[np.uint8], text_start: NDArray[np.bool_]
) -> tuple[NDArray[np.bool_], NDArray[np.intp]]:
    """(joining, elisions): the hyphens and apostrophes between two word characters and the
    decimal separators between two digits (of the same text), which belong to the word;
    and the positions of the apostrophes among them that end an elision ("l’", "qu’"),
    after which a token begins."""

    def flanked(bit: int) -> NDArray[np.bool_]:
        where = (kinds & bit) != 0
        before = np.concatenate(([False], where[:-1])) & ~text_start
        after = np.concatenate((where[1:], [False])) & ~np.concatenate((text_start[1:], [True]))
        both: NDArray[np.bool_] = before & after
        return both

    between = flanked(_IS_WORD)
    joining = between & ((kinds & (_IS_HYPHEN | _IS_APOSTROPHE)) != 0)
    joining |= flanked(_IS_DIGIT) & ((kinds & _IS_DECIMAL) != 0)
    apostrophes = np.flatnonzero(between & ((kinds & _IS_APOSTROPHE) != 0))
    word = (kinds & _IS_WORD) != 0
    runs = np.flatnonzero(word & (text_start | ~np.concatenate(([False], word[:-1]))))
    length = apostrophes - runs[np.searchsorted(runs, apostrophes, side="right") - 1]
    elision = np.zeros(len(apostrophes), bool)
    for elided in ELISIONS:
        found = length == len(elided)
        for back, char in enumerate(reversed(elided), start=1):
            found &= (codes.take(apostrophes - back, mode="wrap") | 32) == ord(char)
        elision |= found
    return joining, apostrophes[elision]


def _cut(
    codes: NDArray[np.uint32],
    trailing: NDArray[np.bool_],
    breaks: NDArray[np.intp],
    joined: str,
) -> list[str]:
    """The token strings: trailing spaces become separators, one more goes before each of
    ``breaks`` (token starts not after a trailing space), and the text is split there."""
    separator = next(chr(c) for c in range(0x110000) if chr(c) not in joined)
    marked = np.where(trailing, np.uint32(ord(separator)), codes)
    marked = np.insert(marked, breaks, ord(separator))
    return marked.tobytes().decode("utf-32-le", "surrogatepass").split(separator)


@dataclass(frozen=True, slots=True)
class TokenIds:
    """The tokens of a batch of texts as ``TokenCache`` gives them: ``Tokens`` with ids
    into ``TokenCache.strings`` in place of the words."""

    ids: NDArray[np.int64]
    starts: NDArray[np.int64]
    spaces: NDArray[np.bool_]
    counts: NDArray[np.int64]


class _Index(dict[str, int]):
    """Ids of strings in the order first met; ``new`` lists those met since it was emptied."""

    def __init__(self) -> None:
        super().__init__()
        self.new: list[str] = []

    def __missing__(self, key: str) -> int:
        index = self[key] = len(self)
        self.new.append(key)
        return index


_BASE = 0x9E3779B97F4A7C15  # of the chunk keys' polynomial hash: odd, so invertible mod 2**64
_BLOCK = 1 << 17  # code points TokenCache hashes and checks at a time (~5 MB of work arrays)


class TokenCache:
    """``split_tokens`` for a stream of batches, each distinct space-separated chunk of
    text tokenized once. Tokens come as ids into ``strings`` (each distinct token text
    once; ``lengths`` holds their lengths). A chunk is found by its key (``ChunkKeys``, for
    all the chunks of a batch at once) in ``KeyTable``, then compared code point by code
    point with the chunk found (``unequal``), so a key shared by two chunks never gives
    the wrong one: a chunk not found so (new, or whose key another chunk holds) is cut out
    as a string and looked up in a dict, and a new one tokenized by ``split_tokens``. A
    text with an offset that its chunks' tokens do not honour (an entity that begins inside
    a word, or on a space) is tokenized again by ``split_tokens``, so the tokens are always
    those ``split_tokens`` gives. Memory grows with the number of distinct chunks (``len``:
    their code points, tokens and keys), plus work arrays for ``_BLOCK`` code points."""

    def __init__(self) -> None:
        self.strings: list[str] = []
        self.lengths = np.zeros(0, np.int64)
        self._string_ids = _Index()
        self._chunks = _Index()
        # per chunk, its tokens' slice of _tokens; the empty chunk "" (between two spaces)
        # has none but stands for the space after it: _tokens[0], the string " "
        self._chunks[""] = 0
        self._chunks.new.clear()
        self._first = np.zeros(1, np.int64)
        self._count = np.zeros(1, np.int64)
        self._tokens = self._ids([" "])
        # per chunk, the offset in _known of its code points, followed by a space
        self._at = np.zeros(1, np.int64)
        self._known = np.full(1, 32, np.uint32)
        self._scratch = Scratch()
        self._keys = ChunkKeys(_BASE)
        self._table = KeyTable()
        nothing = np.zeros(1, np.int64)
        self._table.add(
            self._keys(np.zeros(0, np.uint32), nothing, nothing, self._scratch), nothing
        )

    def __len__(self) -> int:
        return len(self._chunks)

    def __call__(
        self, texts: Sequence[str], starts: NDArray[np.int64], ends: NDArray[np.int64]
    ) -> TokenIds:
        """The tokens of ``texts``, with the offsets of ``split_tokens``."""
        spaced = " ".join([*texts, ""])  # each text followed by a space
        codes = np.frombuffer(spaced.encode("utf-32-le", "surrogatepass"), np.uint32)
        sizes = np.fromiter(map(len, texts), np.int64, len(texts))
        chunk_starts, chunk_stops, last = _chunk_bounds(codes, sizes)
        chunk_ids = self._chunk_ids(spaced, codes, chunk_starts, chunk_stops)
        per_text = np.diff(np.flatnonzero(last), prepend=-1)
        count = self._count[chunk_ids]
        per_chunk = count + ((count == 0) & ~last)
        ends_at = np.cumsum(per_chunk)
        shift = np.repeat(self._first[chunk_ids] - (ends_at - per_chunk), per_chunk)
        ids = self._tokens[np.arange(len(shift)) + shift]  # each chunk's slice of _tokens
        spaces = np.zeros(len(ids), bool)
        spaces[ends_at[(count > 0) & ~last] - 1] = True
        counts = np.add.reduceat(per_chunk, np.cumsum(per_text) - per_text)
        tokens = TokenIds(ids, _starts(self.lengths[ids], spaces), spaces, counts)
        bases = np.cumsum(sizes) - sizes
        redo = self._misfits(tokens, bases, starts, ends)
        if len(redo):
            return self._retokenized(tokens, texts, bases, (starts, ends), redo)
        return tokens

    def _chunk_ids(
        self,
        spaced: str,
        codes: NDArray[np.uint32],
        starts: NDArray[np.int64],
        stops: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        """The id of each chunk ``spaced[starts[i]:stops[i]]`` (each followed by a space;
        ``codes``: the code points of ``spaced``), new chunks learnt."""
        keys = np.empty(len(starts), np.uint64)
        ids = np.empty(len(starts), np.int64)
        firsts = np.unique(np.searchsorted(starts, np.arange(0, len(codes), _BLOCK)))
        for first, end in pairwise([*firsts[firsts < len(starts)].tolist(), len(starts)]):
            offset = int(starts[first])
            block = codes[offset : len(codes) if end == len(starts) else int(starts[end])]
            block_starts, block_stops = starts[first:end], stops[first:end]
            if offset:
                block_starts, block_stops = block_starts - offset, block_stops - offset
            block_keys = self._keys(block, block_starts, block_stops, self._scratch)
            found = self._table.find(block_keys)
            found[unequal(block, self._known, self._at[found], block_starts, self._scratch)] = -1
            keys[first:end], ids[first:end] = block_keys, found
        missed = np.flatnonzero(ids < 0)
        if not len(missed):
            return ids
        known = len(self._chunks)
        cut = map(spaced.__getitem__, map(slice, starts[missed].tolist(), stops[missed].tolist()))
        looked_up = np.fromiter(map(self._chunks.__getitem__, cut), np.int64, len(missed))
        ids[missed] = looked_up
        if self._chunks.new:
            new = self._chunks.new
            self._learn(new)
            fresh = looked_up >= known
            first = np.unique(looked_up[fresh], return_index=True)[1]  # in the order of ids
            self._remember(new, keys[missed[fresh][first]])
            self._chunks.new = []
        return ids

    def _remember(self, chunks: list[str], keys: NDArray[np.uint64]) -> None:
        """Keeps the code points of the new ``chunks`` (the last ids) and holds each under
        its key unless that key is another chunk's."""
        sizes = np.fromiter(map(len, chunks), np.int64, len(chunks))
        codes = (" ".join(chunks) + " ").encode("utf-32-le", "surrogatepass")
        self._at = np.concatenate((self._at, len(self._known) + np.cumsum(sizes + 1) - sizes - 1))
        self._known = np.concatenate((self._known, np.frombuffer(codes, np.uint32)))
        distinct, first = np.unique(keys, return_index=True)
        free = self._table.find(distinct) < 0
        ids = len(self._chunks) - len(chunks) + first[free]
        self._table.add(distinct[free], ids)

    def _ids(self, words: list[str]) -> NDArray[np.int64]:
        ids = np.fromiter(map(self._string_ids.__getitem__, words), np.int64, len(words))
        if self._string_ids.new:
            added = self._string_ids.new
            self.strings += added
            lengths = np.fromiter(map(len, added), np.int64, len(added))
            self.lengths = np.concatenate((self.lengths, lengths))
            self._string_ids.new = []
        return ids

    def _learn(self, chunks: list[str]) -> None:
        tokens = split_tokens(chunks)
        self._first = np.concatenate(
            (self._first, len(self._tokens) + np.cumsum(tokens.counts) - tokens.counts)
        )
        self._count = np.concatenate((self._count, tokens.counts))
        self._tokens = np.concatenate((self._tokens, self._ids(tokens.words)))

    def _misfits(
        self,
        tokens: TokenIds,
        bases: NDArray[np.int64],
        starts: NDArray[np.int64],
        ends: NDArray[np.int64],
    ) -> NDArray[np.int64]:
        """The indices of the texts with an offset that ``tokens`` do not honour."""
        token_ends = tokens.starts + self.lengths[tokens.ids]
        return np.unique(
            np.concatenate(
                (
                    _text_of(bases, starts[~_found(tokens.starts, starts)], ending=False),
                    _text_of(bases, ends[~_found(token_ends, ends)], ending=True),
                )
            )
        )

    def _retokenized(
        self,
        tokens: TokenIds,
        texts: Sequence[str],
        bases: NDArray[np.int64],
        offsets: tuple[NDArray[np.int64], NDArray[np.int64]],
        redo: NDArray[np.int64],
    ) -> TokenIds:
        """``tokens`` with those of the texts ``redo`` from ``split_tokens``."""
        sizes = np.fromiter(map(len, texts), np.int64, len(texts))[redo]
        moved = np.cumsum(sizes) - sizes - bases[redo]  # from the batch to the texts redone
        rebased = []
        for found, ending in zip(offsets, (False, True), strict=True):
            text = _text_of(bases, found, ending)
            kept = np.isin(text, redo)
            rebased.append(found[kept] + moved[np.searchsorted(redo, text[kept])])
        again = split_tokens([texts[i] for i in redo], *rebased)
        cuts = np.cumsum(tokens.counts)[:-1]
        again_cuts = np.cumsum(again.counts)[:-1]
        ids, spaces = np.split(tokens.ids, cuts), np.split(tokens.spaces, cuts)
        for text, piece_ids, piece_spaces in zip(
            redo,
            np.split(self._ids(again.words), again_cuts),
            np.split(again.spaces, again_cuts),
            strict=True,
        ):
            ids[text], spaces[text] = piece_ids, piece_spaces
        counts = tokens.counts.copy()
        counts[redo] = again.counts
        all_ids, all_spaces = np.concatenate(ids), np.concatenate(spaces)
        return TokenIds(all_ids, _starts(self.lengths[all_ids], all_spaces), all_spaces, counts)


def _chunk_bounds(
    codes: NDArray[np.uint32], sizes: NDArray[np.int64]
) -> tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.bool_]]:
    """(starts, stops, last): the bounds of the space-separated chunks of texts of lengths
    ``sizes``, each followed by a space, joined (``codes``: their code points), as
    ``text.split(" ")`` gives them text after text, and whether each is the last of its
    text."""
    stops = np.flatnonzero(codes == 32)
    starts = np.zeros(len(stops), np.int64)
    starts[1:] = stops[:-1] + 1
    last = np.zeros(len(stops), bool)
    last[np.searchsorted(stops, np.cumsum(sizes + 1) - 1)] = True
    return starts, stops, last


def _text_of(
    bases: NDArray[np.int64], offsets: NDArray[np.int64], ending: bool
) -> NDArray[np.int64]:
    """The index of the text of each offset: the text it begins in, or for end offsets
    (``ending``) the text it ends."""
    index: NDArray[np.int64] = np.searchsorted(bases, offsets, side="left" if ending else "right")
    return index - 1


def _starts(lengths: NDArray[np.int64], spaces: NDArray[np.bool_]) -> NDArray[np.int64]:
    """Token offsets from the tokens' lengths and trailing spaces."""
    widths = lengths + spaces
    return np.cumsum(widths) - widths


def _found(sorted_offsets: NDArray[np.int64], offsets: NDArray[np.int64]) -> NDArray[np.bool_]:
    """Whether each of ``offsets`` is in ``sorted_offsets``."""
    index = np.minimum(np.searchsorted(sorted_offsets, offsets), len(sorted_offsets) - 1)
    if not len(sorted_offsets):
        return np.zeros(len(offsets), bool)
    found: NDArray[np.bool_] = sorted_offsets[index] == offsets
    return found
