"""Agreement over a project of the store: annotators chosen, documents streamed, job run.

Every annotator with a layer in the project takes part, the project's model annotator
included (its agreement with an analyst is the pre-annotation quality), gold too. With
``status="done"`` only finished layers count: any other layer is a missing value, as is
no layer at all. A document on which no chosen annotator has a counted layer is left out.
As in export, only accepted events count (suggestions are not annotations yet).

Documents are read a page at a time, each page with one query per kind of annotation
(layers with their entities, stance, events: the last two only when some counted layer
of the project has any, as checked before the first page), so memory stays bounded by
the page. The entities come packed with their layers and are unpacked into numpy columns
(``models.agreement.entity_io``: a row per span would cost more than all the measures).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, replace
from typing import Any

import numpy as np
from sqlalchemy import ColumnElement, Connection, Row, Select, bindparam, func, select
from sqlalchemy.orm import Session

from models.agreement.corpus import CorpusAgreement, page_full
from models.agreement.entity_io import LayerReader
from models.agreement.page import Page
from models.jobs import Job
from models.records import EventRecord, Progress, StanceRecord
from models.schema import Annotator, DocLabel, Document, Event, Layer
from models.stance import TASK as STANCE_TASK
from models.store import ProjectInfo, Store

STATUSES = ("done", "any")
PAGE = 200  # documents read at once
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
    for page in pages(store, project.id, chosen, status, project.schema.entity_ids):
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
    store: Store,
    project_id: int,
    chosen: Sequence[Participant],
    status: str,
    labels: Sequence[str] = (),
) -> Iterator[Page]:
    """The documents with a counted layer, in corpus order, as pages whose annotator
    columns follow ``chosen``; read PAGE documents at a time (keyset paging on position).
    ``labels`` (the schema's) are packed by code from the first page, others once met."""
    column = {p.id: index for index, p in enumerate(chosen)}
    queries = _Queries.of(project_id, chosen, status, labels)
    with store.reading() as session:  # stance or events: only if the project has some
        queries = queries.used(session.connection())
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
    to ``last`` (none for stance or events when the project's counted layers have none:
    ``used``, checked once before the pages)."""

    documents: Select[int, int, str]
    layers: LayerReader  # and their entities
    stance: Select[int, str, str] | None
    events: Select[int, str, int, int] | None
    # whether the store has stance (events), then whether a counted layer has some
    exist: tuple[tuple[Select[bool], Select[bool]], tuple[Select[bool], Select[bool]]]

    @classmethod
    def of(
        cls, project_id: int, chosen: Sequence[Participant], status: str, labels: Sequence[str]
    ) -> _Queries:
        counted = _counted(chosen, status)
        annotated = select(Layer.id).where(Layer.document_id == Document.id, *counted).exists()
        anywhere = [Document.project_id == project_id, Layer.document_id == Document.id, *counted]
        layers = [*anywhere, Document.position.between(bindparam("first"), bindparam("last"))]
        stance = select(DocLabel.layer_id, DocLabel.target, DocLabel.value).where(
            DocLabel.layer_id == Layer.id, DocLabel.task == STANCE_TASK
        )
        events = select(Event.layer_id, Event.type, Event.trigger_start, Event.trigger_end).where(
            Event.layer_id == Layer.id, Event.state == "accepted"
        )
        return cls(
            select(Document.id, Document.position, Document.text)
            .where(Document.project_id == project_id, Document.position > bindparam("after"))
            .where(annotated)
            .order_by(Document.position)
            .limit(PAGE),
            LayerReader(labels, layers),
            stance.where(*layers).order_by(DocLabel.layer_id, DocLabel.target),
            events.where(*layers).order_by(
                Event.layer_id, Event.trigger_start, Event.trigger_end, Event.type
            ),
            (
                (select(stance.exists()), select(stance.where(*anywhere).exists())),
                (select(events.exists()), select(events.where(*anywhere).exists())),
            ),
        )

    def used(self, connection: Connection) -> _Queries:
        """These queries, less those of stance or events if no counted layer has any."""
        stance, events = (
            all(connection.execute(check).scalar() for check in checks) for checks in self.exist
        )
        return replace(
            self, stance=self.stance if stance else None, events=self.events if events else None
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
    layers, entities = queries.layers.read(connection, bounds)
    place = np.array(  # each layer's document row and annotator column
        [(row[document_id], column[annotator_id]) for document_id, _, annotator_id, _ in layers],
        dtype=np.int64,
    ).reshape(-1, 2)
    present = np.zeros((len(documents), len(column)), dtype=bool)
    present[place[:, 0], place[:, 1]] = True
    where = dict(zip((layer[1] for layer in layers), place.tolist(), strict=True))
    stance: list[dict[int, list[StanceRecord]]] = [{} for _ in documents]
    if queries.stance is not None:
        for layer_id, target, value in connection.execute(queries.stance, bounds):
            document, annotator = where[layer_id]
            stance[document].setdefault(annotator, []).append(StanceRecord(target, value))
    events: list[dict[int, list[EventRecord]]] = [{} for _ in documents]
    if queries.events is not None:
        for layer_id, kind, start, end in connection.execute(queries.events, bounds):
            document, annotator = where[layer_id]
            events[document].setdefault(annotator, []).append(EventRecord(kind, (start, end)))
    span_place = place[entities.layer]
    return Page(
        [d.text for d in documents],
        present,
        entities.labels,
        span_place[:, 0],
        span_place[:, 1],
        entities.start,
        entities.end,
        entities.label,
        stance,
        events,
    )
