"""The hub: units of work on projects, annotators and documents that the app and CLI call.

One ``Store`` per database. Each public method is one short transaction; edits go through
``Store.do`` / ``Store.undo`` with a command of ``models.commands`` and are committed at once.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    and_,
    bindparam,
    func,
    literal,
    select,
    true,
    update,
)
from sqlalchemy.orm import Session, sessionmaker

from models import db
from models.access import Identity, LayerVersion, check_access, layer_version, lock_expected
from models.bulk import insert_ids
from models.labels import LabelSchema, default_schema_text, parse_schema
from models.schema import Annotator, DocLabel, Document, Entity, Layer, Project
from models.search import listing_filter

if TYPE_CHECKING:
    from models.commands import Changes, Command
    from models.queues import Queue
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
    stance: tuple[tuple[str, str], ...] = ()  # (target, value) of the annotator's layer


@dataclass(frozen=True, slots=True)
class DocumentData:
    id: int
    project_id: int
    position: int
    title: str
    text: str
    meta: dict[str, Any]


class Store:
    """``read_only``: every edit is refused with ``db.ReadOnlyError``. ``identity`` (set by
    ``sign_in``, team mode): edits are allowed on the annotator's own layers only (and gold
    for a reviewer), see ``models.access``."""

    def __init__(self, engine: Engine, *, read_only: bool = False) -> None:
        self.engine = engine
        self.read_only = read_only
        self.identity: Identity | None = None
        self._sessions = sessionmaker(engine, expire_on_commit=False)
        self._writes = sessionmaker(db.write_engine(engine), expire_on_commit=False)

    @classmethod
    def open(cls, path_or_url: str | None = None, *, read_only: bool | None = None) -> Store:
        """Open (and upgrade) the database. ``read_only=None``: read-only when it is a SQLite
        file this process may not write (or whose write permission bits are off)."""
        if read_only is None:
            url = db.resolve_db(path_or_url)
            read_only = db.is_sqlite(url) and db.sqlite_file_read_only(Path(url.database or ""))
        return cls(db.open_engine(path_or_url, read_only=read_only), read_only=read_only)

    @property
    def team(self) -> bool:
        """A shared server database (not a SQLite file)."""
        return not db.is_sqlite(self.engine.url)

    def close(self) -> None:
        self.engine.dispose()

    @cached_property
    def url(self) -> str:
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A unit of work that writes (SQLite: it takes the write lock at once)."""
        with db.clear_errors(self.engine.url), self._writes() as session, session.begin():
            yield session

    @contextmanager
    def reading(self) -> Iterator[Session]:
        with db.clear_errors(self.engine.url), self._sessions() as session:
            yield session

    @contextmanager
    def connected(self) -> Iterator[Connection]:
        """A read on a Core connection, for the small reads of a document switch (a dozen):
        an ORM session costs as much again as the query."""
        with db.clear_errors(self.engine.url), self.engine.connect() as connection:
            yield connection

    # -- edits ---------------------------------------------------------------------------
    def do(self, command: Command, expected: LayerVersion | None = None) -> Changes:
        """Apply and commit the command. With ``expected`` the layer must still be at that
        version (``access.StaleLayerError`` otherwise). The Changes carry the layer's new
        version."""
        return self._edit(command.do, expected)

    def undo(self, command: Command, expected: LayerVersion | None = None) -> Changes:
        return self._edit(command.undo, expected)

    def _edit(self, apply: Callable[[Session], Changes], expected: LayerVersion | None) -> Changes:
        if self.read_only:
            raise db.ReadOnlyError(f"{self.url} is open read-only: nothing can be changed")
        with self.transaction() as session:
            if expected is not None:
                lock_expected(session, expected)
            changes = apply(session)
            if expected is not None and changes.layer_id != expected.layer_id:
                raise ValueError("the version checked is not that of the layer edited")
            if self.identity is not None:
                check_access(session, self.identity, changes.layer_id)
            return replace(changes, version=layer_version(session, changes.layer_id))

    def sign_in(self, name: str) -> Identity:
        """Team mode: from now on this store changes only ``name``'s layers (and gold if
        ``name`` is a reviewer). Creates the human annotator when new."""
        annotator_id = self.annotator_id(name, "human")
        with self.reading() as session:
            reviewer = bool(
                session.scalar(select(Annotator.reviewer).where(Annotator.id == annotator_id))
            )
        self.identity = Identity(annotator_id, name, reviewer)
        return self.identity

    def set_reviewer(self, name: str, reviewer: bool = True) -> None:
        """Give (or take) the reviewer role, which allows changing the gold layers."""
        self.annotator_id(name, "human")
        with self.transaction() as session:
            session.execute(
                update(Annotator).where(Annotator.name == name).values(reviewer=reviewer)
            )

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
        with self.reading() as session:
            known = session.scalar(select(Annotator.id).where(Annotator.name == name))
        if known is not None:
            return known
        if self.read_only:
            raise db.ReadOnlyError(f"{self.url} is open read-only and has no annotator {name}")
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
            found = insert_documents(session, project_id, documents)
            return [document_id if added else None for document_id, added in found]

    def document(self, document_id: int) -> DocumentData:
        """The document (``NoResultFound`` when there is none)."""
        with self.connected() as connection:
            return DocumentData(*connection.execute(_DOCUMENT, {"id": document_id}).one())

    def _listing(
        self,
        project_id: int,
        annotator_id: int,
        status: str | None,
        search: str | None,
        queue: Queue | None = None,
    ) -> Any:
        """Ids and positions of the listed documents. The annotator's layer is joined only
        to filter by status (a document without one is to do)."""
        query = select(Document.id, Document.position).where(Document.project_id == project_id)
        if queue is not None:
            query = query.where(queue.clause())
        if status == "todo":
            query = query.outerjoin(Layer, _layer_of(annotator_id)).where(
                func.coalesce(Layer.status, "todo") == "todo"
            )
        elif status:
            query = query.join(Layer, _layer_of(annotator_id)).where(Layer.status == status)
        if search:
            query = query.where(listing_filter(search, self.engine.dialect.name, project_id))
        return query

    def count_documents(
        self,
        project_id: int,
        annotator_id: int,
        status: str | None = None,
        search: str | None = None,
        queue: Queue | None = None,
        before: int | None = None,
    ) -> int:
        """Documents of the listing; with ``before``, only those before that corpus position
        (the row of the document at ``before`` in the list)."""
        listing = self._listing(project_id, annotator_id, status, search, queue)
        if before is not None:
            listing = listing.where(Document.position < before)
        with self.reading() as session:
            return int(session.scalar(select(func.count()).select_from(listing.subquery())) or 0)

    def document_rows(
        self,
        project_id: int,
        annotator_id: int,
        offset: int,
        limit: int,
        status: str | None = None,
        search: str | None = None,
        queue: Queue | None = None,
        after: int | None = None,
    ) -> list[DocumentRow]:
        """A page of the document list, in corpus order, with the entity count of the layer
        the annotator sees (their own, else the project's model layer); only the documents
        of ``queue`` when given. With ``after`` (a corpus position) the page starts after
        that document, ``offset`` rows further: a page next to a known one is found at once.
        """
        page = self._listing(project_id, annotator_id, status, search, queue)
        if after is not None:
            page = page.where(Document.position > after)
        return self._rows(page, offset, limit, project_id, annotator_id)[1]

    def first_rows(
        self,
        project_id: int,
        annotator_id: int,
        limit: int,
        status: str | None = None,
        search: str | None = None,
        queue: Queue | None = None,
    ) -> tuple[int, list[DocumentRow]]:
        """``count_documents`` and the first ``limit`` rows of ``document_rows``. With a
        search on PostgreSQL, in one query: each query scans the full-text index, 60 ms at
        100,000 documents for a common word. Elsewhere the count comes from an index."""
        page = self._listing(project_id, annotator_id, status, search, queue)
        if search and self.team:
            total, rows = self._rows(page, 0, limit, project_id, annotator_id, counted=True)
            return (total if rows else 0), rows
        total = self.count_documents(project_id, annotator_id, status, search, queue)
        return total, self._rows(page, 0, limit, project_id, annotator_id)[1]

    def _rows(
        self,
        page: Any,
        offset: int,
        limit: int,
        project_id: int,
        annotator_id: int,
        counted: bool = False,
    ) -> tuple[int, list[DocumentRow]]:
        """(the listing's size if ``counted``, else 0; the rows of the listing ``page``
        from ``offset``)."""
        size = func.count().over() if counted else literal(0)
        ids = (
            page.add_columns(size.label("size"))
            .order_by(Document.position)
            .offset(offset)
            .limit(limit)
            .subquery()
        )
        query = (
            select(
                Document.id,
                Document.position,
                Document.title,
                func.coalesce(Layer.status, "todo"),
                Layer.id,
                func.coalesce(Layer.seconds, 0.0),
                ids.c.size,
            )
            .join(ids, ids.c.id == Document.id)
            .outerjoin(Layer, _layer_of(annotator_id))
            .order_by(Document.position)
        )
        with self.reading() as session:
            rows = session.execute(query).all()
            model_id = self._model_annotator_id(session, project_id)
            counts = self._entity_counts(session, [row[0] for row in rows], annotator_id, model_id)
            stances = self._stances(session, [row[4] for row in rows if row[4] is not None])
        listed = [
            DocumentRow(
                doc_id,
                position,
                title,
                status_,
                counts.get(doc_id, 0),
                seconds,
                tuple(stances.get(layer_id, ())),
            )
            for doc_id, position, title, status_, layer_id, seconds, _ in rows
        ]
        return (int(rows[0][6]) if rows else 0), listed

    def _stances(self, session: Session, layer_ids: list[int]) -> dict[int, list[tuple[str, str]]]:
        """(target, value) of the stance rows of the layers, by layer, in one query."""
        from models.stance import TASK  # models.stance builds on this module

        if not layer_ids:
            return {}
        rows = session.execute(
            select(DocLabel.layer_id, DocLabel.target, DocLabel.value)
            .where(DocLabel.layer_id.in_(layer_ids), DocLabel.task == TASK)
            .order_by(DocLabel.layer_id, DocLabel.id)
        )
        stances: dict[int, list[tuple[str, str]]] = {}
        for layer_id, target, value in rows:
            stances.setdefault(layer_id, []).append((target, value))
        return stances

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

    def progress(
        self, project_id: int, annotator_id: int, queue: Queue | None = None
    ) -> tuple[int, int]:
        """(documents done by the annotator, documents in the project or in ``queue``)."""
        in_queue = queue.clause() if queue is not None else true()
        with self.reading() as session:
            total = session.scalar(
                select(func.count()).where(Document.project_id == project_id, in_queue)
            )
            done = session.scalar(
                select(func.count(Layer.id))
                .join(Document, Document.id == Layer.document_id)
                .where(
                    Document.project_id == project_id,
                    Layer.annotator_id == annotator_id,
                    Layer.status == "done",
                    in_queue,
                )
            )
            return int(done or 0), int(total or 0)

    def next_document(
        self,
        project_id: int,
        annotator_id: int,
        after_position: int,
        queue: Queue | None = None,
    ) -> int | None:
        """The next document not done by the annotator after ``after_position``, wrapping
        (within ``queue`` when given)."""
        not_done = (
            self._listing(project_id, annotator_id, None, None, queue)
            .outerjoin(Layer, _layer_of(annotator_id))
            .where(func.coalesce(Layer.status, "todo").not_in(("done", "skipped")))
            .order_by(Document.position)
            .limit(1)
        )
        with self.reading() as session:
            later = session.scalar(not_done.where(Document.position > after_position))
            if later is None:
                later = session.scalar(not_done)
            return int(later) if later is not None else None

    def neighbour(
        self, project_id: int, position: int, step: int, queue: Queue | None = None
    ) -> int | None:
        """The document ``step`` (+1/-1) positions away in corpus order (or in ``queue``)."""
        with self.reading() as session:
            query = select(Document.id).where(Document.project_id == project_id)
            if queue is not None:
                query = query.where(queue.clause())
            if step > 0:
                query = query.where(Document.position > position).order_by(Document.position)
            else:
                query = query.where(Document.position < position).order_by(Document.position.desc())
            found = session.scalar(query.limit(1))
            return int(found) if found is not None else None


