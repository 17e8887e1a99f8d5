"""Chance-corrected agreement on nominal categories: Cohen's κ, Fleiss' κ, Krippendorff's α.

Each measure is an accumulator fed one item at a time (so the corpus can stream through
it) with a one-shot function beside it. Counts stay integers and the final ratio is exact
(``Fraction``), so a perfect agreement is exactly 1.0. When a measure is undefined (no
item, a single category, too few raters) the result is ``Measure(None, reason)``.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Iterable
from dataclasses import dataclass
from fractions import Fraction
from typing import Any


@dataclass(frozen=True, slots=True)
class Measure:
    """A score, or None with the reason it is undefined."""

    value: float | None
    reason: str = ""

    @classmethod
    def of(cls, numerator: int | Fraction, denominator: int | Fraction) -> Measure:
        return cls(float(Fraction(numerator) / Fraction(denominator)))

    def put(self, out: dict[str, Any], key: str) -> None:
        """Store the value under ``key`` and, when undefined, the reason in out["reasons"]."""
        out[key] = self.value
        if self.value is None:
            out.setdefault("reasons", {})[key] = self.reason


class CohenKappa:
    """Cohen's κ for two raters: feed (a, b) category pairs of the items both rated."""

    __slots__ = ("pairs",)

    def __init__(self) -> None:
        self.pairs: Counter[tuple[Hashable, Hashable]] = Counter()

    def add(self, a: Hashable, b: Hashable, count: int = 1) -> None:
        self.pairs[(a, b)] += count

    def add_parallel(self, a: Iterable[Hashable], b: Iterable[Hashable]) -> None:
        """Two parallel sequences of ratings, every position rated by both."""
        self.pairs.update(zip(a, b, strict=True))

    @property
    def items(self) -> int:
        return sum(self.pairs.values())

    def agreement(self) -> Measure:
        """Observed proportion of agreement (not chance-corrected)."""
        n = self.items
        if n == 0:
            return Measure(None, "no item rated by both")
        return Measure.of(sum(c for (a, b), c in self.pairs.items() if a == b), n)

    def result(self) -> Measure:
        n = self.items
        if n == 0:
            return Measure(None, "no item rated by both")
        rows: Counter[Hashable] = Counter()
        cols: Counter[Hashable] = Counter()
        for (a, b), count in self.pairs.items():
            rows[a] += count
            cols[b] += count
        agreed = sum(c for (a, b), c in self.pairs.items() if a == b)
        chance = sum(rows[c] * cols[c] for c in rows)  # expected agreement × n²
        if chance == n * n:
            return Measure(None, "no variation: both used the same single category")
        return Measure.of(n * agreed - chance, n * n - chance)


def cohen_kappa(a: Iterable[Hashable | None], b: Iterable[Hashable | None]) -> Measure:
    """κ of two parallel rating sequences; positions where either is None are skipped."""
    kappa = CohenKappa()
    for x, y in zip(a, b, strict=True):
        if x is not None and y is not None:
            kappa.add(x, y)
    return kappa.result()


class FleissKappa:
    """Fleiss' κ (1971): every item rated by the same number of raters (not the same ones)."""

    __slots__ = ("_mixed", "_raters", "_squares", "_totals", "items")

    def __init__(self) -> None:
        self.items = 0
        self._raters: int | None = None
        self._mixed = False
        self._squares = 0  # Σ_i Σ_j n_ij²
        self._totals: Counter[Hashable] = Counter()  # n_j = Σ_i n_ij

    def add(self, ratings: Iterable[Hashable]) -> None:
        """The categories the raters gave one item (one entry per rater)."""
        counts = Counter(ratings)
        raters = sum(counts.values())
        if self._raters is None:
            self._raters = raters
        self._mixed |= raters != self._raters
        self.items += 1
        self._squares += sum(c * c for c in counts.values())
        self._totals.update(counts)

    def result(self) -> Measure:
        n, items = self._raters or 0, self.items
        if items == 0:
            return Measure(None, "no item")
        if self._mixed:
            return Measure(None, "items have different numbers of ratings")
        if n < 2:
            return Measure(None, "fewer than two ratings per item")
        observed = Fraction(self._squares - items * n, items * n * (n - 1))
        expected = Fraction(sum(t * t for t in self._totals.values()), (items * n) ** 2)
        if expected == 1:
            return Measure(None, "no variation: every rating is the same category")
        return Measure.of(observed - expected, 1 - expected)


def fleiss_kappa(items: Iterable[Iterable[Hashable]]) -> Measure:
    """κ of items given as the list of categories their raters chose."""
    kappa = FleissKappa()
    for ratings in items:
        kappa.add(ratings)
    return kappa.result()


class KrippendorffAlpha:
    """Krippendorff's α, nominal metric, missing values allowed (coincidence matrix).

    A unit with m ≥ 2 values adds n_uc·n_uk / (m − 1) to the coincidence o_ck of each
    ordered pair of its values (Krippendorff 2011, "Computing Krippendorff's
    Alpha-Reliability"); units with fewer than two values are not pairable and ignored.
    α = 1 − (n − 1)·Σ_{c≠k} o_ck / Σ_{c≠k} n_c·n_k, where n_c = Σ_k o_ck is simply the
    number of pairable values c. Disagreeing pairs are counted per m so the division by
    m − 1 happens once, exactly, at the end.
    """

    __slots__ = ("_disagreeing", "_margins")

    def __init__(self) -> None:
        self._disagreeing: Counter[int] = Counter()  # m → Σ_u Σ_{c≠k} n_uc·n_uk
        self._margins: Counter[Hashable] = Counter()  # value → n_c

    def add(self, values: Iterable[Hashable | None], units: int = 1) -> None:
        """The values one unit received (None is a missing value); ``units`` alike units."""
        counts = Counter(v for v in values if v is not None)
        m = sum(counts.values())
        if m < 2:
            return
        self._disagreeing[m] += units * (m * m - sum(c * c for c in counts.values()))
        for value, count in counts.items():
            self._margins[value] += units * count

    def result(self) -> Measure:
        n = sum(self._margins.values())
        if n == 0:
            return Measure(None, "no unit has two or more values")
        expected = n * n - sum(c * c for c in self._margins.values())  # Σ_{c≠k} n_c·n_k
        if expected == 0:
            return Measure(None, "no variation: a single value was used")
        observed = sum(Fraction(d, m - 1) for m, d in self._disagreeing.items())
        return Measure(float(1 - (n - 1) * observed / expected))


def krippendorff_alpha(units: Iterable[Iterable[Hashable | None]]) -> Measure:
    """Nominal α of units given as their values (None for a missing value)."""
    alpha = KrippendorffAlpha()
    for values in units:
        alpha.add(values)
    return alpha.result()
