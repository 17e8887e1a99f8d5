"""A layer as a plain record and back: what export reads and import writes (no Qt).

``layer_record`` reads one document with one layer's annotations (``layer_records`` a page
of them in six queries); ``write_layer`` replaces a layer's annotations with a record's in
bulk; ``record_problems`` is the validator run on every record before anything is written
(offsets, characters, schema, event arguments).
Only accepted events are exported: suggestions and rejected events are not annotations yet.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from models.labels import LabelSchema
from models.layers import touch
from models.records import ArgumentRecord, DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.schema import (
    LAYER_STATUSES,
    Annotator,
    DocLabel,
    Document,
    Entity,
    Event,
    EventArgument,
    Layer,
)
from models.stance import TASK as STANCE_TASK

# characters that continue the previous one: a span must not start on one or end before one
_JOINERS = {"\u200c", "\u200d"}


def layer_record(session: Session, document_id: int, layer_id: int | None) -> DocumentRecord:
    """The document with the layer's annotations (none when ``layer_id`` is None)."""
    return layer_records(session, [(document_id, layer_id)])[0]


def layer_records(
    session: Session, pairs: Sequence[tuple[int, int | None]]
) -> list[DocumentRecord]:
    """``layer_record`` for a page of (document id, layer id or None) pairs, in their order,
    with a fixed number of queries (six) whatever the page size."""
    documents = {
        row.id: row
        for row in session.execute(
            select(
                Document.id, Document.text, Document.title, Document.meta, Document.external_id
            ).where(Document.id.in_({document_id for document_id, _ in pairs}))
        )
    }
    layer_ids = {layer_id for _, layer_id in pairs if layer_id is not None}
    layers = {
        layer_id: (name, status)
        for layer_id, name, status in session.execute(
            select(Layer.id, Annotator.name, Layer.status)
            .join(Annotator, Annotator.id == Layer.annotator_id)
            .where(Layer.id.in_(layer_ids))
        )
    }
    spans: dict[int, list[SpanRecord]] = {}
    for layer_id, start, end, label in session.execute(
        select(Entity.layer_id, Entity.start, Entity.end, Entity.label)
        .where(Entity.layer_id.in_(layer_ids))
        .order_by(Entity.layer_id, Entity.start, Entity.end, Entity.label)
    ):
        spans.setdefault(layer_id, []).append(SpanRecord(start, end, label))
    stances: dict[int, list[StanceRecord]] = {}
    for layer_id, target, value, evidence in session.execute(
        select(DocLabel.layer_id, DocLabel.target, DocLabel.value, DocLabel.evidence)
        .where(DocLabel.layer_id.in_(layer_ids), DocLabel.task == STANCE_TASK)
        .order_by(DocLabel.layer_id, DocLabel.target)
    ):
        found = tuple((int(s), int(e)) for s, e in evidence or ())
        stances.setdefault(layer_id, []).append(StanceRecord(target, value, found))
    events = _events(session, layer_ids)
    records = []
    for document_id, owner in pairs:
        document = documents[document_id]
        record = DocumentRecord(
            text=document.text,
            title=document.title,
            meta=dict(document.meta or {}),
            external_id=document.external_id,
        )
        if owner is not None:
            record.annotator, record.status = layers[owner]
            record.spans = spans.get(owner, [])
            record.stance = stances.get(owner, [])
            record.events = events.get(owner, [])
        records.append(record)
    return records


def _events(session: Session, layer_ids: set[int]) -> dict[int, list[EventRecord]]:
    arguments: dict[int, list[ArgumentRecord]] = {}
    for event_id, role, start, end in session.execute(
        select(EventArgument.event_id, EventArgument.role, Entity.start, Entity.end)
        .join(Entity, Entity.id == EventArgument.entity_id)
        .where(EventArgument.layer_id.in_(layer_ids))
    ):
        arguments.setdefault(event_id, []).append(ArgumentRecord(role, start, end))
    rows = session.execute(
        select(Event.layer_id, Event.id, Event.type, Event.trigger_start, Event.trigger_end)
        .where(Event.layer_id.in_(layer_ids), Event.state == "accepted")
        .order_by(Event.layer_id, Event.trigger_start, Event.trigger_end, Event.type, Event.id)
    )
    events: dict[int, list[EventRecord]] = {}
    for layer_id, event_id, kind, start, end in rows:
        args = tuple(sorted(arguments.get(event_id, []), key=_arg_key))
        events.setdefault(layer_id, []).append(EventRecord(kind, (start, end), args))
    return events


def _arg_key(argument: ArgumentRecord) -> tuple[str, int, int]:
    return argument.role, argument.start, argument.end


def write_layer(
    session: Session, layer_id: int, record: DocumentRecord, origin: str = "import"
) -> None:
    """Replace the layer's entities, stance and events with the record's (validated first:
    every event argument matches a span of the record by offsets)."""
    session.execute(delete(EventArgument).where(EventArgument.layer_id == layer_id))
    session.execute(delete(Event).where(Event.layer_id == layer_id))
    session.execute(delete(Entity).where(Entity.layer_id == layer_id))
    session.execute(
        delete(DocLabel).where(DocLabel.layer_id == layer_id, DocLabel.task == STANCE_TASK)
    )
    entity_ids: dict[tuple[int, int, int], int] = {}
    if record.spans:
        rows = [
            {
                "layer_id": layer_id,
                "start": s.start,
                "end": s.end,
                "label": s.label,
                "origin": origin,
            }
            for s in record.spans
        ]
        ids = insert_ids(session, Entity, rows)
        for span, entity_id in zip(record.spans, ids, strict=True):
            entity_ids.setdefault((layer_id, span.start, span.end), entity_id)
    if record.stance:
        session.execute(
            insert(DocLabel),
            [
                {
                    "layer_id": layer_id,
                    "task": STANCE_TASK,
                    "target": s.target,
                    "value": s.value,
                    "evidence": [list(span) for span in s.evidence],
                    "origin": origin,
                }
                for s in record.stance
            ],
        )
    if record.events:
        write_events(session, [(layer_id, e) for e in record.events], entity_ids, origin=origin)
    if record.status is not None:
        session.execute(update(Layer).where(Layer.id == layer_id).values(status=record.status))
    touch(session, layer_id)


