"""Import and export between files and the store, streamed, as jobs (``models.jobs``).

- ``import_texts``: .txt files and folders → documents, in batches.
- ``import_file``: a structured file of ``models.formats`` → documents and, when the records
  carry annotations, the annotator's layer, in one streamed read that checks each record
  and writes the valid ones in batches with bulk inserts; a file with any problem imports
  nothing unless ``skip_invalid`` (what was written before the problem is taken back).
- ``export``: one annotator's layers → a file, streamed: documents are read a page at a time
  (``layer_records``, six queries a page) and written one at a time. With ``status="any"``
  every document of the project is written, those without a layer of the source with no
  annotations (and no annotator or status); ``status="done"`` writes only the documents whose
  source layer is done. What a format leaves out (``CARRIES``) and what its writer had to
  change (overlapping entities...) comes back as warnings in the report. spaCy exports
  also get a ``config.cfg`` for the components the data holds. A cancelled or failed export
  removes its partial file.
"""

from __future__ import annotations

import gc
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import wraps
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import delete, func, select, update

from models import formats
from models.formats import FORMATS, FormatSpec
from models.jobs import Job
from models.labels import IDENTIFIER, parse_schema
from models.layer_io import existing_layers, layer_records, record_problems, write_layers
from models.read_ahead import read_ahead
from models.records import DocumentRecord, Problem, Progress
from models.schema import Annotator, Document, Layer, Project
from models.store import ProjectInfo, Store, insert_documents, text_hash
from models.textfiles import expand_paths, read_text_file, title_of

BATCH = 200
IMPORT_BATCH = 1000  # records of a structured file written in one transaction
IMPORT_ANNOTATOR = "import"
GOLD = "gold"
T = TypeVar("T")
P = ParamSpec("P")
_NEW_COLOURS = ("#e6a23c", "#16a2a2", "#8c6d31", "#c94f9c", "#5b6abf", "#7a9e2e")
_NEW_KEYS = "567890bcghilmopqtuvwxyz"
# what each format carries from a layer back to a layer (README: the format table)
CARRIES: dict[str, frozenset[str]] = {
    "jsonl": frozenset({"entities", "stance", "evidence", "events", "text"}),
    "spacy": frozenset({"entities", "stance", "evidence", "events", "text"}),
    "prodigy": frozenset({"entities", "text"}),
    "doccano": frozenset({"entities", "events", "text"}),
    "labelstudio": frozenset({"entities", "stance", "text"}),
    "conll": frozenset({"entities"}),
}


class TransferError(ValueError):
    """A transfer that cannot start (unknown format, source or project); nothing was done."""


@dataclass
class ImportReport:
    added: int = 0
    duplicates: int = 0
    problems: list[Problem] = field(default_factory=list)
    layers: int = 0  # annotated layers written
    labels_added: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class ExportReport:
    documents: int
    annotated: int  # documents written with a layer of the source
    path: Path
    source: str
    warnings: tuple[str, ...] = ()


@contextmanager
def _collection_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off meanwhile (back on after, if it was on)."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _collector_paused(function: Callable[P, Job[T]]) -> Callable[P, Job[T]]:
    """The job with the cyclic garbage collector paused during each of its steps (not
    between them). A step makes hundreds of thousands of objects (records, spans, rows),
    none in a cycle: the collections they trigger took 0.3 to 0.4 s of a 10,000-article
    import or export. Closing the job closes ``function``'s generator."""

    @wraps(function)
    def job(*args: P.args, **kwargs: P.kwargs) -> Job[T]:
        steps = function(*args, **kwargs)
        try:
            while True:
                with _collection_paused():
                    try:
                        progress = next(steps)
                    except StopIteration as stop:
                        result: T = stop.value
                        return result
                yield progress
        finally:
            steps.close()

    return job


def import_texts(
    store: Store, project_id: int, paths: Iterable[Path], batch_size: int = BATCH
) -> Job[ImportReport]:
    """Import .txt files and folders; refused files are listed, the others imported."""
    files = list(expand_paths(paths))
    report = ImportReport()
    batch: list[DocumentRecord] = []
    for done, path in enumerate(files, 1):
        result = read_text_file(path)
        if isinstance(result, Problem):
            report.problems.append(result)
        else:
            batch.append(result)
        if len(batch) >= batch_size or done == len(files):
            _add(store, project_id, batch, report)
            batch = []
        yield Progress(done, len(files), path.name)
    return report


