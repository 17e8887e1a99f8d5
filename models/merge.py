"""Merging another database's layers of the same corpus into this one (no Qt).

Analysts work offline on their own SQLite file; ``merge`` brings their layers back,
annotator by annotator. Documents are matched by the sha256 of their text, annotators by
name. For each layer of the other database (human, model or gold), on a matched document:

- this database has no layer of that annotator there: the layer is copied whole (status,
  seconds, updated_at, version, entities with origin and score, document labels such as
  stance with evidence, events with state, attributes and arguments);
- both layers hold the same annotations and status: nothing is written, except the time
  spent, raised to the larger of the two;
- they differ and the other's ``updated_at`` is strictly later: the other's replaces this
  one (the local layer is older work), keeping the larger time spent;
- they differ and the local layer is as new or newer: a conflict, reported, nothing written.

A copied layer keeps the other's ``updated_at``, so a second run finds the same content
and changes nothing. A document of the other database that is not in this project (unless
``add_documents`` imports it), a layer whose labels are not in this project's schema, and
an annotator whose kind differs between the databases are reported by name, never dropped
silently.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from models import db
from models.bulk import insert_ids
from models.jobs import Job
from models.labels import LabelSchema
from models.records import DocumentRecord, Progress
from models.schema import (
    Annotator,
    DocLabel,
    Document,
    Entity,
    Event,
    EventArgument,
    Layer,
    Project,
)
from models.stance import TASK as STANCE_TASK
from models.store import ProjectInfo, Store

PAGE = 100  # documents of the other database read and merged per transaction

# the columns that make a row's content (ids and layer aside), per table
ENTITY = ("start", "end", "label", "origin", "score")
LABEL = ("task", "target", "value", "evidence", "origin")
EVENT = ("type", "trigger_start", "trigger_end", "attributes", "origin", "state")
ARGUMENT = ("event_id", "entity_id", "role", "origin")


class MergeError(db.DatabaseError):
    """The other database cannot be merged (missing, the same, no matching project)."""


@dataclass(frozen=True, slots=True)
class LayerCopy:
    """One layer with all it holds, comparable across databases: each entity, document
    label and event is its content as canonical JSON, sorted; an event holds its arguments
    as ``args``: [role, index of the entity in ``entities``, origin], sorted.
    """

    id: int
    annotator: str
    kind: str
    status: str
    seconds: float
    updated_at: datetime
    version: int
    entities: tuple[str, ...]
    labels: tuple[str, ...]
    events: tuple[str, ...]

    @property
    def content(self) -> tuple[Any, ...]:
        return self.status, self.entities, self.labels, self.events


@dataclass
class MergeReport:
    source: str
    documents: int = 0  # documents of the other project read
    documents_added: int = 0
    added: int = 0  # layers new here
    replaced: int = 0  # older local layers replaced by the other's
    times: int = 0  # identical layers whose time spent was raised
    unchanged: int = 0
    conflicts: list[str] = field(default_factory=list)
    unknown_documents: list[str] = field(default_factory=list)
    unknown_labels: dict[str, list[str]] = field(default_factory=dict)  # label → layers

    @property
    def changes(self) -> int:
        return self.documents_added + self.added + self.replaced + self.times

    @property
    def unplaced(self) -> list[str]:
        """Everything that could not be merged, one line each."""
        labels = [
            f"{label} is not in this project's schema: {len(layers)} layer(s) not merged "
            f"({'; '.join(layers)})"
            for label, layers in sorted(self.unknown_labels.items())
        ]
        documents = [f"{name}: not in this project" for name in self.unknown_documents]
        return documents + labels + self.conflicts

    def summary(self) -> str:
        return (
            f"{self.documents} document(s) read from {self.source}: {self.added} layer(s) "
            f"added, {self.replaced} replaced, {self.times} with more time, {self.unchanged} "
            f"unchanged, {self.documents_added} document(s) added, {len(self.conflicts)} "
            f"conflict(s), {len(self.unknown_documents)} unknown document(s), "
            f"{len(self.unknown_labels)} unknown label(s)"
        )


def merge_file(
    store: Store,
    project: ProjectInfo,
    source: str,
    *,
    other_project: str | None = None,
    add_documents: bool = False,
) -> Job[MergeReport]:
    """``merge`` from the database at ``source`` (a SQLite file or URL), opened for the
    job (an older schema is upgraded first, with a backup copy, as Glose does on open)."""
    url = db.resolve_db(source)
    if db.is_sqlite(url) and not Path(url.database or "").is_file():
        raise MergeError(f"{source}: no such database file")
    if url.render_as_string() == store.engine.url.render_as_string():
        raise MergeError(f"{source}: this is the open database itself")
    other = Store.open(source)
    try:
        return (
            yield from merge(
                store, project, other, other_project=other_project, add_documents=add_documents
            )
        )
    finally:
        other.close()


def merge(
    store: Store,
    project: ProjectInfo,
    other: Store,
    *,
    other_project: str | None = None,
    add_documents: bool = False,
) -> Job[MergeReport]:
    """Bring the layers of ``other``'s project (``other_project``, else the one of the same
    name, else its only project) into ``project``; yields progress, returns the report."""
    project = store.project(project.name) or project
    source = _source_project(other, other_project or project.name, other_project is None)
    report = MergeReport(other.url)
    annotators: dict[str, tuple[int, str]] = {}  # name → (id here, kind here)
    with other.reading() as session:
        total = session.scalar(
            select(func.count(Document.id)).where(Document.project_id == source.id)
        )
    yield Progress(0, total, "merging")
    after = -1
    while True:
        with other.reading() as session:
            page = session.execute(
                select(Document.id, Document.sha256, Document.title, Document.position)
                .where(Document.project_id == source.id, Document.position > after)
                .order_by(Document.position)
                .limit(PAGE)
            ).all()
            if not page:
                return report
            after = page[-1].position
            theirs = _read_layers(session, [row.id for row in page])
        places = _place_documents(store, project.id, other, page, add_documents, report)
        with store.transaction() as session:
            _merge_page(session, project.schema, page, places, theirs, annotators, report)
        report.documents += len(page)
        yield Progress(report.documents, total, "merging")


def _source_project(other: Store, name: str, fallback: bool) -> ProjectInfo:
    """The project ``name`` of the other database, else (``fallback``) its only project."""
    found = other.project(name)
    with other.reading() as session:
        names = list(session.scalars(select(Project.name).order_by(Project.id)))
    if found is None and fallback and len(names) == 1:
        found = other.project(names[0])
    if found is None:
        listed = ", ".join(names) or "none"
        raise MergeError(f"{other.url}: no project '{name}' (its projects: {listed})")
    return found


def _place_documents(
    store: Store,
    project_id: int,
    other: Store,
    page: Iterable[Any],
    add_documents: bool,
    report: MergeReport,
) -> dict[int, int]:
    """The local document id of each document of the page found here (or added)."""
    rows = list(page)
    with store.reading() as session:
        found = session.execute(
            select(Document.sha256, Document.id).where(
                Document.project_id == project_id,
                Document.sha256.in_([row.sha256 for row in rows]),
            )
        )
        local = {digest: document_id for digest, document_id in found}
    missing = [row for row in rows if row.sha256 not in local]
    if missing and add_documents:
        with other.reading() as session:
            documents = session.scalars(
                select(Document).where(Document.id.in_([row.id for row in missing]))
            ).all()
            records = [
                DocumentRecord(d.text, d.title, dict(d.meta or {}), external_id=d.external_id)
                for d in documents
            ]
        new_ids = store.add_documents(project_id, records)
        for document, new_id in zip(documents, new_ids, strict=True):
            if new_id is not None:
                local[document.sha256] = new_id
                report.documents_added += 1
    for row in rows:
        if row.sha256 not in local:
            report.unknown_documents.append(f"document '{row.title}' (sha256 {row.sha256[:12]})")
    return {row.id: local[row.sha256] for row in rows if row.sha256 in local}


def _merge_page(
    session: Session,
    schema: LabelSchema,
    page: Iterable[Any],
    places: dict[int, int],
    theirs: dict[int, list[LayerCopy]],
    annotators: dict[str, tuple[int, str]],
    report: MergeReport,
) -> None:
    """Apply the merge rule to every layer of the page's documents found here."""
    ours = _read_layers(session, list(places.values()))
    for row in page:
        document_id = places.get(row.id)
        if document_id is None:
            continue
        local = {layer.annotator: layer for layer in ours.get(document_id, [])}
        for layer in theirs.get(row.id, []):
            where = f"document '{row.title}' / {layer.annotator}"
            annotator_id = _annotator(session, layer, annotators, report)
            unknown = _unknown_labels(layer, schema)
            for label in unknown:
                report.unknown_labels.setdefault(label, []).append(where)
            mine = local.get(layer.annotator)
            if annotator_id is None or unknown:
                continue
            if mine is None or (
                mine.content != layer.content and layer.updated_at > mine.updated_at
            ):
                _write(session, document_id, annotator_id, layer, mine)
                report.added += mine is None
                report.replaced += mine is not None
            elif mine.content != layer.content:
                report.conflicts.append(
                    f"{where}: differs, and the layer here ({_when(mine)}) is as new as or "
                    f"newer than the other's ({_when(layer)}): kept"
                )
            elif layer.seconds > mine.seconds:
                session.execute(
                    update(Layer).where(Layer.id == mine.id).values(seconds=layer.seconds)
                )
                report.times += 1
            else:
                report.unchanged += 1


