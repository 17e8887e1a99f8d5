"""The headless commands (no Qt): import, preannotate, export, agreement, stats,
db upgrade, search.

Exit codes: 0 all went in, 1 something was refused (each problem on stderr as
"file:line: reason"), 2 usage error or a database / schema that cannot be used.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy import func, select
from tqdm import tqdm

from models import db
from models.agreement.report import FORMATS as REPORT_FORMATS
from models.agreement.report import render
from models.agreement.store_io import STATUSES, AgreementError, store_agreement
from models.formats import FORMATS
from models.jobs import Job, run
from models.labels import LabelSchema, SchemaError, parse_schema
from models.merge import merge_file
from models.preannotate import BATCH
from models.queues import QueueError, describe, join, leave, set_assignment
from models.records import Problem, Progress
from models.schema import Annotator, Document, Entity, Layer
from models.search import FORMATS as SEARCH_FORMATS
from models.search import (
    Found,
    Page,
    QueryError,
    hits_json,
    hits_summary,
    hits_table,
    search_job,
)
from models.search import count as count_hits
from models.search import parse as parse_query
from models.store import DEFAULT_PROJECT, ProjectInfo, Store
from models.transfer import ImportReport, TransferError, export, import_file, import_texts

T = TypeVar("T")
COMMANDS: frozenset[str] = frozenset(
    {
        "import",
        "preannotate",
        "export",
        "stats",
        "db",
        "agreement",
        "merge",
        "queue",
        "train",
        "search",
    }
)
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
    except (db.DatabaseError, SchemaError, TransferError, AgreementError, OSError) as error:
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
    sub.add_argument("--batch-size", type=int, default=BATCH)
    sub.add_argument("--redo", action="store_true", help="replace existing model layers")
    sub.add_argument(
        "--no-events", action="store_true", help="entities only: no event suggestions (faster)"
    )
    sub.add_argument(
        "--no-learn", action="store_true", help="the raw model: no rules, memory or fine-tuning"
    )
    sub.set_defaults(handler=_preannotate)

    sub = commands.add_parser("export", parents=[common], help="export one annotator's work")
    sub.add_argument("--format", default="jsonl", help=_format_names())
    sub.add_argument("--out", type=Path, required=True)
    sub.add_argument("--source", help="annotator name, model or gold (default: the only human)")
    sub.add_argument("--status", choices=("any", "done"), default="any")
    sub.add_argument(
        "--dev-fraction", type=float, default=argparse.SUPPRESS, help="spacy: share in dev.spacy"
    )
    sub.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="spacy: split seed")
    sub.set_defaults(handler=_export)

    sub = commands.add_parser("agreement", parents=[common], help="inter-annotator agreement")
    sub.add_argument("--format", choices=REPORT_FORMATS, default="table")
    sub.add_argument(
        "--annotators",
        default="",
        help="comma-separated names, 'model' for the project's model (default: all with layers)",
    )
    sub.add_argument("--status", choices=STATUSES, default="done", help="layers counted")
    sub.set_defaults(handler=_agreement)

    sub = commands.add_parser("merge", parents=[common], help="bring in another database's work")
    sub.add_argument("other", metavar="OTHER", help="the other SQLite file or database URL")
    sub.add_argument("--from-project", help="its project (default: this name, else its only one)")
    sub.add_argument(
        "--add-documents", action="store_true", help="import its documents missing here"
    )
    sub.set_defaults(handler=_merge)

    sub = commands.add_parser("queue", parents=[common], help="annotators and document sharing")
    share = sub.add_mutually_exclusive_group()
    share.add_argument(
        "--all",
        dest="mode",
        action="store_const",
        const="all",
        help="everyone annotates every document",
    )
    share.add_argument("--k", type=int, metavar="K", help="each document goes to K annotators")
    sub.add_argument("--add", nargs="+", default=[], metavar="NAME", help="add annotators")
    sub.add_argument("--remove", nargs="+", default=[], metavar="NAME", help="remove annotators")
    sub.set_defaults(handler=_queue)

    sub = commands.add_parser("train", parents=[common], help="fine-tune the NER on done work")
    sub.add_argument("--epochs", type=int, default=3, help="passes over the done layers")
    sub.set_defaults(handler=_train)

    sub = commands.add_parser("search", parents=[common], help="full-text search of the corpus")
    sub.add_argument("query", metavar="QUERY", help='words, "a phrase", prefix*, -left out')
    sub.add_argument("--limit", type=int, default=20, help="documents shown (default 20)")
    sub.add_argument("--format", choices=SEARCH_FORMATS, default="table")
    sub.set_defaults(handler=_search)

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


@contextmanager
def _project(args: argparse.Namespace) -> Iterator[tuple[Store, ProjectInfo]]:
    """The store of ``--db`` and its existing project; the store is closed on leaving."""
    store = _open(args)
    try:
        yield store, _existing_project(store, args)
    finally:
        store.close()


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


def _read_schema(path: Path) -> LabelSchema:
    """The label schema of a TOML file; a SchemaError names the file, entry and problem."""
    try:
        return parse_schema(path.read_bytes().decode("utf-8"), str(path))
    except UnicodeDecodeError as error:
        raise SchemaError(str(path), "file", f"not UTF-8 (byte {error.start})") from None


def _import(args: argparse.Namespace) -> int:
    schema = _read_schema(args.schema) if args.schema else None
    store = _open(args)
    try:
        name = getattr(args, "project", None)
        existing = store.project(name)
        if existing and schema and replace(existing.schema, toml="") != replace(schema, toml=""):
            raise TransferError(
                f"{args.schema}: project {existing.name} already has another label schema; "
                "--schema only sets the schema of a new project (name one with --project)"
            )
        project = existing or store.ensure_project(
            name or DEFAULT_PROJECT, schema.toml if schema else None
        )
        structured_suffixes = {ext for spec in FORMATS.values() for ext in spec.extensions}
        texts, files = [], []
        for path in args.paths:
            structured = path.is_file() and path.suffix.lower() in structured_suffixes
            structured = structured or (path.is_dir() and any(path.glob("*.spacy")))
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
    from models.refresh import preannotate_learning  # spaCy is loaded only for this command

    with _project(args) as (store, project):
        options: dict[str, Any] = {"suggest": False} if args.no_events else {}
        job = preannotate_learning(
            store,
            project,
            learn=not args.no_learn,
            batch_size=args.batch_size,
            n_process=args.n_process,
            redo=args.redo,
            **options,
        )
        report = _drive(job, "preannotate")
    print(f"{report.documents} document(s) pre-annotated, {report.entities} entities")
    return OK


def _train(args: argparse.Namespace) -> int:
    from models.training import train  # spaCy is loaded only for this command

    if args.epochs < 1:
        print("glose train: --epochs must be at least 1", file=sys.stderr)
        return USAGE
    with _project(args) as (store, project):
        try:
            report = _drive(train(store, project, epochs=args.epochs), "train")
        except ValueError as error:
            print(f"glose train: {error}", file=sys.stderr)
            return REFUSED
    print(
        f"{report.name} trained on {report.documents} document(s), {report.epochs} epoch(s), "
        f"saved in {report.path}; glose preannotate uses it"
    )
    return OK


def _export(args: argparse.Namespace) -> int:
    options = {key: getattr(args, key) for key in ("dev_fraction", "seed") if hasattr(args, key)}
    with _project(args) as (store, project):
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
    print(
        f"{report.documents} document(s) written to {report.path} "
        f"({report.annotated} with annotations of {report.source})"
    )
    for warning in report.warnings:
        print(f"warning: {warning}", file=sys.stderr)
    return OK


def _agreement(args: argparse.Namespace) -> int:
    names = [name.strip() for name in args.annotators.split(",") if name.strip()]
    with _project(args) as (store, project):
        result = _drive(store_agreement(store, project, names, args.status), "agreement")
    sys.stdout.write(render(result, args.format))
    return OK


def _search(args: argparse.Namespace) -> int:
    try:
        query = parse_query(args.query)
    except QueryError as error:
        print(f"glose search: {error}", file=sys.stderr)
        return REFUSED
    with _project(args) as (store, project):
        job = search_job(store, project.id, query, limit=args.limit)
        # the hits first, as they are found: a phrase's matches take a while to count
        page = _print_hits(job) if args.format == "table" else run(job)
        total = page.total if page.total is not None else count_hits(store, project.id, query)
    shown = len(page.hits)
    json_out = args.format == "json"
    print(hits_json(query, page.hits, total) if json_out else hits_summary(query, shown, total))
    return OK


def _print_hits(job: Job[Page]) -> Page:
    """Run the search job, printing its hits as a table as each step finds them (a sparse
    phrase's first page takes most of a second at 100,000 documents, its first hits 50 ms)."""
    bold, shown = sys.stdout.isatty(), 0

    def found(step: Progress) -> None:
        nonlocal shown
        if isinstance(step, Found) and step.hits:
            print(hits_table(step.hits, bold=bold, header=not shown), end="", flush=True)
            shown += len(step.hits)

    page = run(job, found)
    print(hits_table(page.hits[shown:], bold=bold, header=not shown), end="", flush=True)
    return page


def _stats(args: argparse.Namespace) -> int:
    with _project(args) as (store, project):
        lines = project_stats(store, project)
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


def _merge(args: argparse.Namespace) -> int:
    with _project(args) as (store, project):
        job = merge_file(
            store,
            project,
            args.other,
            other_project=args.from_project,
            add_documents=args.add_documents,
        )
        report = _drive(job, "merge")
    print(report.summary())
    for line in report.unplaced:
        print(line, file=sys.stderr)
    return REFUSED if report.unplaced else OK


def _queue(args: argparse.Namespace) -> int:
    try:
        with _project(args) as (store, project):
            for name in join(store, project.id, args.add):
                print(f"{name} added to the roster")
            for name in leave(store, project.id, args.remove):
                print(f"{name} removed from the roster")
            if args.mode is not None or args.k is not None:
                set_assignment(store, project.id, args.mode or "k", 1 if args.k is None else args.k)
            print("\n".join([f"project {project.name}", *describe(store, project.id)]))
    except QueueError as error:
        print(f"glose queue: {error}", file=sys.stderr)
        return USAGE
    return OK
