"""Pre-annotation that learns: the model's raw output, then the schema's rules
(``models.rules``), then the correction memory (``models.memory``).

Two model annotators per pipeline. The raw one (``fr_core_news_sm@3.8.0``) keeps spaCy's
spans exactly; the learned one (``fr_core_news_sm@3.8.0+learned``) holds what analysts are
seeded with, and is the project's model annotator while learning is on. Refreshing the
learned layers after new corrections therefore needs no spaCy run: rules and memory are
re-applied to the stored raw spans (``refresh``). Only documents no human has opened are
refreshed: a human layer is never rewritten (it is a copy, made when first opened), and
the model layers of documents analysts worked on stay as they were, so model-vs-analyst
agreement is not inflated by memory learned from the same document.

The sources are switched per project in ``settings["learning"]`` (``LearningSettings``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from models.labels import LabelSchema
from models.memory import Memory, Placed
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
    documents: int
    forms: int  # forms in the memory


def learning_settings(project: ProjectInfo) -> LearningSettings:
    stored = project.settings.get(SETTINGS, {})
    known = {k: bool(v) for k, v in stored.items() if k in LearningSettings.__slots__}
    return LearningSettings(**known)


def save_settings(store: Store, project_id: int, **values: Any) -> dict[str, Any]:
    """Merge ``values`` into the project's settings (one locked transaction); the result."""
    with store.transaction() as session:
        query = select(Project.settings).where(Project.id == project_id)
        if session.bind is not None and session.bind.dialect.name != "sqlite":
            query = query.with_for_update()
        settings = {**(session.scalar(query) or {}), **values}
        session.execute(update(Project).where(Project.id == project_id).values(settings=settings))
        return settings


def set_learning(store: Store, project_id: int, settings: LearningSettings) -> None:
    save_settings(store, project_id, **{SETTINGS: asdict(settings)})


def learned_name(raw: str) -> str:
    return raw + LEARNED


def raw_name(model_annotator: str) -> str:
    return model_annotator.removesuffix(LEARNED)


class Learner:
    """Rules and memory of one project, applied to the raw spans of a document."""

    def __init__(self, schema: LabelSchema, settings: LearningSettings, memory: Memory) -> None:
        self.schema, self.settings, self.memory = schema, settings, memory

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
    learner = Learner(project.schema, settings, Memory(project.schema.language))
    if settings.memory:
        for text, analyst, model, annotator in done_layers(store, project.id, raw):
            learner.memory.learn(text, analyst, learner.ruled(text, model), annotator)
    return learner


def done_layers(
    store: Store, project_id: int, raw: str, page: int = 200
) -> Iterator[tuple[str, list[Span], list[Span], str]]:
    """(text, analyst spans, raw model spans, annotator) of each done human or gold layer."""
    after = 0
    while True:
        with store.reading() as session:
            rows = session.execute(
                select(Layer.id, Layer.document_id, Annotator.name)
                .join(Annotator, Annotator.id == Layer.annotator_id)
                .join(Document, Document.id == Layer.document_id)
                .where(
                    Document.project_id == project_id,
                    Layer.status == "done",
                    Annotator.kind.in_(LEARNS_FROM),
                    Layer.id > after,
                )
                .order_by(Layer.id)
                .limit(page)
            ).all()
            doc_ids = {doc_id for _, doc_id, _ in rows}
            texts: dict[int, str] = {
                doc_id: text
                for doc_id, text in session.execute(
                    select(Document.id, Document.text).where(Document.id.in_(doc_ids))
                )
            }
            raw_layers = _layer_ids(session, doc_ids, raw)
            spans = _spans(session, [r[0] for r in rows] + list(raw_layers.values()))
        for layer_id, doc_id, name in rows:
            model = spans.get(raw_layers.get(doc_id, -1), [])
            yield texts[doc_id], spans.get(layer_id, []), model, name
        if len(rows) < page:
            return
        after = rows[-1][0]


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
