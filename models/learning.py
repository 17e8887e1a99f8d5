"""Pre-annotation that learns: the model's raw output, then the schema's rules
(``models.rules``), then the correction memory (``models.memory``).

Two model annotators per pipeline. The raw one (``fr_core_news_sm@3.8.0``) keeps spaCy's
spans exactly; the learned one (``fr_core_news_sm@3.8.0+learned``) holds what analysts are
seeded with, and is the project's model annotator while learning is on. Refreshing the
learned layers after new corrections therefore needs no spaCy run: rules and memory are
re-applied to the stored raw spans (``models.refresh``), only where the memory's decisions
changed (``models.learned_state``), and the memory learns only the layers done since it
last learned (``current_learner``). Only documents no human has opened are refreshed: a
human layer is never rewritten (it is a copy, made when first opened), and the model layers
of documents analysts worked on stay as they were, so model-vs-analyst agreement is not
inflated by memory learned from the same document.

The sources are switched per project in ``settings["learning"]`` (``LearningSettings``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import Select, select, update
from sqlalchemy.orm import Session, aliased

from models.labels import LabelSchema
from models.memory import Memory, Placed, encode_decisions
from models.records import ArgumentRecord, EventRecord
from models.rules import Span, apply_rules
from models.schema import Annotator, Document, Entity, Layer, Project
from models.store import ProjectInfo, Store

if TYPE_CHECKING:
    from spacy.tokens import Doc

LEARNED = "+learned"
SETTINGS = "learning"
LEARNS_FROM = ("human", "gold")


@dataclass(frozen=True, slots=True)
class LearningSettings:
    rules: bool = True  # the schema's [rules]
    memory: bool = True  # the correction memory
    finetuned: bool = True  # pre-annotate with the latest fine-tuned model, when there is one

    @property
    def learns(self) -> bool:
        return self.rules or self.memory


@dataclass(frozen=True, slots=True)
class RefreshReport:
    documents: int  # learned layers derived
    forms: int  # forms in the memory
    learner: Learner | None = None  # the learner the refresh derived with (None: learning off)


# A done layer's document and version, and the version of the document's raw layer: any
# change to what the memory learns from that layer changes it (every edit bumps a version).
LayerKey = tuple[int, int, int | None]
DoneQuery = Select[int, int, str, int, int]  # id, document, annotator, versions


@dataclass(frozen=True, slots=True)
class DoneLayer:
    """A done human or gold layer as the memory learns it."""

    id: int
    key: LayerKey
    text: str
    analyst: list[Span]
    model: list[Span]  # the raw model spans of the document (before the rules)
    annotator: str


def learning_settings(project: ProjectInfo) -> LearningSettings:
    stored = project.settings.get(SETTINGS, {})
    known = {k: bool(v) for k, v in stored.items() if k in LearningSettings.__slots__}
    return LearningSettings(**known)


def save_settings(store: Store, project_id: int, **values: Any) -> dict[str, Any]:
    """Merge ``values`` into the project's settings (one locked transaction); the result."""
    with store.transaction() as session:
        settings = {**locked_settings(session, project_id), **values}
        put_settings(session, project_id, settings)
        return settings


def locked_settings(session: Session, project_id: int) -> dict[str, Any]:
    """The project's settings, its row locked until the transaction ends (SQLite's write
    transaction already holds the database lock)."""
    query = select(Project.settings).where(Project.id == project_id)
    if session.bind is not None and session.bind.dialect.name != "sqlite":
        query = query.with_for_update()
    return dict(session.scalar(query) or {})


def put_settings(session: Session, project_id: int, settings: dict[str, Any]) -> None:
    session.execute(update(Project).where(Project.id == project_id).values(settings=settings))


def set_learning(store: Store, project_id: int, settings: LearningSettings) -> None:
    save_settings(store, project_id, **{SETTINGS: asdict(settings)})


def learned_name(raw: str) -> str:
    return raw + LEARNED


def raw_name(model_annotator: str) -> str:
    return model_annotator.removesuffix(LEARNED)


def learner_key(project: ProjectInfo, raw: str) -> str:
    """What a learned layer depends on besides its document and the memory's decisions:
    the raw annotator, the sources switched on and the schema's rules."""
    settings = learning_settings(project)
    parts = (raw, settings.rules, settings.memory, project.schema.language, project.schema.rules)
    return hashlib.sha256(repr(parts).encode()).hexdigest()[:16]