def import_texts_of(store: Store, project: ProjectInfo, paths: list[str]) -> Job[ImportReport]:
    """``import_texts`` as ``models.job_process`` runs it in a child process."""
    return import_texts(store, project.id, [Path(path) for path in paths])


def import_file_of(store: Store, project: ProjectInfo, path: str) -> Job[ImportReport]:
    """``import_file`` as ``models.job_process`` runs it in a child process."""
    return import_file(store, project.id, Path(path))


def _add(store: Store, project_id: int, batch: list[DocumentRecord], report: ImportReport) -> None:
    if batch:
        ids = store.add_documents(project_id, batch)
        added = sum(1 for new_id in ids if new_id is not None)
        report.added += added
        report.duplicates += len(ids) - added


def detect_format(path: Path, fmt: str = "auto") -> FormatSpec:
    """The format named ``fmt``; for "auto" by extension, then by content (``sniff``)."""
    if fmt != "auto":
        try:
            return formats.get(fmt)
        except ValueError as error:
            raise TransferError(str(error)) from None
    if path.is_dir():  # a spaCy export is a folder of .spacy files
        if any(path.glob("*.spacy")):
            return formats.get("spacy")
        raise TransferError(f"{path}: a folder without .spacy files")
    suffix = path.suffix.lower()
    candidates = [spec for spec in FORMATS.values() if suffix in spec.extensions]
    if len(candidates) == 1:
        return candidates[0]
    # the native format accepts the most, so it is asked last
    ordered = sorted(candidates or FORMATS.values(), key=lambda spec: spec.name == "jsonl")
    for spec in ordered:
        sniff = getattr(spec.load(), "sniff", None)
        if sniff is not None and path.is_file() and sniff(path):
            return spec
    raise TransferError(f"{path}: cannot tell the format: name it with --format")


@_collector_paused
def import_file(
    store: Store,
    project_id: int,
    path: Path,
    fmt: str = "auto",
    annotator: str | None = None,
    skip_invalid: bool = False,
    add_labels: bool = False,
    batch_size: int = IMPORT_BATCH,
) -> Job[ImportReport]:
    """Import a structured file: documents, and annotations into the annotator's layer
    (``annotator``, else each record's, else "import").

    One streamed read: each record is checked, the valid ones are written a batch (one
    transaction) at a time. A file with any problem imports nothing unless
    ``skip_invalid``: from the first problem on nothing more is written, the rest of the
    file is still checked (every problem is reported), and what the import wrote is taken
    back (``_ImportWriter.undo``). So that it can be, a record that would replace a layer
    made before the import is written only after the whole file was checked (those records
    are read a second time). A cancelled import keeps the batches written: importing the
    file again completes it (texts already there are skipped, layers rewritten)."""
    if not path.is_file() and not path.is_dir():
        raise TransferError(f"{path}: no such file")
    module = detect_format(path, fmt).load()
    project = _project(store, project_id)
    writer = _ImportWriter(store, project, annotator, add_labels, undoable=not skip_invalid)
    report = writer.report
    count = 0
    total = module.count(path) if hasattr(module, "count") else None
    checked = _checked_batches(module.read(path), writer, path, skip_invalid, batch_size)
    try:
        for count, batch, hashes in read_ahead(checked):  # the next batch is read meanwhile
            writer.write(batch, hashes)
            yield Progress(count, total, "importing")
        if count == 0:
            report.problems.append(Problem(str(path), 0, "no document in the file"))
        if report.problems and not skip_invalid:
            writer.undo()
            return report
        deferred, writer.deferred = writer.deferred, set()
        for chunk in _chunks(_records_at(module.read, path, deferred), batch_size):
            writer.write(chunk, replace=True)
            yield Progress(count, count, "replacing layers")
    except TransferError:
        writer.undo()
        raise
    yield Progress(count, count, "imported")
    return report