def _when(layer: LayerCopy) -> str:
    return f"{layer.updated_at:%Y-%m-%d %H:%M:%S} UTC, version {layer.version}"


def _annotator(
    session: Session, layer: LayerCopy, known: dict[str, tuple[int, str]], report: MergeReport
) -> int | None:
    """This database's id of the layer's annotator (created if new); None when the name
    is an annotator of another kind here (reported once)."""
    if layer.annotator not in known:
        row = session.execute(
            select(Annotator.id, Annotator.kind).where(Annotator.name == layer.annotator)
        ).first()
        if row is None:
            values = {"name": layer.annotator, "kind": layer.kind}
            new_id = session.execute(insert(Annotator).values(values).returning(Annotator.id))
            known[layer.annotator] = (new_id.scalar_one(), layer.kind)
        else:
            known[layer.annotator] = (row.id, row.kind)
        kind = known[layer.annotator][1]
        if kind != layer.kind:
            report.conflicts.append(
                f"annotator {layer.annotator} is a {kind} here and a {layer.kind} in "
                f"{report.source}: none of its layers merged"
            )
    annotator_id, kind = known[layer.annotator]
    return annotator_id if kind == layer.kind else None


def _unknown_labels(layer: LayerCopy, schema: LabelSchema) -> list[str]:
    """Labels of the layer that this project's schema does not know, by kind and name."""
    targets = {choice.id for choice in schema.stance_targets}
    values = {choice.id for choice in schema.stance_values}
    roles = {kind.id: set(kind.roles) for kind in schema.events}
    unknown = []
    for entity in map(json.loads, layer.entities):
        if schema.entity(entity["label"]) is None:
            unknown.append(f"entity label {entity['label']}")
    for label in map(json.loads, layer.labels):
        if label["task"] == STANCE_TASK and label["target"] not in targets:
            unknown.append(f"stance target {label['target']}")
        if label["task"] == STANCE_TASK and label["value"] not in values:
            unknown.append(f"stance value {label['value']}")
    for event in map(json.loads, layer.events):
        if event["type"] not in roles:
            unknown.append(f"event type {event['type']}")
            continue
        unknown += [
            f"role {role} of {event['type']}"
            for role, _entity, _origin in event["args"]
            if role not in roles[event["type"]]
        ]
    return list(dict.fromkeys(unknown))


