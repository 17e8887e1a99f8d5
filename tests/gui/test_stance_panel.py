"""The stance panel in the main window on a real SQLite store: the keyboard-only S sequence,
the segmented buttons, evidence with its highlight toggle, the document list's summary;
every edit read back through a fresh Store, with undo."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QSettings, Qt
from pytestqt.qtbot import QtBot

from gui.document_table import STANCE
from gui.highlighter import EVIDENCE
from gui.main_window import MainWindow
from gui.settings import Settings
from models.records import DocumentRecord, StanceRecord
from models.stance import stance
from models.store import Store

TEXT = "La Russie et la Chine renforcent leurs liens. Kiev s’inquiète de cette amitié."


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    store = Store.open(str(tmp_path / "glose.sqlite"))
    project = store.ensure_project("test")
    store.add_documents(project.id, [DocumentRecord(TEXT, title="Amitié")])
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    shown = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(shown)
    shown.show()
    shown.activateWindow()
    shown.view.setFocus()
    qtbot.waitUntil(shown.view.hasFocus)
    yield shown
    shown.close()
    store.close()


def stored(window: MainWindow) -> dict[str, StanceRecord]:
    """alice's stance on the open document, read through a fresh Store."""
    fresh = Store.open(window.store.url)
    try:
        assert window.editor.layer_id is not None
        return stance(fresh, window.editor.layer_id)
    finally:
        fresh.close()


def checked(window: MainWindow, target: str) -> str | None:
    buttons = window.stance.rows[target].segments.buttons()
    values = [button.property("value") for button in buttons if button.isChecked()]
    assert len(values) == 1
    return values[0]


def summary(window: MainWindow) -> str:
    return str(window.model.index(0, STANCE).data())


def test_stance_panel_keyboard_sequence_sets_clears_and_undoes(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.view
    qtbot.keyClick(view, "s")
    assert window.sequence_label.isVisible()
    assert "1 Russie" in window.sequence_label.text()
    qtbot.keyClick(view, "1")
    assert "F favorable" in window.sequence_label.text()
    qtbot.keyClick(view, "f")
    assert not window.sequence_label.isVisible()
    assert stored(window) == {"RUSSIE": StanceRecord("RUSSIE", "favorable")}
    assert checked(window, "RUSSIE") == "favorable"
    assert summary(window) == "RU+"

    qtbot.keyClicks(view, "s2d")
    assert stored(window)["CHINE"].value == "defavorable"
    assert summary(window) == "RU+ CH−"

    qtbot.keyClicks(view, "s10")
    assert "RUSSIE" not in stored(window)
    assert checked(window, "RUSSIE") == ""
    assert summary(window) == "CH−"

    qtbot.keyClick(view, "z", Qt.KeyboardModifier.ControlModifier)
    assert stored(window)["RUSSIE"].value == "favorable"
    assert checked(window, "RUSSIE") == "favorable"
    assert summary(window) == "RU+ CH−"


def test_stance_panel_escape_cancels_the_sequence(qtbot: QtBot, window: MainWindow) -> None:
    qtbot.keyClicks(window.view, "s1")
    qtbot.keyClick(window.view, Qt.Key.Key_Escape)
    assert not window.sequence_label.isVisible()
    qtbot.keyClick(window.view, "f")  # no longer part of a sequence
    assert window.editor.layer_id is None or stored(window) == {}


def test_stance_panel_buttons_set_the_value(qtbot: QtBot, window: MainWindow) -> None:
    row = window.stance.rows["UKRAINE"]
    [neutral] = [b for b in row.segments.buttons() if b.property("value") == "neutre"]
    qtbot.mouseClick(neutral, Qt.MouseButton.LeftButton)
    assert stored(window) == {"UKRAINE": StanceRecord("UKRAINE", "neutre")}
    [none] = [b for b in row.segments.buttons() if b.property("value") == ""]
    qtbot.mouseClick(none, Qt.MouseButton.LeftButton)
    assert stored(window) == {}
    assert checked(window, "UKRAINE") == ""


def test_stance_panel_evidence_attach_and_highlight_toggle(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.view
    start = TEXT.index("renforcent")
    view.set_selection_range(start + 2, start + 6)  # inside a word: snapped to the token
    qtbot.keyClicks(view, "s1v")
    assert "RUSSIE" not in (stored(window) if window.editor.layer_id else {})
    assert "Set a stance toward Russie" in window.statusBar().currentMessage()

    qtbot.keyClicks(view, "s1f")
    view.set_selection_range(start + 2, start + 6)
    qtbot.keyClicks(view, "s1v")
    passage = (start, start + len("renforcent"))
    assert stored(window)["RUSSIE"].evidence == (passage,)
    assert window.stance.rows["RUSSIE"].evidence.text() == "¶ 1"
    assert window.stance.toggle.isChecked()  # attaching shows the evidence
    assert [(m.start, m.end, m.style) for m in view.marks("evidence")] == [(*passage, EVIDENCE)]

    window.evidence_action.trigger()  # Ctrl+E: hide
    assert view.marks("evidence") == [] and not window.stance.toggle.isChecked()
    qtbot.mouseClick(window.stance.toggle, Qt.MouseButton.LeftButton)  # the panel's toggle
    assert len(view.marks("evidence")) == 1 and window.evidence_action.isChecked()

    window.undo_stack.undo()
    assert stored(window)["RUSSIE"].evidence == ()
    assert view.marks("evidence") == []
