"""The counted layers of a page of documents, with their entities as numpy columns.

Rows of entities cost more to fetch than every measure made of them, so each layer comes
with its entities packed into one string: per entity, one integer written as 19 decimal
digits (10¹⁸ added, so that all have 19), which numpy cuts and reads at once::

    ((start × 2^ENDS + end) × 2^CODES + code) + 10¹⁸

where the code is 1 + the label's index among the labels known (the project's schema,
then those met), 0 for any other label; CODES bits hold the code, and ENDS bits the start
and the end each, so that the integer stays below 2⁶². An entity that does not fit (a
label not known yet, an end at 2^ENDS or further) is written 10¹⁸ (code 0) and read
again as a row; the labels it brings are known from then on.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    String,
    and_,
    case,
    cast,
    false,
    func,
    literal,
    not_,
    select,
)

from models.agreement.token_rules import IntArray
from models.schema import Entity, Layer

WIDTH = 19  # digits of each packed integer
OFFSET = 10**18  # added to each, so that all have WIDTH digits
BITS = 62  # of a packed integer: OFFSET more stays below 2^63
POWERS = 10 ** np.arange(WIDTH - 1, -1, -1, dtype=np.int64)
Layers = Sequence[Row[int, int, int, str | None]]  # document id, layer id, annotator id, packed


@dataclass(frozen=True, slots=True)
class EntityColumns:
    """A page's entities: layer (its index among the layers read), start, end and label
    (the code of one of ``labels``, distinct and sorted) of each."""

    layer: IntArray
    start: IntArray
    end: IntArray
    labels: list[str]
    label: IntArray


class LayerReader:
    """Reads the layers that ``conditions`` select (Layer joined to what they need), then
    their entities; ``labels`` are those known at first."""

    def __init__(self, labels: Sequence[str], conditions: Sequence[ColumnElement[bool]]) -> None:
        self.conditions = list(conditions)
        self._know(list(dict.fromkeys(labels)))

    def _know(self, labels: list[str]) -> None:
        """The statements that code ``labels``."""
        self.labels = labels
        self.codes = len(labels).bit_length()  # bits of a label code, 0 for none
        self.ends = (BITS - self.codes) // 2  # bits of an end (and of a start)
        # (64-bit constants make 64-bit arithmetic of the 32-bit columns, without a cast)
        fits = Entity.end < _big(1 << self.ends)
        code: ColumnElement[int] = _big(0)
        known: ColumnElement[bool] = false()  # packed with a code
        if labels:
            codes = {label: index for index, label in enumerate(labels, 1)}
            code = case(codes, value=Entity.label, else_=0)
            known = and_(fits, Entity.label.in_(labels))
        extent = Entity.start * _big(1 << self.ends) + Entity.end
        packed = case((fits, extent * _big(1 << self.codes) + code), else_=_big(0))
        entities = (
            select(func.aggregate_strings(cast(packed + _big(OFFSET), String), ""))
            .where(Entity.layer_id == Layer.id)
            .scalar_subquery()
        )
        self.layers = select(Layer.document_id, Layer.id, Layer.annotator_id, entities).where(
            *self.conditions
        )
        self.rows = select(Entity.layer_id, Entity.start, Entity.end, Entity.label).where(
            Entity.layer_id == Layer.id, *self.conditions, not_(known)
        )

    def read(
        self, connection: Connection, parameters: dict[str, int]
    ) -> tuple[Layers, EntityColumns]:
        """The layers (document id, layer id, annotator id, packed entities) and their
        entities: unpacked, with those that did not fit read as rows."""
        layers = connection.execute(self.layers, parameters).all()
        packed = [row[3] or "" for row in layers]
        values = _integers("".join(packed))
        counts = np.fromiter(map(len, packed), np.int64, len(packed)) // WIDTH
        layer = np.repeat(np.arange(len(layers)), counts)
        code = values & ((1 << self.codes) - 1)
        fit = code != 0
        extent = values[fit] >> self.codes
        start, end = extent >> self.ends, extent & ((1 << self.ends) - 1)
        labels = list(self.labels)
        label = code[fit] - 1  # index in labels
        layer = layer[fit]
        if not fit.all():
            rows = connection.execute(self.rows, parameters).all()
            if len(rows) != len(fit) - int(fit.sum()):
                raise RuntimeError("entities changed while read")
            where = {row[1]: index for index, row in enumerate(layers)}
            new = sorted({row[3] for row in rows} - set(labels))
            labels += new
            index = {name: position for position, name in enumerate(labels)}
            layer = np.concatenate((layer, [where[row[0]] for row in rows])).astype(np.int64)
            start = np.concatenate((start, [row[1] for row in rows])).astype(np.int64)
            end = np.concatenate((end, [row[2] for row in rows])).astype(np.int64)
            label = np.concatenate((label, [index[row[3]] for row in rows])).astype(np.int64)
            if new:
                self._know(self.labels + new)
        return layers, _sorted_labels(layer, start, end, labels, label)


def _sorted_labels(
    layer: IntArray, start: IntArray, end: IntArray, labels: list[str], label: IntArray
) -> EntityColumns:
    """The columns with the labels met only, sorted, and the codes renumbered so."""
    met = np.flatnonzero(np.bincount(label, minlength=len(labels)))
    names = sorted(labels[index] for index in met.tolist())
    renumber = np.zeros(len(labels), dtype=np.int64)
    renumber[met] = [names.index(labels[index]) for index in met.tolist()]
    return EntityColumns(layer, start, end, names, renumber[label])


def _big(value: int) -> ColumnElement[int]:
    """An integer constant, typed as a 64-bit one (PostgreSQL's integer has 32 bits)."""
    return literal(value, BigInteger)


def _integers(joined: str) -> IntArray:
    """The packed integers of a joined string, less OFFSET."""
    digits = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
    if len(digits) % WIDTH:
        raise ValueError(f"packed entities of other than {WIDTH} digits")
    digits = digits.reshape(-1, WIDTH) - np.uint8(ord("0"))  # (wraps below "0")
    if (digits > 9).any():
        raise ValueError("packed entities of other than digits")
    values: IntArray = digits.astype(np.int64) @ POWERS - OFFSET
    return values
