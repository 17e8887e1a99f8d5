"""The main window: opening, the next-document flow, import, status bar; no spaCy."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PySide6.QtCore import QSettings, Qt
from PySide6.QtWidgets import QLabel, QMessageBox
from pytestqt.qtbot import QtBot
from sqlalchemy import create_engine

from gui import app
from gui.main_window import MainWindow, default_split, preannotation_job
from gui.settings import Settings
from gui.workers import JobProgress
from models.job_process import in_child
from models.jobs import Job
from models.labels import load_default
from models.layers import entities, find_layer
from models.preannotate import PreannotateReport
from models.records import DocumentRecord
from models.store import ProjectInfo, Store
from tests.gui.conftest import wait_done

TEXTS = [
    "Vladimir Poutine a reçu Xi Jinping à Moscou.",
    "Pékin et Moscou signent un accord gazier.",
    "L’OTAN s’inquiète des manœuvres en mer de Chine.",
    "Kiev demande à Pékin de jouer un rôle de médiateur.",
]


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    project = store.ensure_project("test")
    records = [DocumentRecord(text=text, title=f"Article {i}") for i, text in enumerate(TEXTS)]
    store.add_documents(project.id, records)
    return project


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))


@pytest.fixture
def window(
    qtbot: QtBot, store: Store, project: ProjectInfo, settings: Settings
) -> Iterator[MainWindow]:
    shown = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(shown)
    shown.show()
    qtbot.waitExposed(shown)
    yield shown
    shown.close()


def ids(store: Store, project: ProjectInfo) -> list[int]:
    return [row.id for row in store.document_rows(project.id, store.annotator_id("alice"), 0, 99)]


def status_of(store: Store, document_id: int) -> str | None:
    layer = find_layer(store, document_id, store.annotator_id("alice"))
    return layer.status if layer else None


def test_main_window_opens_the_first_document_not_done(
    window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    first = ids(store, project)[0]
    assert window.document_id == first
    assert window.view.text == TEXTS[0]
    assert window.model.rowCount() == len(TEXTS)
    assert window.documents.table.currentIndex().row() == 0
    assert window.progress_label.text() == "0 / 4 done"
    assert "alice" in window.annotator_label.text()


def test_main_window_enter_marks_done_and_opens_the_next_not_done(
    qtbot: QtBot, window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    documents = ids(store, project)
    window.open_document(documents[1])
    window.done_and_next()  # Enter on document 1: the next not done is document 2
    assert status_of(store, documents[1]) == "done"
    assert window.document_id == documents[2]
    window.view.setFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    assert status_of(store, documents[2]) == "done"
    assert window.document_id == documents[3]
    qtbot.keyClick(window.view, Qt.Key.Key_Return)
    assert window.document_id == documents[0]  # wraps to the first one not done
    assert status_of(store, documents[3]) == "done"
    assert window.progress_label.text() == "3 / 4 done"
    assert window.model.index(1, 1).data() == "done"
    assert window.documents.table.currentIndex().row() == 0


def test_main_window_page_keys_move_without_marking(
    qtbot: QtBot, window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    documents = ids(store, project)
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown)
    qtbot.keyClick(window.view, Qt.Key.Key_PageDown)
    assert window.document_id == documents[2]
    assert window.documents.table.currentIndex().row() == 2
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp)
    assert window.document_id == documents[1]
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp)
    qtbot.keyClick(window.view, Qt.Key.Key_PageUp)  # nothing before the first
    assert window.document_id == documents[0]
    assert all(status_of(store, doc) in (None, "in_progress") for doc in documents)


def test_main_window_selecting_a_row_opens_the_document(
    window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    window.documents.table.selectRow(3)
    assert window.document_id == ids(store, project)[3]
    assert window.view.text == TEXTS[3]


def test_main_window_label_click_creates_an_entity(
    window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    window.view.set_selection_range(0, 16)  # "Vladimir Poutine"
    window.labels.buttons["PER"].click()
    layer = find_layer(store, window.document_id or 0, store.annotator_id("alice"))
    assert layer is not None
    assert [(e.start, e.end, e.label) for e in entities(store, layer.id)] == [(0, 16, "PER")]
    assert window.save_label.text() == "Saved ✓"
    assert window.model.index(0, 2).data() == 1
    window.undo_action.trigger()  # Edit ▸ Undo
    assert entities(store, layer.id) == []
    assert window.model.index(0, 2).data() == 0
    window.redo_action.trigger()
    assert [e.label for e in entities(store, layer.id)] == ["PER"]


def test_main_window_question_mark_shows_the_keymap(qtbot: QtBot, window: MainWindow) -> None:
    window.view.setFocus()
    qtbot.keyClick(window.view, "?")
    assert window.overlay.isVisible()
    labels = {label.text() for label in window.overlay.findChildren(QLabel)}
    assert {"PER · Personne", "Mark done, open the next document"} <= labels
    qtbot.keyClick(window.overlay, Qt.Key.Key_Escape)
    assert not window.overlay.isVisible()


def test_main_window_search_filters_the_list(qtbot: QtBot, window: MainWindow) -> None:
    window.documents.search.setText("Pékin")
    qtbot.waitUntil(lambda: window.model.total == 2)
    window.documents.status_filter.setCurrentIndex(window.documents.status_filter.findData("done"))
    assert window.model.total == 0


def test_main_window_imports_a_folder_and_reports_refused_files(
    qtbot: QtBot,
    window: MainWindow,
    tmp_path: Path,
    child_jobs: list[str],
    qtlog,  # type: ignore[no-untyped-def]
) -> None:
    folder = tmp_path / "incoming"
    folder.mkdir()
    (folder / "a.txt").write_text("Sommet à Pékin\n\nLes dirigeants se rencontrent.", "utf-8")
    (folder / "b.txt").write_bytes(b"Moscou\n\nEn 2024, \xe9changes record.")  # Latin-1
    (folder / "c.txt").write_text(TEXTS[0], "utf-8")  # already in the project
    worker = window.import_paths([folder])
    assert child_jobs == ["models.transfer:import_texts_of"]  # in a process of its own
    assert window.statusBar().findChild(JobProgress) is not None  # the import's progress
    wait_done(qtbot, worker)
    assert not [record.message for record in qtlog.records if "StatusBar" in record.message]
    qtbot.waitUntil(lambda: isinstance(window.import_report, QMessageBox))
    report = window.import_report
    assert report is not None
    assert "1 document(s) imported, 1 already there" in report.text()
    assert "b.txt" in report.informativeText()
    assert "a.txt" not in report.informativeText()
    assert window.model.rowCount() == len(TEXTS) + 1
    assert window.model.document_row(len(TEXTS)).title == "Sommet à Pékin"
    assert window.progress_label.text() == "0 / 5 done"
    report.close()


def test_main_window_saves_time_on_the_document(
    window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    documents = ids(store, project)
    window.done_and_next()  # creates the layer of document 0
    window._flushed_at -= 42  # as if 42 s had passed on document 1 (no layer yet: kept)
    window.open_document(documents[0])
    window._flushed_at -= 7
    window.flush_time()
    layer = find_layer(store, documents[0], store.annotator_id("alice"))
    assert layer is not None and layer.seconds >= 7


def test_main_window_shows_before_spacy_is_imported(tmp_path: Path) -> None:
    """The window shows without importing spaCy (a fresh interpreter: nothing loaded it)."""
    script = textwrap.dedent(
        f"""
        import os, sys
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        from PySide6.QtCore import QSettings
        from gui.app import application, launch, parser
        from gui.settings import Settings
        from models.records import DocumentRecord
        from models.store import Store
        db = {str(tmp_path / "fresh.sqlite")!r}
        store = Store.open(db)
        project = store.ensure_project("default")
        store.add_documents(project.id, [DocumentRecord(text="Xi Jinping à Moscou.")])
        store.close()
        app = application()
        settings = Settings(QSettings({str(tmp_path / "s.ini")!r}, QSettings.Format.IniFormat))
        window = launch(parser().parse_args(["--db", db, "--annotator", "alice"]), settings)
        app.processEvents()
        print(window.isVisible(), window.view.text, "spacy" in sys.modules)
        window.close()
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[0] == "True Xi Jinping à Moscou. False"


