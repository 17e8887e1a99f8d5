"""Long work off the GUI thread: a models.jobs Job run by a QRunnable on QThreadPool.

The worker re-emits each ``Progress`` as a signal and stops between two steps when
cancelled (the generator is closed on the worker thread, where it runs). ``JobProgress`` is
the status-bar widget that shows one running job with a Cancel button.
"""

from __future__ import annotations

import threading
import traceback
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal
from PySide6.QtWidgets import (
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QWidget,
)

from models.job_process import ChildJobError
from models.jobs import Job
from models.records import Progress


class JobSignals(QObject):
    """Signals of one JobWorker (a QRunnable is not a QObject)."""

    progress = Signal(object)  # models.records.Progress
    finished = Signal(object)  # the job's result
    failed = Signal(str)  # the error, one line
    cancelled = Signal()


class JobWorker(QRunnable):
    """Runs a Job on a pool thread; ``cancel()`` stops it between two steps."""

    def __init__(self, job: Job[Any], name: str = "") -> None:
        super().__init__()
        # Python owns the runnable: with auto-delete the pool thread deleted it while the
        # garbage collector could be freeing its wrapper on the GUI thread (a segfault)
        self.setAutoDelete(False)
        self.job = job
        self.name = name
        self.signals = JobSignals()
        self._cancel = threading.Event()
        self._done = threading.Event()

    def cancel(self) -> None:
        self._cancel.set()

    @property
    def is_cancelling(self) -> bool:
        return self._cancel.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Block until the job has ended (finished, failed or cancelled)."""
        return self._done.wait(timeout)

    def start(self, pool: QThreadPool | None = None) -> JobWorker:
        (pool or QThreadPool.globalInstance()).start(self)
        return self

    def run(self) -> None:
        try:
            self._drive()
        finally:
            self._done.set()

    def _drive(self) -> None:
        while True:
            if self._cancel.is_set():
                self.job.close()
                self.signals.cancelled.emit()
                return
            try:
                step = next(self.job)
            except StopIteration as stop:
                self.signals.finished.emit(stop.value)
                return
            except ChildJobError as error:  # it names the child's error
                self.signals.failed.emit(str(error))
                return
            except Exception as error:
                traceback.print_exc()
                self.signals.failed.emit(f"{type(error).__name__}: {error}")
                return
            self.signals.progress.emit(step)


class JobProgress(QWidget):
    """A compact progress line for the status bar: message, bar, Cancel; one per job.

    It removes itself when the job ends.
    """

    def __init__(self, worker: JobWorker, title: str, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.worker = worker
        self.title = title
        self.label = QLabel(title, self)
        self.bar = QProgressBar(self)
        self.bar.setFixedWidth(140)
        self.bar.setMaximumHeight(14)
        self.bar.setTextVisible(False)
        self.bar.setRange(0, 0)
        self.cancel_button = QPushButton(self.tr("Cancel"), self)
        self.cancel_button.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        self.setSizePolicy(QSizePolicy.Policy.Maximum, QSizePolicy.Policy.Fixed)
        layout = QHBoxLayout(self)
        layout.setContentsMargins(0, 0, 6, 0)
        layout.addWidget(self.label)
        layout.addWidget(self.bar)
        layout.addWidget(self.cancel_button)
        self.cancel_button.clicked.connect(self.cancel)
        worker.signals.progress.connect(self.show_progress)
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(self.deleteLater)

    def show_progress(self, step: Progress) -> None:
        message = step.message or f"{self.title} {step.done}/{step.total or '?'}"
        if step.total:
            self.bar.setRange(0, step.total)
            self.bar.setValue(min(step.done, step.total))
        else:
            self.bar.setRange(0, 0)
        if not self.worker.is_cancelling:
            self.label.setText(message)

    def cancel(self) -> None:
        self.worker.cancel()
        self.cancel_button.setEnabled(False)
        self.label.setText(self.tr("Cancelling…"))
