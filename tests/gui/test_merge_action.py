"""File ▸ Merge… in the main window (the slot is called with a path, no file dialog), and
the document list and status bar following the annotator's queue."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtWidgets import QMessageBox
from pytestqt.qtbot import QtBot

from models.commands import AddEntity
from models.layers import entities, find_layer, open_layer
from models.queues import assignment, join, set_assignment
from models.records import DocumentRecord
from models.store import ProjectInfo, Store
from tests.gui.conftest import show_window, wait_done

TEXTS = [
    "Vladimir Poutine a reçu Xi Jinping à Moscou.",
    "Pékin et Moscou signent un accord gazier.",
    "L’OTAN s’inquiète des manœuvres en mer de Chine.",
    "Kiev demande à Pékin de jouer un rôle de médiateur.",
]
ONLY_THERE = "Un article que l’équipe n’a pas."


def _project(store: Store, texts: list[str]) -> ProjectInfo:
    project = store.ensure_project("test")
    records = [DocumentRecord(text=text, title=f"Article {text[:6]}") for text in texts]
    store.add_documents(project.id, records)
    return project


@pytest.fixture
def analyst(tmp_path: Path) -> str:
    """An analyst's SQLite file: alice's entity on the first article, bob's on the second,
    and an article the team database does not have."""
    path = tmp_path / "analyst.sqlite"
    other = Store.open(str(path))
    try:
        _project(other, [*TEXTS, ONLY_THERE])
        for document, name, span in ((1, "alice", (0, 16)), (2, "bob", (0, 5))):
            layer = open_layer(other, document, other.annotator_id(name), None, create=True)
            assert layer is not None
            other.do(AddEntity(layer.id, *span, "PER" if name == "alice" else "LOC"))
    finally:
        other.close()
    return str(path)


def test_merge_action_merges_reports_and_shows_the_merged_layer(
    qtbot: QtBot, store: Store, analyst: str, tmp_path: Path
) -> None:
    project = _project(store, TEXTS)
    window = show_window(qtbot, store, project, tmp_path)
    assert window.editor.layer_id is None  # no pre-annotation: nothing of alice's yet
    assert window.merge_action.text() == "&Merge…"

    worker = window.merge_path(analyst)
    wait_done(qtbot, worker, 20_000)
    qtbot.waitUntil(lambda: window.merge_report is not None)

    box = window.merge_report
    assert isinstance(box, QMessageBox)
    assert box.text() == "2 layer(s) added, 0 replaced, 0 unchanged, 0 document(s) added."
    assert box.icon() == QMessageBox.Icon.Warning
    assert "1 item(s) could not be merged:" in box.informativeText()
    assert f"document 'Article {ONLY_THERE[:6]}'" in box.informativeText()
    assert window.editor.layer_id is not None  # the open document now shows alice's layer
    assert [(s.start, s.end, s.label) for s in window.view.spans] == [(0, 16, "PER")]
    bob = find_layer(store, 2, store.annotator_id("bob"))
    assert bob is not None
    assert [(e.start, e.end, e.label) for e in entities(store, bob.id)] == [(0, 5, "LOC")]
    window.close()


def test_merge_action_list_and_progress_follow_the_queue(
    qtbot: QtBot, store: Store, tmp_path: Path
) -> None:
    project = _project(store, TEXTS)
    join(store, project.id, ["bob"])
    set_assignment(store, project.id, "k", 1)

    window = show_window(qtbot, store, project, tmp_path)  # alice joins the roster second

    assert assignment(store, project.id).roster == ("bob", "alice")
    assert [window.model.document_row(row).position for row in range(2)] == [1, 3]
    assert window.model.rowCount() == 2
    assert window.progress_label.text() == "0 / 2 done"
    assert window.view.text == TEXTS[1]
    window.done_and_next()
    assert window.view.text == TEXTS[3]
    assert window.progress_label.text() == "1 / 2 done"
    window.close()
