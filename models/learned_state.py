"""Which learned layers are current, so that a correction re-derives a handful of them.

A learned layer (``models.refresh``) is a function of its document's text and raw spans,
of the learner's key (raw annotator, rules, sources: ``learning.learner_key``) and of the
memory's decisions (form → label or SUPPRESS, ``Memory.decisions``) of the forms the
document holds: the form of a ruled raw span, or a labelled form the PhraseMatcher finds.
Either way the form without its spaces is a substring of the normalised text without its
spaces (``touches``). So when the decisions change on some forms, a learned layer whose
text holds none of them is still what the new decisions derive.

The project's ``settings["learned"]`` records this (``LearnedState``):

- ``key``: the learner key the rest is about (another key: nothing is known);
- ``current``: the decisions of the memory as the last refresh learned them (encoded);
- ``stale``: the forms whose decisions changed since every learned layer of the documents
  no human has opened was current (None: unknown, or too many to be worth testing);
- ``fresh``: documents derived with ``current`` since, current whatever their text.

A learned layer is written only with the decisions ``current`` holds at that moment (the
check and the write in one transaction), and every change of the state is a
read-modify-write of the project row in one transaction (locked on PostgreSQL, under
SQLite's write lock), so processes sharing a database keep the rule true: a learned layer
of an unopened document is current when it is fresh or its text holds no stale form.
``sync`` records new decisions (the changed forms become stale; a fresh document holding
one is fresh no more), ``mark_fresh`` adds documents just derived, ``mark_base`` closes a
pass that derived every stale document.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, select
from sqlalchemy.orm import Session

from models.learning import Learner, locked_settings, put_settings
from models.memory import decode_decisions
from models.normalise import normalise
from models.schema import Annotator, Document, Layer, Project

SETTING = "learned"
MAX_STALE = 1000  # stale forms worth testing a text against (about 1 µs each)


@dataclass(frozen=True, slots=True)
class LearnedState:
    key: str
    current: str  # encoded decisions (``Learner.encoded``)
    stale: frozenset[str] | None = None  # squeezed forms (``squeeze``)
    fresh: frozenset[int] = field(default_factory=frozenset)

    def holds(self, learner: Learner) -> bool:
        """Whether ``learner`` derives what this state calls current."""
        return (self.key, self.current) == (learner.key, learner.encoded())

    def stale_documents(self, texts: dict[int, str]) -> set[int]:
        """The documents of ``texts`` (id → text) whose learned layers may not be what
        ``current`` derives."""
        candidates = set(texts) - self.fresh
        if self.stale is None:
            return candidates
        return {doc_id for doc_id in candidates if touches(texts[doc_id], self.stale)}


def squeeze(text: str) -> str:
    """``text`` without its spaces (those ``str.split`` splits on)."""
    return "".join(text.split())


def touches(text: str, squeezed_forms: Iterable[str]) -> bool:
    """Whether ``text`` may hold one of the forms (given squeezed): a ruled span or a
    PhraseMatcher match of a form, spaces removed, is a substring of the normalised text
    with its spaces removed."""
    haystack = squeeze(normalise(text))
    return any(form in haystack for form in squeezed_forms)


def changed(old: dict[str, str], new: dict[str, str]) -> frozenset[str]:
    """The squeezed forms whose decisions differ."""
    forms = {form for form in old.keys() | new.keys() if old.get(form) != new.get(form)}
    return frozenset(squeeze(form) for form in forms)


def unopened() -> ColumnElement[bool]:
    """``Document`` has no human layer: its learned layer is still derived (a human layer
    is a copy, made when the document is first opened)."""
    human = (
        select(Layer.id)
        .join(Annotator, Annotator.id == Layer.annotator_id)
        .where(Layer.document_id == Document.id, Annotator.kind == "human")
    )
    return ~human.exists()


def read(session: Session, project_id: int, *, lock: bool = False) -> LearnedState | None:
    """The project's state (None when there is none); ``lock`` locks the project row."""
    if lock:
        settings = locked_settings(session, project_id)
    else:
        query = select(Project.settings).where(Project.id == project_id)
        settings = session.scalar(query) or {}
    return _parse(settings.get(SETTING))


def _parse(stored: Any) -> LearnedState | None:
    if not isinstance(stored, dict) or "current" not in stored:
        return None
    stale = stored.get("stale")
    return LearnedState(
        str(stored["key"]),
        str(stored["current"]),
        None if stale is None else frozenset(stale),
        frozenset(int(doc_id) for doc_id in stored.get("fresh", ())),
    )


def _write(session: Session, project_id: int, state: LearnedState) -> None:
    settings = locked_settings(session, project_id)
    settings[SETTING] = {
        "key": state.key,
        "current": state.current,
        "stale": None if state.stale is None else sorted(state.stale),
        "fresh": sorted(state.fresh),
    }
    put_settings(session, project_id, settings)


def sync(session: Session, project_id: int, learner: Learner) -> LearnedState:
    """Record that the memory now decides what ``learner``'s does; the new state."""
    state = read(session, project_id, lock=True)
    if state is not None and state.holds(learner):
        return state
    if state is None or state.key != learner.key:
        new = LearnedState(learner.key, learner.encoded())
    else:
        moved = changed(decode_decisions(state.current), learner.decisions())
        stale = None if state.stale is None else state.stale | moved
        texts = _unopened_texts(session, state.fresh)
        fresh = frozenset(doc_id for doc_id, text in texts.items() if not touches(text, moved))
        new = LearnedState(learner.key, learner.encoded(), _bounded(stale), fresh)
    _write(session, project_id, new)
    return new


def holds(session: Session, project_id: int, learner: Learner) -> bool:
    """Whether the state still calls ``learner``'s decisions current (learned layers it
    derives may be written); the project row stays locked until the transaction ends."""
    state = read(session, project_id, lock=True)
    return state is not None and state.holds(learner)


def mark_fresh(
    session: Session, project_id: int, learner: Learner, doc_ids: Collection[int]
) -> bool:
    """Add ``doc_ids`` (derived by ``learner``) to the fresh documents, forgetting those a
    human has opened since; False (nothing changed) when the state moved on."""
    state = read(session, project_id, lock=True)
    if state is None or not state.holds(learner):
        return False
    fresh = frozenset(_unopened_ids(session, state.fresh | set(doc_ids)))
    if fresh != state.fresh:
        _write(session, project_id, LearnedState(state.key, state.current, state.stale, fresh))
    return True


def mark_base(session: Session, project_id: int, learner: Learner) -> bool:
    """Close a pass that derived with ``learner`` every document stale when it began:
    every learned layer is current, unless the state moved on since (False)."""
    state = read(session, project_id, lock=True)
    if state is None or not state.holds(learner):
        return False
    _write(session, project_id, LearnedState(state.key, state.current, frozenset()))
    return True


def _bounded(stale: frozenset[str] | None) -> frozenset[str] | None:
    return None if stale is None or len(stale) > MAX_STALE else stale


def _unopened_ids(session: Session, doc_ids: Collection[int]) -> list[int]:
    if not doc_ids:
        return []
    query = select(Document.id).where(Document.id.in_(doc_ids), unopened())
    return list(session.scalars(query))


def _unopened_texts(session: Session, doc_ids: Collection[int]) -> dict[int, str]:
    """The text of each of ``doc_ids`` no human has opened."""
    if not doc_ids:
        return {}
    query = select(Document.id, Document.text).where(Document.id.in_(doc_ids), unopened())
    return {doc_id: text for doc_id, text in session.execute(query)}
