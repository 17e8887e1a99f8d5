"""Edit commands with do/undo, each returning what changed (no Qt here).

A command is applied by ``Store.do`` / ``Store.undo`` inside one transaction, so each
edit is committed at once. Undo restores rows with their original ids, so a redo after an
undo, and arguments pointing at a restored entity, stay consistent.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from models.layers import touch
from models.schema import LAYER_STATUSES, Document, Entity, EventArgument, Layer


class EditError(ValueError):
    """An edit that cannot be applied (bad range, missing row); nothing was changed."""


@dataclass(frozen=True, slots=True)
class Changes:
    """What an edit changed, so views refresh only that."""

    layer_id: int
    ranges: tuple[tuple[int, int], ...] = ()
    entities: bool = False
    doc_labels: bool = False
    events: bool = False
    status: bool = False
    selected: int | None = None
    message: str = ""
    version: int | None = None  # the layer's version after the edit (set by Store.do)


class Command(ABC):
    text: str = "edit"

    @abstractmethod
    def do(self, session: Session) -> Changes: ...

    @abstractmethod
    def undo(self, session: Session) -> Changes: ...


def check_range(session: Session, layer_id: int, start: int, end: int) -> None:
    length = session.scalar(
        select(func.length(Document.text))
        .join(Layer, Layer.document_id == Document.id)
        .where(Layer.id == layer_id)
    )
    if length is None:
        raise EditError(f"layer {layer_id} does not exist")
    if not 0 <= start < end <= length:
        raise EditError(f"span [{start}, {end}) is outside the text (length {length})")


def _entity_row(session: Session, entity_id: int) -> dict[str, Any]:
    entity = session.get(Entity, entity_id)
    if entity is None:
        raise EditError(f"entity {entity_id} does not exist")
    return {
        column: getattr(entity, column)
        for column in ("id", "layer_id", "start", "end", "label", "origin", "score")
    }


@dataclass
class AddEntity(Command):
    layer_id: int
    start: int
    end: int
    label: str
    origin: str = "manual"
    score: float | None = None
    entity_id: int | None = None  # fixed by the first do, reused by redo

    @property
    def text(self) -> str:  # type: ignore[override]
        return f"add {self.label}"

    def do(self, session: Session) -> Changes:
        check_range(session, self.layer_id, self.start, self.end)
        values: dict[str, Any] = {
            "layer_id": self.layer_id,
            "start": self.start,
            "end": self.end,
            "label": self.label,
            "origin": self.origin,
            "score": self.score,
        }
        if self.entity_id is not None:
            values["id"] = self.entity_id
        self.entity_id = session.execute(
            insert(Entity).values(values).returning(Entity.id)
        ).scalar_one()
        touch(session, self.layer_id)
        return Changes(
            self.layer_id, ((self.start, self.end),), entities=True, selected=self.entity_id
        )

    def undo(self, session: Session) -> Changes:
        session.execute(delete(Entity).where(Entity.id == self.entity_id))
        touch(session, self.layer_id)
        return Changes(self.layer_id, ((self.start, self.end),), entities=True)


@dataclass
class RemoveEntity(Command):
    entity_id: int
    text: str = "remove entity"
    _row: dict[str, Any] = field(default_factory=dict, repr=False)
    _arguments: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def do(self, session: Session) -> Changes:
        self._row = _entity_row(session, self.entity_id)
        self._arguments = [
            {
                c: getattr(a, c)
                for c in ("id", "event_id", "layer_id", "role", "entity_id", "origin")
            }
            for a in session.scalars(
                select(EventArgument).where(EventArgument.entity_id == self.entity_id)
            )
        ]
        session.execute(delete(Entity).where(Entity.id == self.entity_id))
        touch(session, self._row["layer_id"])
        message = ""
        if self._arguments:
            roles = ", ".join(sorted({argument["role"] for argument in self._arguments}))
            message = f"removed {len(self._arguments)} event argument(s) it filled: {roles}"
        return Changes(
            self._row["layer_id"],
            ((self._row["start"], self._row["end"]),),
            entities=True,
            events=bool(self._arguments),
            message=message,
        )

    def undo(self, session: Session) -> Changes:
        session.execute(insert(Entity).values(self._row))
        if self._arguments:
            session.execute(insert(EventArgument), self._arguments)
        touch(session, self._row["layer_id"])
        return Changes(
            self._row["layer_id"],
            ((self._row["start"], self._row["end"]),),
            entities=True,
            events=bool(self._arguments),
            selected=self.entity_id,
        )


@dataclass
class _UpdateEntity(Command):
    """Set some columns of an entity; undo restores the previous values."""

    entity_id: int
    _before: dict[str, Any] = field(default_factory=dict, repr=False)

    def new_values(self) -> dict[str, Any]:
        raise NotImplementedError

    def _apply(self, session: Session, values: dict[str, Any], before: dict[str, Any]) -> Changes:
        session.execute(update(Entity).where(Entity.id == self.entity_id).values(values))
        touch(session, before["layer_id"])
        start = min(before["start"], values.get("start", before["start"]))
        end = max(before["end"], values.get("end", before["end"]))
        return Changes(before["layer_id"], ((start, end),), entities=True, selected=self.entity_id)

    def do(self, session: Session) -> Changes:
        row = _entity_row(session, self.entity_id)
        values = self.new_values()
        if "start" in values:
            check_range(session, row["layer_id"], values["start"], values["end"])
        self._before = row
        return self._apply(session, values, row)

    def undo(self, session: Session) -> Changes:
        changed = self.new_values()
        previous = {key: self._before[key] for key in (*changed, "origin")}
        return self._apply(session, previous, {**self._before, **changed})


@dataclass
class RelabelEntity(_UpdateEntity):
    label: str = ""
    text: str = "relabel entity"

    def new_values(self) -> dict[str, Any]:
        return {"label": self.label, "origin": "manual"}


@dataclass
class ResizeEntity(_UpdateEntity):
    start: int = 0
    end: int = 0
    text: str = "move entity boundary"

    def new_values(self) -> dict[str, Any]:
        return {"start": self.start, "end": self.end, "origin": "manual"}


@dataclass
class SetStatus(Command):
    layer_id: int
    status: str
    text: str = "set status"
    _before: str = ""

    def do(self, session: Session) -> Changes:
        if self.status not in LAYER_STATUSES:
            raise EditError(f"unknown status '{self.status}'")
        before = session.scalar(select(Layer.status).where(Layer.id == self.layer_id))
        if before is None:
            raise EditError(f"layer {self.layer_id} does not exist")
        self._before = before
        return self._set(session, self.status)

    def undo(self, session: Session) -> Changes:
        return self._set(session, self._before)

    def _set(self, session: Session, status: str) -> Changes:
        session.execute(update(Layer).where(Layer.id == self.layer_id).values(status=status))
        touch(session, self.layer_id)
        return Changes(self.layer_id, status=True)
