"""Agreement over a project of the store: annotators chosen, documents streamed, job run.

Every annotator with a layer in the project takes part, the project's model annotator
included (its agreement with an analyst is the pre-annotation quality), gold too. With
``status="done"`` only finished layers count: any other layer is a missing value, as is
no layer at all. A document on which no chosen annotator has a counted layer is left out.
As in export, only accepted events count (suggestions are not annotations yet).

Documents are read a page at a time, each page with one query per kind of annotation
(entities, stance, events), so memory stays bounded by the page.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from models.agreement.corpus import AnnotatedDocument, corpus_agreement
from models.jobs import Job
from models.records import DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.schema import Annotator, DocLabel, Document, Entity, Event, Layer
from models.stance import TASK as STANCE_TASK
from models.store import ProjectInfo, Store

STATUSES = ("done", "any")
PAGE = 200
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
    result = yield from corpus_agreement(
        [p.name for p in chosen],
        annotated_documents(store, project.id, chosen, status),
        total=count_documents(store, project.id, chosen, status),
        labels=project.schema.entity_ids,
        targets=[target.id for target in project.schema.stance_targets],
    )
    header = {"project": project.name, "status": status, "kinds": {p.name: p.kind for p in chosen}}
    return header | result


def _counted(project_id: int, chosen: Sequence[Participant], status: str) -> Select[int, int, int]:
    """(document id, layer id, annotator id) of the layers that count."""
    query = (
        select(Layer.document_id, Layer.id, Layer.annotator_id)
        .join(Document, Document.id == Layer.document_id)
        .where(Document.project_id == project_id, Layer.annotator_id.in_([p.id for p in chosen]))
    )
    return query.where(Layer.status == "done") if status == "done" else query


def count_documents(
    store: Store, project_id: int, chosen: Sequence[Participant], status: str
) -> int:
    """How many documents have at least one counted layer."""
    inner = _counted(project_id, chosen, status).subquery()
    with store.reading() as session:
        return int(session.scalar(select(func.count(inner.c.document_id.distinct()))) or 0)


def annotated_documents(
    store: Store, project_id: int, chosen: Sequence[Participant], status: str
) -> Iterator[AnnotatedDocument]:
    """The documents with a counted layer, in corpus order, each with its counted layers
    (by annotator name) as records; read a page at a time (keyset paging on position)."""
    names = {p.id: p.name for p in chosen}
    counted = _counted(project_id, chosen, status).subquery()
    after = -1
    while True:
        with store.reading() as session:
            documents = session.execute(
                select(Document.id, Document.position, Document.text)
                .where(
                    Document.project_id == project_id,
                    Document.position > after,
                    Document.id.in_(select(counted.c.document_id)),
                )
                .order_by(Document.position)
                .limit(PAGE)
            ).all()
            if not documents:
                return
            layers = session.execute(
                select(counted).where(counted.c.document_id.in_([d.id for d in documents]))
            ).all()
            records = _records(session, [layer_id for _, layer_id, _ in layers])
        by_document: defaultdict[int, dict[str, DocumentRecord]] = defaultdict(dict)
        for document_id, layer_id, annotator_id in layers:
            by_document[document_id][names[annotator_id]] = records[layer_id]
        for document_id, _, text in documents:
            yield AnnotatedDocument(text, by_document[document_id])
        after = documents[-1].position


def _records(session: Session, layer_ids: list[int]) -> dict[int, DocumentRecord]:
    """Each layer's entities, stance and accepted events (triggers only: no arguments)."""
    records = {layer_id: DocumentRecord(text="") for layer_id in layer_ids}
    for layer_id, start, end, label in session.execute(
        select(Entity.layer_id, Entity.start, Entity.end, Entity.label)
        .where(Entity.layer_id.in_(layer_ids))
        .order_by(Entity.layer_id, Entity.start, Entity.end, Entity.label)
    ):
        records[layer_id].spans.append(SpanRecord(start, end, label))
    for layer_id, target, value in session.execute(
        select(DocLabel.layer_id, DocLabel.target, DocLabel.value)
        .where(DocLabel.layer_id.in_(layer_ids), DocLabel.task == STANCE_TASK)
        .order_by(DocLabel.layer_id, DocLabel.target)
    ):
        records[layer_id].stance.append(StanceRecord(target, value))
    for layer_id, kind, start, end in session.execute(
        select(Event.layer_id, Event.type, Event.trigger_start, Event.trigger_end)
        .where(Event.layer_id.in_(layer_ids), Event.state == "accepted")
        .order_by(Event.layer_id, Event.trigger_start, Event.trigger_end, Event.type)
    ):
        records[layer_id].events.append(EventRecord(kind, (start, end)))
    return records
