"""Annotators and queues: who annotates which documents of a project (no Qt).

The project's settings hold the roster and the sharing rule:

- ``settings["annotators"]``: the human annotators of the project, in the order they joined
  (the first time they opened the project, or ``glose queue --add NAME``);
- ``settings["assignment"]``: ``"all"`` (everyone annotates every document, the default) or
  ``"k"`` (each document goes to ``settings["k"]`` annotators).

The rule for ``"k"`` with a roster of A annotators: the document at corpus position p goes to
the annotators of roster index ``(p·K + j) mod A`` for j = 0 … K-1. Over positions 0 … n-1 the
n·K slots are consecutive, so each annotator gets ⌊n·K/A⌋ or ⌈n·K/A⌉ documents, the K
annotators of a document are distinct, and a document added later (a new, higher position)
never moves the existing ones. The same roster and corpus always give the same queues;
changing K or the roster deals the documents again. With K ≥ A everyone gets everything.
An annotator not on the roster (a reviewer) sees every document.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, select, true, update
from sqlalchemy.orm import Session

from models.schema import Annotator, Document, Project
from models.store import Store

ROSTER = "annotators"
ASSIGNMENT = "assignment"
K = "k"
MODES = ("all", "k")


class QueueError(ValueError):
    """A roster or assignment setting that cannot be used; the message says why."""


@dataclass(frozen=True, slots=True)
class Queue:
    """The documents dealt to the annotator at ``index`` of a roster of ``size``, ``k`` each."""

    index: int
    size: int
    k: int

    def contains(self, position: int) -> bool:
        return (self.index - position * self.k) % self.size < self.k

    def clause(self) -> ColumnElement[bool]:
        """``contains`` as an SQL condition on ``Document.position`` (SQLite and PostgreSQL
        truncate ``%`` toward zero, hence the second modulo)."""
        if self.k >= self.size:
            return true()
        shifted = (self.index - Document.position * self.k) % self.size
        return (shifted + self.size) % self.size < self.k


@dataclass(frozen=True, slots=True)
class Assignment:
    mode: str
    k: int
    roster: tuple[str, ...]

    def queue(self, annotator: str) -> Queue | None:
        """The annotator's queue; None means every document."""
        if self.mode == "all" or annotator not in self.roster:
            return None
        return Queue(self.roster.index(annotator), len(self.roster), self.k)


def assigned(position: int, roster_size: int, k: int) -> list[int]:
    """Roster indices of the annotators of the document at ``position`` (mode "k")."""
    count = min(k, roster_size)
    return sorted((position * k + j) % roster_size for j in range(count))


def assignment(store: Store, project_id: int) -> Assignment:
    with store.reading() as session:
        return _assignment(_settings(session, project_id))


def _assignment(settings: dict[str, Any]) -> Assignment:
    mode = str(settings.get(ASSIGNMENT, "all"))
    return Assignment(
        mode if mode in MODES else "all",
        max(1, int(settings.get(K, 1))),
        tuple(str(name) for name in settings.get(ROSTER, [])),
    )


def queue_for(store: Store, project_id: int, annotator: str) -> Queue | None:
    """The annotator's queue in the project as its settings are now (None: everything)."""
    return assignment(store, project_id).queue(annotator)


def join(store: Store, project_id: int, names: list[str]) -> list[str]:
    """Add human annotators to the roster (created if new); returns those newly added."""
    names = list(dict.fromkeys(names))
    with store.transaction() as session:
        rows = session.execute(
            select(Annotator.name, Annotator.kind).where(Annotator.name.in_(names))
        )
        kinds = {name: kind for name, kind in rows}
        wrong = [name for name in names if kinds.get(name, "human") != "human"]
        if wrong:
            raise QueueError(f"not human annotators: {', '.join(wrong)}")
        session.add_all(Annotator(name=name, kind="human") for name in names if name not in kinds)
        settings = _settings(session, project_id, lock=True)
        roster = list(settings.get(ROSTER, []))
        added = [name for name in names if name not in roster]
        if added:
            _save(session, project_id, settings | {ROSTER: roster + added})
        return added


def leave(store: Store, project_id: int, names: list[str]) -> list[str]:
    """Remove annotators from the roster (their layers stay); returns those removed."""
    with store.transaction() as session:
        settings = _settings(session, project_id, lock=True)
        roster = list(settings.get(ROSTER, []))
        removed = [name for name in roster if name in names]
        if removed:
            kept = [name for name in roster if name not in names]
            _save(session, project_id, settings | {ROSTER: kept})
        return removed


def set_assignment(store: Store, project_id: int, mode: str, k: int = 1) -> Assignment:
    """Share documents with everyone (``"all"``) or with ``k`` annotators each (``"k"``)."""
    if mode not in MODES:
        raise QueueError(f"unknown assignment '{mode}' (one of {', '.join(MODES)})")
    if k < 1:
        raise QueueError(f"K must be at least 1, not {k}")
    with store.transaction() as session:
        settings = _settings(session, project_id, lock=True)
        settings = settings | {ASSIGNMENT: mode, K: k}
        _save(session, project_id, settings)
        return _assignment(settings)


def _settings(session: Session, project_id: int, *, lock: bool = False) -> dict[str, Any]:
    query = select(Project.settings).where(Project.id == project_id)
    if lock:
        query = query.with_for_update()
    settings = session.scalar(query)
    if settings is None:
        raise QueueError(f"no project with id {project_id}")
    return dict(settings)


def _save(session: Session, project_id: int, settings: dict[str, Any]) -> None:
    session.execute(update(Project).where(Project.id == project_id).values(settings=settings))


def describe(store: Store, project_id: int) -> list[str]:
    """The sharing rule and each roster annotator's progress in their queue, as lines."""
    rule = assignment(store, project_id)
    if rule.mode == "all":
        lines = ["assignment: all (everyone annotates every document)"]
    else:
        lines = [f"assignment: k={rule.k} (each document goes to {rule.k} annotator(s))"]
    lines.append(f"roster: {len(rule.roster)} annotator(s)")
    for name in rule.roster:
        done, size = store.progress(project_id, store.annotator_id(name), rule.queue(name))
        lines.append(f"  {name}: {done} of {size} document(s) done")
    return lines
