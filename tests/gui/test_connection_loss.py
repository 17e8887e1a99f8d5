"""The server goes away mid-session: reads of the document list, opening a document and
the time flush fail with ConnectionLostError; the window survives, says so in the status
bar, keeps what it shows, and works again (nothing lost) once the server is back."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot

from gui.document_table import TITLE, DocumentTableModel
from gui.main_window import MainWindow
from models import db
from models.layers import find_layer
from models.records import DocumentRecord
from models.store import ProjectInfo, Store
from tests.gui.conftest import screenshot, show_window

TEXTS = [f"Article {n} : Pékin et Moscou signent l’accord numéro {n}." for n in range(5)]
LOST = "postgresql+psycopg://glose@server/glose: lost the connection to the database server"


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    project = store.ensure_project("test")
    records = [DocumentRecord(text=text, title=f"Article {n}") for n, text in enumerate(TEXTS)]
    store.add_documents(project.id, records)
    return project


@pytest.fixture
def window(qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path) -> MainWindow:
    return show_window(qtbot, store, project, tmp_path)


def server_away(monkeypatch: pytest.MonkeyPatch, *methods: str) -> list[str]:
    """Make the store's ``methods`` fail as with a lost server; returns the calls tried."""
    tried: list[str] = []

    def failing(method: str) -> Any:
        def lost(*_args: Any, **_kwargs: Any) -> Any:
            tried.append(method)
            raise db.ConnectionLostError(f"{LOST}; nothing was saved, retry when it is back")

        return lost

    for method in methods:
        monkeypatch.setattr(Store, method, failing(method))
    return tried


def test_connection_loss_opening_a_document_keeps_the_open_one(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = window.document_id
    assert window.view.text == TEXTS[0]
    window.editor.mark_done()  # the layer exists before the server goes away
    with monkeypatch.context() as patch:
        server_away(patch, "reading")
        window.documents.table.selectRow(3)  # the list's current row asks for document 3
        assert window.document_id == first and window.view.text == TEXTS[0]
        assert window.documents.table.currentIndex().row() == 0  # back on the shown one
        message = window.statusBar().currentMessage()
        assert "Database unavailable" in message and "lost the connection" in message
        window.navigate(1)  # PgDown
        assert window.document_id == first
        window.done_and_next()  # saved (writes still work here), then the next is unknown
        assert window.document_id == first and window.save_label.text() == "Saved ✓"
        assert "Database unavailable" in window.statusBar().currentMessage()
        screenshot(window, "connection_lost")
    window.navigate(1)  # the server is back
    assert window.view.text == TEXTS[1]


def test_connection_loss_time_flush_keeps_the_time(
    window: MainWindow, store: Store, project: ProjectInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    document = window.document_id
    assert document is not None
    window.editor.mark_done()  # the layer exists: time is flushed to it
    window._flushed_at -= 40  # as if 40 s had passed since the last flush (and try)
    window._flush_tried_at -= 40
    with monkeypatch.context() as patch:
        tried = server_away(patch, "reading", "transaction")
        window._tick()  # the clock's flush fails: no exception out of the event loop
        assert "Database unavailable" in window.statusBar().currentMessage()
        assert tried == ["transaction"]
        window._tick()  # and is not tried again at every tick
        assert tried == ["transaction"]
    layer = find_layer(store, document, store.annotator_id("alice"))
    assert layer is not None and layer.seconds == 0.0
    window.flush_time()
    layer = find_layer(store, document, store.annotator_id("alice"))
    assert layer is not None and layer.seconds >= 40  # the time was kept for the next flush


def test_connection_loss_document_list_page_keeps_its_rows(
    qtbot: QtBot, store: Store, project: ProjectInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    model = DocumentTableModel(store, project.id, store.annotator_id("alice"), page_size=2)
    assert model.document_row(1).title == "Article 1"  # the first page is held
    with monkeypatch.context() as patch:
        tried = server_away(patch, "reading")
        with qtbot.waitSignal(model.unavailable) as lost:
            assert model.index(2, TITLE).data() is None  # its page cannot be read: blank
        assert LOST in lost.args[0]
        assert model.index(3, TITLE).data() is None and len(tried) == 1  # not tried again
        assert model.index(1, TITLE).data() == "Article 1"  # the rows held stay
        model.refresh()
        model.set_filter("done")
        assert model.rowCount() == len(TEXTS) and model.status is None
        assert model.locate(model.document_row(0).id + 4, 4) is None
    model.refresh()  # the server is back
    assert [model.document_row(n).title for n in range(4)] == [f"Article {n}" for n in range(4)]
