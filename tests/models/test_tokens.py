"""Token boundaries: snapping a selection to whole tokens, moving an edge by one token."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

from models import chunk_keys, token_arrays
from models.token_arrays import TokenCache, split_tokens
from models.tokens import TokenIndex, token_spans

TEXT = "L’accord de Vladimir Poutine, aujourd’hui à Moscou. Il a payé 1,5 milliard."


def span(word: str) -> tuple[int, int]:
    start = TEXT.index(word)
    return start, start + len(word)


@pytest.fixture
def index() -> TokenIndex:
    return TokenIndex(TEXT)


def test_tokens_split_elisions_keep_compounds_and_numbers() -> None:
    tokens = [TEXT[start:end] for start, end in token_spans(TEXT)]
    assert tokens[:6] == ["L’", "accord", "de", "Vladimir", "Poutine", ","]
    assert "aujourd’hui" in tokens and "1,5" in tokens
    assert tokens.count(".") == 2


@pytest.mark.parametrize(
    ("selected", "expected"),
    [
        ("dimir Pou", "Vladimir Poutine"),
        ("Vladimir Poutine", "Vladimir Poutine"),
        ("ujourd", "aujourd’hui"),
        ("accord de V", "accord de Vladimir"),
        ("payé 1,", "payé 1,5"),
    ],
)
def test_tokens_snap_widens_to_whole_tokens(
    index: TokenIndex, selected: str, expected: str
) -> None:
    start, end = span(selected)
    snapped = index.snap(start, end)
    assert snapped is not None
    assert TEXT[snapped[0] : snapped[1]] == expected


def test_tokens_snap_of_blank_selection_is_none(index: TokenIndex) -> None:
    gap = TEXT.index(" de") + 1
    assert index.snap(gap - 1, gap) is None
    assert index.snap(len(TEXT), len(TEXT)) is None


def test_tokens_snap_trims_surrounding_spaces(index: TokenIndex) -> None:
    start, end = span(" Moscou. ")
    assert index.snap(start, end) == (TEXT.index("Moscou"), TEXT.index("Moscou") + 7)


def test_tokens_shift_start_by_one_token(index: TokenIndex) -> None:
    start, end = span("Vladimir Poutine")
    assert TEXT[index.shift_start(start, end, -1) : end] == "de Vladimir Poutine"
    assert TEXT[index.shift_start(start, end, +1) : end] == "Poutine"
    single_start, single_end = span("Poutine")
    assert index.shift_start(single_start, single_end, +1) == single_start  # never past the end


def test_tokens_shift_end_by_one_token(index: TokenIndex) -> None:
    start, end = span("Vladimir Poutine")
    assert TEXT[start : index.shift_end(start, end, +1)] == "Vladimir Poutine,"
    assert TEXT[start : index.shift_end(start, end, -1)] == "Vladimir"
    single_start, single_end = span("Vladimir")
    assert index.shift_end(single_start, single_end, -1) == single_end  # never before the start


def test_tokens_shift_clamps_at_the_text_edges(index: TokenIndex) -> None:
    assert index.shift_start(0, 2, -1) == 0
    last = len(TEXT)
    assert index.shift_end(last - 1, last, +1) == last


def test_tokens_decomposed_accents_stay_inside_the_word() -> None:
    text = "Pe\u0301kin et l’E\u0301lyse\u0301e"
    assert [text[start:end] for start, end in token_spans(text)] == [
        "Pe\u0301kin",
        "et",
        "l’",
        "E\u0301lyse\u0301e",
    ]
    assert TokenIndex(text).snap(1, 3) == (0, 6)


# ---- split_tokens and TokenCache (the tokens of the spaCy export) -------------------------

_PIECES = st.sampled_from(
    [
        "a",
        "é",
        "Z",
        "Xi",
        "l'",
        "qu’",
        "jusqu’",
        "'",
        "’",
        "-",
        ".",
        ",",
        "10",
        "x",
        " ",
        "  ",
        "\n",
        "\t",
        "\u00a0",
        "😀",
        "👍🏽",
        "\u0301",
    ]
)


# Words that come back from batch to batch (what TokenCache keeps), some of them with the
# same length and code points in another order ("le", "el": one key when the hash base is 1)
_WORDS = st.sampled_from(
    [
        "le",
        "el",
        "chat",
        "tach",
        "l’État",
        "qu'il",
        "aujourd’hui",
        "jusqu’à",
        "18h30",
        "2024-05-16",
        "1,5",
        "Pe\u0301kin",
        "E\u0301lyse\u0301e",
        "😀👍🏽",
        "a\tb",
        "x\ny",
        "\x00",
        "\x00\x00",
        "\ud800",
        "",
    ]
)
_Batch = tuple[list[str], NDArray[np.int64], NDArray[np.int64]]
_TEXTS = st.lists(_PIECES, max_size=12).map("".join)
_WORD_TEXTS = st.lists(st.one_of(_WORDS, _PIECES), max_size=10).map(" ".join)


@st.composite
def _batches(draw: st.DrawFn, one_text: st.SearchStrategy[str] = _TEXTS) -> _Batch:
    """Texts and the offsets (into the texts joined) of spans inside each of them."""
    texts = draw(st.lists(one_text, min_size=1, max_size=4))
    starts, ends, base = [], [], 0
    for text in texts:
        if len(text) > 1:
            pairs = st.lists(st.integers(0, len(text)), min_size=2, max_size=2, unique=True)
            for pair in draw(st.lists(pairs.map(sorted), max_size=3)):
                starts.append(base + pair[0])
                ends.append(base + pair[1])
        base += len(text)
    return texts, np.array(starts, np.int64), np.array(ends, np.int64)


def test_tokens_split_tokens_agree_with_token_spans() -> None:
    tokens = split_tokens([TEXT, "Pe\u0301kin et l’E\u0301lyse\u0301e"])
    assert tokens.words[: tokens.counts[0]] == [TEXT[a:b] for a, b in token_spans(TEXT)]
    assert tokens.words[tokens.counts[0] :] == ["Pe\u0301kin", "et", "l’", "E\u0301lyse\u0301e"]
    assert tokens.starts[: tokens.counts[0]].tolist() == [a for a, _ in token_spans(TEXT)]


def test_tokens_split_tokens_keep_spaces_as_spacy_does() -> None:
    tokens = split_tokens([" a  b\n c ", "d"])
    assert list(zip(tokens.words, tokens.spaces.tolist(), strict=True)) == [
        (" ", False),
        ("a", True),
        (" ", False),
        ("b", False),
        ("\n", True),
        ("c", True),
        ("d", False),
    ]
    assert tokens.counts.tolist() == [6, 1]


@given(batch=_batches())
def test_tokens_split_tokens_rebuild_the_texts_and_honour_offsets(
    batch: tuple[list[str], NDArray[np.int64], NDArray[np.int64]],
) -> None:
    texts, starts, ends = batch
    tokens = split_tokens(texts, starts, ends)
    rebuilt = "".join(
        w + " " * s for w, s in zip(tokens.words, tokens.spaces.tolist(), strict=True)
    )
    assert rebuilt == "".join(texts)
    firsts = np.cumsum(tokens.counts) - tokens.counts
    for text, first, count in zip(texts, firsts, tokens.counts, strict=True):
        last = first + count - 1
        assert not count or not tokens.spaces[last] or text.endswith(" ")
    token_ends = tokens.starts + np.fromiter(map(len, tokens.words), np.int64)
    assert set(starts.tolist()) <= set(tokens.starts.tolist())
    assert set(ends.tolist()) <= set(token_ends.tolist())
    assert all(tokens.words)


def _check_cache(cache: TokenCache, batches: list[_Batch]) -> None:
    """Gives ``batches`` to ``cache`` one after the other: each time the tokens must be
    those of ``split_tokens``, and ``len(cache)`` the number of distinct chunks so far."""
    chunks = {""}
    for texts, starts, ends in batches:
        expected, got = split_tokens(texts, starts, ends), cache(texts, starts, ends)
        assert [cache.strings[i] for i in got.ids.tolist()] == expected.words
        assert got.starts.tolist() == expected.starts.tolist()
        assert got.spaces.tolist() == expected.spaces.tolist()
        assert got.counts.tolist() == expected.counts.tolist()
        assert (got.ids.dtype, got.starts.dtype, got.counts.dtype) == (np.int64,) * 3
        assert got.spaces.dtype == np.bool_
        assert cache.lengths.tolist() == list(map(len, cache.strings))
        chunks.update(chunk for text in texts for chunk in text.split(" "))
        assert len(cache) == len(chunks)


@given(batches=st.lists(_batches(), min_size=1, max_size=4))
def test_tokens_cache_gives_what_split_tokens_gives(batches: list[_Batch]) -> None:
    _check_cache(TokenCache(), batches)


@given(batches=st.lists(_batches(_WORD_TEXTS), min_size=1, max_size=8))
def test_tokens_cache_gives_what_split_tokens_gives_for_words_met_again(
    batches: list[_Batch],
) -> None:
    _check_cache(TokenCache(), batches)


def _constant_keys(
    self: object, codes: NDArray[np.uint32], starts: NDArray[np.int64], *_: object
) -> NDArray[np.uint64]:
    return np.zeros(len(starts), np.uint64)  # every chunk has the key of ""


def _length_keys(
    self: object,
    codes: NDArray[np.uint32],
    starts: NDArray[np.int64],
    stops: NDArray[np.int64],
    *_: object,
) -> NDArray[np.uint64]:
    return (stops - starts).astype(np.uint64) << np.uint64(58)  # one key per length


def _first_code_keys(
    self: object, codes: NDArray[np.uint32], starts: NDArray[np.int64], *_: object
) -> NDArray[np.uint64]:
    first = np.append(codes, np.uint32(32))[starts]  # "" (a chunk's space, or no codes): " "
    return first.astype(np.uint64) << np.uint64(43)  # "a", "ab", "abc": one key


_COLLISIONS: dict[str, Callable[[pytest.MonkeyPatch], None]] = {
    "base 1: anagrams": lambda patch: patch.setattr(token_arrays, "_BASE", 1),
    "one key": lambda patch: patch.setattr(chunk_keys.ChunkKeys, "__call__", _constant_keys),
    "key of the length": lambda patch: patch.setattr(
        chunk_keys.ChunkKeys, "__call__", _length_keys
    ),
    "key of the first code point": lambda patch: patch.setattr(
        chunk_keys.ChunkKeys, "__call__", _first_code_keys
    ),
    "blocks of 3": lambda patch: patch.setattr(token_arrays, "_BLOCK", 3),
}


@pytest.mark.parametrize("collide", _COLLISIONS.values(), ids=_COLLISIONS.keys())
@given(batches=st.lists(_batches(_WORD_TEXTS), min_size=1, max_size=6))
def test_tokens_cache_stays_exact_when_different_chunks_share_a_key(
    collide: Callable[[pytest.MonkeyPatch], None], batches: list[_Batch]
) -> None:
    with pytest.MonkeyPatch.context() as patch:
        collide(patch)
        _check_cache(TokenCache(), batches)


def test_tokens_cache_tells_apart_the_chunks_of_a_key(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(token_arrays, "_BASE", 1)  # a key: the code points' sum
    cache, none = TokenCache(), np.zeros(0, np.int64)
    codes = np.frombuffer("le el".encode("utf-32-le"), np.uint32)
    keys = cache._keys(codes, np.array([0, 3]), np.array([2, 5]), cache._scratch)
    assert keys[0] == keys[1]
    batches = [(["le chat"], none, none), (["el tach le", "chat"], none, none)] * 2
    _check_cache(cache, batches)
    assert len(cache) == 5


def test_tokens_cache_tells_apart_a_chunk_and_its_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(chunk_keys.ChunkKeys, "__call__", _first_code_keys)
    none = np.zeros(0, np.int64)
    batches = [(["ab"], none, none), (["a", "abc ab", "a b"], none, none), (["abc"], none, none)]
    _check_cache(TokenCache(), batches * 2)


def test_tokens_cache_edge_texts() -> None:
    none = np.zeros(0, np.int64)
    texts = [[], [""], ["", ""], [" "], ["  "], ["a "], [" a"], ["a  b", "", "b"], ["\x00 \x00"]]
    _check_cache(TokenCache(), [(batch, none, none) for batch in texts * 2])


def test_tokens_cache_keys_are_polynomial_hashes_of_the_code_points() -> None:
    text = "L’accord   de 😀 Pe\u0301kin\x00  l’accord 😀 de"
    bounds, start = [], 0
    for chunk in text.split(" "):
        bounds.append((start, start + len(chunk)))
        start += len(chunk) + 1
    codes = np.frombuffer(text.encode("utf-32-le"), np.uint32)
    starts, stops = (np.array(side, np.int64) for side in zip(*bounds, strict=True))
    keys = chunk_keys.ChunkKeys(token_arrays._BASE)(codes, starts, stops, chunk_keys.Scratch())
    by_chunk: dict[str, set[int]] = {}
    for key, (start, stop) in zip(keys.tolist(), bounds, strict=True):
        polynomial = sum(ord(c) * token_arrays._BASE**i for i, c in enumerate(text[start:stop]))
        assert key == polynomial * chunk_keys.SPREAD % 2**64
        by_chunk.setdefault(text[start:stop], set()).add(key)
    assert all(len(found) == 1 for found in by_chunk.values())  # "", "de", "😀": one key each
    assert by_chunk["L’accord"] != by_chunk["l’accord"]


class _CountingIndex(token_arrays._Index):
    """An ``_Index`` that counts its look-ups."""

    looked_up = 0

    def __getitem__(self, key: str) -> int:
        self.looked_up += 1
        return super().__getitem__(key)


def test_tokens_cache_knows_chunks_met_before_without_cutting_strings() -> None:
    cache, none = TokenCache(), np.zeros(0, np.int64)
    batch = [TEXT, "  Pe\u0301kin et l’E\u0301lyse\u0301e 😀 ", "", TEXT]
    first = cache(batch, none, none)
    counting = _CountingIndex()
    counting.update(cache._chunks)
    cache._chunks = counting
    again = cache(batch, none, none)
    assert counting.looked_up == 0
    assert again.ids.tolist() == first.ids.tolist()
    assert again.starts.tolist() == first.starts.tolist()