def _checked_batches(
    items: Iterable[DocumentRecord | Problem],
    writer: _ImportWriter,
    path: Path,
    skip_invalid: bool,
    size: int,
) -> Iterator[tuple[int, list[tuple[int, DocumentRecord]], list[str]]]:
    """(records read so far, the next batch of (index in the file, record) to write, the
    ``text_hash`` of each): the records that can be imported, none after the first problem
    unless ``skip_invalid`` (the problems go to the writer's report). The batches are of
    ``size`` records but the last, and come at least every ``size`` records read (for the
    progress), empty if need be. (Hashing here keeps the thread that writes from taking the
    GIL back after each text: hashlib lets it go for a long text.)"""
    batch: list[tuple[int, DocumentRecord]] = []
    hashes: list[str] = []
    count = 0
    report = writer.report
    for count, item in enumerate(items, 1):
        record = _checked(item, writer.project, path, report, writer.add_labels)
        if record is not None and (skip_invalid or not report.problems):
            batch.append((count, record))
            hashes.append(text_hash(record.text))
        if len(batch) >= size or count % size == 0:
            yield count, batch, hashes
            batch, hashes = [], []
    if batch:
        yield count, batch, hashes


def _checked(
    item: DocumentRecord | Problem,
    project: ProjectInfo,
    path: Path,
    report: ImportReport,
    add_labels: bool,
) -> DocumentRecord | None:
    """The record when it can be imported, else None with its problems added to the report."""
    if isinstance(item, Problem):
        report.problems.append(item)
        return None
    reasons = record_problems(item, project.schema, new_labels=add_labels)
    if add_labels:
        reasons += [
            f"label '{span.label}' cannot be added: ids are ASCII letters, digits or _"
            for span in item.spans
            if project.schema.entity(span.label) is None and not IDENTIFIER.match(span.label)
        ]
    report.problems += [Problem(str(path), item.line, reason) for reason in reasons]
    return None if reasons else item


def _records_at(
    read: Callable[[Path], Iterable[DocumentRecord | Problem]], path: Path, indexes: set[int]
) -> Iterator[tuple[int, DocumentRecord]]:
    """The records of the file at those indexes (from 1), read again."""
    if indexes:
        for index, item in enumerate(read(path), 1):
            if index in indexes and isinstance(item, DocumentRecord):
                yield index, item


def _chunks(items: Iterable[T], size: int) -> Iterator[list[T]]:
    chunk: list[T] = []
    for item in items:
        chunk.append(item)
        if len(chunk) >= size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _project(store: Store, project_id: int) -> ProjectInfo:
    with store.reading() as session:
        name = session.scalar(select(Project.name).where(Project.id == project_id))
    project = store.project(name) if name is not None else None
    if project is None:
        raise TransferError(f"no project with id {project_id}")
    return project


def _add_entity_labels(store: Store, project: ProjectInfo, labels: list[str]) -> list[str]:
    """Append the labels unknown to the project's schema to it; returns those added."""
    known = set(project.schema.entity_ids)
    new = [label for label in labels if label not in known]
    if not new:
        return []
    used = {label.key for label in project.schema.entities}
    keys = iter(key for key in _NEW_KEYS if key not in used)
    toml = project.schema.toml.rstrip("\n") + "\n"
    for index, label in enumerate(new):
        key = next(keys, None)
        if key is None:
            raise TransferError(f"no shortcut key left for the new label '{label}'")
        colour = _NEW_COLOURS[index % len(_NEW_COLOURS)]
        toml += (
            f'\n[[entities]]\nid = "{label}"\nname = "{label}"\ncolour = "{colour}"\n'
            f'key = "{key}"\ndescription = "Added by import."\n'
        )
    parse_schema(toml, f"schema of project {project.name}")
    with store.transaction() as session:
        session.execute(update(Project).where(Project.id == project.id).values(schema_toml=toml))
    return new


