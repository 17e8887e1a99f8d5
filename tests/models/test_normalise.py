"""Length-preserving normalisation: offsets on the normalised text are offsets on the original."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from models.normalise import normalise

TYPOGRAPHY = "’‘ʼ\u00a0\u202f\u2009“”„\u2011"
texts = st.text(alphabet=st.characters(codec="utf-8") | st.sampled_from(TYPOGRAPHY))


@given(texts)
def test_normalise_keeps_length_and_every_other_character(text: str) -> None:
    folded = normalise(text)
    assert len(folded) == len(text)
    for before, after in zip(text, folded, strict=True):
        if after != before:  # only non-ASCII typography folds, and into ASCII
            assert not before.isascii() and after.isascii()


@given(texts)
def test_normalise_is_idempotent(text: str) -> None:
    assert normalise(normalise(text)) == normalise(text)


def test_normalise_folds_apostrophes_and_no_break_spaces() -> None:
    text = "L’accord qu’a\u00a0signé Moscou\u202f: «\u00a0oui\u00a0»"
    assert normalise(text) == "L'accord qu'a signé Moscou : « oui »"


def test_normalise_keeps_letters_accents_and_guillemets() -> None:
    text = "Élysée, Pékin, naïve, « Xi », 🇨🇳, e\u0301"
    assert normalise(text) == text
