"""Events of a layer: trigger span, type, state (accepted / suggested / rejected) and
arguments that point at entities of the same layer. Commands with do/undo and a reader.

Suggestions come from pre-annotation (origin "model", state "suggested"); accepting or
rejecting one keeps the row with its origin, so acceptance rates per event type can be
computed (``acceptance_rates``). Rejected events are kept but not shown.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import bindparam, delete, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from models.commands import Changes, Command, EditError, check_range
from models.layers import touch
from models.schema import Annotator, Entity, Event, EventArgument, Layer
from models.store import Store

EVENT_COLUMNS = (
    "id",
    "layer_id",
    "type",
    "trigger_start",
    "trigger_end",
    "attributes",
    "origin",
    "state",
)
ARGUMENT_COLUMNS = ("id", "event_id", "layer_id", "role", "entity_id", "origin")


@dataclass(frozen=True, slots=True)
class ArgumentView:
    id: int
    role: str
    entity_id: int
    start: int
    end: int
    label: str


@dataclass(frozen=True, slots=True)
class EventView:
    id: int
    type: str
    start: int
    end: int
    origin: str
    state: str
    arguments: tuple[ArgumentView, ...] = ()


def events(store: Store, layer_id: int, *, include_rejected: bool = False) -> list[EventView]:
    with store.connected() as connection:
        query = _EVENTS if include_rejected else _SHOWN_EVENTS
        rows = connection.execute(query, {"layer": layer_id}).all()
        arguments: dict[int, list[ArgumentView]] = {row.id: [] for row in rows}
        for argument_id, event_id, role, entity_id, start, end, label in connection.execute(
            _ARGUMENTS, {"layer": layer_id}
        ):
            if event_id in arguments:
                argument = ArgumentView(argument_id, role, entity_id, start, end, label)
                arguments[event_id].append(argument)
        return [
            EventView(
                row.id,
                row.type,
                row.trigger_start,
                row.trigger_end,
                row.origin,
                row.state,
                tuple(arguments[row.id]),
            )
            for row in rows
        ]


# built once: the statements of every layer shown (no statement to build and key each time)
_EVENTS = (
    select(Event.id, Event.type, Event.trigger_start, Event.trigger_end, Event.origin, Event.state)
    .where(Event.layer_id == bindparam("layer"))
    .order_by(Event.trigger_start, Event.id)
)
_SHOWN_EVENTS = _EVENTS.where(Event.state != "rejected")
_ARGUMENTS = (
    select(
        EventArgument.id,
        EventArgument.event_id,
        EventArgument.role,
        Entity.id,
        Entity.start,
        Entity.end,
        Entity.label,
    )
    .join(Entity, Entity.id == EventArgument.entity_id)
    .where(EventArgument.layer_id == bindparam("layer"))
    .order_by(EventArgument.id)
)


def acceptance_rates(store: Store) -> dict[str, dict[str, int]]:
    """For model-suggested events in human and gold layers: counts by type and state."""

    with store.reading() as session:
        rows = session.execute(
            select(Event.type, Event.state, func.count(Event.id))
            .join(Layer, Layer.id == Event.layer_id)
            .join(Annotator, Annotator.id == Layer.annotator_id)
            .where(Event.origin == "model", Annotator.kind != "model")
            .group_by(Event.type, Event.state)
        )
        rates: dict[str, dict[str, int]] = {}
        for event_type, state, count in rows:
            rates.setdefault(event_type, {})[state] = int(count)
        return rates


def _snapshot(
    session: Session, model: Any, row_id: int, columns: tuple[str, ...]
) -> dict[str, Any]:
    row = session.get(model, row_id)
    if row is None:
        raise EditError(f"{model.__tablename__} row {row_id} does not exist")
    return {column: getattr(row, column) for column in columns}


def _changes(event: dict[str, Any]) -> Changes:
    return Changes(
        event["layer_id"], ((event["trigger_start"], event["trigger_end"]),), events=True
    )


@dataclass
class AddEvent(Command):
    layer_id: int
    type: str
    start: int
    end: int
    origin: str = "manual"
    text: str = "add event"
    event_id: int | None = None

    def do(self, session: Session) -> Changes:
        check_range(session, self.layer_id, self.start, self.end)
        values: dict[str, Any] = {
            "layer_id": self.layer_id,
            "type": self.type,
            "trigger_start": self.start,
            "trigger_end": self.end,
            "attributes": {},
            "origin": self.origin,
            "state": "accepted",
        }
        if self.event_id is not None:
            values["id"] = self.event_id
        self.event_id = session.execute(
            insert(Event).values(values).returning(Event.id)
        ).scalar_one()
        touch(session, self.layer_id)
        return _changes(values)

    def undo(self, session: Session) -> Changes:
        session.execute(delete(Event).where(Event.id == self.event_id))
        touch(session, self.layer_id)
        return Changes(self.layer_id, ((self.start, self.end),), events=True)


@dataclass
class RemoveEvent(Command):
    event_id: int
    text: str = "remove event"
    _event: dict[str, Any] = field(default_factory=dict, repr=False)
    _arguments: list[dict[str, Any]] = field(default_factory=list, repr=False)

    def do(self, session: Session) -> Changes:
        self._event = _snapshot(session, Event, self.event_id, EVENT_COLUMNS)
        self._arguments = [
            {column: getattr(argument, column) for column in ARGUMENT_COLUMNS}
            for argument in session.scalars(
                select(EventArgument).where(EventArgument.event_id == self.event_id)
            )
        ]
        session.execute(delete(Event).where(Event.id == self.event_id))
        touch(session, self._event["layer_id"])
        return _changes(self._event)

    def undo(self, session: Session) -> Changes:
        session.execute(insert(Event).values(self._event))
        if self._arguments:
            session.execute(insert(EventArgument), self._arguments)
        touch(session, self._event["layer_id"])
        return _changes(self._event)


@dataclass
class _UpdateEvent(Command):
    event_id: int
    _before: dict[str, Any] = field(default_factory=dict, repr=False)

    def values(self) -> dict[str, Any]:
        raise NotImplementedError

    def do(self, session: Session) -> Changes:
        self._before = _snapshot(session, Event, self.event_id, EVENT_COLUMNS)
        return self._set(session, self.values())

    def undo(self, session: Session) -> Changes:
        return self._set(session, {key: self._before[key] for key in self.values()})

    def _set(self, session: Session, values: dict[str, Any]) -> Changes:
        session.execute(update(Event).where(Event.id == self.event_id).values(values))
        touch(session, self._before["layer_id"])
        return _changes(self._before)


@dataclass
class SetEventType(_UpdateEvent):
    type: str = ""
    text: str = "change event type"

    def values(self) -> dict[str, Any]:
        return {"type": self.type}


@dataclass
class SetEventState(_UpdateEvent):
    """Accept ("accepted") or reject ("rejected") a suggested event; the origin is kept."""

    state: str = "accepted"
    text: str = "review event suggestion"

    def values(self) -> dict[str, Any]:
        return {"state": self.state}


@dataclass
class AddArgument(Command):
    """Fill ``role`` of an event with an entity; the database refuses an entity of another layer."""

    event_id: int
    role: str
    entity_id: int
    origin: str = "manual"
    text: str = "add event argument"
    argument_id: int | None = None
    _event: dict[str, Any] = field(default_factory=dict, repr=False)

    def do(self, session: Session) -> Changes:
        self._event = _snapshot(session, Event, self.event_id, EVENT_COLUMNS)
        values: dict[str, Any] = {
            "event_id": self.event_id,
            "layer_id": self._event["layer_id"],
            "role": self.role,
            "entity_id": self.entity_id,
            "origin": self.origin,
        }
        if self.argument_id is not None:
            values["id"] = self.argument_id
        try:
            with session.begin_nested():
                self.argument_id = session.execute(
                    insert(EventArgument).values(values).returning(EventArgument.id)
                ).scalar_one()
        except IntegrityError as error:
            raise EditError(
                f"entity {self.entity_id} cannot fill '{self.role}': it is not an entity of the "
                "event's layer, or it already fills that role"
            ) from error
        touch(session, self._event["layer_id"])
        return _changes(self._event)

    def undo(self, session: Session) -> Changes:
        session.execute(delete(EventArgument).where(EventArgument.id == self.argument_id))
        touch(session, self._event["layer_id"])
        return _changes(self._event)


@dataclass
class RemoveArgument(Command):
    argument_id: int
    text: str = "remove event argument"
    _argument: dict[str, Any] = field(default_factory=dict, repr=False)

    def do(self, session: Session) -> Changes:
        self._argument = _snapshot(session, EventArgument, self.argument_id, ARGUMENT_COLUMNS)
        session.execute(delete(EventArgument).where(EventArgument.id == self.argument_id))
        touch(session, self._argument["layer_id"])
        return Changes(self._argument["layer_id"], events=True)

    def undo(self, session: Session) -> Changes:
        session.execute(insert(EventArgument).values(self._argument))
        touch(session, self._argument["layer_id"])
        return Changes(self._argument["layer_id"], events=True)
