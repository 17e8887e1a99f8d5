"""GUI tests run offscreen (set before pytest-qt creates the QApplication).

Each test file brings its own fixtures; this file holds the platform setting, a
screenshot helper, a guard that keeps modal message boxes from blocking a test,
``store`` (a fresh SQLite store under ``tmp_path``), ``show_window`` and ``wait_done``.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from models.store import Store

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget
    from pytestqt.qtbot import QtBot

    from gui.main_window import MainWindow
    from gui.workers import JobWorker
    from models.store import ProjectInfo

os.environ["QT_QPA_PLATFORM"] = "offscreen"

SHOTS = Path(os.environ.get("GLOSE_SHOTS", Path(__file__).resolve().parents[2] / "shots"))


def screenshot(widget: QWidget, name: str) -> Path:
    """Save what ``widget`` shows as shots/<name>.png (or $GLOSE_SHOTS) and return the path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write screenshot {path}")
    return path


def show_window(qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path) -> MainWindow:
    """alice's main window on ``project`` (settings in tmp_path/settings.ini), shown."""
    from PySide6.QtCore import QSettings

    from gui.main_window import MainWindow
    from gui.settings import Settings

    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    window = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(window)
    window.show()
    qtbot.waitExposed(window)
    return window


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "glose.sqlite"))
    yield opened
    opened.close()


@pytest.fixture(autouse=True)
def message_boxes(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, str]]:
    """Static QMessageBox calls return at once and are recorded as (kind, text), so an
    unexpected dialog fails its test through its assertions instead of hanging the run."""
    from PySide6.QtWidgets import QMessageBox

    shown: list[tuple[str, str]] = []

    def recorder(kind: str, answer: QMessageBox.StandardButton) -> Any:
        def show(_parent: Any, _title: str, text: str, *_args: Any, **_kwargs: Any) -> Any:
            shown.append((kind, text))
            return answer

        return show

    ok, no = QMessageBox.StandardButton.Ok, QMessageBox.StandardButton.No
    for kind, answer in (("warning", ok), ("critical", ok), ("information", ok), ("question", no)):
        monkeypatch.setattr(QMessageBox, kind, recorder(kind, answer))
    return shown


def wait_done(qtbot: QtBot, worker: JobWorker, timeout: int = 10_000) -> None:
    """Wait until the worker's job has ended and its last signals are delivered. (A
    ``waitSignal(worker.signals.finished)`` entered after the window started the worker
    misses a job that ended first: a queued signal goes to the slots connected when it is
    emitted.)"""
    from PySide6.QtWidgets import QApplication

    qtbot.waitUntil(lambda: worker.wait(0), timeout=timeout)
    QApplication.processEvents()


@pytest.fixture
def child_jobs(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The targets of the jobs started in a child process (``models.job_process``)."""
    from models import job_process

    started: list[str] = []
    in_child = job_process.in_child

    def recorded(target: str, *args: Any, **options: Any) -> Any:
        started.append(target)
        return in_child(target, *args, **options)

    monkeypatch.setattr(job_process, "in_child", recorded)
    return started
