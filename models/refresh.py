"""Learned model layers written from raw ones: batch by batch during a pre-annotation run
(``preannotate_learning``, ``write_learned`` in the batch's transaction), and after new
corrections from the stored raw spans with the rules and the memory, without spaCy.

After corrections only stale learned layers are derived (``models.learned_state`` says
which): ``refresh_near`` after each "done", for the next few documents of the analyst's
queue; ``ensure_current`` when a document no human has opened is opened, just before a
human layer is seeded from it; ``refresh`` for every document no human has opened, a
cancellable pass (after the rules or settings changed, or before a pre-annotation run). So
a document opened after a refresh gets what a full pass would have given it, and the cost
of a "done" does not grow with the corpus. Each derives outside the write transaction and
writes only if the state still calls the learner's decisions current.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import ColumnElement, Table, bindparam, func, select, update
from sqlalchemy.orm import Session

from models import learned_state
from models import preannotate as spacy_run
from models.jobs import Job
from models.learned_state import LearnedState, unopened
from models.learning import (
    Learner,
    RefreshReport,
    current_learner,
    learned_name,
    learning_settings,
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
from models.queues import Queue
from models.records import ArgumentRecord, EventRecord, Progress
from models.schema import Annotator, Document, Entity, Event, EventArgument, Layer
from models.store import ProjectInfo, Store
from models.training import finetuned_model

if TYPE_CHECKING:
    from spacy.tokens import Doc

Raw = tuple[str, Found, "Doc | None"]  # text, raw spans and events, spaCy's Doc if at hand
Derived = tuple[Found, list[tuple[int, int]]]  # learned spans and events, "pattern" spans
NEAR = 8  # documents of the queue ``refresh_near`` derives ahead


def derive(learner: Learner, items: dict[int, Raw]) -> dict[int, Derived]:
    """The learned layers of ``items``' documents."""
    derived: dict[int, Derived] = {}
    for doc_id, (text, (spans, events), doc) in items.items():
        placed = learner.spans(text, spans, doc)
        found: Found = (
            [(s, e, label) for s, e, label, _ in placed],
            learner.events(events, placed),
        )
        derived[doc_id] = (found, [(s, e) for s, e, _, origin in placed if origin == "pattern"])
    return derived


def write_derived(session: Session, learned_id: int, derived: dict[int, Derived]) -> int:
    """Create or replace the learned layers of ``derived``; entities written."""
    _write_layers(session, learned_id, {doc_id: found for doc_id, (found, _) in derived.items()})
    patterns = [
        {"d": doc_id, "s": s, "e": e} for doc_id, (_, spans) in derived.items() for s, e in spans
    ]
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
    return sum(len(found[0]) for found, _ in derived.values())


def write_learned(
    session: Session, learned_id: int, learner: Learner, items: dict[int, Raw]
) -> int:
    """The learned layers of ``items``' documents (created or replaced); entities written."""
    return write_derived(session, learned_id, derive(learner, items))


def preannotate_learning(
    store: Store, project: ProjectInfo, *, learn: bool = True, **options: Any
) -> Job[PreannotateReport]:
    """``models.preannotate.preannotate`` (``options``) with the project's fine-tuned model
    when it has one and wants it. With ``learn`` and learning on, ``refresh`` first brings
    the unopened documents of earlier runs up to today's memory, then each batch's learned
    layers are derived by the same learner (learning again if a document was done
    meanwhile) and written in the batch's transaction (so a document opened during the run
    is seeded from them, and none is derived twice); otherwise the raw model annotator
    becomes the project's model annotator."""
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
        refreshed = yield from refresh(store, project)
        assert refreshed.learner is not None  # learning is on
        learner: Learner = refreshed.learner

        def write(session: Session, batch: dict[int, tuple[Doc, Found]]) -> None:
            nonlocal learner
            if not learned_state.holds(session, project.id, learner):  # a done meanwhile
                learner = current_learner(store, project, learner)
                learned_state.sync(session, project.id, learner)
            items: dict[int, Raw] = {
                doc_id: (doc.text, found, doc) for doc_id, (doc, found) in batch.items()
            }
            write_learned(session, learned_id, learner, items)

        options["after_batch"] = write
    report = yield from spacy_run.preannotate(store, project, **options)
    if not learning:
        use_annotator(store, store.project(project.name) or project, raw, False)
    return report


