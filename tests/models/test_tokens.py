"""Token boundaries: snapping a selection to whole tokens, moving an edge by one token."""

from __future__ import annotations

import pytest

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
