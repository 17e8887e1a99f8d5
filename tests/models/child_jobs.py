"""Jobs for tests/models/test_job_process.py, run by ``models.job_process`` in a child."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from models.commands import AddEntity
from models.jobs import Job
from models.layers import open_layer
from models.preannotate import PreannotateReport
from models.records import DocumentRecord, Progress
from models.store import ProjectInfo, Store


@dataclass(frozen=True, slots=True)
class Added:
    project: str
    documents: int


def add(store: Store, project: ProjectInfo, count: int, pause: float = 0.0) -> Job[Added]:
    """Add ``count`` documents, one a step (``pause`` seconds after each)."""
    for number in range(count):
        store.add_documents(
            project.id, [DocumentRecord(text=f"Document {number} de {os.getpid()}")]
        )
        yield Progress(number + 1, count, f"added {number + 1}")
        time.sleep(pause)
    return Added(project.name, count)


def fail(store: Store, project: ProjectInfo) -> Job[None]:
    yield Progress(0, None, "failing")
    raise ValueError(f"nothing to do in {project.name}")


def crash(store: Store, project: ProjectInfo) -> Job[None]:
    yield Progress(0, None, "crashing")
    os._exit(3)


def preannotate(store: Store, project: ProjectInfo) -> Job[PreannotateReport]:
    """A stand-in for pre-annotation: LOC over the first 5 characters of each document."""
    yield Progress(0, None, "Loading spaCy model…")
    model_id = store.annotator_id(project.model_annotator, "model")
    documents = [row.id for row in store.document_rows(project.id, model_id, 0, 99)]
    for done, document_id in enumerate(documents, 1):
        layer = open_layer(store, document_id, model_id, None, create=True)
        assert layer is not None
        store.do(AddEntity(layer.id, 0, 5, "LOC", origin="model"))
        yield Progress(done, len(documents), f"Pre-annotated {done}")
    return PreannotateReport(len(documents), len(documents), 30, 0.1)