class Learner:
    """Rules and memory of one project, applied to the raw spans of a document.

    ``key`` (``learner_key``) and ``decisions()`` are all a derivation depends on besides
    the document; ``sources`` are the done layers the memory learned, with their keys."""

    def __init__(
        self,
        schema: LabelSchema,
        settings: LearningSettings,
        memory: Memory,
        key: str = "",
        sources: dict[int, LayerKey] | None = None,
    ) -> None:
        self.schema, self.settings, self.memory = schema, settings, memory
        self.key = key
        self.sources = sources if sources is not None else {}
        self._decisions: dict[str, str] | None = None
        self._encoded: str | None = None

    def learn(self, layer: DoneLayer) -> None:
        ruled = self.ruled(layer.text, layer.model)
        self.memory.learn(layer.text, layer.analyst, ruled, layer.annotator)
        self.sources[layer.id] = layer.key
        self._decisions = self._encoded = None

    def decisions(self) -> dict[str, str]:
        """The memory's decisions (``Memory.decisions``; none with the memory off)."""
        if self._decisions is None:
            self._decisions = self.memory.decisions() if self.settings.memory else {}
        return self._decisions

    def encoded(self) -> str:
        """``decisions()`` encoded (``memory.encode_decisions``), computed once."""
        if self._encoded is None:
            self._encoded = encode_decisions(self.decisions())
        return self._encoded

    def warm(self) -> None:
        """Load what ``spans`` needs now (off the GUI thread), not at its first call."""
        if self.settings.memory and len(self.memory):
            self.memory.warm()

    def ruled(self, text: str, spans: list[Span]) -> list[Span]:
        if not self.settings.rules:
            return spans
        return apply_rules(text, spans, self.schema.rules, self.schema.language)

    def spans(self, text: str, raw: list[Span], doc: Doc | None = None) -> list[Placed]:
        ruled = self.ruled(text, raw)
        if self.settings.memory and len(self.memory):
            return self.memory.apply(text, ruled, doc)
        return [(start, end, label, "model") for start, end, label in ruled]

    def events(self, events: list[EventRecord], placed: list[Placed]) -> list[EventRecord]:
        """Suggested events with each argument moved onto the learned span overlapping it
        (a determiner trimmed), or left out when the span is gone."""
        moved = []
        for event in events:
            args = []
            for arg in event.args:
                span = next((p for p in placed if p[0] < arg.end and arg.start < p[1]), None)
                if span is not None:
                    args.append(ArgumentRecord(arg.role, span[0], span[1]))
            unique = tuple(dict.fromkeys(args))
            moved.append(EventRecord(event.type, event.trigger, unique))
        return moved


def load_learner(store: Store, project: ProjectInfo, raw: str) -> Learner:
    """The project's learner, with a memory learned from its done human and gold layers
    compared with the ``raw`` model annotator's layers (after the rules)."""
    settings = learning_settings(project)
    memory = Memory(project.schema.language)
    learner = Learner(project.schema, settings, memory, learner_key(project, raw))
    if settings.memory:
        for layer in _done(store, project.id, raw):
            learner.learn(layer)
    return learner


def current_learner(store: Store, project: ProjectInfo, learner: Learner | None) -> Learner:
    """The project's learner now, at the cost of the layers done since ``learner``:
    ``learner`` itself when none of its sources changed, a copy that also learned the
    layers done since, or a new one (after the rules changed, or a layer it learned from
    was changed or is done no more)."""
    raw = raw_name(project.model_annotator)
    key = learner_key(project, raw)
    if learner is None or learner.key != key:
        return load_learner(store, project, raw)
    if not learner.settings.memory:
        return learner
    with store.reading() as session:
        sources = {row.id: _key(row) for row in session.execute(_done_query(project.id, raw))}
    if any(sources.get(layer_id) != stamp for layer_id, stamp in learner.sources.items()):
        return load_learner(store, project, raw)
    added = [layer_id for layer_id in sources if layer_id not in learner.sources]
    if not added:
        return learner
    memory = learner.memory.copy()
    updated = Learner(project.schema, learner.settings, memory, key, dict(learner.sources))
    for layer in _done(store, project.id, raw, added):
        updated.learn(layer)
    return updated


def done_layers(
    store: Store, project_id: int, raw: str, page: int = 200
) -> Iterator[tuple[str, list[Span], list[Span], str]]:
    """(text, analyst spans, raw model spans, annotator) of each done human or gold layer."""
    for layer in _done(store, project_id, raw, page=page):
        yield layer.text, layer.analyst, layer.model, layer.annotator


