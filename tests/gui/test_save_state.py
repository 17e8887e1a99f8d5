"""The status bar's save state for bad database states: a locked database shows the edit as
not saved and offers Retry, which saves it once the lock is gone; a read-only file says so
and refuses edits; team mode signs the analyst in."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.settings import Settings
from models import db
from models.layers import entities, find_layer
from models.records import DocumentRecord
from models.store import Store
from tests.gui.conftest import screenshot

TEXT = "Vladimir Poutine a reçu Xi Jinping à Moscou."


@pytest.fixture
def path(tmp_path: Path) -> Path:
    database = tmp_path / "glose.sqlite"
    store = Store.open(str(database))
    project = store.ensure_project("test")
    store.add_documents(project.id, [DocumentRecord(text=TEXT, title="Visite")])
    store.annotator_id("alice")
    store.close()
    return database


def _window(qtbot: QtBot, store: Store, tmp_path: Path) -> MainWindow:
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    project = store.project("test")
    assert project is not None
    window = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(window)
    window.show()
    return window


@pytest.fixture
def locked_store(path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 200)
    store = Store.open(str(path))
    yield store
    store.close()


def _stored(path: Path) -> list[tuple[int, int, str]]:
    fresh = Store.open(str(path))
    try:
        annotator = fresh.annotator_id("alice")
        document = fresh.next_document(1, annotator, -1) or 1
        layer = find_layer(fresh, document, annotator)
        return [(e.start, e.end, e.label) for e in entities(fresh, layer.id)] if layer else []
    finally:
        fresh.close()


def test_save_state_locked_database_shows_not_saved_then_retry_saves(
    qtbot: QtBot, locked_store: Store, path: Path, tmp_path: Path
) -> None:
    window = _window(qtbot, locked_store, tmp_path)
    state = window.connection_state
    assert not state.read_only_label.isVisible() and not state.retry_button.isVisible()
    window.editor.mark_done()  # creates the layer while the database is free
    other = sqlite3.connect(path, isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another program holds the write lock
    try:
        window.view.set_selection_range(0, 16)
        window.editor.apply_label("PER")
        assert window.save_label.text() == "Not saved ✗"
        assert "locked by another program" in window.save_label.toolTip()
        assert state.retry_button.isVisible()
        assert window.view.spans == []  # not shown as if it were saved
        screenshot(window, "save_state_locked")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert _stored(path) == []
    qtbot.mouseClick(state.retry_button, Qt.MouseButton.LeftButton)
    assert window.save_label.text() == "Saved ✓"
    assert not state.retry_button.isVisible()
    assert [(s.start, s.end, s.label) for s in window.view.spans] == [(0, 16, "PER")]
    assert _stored(path) == [(0, 16, "PER")]


def test_save_state_read_only_file_says_so_and_refuses_edits(
    qtbot: QtBot, path: Path, tmp_path: Path
) -> None:
    path.chmod(0o444)
    original = path.read_bytes()
    store = Store.open(str(path))
    try:
        window = _window(qtbot, store, tmp_path)
        assert window.connection_state.read_only_label.isVisible()
        assert window.connection_state.read_only_label.text() == "Read-only"
        window.view.set_selection_range(0, 16)
        window.editor.apply_label("PER")
        assert window.save_label.text() == "Not saved ✗"
        assert "read-only" in window.save_label.toolTip()
        assert not window.connection_state.retry_button.isVisible()  # retrying cannot help
        screenshot(window, "save_state_read_only")
        window.close()
    finally:
        store.close()
    assert path.read_bytes() == original
