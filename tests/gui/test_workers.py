"""JobWorker: a models.jobs Job on QThreadPool, with progress, result, failure, cancel."""

from __future__ import annotations

import threading
from pathlib import Path

import shiboken6
from pytestqt.qtbot import QtBot

from gui.workers import JobProgress, JobWorker
from models.job_process import in_child
from models.jobs import Job
from models.records import Progress
from models.store import Store
from models.transfer import ImportReport


def counting(steps: int, reached: list[int], gate: threading.Event | None = None) -> Job[str]:
    for step in range(1, steps + 1):
        reached.append(step)
        yield Progress(step, steps, f"step {step}")
        if gate is not None:
            gate.wait(5)
    return f"counted {steps}"


def failing() -> Job[None]:
    yield Progress(0, None, "starting")
    raise ValueError("bad input")


def test_workers_emit_progress_and_result(qtbot: QtBot) -> None:
    reached: list[int] = []
    worker = JobWorker(counting(3, reached))
    steps: list[Progress] = []
    worker.signals.progress.connect(steps.append)
    with qtbot.waitSignal(worker.signals.finished, timeout=5000) as finished:
        worker.start()
    assert finished.args == ["counted 3"]
    qtbot.waitUntil(lambda: len(steps) == 3)
    assert [step.done for step in steps] == [1, 2, 3]
    assert steps[-1].message == "step 3"


def test_workers_cancel_stops_between_two_steps(qtbot: QtBot) -> None:
    reached: list[int] = []
    gate = threading.Event()
    closed = threading.Event()

    def job() -> Job[str]:
        try:
            return (yield from counting(100, reached, gate))
        finally:
            closed.set()

    worker = JobWorker(job())
    finished: list[object] = []
    worker.signals.finished.connect(finished.append)
    with qtbot.waitSignal(worker.signals.cancelled, timeout=5000):
        worker.start()
        qtbot.waitUntil(lambda: reached == [1])
        worker.cancel()
        gate.set()  # let the job finish its current step; the worker stops before the next
    assert worker.wait(5)
    assert closed.is_set()  # the generator was closed (its finally ran)
    assert reached in ([1], [1, 2])
    assert finished == []


def test_workers_failure_is_reported(qtbot: QtBot) -> None:
    worker = JobWorker(failing())
    with qtbot.waitSignal(worker.signals.failed, timeout=5000) as failed:
        worker.start()
    assert failed.args == ["ValueError: bad input"]


def test_workers_report_a_child_job_error_as_the_child_named_it(
    qtbot: QtBot, tmp_path: Path
) -> None:
    store = Store.open(str(tmp_path / "glose.sqlite"))
    project = store.ensure_project()
    missing = str(tmp_path / "missing.jsonl")
    job = in_child("models.transfer:import_file_of", ImportReport, store, project, path=missing)
    worker = JobWorker(job)
    with qtbot.waitSignal(worker.signals.failed, timeout=20000) as failed:
        worker.start()
    assert failed.args == [f"TransferError: {missing}: no such file"]
    worker.wait(5)
    store.close()


def test_workers_progress_widget_shows_steps_and_cancels(qtbot: QtBot) -> None:
    reached: list[int] = []
    gate = threading.Event()
    worker = JobWorker(counting(10, reached, gate))
    widget = JobProgress(worker, "Counting")  # not qtbot's to close: it deletes itself
    widget.show_progress(Progress(4, 10, "step 4"))
    assert widget.bar.maximum() == 10 and widget.bar.value() == 4
    assert widget.label.text() == "step 4"
    with qtbot.waitSignal(worker.signals.cancelled, timeout=5000):
        worker.start()
        qtbot.waitUntil(lambda: reached == [1])
        widget.cancel_button.click()
        assert not widget.cancel_button.isEnabled()  # before the job ends and the widget goes
        gate.set()
    qtbot.waitUntil(lambda: not shiboken6.isValid(widget))  # gone once the job has ended
