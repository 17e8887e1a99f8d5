"""Code point ↔ UTF-16 offsets, checked against Python's own utf-16-le encoding."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.offsets import Utf16Map, utf16_positions

SPECIAL = ["😀", "🇷🇺", "👩‍👩‍👧", "e\u0301", "\u0301", "𝔊", "’", "\u00a0", "é", "a"]
texts = st.lists(st.sampled_from(SPECIAL) | st.text(max_size=3), max_size=40).map("".join)


def utf16_units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


@given(texts)
def test_offsets_utf16_matches_the_encoding_and_round_trips(text: str) -> None:
    mapping = Utf16Map(text)
    positions = utf16_positions(text)
    assert mapping.utf16_length() == utf16_units(text) == positions[-1]
    for offset in range(len(text) + 1):
        unit = mapping.to_utf16(offset)
        assert unit == utf16_units(text[:offset]) == positions[offset]
        assert mapping.from_utf16(unit) == offset


@given(texts)
def test_offsets_unit_inside_a_surrogate_pair_rounds_down(text: str) -> None:
    mapping = Utf16Map(text)
    for offset, char in enumerate(text):
        if ord(char) > 0xFFFF:
            assert mapping.from_utf16(mapping.to_utf16(offset) + 1) == offset


def test_offsets_identity_without_astral_characters() -> None:
    text = "Poutine a\u00a0dit « qu’il viendra » — e\u0301"
    mapping = Utf16Map(text)
    assert mapping.identity
    assert [mapping.to_utf16(i) for i in range(len(text) + 1)] == list(range(len(text) + 1))


def test_offsets_emoji_shift_later_offsets() -> None:
    text = "😀 Xi 🇨🇳 Pékin"
    mapping = Utf16Map(text)
    assert not mapping.identity
    xi = text.index("Xi")
    pekin = text.index("Pékin")
    assert (mapping.to_utf16(xi), mapping.to_utf16(pekin)) == (xi + 1, pekin + 3)
    assert text.encode("utf-16-le")[2 * mapping.to_utf16(pekin) :].decode("utf-16-le") == "Pékin"
