"""Where the tokens of ``models.tokens`` begin, from the kinds of the characters, with numpy.

Every non-space character is in a token (one that starts no elision, number or word is a
symbol token alone), so the tokens of a whitespace-separated chunk cover it end to end
and are known by where they begin. In a chunk whose letters and digits never meet, the
tokenizer's regular expression comes down to:

- a run of letters is a word, and a hyphen or an apostrophe between two letters joins
  them (a compound word), except the apostrophe that ends an elision ("l’", "qu’", any
  case) spelled from where a token begins: that token ends there;
- a run of digits is a number, and a "." or "," between two digits joins them ("2,5");
- any other character is a token alone.

Where a letter and a digit meet (side by side, or across a hyphen or an apostrophe), and
around any OTHER character ("_", a combining mark, a code point of U+3001 or above, a
numeral that is no digit), the rules differ: ``begins`` points them out ("tangled"), for
``token_spans`` to tokenize those chunks.
"""

from __future__ import annotations

import re

import numpy as np
from numpy.typing import NDArray

from models.tokens import ELISIONS, WORD_MARKS

IntArray = NDArray[np.int64]
Mask = NDArray[np.bool_]
TABLE = 0x3001  # every whitespace character is below (U+3000 is the last one)
ENCODING = "utf-32-le"  # one code point, four bytes: offsets map to bytes by × 4
SPACE, LETTER, SYMBOL, DECIMAL, HYPHEN, APOSTROPHE, DIGIT, OTHER = range(8)  # rare from HYPHEN
LONGEST = max(map(len, ELISIONS))  # letters (at most 8: an elision packs in 64 bits)
ELIDED = np.array(  # each elision's letters, the last one first, one byte each
    [
        sum(ord(letter) << 8 * index for index, letter in enumerate(reversed(word)))
        for word in ELISIONS
    ],
    dtype=np.uint64,
)


def _below() -> str:
    """Every code point below TABLE, in order."""
    return np.arange(TABLE, dtype=np.uint32).tobytes().decode(ENCODING, "surrogatepass")


def _kinds() -> NDArray[np.uint8]:
    """The kind of every code point below TABLE, then OTHER (for all the others)."""
    below = _below()
    kinds = np.full(TABLE + 1, SYMBOL, dtype=np.uint8)
    for pattern, kind in (
        (rf"[\w{WORD_MARKS}]", OTHER),  # what is neither a letter, a digit nor a symbol
        (r"[^\W\d_]", LETTER),  # \w without digits and "_": str.isalpha, checked below
        (r"\d", DIGIT),
        (r"\s", SPACE),
        (r"-", HYPHEN),
        (r"['’]", APOSTROPHE),
        (r"[.,]", DECIMAL),
    ):
        for match in re.finditer(pattern, below):
            kinds[match.start()] = kind
    kinds[TABLE] = OTHER
    letters = np.flatnonzero(kinds == LETTER).tolist()
    kinds[[code for code in letters if not chr(code).isalpha()]] = OTHER  # numerals
    return kinds


def _folded() -> NDArray[np.uint8]:
    """For each code point below TABLE, the ASCII lowercase letter of the elisions it
    matches when case is ignored (as the elisions are), or 255 (none)."""
    below = _below()
    folded = np.full(TABLE + 1, 255, dtype=np.uint8)
    for letter in sorted(set("".join(ELISIONS))):
        for match in re.finditer(f"(?i:{letter})", below):
            folded[match.start()] = ord(letter)
    return folded


KINDS = _kinds()
FOLDED = _folded()


def begins(kinds: NDArray[np.uint8], codes: NDArray[np.uint32]) -> tuple[Mask, IntArray]:
    """Where a token begins, by the rules, and where they do not hold (tangled
    positions, sorted); ``kinds`` has a SPACE either side of the kinds of ``codes``."""
    rare = np.flatnonzero(kinds >= HYPHEN)  # (indices in kinds, as below)
    rare_kinds = kinds.take(rare)
    joiners = rare[rare_kinds <= APOSTROPHE]
    joins = joiners[(kinds.take(joiners - 1) == LETTER) & (kinds.take(joiners + 1) == LETTER)]
    digits = rare[rare_kinds == DIGIT]
    after = kinds.take(digits + 1)
    decimals = digits[(after == DECIMAL) & (kinds.take(digits + 2, mode="clip") == DIGIT)] + 1
    joined = kinds == LETTER
    joined[joins] = True
    joined[digits] = True
    joined[decimals] = True
    begin: Mask = (kinds[1:-1] != SPACE) & ~(joined[1:-1] & joined[:-2])
    begin[_elided(joins - 1, kinds, codes) + 1] = True
    before = kinds.take(digits - 1)
    beyond = (after == LETTER) | (before == LETTER)
    beyond |= (after - np.uint8(HYPHEN) <= 1) & (kinds.take(digits + 2, mode="clip") == LETTER)
    beyond |= (before - np.uint8(HYPHEN) <= 1) & (kinds.take(digits - 2) == LETTER)
    tangled = np.union1d(rare[rare_kinds == OTHER], digits[beyond]) - 1
    return begin, tangled


def _elided(at: IntArray, kinds: NDArray[np.uint8], codes: NDArray[np.uint32]) -> IntArray:
    """The joins of ``at`` (between two letters, sorted) that end an elision beginning a
    token: an apostrophe after letters that spell an elision, from the start of the
    compound or right after such an elision."""
    ends = at[kinds.take(at + 1) == APOSTROPHE]
    length = np.ones(len(ends), dtype=np.int64)  # letters before, up to LONGEST + 1
    spelled = FOLDED.take(codes.take(ends - 1), mode="clip").astype(np.uint64)  # backwards
    going = np.arange(len(ends))  # those with more letters before
    for back in range(2, LONGEST + 2):  # (indices below 0 are read after a non-letter)
        going = going[kinds.take(ends[going] + 1 - back, mode="wrap") == LETTER]
        length[going] += 1
        if back <= LONGEST:
            letter = FOLDED.take(codes.take(ends[going] - back, mode="wrap"), mode="clip")
            spelled[going] |= letter.astype(np.uint64) << np.uint64(8 * back - 8)
    spells = np.isin(spelled, ELIDED) & (length <= LONGEST)
    ends, before = ends[spells], ends[spells] - length[spells] - 1
    # after a join, the letters continue a compound, unless that join ends an elision
    elided = ~_found(at, before)
    waiting = np.flatnonzero(~elided)
    previous = np.searchsorted(ends, before[waiting])
    chained = _found(ends, before[waiting])
    waiting, previous = waiting[chained], previous[chained]
    done = np.ones(len(ends), dtype=bool)
    done[waiting] = False
    while len(waiting):  # one more elision of each run of elisions in each round
        ready = done[previous]
        elided[waiting[ready]] = elided[previous[ready]]
        done[waiting[ready]] = True
        waiting, previous = waiting[~ready], previous[~ready]
    found: IntArray = ends[elided]
    return found


def _found(ordered: IntArray, values: IntArray) -> Mask:
    """Whether each of ``values`` is in ``ordered`` (sorted)."""
    if not len(ordered):
        return np.zeros(len(values), dtype=bool)
    found: Mask = ordered.take(np.searchsorted(ordered, values), mode="clip") == values
    return found
