"""Each annotator's progress and speed on a project, for the agreement dashboard.

Speed is documents done per hour of time recorded on those done layers (``Layer.seconds``);
with no time recorded (the model, or imported layers) it is undefined, with the reason.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import case, func, select

from models.agreement.categorical import Measure
from models.agreement.store_io import KIND_ORDER
from models.schema import Annotator, Document, Layer
from models.store import Store

HOUR = 3600.0


@dataclass(frozen=True, slots=True)
class AnnotatorProgress:
    name: str
    kind: str
    done: int  # layers done
    layers: int  # layers in any status
    total: int  # documents in the project
    seconds: float  # time recorded on all the annotator's layers
    done_seconds: float  # time recorded on the layers done

    def speed(self) -> Measure:
        """Documents done per hour."""
        if self.done == 0:
            return Measure(None, "no document done")
        if self.done_seconds <= 0:
            return Measure(None, "no time recorded on the documents done")
        return Measure(self.done * HOUR / self.done_seconds)


def annotator_progress(store: Store, project_id: int) -> list[AnnotatorProgress]:
    """Every annotator with a layer in the project: the model first, then the humans by
    name, then gold."""
    done = Layer.status == "done"
    with store.reading() as session:
        total = session.scalar(
            select(func.count(Document.id)).where(Document.project_id == project_id)
        )
        rows = session.execute(
            select(
                Annotator.name,
                Annotator.kind,
                func.count(case((done, Layer.id))),
                func.count(Layer.id),
                func.coalesce(func.sum(Layer.seconds), 0.0),
                func.coalesce(func.sum(case((done, Layer.seconds))), 0.0),
            )
            .join(Layer, Layer.annotator_id == Annotator.id)
            .join(Document, Document.id == Layer.document_id)
            .where(Document.project_id == project_id)
            .group_by(Annotator.id, Annotator.name, Annotator.kind)
        ).all()
    found = [
        AnnotatorProgress(name, kind, int(d), int(n), int(total or 0), float(s), float(ds))
        for name, kind, d, n, s, ds in rows
    ]
    return sorted(found, key=lambda p: (KIND_ORDER.get(p.kind, 1), p.name))