def test_main_window_preannotation_seeds_the_open_document(
    qtbot: QtBot,
    window: MainWindow,
    store: Store,
    project: ProjectInfo,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A document opened before the model annotator existed shows the model's entities
    (pre-annotation runs in a child process: a stand-in for spaCy there)."""
    started: list[str] = []

    def in_child_with_stand_in(
        target: str, result: type[PreannotateReport], *args: Any
    ) -> Job[PreannotateReport]:
        started.append(target)
        return in_child("tests.models.child_jobs:preannotate", result, *args)

    monkeypatch.setattr("models.job_process.in_child", in_child_with_stand_in)
    assert window.view.spans == [] and window.editor.layer_id is None
    worker = window.start_preannotation()
    assert window.start_preannotation() is worker  # one run at a time
    assert not window.preannotate_action.isEnabled()
    wait_done(qtbot, worker)
    qtbot.waitUntil(lambda: window.preannotation is None)
    assert [(span.start, span.end, span.label) for span in window.view.spans] == [(0, 5, "LOC")]
    assert window.editor.layer_id is not None
    assert [window.model.index(row, 2).data() for row in range(4)] == [1, 1, 1, 1]
    assert "4 entities in 4 documents" in window.statusBar().currentMessage()
    assert window.preannotate_action.isEnabled()
    assert started == ["models.refresh:preannotate_learning"]


def test_main_window_preannotates_on_a_thread_when_no_child_can_open_the_database(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    def no_child(*args: Any) -> None:
        raise AssertionError("no child process for a database in memory")

    monkeypatch.setattr("models.job_process.in_child", no_child)
    memory = Store(create_engine("sqlite://"))
    job = preannotation_job(memory, ProjectInfo(1, "p", load_default(), {}))
    assert job.__name__ == "preannotate_learning"  # on this process, not started yet
    memory.close()


def test_main_window_app_reports_a_bad_database(
    qtbot: QtBot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = tmp_path / "notes.sqlite"
    bad.write_text("not a database", "utf-8")
    shown: list[str] = []
    monkeypatch.setattr(
        "gui.app.QMessageBox.critical", lambda _parent, _title, text: shown.append(text)
    )
    assert app.main(["--db", str(bad), "--annotator", "alice"]) == app.EXIT_CANNOT_OPEN
    assert len(shown) == 1
    assert str(bad) in shown[0] and "not a SQLite database" in shown[0]


def test_main_window_app_asks_the_annotator_once(
    qtbot: QtBot, settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[str] = []

    def get_text(*args: object) -> tuple[str, bool]:
        asked.append(str(args[2]))
        return "  Chloé ", True

    monkeypatch.setattr("gui.app.QInputDialog.getText", get_text)
    assert app.ask_annotator(settings, None) == "Chloé"
    assert app.ask_annotator(settings, None) == "Chloé"  # saved: not asked again
    assert len(asked) == 1
    assert app.ask_annotator(settings, "bob") == "bob"  # --annotator wins, for this run
    assert settings.annotator() == "Chloé"


def test_main_window_restores_its_geometry(
    qtbot: QtBot, store: Store, project: ProjectInfo, settings: Settings
) -> None:
    first = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(first)
    screen = first.screen().availableGeometry()
    assert first.width() == min(1400, int(screen.width() * 0.94))  # the default size
    first.resize(760, 540)  # within the offscreen screen (800x600)
    first.show()
    first.close()
    again = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(again)
    assert (again.width(), again.height()) == (760, 540)


def test_main_window_default_split_gives_a_narrow_window_to_the_text() -> None:
    assert default_split(1400) == [380, 680, 340]  # DEFAULT_SIZE
    assert default_split(1300) == [300, 660, 340]  # the list gives the reading column room
    assert default_split(1100) == [280, 480, 340]  # down to 280 px
    assert default_split(300) == [280, 0, 340]


def test_main_window_ctrl_l_hides_and_shows_the_document_list(
    qtbot: QtBot, store: Store, project: ProjectInfo, settings: Settings
) -> None:
    window = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(window)
    assert window.width() < 1000 and window.documents.isHidden()  # a narrow first window
    assert not window.list_action.isChecked()
    window.resize(1400, 800)
    window.show()
    qtbot.waitExposed(window)
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow)  # window shortcuts need it
    text_width = window.view.width()
    qtbot.keyClick(window.view, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert not window.documents.isHidden() and window.list_action.isChecked()
    qtbot.waitUntil(lambda: window.view.width() < text_width)  # the list takes its width
    window.documents.table.setFocus()
    qtbot.keyClick(window.documents.table, Qt.Key.Key_L, Qt.KeyboardModifier.ControlModifier)
    assert window.documents.isHidden() and window.view.hasFocus()
    qtbot.keyClick(window.view, Qt.Key.Key_F, Qt.KeyboardModifier.ControlModifier)
    assert not window.documents.isHidden() and window.documents.search.hasFocus()
    window.close()
    again = MainWindow(store, project, "alice", settings)  # as it was left: shown
    qtbot.addWidget(again)
    assert not again.documents.isHidden() and again.list_action.isChecked()