def _layer_of(annotator_id: int) -> ColumnElement[bool]:
    """Join condition of a document's layer by ``annotator_id``."""
    return and_(Layer.document_id == Document.id, Layer.annotator_id == annotator_id)


# built once: the statement of every document opened (no statement to build and key each time)
_DOCUMENT = select(
    Document.id,
    Document.project_id,
    Document.position,
    Document.title,
    Document.text,
    Document.meta,
).where(Document.id == bindparam("id"))


def insert_documents(
    session: Session,
    project_id: int,
    documents: list[DocumentRecord],
    hashes: Sequence[str] | None = None,
) -> list[tuple[int, bool]]:
    """Insert the documents whose text is not in the project yet, after the last position;
    (document id, True when inserted) for each record, a repeated text given the id of its
    first occurrence. ``hashes``: the ``text_hash`` of each text, when already known."""
    if hashes is None:
        hashes = [text_hash(record.text) for record in documents]
    known: dict[str, int] = {
        digest: document_id
        for digest, document_id in session.execute(
            select(Document.sha256, Document.id).where(
                Document.project_id == project_id, Document.sha256.in_(set(hashes))
            )
        )
    }
    position = int(
        session.scalar(
            select(func.coalesce(func.max(Document.position), -1)).where(
                Document.project_id == project_id
            )
        )
        or 0
    )
    rows: dict[str, dict[str, Any]] = {}
    for record, digest in zip(documents, hashes, strict=True):
        if digest not in known and digest not in rows:
            position += 1
            rows[digest] = {
                "project_id": project_id,
                "external_id": record.external_id,
                "title": record.title,
                "text": record.text,
                "sha256": digest,
                "meta": record.meta,
                "position": position,
            }
    # multi-row statements (insert_ids): on SQLite, one flush of the search index each
    known.update(zip(rows, insert_ids(session, Document, list(rows.values())), strict=True))
    first = set(rows)  # texts inserted now: only their first record counts as added
    found = []
    for digest in hashes:
        found.append((known[digest], digest in first))
        first.discard(digest)
    return found


def text_hash(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _project_info(project: Project) -> ProjectInfo:
    schema = parse_schema(project.schema_toml, f"schema of project {project.name}")
    return ProjectInfo(project.id, project.name, schema, dict(project.settings or {}))
