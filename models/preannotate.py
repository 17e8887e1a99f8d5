"""spaCy pre-annotation: runs of ``nlp.pipe`` stored as the model annotator's layers.

Entities come from the NER component (in fr_core_news_sm it has its own tok2vec). Event
suggestions (``models.suggest``), when the project wants them (``suggest_events``), come
from the same run: the pipeline then also lemmatizes (tok2vec, morphologizer,
attribute_ruler, lemmatizer) and splits sentences with a rule-based sentencizer after NER;
neither changes what NER sees, so the entities are those of the NER-only pipeline, which
runs when suggestions are off. They are stored as events of the model layer (origin
"model", state "suggested") with their arguments, in the batch's transaction; a human layer
seeded from it gets them as suggestions (``models.layers.open_layer``). spaCy is imported
lazily, inside the functions, so the GUI shows its window and a first progress step before
the import. Texts are streamed from the database page by page, normalised (length-
preserving, so spaCy's character offsets are offsets into the stored text) and each batch
of results is written in its own transaction: a cancelled run keeps what it finished and
the next run resumes with the documents still lacking a model layer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from models.bulk import insert_ids
from models.jobs import Job
from models.layer_io import write_events
from models.layers import touch
from models.normalise import normalise
from models.records import EventRecord, Progress
from models.schema import Document, Entity, Event, EventArgument, Layer, Project
from models.store import ProjectInfo, Store
from models.suggest import Suggester

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL = "fr_core_news_sm"
# Everything fr_core_news_sm runs besides NER: its NER has its own tok2vec, so none of these
# feed it (the parser's sentence starts would only bound entities; see load_pipeline).
NOT_FOR_NER = ("tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")
# With event suggestions: the parser's sentence starts would bound (and change) entities,
# so it stays out and a rule-based sentencizer runs after NER instead.
NOT_FOR_EVENTS = ("parser", "senter")
# Documents a batch: spaCy's run and one transaction. spaCy's memory grows with the batch:
# on 625-word articles, with event suggestions (the lemmatizing pipeline), 64 took the
# process to 1.2 GB and 16 to 565 MB, 12 % faster; NER only, 434 and 268 MB, 1 % slower
# (tests/benchmarks/bench_preannotate_memory.py).
BATCH = 16


@dataclass(frozen=True, slots=True)
class PreannotateReport:
    documents: int
    entities: int
    words: int
    seconds: float
    events: int = 0


def load_pipeline(model: str = DEFAULT_MODEL, *, events: bool = False) -> Language:
    """The spaCy pipeline ``model`` with only its NER component, or with ``events`` also
    what event suggestions need: lemmas, and sentences from a sentencizer after NER.

    Without the parser, sentence starts no longer cut entities: on the sample corpus 5 of
    306 entities differ from the full pipeline's, each one longer and no worse (e.g.
    "Carnegie Russia Eurasia Center" instead of "Carnegie"). Both pipelines find the same
    entities.
    """
    import spacy

    if not events:
        return spacy.load(model, exclude=list(NOT_FOR_NER))
    nlp = spacy.load(model, exclude=list(NOT_FOR_EVENTS))
    nlp.add_pipe("sentencizer", last=True)
    return nlp


def suggest_events(project: ProjectInfo) -> bool:
    """Whether pre-annotation proposes events: the schema has trigger lemmas and the
    project's setting "suggest_events" is not false."""
    wanted = project.settings.get("suggest_events", True) is not False
    return wanted and any(event.triggers for event in project.schema.events)


def model_annotator_name(nlp: Language) -> str:
    """The annotator name of a pipeline: ``fr_core_news_sm@3.8.0``."""
    meta = nlp.meta
    return f"{meta['lang']}_{meta['name']}@{meta['version']}"


