"""Jobs in a child process (models.job_process): progress, result, errors, cancel."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from sqlalchemy import create_engine, func, select

from models.job_process import ChildJobError, in_child, reopenable
from models.jobs import run
from models.preannotate import PreannotateReport
from models.records import DocumentRecord, Progress
from models.schema import Annotator, Document, Entity, Layer
from models.store import ProjectInfo, Store
from tests.models.child_jobs import Added


def _documents(store: Store) -> int:
    with store.reading() as session:
        return int(session.scalar(select(func.count(Document.id))) or 0)


def _children() -> set[int]:
    """This process's child processes (those its threads started; other tests' too)."""
    tasks = Path(f"/proc/{os.getpid()}/task")
    return {int(pid) for task in tasks.iterdir() for pid in (task / "children").read_text().split()}


def test_a_child_job_gives_its_steps_and_its_result(store: Store, project: ProjectInfo) -> None:
    before = _children()
    steps: list[Progress] = []
    job = in_child("tests.models.child_jobs:add", Added, store, project, count=3)
    assert run(job, steps.append) == Added("test", 3)
    assert [(step.done, step.total, step.message) for step in steps] == [
        (1, 3, "added 1"),
        (2, 3, "added 2"),
        (3, 3, "added 3"),
    ]
    assert _documents(store) == 3  # written by the child, in the same database
    assert _children() <= before


def test_a_child_job_error_is_raised_here(store: Store, project: ProjectInfo) -> None:
    before = _children()
    with pytest.raises(ChildJobError, match="ValueError: nothing to do in test"):
        run(in_child("tests.models.child_jobs:fail", type(None), store, project))
    with pytest.raises(ChildJobError, match="stopped \\(exit code 3\\)"):
        run(in_child("tests.models.child_jobs:crash", type(None), store, project))
    other = ProjectInfo(project.id, "nowhere", project.schema, {})
    with pytest.raises(ChildJobError, match="no project named 'nowhere'"):
        run(in_child("tests.models.child_jobs:add", Added, store, other, count=1))
    assert _children() <= before


def test_closing_a_child_job_stops_the_child_between_two_steps(
    store: Store, project: ProjectInfo
) -> None:
    before = _children()
    job = in_child("tests.models.child_jobs:add", Added, store, project, count=1000, pause=0.05)
    assert next(job).done == 1
    assert next(job).done == 2
    began = time.perf_counter()
    job.close()  # what a cancel does
    assert time.perf_counter() - began < 5 and _children() <= before
    assert 2 <= _documents(store) <= 3  # the step under way when the pipe closed, at most


def test_only_a_database_a_child_can_open_is_reopenable(store: Store, tmp_path: Path) -> None:
    assert reopenable(store)
    memory = Store(create_engine("sqlite://"))  # in memory: this process's only
    try:
        assert not reopenable(memory)
    finally:
        memory.close()


def test_pre_annotation_in_a_child(store: Store, project: ProjectInfo) -> None:
    before = _children()
    texts = ["Vladimir Poutine a reçu Xi Jinping à Moscou.", "Pékin et Moscou signent un accord."]
    store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    job = in_child("models.refresh:preannotate_learning", PreannotateReport, store, project)
    report = run(job)
    assert isinstance(report, PreannotateReport) and report.documents == 2
    with store.reading() as session:
        model = select(Annotator.id).where(Annotator.name == project.model_annotator)
        stored = select(func.count(Entity.id)).join(Layer).where(Layer.annotator_id.in_(model))
        assert session.scalar(stored) == report.entities > 0
    assert _children() <= before