def write_events(
    session: Session,
    events: Sequence[tuple[int, EventRecord]],
    entity_ids: Mapping[tuple[int, int, int], int],
    *,
    origin: str,
    state: str = "accepted",
) -> None:
    """Insert ``events``, (layer id, event) each, in bulk; their arguments point at the
    entities of ``entity_ids`` (by layer id, start, end), a repeated argument written once."""
    rows = [
        {
            "layer_id": layer_id,
            "type": event.type,
            "trigger_start": event.trigger[0],
            "trigger_end": event.trigger[1],
            "attributes": {},
            "origin": origin,
            "state": state,
        }
        for layer_id, event in events
    ]
    arguments = [
        {
            "event_id": event_id,
            "layer_id": layer_id,
            "role": argument.role,
            "entity_id": entity_ids[(layer_id, argument.start, argument.end)],
            "origin": origin,
        }
        for (layer_id, event), event_id in zip(
            events, insert_ids(session, Event, rows), strict=True
        )
        for argument in dict.fromkeys(event.args)
    ]
    if arguments:
        session.execute(insert(EventArgument), arguments)


def insert_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in bulk; their new ids, in order."""
    if not rows:
        return []
    returning = insert(table).returning(table.id, sort_by_parameter_order=True)
    return list(session.scalars(returning, rows).all())


def record_problems(record: DocumentRecord, schema: LabelSchema, *, new_labels: bool) -> list[str]:
    """Why the record cannot be imported into a project of ``schema`` (empty: it can).

    With ``new_labels`` an unknown entity label is not a problem (the caller adds it).
    """
    text = record.text
    problems = []
    surrogate = next((i for i, char in enumerate(text) if "\ud800" <= char <= "\udfff"), None)
    if surrogate is not None:
        return [f"the text holds an unpaired surrogate at offset {surrogate}"]
    if not text.strip():
        problems.append("the text is empty")
    if record.status is not None and record.status not in LAYER_STATUSES:
        problems.append(f"unknown status '{record.status}' (one of {', '.join(LAYER_STATUSES)})")
    entity_labels = set(schema.entity_ids)
    for span in record.spans:
        problems += _range_problems(text, span.start, span.end, f"span {span.label}")
        if span.label not in entity_labels and not new_labels:
            problems.append(f"unknown entity label '{span.label}' (use --add-labels to add it)")
    problems += _stance_problems(record, schema)
    problems += _event_problems(record, schema)
    return problems


def _range_problems(text: str, start: int, end: int, what: str) -> list[str]:
    where = f"{what} [{start}, {end})"
    if not 0 <= start < end <= len(text):
        return [f"{where} is outside the text (length {len(text)}) or empty"]
    if _continues(text[start]) or (end < len(text) and _continues(text[end])):
        return [f"{where} cuts a character (a combining mark or joiner at its edge)"]
    return []


def _continues(char: str) -> bool:
    """True for a character that belongs to the one before it."""
    return (
        unicodedata.combining(char) != 0
        or unicodedata.category(char) in ("Mn", "Me")
        or char in _JOINERS
        or 0xFE00 <= ord(char) <= 0xFE0F  # variation selectors
        or 0x1F3FB <= ord(char) <= 0x1F3FF  # emoji skin tone modifiers
    )


def _stance_problems(record: DocumentRecord, schema: LabelSchema) -> list[str]:
    targets = {choice.id for choice in schema.stance_targets}
    values = {choice.id for choice in schema.stance_values}
    problems, seen = [], set()
    for stance in record.stance:
        if stance.target not in targets:
            problems.append(f"unknown stance target '{stance.target}'")
        if stance.value not in values:
            problems.append(f"unknown stance value '{stance.value}'")
        if stance.target in seen:
            problems.append(f"stance toward '{stance.target}' given twice")
        seen.add(stance.target)
        for start, end in stance.evidence:
            problems += _range_problems(record.text, start, end, f"evidence of {stance.target}")
    return problems


def _event_problems(record: DocumentRecord, schema: LabelSchema) -> list[str]:
    types = {event.id: event for event in schema.events}
    spans = {(span.start, span.end) for span in record.spans}
    problems = []
    for event in record.events:
        start, end = event.trigger
        problems += _range_problems(record.text, start, end, f"trigger of {event.type}")
        kind = types.get(event.type)
        if kind is None:
            problems.append(f"unknown event type '{event.type}'")
        for argument in event.args:
            if kind is not None and argument.role not in kind.roles:
                problems.append(f"event {event.type}: unknown role '{argument.role}'")
            if (argument.start, argument.end) not in spans:
                problems.append(
                    f"event {event.type}: argument {argument.role} "
                    f"[{argument.start}, {argument.end}) matches no entity of the document"
                )
    return problems