@dataclass(frozen=True, slots=True)
class _Work:
    """What a refresh derives with and where it writes."""

    store: Store
    project_id: int
    learner: Learner
    raw_id: int
    learned_id: int

    def report(self, documents: int) -> RefreshReport:
        return RefreshReport(documents, len(self.learner.memory), self.learner)

    def read(self, *where: ColumnElement[bool], limit: int | None = None) -> dict[int, Raw]:
        """The unopened documents with a raw layer matching ``where``, by id."""
        with self.store.reading() as session:
            return _raw_documents(session, self.project_id, self.raw_id, list(where), limit)

    def write(self, session: Session, derived: dict[int, Derived]) -> list[int]:
        """Write those of ``derived`` still unopened; their ids."""
        query = select(Document.id).where(Document.id.in_(derived), unopened())
        kept = set(session.scalars(query))
        write_derived(session, self.learned_id, {d: v for d, v in derived.items() if d in kept})
        return sorted(kept)

    def write_fresh(self, derived: dict[int, Derived]) -> int | None:
        """Write ``derived`` and mark it fresh, if the state still holds the learner (None
        otherwise: nothing written); documents written."""
        with self.store.transaction() as session:
            if not learned_state.holds(session, self.project_id, self.learner):
                return None
            written = self.write(session, derived)
            learned_state.mark_fresh(session, self.project_id, self.learner, written)
            return len(written)


def _stale(state: LearnedState, learner: Learner, items: dict[int, Raw]) -> dict[int, Derived]:
    """The learned layers of ``items`` that may be stale, derived."""
    stale = state.stale_documents({doc_id: text for doc_id, (text, _, _) in items.items()})
    return derive(learner, {doc_id: items[doc_id] for doc_id in sorted(stale)})


def _start(
    store: Store, project: ProjectInfo, learner: Learner | None
) -> Job[tuple[_Work, LearnedState] | None]:
    """Learn what was done since ``learner`` and record it in the state (None: learning
    is off, the raw annotator is the project's model annotator again)."""
    raw = raw_name(project.model_annotator)
    if not learning_settings(project).learns:
        use_annotator(store, project, raw, False)
        return None
    yield Progress(0, None, "Learning from the analysts' corrections…")
    learner = current_learner(store, project, learner)
    learner.warm()
    work = _Work(
        store,
        project.id,
        learner,
        store.annotator_id(raw, "model"),
        use_annotator(store, project, raw, True),
    )
    with store.transaction() as session:
        return work, learned_state.sync(session, project.id, learner)


def refresh(
    store: Store, project: ProjectInfo, *, learner: Learner | None = None, page: int = 64
) -> Job[RefreshReport]:
    """Bring the learned layer of every document no human has opened up to date with the
    rules and a memory learned from every done layer now (``learner`` first learns only
    what was done since it), deriving only the stale ones. With learning off, the raw
    annotator becomes the project's model annotator instead."""
    started = yield from _start(store, project, learner)
    if started is None:
        return RefreshReport(0, 0)
    work, state = started
    with store.reading() as session:
        listing = _listing(project.id, work.raw_id, []).subquery()
        total = int(session.scalar(select(func.count()).select_from(listing)) or 0)
    derived = seen = after = 0
    while True:
        items = work.read(Document.id > after, limit=page)
        results = _stale(state, work.learner, items)
        with store.transaction() as session:
            if not learned_state.holds(session, project.id, work.learner):
                return work.report(derived)  # another process learned more meanwhile
            derived += len(work.write(session, results))
        seen += len(items)
        yield Progress(seen, total, f"Refreshed {seen} of {total} documents")
        if len(items) < page:
            break
        after = max(items)
    with store.transaction() as session:
        learned_state.mark_base(session, project.id, work.learner)
    return work.report(derived)