def _read_layers(session: Session, document_ids: list[int]) -> dict[int, list[LayerCopy]]:
    """Every layer of the documents, by document id, in five queries."""
    layers = session.execute(
        select(Layer.id, Layer.document_id, Annotator.name, Annotator.kind, Layer.status)
        .add_columns(Layer.seconds, Layer.updated_at, Layer.version)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Layer.document_id.in_(document_ids))
    ).all()
    entities = _rows(session, Entity, ENTITY, document_ids)
    labels = _rows(session, DocLabel, LABEL, document_ids)
    events = _rows(session, Event, EVENT, document_ids)
    arguments: dict[int, list[dict[str, Any]]] = {}
    for rows in _rows(session, EventArgument, ARGUMENT, document_ids).values():
        for _id, argument in rows:
            arguments.setdefault(argument["event_id"], []).append(argument)
    found: dict[int, list[LayerCopy]] = {}
    for layer_id, document_id, name, kind, status, seconds, updated_at, version in layers:
        ordered = sorted((_canonical(row), id_) for id_, row in entities.get(layer_id, []))
        index = {id_: i for i, (_row, id_) in enumerate(ordered)}
        layer_events = []
        for event_id, event in events.get(layer_id, []):
            args = arguments.get(event_id, [])
            event["args"] = sorted([a["role"], index[a["entity_id"]], a["origin"]] for a in args)
            layer_events.append(_canonical(event))
        copy = LayerCopy(
            layer_id,
            name,
            kind,
            status,
            float(seconds),
            _utc(updated_at),
            version,
            tuple(row for row, _id in ordered),
            tuple(sorted(_canonical(row) for _id, row in labels.get(layer_id, []))),
            tuple(sorted(layer_events)),
        )
        found.setdefault(document_id, []).append(copy)
    return found