def preannotate(
    store: Store,
    project: ProjectInfo,
    *,
    nlp: Language | None = None,
    batch_size: int = BATCH,
    n_process: int = 1,
    document_ids: Sequence[int] | None = None,
    redo: bool = False,
    suggest: bool | None = None,
    after_batch: AfterBatch | None = None,
) -> Job[PreannotateReport]:
    """Pre-annotate the project's documents lacking a model layer (all of them if ``redo``,
    whose model layers, events included, are then replaced); ``document_ids`` restricts the
    run to those.

    ``suggest`` (default: ``suggest_events(project)``) adds event suggestions; they need
    lemmas, so with a given ``nlp`` that has no lemmatizer they are off (and asking for
    them is a ValueError). Entities whose label is not in the project's schema are left
    out. Human layers are never touched. Closing the job stops it between two batches
    (worker processes too).

    ``after_batch`` runs inside each batch's transaction with the batch's Docs and raw
    results (the learned layers are written there, so a document opened during the run is
    seeded from them); the caller then also owns the project's model annotator setting.
    """
    wanted = suggest_events(project) if suggest is None else suggest
    if nlp is None:
        yield Progress(0, None, "Loading spaCy model…")
        nlp = load_pipeline(events=wanted)
    elif suggest and "lemmatizer" not in nlp.pipe_names:
        raise ValueError("event suggestions need a pipeline with a lemmatizer")
    suggester = (
        Suggester(nlp, project.schema) if wanted and "lemmatizer" in nlp.pipe_names else None
    )
    began = time.perf_counter()
    name = model_annotator_name(nlp)
    model_id = _model_annotator(store, project, name, current=after_batch is None)
    feed = _Feed(store, project.id, model_id, document_ids, redo, batch_size)
    total = feed.count()
    labels = set(project.schema.entity_ids)
    documents = entities = events = words = 0
    yield Progress(0, total, f"Pre-annotating with {name}…")
    # Plain texts, not as_tuples: with as_tuples spaCy tokenizes in this process and sends
    # Docs to the workers, which costs n_process > 1 about 15% of its speed.
    docs = nlp.pipe(feed, batch_size=batch_size, n_process=n_process)
    batches = iter(lambda: [(doc, feed.taken()) for doc in islice(docs, batch_size)], [])
    try:
        for batch in batches:
            stored = _store_batch(store, model_id, labels, suggester, batch, after_batch)
            entities, events = entities + stored[0], events + stored[1]
            documents += len(batch)
            words += sum(count for _, (_, count) in batch)
            yield Progress(documents, total, f"Pre-annotated {documents} of {total} documents")
    except BaseException as error:
        # Closing spaCy's generator early hangs with n_process > 1 (forked workers keep the
        # result pipes open), so stop the feed and let the batches in flight run out; on a
        # cancel their results are kept.
        feed.stop()
        for batch in batches:
            if isinstance(error, GeneratorExit):
                _store_batch(store, model_id, labels, suggester, batch, after_batch)
        raise
    seconds = time.perf_counter() - began
    return PreannotateReport(documents, entities, words, seconds, events)


class _Feed:
    """The texts of the documents a run works on, read in pages by increasing id."""

    def __init__(
        self,
        store: Store,
        project_id: int,
        model_id: int,
        document_ids: Sequence[int] | None,
        redo: bool,
        page_size: int,
    ) -> None:
        self.store, self.page_size, self.stopped = store, page_size, False
        self.pending: deque[tuple[int, int]] = deque()
        self.where: list[Any] = [Document.project_id == project_id]
        if document_ids is not None:
            self.where.append(Document.id.in_(document_ids))
        if not redo:
            has_layer = select(Layer.id).where(
                Layer.document_id == Document.id, Layer.annotator_id == model_id
            )
            self.where.append(~has_layer.exists())

    def count(self) -> int:
        with self.store.reading() as session:
            return int(session.scalar(select(func.count(Document.id)).where(*self.where)) or 0)

    def taken(self) -> tuple[int, int]:
        """(document id, words) of the oldest text spaCy has not returned yet."""
        return self.pending.popleft()

    def stop(self) -> None:
        """End the stream at the next text."""
        self.stopped = True

    def __iter__(self) -> Iterator[str]:
        """The normalised texts, one page in memory at a time; spaCy returns them in order."""
        after = 0
        while not self.stopped:
            query = select(Document.id, Document.text).where(Document.id > after, *self.where)
            with self.store.reading() as session:
                page = session.execute(query.order_by(Document.id).limit(self.page_size)).all()
            for doc_id, text in page:
                if self.stopped:
                    return
                self.pending.append((doc_id, len(text.split())))
                yield normalise(text)
            if len(page) < self.page_size:
                return
            after = page[-1][0]