def refresh_near(
    store: Store,
    project: ProjectInfo,
    position: int,
    *,
    learner: Learner | None = None,
    queue: Queue | None = None,
    count: int = NEAR,
) -> Job[RefreshReport]:
    """After a correction: learn what was done since ``learner`` and derive the stale
    learned layers of the next ``count`` documents no human has opened after ``position``
    in the corpus (or ``queue``), wrapping at the end: what the analyst opens next."""
    started = yield from _start(store, project, learner)
    if started is None:
        return RefreshReport(0, 0)
    work, state = started
    with store.reading() as session:
        doc_ids = _following(session, project.id, work.raw_id, position, queue, count)
    results = _stale(state, work.learner, work.read(Document.id.in_(doc_ids)))
    yield Progress(0, None, f"Deriving {len(results)} documents…")
    return work.report(work.write_fresh(results) or 0)


def ensure_current(store: Store, project: ProjectInfo, learner: Learner, document_id: int) -> bool:
    """Before a human layer is first seeded from it: derive the document's learned layer
    if it may be stale and ``learner`` is the one the state calls current. Whether the
    learned layer is current now (True as well when there is none or a human has opened
    the document: its learned layer is never derived again)."""
    if not learning_settings(project).learns:
        return True
    raw = raw_name(project.model_annotator)
    with store.reading() as session:
        state = learned_state.read(session, project.id)
        raw_id = session.scalar(select(Annotator.id).where(Annotator.name == raw))
        items = _raw_documents(session, project.id, raw_id, [Document.id == document_id], None)
    if raw_id is None or not items:
        return True
    if state is None or not state.holds(learner):
        return False
    results = _stale(state, learner, items)
    if not results:
        return True
    learned_id = store.annotator_id(learned_name(raw), "model")
    return _Work(store, project.id, learner, raw_id, learned_id).write_fresh(results) is not None


def _listing(project_id: int, raw_id: int, where: list[ColumnElement[bool]]) -> Any:
    return (
        select(Document.id, Document.text, Layer.id.label("layer_id"))
        .join(Layer, (Layer.document_id == Document.id) & (Layer.annotator_id == raw_id))
        .where(Document.project_id == project_id, unopened(), *where)
    )


def _following(
    session: Session,
    project_id: int,
    raw_id: int,
    position: int,
    queue: Queue | None,
    count: int,
) -> list[int]:
    """Ids of the next ``count`` unopened documents with a raw layer after ``position``
    (in ``queue`` if given), wrapping to the start."""
    query = (
        select(Document.id)
        .join(Layer, (Layer.document_id == Document.id) & (Layer.annotator_id == raw_id))
        .where(Document.project_id == project_id, unopened())
    )
    if queue is not None:
        query = query.where(queue.clause())
    after = query.where(Document.position > position).order_by(Document.position)
    found = list(session.scalars(after.limit(count)))
    if len(found) < count:
        before = query.where(Document.position <= position).order_by(Document.position)
        found += session.scalars(before.limit(count - len(found)))
    return found


def _raw_documents(
    session: Session,
    project_id: int,
    raw_id: int | None,
    where: list[ColumnElement[bool]],
    limit: int | None,
) -> dict[int, Raw]:
    """Text, raw spans and events of the unopened documents with a raw layer matching
    ``where``, by id."""
    if raw_id is None:
        return {}
    query = _listing(project_id, raw_id, where).order_by(Document.id)
    rows = session.execute(query.limit(limit) if limit is not None else query).all()
    layers = {row.layer_id: row.id for row in rows}
    found = _raw_found(session, layers)
    return {row.id: (row.text, found[row.id], None) for row in rows}


def _raw_found(session: Session, layers: dict[int, int]) -> dict[int, Found]:
    """Raw spans and events of each layer (layer id → document id), by document."""
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
    return found
