"""The hub: units of work on projects, annotators and documents that the app and CLI call.

One ``Store`` per database. Each public method is one short transaction; edits go through
``Store.do`` / ``Store.undo`` with a command of ``models.commands`` and are committed at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import cached_property
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine, and_, func, insert, or_, select
from sqlalchemy.orm import Session, sessionmaker

from models import db
from models.labels import LabelSchema, default_schema_text, parse_schema
from models.schema import Annotator, Document, Entity, Layer, Project

if TYPE_CHECKING:
    from models.commands import Changes, Command
    from models.records import DocumentRecord

DEFAULT_PROJECT = "default"
DEFAULT_MODEL = "fr_core_news_sm@3.8.0"


@dataclass(frozen=True, slots=True)
class ProjectInfo:
    id: int
    name: str
    schema: LabelSchema
    settings: dict[str, Any]

    @property
    def model_annotator(self) -> str:
        return str(self.settings.get("model_annotator", DEFAULT_MODEL))


@dataclass(frozen=True, slots=True)
class DocumentRow:
    """One line of the document list: the document as the given annotator sees it."""

    id: int
    position: int
    title: str
    status: str
    entities: int
    seconds: float


@dataclass(frozen=True, slots=True)
class DocumentData:
    id: int
    project_id: int
    position: int
    title: str
    text: str
    meta: dict[str, Any]


class Store:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @classmethod
    def open(cls, path_or_url: str | None = None) -> Store:
        return cls(db.open_engine(path_or_url))

    def close(self) -> None:
        self.engine.dispose()

    @cached_property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        with self._sessions() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with self._sessions() as session:
            yield session

    # -- edits ---------------------------------------------------------------------------
    def do(self, command: Command) -> Changes:
        with self.transaction() as session:
            return command.do(session)

    def undo(self, command: Command) -> Changes:
        with self.transaction() as session:
            return command.undo(session)

    # -- projects ------------------------------------------------------------------------
    def ensure_project(
        self, name: str = DEFAULT_PROJECT, schema_toml: str | None = None
    ) -> ProjectInfo:
        """The project of that name, created with ``schema_toml`` (default schema) if new."""
        with self.transaction() as session:
            project = session.scalar(select(Project).where(Project.name == name))
            if project is None:
                toml = schema_toml or default_schema_text()
                parse_schema(toml, f"schema of project {name}")
                project = Project(name=name, schema_toml=toml, settings={})
                session.add(project)
                session.flush()
            return _project_info(project)

    def project(self, name: str | None = None) -> ProjectInfo | None:
        """The named project; without a name the only (or first created) project."""
        with self.reading() as session:
            query = select(Project).order_by(Project.id)
            if name is not None:
                query = query.where(Project.name == name)
            project = session.scalars(query.limit(1)).first()
            return _project_info(project) if project else None

    # -- annotators ----------------------------------------------------------------------
    def annotator_id(self, name: str, kind: str = "human") -> int:
        """Id of the annotator ``name``, created with ``kind`` when it does not exist yet."""
        with self.transaction() as session:
            annotator_id = session.scalar(select(Annotator.id).where(Annotator.name == name))
            if annotator_id is None:
                annotator = Annotator(name=name, kind=kind)
                session.add(annotator)
                session.flush()
                annotator_id = annotator.id
            return annotator_id

    def annotators(self) -> list[tuple[str, str]]:
        with self.reading() as session:
            rows = session.execute(select(Annotator.name, Annotator.kind).order_by(Annotator.name))
            return [(name, kind) for name, kind in rows]

    # -- documents -----------------------------------------------------------------------
    def add_documents(self, project_id: int, documents: list[DocumentRecord]) -> list[int | None]:
        """Insert documents in one transaction; a text already in the project is skipped.

        Returns, for each record, the new document id or None when it was a duplicate.
        """
        with self.transaction() as session:
            hashes = [text_hash(record.text) for record in documents]
            known = set(
                session.scalars(
                    select(Document.sha256).where(
                        Document.project_id == project_id, Document.sha256.in_(set(hashes))
                    )
                )
            )
            position = int(
                session.scalar(
                    select(func.coalesce(func.max(Document.position), -1)).where(
                        Document.project_id == project_id
                    )
                )
                or 0
            )
            rows, slots = [], []
            for index, (record, digest) in enumerate(zip(documents, hashes, strict=True)):
                if digest in known:
                    continue
                known.add(digest)
                position += 1
                rows.append(
                    {
                        "project_id": project_id,
                        "external_id": record.external_id,
                        "title": record.title,
                        "text": record.text,
                        "sha256": digest,
                        "meta": record.meta,
                        "position": position,
                    }
                )
                slots.append(index)
            ids: list[int | None] = [None] * len(documents)
            if rows:
                new_ids = session.scalars(
                    insert(Document).returning(Document.id, sort_by_parameter_order=True), rows
                ).all()
                for index, new_id in zip(slots, new_ids, strict=True):
                    ids[index] = new_id
            return ids

    def document(self, document_id: int) -> DocumentData:
        with self.reading() as session:
            doc = session.get_one(Document, document_id)
            return DocumentData(doc.id, doc.project_id, doc.position, doc.title, doc.text, doc.meta)

    def _listing(
        self, project_id: int, annotator_id: int, status: str | None, search: str | None
    ) -> Any:
        layer = and_(Layer.document_id == Document.id, Layer.annotator_id == annotator_id)
        status_column = func.coalesce(Layer.status, "todo")
        query = (
            select(
                Document.id,
                Document.position,
                Document.title,
                status_column.label("status"),
                Layer.id.label("layer_id"),
                func.coalesce(Layer.seconds, 0.0).label("seconds"),
            )
            .outerjoin(Layer, layer)
            .where(Document.project_id == project_id)
        )
        if status:
            query = query.where(status_column == status)
        if search:
            pattern = f"%{search}%"
            query = query.where(or_(Document.title.ilike(pattern), Document.text.ilike(pattern)))
        return query

    def count_documents(
        self,
        project_id: int,
        annotator_id: int,
        status: str | None = None,
        search: str | None = None,
    ) -> int:
        inner = self._listing(project_id, annotator_id, status, search).subquery()
        with self.reading() as session:
            return int(session.scalar(select(func.count()).select_from(inner)) or 0)

    def document_rows(
        self,
        project_id: int,
        annotator_id: int,
        offset: int,
        limit: int,
        status: str | None = None,
        search: str | None = None,
    ) -> list[DocumentRow]:
        """A page of the document list, in corpus order, with the entity count of the layer
        the annotator sees (their own, else the project's model layer)."""
        query = self._listing(project_id, annotator_id, status, search)
        query = query.order_by(Document.position).offset(offset).limit(limit)
        with self.reading() as session:
            rows = session.execute(query).all()
            model_id = self._model_annotator_id(session, project_id)
            counts = self._entity_counts(session, [row[0] for row in rows], annotator_id, model_id)
        return [
            DocumentRow(doc_id, position, title, status_, counts.get(doc_id, 0), seconds)
            for doc_id, position, title, status_, _layer, seconds in rows
        ]

    def _model_annotator_id(self, session: Session, project_id: int) -> int | None:
        settings = session.scalar(select(Project.settings).where(Project.id == project_id)) or {}
        name = settings.get("model_annotator", DEFAULT_MODEL)
        return session.scalar(select(Annotator.id).where(Annotator.name == name))

    def _entity_counts(
        self, session: Session, document_ids: list[int], annotator_id: int, model_id: int | None
    ) -> dict[int, int]:
        if not document_ids:
            return {}
        annotators = [annotator_id] + ([model_id] if model_id is not None else [])
        rows = session.execute(
            select(Layer.document_id, Layer.annotator_id, func.count(Entity.id))
            .outerjoin(Entity, Entity.layer_id == Layer.id)
            .where(Layer.document_id.in_(document_ids), Layer.annotator_id.in_(annotators))
            .group_by(Layer.document_id, Layer.annotator_id)
        ).all()
        counts: dict[int, int] = {}
        for doc_id, owner, count in rows:
            if owner == annotator_id or doc_id not in counts:
                counts[doc_id] = count
        return counts

    def progress(self, project_id: int, annotator_id: int) -> tuple[int, int]:
        """(documents done by the annotator, documents in the project)."""
        with self.reading() as session:
            total = session.scalar(
                select(func.count(Document.id)).where(Document.project_id == project_id)
            )
            done = session.scalar(
                select(func.count(Layer.id))
                .join(Document, Document.id == Layer.document_id)
                .where(
                    Document.project_id == project_id,
                    Layer.annotator_id == annotator_id,
                    Layer.status == "done",
                )
            )
            return int(done or 0), int(total or 0)

    def next_document(self, project_id: int, annotator_id: int, after_position: int) -> int | None:
        """The next document not done by the annotator after ``after_position``, wrapping."""
        listing = self._listing(project_id, annotator_id, None, None).subquery()
        not_done = (
            select(listing.c.id, listing.c.position)
            .where(listing.c.status.not_in(("done", "skipped")))
            .subquery()
        )
        with self.reading() as session:
            later = session.scalar(
                select(not_done.c.id)
                .where(not_done.c.position > after_position)
                .order_by(not_done.c.position)
                .limit(1)
            )
            if later is not None:
                return int(later)
            first = session.scalar(select(not_done.c.id).order_by(not_done.c.position).limit(1))
            return int(first) if first is not None else None

    def neighbour(self, project_id: int, position: int, step: int) -> int | None:
        """The document ``step`` (+1/-1) positions away in corpus order, if any."""
        with self.reading() as session:
            query = select(Document.id).where(Document.project_id == project_id)
            if step > 0:
                query = query.where(Document.position > position).order_by(Document.position)
            else:
                query = query.where(Document.position < position).order_by(Document.position.desc())
            found = session.scalar(query.limit(1))
            return int(found) if found is not None else None


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _project_info(project: Project) -> ProjectInfo:
    schema = parse_schema(project.schema_toml, f"schema of project {project.name}")
    return ProjectInfo(project.id, project.name, schema, dict(project.settings or {}))
