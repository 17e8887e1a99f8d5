"""The desktop app: ``glose [--db PATH_OR_URL] [--annotator NAME] [--project NAME] [demo]``.

The window shows at once; spaCy is only loaded by the pre-annotation job, off the GUI
thread (``demo`` starts it right after showing the window).
"""

from __future__ import annotations

import argparse
import gc
import sys
from pathlib import Path

from PySide6.QtCore import QCoreApplication
from PySide6.QtWidgets import QApplication, QInputDialog, QLineEdit, QMessageBox

from gui.demo import create_demo
from gui.main_window import MainWindow
from gui.settings import APPLICATION, ORGANISATION, Settings
from models.db import DatabaseError, resolve_db
from models.labels import SchemaError
from models.store import DEFAULT_PROJECT, ProjectInfo, Store

EXIT_CANNOT_OPEN = 2


def parser() -> argparse.ArgumentParser:
    parse = argparse.ArgumentParser(prog="glose", description="Glose annotation workbench.")
    parse.add_argument("--db", metavar="PATH_OR_URL", help="SQLite file or database URL")
    parse.add_argument("--annotator", metavar="NAME", help="your name as an annotator")
    parse.add_argument("--project", metavar="NAME", help="project to open")
    parse.add_argument("command", nargs="?", choices=["demo"], help="open the sample corpus")
    return parse


def application() -> QApplication:
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        app = QApplication(sys.argv[:1])
    app.setStyle("Fusion")
    app.setApplicationName(APPLICATION)
    app.setOrganizationName(ORGANISATION)
    app.setApplicationDisplayName(APPLICATION)
    return app


def ask_annotator(settings: Settings, given: str | None) -> str | None:
    """The annotator's name: ``--annotator`` (this run only), else the saved one, else asked
    once and saved; None when the question is cancelled."""
    name = (given or "").strip() or settings.annotator()
    if name:
        return name
    text, ok = QInputDialog.getText(
        None,
        tr("Glose"),
        tr("Your name as an annotator (stored with every edit):"),
        QLineEdit.EchoMode.Normal,
    )
    if not ok or not text.strip():
        return None
    settings.set_annotator(text.strip())
    return text.strip()


def open_store(args: argparse.Namespace) -> tuple[Store, ProjectInfo]:
    """The database and project to show (a fresh demo database for ``demo``)."""
    if args.command == "demo":
        return create_demo(Path(args.db) if args.db else None)
    store = Store.open(args.db)
    project = store.project(args.project) if args.project else store.project()
    return store, project or store.ensure_project(args.project or DEFAULT_PROJECT)


def launch(args: argparse.Namespace, settings: Settings) -> MainWindow | None:
    """Open the database, ask the annotator's name if needed, show the window.

    Returns None (after telling the user why) when the app cannot start.
    """
    try:
        store, project = open_store(args)
    except (DatabaseError, SchemaError, OSError) as error:
        where = args.db or str(resolve_db(None).database)
        QMessageBox.critical(
            None,
            tr("Glose cannot open the database"),
            tr("The database {where} cannot be opened:\n\n{reason}").format(
                where=where, reason=error
            ),
        )
        return None
    annotator = ask_annotator(settings, args.annotator)
    if annotator is None:
        store.close()
        return None
    window = MainWindow(store, project, annotator, settings)
    window.show()
    if args.command == "demo":
        window.start_preannotation()
    return window


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(sys.argv[1:] if argv is None else argv)
    app = application()
    window = launch(args, Settings())
    if window is None:
        return EXIT_CANNOT_OPEN
    settle()
    code = app.exec()
    window.store.close()
    return code


def settle() -> None:
    """Take what startup built (modules, ORM mappings, the window) out of the garbage
    collector's full passes: they then scan only newer objects instead of pausing the app
    100 ms and more in the middle of an edit or a document switch."""
    gc.freeze()


def tr(text: str) -> str:
    return QCoreApplication.translate("App", text)