def _done_query(project_id: int, raw: str) -> DoneQuery:
    """The done human and gold layers of the project with what makes their keys (found
    through the layers' annotator and status index, never by reading the whole corpus)."""
    raw_layer = aliased(Layer)
    raw_id = select(Annotator.id).where(Annotator.name == raw).scalar_subquery()
    learns_from = select(Annotator.id).where(Annotator.kind.in_(LEARNS_FROM))
    in_project = select(Document.id).where(
        Document.id == Layer.document_id, Document.project_id == project_id
    )
    return (
        select(
            Layer.id,
            Layer.document_id,
            Annotator.name,
            Layer.version,
            raw_layer.version.label("raw_version"),
        )
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .outerjoin(
            raw_layer,
            (raw_layer.document_id == Layer.document_id) & (raw_layer.annotator_id == raw_id),
        )
        .where(Layer.annotator_id.in_(learns_from), Layer.status == "done", in_project.exists())
    )


def _key(row: Any) -> LayerKey:
    return (row.document_id, row.version, row.raw_version)


def _done(
    store: Store, project_id: int, raw: str, only: Sequence[int] | None = None, page: int = 200
) -> Iterator[DoneLayer]:
    """The done human and gold layers (those of ``only`` if given), a page at a time."""
    query = _done_query(project_id, raw)
    if only is None:
        with store.reading() as session:
            only = list(session.scalars(select(query.subquery().c.id)))
    ids = sorted(only)
    for first in range(0, len(ids), page):
        chunk = ids[first : first + page]
        yield from _done_page(store, raw, query.where(Layer.id.in_(chunk)).order_by(Layer.id))


def _done_page(store: Store, raw: str, query: DoneQuery) -> list[DoneLayer]:
    with store.reading() as session:
        rows = session.execute(query).all()
        doc_ids = {row.document_id for row in rows}
        read = select(Document.id, Document.text).where(Document.id.in_(doc_ids))
        texts = {doc_id: text for doc_id, text in session.execute(read)}
        raw_layers = _layer_ids(session, doc_ids, raw)
        spans = _spans(session, [row.id for row in rows] + list(raw_layers.values()))
    return [
        DoneLayer(
            row.id,
            _key(row),
            texts[row.document_id],
            spans.get(row.id, []),
            spans.get(raw_layers.get(row.document_id, -1), []),
            row.name,
        )
        for row in rows
    ]


def _layer_ids(session: Session, doc_ids: set[int], annotator: str) -> dict[int, int]:
    rows = session.execute(
        select(Layer.document_id, Layer.id)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Annotator.name == annotator, Layer.document_id.in_(doc_ids))
    )
    return {doc_id: layer_id for doc_id, layer_id in rows}


def _spans(session: Session, layer_ids: list[int]) -> dict[int, list[Span]]:
    spans: dict[int, list[Span]] = {}
    rows = session.execute(
        select(Entity.layer_id, Entity.start, Entity.end, Entity.label)
        .where(Entity.layer_id.in_(layer_ids))
        .order_by(Entity.layer_id, Entity.start, Entity.end)
    )
    for layer_id, start, end, label in rows:
        spans.setdefault(layer_id, []).append((start, end, label))
    return spans


def use_annotator(store: Store, project: ProjectInfo, raw: str, learn: bool) -> int:
    """Make the learned (or, without ``learn``, the raw) annotator of ``raw`` the project's
    model annotator; its id."""
    name = learned_name(raw) if learn else raw
    annotator_id = store.annotator_id(name, "model")
    if project.model_annotator != name:
        save_settings(store, project.id, model_annotator=name)
    return annotator_id


def raw_spans(store: Store, project: ProjectInfo, document_id: int) -> list[Span]:
    """The raw model spans of a document (empty when it has no raw layer)."""
    with store.reading() as session:
        layers = _layer_ids(session, {document_id}, raw_name(project.model_annotator))
        return _spans(session, list(layers.values())).get(layers.get(document_id, -1), [])


def explain(learner: Learner, text: str, span: Placed, raw: list[Span]) -> str | None:
    """Why a pre-annotated span (start, end, label, origin) is what it is, for a tooltip:
    the memory's counts for a "pattern" span, the raw model span the rules trimmed for a
    "model" one; None when it is just the model's."""
    start, end, label, origin = span
    if origin == "pattern":
        reason = learner.memory.reason(text[start:end])
        return f"Correction memory: {reason}" if reason else None
    if origin != "model" or (start, end, label) in raw:
        return None
    source = next((s for s in raw if s[0] < end and start < s[1]), None)
    if source is None or (source[0], source[1]) == (start, end):
        return None
    return f"Guideline rules: the model marked « {text[source[0] : source[1]]} »"
