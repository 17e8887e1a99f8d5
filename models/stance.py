"""Document stance: one value per target in a layer (DocLabel rows, task "stance"), with
evidence passages. Commands with do/undo and a reader."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select
from sqlalchemy.orm import Session

from models.commands import Changes, Command, EditError, check_range
from models.layers import touch
from models.records import StanceRecord
from models.schema import DocLabel
from models.store import Store

TASK = "stance"


def stance(store: Store, layer_id: int) -> dict[str, StanceRecord]:
    """The layer's stance by target."""
    with store.connected() as connection:
        return _read(connection, layer_id)


def _read(connection: Connection, layer_id: int) -> dict[str, StanceRecord]:
    rows = connection.execute(_STANCE, {"layer": layer_id})
    return {
        target: StanceRecord(target, value, tuple((int(s), int(e)) for s, e in evidence or ()))
        for target, value, evidence in rows
    }


# built once: the statement of every layer shown (no statement to build and key each time)
_STANCE = select(DocLabel.target, DocLabel.value, DocLabel.evidence).where(
    DocLabel.layer_id == bindparam("layer"), DocLabel.task == TASK
)


def _row(session: Session, layer_id: int, target: str) -> dict[str, Any] | None:
    label = session.scalar(
        select(DocLabel).where(
            DocLabel.layer_id == layer_id, DocLabel.task == TASK, DocLabel.target == target
        )
    )
    if label is None:
        return None
    return {
        "id": label.id,
        "layer_id": label.layer_id,
        "task": label.task,
        "target": label.target,
        "value": label.value,
        "evidence": list(label.evidence or []),
        "origin": label.origin,
    }


def _put(session: Session, layer_id: int, target: str, row: dict[str, Any] | None) -> None:
    session.execute(
        delete(DocLabel).where(
            DocLabel.layer_id == layer_id, DocLabel.task == TASK, DocLabel.target == target
        )
    )
    if row is not None:
        session.execute(insert(DocLabel).values(row))
    touch(session, layer_id)


@dataclass
class _StanceEdit(Command):
    """Replace the target's row; undo puts the previous row back (same id)."""

    layer_id: int
    target: str
    _before: dict[str, Any] | None = field(default=None, repr=False)

    def after(self, before: dict[str, Any] | None, session: Session) -> dict[str, Any] | None:
        raise NotImplementedError

    def do(self, session: Session) -> Changes:
        self._before = _row(session, self.layer_id, self.target)
        _put(session, self.layer_id, self.target, self.after(self._before, session))
        return self._changes(self._before)

    def undo(self, session: Session) -> Changes:
        after = _row(session, self.layer_id, self.target)
        _put(session, self.layer_id, self.target, self._before)
        return self._changes(after)

    def _changes(self, other: dict[str, Any] | None) -> Changes:
        spans = [tuple(span) for span in (other or {}).get("evidence", [])]
        ranges = tuple((int(s), int(e)) for s, e in spans)
        return Changes(self.layer_id, ranges, doc_labels=True)


@dataclass
class SetStance(_StanceEdit):
    """Set the value toward ``target`` (None clears it). Evidence is kept on a value change."""

    value: str | None = None
    text: str = "set stance"

    def after(self, before: dict[str, Any] | None, session: Session) -> dict[str, Any] | None:
        if self.value is None:
            return None
        row = (
            dict(before)
            if before
            else {
                "layer_id": self.layer_id,
                "task": TASK,
                "target": self.target,
                "evidence": [],
            }
        )
        row.update(value=self.value, origin="manual")
        return row


@dataclass
class AddEvidence(_StanceEdit):
    """Attach the passage [start, end) to the stance toward ``target`` (which must be set)."""

    start: int = 0
    end: int = 0
    text: str = "add stance evidence"

    def after(self, before: dict[str, Any] | None, session: Session) -> dict[str, Any] | None:
        if before is None:
            raise EditError(f"set a stance toward {self.target} before attaching evidence")
        check_range(session, self.layer_id, self.start, self.end)
        evidence = [list(span) for span in before["evidence"]]
        if [self.start, self.end] not in evidence:
            evidence = sorted([*evidence, [self.start, self.end]])
        return {**before, "evidence": evidence}

    def _changes(self, other: dict[str, Any] | None) -> Changes:
        changes = super()._changes(other)
        return Changes(self.layer_id, (*changes.ranges, (self.start, self.end)), doc_labels=True)


@dataclass
class RemoveEvidence(_StanceEdit):
    start: int = 0
    end: int = 0
    text: str = "remove stance evidence"

    def after(self, before: dict[str, Any] | None, session: Session) -> dict[str, Any] | None:
        if before is None:
            return None
        evidence = [span for span in before["evidence"] if list(span) != [self.start, self.end]]
        return {**before, "evidence": evidence}
