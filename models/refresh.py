"""Learned model layers written from raw ones: after a pre-annotation run
(``preannotate_learning``), after new corrections (``refresh``, a job that re-applies rules
and memory to the stored raw spans of the documents no human has opened, without spaCy),
or batch by batch (``write_learned``, in the batch's transaction).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sqlalchemy import Table, bindparam, select, update
from sqlalchemy.orm import Session

from models import preannotate as spacy_run
from models.jobs import Job
from models.learning import (
    Learner,
    RefreshReport,
    learning_settings,
    load_learner,
    raw_name,
    use_annotator,
)
from models.preannotate import (
    Found,
    PreannotateReport,
    _write_layers,
    load_pipeline,
    suggest_events,
)
from models.records import ArgumentRecord, EventRecord, Progress
from models.schema import Annotator, Document, Entity, Event, EventArgument, Layer
from models.store import ProjectInfo, Store
from models.training import finetuned_model

if TYPE_CHECKING:
    from spacy.tokens import Doc

Raw = tuple[str, Found, "Doc | None"]  # text, raw spans and events, spaCy's Doc if at hand


def write_learned(
    session: Session, learned_id: int, learner: Learner, items: dict[int, Raw]
) -> int:
    """The learned layers of ``items``' documents (created or replaced); entities written."""
    rows: dict[int, Found] = {}
    patterns = []
    for doc_id, (text, (spans, events), doc) in items.items():
        placed = learner.spans(text, spans, doc)
        rows[doc_id] = (
            [(s, e, label) for s, e, label, _ in placed],
            learner.events(events, placed),
        )
        patterns += [
            {"d": doc_id, "s": s, "e": e} for s, e, _, origin in placed if origin == "pattern"
        ]
    _write_layers(session, learned_id, rows)
    if patterns:
        table = Entity.__table__
        assert isinstance(table, Table)
        layer = (
            select(Layer.id)
            .where(Layer.document_id == bindparam("d"), Layer.annotator_id == learned_id)
            .scalar_subquery()
        )
        session.execute(
            update(table)
            .where(
                table.c.layer_id == layer,
                table.c.start == bindparam("s"),
                table.c.end == bindparam("e"),
            )
            .values(origin="pattern"),
            patterns,
        )
    return sum(len(spans) for spans, _ in rows.values())


def preannotate_learning(
    store: Store, project: ProjectInfo, *, learn: bool = True, **options: Any
) -> Job[PreannotateReport]:
    """``models.preannotate.preannotate`` (``options``) with the project's fine-tuned model
    when it has one and wants it. With ``learn`` and learning on, ``refresh`` first
    re-derives the unopened documents of earlier runs with today's memory, then each
    batch's learned layers are written in the batch's transaction (so a document opened
    during the run is seeded from them, and none is derived twice); otherwise the raw model
    annotator becomes the project's model annotator."""
    if "nlp" not in options:
        path = finetuned_model(project) if learn else None
        model = str(path) if path is not None else spacy_run.DEFAULT_MODEL
        yield Progress(0, None, f"Loading {path.name if path else 'spaCy model'}…")
        options["nlp"] = load_pipeline(model, events=suggest_events(project))
    raw = spacy_run.model_annotator_name(options["nlp"])
    learning = learn and learning_settings(project).learns
    if learning:
        learned_id = use_annotator(store, project, raw, True)
        project = store.project(project.name) or project
        yield from refresh(store, project)
        learner = load_learner(store, project, raw)

        def write(session: Session, batch: dict[int, tuple[Doc, Found]]) -> None:
            items: dict[int, Raw] = {
                doc_id: (doc.text, found, doc) for doc_id, (doc, found) in batch.items()
            }
            write_learned(session, learned_id, learner, items)

        options["after_batch"] = write
    report = yield from spacy_run.preannotate(store, project, **options)
    if not learning:
        use_annotator(store, store.project(project.name) or project, raw, False)
    return report


def refresh(store: Store, project: ProjectInfo, *, page: int = 64) -> Job[RefreshReport]:
    """Re-derive the learned layers of the documents no human has opened from their raw
    model layers, with the rules and a memory learned from every done layer now. With
    learning off, the raw annotator becomes the project's model annotator instead."""
    raw = raw_name(project.model_annotator)
    settings = learning_settings(project)
    learned_id = use_annotator(store, project, raw, settings.learns)
    if not settings.learns:
        return RefreshReport(0, 0)
    yield Progress(0, None, "Learning from the analysts' corrections…")
    learner = load_learner(store, project, raw)
    raw_id = store.annotator_id(raw, "model")
    done = after = 0
    while True:
        with store.transaction() as session:
            items = _unopened(session, project.id, raw_id, after, page)
            write_learned(session, learned_id, learner, items)
        done += len(items)
        yield Progress(done, None, f"Refreshed {done} documents")
        if len(items) < page:
            return RefreshReport(done, len(learner.memory))
        after = max(items)


def _unopened(
    session: Session, project_id: int, raw_id: int, after: int, page: int
) -> dict[int, Raw]:
    """A page of documents with a raw layer and no human layer, after id ``after``."""
    human = (
        select(Layer.id)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Layer.document_id == Document.id, Annotator.kind == "human")
    )
    rows = session.execute(
        select(Document.id, Document.text, Layer.id)
        .join(Layer, (Layer.document_id == Document.id) & (Layer.annotator_id == raw_id))
        .where(Document.project_id == project_id, Document.id > after, ~human.exists())
        .order_by(Document.id)
        .limit(page)
    ).all()
    layers = {layer_id: doc_id for doc_id, _, layer_id in rows}
    found: dict[int, Found] = {doc_id: ([], []) for doc_id in layers.values()}
    entities = session.execute(
        select(Entity.layer_id, Entity.id, Entity.start, Entity.end, Entity.label)
        .where(Entity.layer_id.in_(layers))
        .order_by(Entity.start)
    )
    where: dict[int, tuple[int, int]] = {}
    for layer_id, entity_id, start, end, label in entities:
        found[layers[layer_id]][0].append((start, end, label))
        where[entity_id] = (start, end)
    events: dict[int, tuple[int, EventRecord]] = {}
    for event in session.scalars(select(Event).where(Event.layer_id.in_(layers))):
        record = EventRecord(event.type, (event.trigger_start, event.trigger_end))
        events[event.id] = (layers[event.layer_id], record)
    args: dict[int, list[ArgumentRecord]] = {}
    for argument in session.scalars(
        select(EventArgument).where(EventArgument.event_id.in_(events))
    ):
        start, end = where[argument.entity_id]
        args.setdefault(argument.event_id, []).append(ArgumentRecord(argument.role, start, end))
    for event_id, (doc_id, record) in events.items():
        found[doc_id][1].append(
            EventRecord(record.type, record.trigger, tuple(args.get(event_id, [])))
        )
    return {doc_id: (text, found[doc_id], None) for doc_id, text, _ in rows}
