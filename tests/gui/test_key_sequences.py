"""Multi-key sequences: steps, hints, Escape, unknown keys, window shortcuts held back."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QLineEdit, QMainWindow, QPlainTextEdit
from pytestqt.qtbot import QtBot

from gui.key_sequence import KeySequencer, KeyStep


def make(qtbot: QtBot) -> tuple[QMainWindow, QPlainTextEdit, KeySequencer, list[str]]:
    window = QMainWindow()
    qtbot.addWidget(window)
    editor = QPlainTextEdit()
    window.setCentralWidget(editor)
    done: list[str] = []
    root = {
        "s": KeyStep(
            "target?",
            {
                "1": KeyStep(
                    "value?", {"f": lambda: done.append("1f"), "0": lambda: done.append("10")}
                )
            },
        ),
        "a": lambda: done.append("a"),
    }
    sequencer = KeySequencer(root, window)
    sequencer.watch(editor)
    window.show()
    window.activateWindow()
    editor.setFocus()
    qtbot.waitUntil(editor.hasFocus)
    return window, editor, sequencer, done


def test_key_sequence_runs_the_action_and_publishes_hints(qtbot: QtBot) -> None:
    _window, editor, sequencer, done = make(qtbot)
    hints: list[str] = []
    sequencer.hintChanged.connect(hints.append)
    qtbot.keyClicks(editor, "s1f")
    assert done == ["1f"]
    assert hints == ["target?", "value?", ""]
    assert not sequencer.pending
    qtbot.keyClick(editor, "S", Qt.KeyboardModifier.ShiftModifier)  # upper case works too
    qtbot.keyClicks(editor, "10")
    assert done == ["1f", "10"]
    qtbot.keyClick(editor, "a")  # a one-key action
    assert done == ["1f", "10", "a"]
    assert editor.toPlainText() == ""  # no key reached the editor


def test_key_sequence_escape_and_unknown_keys_cancel(qtbot: QtBot) -> None:
    _window, editor, sequencer, done = make(qtbot)
    cancelled: list[str] = []
    sequencer.cancelled.connect(cancelled.append)
    qtbot.keyClicks(editor, "s1")
    assert sequencer.pending and sequencer.typed == "S 1"
    qtbot.keyClick(editor, Qt.Key.Key_Escape)
    assert not sequencer.pending and done == [] and cancelled == []
    qtbot.keyClicks(editor, "s7")
    assert not sequencer.pending
    assert cancelled == ["S 7: no such key here, cancelled"]
    qtbot.keyClicks(editor, "x")  # not a first key: the editor gets it
    assert editor.toPlainText() == "x" and done == []


def test_key_sequence_holds_back_window_shortcuts_while_pending(qtbot: QtBot) -> None:
    window, editor, _sequencer, done = make(qtbot)
    editor.setReadOnly(True)  # as the document view: printable keys are free for shortcuts
    fired: list[bool] = []
    action = QAction(window)
    action.setShortcut(QKeySequence("F"))
    action.triggered.connect(lambda: fired.append(True))
    window.addAction(action)
    qtbot.keyClick(editor, "f")
    assert fired == [True]  # no sequence pending: the shortcut works
    qtbot.keyClicks(editor, "s1f")
    assert fired == [True] and done == ["1f"]


def test_key_sequence_only_in_watched_widgets_and_cancelled_on_focus_out(qtbot: QtBot) -> None:
    window, editor, sequencer, done = make(qtbot)
    other = QLineEdit(window)
    window.setMenuWidget(other)
    qtbot.keyClicks(other, "s1f")
    assert other.text() == "s1f" and done == []
    qtbot.keyClicks(editor, "s1")
    assert sequencer.pending
    other.setFocus()
    qtbot.waitUntil(lambda: not sequencer.pending)
