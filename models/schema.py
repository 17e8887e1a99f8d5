"""ORM classes of Glose (SQLAlchemy 2.0 typed declarative).

Offsets (``start``/``end``) are Python code points into ``Document.text``, end exclusive.
Every annotation row belongs to a ``Layer``: one annotator's work on one document.
Event arguments carry their layer so that composite foreign keys make the database itself
refuse an argument whose event or entity lives in another layer, and delete the argument
when its entity is deleted.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

ANNOTATOR_KINDS = ("human", "model", "gold")
LAYER_STATUSES = ("todo", "in_progress", "done", "skipped")
ORIGINS = ("model", "manual", "import", "pattern")
EVENT_STATES = ("accepted", "suggested", "rejected")


def utcnow() -> datetime:
    return datetime.now(UTC)


def _in(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


def _any_of(column: str, values: tuple[str, ...]) -> str:
    """``_in`` written with OR: SQLite builds a lookup table for an IN check at every row
    inserted, which costs 0.65 s per 400,000 rows; for the bulk-inserted entities."""
    return " OR ".join(f"{column} = {v!r}" for v in values)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {dict[str, Any]: JSON, list[Any]: JSON}


class Project(Base):
    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    schema_toml: Mapped[str] = mapped_column(Text)
    settings: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)


class Document(Base):
    __tablename__ = "documents"
    __table_args__ = (
        UniqueConstraint("project_id", "sha256", name="uq_documents_project_sha256"),
        Index("ix_documents_project_position", "project_id", "position"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"))
    external_id: Mapped[str | None] = mapped_column(String(200))
    title: Mapped[str] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    sha256: Mapped[str] = mapped_column(String(64))
    meta: Mapped[dict[str, Any]] = mapped_column(default=dict)
    position: Mapped[int] = mapped_column(Integer)


class Annotator(Base):
    __tablename__ = "annotators"
    __table_args__ = (CheckConstraint(_in("kind", ANNOTATOR_KINDS), name="ck_annotators_kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[str] = mapped_column(String(8))
    # may change the gold layers in team mode (models.access); added by migration 0002
    reviewer: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())


class Layer(Base):
    __tablename__ = "layers"
    __table_args__ = (
        UniqueConstraint("document_id", "annotator_id", name="uq_layers_document_annotator"),
        Index("ix_layers_annotator_status", "annotator_id", "status"),
        CheckConstraint(_in("status", LAYER_STATUSES), name="ck_layers_status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"))
    annotator_id: Mapped[int] = mapped_column(ForeignKey("annotators.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(String(12), default="todo")
    seconds: Mapped[float] = mapped_column(Float, default=0.0)
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True), default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    annotator: Mapped[Annotator] = relationship(lazy="joined")


class Entity(Base):
    """The unique index (layer_id, id) is the parent key of event_arguments' composite
    foreign key and the per-layer lookup (migration 0004)."""

    __tablename__ = "entities"
    __table_args__ = (
        Index("uq_entities_layer_id", "layer_id", "id", unique=True),
        CheckConstraint('start >= 0 AND "end" > start', name="ck_entities_range"),
        CheckConstraint(_any_of("origin", ORIGINS), name="ck_entities_origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    start: Mapped[int] = mapped_column(Integer)
    end: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(64))
    origin: Mapped[str] = mapped_column(String(8))
    score: Mapped[float | None] = mapped_column(Float)


class DocLabel(Base):
    """A document-level category, e.g. task="stance", target="Russie", value="favorable"."""

    __tablename__ = "doc_labels"
    __table_args__ = (
        UniqueConstraint("layer_id", "task", "target", name="uq_doc_labels_layer_task_target"),
        CheckConstraint(_in("origin", ORIGINS), name="ck_doc_labels_origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    task: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(200))
    value: Mapped[str] = mapped_column(String(200))
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    origin: Mapped[str] = mapped_column(String(8), default="manual")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (
        UniqueConstraint("id", "layer_id", name="uq_events_id_layer"),
        Index("ix_events_layer", "layer_id"),
        CheckConstraint(
            "trigger_start >= 0 AND trigger_end > trigger_start", name="ck_events_range"
        ),
        CheckConstraint(_in("origin", ORIGINS), name="ck_events_origin"),
        CheckConstraint(_in("state", EVENT_STATES), name="ck_events_state"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    layer_id: Mapped[int] = mapped_column(ForeignKey("layers.id", ondelete="CASCADE"))
    type: Mapped[str] = mapped_column(String(64))
    trigger_start: Mapped[int] = mapped_column(Integer)
    trigger_end: Mapped[int] = mapped_column(Integer)
    attributes: Mapped[dict[str, Any]] = mapped_column(default=dict)
    origin: Mapped[str] = mapped_column(String(8), default="manual")
    state: Mapped[str] = mapped_column(String(10), default="accepted")


class EventArgument(Base):
    """A role of an event filled by an entity of the same layer (enforced by composite FKs)."""

    __tablename__ = "event_arguments"
    __table_args__ = (
        ForeignKeyConstraint(
            ["event_id", "layer_id"],
            ["events.id", "events.layer_id"],
            ondelete="CASCADE",
            name="fk_event_arguments_event_layer",
        ),
        ForeignKeyConstraint(
            ["entity_id", "layer_id"],
            ["entities.id", "entities.layer_id"],
            ondelete="CASCADE",
            name="fk_event_arguments_entity_layer",
        ),
        UniqueConstraint("event_id", "role", "entity_id", name="uq_event_arguments_role_entity"),
        Index("ix_event_arguments_entity", "entity_id"),
        CheckConstraint(_in("origin", ORIGINS), name="ck_event_arguments_origin"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(Integer)
    layer_id: Mapped[int] = mapped_column(Integer)
    role: Mapped[str] = mapped_column(String(64))
    entity_id: Mapped[int] = mapped_column(Integer)
    origin: Mapped[str] = mapped_column(String(8), default="manual")