class _ImportWriter:
    """Writes the batches of one import and remembers what they created (documents, layers,
    labels of the schema) so that ``undo`` can take it back. With ``undoable`` a record that
    would replace a layer made before the import is not written: its index in the file is
    kept in ``deferred`` (``write(..., replace=True)`` writes such records)."""

    def __init__(
        self,
        store: Store,
        project: ProjectInfo,
        annotator: str | None,
        add_labels: bool,
        *,
        undoable: bool,
    ) -> None:
        self.store = store
        self.project = project
        self.annotator = annotator
        self.add_labels = add_labels
        self.undoable = undoable
        self.report = ImportReport()
        self.deferred: set[int] = set()
        self._schema_toml = project.schema.toml
        self._known = {name for name, _ in store.annotators()}
        self._annotators: set[str] = set()  # created by this import
        self._ids: dict[str, int] = {}  # annotator ids by name
        self._documents: list[int] = []
        self._layers: set[int] = set()

    def write(
        self,
        batch: list[tuple[int, DocumentRecord]],
        hashes: list[str] | None = None,
        replace: bool = False,
    ) -> None:
        """One transaction: the batch's new documents (``hashes``: their ``text_hash``
        when known), then the layers of its annotated records (``write_layers``; a text
        repeated in the file keeps its last annotations)."""
        if not batch:
            return
        records = [record for _, record in batch]
        if self.add_labels:
            self._add_labels(records)
        for record in records:
            record.title = record.title or title_of(record.text)
        owners = [
            self.annotator or r.annotator or IMPORT_ANNOTATOR
            if r.spans or r.stance or r.events or r.status is not None
            else None
            for r in records
        ]
        for name in {name for name in owners if name is not None} - self._ids.keys():
            self._ids[name] = self.store.annotator_id(name, _kind(self.project, name))
            if name not in self._known:
                self._annotators.add(name)
        ids = self._ids
        with self.store.transaction() as session:
            found = insert_documents(session, self.project.id, records, hashes)
            layers = {
                (document_id, ids[owner]): (index, record)
                for (index, record), (document_id, _), owner in zip(
                    batch, found, owners, strict=True
                )
                if owner is not None
            }
            existing = existing_layers(session, layers)
            if self.undoable and not replace:
                for key, layer_id in list(existing.items()):
                    if layer_id not in self._layers:
                        self.deferred.add(layers.pop(key)[0])
                        del existing[key]
            annotated = {key: record for key, (_, record) in layers.items()}
            created = write_layers(session, annotated, found=existing)
        self._layers.update(created)
        self._documents += [document_id for document_id, added in found if added]
        self.report.layers += sum(
            owner is not None and index not in self.deferred
            for (index, _), owner in zip(batch, owners, strict=True)
        )
        if not replace:  # the records written again were counted on their first pass
            added = sum(new for _, new in found)
            self.report.added += added
            self.report.duplicates += len(batch) - added

    def _add_labels(self, records: list[DocumentRecord]) -> None:
        labels = dict.fromkeys(span.label for record in records for span in record.spans)
        added = _add_entity_labels(self.store, self.project, list(labels))
        if added:
            self.report.labels_added += added
            self.project = _project(self.store, self.project.id)

    def undo(self) -> None:
        """Delete what the import created; the report keeps only the problems."""
        if not (self._documents or self._layers or self._annotators or self.report.labels_added):
            return
        with self.store.transaction() as session:
            for chunk in _chunks(sorted(self._layers), BATCH):
                session.execute(delete(Layer).where(Layer.id.in_(chunk)))
            for chunk in _chunks(self._documents, BATCH):
                session.execute(delete(Document).where(Document.id.in_(chunk)))
            session.execute(delete(Annotator).where(Annotator.name.in_(self._annotators)))
            if self.report.labels_added:
                session.execute(
                    update(Project)
                    .where(Project.id == self.project.id)
                    .values(schema_toml=self._schema_toml)
                )
        self._documents, self._layers = [], set()
        self.report.added = self.report.duplicates = self.report.layers = 0
        self.report.labels_added = []


def _kind(project: ProjectInfo, name: str) -> str:
    if name == project.model_annotator:
        return "model"
    return "gold" if name == GOLD else "human"


@_collector_paused
def export(
    store: Store,
    project_id: int,
    out: Path,
    fmt: str = "jsonl",
    source: str | None = None,
    status: str = "any",
    **options: Any,
) -> Job[ExportReport]:
    """Write the project's documents with the ``source`` annotator's layers to ``out`` (a
    folder for spaCy: train.spacy/ and dev.spacy/ (DocBin shards), config.cfg; ``options`` go
    to the writer: ``dev_fraction``, ``seed``)."""
    if status not in ("any", "done"):
        raise TransferError(f"unknown status filter '{status}' (any or done)")
    if not 0.0 <= options.get("dev_fraction", 0.0) <= 1.0:
        raise TransferError(
            f"the dev fraction must be between 0 and 1, not {options['dev_fraction']}"
        )
    spec = detect_format(out, fmt)
    project = _project(store, project_id)
    name, annotator_id = _source(store, project, source)
    if spec.name == "spacy":
        options.setdefault("stance_values", [value.id for value in project.schema.stance_values])
    total = _count(store, project_id, annotator_id, status)
    done = annotated = 0
    left_out = {"stance": 0, "evidence": 0, "events": 0}
    existed = out.exists()
    try:
        with spec.load().Writer(out, **options) as writer:
            for page in _pages(store, project_id, annotator_id, status):
                with store.reading() as session:
                    records = layer_records(session, page)
                for record in records:
                    writer.write(record)
                    done += 1
                    annotated += record.annotator is not None
                    left_out["stance"] += bool(record.stance)
                    left_out["evidence"] += any(s.evidence for s in record.stance)
                    left_out["events"] += bool(record.events)
                yield Progress(done, total, "exporting")
    except BaseException:  # cancelled (GeneratorExit) or failed: no partial file is left
        if not existed and out.is_file():
            out.unlink()
        raise
    warnings = _writer_warnings(writer, out)
    warnings += [
        f"{spec.name} does not carry {what}: left out of {count} document(s)"
        for what, count in left_out.items()
        if count and what not in CARRIES.get(spec.name, frozenset())
    ]
    return ExportReport(done, annotated, out, name, tuple(warnings))


