"""Layers: one annotator's work on one document; opening (with seeding) and reading them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, and_, bindparam, insert, or_, select, update
from sqlalchemy.orm import Session

from models.access import check_access, refusal
from models.bulk import insert_ids
from models.db import ReadOnlyError
from models.schema import Annotator, Entity, Event, EventArgument, Layer, utcnow
from models.store import Store


@dataclass(frozen=True, slots=True)
class LayerInfo:
    id: int
    document_id: int
    annotator_id: int
    status: str
    seconds: float
    version: int


@dataclass(frozen=True, slots=True)
class EntitySpan:
    id: int
    start: int
    end: int
    label: str
    origin: str
    score: float | None = None


def _info(layer: Layer) -> LayerInfo:
    return LayerInfo(
        layer.id, layer.document_id, layer.annotator_id, layer.status, layer.seconds, layer.version
    )


def find_layer(store: Store, document_id: int, annotator_id: int) -> LayerInfo | None:
    with store.connected() as connection:
        found = connection.execute(_LAYER, {"document": document_id, "annotator": annotator_id})
        row = found.first()
        return LayerInfo(*row) if row else None


# built once: the statement of every layer shown (no statement to build and key each time)
_LAYER = select(
    Layer.id, Layer.document_id, Layer.annotator_id, Layer.status, Layer.seconds, Layer.version
).where(Layer.document_id == bindparam("document"), Layer.annotator_id == bindparam("annotator"))


def _get(session: Session, document_id: int, annotator_id: int) -> Layer | None:
    return session.scalar(
        select(Layer).where(Layer.document_id == document_id, Layer.annotator_id == annotator_id)
    )


def model_annotator_id(store: Store, project_model: str) -> int | None:
    with store.reading() as session:
        return session.scalar(select(Annotator.id).where(Annotator.name == project_model))


def open_layer(
    store: Store, document_id: int, annotator_id: int, model_id: int | None, *, create: bool = False
) -> LayerInfo | None:
    """The annotator's layer of the document, seeded from the model's layer when first opened.

    Without a model layer yet (pre-annotation still running) nothing is created unless
    ``create`` is set (the first edit), so the seeding can still happen later. Read-only, or
    signed in (team mode) as another annotator than the layer's (gold: not a reviewer),
    nothing is created: ``create`` raises ``ReadOnlyError`` or ``access.AccessError``.
    """
    with store.transaction() as session:
        layer = _get(session, document_id, annotator_id)
        if layer is not None:
            return _info(layer)
        model_layer = _get(session, document_id, model_id) if model_id is not None else None
        if model_layer is None and not create:
            return None
        if store.read_only:  # shows what exists, creates nothing
            if create:
                raise ReadOnlyError(f"{store.url} is open read-only: nothing can be changed")
            return None
        if store.identity is not None:
            refused = refusal(session, store.identity, annotator_id, document_id)
            if refused is not None:
                if create:
                    raise refused
                return None
        layer = Layer(document_id=document_id, annotator_id=annotator_id, status="in_progress")
        session.add(layer)
        session.flush()
        if model_layer is not None:
            _copy_layer(session, model_layer.id, layer.id)
        return _info(layer)


def _copy_layer(session: Session, source_id: int, target_id: int) -> None:
    """Copy entities (keeping their origin) and events (as suggestions) of a layer, each
    table in one multi-row insert."""
    sources = session.execute(
        select(Entity.id, Entity.start, Entity.end, Entity.label, Entity.origin, Entity.score)
        .where(Entity.layer_id == source_id)
        .order_by(Entity.id)
    ).all()
    copies = [
        {"layer_id": target_id, "start": s, "end": e, "label": label, "origin": o, "score": score}
        for _id, s, e, label, o, score in sources
    ]
    entity_ids = _insert(session, Entity, [row.id for row in sources], copies)
    events = session.scalars(
        select(Event).where(Event.layer_id == source_id).order_by(Event.id)
    ).all()
    new_events = [
        {
            "layer_id": target_id,
            "type": event.type,
            "trigger_start": event.trigger_start,
            "trigger_end": event.trigger_end,
            "attributes": dict(event.attributes),
            "origin": event.origin,
            "state": "suggested" if event.origin == "model" else event.state,
        }
        for event in events
    ]
    event_ids = _insert(session, Event, [event.id for event in events], new_events)
    arguments = session.scalars(
        select(EventArgument).where(EventArgument.layer_id == source_id)
    ).all()
    rows = [
        {
            "event_id": event_ids[argument.event_id],
            "layer_id": target_id,
            "role": argument.role,
            "entity_id": entity_ids[argument.entity_id],
            "origin": argument.origin,
        }
        for argument in arguments
    ]
    if rows:
        session.execute(insert(EventArgument), rows)


def _insert(
    session: Session,
    table: type[Entity] | type[Event],
    source_ids: list[int],
    rows: list[dict[str, Any]],
) -> dict[int, int]:
    """Insert the copies ``rows`` of the rows ``source_ids``: new id of each source id."""
    if not rows:
        return {}
    return dict(zip(source_ids, insert_ids(session, table, rows), strict=True))


def entities(
    store: Store, layer_id: int, within: tuple[tuple[int, int], ...] = ()
) -> list[EntitySpan]:
    """The layer's entities in text order; with ``within``, only those overlapping one of
    those [start, end) ranges (what an edit changed)."""
    query = _ENTITIES
    if within:
        query = query.where(or_(*(_overlapping(start, end) for start, end in within)))
    with store.connected() as connection:
        return [EntitySpan(*row) for row in connection.execute(query, {"layer": layer_id})]


# built once: the statement of every layer shown (no statement to build and key each time)
_ENTITIES = (
    select(Entity.id, Entity.start, Entity.end, Entity.label, Entity.origin, Entity.score)
    .where(Entity.layer_id == bindparam("layer"))
    .order_by(Entity.start, Entity.end)
)


def _overlapping(start: int, end: int) -> ColumnElement[bool]:
    """Entities that share at least one character with [start, end)."""
    return and_(Entity.start < end, Entity.end > start)


def add_time(store: Store, layer_id: int, seconds: float) -> None:
    """Add time spent on the document to its layer (committed at once); signed in (team
    mode), only to a layer the session may change (``access.AccessError`` otherwise)."""
    if seconds <= 0:
        return
    with store.transaction() as session:
        if store.identity is not None:
            check_access(session, store.identity, layer_id)
        session.execute(
            update(Layer).where(Layer.id == layer_id).values(seconds=Layer.seconds + seconds)
        )


def touch(session: Session, *layer_ids: int) -> None:
    """Mark the layers changed: new version and time stamp (optimistic locking, sync)."""
    session.execute(
        update(Layer)
        .where(Layer.id.in_(layer_ids))
        .values(version=Layer.version + 1, updated_at=utcnow())
    )
