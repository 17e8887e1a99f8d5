"""A layer as a plain record and back: what export reads and import writes (no Qt).

``layer_record`` reads one document with one layer's annotations (``layer_records`` a page
of them in six queries); ``write_layers`` writes the records of many layers at once (new
layers created, existing ones replaced, as ``write_layer`` does for one), each table in one
bulk insert; ``record_problems`` is the validator run on every record before anything is
written (offsets, characters, schema, event arguments). The entities, by the hundred
thousand, go through the driver (``insert_many``, ``select_rows``): no work per row in
SQLAlchemy.
Only accepted events are exported: suggestions and rejected events are not annotations yet.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from functools import partial
from itertools import groupby
from operator import itemgetter

from sqlalchemy import delete, insert, select, update
from sqlalchemy.orm import Session

from models.bulk import insert_ids, insert_many, select_rows
from models.json_codec import loads
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
_FIRST_CONTINUING = "\u0300"  # no character before the combining marks continues another


def layer_record(session: Session, document_id: int, layer_id: int | None) -> DocumentRecord:
    """The document with the layer's annotations (none when ``layer_id`` is None)."""
    return layer_records(session, [(document_id, layer_id)])[0]


def layer_records(
    session: Session, pairs: Sequence[tuple[int, int | None]]
) -> list[DocumentRecord]:
    """``layer_record`` for a page of (document id, layer id or None) pairs, in their order,
    with a fixed number of queries (six) whatever the page size."""
    documents = {
        row[0]: row
        for row in select_rows(
            session,
            select(
                Document.id, Document.text, Document.title, Document.meta, Document.external_id
            ).where(Document.id.in_({document_id for document_id, _ in pairs})),
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
    rows = select_rows(
        session,
        select(Entity.layer_id, Entity.start, Entity.end, Entity.label)
        .where(Entity.layer_id.in_(layer_ids))
        .order_by(Entity.layer_id, Entity.start, Entity.end, Entity.label),
    )
    spans = {
        layer_id: list(map(_span, map(_after_layer, group)))
        for layer_id, group in groupby(rows, key=itemgetter(0))
    }
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
        _, text, title, meta, external_id = documents[document_id]
        record = DocumentRecord(
            text=text,
            title=title,
            meta=dict(loads(meta) if isinstance(meta, str | bytes) else meta or {}),
            external_id=external_id,
        )
        if owner is not None:
            record.annotator, record.status = layers[owner]
            record.spans = spans.get(owner, [])
            record.stance = stances.get(owner, [])
            record.events = events.get(owner, [])
        records.append(record)
    return records


_span = partial(tuple.__new__, SpanRecord)  # (start, end, label) → SpanRecord, in C
_after_layer = itemgetter(slice(1, None))


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
    fill_layers(session, {layer_id: record}, replace=True, origin=origin)


def existing_layers(
    session: Session, keys: Iterable[tuple[int, int]]
) -> dict[tuple[int, int], int]:
    """The ids of the layers that exist among (document id, annotator id) keys."""
    keys = set(keys)
    rows = session.execute(
        select(Layer.document_id, Layer.annotator_id, Layer.id).where(
            Layer.document_id.in_({document_id for document_id, _ in keys}),
            Layer.annotator_id.in_({annotator_id for _, annotator_id in keys}),
        )
    )
    return {(d, a): layer_id for d, a, layer_id in rows if (d, a) in keys}


def write_layers(
    session: Session,
    records: Mapping[tuple[int, int], DocumentRecord],
    origin: str = "import",
    found: Mapping[tuple[int, int], int] | None = None,
) -> list[int]:
    """Write each record as the layer of its (document id, annotator id), in bulk: a new
    layer takes the record's status (else in_progress); an existing one has its annotations
    replaced (``write_layer``). ``found``: the ``existing_layers`` of ``records`` when the
    caller has them. Returns the ids of the layers created."""
    if not records:
        return []
    if found is None:
        found = existing_layers(session, records)
    new = [key for key in records if key not in found]
    rows = [
        {"document_id": document_id, "annotator_id": annotator_id, "status": status}
        for document_id, annotator_id in new
        for status in [records[document_id, annotator_id].status or "in_progress"]
    ]
    replaced = {layer_id: records[key] for key, layer_id in found.items()}
    fill_layers(session, replaced, replace=True, origin=origin)
    created = {
        layer_id: records[key]
        for key, layer_id in zip(new, insert_ids(session, Layer, rows), strict=True)
    }
    fill_layers(session, created, replace=False, origin=origin)
    return list(created)


def fill_layers(
    session: Session, records: Mapping[int, DocumentRecord], *, replace: bool, origin: str
) -> None:
    """Insert the records' entities, stance and events into their layers (by layer id),
    each table in one bulk insert. With ``replace`` the layers' annotations are deleted
    first, and their status (when the record has one) and version updated."""
    if not records:
        return
    layer_ids = list(records)
    if replace:
        _clear(session, layer_ids)
    plain = [
        (layer_id, start, end, label, origin)
        for layer_id, record in records.items()
        if not record.events
        for start, end, label in record.spans
    ]
    insert_many(session, Entity, _ENTITY_COLUMNS, plain)
    entity_ids: dict[tuple[int, int, int], int] = {}
    with_events = [(layer_id, r) for layer_id, r in records.items() if r.events and r.spans]
    rows = [
        {"layer_id": layer_id, "start": start, "end": end, "label": label, "origin": origin}
        for layer_id, record in with_events
        for start, end, label in record.spans
    ]
    keys = [(layer_id, start, end) for layer_id, r in with_events for start, end, _ in r.spans]
    for key, entity_id in zip(keys, insert_ids(session, Entity, rows), strict=True):
        entity_ids.setdefault(key, entity_id)
    stance = [
        {
            "layer_id": layer_id,
            "task": STANCE_TASK,
            "target": s.target,
            "value": s.value,
            "evidence": [list(span) for span in s.evidence],
            "origin": origin,
        }
        for layer_id, record in records.items()
        for s in record.stance
    ]
    if stance:
        session.execute(insert(DocLabel), stance)
    events = [(layer_id, e) for layer_id, record in records.items() for e in record.events]
    if events:
        write_events(session, events, entity_ids, origin=origin)
    if replace:
        for status in LAYER_STATUSES:
            changed = [layer_id for layer_id, r in records.items() if r.status == status]
            if changed:
                session.execute(update(Layer).where(Layer.id.in_(changed)).values(status=status))
        touch(session, *layer_ids)


_ENTITY_COLUMNS = ("layer_id", "start", "end", "label", "origin")


def _clear(session: Session, layer_ids: list[int]) -> None:
    """Delete the layers' entities, events and stance."""
    session.execute(delete(EventArgument).where(EventArgument.layer_id.in_(layer_ids)))
    session.execute(delete(Event).where(Event.layer_id.in_(layer_ids)))
    session.execute(delete(Entity).where(Entity.layer_id.in_(layer_ids)))
    session.execute(
        delete(DocLabel).where(DocLabel.layer_id.in_(layer_ids), DocLabel.task == STANCE_TASK)
    )


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


def record_problems(record: DocumentRecord, schema: LabelSchema, *, new_labels: bool) -> list[str]:
    """Why the record cannot be imported into a project of ``schema`` (empty: it can).

    With ``new_labels`` an unknown entity label is not a problem (the caller adds it).
    """
    text = record.text
    problems = []
    try:
        text.encode("utf-8")  # a fifth of the time of a regular expression looking for them
    except UnicodeEncodeError as error:
        return [f"the text holds an unpaired surrogate at offset {error.start}"]
    if not text.strip():
        problems.append("the text is empty")
    if record.status is not None and record.status not in LAYER_STATUSES:
        problems.append(f"unknown status '{record.status}' (one of {', '.join(LAYER_STATUSES)})")
    entity_labels = set(schema.entity_ids)
    length = len(text)
    for start, end, label in record.spans:
        if not (
            0 <= start < end <= length
            and text[start] < _FIRST_CONTINUING
            and (end == length or text[end] < _FIRST_CONTINUING)
        ):  # the usual span is clearly fine: only the others are looked at closely
            problems += _range_problems(text, start, end, f"span {label}")
        if label not in entity_labels and not new_labels:
            problems.append(f"unknown entity label '{label}' (use --add-labels to add it)")
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
    if not record.stance:
        return []
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
    if not record.events:
        return []
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
