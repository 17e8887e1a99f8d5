"""Review mode: the queue, J/K through disagreements, digits take a version into gold,
Ctrl+Shift+A accepts the agreed items, editing gold directly, undo and redo (checked in the
database), and a screenshot of two annotators disagreeing on sample article 000."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot

from gui.review_model import ReviewQueueTableModel, VersionTableModel, describe
from gui.review_view import ReviewView
from models.commands import AddEntity
from models.events import AddArgument, AddEvent
from models.layers import entities, find_layer, open_layer
from models.records import DocumentRecord, SpanRecord
from models.review import review_document
from models.stance import SetStance, stance
from models.store import ProjectInfo, Store
from tests.gui.conftest import screenshot, show_window

TEXT = "Vladimir Poutine a reçu Xi Jinping à Moscou. L’accord a été signé au Kremlin."
CALM = "Pékin et Moscou signent un accord gazier."
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def at(text: str, word: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(word, start + 1)
    return start, start + len(word)


def annotate(
    store: Store,
    document_id: int,
    name: str,
    spans: list[tuple[tuple[int, int], str]],
    stances: dict[str, str] | None = None,
) -> dict[tuple[int, int], int]:
    layer = open_layer(store, document_id, store.annotator_id(name), None, create=True)
    assert layer is not None
    ids = {}
    for (start, end), label in spans:
        add = AddEntity(layer.id, start, end, label)
        store.do(add)
        assert add.entity_id is not None
        ids[start, end] = add.entity_id
    for target, value in (stances or {}).items():
        store.do(SetStance(layer.id, target, value=value))
    return ids


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    return store.ensure_project("test")


@pytest.fixture
def documents(store: Store, project: ProjectInfo) -> tuple[int, int]:
    """``TEXT``: three disagreements (Xi, Kremlin, RUSSIE); ``CALM``: one."""
    records = [DocumentRecord(text=CALM, title="calm"), DocumentRecord(text=TEXT, title="busy")]
    calm, busy = store.add_documents(project.id, records)
    assert calm is not None and busy is not None
    poutine, moscou = at(TEXT, "Vladimir Poutine"), at(TEXT, "Moscou")
    annotate(
        store,
        busy,
        "alice",
        [(poutine, "PER"), (at(TEXT, "Xi Jinping"), "PER"), (moscou, "LOC")],
        {"CHINE": "neutre", "RUSSIE": "favorable"},
    )
    annotate(
        store,
        busy,
        "bob",
        [(poutine, "PER"), (at(TEXT, "Xi"), "MISC"), (moscou, "LOC"), (at(TEXT, "Kremlin"), "ORG")],
        {"CHINE": "neutre", "RUSSIE": "defavorable"},
    )
    annotate(store, calm, "alice", [(at(CALM, "Pékin"), "LOC")])
    annotate(store, calm, "bob", [(at(CALM, "Pékin"), "ORG")])
    return calm, busy


def open_review(qtbot: QtBot, store: Store, project: ProjectInfo) -> ReviewView:
    view = ReviewView(store, project)
    qtbot.addWidget(view)
    view.resize(1400, 860)
    view.show()
    qtbot.waitExposed(view)
    view.activateWindow()
    view.refresh_queue()
    qtbot.waitUntil(lambda: view.review is not None, timeout=10000)
    return view


def gold_spans(store: Store, document_id: int) -> list[tuple[int, int, str]]:
    layer = find_layer(store, document_id, store.annotator_id("gold"))
    return [(e.start, e.end, e.label) for e in entities(store, layer.id)] if layer else []


def test_review_queue_table_passes_qtmodeltester(
    store: Store,
    project: ProjectInfo,
    documents: tuple[int, int],
    qtmodeltester,  # type: ignore[no-untyped-def]
) -> None:
    busy = documents[1]
    model = ReviewQueueTableModel()
    qtmodeltester.check(model, force_py=True)
    review = review_document(store, busy, ["alice", "bob"])
    versions = VersionTableModel()
    qtmodeltester.check(versions, force_py=True)
    versions.set_group(review.groups[0], TEXT, project.schema)
    assert versions.rowCount() == 2
    assert versions.index(0, 0).data() == "1   alice:  PER ‘Xi Jinping’"
    assert describe((), TEXT, project.schema) == "— (nothing)"


def test_review_view_orders_queue_and_opens_most_disagreement(
    qtbot: QtBot, store: Store, project: ProjectInfo, documents: tuple[int, int]
) -> None:
    busy = documents[1]
    view = open_review(qtbot, store, project)
    assert view.annotators == ("alice", "bob")
    shown = [view.proxy.index(row, 0).data() for row in range(view.proxy.rowCount())]
    assert shown == ["busy", "calm"]
    assert view.document_id == busy and view.current == 0
    assert view.corpus.text() == "0 of 2 documents adjudicated"
    assert "1 of 3" in view.heading.text() and "entities" in view.heading.text()
    assert view.versions.rowCount() == 2
    assert [mark.start for mark in view.merged.marks("review")] == [
        at(TEXT, "Xi")[0],
        at(TEXT, "Kremlin")[0],
    ]  # the stance disagreement has no evidence passage to mark
    assert {span.label for span in view.merged.spans} == {"PER", "LOC"}  # the agreed ones


def test_review_view_flow_keys_take_accept_undo(
    qtbot: QtBot, store: Store, project: ProjectInfo, documents: tuple[int, int]
) -> None:
    calm, busy = documents
    view = open_review(qtbot, store, project)
    merged = view.merged
    qtbot.keyClick(merged, Qt.Key.Key_J)
    assert view.current == 1
    qtbot.keyClick(merged, Qt.Key.Key_K)
    assert view.current == 0
    qtbot.keyClick(merged, Qt.Key.Key_2)  # bob's MISC 'Xi'
    assert gold_spans(store, busy) == [(*at(TEXT, "Xi"), "MISC")]
    assert view.current == 1  # on to the next unresolved disagreement
    assert view.review is not None and view.review.resolved == 1
    qtbot.keyClick(merged, Qt.Key.Key_1)  # alice: no Kremlin entity
    qtbot.keyClick(merged, Qt.Key.Key_1)  # alice: RUSSIE favorable
    gold = find_layer(store, busy, store.annotator_id("gold"))
    assert gold is not None
    assert stance(store, gold.id)["RUSSIE"].value == "favorable"
    qtbot.keyClick(merged, Qt.Key.Key_A, CTRL_SHIFT)
    assert len(gold_spans(store, busy)) == 3 and set(stance(store, gold.id)) == {"CHINE", "RUSSIE"}
    assert view.review.adjudicated and view.corpus.text() == "1 of 2 documents adjudicated"

    qtbot.keyClick(merged, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)  # undo accept
    assert gold_spans(store, busy) == [(*at(TEXT, "Xi"), "MISC")]
    assert not view.review.adjudicated and view.corpus.text() == "0 of 2 documents adjudicated"
    qtbot.keyClick(merged, Qt.Key.Key_Z, CTRL_SHIFT)  # redo
    assert len(gold_spans(store, busy)) == 3

    qtbot.keyClick(merged, Qt.Key.Key_J)  # past the last disagreement: the next document
    qtbot.keyClick(merged, Qt.Key.Key_J)
    assert view.document_id == calm and view.current == 0
    qtbot.keyClick(view.merged, Qt.Key.Key_9)  # nobody is number 9: nothing taken
    assert gold_spans(store, calm) == [] and "No version 9" in view.message.text()


def test_review_view_edit_gold_directly(
    qtbot: QtBot, store: Store, project: ProjectInfo, documents: tuple[int, int]
) -> None:
    busy = documents[1]
    view = open_review(qtbot, store, project)
    qtbot.keyClick(view.merged, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert view.edit_gold_action.isChecked() and view.stack.currentWidget() is view.gold_view
    assert not view.take_actions[0].isEnabled()
    view.gold_view.set_selection_range(*at(TEXT, "Kremlin"))
    qtbot.keyClicks(view.gold_view, "3")  # a label key while editing gold: LOC
    assert gold_spans(store, busy) == [(*at(TEXT, "Kremlin"), "LOC")]
    assert view.review is not None
    kremlin = view.review.groups[1]
    assert kremlin.resolved and kremlin.in_gold() is None  # gold edited: a version of its own
    assert view.review.resolved == 1
    qtbot.keyClick(view.gold_view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert gold_spans(store, busy) == [] and view.review.resolved == 0
    qtbot.keyClick(view.gold_view, Qt.Key.Key_G, Qt.KeyboardModifier.ControlModifier)
    assert view.stack.currentWidget() is view.merged and view.take_actions[0].isEnabled()


def test_review_view_screenshot_article_000(
    qtbot: QtBot, store: Store, project: ProjectInfo, corpus_dir: Path
) -> None:
    path = sorted(corpus_dir.glob("000_*.txt"))[0]
    text = path.read_text("utf-8")
    (doc,) = store.add_documents(
        project.id, [DocumentRecord(text=text, title=text.splitlines()[0][:80])]
    )
    assert doc is not None
    agreed = [
        (at(text, "Vladimir Poutine"), "PER"),
        (at(text, "Xi Jinping"), "PER"),
        (at(text, "Russie", 2), "LOC"),
        (at(text, "Chine", 0), "LOC"),
        (at(text, "Pékin", 2), "LOC"),
        (at(text, "Poutine", 4), "PER"),
    ]
    alice = annotate(
        store,
        doc,
        "alice",
        [
            *agreed,
            (at(text, "Pékin", 0), "LOC"),
            (at(text, "Biden"), "PER"),
            (at(text, "Europe"), "LOC"),
            (at(text, "Xi", 3), "PER"),
        ],
        {"CHINE": "neutre", "RUSSIE": "favorable"},
    )
    annotate(
        store,
        doc,
        "bob",
        [*agreed, (at(text, "Pékin", 0), "ORG"), (at(text, "administration Biden"), "ORG")],
        {"CHINE": "neutre", "RUSSIE": "neutre"},
    )
    alice_layer = find_layer(store, doc, store.annotator_id("alice"))
    assert alice_layer is not None
    meeting = AddEvent(alice_layer.id, "RENCONTRE_SOMMET", *at(text, "rencontrait"))
    store.do(meeting)
    assert meeting.event_id is not None
    store.do(AddArgument(meeting.event_id, "participant", alice[at(text, "Vladimir Poutine")]))
    view = open_review(qtbot, store, project)
    qtbot.keyClick(view.merged, Qt.Key.Key_A, CTRL_SHIFT)
    qtbot.keyClick(view.merged, Qt.Key.Key_1)  # alice's LOC 'Pékin' in the title
    biden = SpanRecord(*at(text, "Biden"), "PER")
    for _ in range(6):  # J on to the Biden disagreement
        assert view.review is not None
        if biden in view.review.groups[view.current].versions[0].items:
            break
        qtbot.keyClick(view.merged, Qt.Key.Key_J)
    assert view.review is not None
    assert biden in view.review.groups[view.current].versions[0].items
    shot = screenshot(view, "review")
    assert shot.exists() and shot.stat().st_size > 10_000


def test_review_view_opens_from_main_window_view_menu(
    qtbot: QtBot, store: Store, project: ProjectInfo, documents: tuple[int, int], tmp_path: Path
) -> None:
    window = show_window(qtbot, store, project, tmp_path)
    window.review_action.trigger()
    review = window.review
    assert review is not None and review.isWindow() and review.isVisible()
    qtbot.waitUntil(lambda: review.document_id == documents[1], timeout=10000)
    window.close()


def test_review_view_stale_gold_write_is_refused_and_reloaded(
    qtbot: QtBot, store: Store, project: ProjectInfo, documents: tuple[int, int]
) -> None:
    """Two reviewers on one document: the second one's take, made on what they saw before
    the first one's, is refused (optimistic locking of gold) and their screen reloads."""
    busy = documents[1]
    first = open_review(qtbot, store, project)
    second = open_review(qtbot, store, project)
    assert first.document_id == second.document_id == busy
    first.take(1)  # alice's "Xi Jinping" PER into gold
    assert gold_spans(store, busy) == [(*at(TEXT, "Xi Jinping"), "PER")]
    before = gold_spans(store, busy)
    second.take(2)  # bob's "Xi" MISC, decided on a stale screen
    assert gold_spans(store, busy) == before  # nothing written
    assert "another reviewer changed gold" in second.message.text()
    assert second.review is not None and second.review.groups[0].resolved  # reloaded
    second.take(2)  # now on the fresh state, the reviewer's choice goes through
    assert gold_spans(store, busy) == [(*at(TEXT, "Xi"), "MISC")]