def _model_annotator(store: Store, project: ProjectInfo, name: str, *, current: bool) -> int:
    """Id of the model annotator ``name``, made the project's model annotator if ``current``."""
    model_id = store.annotator_id(name, "model")
    if current and project.model_annotator != name:
        with store.transaction() as session:
            settings = session.scalar(select(Project.settings).where(Project.id == project.id))
            settings = {**(settings or {}), "model_annotator": name}
            session.execute(
                update(Project).where(Project.id == project.id).values(settings=settings)
            )
    return model_id


Found = tuple[list[tuple[int, int, str]], list[EventRecord]]
AfterBatch = Callable[[Session, dict[int, tuple["Doc", Found]]], None]


def _store_batch(
    store: Store,
    model_id: int,
    labels: set[str],
    suggester: Suggester | None,
    batch: list[tuple[Doc, tuple[int, int]]],
    after_batch: AfterBatch | None,
) -> tuple[int, int]:
    """Write one batch of results as model layers in one transaction; the entities and
    events written."""
    rows: dict[int, Found] = {
        doc_id: (
            [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in labels],
            suggester(doc) if suggester is not None else [],
        )
        for doc, (doc_id, _) in batch
    }
    with store.transaction() as session:
        _write_layers(session, model_id, rows)
        if after_batch is not None:
            after_batch(session, {doc_id: (doc, rows[doc_id]) for doc, (doc_id, _) in batch})
    return (
        sum(len(spans) for spans, _ in rows.values()),
        sum(len(events) for _, events in rows.values()),
    )


def _write_layers(session: Session, model_id: int, rows: dict[int, Found]) -> None:
    """The model layers of ``rows``' documents, created or emptied, then their entities and
    suggested events."""
    existing = dict(
        session.execute(
            select(Layer.document_id, Layer.id).where(
                Layer.annotator_id == model_id, Layer.document_id.in_(rows)
            )
        ).all()
    )
    if existing:
        layer_ids = list(existing.values())
        session.execute(delete(EventArgument).where(EventArgument.layer_id.in_(layer_ids)))
        session.execute(delete(Event).where(Event.layer_id.in_(layer_ids)))
        session.execute(delete(Entity).where(Entity.layer_id.in_(layer_ids)))
        session.execute(update(Layer).where(Layer.id.in_(layer_ids)).values(status="done"))
        for layer_id in layer_ids:
            touch(session, layer_id)
    new = [doc_id for doc_id in rows if doc_id not in existing]
    layers = [{"document_id": d, "annotator_id": model_id, "status": "done"} for d in new]
    existing.update(zip(new, insert_ids(session, Layer, layers), strict=True))
    entities: list[dict[str, Any]] = [
        {
            "layer_id": existing[doc_id],
            "start": start,
            "end": end,
            "label": label,
            "origin": "model",
            "score": None,
        }
        for doc_id, (found, _) in rows.items()
        for start, end, label in found
    ]
    entity_ids = {
        (row["layer_id"], row["start"], row["end"]): entity_id
        for row, entity_id in zip(entities, insert_ids(session, Entity, entities), strict=True)
    }
    suggested = [
        (existing[doc_id], event) for doc_id, (_, events) in rows.items() for event in events
    ]
    write_events(session, suggested, entity_ids, origin="model", state="suggested")
