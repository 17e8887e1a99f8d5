"""Agreement over a project of the store: annotators chosen, documents streamed, job run.

Every annotator with a layer in the project takes part, the project's model annotator
included (its agreement with an analyst is the pre-annotation quality), gold too. With
``status="done"`` only finished layers count: any other layer is a missing value, as is
no layer at all. A document on which no chosen annotator has a counted layer is left out.
As in export, only accepted events count (suggestions are not annotations yet).

Documents are read a page at a time, each page with one query per kind of annotation
(entities, stance, events), so memory stays bounded by the page. The entities come as
columns: the database joins the page's layer ids, offsets and labels into three strings,
which numpy parses (a row per span would cost more than all the measures).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Row,
    Select,
    String,
    bindparam,
    cast,
    func,
    select,
)
from sqlalchemy.orm import Session

from models.agreement.chunks import IntArray
from models.agreement.corpus import CorpusAgreement, page_full
from models.agreement.page import Page, label_codes
from models.jobs import Job
from models.records import EventRecord, Progress, StanceRecord
from models.schema import Annotator, DocLabel, Document, Entity, Event, Layer
from models.stance import TASK as STANCE_TASK
from models.store import ProjectInfo, Store

STATUSES = ("done", "any")
PAGE = 200  # documents read at once
SEPARATOR = "\x1f"  # between the labels of a layer (the unit separator: in no label)
MODEL_ALIAS = "model"
KIND_ORDER = {"model": 0, "human": 1, "gold": 2}


class AgreementError(ValueError):
    """Agreement that cannot start (unknown annotator or status filter); nothing was read."""


@dataclass(frozen=True, slots=True)
class Participant:
    id: int
    name: str
    kind: str


def participants(
    store: Store, project: ProjectInfo, names: Sequence[str] = (), status: str = "done"
) -> list[Participant]:
    """The annotators compared: ``names`` in that order ("model" names the project's model
    annotator), else those with a counted layer in the project: the model first, then the
    humans by name, then gold."""
    _check_status(status)
    with store.reading() as session:
        if names:
            return [_named(session, project, name) for name in dict.fromkeys(names)]
        query = (
            select(Annotator.id, Annotator.name, Annotator.kind)
            .distinct()
            .join(Layer, Layer.annotator_id == Annotator.id)
            .join(Document, Document.id == Layer.document_id)
            .where(Document.project_id == project.id)
        )
        if status == "done":
            query = query.where(Layer.status == "done")
        found = [Participant(*row) for row in session.execute(query)]
    return sorted(found, key=lambda p: (KIND_ORDER.get(p.kind, 1), p.name))


def _named(session: Session, project: ProjectInfo, name: str) -> Participant:
    row = session.execute(
        select(Annotator.id, Annotator.name, Annotator.kind).where(Annotator.name == name)
    ).first()
    if row is None and name == MODEL_ALIAS:
        return _named(session, project, project.model_annotator)
    if row is None:
        known = ", ".join(session.scalars(select(Annotator.name).order_by(Annotator.name)))
        raise AgreementError(f"no annotator named '{name}' (annotators: {known or 'none'})")
    return Participant(*row)


def _check_status(status: str) -> None:
    if status not in STATUSES:
        raise AgreementError(f"unknown status filter '{status}' (done or any)")


def store_agreement(
    store: Store, project: ProjectInfo, names: Sequence[str] = (), status: str = "done"
) -> Job[dict[str, Any]]:
    """Every agreement measure of the project (``models.agreement.corpus``), as a job.

    The annotators and the status filter are checked at once (``AgreementError``); the
    result adds "project", "status" and "kinds" ({annotator: human, model or gold}).
    """
    chosen = participants(store, project, names, status)
    return _agreement(store, project, chosen, status)


def _agreement(
    store: Store, project: ProjectInfo, chosen: list[Participant], status: str
) -> Job[dict[str, Any]]:
    agreement = CorpusAgreement(
        [p.name for p in chosen],
        labels=project.schema.entity_ids,
        targets=[target.id for target in project.schema.stance_targets],
    )
    total = count_documents(store, project.id, chosen, status)
    for page in pages(store, project.id, chosen, status):
        agreement.add_page(page)
        yield Progress(agreement.documents, total, "agreement")
    header = {"project": project.name, "status": status, "kinds": {p.name: p.kind for p in chosen}}
    return header | agreement.result()


def _counted(chosen: Sequence[Participant], status: str) -> list[ColumnElement[bool]]:
    """The conditions on a layer that counts."""
    conditions: list[ColumnElement[bool]] = [Layer.annotator_id.in_([p.id for p in chosen])]
    return [*conditions, Layer.status == "done"] if status == "done" else conditions


def count_documents(
    store: Store, project_id: int, chosen: Sequence[Participant], status: str
) -> int:
    """How many documents have at least one counted layer."""
    query = (
        select(func.count(Layer.document_id.distinct()))
        .join(Document, Document.id == Layer.document_id)
        .where(Document.project_id == project_id, *_counted(chosen, status))
    )
    with store.reading() as session:
        return int(session.scalar(query) or 0)


def pages(
    store: Store, project_id: int, chosen: Sequence[Participant], status: str
) -> Iterator[Page]:
    """The documents with a counted layer, in corpus order, as pages whose annotator
    columns follow ``chosen``; read PAGE documents at a time (keyset paging on position)."""
    column = {p.id: index for index, p in enumerate(chosen)}
    queries = _Queries.of(project_id, chosen, status)
    after = -1
    while True:
        with store.reading() as session:
            connection = session.connection()
            documents = connection.execute(queries.documents, {"after": after}).all()
            if not documents:
                return
            read = [_page(connection, queries, part, column) for part in _parts(documents)]
        yield from read
        after = documents[-1].position


@dataclass(frozen=True, slots=True)
class _Queries:
    """The statements that read a page: the documents after position ``after``, then the
    counted layers, entities, stance and events of the documents at positions ``first``
    to ``last``."""

    documents: Select[int, int, str]
    layers: Select[int, int, int]
    entities: Select[str, str, str]
    stance: Select[int, str, str]
    events: Select[int, str, int, int]

    @classmethod
    def of(cls, project_id: int, chosen: Sequence[Participant], status: str) -> _Queries:
        counted = _counted(chosen, status)
        annotated = select(Layer.id).where(Layer.document_id == Document.id, *counted).exists()
        layers = [
            Document.project_id == project_id,
            Document.position.between(bindparam("first"), bindparam("last")),
            Layer.document_id == Document.id,
            *counted,
        ]
        key = cast(Entity.start, BigInteger) * (1 << 32) + Entity.end
        return cls(
            select(Document.id, Document.position, Document.text)
            .where(Document.project_id == project_id, Document.position > bindparam("after"))
            .where(annotated)
            .order_by(Document.position)
            .limit(PAGE),
            select(Layer.document_id, Layer.id, Layer.annotator_id).where(*layers),
            # aggregates of one select take the rows in the same order: their items line up
            select(
                func.aggregate_strings(cast(Entity.layer_id, String), ","),
                func.aggregate_strings(cast(key, String), ","),
                func.aggregate_strings(Entity.label, SEPARATOR),
            ).where(Entity.layer_id == Layer.id, *layers),
            select(DocLabel.layer_id, DocLabel.target, DocLabel.value)
            .where(DocLabel.layer_id == Layer.id, DocLabel.task == STANCE_TASK, *layers)
            .order_by(DocLabel.layer_id, DocLabel.target),
            select(Event.layer_id, Event.type, Event.trigger_start, Event.trigger_end)
            .where(Event.layer_id == Layer.id, Event.state == "accepted", *layers)
            .order_by(Event.layer_id, Event.trigger_start, Event.trigger_end, Event.type),
        )


def _parts(documents: Sequence[Row[int, int, str]]) -> Iterator[Sequence[Row[int, int, str]]]:
    """The documents cut into pages (``page_full``)."""
    start, characters = 0, 0
    for end, document in enumerate(documents, 1):
        characters += len(document.text)
        if page_full(end - start, characters) or end == len(documents):
            yield documents[start:end]
            start, characters = end, 0


def _page(
    connection: Connection,
    queries: _Queries,
    documents: Sequence[Row[int, int, str]],
    column: dict[int, int],
) -> Page:
    """The page of ``documents`` (consecutive in corpus order)."""
    bounds = {"first": documents[0].position, "last": documents[-1].position}
    row = {document.id: index for index, document in enumerate(documents)}
    present = np.zeros((len(documents), len(column)), dtype=bool)
    where: dict[int, tuple[int, int]] = {}  # layer id → (document row, annotator column)
    for document_id, layer_id, annotator_id in connection.execute(queries.layers, bounds).all():
        where[layer_id] = (row[document_id], column[annotator_id])
        present[where[layer_id]] = True
    spans = _spans(*connection.execute(queries.entities, bounds).one(), where)
    stance: list[dict[int, list[StanceRecord]]] = [{} for _ in documents]
    for layer_id, target, value in connection.execute(queries.stance, bounds):
        document, annotator = where[layer_id]
        stance[document].setdefault(annotator, []).append(StanceRecord(target, value))
    events: list[dict[int, list[EventRecord]]] = [{} for _ in documents]
    for layer_id, kind, start, end in connection.execute(queries.events, bounds):
        document, annotator = where[layer_id]
        events[document].setdefault(annotator, []).append(EventRecord(kind, (start, end)))
    return Page([d.text for d in documents], present, *spans, stance, events)


def _spans(
    layer_ids: str | None, keys: str | None, labels: str | None, where: dict[int, tuple[int, int]]
) -> tuple[list[str], IntArray, IntArray, IntArray, IntArray, IntArray]:
    """Labels, then the span columns (document, annotator, start, end, label code), from
    the entities' layer ids, offsets (packed as start·2³² + end) and labels, joined."""
    span_layers, span_keys = _integers(layer_ids), _integers(keys)
    names = labels.split(SEPARATOR) if labels is not None else []
    if not len(span_layers) == len(span_keys) == len(names):
        raise ValueError(f"an entity label holds the separator {SEPARATOR!r}")
    ids = np.array(list(where), dtype=np.int64)
    order = np.argsort(ids)
    place = np.array(list(where.values()), dtype=np.int64).reshape(-1, 2)[order]
    span_place = place[np.searchsorted(ids[order], span_layers)]
    distinct, codes = label_codes(names)
    return (
        distinct,
        span_place[:, 0],
        span_place[:, 1],
        span_keys >> 32,
        span_keys & 0xFFFFFFFF,
        codes,
    )


def _integers(joined: str | None) -> IntArray:
    """The integers of a comma-separated string (None: none)."""
    return np.fromstring(joined or "", dtype=np.int64, sep=",")