def _writer_warnings(writer: Any, out: Path) -> list[str]:
    """What the writer changed or could not write; writes spaCy's config.cfg."""
    warnings = []
    overlapping = getattr(writer, "overlapping", 0)
    if overlapping and hasattr(writer, "split_counts"):
        warnings.append(
            f'{overlapping} overlapping entities moved to doc.spans["sc"]: doc.ents keeps '
            "the longest of each overlap, and ner trains on doc.ents only"
        )
    elif overlapping:
        warnings.append(f"{overlapping} overlapping entities left out (the longest kept)")
    if getattr(writer, "dropped", 0):
        warnings.append(f"{writer.dropped} entities of whitespace only left out")
    if hasattr(writer, "split_counts"):
        from models.formats.spacy_docbin import write_config

        warnings += [
            f"{split}.spacy holds no document: change the dev fraction or the seed"
            for split, count in writer.split_counts.items()
            if count == 0
        ]
        if writer.has_ner or writer.has_cats or writer.has_events:
            write_config(out, writer.has_ner, writer.has_cats, writer.has_events)
        else:
            warnings.append("no entities, stance or events: config.cfg not written")
    return warnings


def _source(store: Store, project: ProjectInfo, source: str | None) -> tuple[str, int | None]:
    """(annotator name, id) of the export source; "model", "gold" or a name, else the only
    human annotator who has layers in the project."""
    with store.reading() as session:
        if source is None:
            humans = session.execute(
                select(Annotator.name, Annotator.id)
                .distinct()
                .join(Layer, Layer.annotator_id == Annotator.id)
                .join(Document, Document.id == Layer.document_id)
                .where(Document.project_id == project.id, Annotator.kind == "human")
                .order_by(Annotator.name)
            ).all()
            if len(humans) != 1:
                names = ", ".join(name for name, _ in humans) or "none"
                raise TransferError(
                    f"choose the annotations to export with --source (human annotators: {names};"
                    " or model, gold)"
                )
            return humans[0][0], humans[0][1]
        if source == "model":
            source = project.model_annotator
        query = select(Annotator.name, Annotator.id)
        if source == GOLD:
            query = query.where((Annotator.kind == "gold") | (Annotator.name == GOLD))
        else:
            query = query.where(Annotator.name == source)
        found = session.execute(query.order_by(Annotator.id).limit(1)).first()
    if found is None:
        raise TransferError(f"no annotator named '{source}' in this database")
    return found[0], found[1]


def _listing(project_id: int, annotator_id: int | None, status: str) -> Any:
    join = (Layer.document_id == Document.id) & (Layer.annotator_id == annotator_id)
    query = (
        select(Document.id, Layer.id, Document.position)
        .outerjoin(Layer, join)
        .where(Document.project_id == project_id)
    )
    return query.where(Layer.status == "done") if status == "done" else query


def _count(store: Store, project_id: int, annotator_id: int | None, status: str) -> int:
    inner = _listing(project_id, annotator_id, status).subquery()
    with store.reading() as session:
        return int(session.scalar(select(func.count()).select_from(inner)) or 0)


def _pages(
    store: Store, project_id: int, annotator_id: int | None, status: str
) -> Iterator[list[tuple[int, int | None]]]:
    """(document id, layer id or None) in corpus order, a page at a time (keyset paging)."""
    after = -1
    while True:
        query = _listing(project_id, annotator_id, status)
        query = query.where(Document.position > after).order_by(Document.position).limit(BATCH)
        with store.reading() as session:
            rows = session.execute(query).all()
        if not rows:
            return
        yield [(document_id, layer_id) for document_id, layer_id, _ in rows]
        after = rows[-1][2]
