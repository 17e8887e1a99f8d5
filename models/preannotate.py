"""spaCy pre-annotation: runs of ``nlp.pipe`` stored as the model annotator's layers.

Only the NER component runs (in fr_core_news_sm it has its own tok2vec). spaCy is imported
lazily, inside the functions, so the GUI shows its window and a first progress step before
the import. Texts are streamed from the database page by page, normalised (length-
preserving, so spaCy's character offsets are offsets into the stored text) and each batch
of results is written in its own transaction: a cancelled run keeps what it finished and
the next run resumes with the documents still lacking a model layer.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from itertools import islice
from typing import TYPE_CHECKING, Any

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.orm import Session

from models.jobs import Job
from models.layers import touch
from models.normalise import normalise
from models.records import Progress
from models.schema import Document, Entity, Layer, Project
from models.store import ProjectInfo, Store

if TYPE_CHECKING:
    from spacy.language import Language
    from spacy.tokens import Doc

DEFAULT_MODEL = "fr_core_news_sm"
# Everything fr_core_news_sm runs besides NER: its NER has its own tok2vec, so none of these
# feed it (the parser's sentence starts would only bound entities; see load_pipeline).
NOT_FOR_NER = ("tok2vec", "morphologizer", "parser", "senter", "attribute_ruler", "lemmatizer")


@dataclass(frozen=True, slots=True)
class PreannotateReport:
    documents: int
    entities: int
    words: int
    seconds: float


def load_pipeline(model: str = DEFAULT_MODEL) -> Language:
    """The spaCy pipeline ``model`` with only its NER component.

    Without the parser, sentence starts no longer cut entities: on the sample corpus 5 of
    306 entities differ from the full pipeline's, each one longer and no worse (e.g.
    "Carnegie Russia Eurasia Center" instead of "Carnegie").
    """
    import spacy

    return spacy.load(model, exclude=list(NOT_FOR_NER))


def model_annotator_name(nlp: Language) -> str:
    """The annotator name of a pipeline: ``fr_core_news_sm@3.8.0``."""
    meta = nlp.meta
    return f"{meta['lang']}_{meta['name']}@{meta['version']}"


def preannotate(
    store: Store,
    project: ProjectInfo,
    *,
    nlp: Language | None = None,
    batch_size: int = 64,
    n_process: int = 1,
    document_ids: Sequence[int] | None = None,
    redo: bool = False,
) -> Job[PreannotateReport]:
    """Pre-annotate the project's documents lacking a model layer (all of them if ``redo``,
    whose model layers are then replaced); ``document_ids`` restricts the run to those.

    Entities whose label is not in the project's schema are left out. Human layers are
    never touched. Closing the job stops it between two batches (worker processes too).
    """
    if nlp is None:
        yield Progress(0, None, "Loading spaCy model…")
        nlp = load_pipeline()
    began = time.perf_counter()
    name = model_annotator_name(nlp)
    model_id = _model_annotator(store, project, name)
    feed = _Feed(store, project.id, model_id, document_ids, redo, batch_size)
    total = feed.count()
    labels = set(project.schema.entity_ids)
    documents = entities = words = 0
    yield Progress(0, total, f"Pre-annotating with {name}…")
    # Plain texts, not as_tuples: with as_tuples spaCy tokenizes in this process and sends
    # Docs to the workers, which costs n_process > 1 about 15% of its speed.
    docs = nlp.pipe(feed, batch_size=batch_size, n_process=n_process)
    batches = iter(lambda: [(doc, feed.taken()) for doc in islice(docs, batch_size)], [])
    try:
        for batch in batches:
            entities += _store_batch(store, model_id, labels, batch)
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
                _store_batch(store, model_id, labels, batch)
        raise
    return PreannotateReport(documents, entities, words, time.perf_counter() - began)


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


def _model_annotator(store: Store, project: ProjectInfo, name: str) -> int:
    """Id of the model annotator ``name``, made the project's model annotator."""
    model_id = store.annotator_id(name, "model")
    if project.model_annotator != name:
        with store.transaction() as session:
            settings = session.scalar(select(Project.settings).where(Project.id == project.id))
            settings = {**(settings or {}), "model_annotator": name}
            session.execute(
                update(Project).where(Project.id == project.id).values(settings=settings)
            )
    return model_id


def _store_batch(
    store: Store, model_id: int, labels: set[str], batch: list[tuple[Doc, tuple[int, int]]]
) -> int:
    """Write one batch of results as model layers in one transaction; the entities written."""
    rows = {
        doc_id: [(e.start_char, e.end_char, e.label_) for e in doc.ents if e.label_ in labels]
        for doc, (doc_id, _) in batch
    }
    with store.transaction() as session:
        _write_layers(session, model_id, rows)
    return sum(len(found) for found in rows.values())


def _write_layers(
    session: Session, model_id: int, rows: dict[int, list[tuple[int, int, str]]]
) -> None:
    """The model layers of ``rows``' documents, created or emptied, then their entities."""
    existing = dict(
        session.execute(
            select(Layer.document_id, Layer.id).where(
                Layer.annotator_id == model_id, Layer.document_id.in_(rows)
            )
        ).all()
    )
    if existing:
        layer_ids = list(existing.values())
        session.execute(delete(Entity).where(Entity.layer_id.in_(layer_ids)))
        session.execute(update(Layer).where(Layer.id.in_(layer_ids)).values(status="done"))
        for layer_id in layer_ids:
            touch(session, layer_id)
    new = [
        {"document_id": doc_id, "annotator_id": model_id, "status": "done"}
        for doc_id in rows
        if doc_id not in existing
    ]
    if new:
        created = session.execute(
            insert(Layer).returning(Layer.document_id, Layer.id, sort_by_parameter_order=True),
            new,
        ).all()
        existing.update(dict(created))
    entities = [
        {
            "layer_id": existing[doc_id],
            "start": start,
            "end": end,
            "label": label,
            "origin": "model",
            "score": None,
        }
        for doc_id, found in rows.items()
        for start, end, label in found
    ]
    if entities:
        session.execute(insert(Entity), entities)
