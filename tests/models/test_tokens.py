"""Token boundaries: snapping a selection to whole tokens, moving an edge by one token."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from numpy.typing import NDArray

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


@st.composite
def _batches(draw: st.DrawFn) -> tuple[list[str], NDArray[np.int64], NDArray[np.int64]]:
    """Texts and the offsets (into the texts joined) of spans inside each of them."""
    texts = draw(st.lists(st.lists(_PIECES, max_size=12).map("".join), min_size=1, max_size=4))
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


@given(batches=st.lists(_batches(), min_size=1, max_size=4))
def test_tokens_cache_gives_what_split_tokens_gives(
    batches: list[tuple[list[str], NDArray[np.int64], NDArray[np.int64]]],
) -> None:
    cache = TokenCache()
    for texts, starts, ends in batches:
        expected, got = split_tokens(texts, starts, ends), cache(texts, starts, ends)
        assert [cache.strings[i] for i in got.ids.tolist()] == expected.words
        assert got.starts.tolist() == expected.starts.tolist()
        assert got.spaces.tolist() == expected.spaces.tolist()
        assert got.counts.tolist() == expected.counts.tolist()