def _rows(
    session: Session, table: Any, columns: tuple[str, ...], document_ids: list[int]
) -> dict[int, list[tuple[int, dict[str, Any]]]]:
    """(id, content) of the table's rows in the documents' layers, by layer id."""
    query = (
        select(table.layer_id, table.id, *(getattr(table, column) for column in columns))
        .join(Layer, Layer.id == table.layer_id)
        .where(Layer.document_id.in_(document_ids))
    )
    rows: dict[int, list[tuple[int, dict[str, Any]]]] = {}
    for layer_id, row_id, *values in session.execute(query):
        rows.setdefault(layer_id, []).append((row_id, dict(zip(columns, values, strict=True))))
    return rows


def _canonical(row: dict[str, Any]) -> str:
    return json.dumps(row, sort_keys=True, ensure_ascii=False)


def _utc(moment: datetime) -> datetime:
    """SQLite gives back naive datetimes (stored as UTC); PostgreSQL aware ones."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _write(
    session: Session,
    document_id: int,
    annotator_id: int,
    layer: LayerCopy,
    replaced: LayerCopy | None,
) -> None:
    """Write the other's layer here: a new layer, or in place of ``replaced`` (keeping the
    larger time spent and a new version, so an open editor sees the change)."""
    values = {"status": layer.status, "updated_at": layer.updated_at}
    if replaced is None:
        values |= {"seconds": layer.seconds, "version": layer.version}
        layer_id = session.execute(
            insert(Layer)
            .values(document_id=document_id, annotator_id=annotator_id, **values)
            .returning(Layer.id)
        ).scalar_one()
    else:
        layer_id = replaced.id
        values |= {
            "seconds": max(layer.seconds, replaced.seconds),
            "version": max(layer.version, replaced.version + 1),
        }
        for table in (EventArgument, Event, Entity, DocLabel):
            session.execute(delete(table).where(table.layer_id == layer_id))
        session.execute(update(Layer).where(Layer.id == layer_id).values(**values))
    entity_ids = _insert(session, Entity, layer.entities, layer_id)
    _insert(session, DocLabel, layer.labels, layer_id)
    events = [json.loads(event) for event in layer.events]
    arguments = [event.pop("args") for event in events]
    event_ids = _insert(session, Event, map(_canonical, events), layer_id)
    rows = [
        {"layer_id": layer_id, "event_id": event_id, "role": role, "entity_id": entity_ids[i]}
        | {"origin": origin}
        for event_id, args in zip(event_ids, arguments, strict=True)
        for role, i, origin in args
    ]
    if rows:
        session.execute(insert(EventArgument), rows)


def _insert(session: Session, table: Any, rows: Iterable[str], layer_id: int) -> list[int]:
    """Insert canonical rows into the layer; their new ids, in order."""
    return insert_ids(session, table, [json.loads(row) | {"layer_id": layer_id} for row in rows])
