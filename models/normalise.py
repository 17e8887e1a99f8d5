"""Length-preserving text normalisation for spaCy.

Each character maps to exactly one character, so every offset spaCy returns on the
normalised text is the same offset in the stored text. Only typography the French model
was not trained on is folded: typographic apostrophes (the cause of "qu’" / "L’" tagged as
LOC), exotic spaces, dashes and a few quotes.
"""

from __future__ import annotations

_FOLD = {
    "\u2019": "'",  # RIGHT SINGLE QUOTATION MARK, the typographic apostrophe
    "\u2018": "'",
    "\u02bc": "'",  # MODIFIER LETTER APOSTROPHE
    "\u2032": "'",  # PRIME, often typed for an apostrophe
    "\u00a0": " ",  # NO-BREAK SPACE
    "\u202f": " ",  # NARROW NO-BREAK SPACE (before ; : ! ? » in French typography)
    "\u2007": " ",
    "\u2009": " ",
    "\u200a": " ",
    "\u2002": " ",
    "\u2003": " ",
    "\u3000": " ",
    "\u2010": "-",
    "\u2011": "-",  # NON-BREAKING HYPHEN
    "\u2012": "-",
    "\u201c": '"',
    "\u201d": '"',
    "\u201e": '"',
}
_TABLE = str.maketrans(_FOLD)


def normalise(text: str) -> str:
    """Return ``text`` with the folds above; ``len(result) == len(text)`` always."""
    return text.translate(_TABLE)
