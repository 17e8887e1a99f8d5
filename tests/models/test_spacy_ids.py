"""spaCy's string ids without spaCy (models.spacy_ids) against spaCy's own."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.spacy_ids import murmurhash64a, string_ids

_TEXT = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)


def _spacy(strings: list[str]) -> list[int]:
    from spacy.strings import get_string_id

    return [get_string_id(string) for string in strings]


def _symbols() -> dict[str, int]:
    from spacy.symbols import IDS

    return IDS


@given(strings=st.lists(_TEXT, max_size=30))
def test_string_ids_are_spacys(strings: list[str]) -> None:
    assert string_ids(strings, _symbols()).tolist() == _spacy(strings)


def test_string_ids_of_symbols_blocks_and_tails() -> None:
    strings = ["", "LOC", "ORTH", "PERSON", "loc", "é", "x" * 7, "y" * 8, "z" * 9, "😀" * 33]
    strings += ["Pékin\x00", "l’Élysée", "a" * 10_000, "Москва"]
    assert string_ids(strings, _symbols()).tolist() == _spacy(strings)
    assert string_ids([], _symbols()).tolist() == []


def test_murmurhash64a_known_values() -> None:
    # murmurhash's hash64 (MurmurHash64A), seed 1: what spaCy's hash_string gives
    keys = [b"", b"a", b"Chine", b"12345678", b"123456789"]
    expected = [_spacy([key.decode()])[0] if key else None for key in keys]
    assert murmurhash64a(keys).tolist()[1:] == expected[1:]
    assert murmurhash64a([b"", b""]).tolist()[0] == murmurhash64a([b""]).tolist()[0]
