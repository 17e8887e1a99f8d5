"""Which learned layers are current: the rule it rests on (a text that touches none of the
changed forms derives the same), and the state's bookkeeping on both databases."""

from __future__ import annotations

from collections import Counter

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import learned_state
from models.labels import load_default
from models.layers import open_layer
from models.learned_state import changed, touches
from models.learning import Learner, LearningSettings
from models.memory import SUPPRESS, FormStats, Memory
from models.records import DocumentRecord
from models.store import ProjectInfo, Store

SCHEMA = load_default()
WORDS = ["Xi", "Xi Jinping", "Jinping", "la Chine", "Chine", "l’OTAN", "OTAN", "Pékin", "10km"]
FILLER = [" ", "  ", "\n", "\u00a0", ", ", ". ", " et ", " l'", "-", "km"]
DECISIONS = ["PER", "LOC", "ORG", SUPPRESS]


def _learner(decisions: dict[str, str], key: str = "k") -> Learner:
    """A learner whose memory decides ``decisions`` (each form labelled, or deleted)."""
    memory = Memory(SCHEMA.language)
    for form, decision in decisions.items():
        memory.forms[form] = (
            FormStats(deleted=1) if decision == SUPPRESS else FormStats(Counter({decision: 1}))
        )
    return Learner(SCHEMA, LearningSettings(), memory, key)


@st.composite
def _texts(draw: st.DrawFn) -> tuple[str, list[tuple[int, int, str]]]:
    """A text of names and filler, with raw spans on some of the names."""
    text, spans = "", []
    for _ in range(draw(st.integers(1, 8))):
        if draw(st.booleans()):
            word = draw(st.sampled_from(WORDS))
            if draw(st.booleans()):
                spans.append(
                    (len(text), len(text) + len(word), draw(st.sampled_from(DECISIONS[:3])))
                )
            text += word
        else:
            text += draw(st.sampled_from(FILLER))
    return text, spans


_decisions = st.dictionaries(st.sampled_from(WORDS), st.sampled_from(DECISIONS), max_size=6)


@settings(max_examples=300, deadline=None)
@given(_texts(), _decisions, _decisions)
def test_learned_state_text_touching_no_changed_form_derives_the_same(
    document: tuple[str, list[tuple[int, int, str]]],
    before: dict[str, str],
    after: dict[str, str],
) -> None:
    text, raw = document
    if not touches(text, changed(before, after)):
        assert _learner(before).spans(text, raw) == _learner(after).spans(text, raw)


def test_learned_state_touches_ignores_spaces_and_typography() -> None:
    assert touches("selon l’OTAN,\u00a0hier", {"l'OTAN"})
    assert touches("Xi\n\nJinping a dit", {"XiJinping"})
    assert not touches("Xi et Jinping", {"XiJinping"})


@pytest.fixture
def docs(store: Store, project: ProjectInfo) -> list[int]:
    texts = ["Xi à Pékin.", "La Chine et l’OTAN.", "Xi Jinping en Chine."]
    ids = store.add_documents(project.id, [DocumentRecord(text=t) for t in texts])
    return [doc_id for doc_id in ids if doc_id is not None]


def _state(store: Store, project: ProjectInfo) -> learned_state.LearnedState:
    with store.reading() as session:
        state = learned_state.read(session, project.id)
    assert state is not None
    return state


def _texts_of(store: Store, docs: list[int]) -> dict[int, str]:
    return {doc_id: store.document(doc_id).text for doc_id in docs}


def test_learned_state_sync_makes_changed_forms_stale(
    store: Store, project: ProjectInfo, docs: list[int]
) -> None:
    first = _learner({"Xi": "PER"})
    with store.transaction() as session:
        assert learned_state.sync(session, project.id, first).stale is None  # nothing known
        assert learned_state.mark_base(session, project.id, first)
    assert _state(store, project).stale_documents(_texts_of(store, docs)) == set()
    relabelled = _learner({"Xi": "MISC", "OTAN": "ORG"})
    with store.transaction() as session:
        state = learned_state.sync(session, project.id, relabelled)
    assert state.stale == frozenset({"Xi", "OTAN"})
    assert state.stale_documents(_texts_of(store, docs)) == set(docs)
    back = _learner({"Xi": "PER", "OTAN": "ORG"})
    with store.transaction() as session:  # what changed since the base stays stale
        assert learned_state.sync(session, project.id, back).stale == frozenset({"Xi", "OTAN"})
        assert not learned_state.mark_base(session, project.id, first)  # not current
        assert learned_state.mark_base(session, project.id, back)
    assert _state(store, project).stale == frozenset()


def test_learned_state_fresh_documents_stay_fresh_until_a_change_touches_them(
    store: Store, project: ProjectInfo, docs: list[int], human_id: int
) -> None:
    first = _learner({"Xi": "PER"})
    with store.transaction() as session:
        learned_state.sync(session, project.id, first)  # stale: everything
        assert learned_state.mark_fresh(session, project.id, first, docs)
    assert _state(store, project).stale_documents(_texts_of(store, docs)) == set()
    pekin = _learner({"Xi": "PER", "Pékin": "LOC"})
    with store.transaction() as session:
        assert not learned_state.mark_fresh(session, project.id, pekin, docs)  # not current
        assert learned_state.sync(session, project.id, pekin).fresh == set(docs[1:])
    open_layer(store, docs[1], human_id, None, create=True)
    with store.transaction() as session:  # opened documents are forgotten
        assert learned_state.mark_fresh(session, project.id, pekin, [docs[0]])
    assert _state(store, project).fresh == {docs[0], docs[2]}


def test_learned_state_new_key_or_too_many_changes_know_nothing(
    store: Store, project: ProjectInfo, docs: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    first = _learner({"Xi": "PER"})
    with store.transaction() as session:
        learned_state.sync(session, project.id, first)
        learned_state.mark_base(session, project.id, first)
        learned_state.mark_fresh(session, project.id, first, docs)
        state = learned_state.sync(session, project.id, _learner({"Xi": "PER"}, key="rules"))
    assert (state.stale, state.fresh) == (None, frozenset())
    monkeypatch.setattr(learned_state, "MAX_STALE", 2)
    with store.transaction() as session:
        learned_state.mark_base(session, project.id, _learner({"Xi": "PER"}, key="rules"))
        many = _learner({"Xi": "LOC", "Chine": "LOC", "Pékin": "LOC"}, key="rules")
        assert learned_state.sync(session, project.id, many).stale is None
