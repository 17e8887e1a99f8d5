"""Keys of chunks of text for whole arrays at once (``TokenCache``'s look-up, see
``models.token_arrays``): a 64-bit polynomial hash per chunk (``ChunkKeys``), a hash table
looked up and filled with numpy (``KeyTable``), and the exact check of a chunk found
against the one held (``unequal``), so that a key two chunks share never gives the wrong
one.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import NDArray

SPREAD = 0xC2B2AE3D27D4EB4F  # odd: makes the keys' top bits (their slot) depend on all bits


class Scratch:
    """Work arrays kept from batch to batch: a new array of millions of items costs more in
    page faults than the arithmetic done on it."""

    def __init__(self) -> None:
        self._arrays: dict[str, NDArray[Any]] = {}

    def get(self, name: str, dtype: type[np.generic], size: int) -> NDArray[Any]:
        """The first ``size`` items of the work array ``name`` (of ``dtype``; left as the
        last user left them)."""
        array = self._arrays.get(name)
        if array is None or len(array) < size:
            array = self._arrays[name] = np.empty(size + size // 8, dtype)
        return array[:size]


class ChunkKeys:
    """64-bit keys of chunks of text: the polynomial hash modulo 2**64 of their code points
    (base ``base``), times ``SPREAD``. Equal chunks have equal keys; different chunks
    seldom do (a chunk of NULs has the key of "", 0; ``unequal`` tells them apart)."""

    def __init__(self, base: int) -> None:
        self._base = base
        self._powers = np.ones(1, np.uint64)  # base ** k
        self._inverses = np.ones(1, np.uint64)  # base ** -k * SPREAD

    def __call__(
        self,
        codes: NDArray[np.uint32],
        starts: NDArray[np.int64],
        stops: NDArray[np.int64],
        scratch: Scratch,
    ) -> NDArray[np.uint64]:
        """The key of each chunk ``codes[starts[i]:stops[i]]``."""
        size = len(codes)
        if len(self._powers) <= size:
            self._grow(size + 1 + size // 8)
        prefix: NDArray[np.uint64] = scratch.get("prefix", np.uint64, size + 1)
        prefix[0] = 0  # prefix[k]: the sum of codes[i] * base ** i for i < k
        weighted = prefix[1:]
        weighted[...] = codes
        weighted *= self._powers[:size]
        np.cumsum(weighted, out=weighted)
        keys: NDArray[np.uint64] = prefix[stops] - prefix[starts]
        keys *= self._inverses[starts]
        return keys

    def _grow(self, size: int) -> None:
        for name, base in (("_powers", self._base), ("_inverses", pow(self._base, -1, 2**64))):
            powers = np.full(size, base, np.uint64)
            powers[0] = 1
            setattr(self, name, np.cumprod(powers, out=powers))
        self._inverses *= np.uint64(SPREAD)


class KeyTable:
    """The chunk id of each key held: open addressing with linear probing, indexed by the
    top bits of the keys, looked up and filled for whole arrays of keys at once."""

    def __init__(self) -> None:
        self._bits = 10
        self._keys = np.zeros(1 << self._bits, np.uint64)
        self._ids = np.full(1 << self._bits, -1, np.int64)  # -1: an empty slot
        self._held = 0

    def find(self, keys: NDArray[np.uint64]) -> NDArray[np.int64]:
        """The id of each of ``keys``, or -1 for a key not held."""
        slots = self._slots(keys)
        ids = self._ids[slots]
        waiting = np.flatnonzero((self._keys[slots] != keys) & (ids >= 0))
        ids[waiting] = -1
        while len(waiting):  # the slot is another key's: try the next one
            slot = slots[waiting] = (slots[waiting] + 1) & (len(self._ids) - 1)
            held = self._ids[slot]
            match = self._keys[slot] == keys[waiting]
            ids[waiting[match]] = held[match]
            waiting = waiting[~match & (held >= 0)]
        return ids

    def add(self, keys: NDArray[np.uint64], ids: NDArray[np.int64]) -> None:
        """Holds ``ids`` under ``keys`` (distinct keys, none held yet)."""
        self._held += len(keys)
        if 2 * self._held > len(self._ids):
            held = self._ids >= 0
            old_keys, old_ids = self._keys[held], self._ids[held]
            while 2 * self._held > 1 << self._bits:
                self._bits += 1
            self._keys = np.zeros(1 << self._bits, np.uint64)
            self._ids = np.full(1 << self._bits, -1, np.int64)
            self._place(old_keys, old_ids)
        self._place(keys, ids)

    def _slots(self, keys: NDArray[np.uint64]) -> NDArray[np.intp]:
        slots: NDArray[np.intp] = (keys >> np.uint64(64 - self._bits)).view(np.intp)
        return slots

    def _place(self, keys: NDArray[np.uint64], ids: NDArray[np.int64]) -> None:
        slots = self._slots(keys)
        while len(keys):  # each empty slot wanted takes one key; the others try the next
            free = np.flatnonzero(self._ids[slots] < 0)
            placed = free[np.unique(slots[free], return_index=True)[1]]
            self._keys[slots[placed]], self._ids[slots[placed]] = keys[placed], ids[placed]
            left = np.ones(len(keys), bool)
            left[placed] = False
            keys, ids = keys[left], ids[left]
            slots = (slots[left] + 1) & (len(self._ids) - 1)


def unequal(
    codes: NDArray[np.uint32],
    known: NDArray[np.uint32],
    at: NDArray[np.int64],
    starts: NDArray[np.int64],
    scratch: Scratch,
) -> NDArray[np.intp]:
    """The indices (some repeated) of the chunks ``codes[starts[i]:starts[i + 1]]`` (from
    ``starts[0]``, 0, to the end of ``codes``) that differ from ``known[at[i]:]`` over the
    same length: chunks that end with their space, so that a longer or a shorter chunk
    differs too."""
    size = len(codes)
    if not size:
        return np.zeros(0, np.intp)
    jumps = np.diff(at - starts, prepend=1)
    jumps += 1  # the step from the code point before: 1 but at a chunk's first
    index: NDArray[np.intp] = scratch.get("index", np.intp, size)
    index.fill(1)
    index[starts] = jumps
    np.cumsum(index, out=index)  # at[i] + the offset into chunk i, at each code point
    seen: NDArray[np.uint32] = scratch.get("seen", np.uint32, size)
    np.take(known, index, out=seen, mode="clip")
    same: NDArray[np.bool_] = scratch.get("same", np.bool_, size)
    np.equal(seen, codes, out=same)
    if same.all():
        return np.zeros(0, np.intp)
    differing: NDArray[np.intp] = np.searchsorted(starts, np.flatnonzero(~same), "right") - 1
    return differing
