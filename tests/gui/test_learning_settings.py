"""The Model menu: refresh after Done, fine-tuning with progress and cancel, the learning
settings dialog and the tooltips of learned spans; no spaCy."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QEvent, QPoint
from PySide6.QtGui import QHelpEvent, QTextCursor
from PySide6.QtWidgets import QApplication, QToolTip
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from models.commands import RelabelEntity, SetStatus
from models.jobs import Job, run
from models.layers import entities, find_layer, open_layer
from models.learning import LearningSettings, RefreshReport, learned_name, learning_settings
from models.preannotate import Found, _write_layers
from models.records import DocumentRecord, Progress
from models.refresh import refresh, refresh_near
from models.store import DEFAULT_MODEL, ProjectInfo, Store
from models.training import TrainReport
from tests.gui.conftest import show_window

TEXTS = ["Xi a reçu la Chine.", "Xi et Poutine.", "Poutine et Xi vers la Chine."]


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    """Three documents pre-annotated: raw "Xi" MISC everywhere, then learned layers."""
    project = store.ensure_project("test")
    doc_ids = store.add_documents(project.id, [DocumentRecord(text=t) for t in TEXTS])
    raw_id = store.annotator_id(DEFAULT_MODEL, "model")
    rows: dict[int, Found] = {}
    for doc_id, text in zip(doc_ids, TEXTS, strict=True):
        assert doc_id is not None
        chine = [(text.index("la Chine"), len(text) - 1, "LOC")] if "Chine" in text else []
        rows[doc_id] = ([(text.index("Xi"), text.index("Xi") + 2, "MISC"), *chine], [])
    with store.transaction() as session:
        _write_layers(session, raw_id, rows)
    run(refresh(store, project))
    found = store.project("test")
    assert found is not None and found.model_annotator == learned_name(DEFAULT_MODEL)
    return found


@pytest.fixture
def window(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path
) -> Iterator[MainWindow]:
    shown = show_window(qtbot, store, project, tmp_path)
    yield shown
    shown.close()


def _learned(store: Store, doc_index: int) -> list[tuple[str, str, str]]:
    project = store.project("test")
    assert project is not None
    doc_id = store.document_rows(project.id, store.annotator_id("alice"), 0, 9)[doc_index].id
    layer = find_layer(store, doc_id, store.annotator_id(learned_name(DEFAULT_MODEL)))
    assert layer is not None
    text = TEXTS[doc_index]
    return [(text[e.start : e.end], e.label, e.origin) for e in entities(store, layer.id)]


def test_learning_settings_done_refreshes_unopened_documents(
    qtbot: QtBot, window: MainWindow, store: Store
) -> None:
    assert window.view.text == TEXTS[0]
    assert _learned(store, 1) == [("Xi", "MISC", "model")]
    xi = next(span for span in window.view.spans if span.label == "MISC")
    store.do(RelabelEntity(xi.id, label="PER"))
    window.done_and_next()
    worker = window.learning.refreshing
    assert worker is not None
    qtbot.waitUntil(lambda: window.learning.refreshing is None, timeout=30000)
    # the second document is open now (seeded before the refresh), the third is refreshed
    assert _learned(store, 2) == [("Xi", "PER", "pattern"), ("Chine", "LOC", "model")]
    assert "2 forms learned" in window.statusBar().currentMessage()


def test_learning_settings_tooltip_says_why(qtbot: QtBot, window: MainWindow) -> None:
    chine = next(span for span in window.view.spans if span.label == "LOC")
    assert window.view.text[chine.start : chine.end] == "Chine"
    assert window.learning.reason(chine) == "Guideline rules: the model marked « la Chine »"
    cursor = QTextCursor(window.view.document())
    cursor.setPosition(chine.start + 2)
    point = window.view.cursorRect(cursor).center()
    global_point = window.view.viewport().mapToGlobal(point)
    event = QHelpEvent(QEvent.Type.ToolTip, point, global_point)
    QApplication.sendEvent(window.view.viewport(), event)
    qtbot.waitUntil(lambda: QToolTip.isVisible())
    assert QToolTip.text() == "Guideline rules: the model marked « la Chine »"
    QApplication.sendEvent(
        window.view.viewport(), QHelpEvent(QEvent.Type.ToolTip, QPoint(1, 1), global_point)
    )
    qtbot.waitUntil(lambda: not QToolTip.isVisible())


def test_learning_settings_dialog_saves_and_refreshes(
    qtbot: QtBot, window: MainWindow, store: Store
) -> None:
    dialog = window.learning.edit_settings()
    assert dialog.rules.isChecked() and dialog.memory.isChecked()
    assert not dialog.finetuned.isEnabled()  # no fine-tuned model yet
    dialog.rules.setChecked(False)
    dialog.accept()
    worker = window.learning.refreshing
    assert worker is not None
    qtbot.waitUntil(lambda: window.learning.refreshing is None, timeout=30000)
    assert learning_settings(window.project) == LearningSettings(False, True, True)
    assert _learned(store, 2) == [("Xi", "MISC", "model"), ("la Chine", "LOC", "model")]


def test_learning_settings_fine_tune_shows_progress_and_cancels(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    steps: list[int] = []

    def fake_train(store: Store, project: ProjectInfo, *, epochs: int) -> Job[TrainReport]:
        for epoch in range(1, epochs + 1):
            steps.append(epoch)
            yield Progress(epoch, epochs, f"Epoch {epoch}")
        return TrainReport("fr_core_news_sm+glose-1@3.8.0", Path("m"), 1, epochs, 1.0)

    monkeypatch.setattr("gui.learning_settings.train", fake_train)
    worker = window.learning.start_training(2)
    assert (
        window.learning.start_training(2) is worker and not window.learning.train_action.isEnabled()
    )
    qtbot.waitUntil(lambda: window.learning.training is None, timeout=10000)
    assert steps == [1, 2] and window.learning.train_action.isEnabled()
    assert "fr_core_news_sm+glose-1@3.8.0 trained" in window.statusBar().currentMessage()

    def endless(store: Store, project: ProjectInfo, *, epochs: int) -> Job[TrainReport]:
        while True:
            yield Progress(0, epochs, "Epoch")

    monkeypatch.setattr("gui.learning_settings.train", endless)
    worker = window.learning.start_training(3)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=10000):
        worker.cancel()
    qtbot.waitUntil(lambda: window.learning.training is None)


def test_learning_settings_open_derives_a_stale_learned_layer(
    qtbot: QtBot, window: MainWindow, store: Store
) -> None:
    """bob's correction (on a document alice has) is learned without deriving anything;
    alice opening the third document derives its learned layer just before seeding."""
    qtbot.waitUntil(lambda: window.learning.refreshing is None, timeout=30000)
    project = window.project
    first = window.document_id
    assert first is not None
    bob = store.annotator_id("bob")
    layer = open_layer(store, first, bob, store.annotator_id(project.model_annotator))
    assert layer is not None
    xi = next(e for e in entities(store, layer.id) if e.label == "MISC")
    store.do(RelabelEntity(xi.id, label="PER"))
    store.do(SetStatus(layer.id, "done"))
    report = run(refresh_near(store, project, 0, learner=window.learning.learner, count=0))
    window.learning.learner = report.learner
    assert _learned(store, 2)[0] == ("Xi", "MISC", "model")  # stale, not derived yet
    third = store.document_rows(project.id, window.annotator_id, 0, 9)[2].id
    window.open_document(third)
    assert ("Xi", "PER", "pattern") in [
        (TEXTS[2][s.start : s.end], s.label, s.origin) for s in window.view.spans
    ]


def test_learning_settings_refresh_supersedes_the_running_one(
    qtbot: QtBot, window: MainWindow, monkeypatch: pytest.MonkeyPatch
) -> None:
    """At most one refresh runs: a new "done" cancels the running one and starts after it;
    a pass over the corpus is not cancelled by a "done", which is learned after it."""
    qtbot.waitUntil(lambda: window.learning.refreshing is None, timeout=30000)
    started: list[str] = []
    closed: list[str] = []

    def endless(kind: str) -> Job[RefreshReport]:
        started.append(kind)
        try:
            while True:
                time.sleep(0.005)
                yield Progress(0, None, kind)
        finally:
            closed.append(kind)

    monkeypatch.setattr("gui.learning_settings.refresh_near", lambda *a, **k: endless("near"))
    monkeypatch.setattr("gui.learning_settings.refresh", lambda *a, **k: endless("full"))
    learning = window.learning
    first = learning.refresh()
    qtbot.waitUntil(lambda: started == ["near"], timeout=10000)  # running
    assert first is not None and learning.refresh() is None
    qtbot.waitUntil(lambda: started == ["near", "near"], timeout=10000)
    assert closed == ["near"] and learning.refreshing is not first
    learning.refresh_all()
    qtbot.waitUntil(lambda: started[-1] == "full", timeout=10000)
    learning.refresh()  # during the pass: not cancelled, queued
    learning.refresh()
    qtbot.wait(100)
    assert started == ["near", "near", "full"] and closed == ["near", "near"]
    assert learning.refreshing is not None
    learning.refreshing.cancel()  # the analyst's Cancel button
    qtbot.waitUntil(lambda: started == ["near", "near", "full", "near"], timeout=10000)
    learning.refreshing.cancel()
    qtbot.waitUntil(lambda: learning.refreshing is None, timeout=10000)
