"""The headless commands (no Qt): import, preannotate, export, stats, db upgrade.

Exit codes: 0 all went in, 1 something was refused (each problem on stderr as
"file:line: reason"), 2 usage error or a database / schema that cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TypeVar

from sqlalchemy import func, select
from tqdm import tqdm

from models import db
from models.formats import FORMATS
from models.jobs import Job, run
from models.labels import SchemaError
from models.records import Problem, Progress
from models.schema import Annotator, Document, Entity, Layer
from models.store import DEFAULT_PROJECT, ProjectInfo, Store
from models.transfer import ImportReport, TransferError, export, import_file, import_texts

T = TypeVar("T")
COMMANDS: frozenset[str] = frozenset({"import", "preannotate", "export", "stats", "db"})
OK, REFUSED, USAGE = 0, 1, 2


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    except SystemExit as stop:  # argparse: --help (0) or a usage error (2)
        return stop.code if isinstance(stop.code, int) else USAGE
    handler: Callable[[argparse.Namespace], int] = args.handler
    try:
        return handler(args)
    except (db.DatabaseError, SchemaError, TransferError, OSError) as error:
        print(f"glose {args.command}: {error}", file=sys.stderr)
        return USAGE
    except KeyboardInterrupt:
        print(f"glose {args.command}: interrupted", file=sys.stderr)
        return 130


def _parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--db", default=argparse.SUPPRESS, help="SQLite file or database URL (default: $GLOSE_DB)"
    )
    common.add_argument("--project", default=argparse.SUPPRESS, help="project name")
    parser = argparse.ArgumentParser(prog="glose", parents=[common])
    parser.add_argument("--annotator", default=argparse.SUPPRESS, help=argparse.SUPPRESS)
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    sub = commands.add_parser("import", parents=[common], help="import texts or annotated files")
    sub.add_argument("paths", nargs="+", type=Path, metavar="PATH", help="files or folders")
    sub.add_argument("--schema", type=Path, help="label schema (TOML) of a new project")
    sub.add_argument("--format", default="auto", help="txt, auto or one of: " + _format_names())
    sub.add_argument("--annotator", default=argparse.SUPPRESS, help="layer of the annotations")
    sub.add_argument("--skip-invalid", action="store_true", help="import the valid records")
    sub.add_argument("--add-labels", action="store_true", help="add unknown entity labels")
    sub.set_defaults(handler=_import)

    sub = commands.add_parser("preannotate", parents=[common], help="run spaCy's NER")
    sub.add_argument("--n-process", type=int, default=1)
    sub.add_argument("--batch-size", type=int, default=64)
    sub.add_argument("--redo", action="store_true", help="replace existing model layers")
    sub.set_defaults(handler=_preannotate)

    sub = commands.add_parser("export", parents=[common], help="export one annotator's work")
    sub.add_argument("--format", default="jsonl", help=_format_names())
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--source", help="annotator name, model or gold (default: the only human)")
    sub.add_argument("--status", choices=("any", "done"), default="any")
    sub.add_argument("--dev-fraction", type=float, default=argparse.SUPPRESS)
    sub.add_argument("--seed", type=int, default=argparse.SUPPRESS)
    sub.set_defaults(handler=_export)

    sub = commands.add_parser("stats", parents=[common], help="documents, layers, entities")
    sub.set_defaults(handler=_stats)

    sub = commands.add_parser("db", parents=[common], help="database maintenance")
    sub.add_argument("action", choices=("upgrade",))
    sub.set_defaults(handler=_db_upgrade)
    return parser


def _format_names() -> str:
    return ", ".join(sorted(FORMATS))


def _open(args: argparse.Namespace) -> Store:
    return Store.open(getattr(args, "db", None))


def _existing_project(store: Store, args: argparse.Namespace) -> ProjectInfo:
    name = getattr(args, "project", None)
    project = store.project(name)
    if project is None:
        where = f"no project '{name}'" if name else "no project yet"
        raise TransferError(f"{store.url}: {where} (run glose import first)")
    return project


def _drive(job: Job[T], what: str) -> T:
    """Run a job with a progress bar on stderr (silent when stderr is not a terminal)."""
    with tqdm(desc=what, file=sys.stderr, disable=not sys.stderr.isatty(), unit="doc") as bar:

        def step(progress: Progress) -> None:
            bar.total = progress.total
            bar.n = progress.done
            bar.set_postfix_str(progress.message, refresh=False)
            bar.refresh()

        return run(job, step)


def _problems(problems: list[Problem]) -> int:
    for problem in problems:
        print(problem, file=sys.stderr)
    return REFUSED if problems else OK


def _import(args: argparse.Namespace) -> int:
    schema = args.schema.read_text("utf-8") if args.schema else None
    store = _open(args)
    try:
        name = getattr(args, "project", None)
        existing = store.project(name)
        project = existing or store.ensure_project(name or DEFAULT_PROJECT, schema)
        if existing is not None and schema is not None:
            print(f"project {existing.name} exists: --schema ignored", file=sys.stderr)
        structured_suffixes = {ext for spec in FORMATS.values() for ext in spec.extensions}
        texts, files = [], []
        for path in args.paths:
            structured = path.is_file() and path.suffix.lower() in structured_suffixes
            if args.format == "txt" or (args.format == "auto" and not structured):
                texts.append(path)
            else:
                files.append(path)
        reports = [_drive(import_texts(store, project.id, texts), "import")] if texts else []
        for path in files:
            job = import_file(
                store,
                project.id,
                path,
                fmt=args.format,
                annotator=getattr(args, "annotator", None),
                skip_invalid=args.skip_invalid,
                add_labels=args.add_labels,
            )
            try:
                reports.append(_drive(job, path.name))
            except TransferError as error:
                reports.append(ImportReport(problems=[Problem(str(path), 0, str(error))]))
    finally:
        store.close()
    problems = [problem for report in reports for problem in report.problems]
    added = sum(report.added for report in reports)
    duplicates = sum(report.duplicates for report in reports)
    layers = sum(report.layers for report in reports)
    print(
        f"project {project.name}: {added} document(s) added, {duplicates} already there, "
        f"{layers} annotated layer(s) written, {len(problems)} problem(s)"
    )
    for label in (label for report in reports for label in report.labels_added):
        print(f"label {label} added to the schema")
    return _problems(problems)


def _preannotate(args: argparse.Namespace) -> int:
    from models.preannotate import preannotate  # spaCy is loaded only for this command

    store = _open(args)
    try:
        project = _existing_project(store, args)
        job = preannotate(
            store, project, batch_size=args.batch_size, n_process=args.n_process, redo=args.redo
        )
        report = _drive(job, "preannotate")
    finally:
        store.close()
    print(f"{report.documents} document(s) pre-annotated, {report.entities} entities")
    return OK


def _export(args: argparse.Namespace) -> int:
    options = {key: getattr(args, key) for key in ("dev_fraction", "seed") if hasattr(args, key)}
    store = _open(args)
    try:
        project = _existing_project(store, args)
        job = export(
            store,
            project.id,
            args.out,
            fmt=args.format,
            source=args.source,
            status=args.status,
            **options,
        )
        report = _drive(job, "export")
    finally:
        store.close()
    print(
        f"{report.documents} document(s) written to {report.path} "
        f"({report.annotated} with annotations of {report.source})"
    )
    return OK


def _stats(args: argparse.Namespace) -> int:
    store = _open(args)
    try:
        project = _existing_project(store, args)
        lines = project_stats(store, project)
    finally:
        store.close()
    print("\n".join(lines))
    return OK


def project_stats(store: Store, project: ProjectInfo) -> list[str]:
    """A plain-text summary: documents, annotators and their layers by status, entities
    by annotator, label and origin."""
    with store.reading() as session:
        documents = session.scalar(
            select(func.count(Document.id)).where(Document.project_id == project.id)
        )
        layers = session.execute(
            select(Annotator.name, Annotator.kind, Layer.status, func.count(Layer.id))
            .join(Layer, Layer.annotator_id == Annotator.id)
            .join(Document, Document.id == Layer.document_id)
            .where(Document.project_id == project.id)
            .group_by(Annotator.name, Annotator.kind, Layer.status)
            .order_by(Annotator.name, Layer.status)
        ).all()
        entities = session.execute(
            select(Annotator.name, Entity.label, Entity.origin, func.count(Entity.id))
            .join(Layer, Layer.id == Entity.layer_id)
            .join(Annotator, Annotator.id == Layer.annotator_id)
            .join(Document, Document.id == Layer.document_id)
            .where(Document.project_id == project.id)
            .group_by(Annotator.name, Entity.label, Entity.origin)
            .order_by(Annotator.name, Entity.label, Entity.origin)
        ).all()
    lines = [f"project {project.name}: {documents or 0} document(s)", "layers:"]
    by_annotator: dict[tuple[str, str], list[str]] = {}
    for name, kind, status, count in layers:
        by_annotator.setdefault((name, kind), []).append(f"{status} {count}")
    lines += [
        f"  {name} ({kind}): {', '.join(parts)}" for (name, kind), parts in by_annotator.items()
    ]
    lines.append("entities:")
    lines += [f"  {name}: {label} {origin} {count}" for name, label, origin, count in entities]
    return lines


def _db_upgrade(args: argparse.Namespace) -> int:
    engine = db.open_engine(getattr(args, "db", None), migrate=False)
    url = engine.url.render_as_string(hide_password=True)
    try:
        before = db.current_revision(engine)
        backup = db.upgrade(engine)
        after = db.current_revision(engine)
    except Exception as error:  # any failure of the migration, named with the database
        raise db.DatabaseError(f"{url}: cannot upgrade: {error}") from error
    finally:
        engine.dispose()
    if before == after:
        print(f"{url}: already at revision {after}")
    else:
        print(f"{url}: upgraded from {before or 'an empty database'} to revision {after}")
    if backup:
        print(f"backup: {backup}")
    return OK
