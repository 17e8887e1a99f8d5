"""The events panel in the main window on sample article 000 and a real SQLite store: events
by keys, role filling by Enter, click and a new entity, delete and undo, suggestions
accepted and rejected; every edit read back through a fresh Store. Ends with a screenshot
of the main window with its panels."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QTreeWidgetItem
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from gui.highlighter import ARGUMENT, CURRENT_SUGGESTED, CURRENT_TRIGGER, SUGGESTED_TRIGGER
from gui.main_window import MainWindow
from gui.panels.events import Row
from gui.settings import Settings
from models.events import EventView, acceptance_rates, events
from models.layers import find_layer
from models.offsets import Utf16Map
from models.records import DocumentRecord
from models.schema import Entity, Event, EventArgument, Layer
from models.store import Store
from tests.gui.conftest import screenshot

ARTICLE = sorted((Path(__file__).parents[2] / "resources" / "corpus").glob("000_*.txt"))[0]
TEXT = ARTICLE.read_text("utf-8")
NAMES = {
    "Russie": "LOC",
    "Chine": "LOC",
    "Vladimir Poutine": "PER",
    "Xi Jinping": "PER",
    "Pékin": "LOC",
    "Europe": "LOC",
    "Biden": "PER",
}


def find(needle: str, after: int = 0) -> tuple[int, int]:
    start = TEXT.index(needle, after)
    return start, start + len(needle)


VOYAGE = find("voyage")
TOURNEE = find("tournée")


def seed_model_layer(store: Store, document_id: int, model_id: int) -> None:
    """Entities of NAMES, and two suggested events with arguments, in the model's layer."""
    with store.transaction() as session:
        layer_id = session.execute(
            insert(Layer)
            .values(document_id=document_id, annotator_id=model_id, status="done")
            .returning(Layer.id)
        ).scalar_one()
        ids = {}
        for name, label in NAMES.items():
            for match in re.finditer(rf"\b{re.escape(name)}\b", TEXT):
                ids[match.span()] = session.execute(
                    insert(Entity)
                    .values(
                        layer_id=layer_id,
                        start=match.start(),
                        end=match.end(),
                        label=label,
                        origin="model",
                    )
                    .returning(Entity.id)
                ).scalar_one()
        for kind, trigger, arguments in (
            ("VISITE_OFFICIELLE", VOYAGE, [("visiteur", "Vladimir Poutine"), ("lieu", "Pékin")]),
            ("VISITE_OFFICIELLE", TOURNEE, [("lieu", "Europe")]),
        ):
            event_id = session.execute(
                insert(Event)
                .values(
                    layer_id=layer_id,
                    type=kind,
                    trigger_start=trigger[0],
                    trigger_end=trigger[1],
                    attributes={},
                    origin="model",
                    state="suggested",
                )
                .returning(Event.id)
            ).scalar_one()
            for role, name in arguments:
                session.execute(
                    insert(EventArgument).values(
                        event_id=event_id,
                        layer_id=layer_id,
                        role=role,
                        entity_id=ids[find(name)],
                        origin="model",
                    )
                )


@pytest.fixture
def window(qtbot: QtBot, tmp_path: Path) -> Iterator[MainWindow]:
    store = Store.open(str(tmp_path / "glose.sqlite"))
    project = store.ensure_project("test")
    [document_id] = store.add_documents(project.id, [DocumentRecord(TEXT, title="Article 000")])
    assert document_id is not None
    seed_model_layer(store, document_id, store.annotator_id(project.model_annotator, "model"))
    settings = Settings(QSettings(str(tmp_path / "settings.ini"), QSettings.Format.IniFormat))
    shown = MainWindow(store, project, "alice", settings)
    qtbot.addWidget(shown)
    shown.resize(1400, 900)
    shown.show()
    shown.activateWindow()
    shown.view.setFocus()
    qtbot.waitUntil(shown.view.hasFocus)
    yield shown
    shown.close()
    store.close()


def stored(window: MainWindow) -> list[EventView]:
    """alice's events (rejected ones too), read through a fresh Store."""
    fresh = Store.open(window.store.url)
    try:
        assert window.editor.layer_id is not None
        return events(fresh, window.editor.layer_id, include_rejected=True)
    finally:
        fresh.close()


def described(event: EventView) -> tuple[str, str, str, list[tuple[str, str]]]:
    arguments = sorted((arg.role, TEXT[arg.start : arg.end]) for arg in event.arguments)
    return event.type, TEXT[event.start : event.end], event.state, arguments


def entity_id(window: MainWindow, needle: str, after: int = 0) -> int:
    start, end = find(needle, after)
    return next(s.id for s in window.view.spans if (s.start, s.end) == (start, end))


def point(window: MainWindow, offset: int) -> QPoint:
    cursor = window.view.textCursor()
    cursor.setPosition(Utf16Map(TEXT).to_utf16(offset))
    rect = window.view.cursorRect(cursor)
    return QPoint(rect.left() + 3, rect.center().y())


def new_event(qtbot: QtBot, window: MainWindow) -> EventView:
    """RENCONTRE_SOMMET on "rencontrait", by keys (the selection snaps to the word)."""
    start, end = find("rencontrait")
    window.view.set_selection_range(start + 2, end - 3)
    qtbot.keyClicks(window.view, "e2")
    [created] = [event for event in stored(window) if event.origin == "manual"]
    return created


def test_events_panel_event_by_keys_and_role_filling(qtbot: QtBot, window: MainWindow) -> None:
    view = window.view
    created = new_event(qtbot, window)
    assert described(created) == ("RENCONTRE_SOMMET", "rencontrait", "accepted", [])
    assert window.events.current_event() == created
    trigger_marks = [(m.start, m.end, m.style) for m in view.marks("events")]
    assert (created.start, created.end, CURRENT_TRIGGER) in trigger_marks

    window.events.step_role(1)  # Alt+Right: arm "participant"
    assert view.armed == "participant"
    view.select_entity(entity_id(window, "Vladimir Poutine"))
    qtbot.keyClick(view, Qt.Key.Key_Return)  # fills the role, does not mark the document done
    [event] = [e for e in stored(window) if e.id == created.id]
    assert described(event)[3] == [("participant", "Vladimir Poutine")]
    layer = find_layer(window.store, window.document_id or 0, window.annotator_id)
    assert layer is not None and layer.status != "done"

    xi = find("Xi Jinping")
    qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point(window, xi[0] + 2))
    [event] = [e for e in stored(window) if e.id == created.id]
    both = [("participant", "Vladimir Poutine"), ("participant", "Xi Jinping")]
    assert described(event)[3] == both
    argument_marks = {(m.start, m.end) for m in view.marks("events") if m.style == ARGUMENT}
    assert argument_marks == {find("Vladimir Poutine"), xi}

    window.events.tree.setFocus()
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Tab)  # Tab in the list: the next role
    assert window.events.armed_role() == "lieu"
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Backtab)
    assert window.events.armed_role() == "participant"
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Tab)
    view.select_entity(entity_id(window, "Pékin"))
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Return)  # Enter in the list assigns too
    [event] = [e for e in stored(window) if e.id == created.id]
    assert ("lieu", "Pékin") in described(event)[3]

    view.setFocus()
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # the selected entity
    qtbot.keyClick(view, Qt.Key.Key_Escape)  # the armed role
    assert view.armed == "" and window.events.current_event() is not None


def test_events_panel_new_entity_on_the_spot_is_one_undo_step(
    qtbot: QtBot, window: MainWindow
) -> None:
    view = window.view
    created = new_event(qtbot, window)
    window.events.select(Row(created.id, "date"))
    assert view.armed == "date"
    jeudi = find("jeudi")
    view.set_selection_range(*jeudi)
    before = len(view.spans)
    qtbot.keyClick(view, "4")  # MISC: creates the entity and fills the role
    [event] = [e for e in stored(window) if e.id == created.id]
    assert described(event)[3] == [("date", "jeudi")]
    assert len(view.spans) == before + 1
    window.undo_stack.undo()  # one Ctrl+Z undoes both
    [event] = [e for e in stored(window) if e.id == created.id]
    assert event.arguments == () and len(view.spans) == before
    window.undo_stack.redo()
    [event] = [e for e in stored(window) if e.id == created.id]
    assert described(event)[3] == [("date", "jeudi")]


def test_events_panel_delete_undo_and_change_type(qtbot: QtBot, window: MainWindow) -> None:
    view = window.view
    created = new_event(qtbot, window)
    window.events.step_role(1)
    view.select_entity(entity_id(window, "Xi Jinping"))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    window.events.select(Row(created.id, "participant"))
    window.events.tree.setFocus()
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Delete)  # the argument
    [event] = [e for e in stored(window) if e.id == created.id]
    assert event.arguments == ()
    window.undo_stack.undo()

    view.setFocus()
    qtbot.keyClicks(view, "e6")  # no selection: the current event's new type
    [event] = [e for e in stored(window) if e.id == created.id]
    assert event.type == "DECLARATION_CONJOINTE"
    window.undo_stack.undo()

    window.events.select(Row(created.id), role=False)
    window.events.tree.setFocus()
    qtbot.keyClick(window.events.tree, Qt.Key.Key_Delete)  # the event with its argument
    assert created.id not in [e.id for e in stored(window)]
    assert created.id not in [e.id for e in window.events.items]
    window.undo_stack.undo()
    [event] = [e for e in stored(window) if e.id == created.id]
    assert described(event) == (
        "RENCONTRE_SOMMET",
        "rencontrait",
        "accepted",
        [("participant", "Xi Jinping")],
    )


def test_events_panel_removing_a_filling_entity_says_so(qtbot: QtBot, window: MainWindow) -> None:
    view = window.view
    view.select_entity(entity_id(window, "Vladimir Poutine"))  # visiteur of the suggestion
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "visiteur" in window.statusBar().currentMessage()
    voyage = next(e for e in stored(window) if (e.start, e.end) == VOYAGE)
    assert [arg.role for arg in voyage.arguments] == ["lieu"]
    shown = next(e for e in window.events.items if e.id == voyage.id)
    assert [arg.role for arg in shown.arguments] == ["lieu"]


def test_events_panel_accept_and_reject_suggestions(qtbot: QtBot, window: MainWindow) -> None:
    view, panel = window.view, window.events
    suggestions = [e for e in stored(window) if e.state == "suggested"]
    assert [(e.start, e.end) for e in suggestions] == [VOYAGE, TOURNEE]
    item = panel.tree.topLevelItem(0)
    assert isinstance(item, QTreeWidgetItem)
    assert item.font(0).italic() and "suggested" in item.text(1)
    marks = [(m.start, m.end, m.style) for m in view.marks("events")]
    assert marks == [(*VOYAGE, SUGGESTED_TRIGGER), (*TOURNEE, SUGGESTED_TRIGGER)]

    qtbot.keyClick(view, Qt.Key.Key_Down, Qt.KeyboardModifier.AltModifier)  # the first event
    assert panel.current_event() is not None and panel.current_event().id == suggestions[0].id
    assert (*VOYAGE, CURRENT_SUGGESTED) in [(m.start, m.end, m.style) for m in view.marks("events")]
    qtbot.keyClick(view, "a")
    states = {e.id: e.state for e in stored(window)}
    assert states[suggestions[0].id] == "accepted"
    assert not panel.tree.topLevelItem(0).font(0).italic()
    assert (*VOYAGE, CURRENT_TRIGGER) in [(m.start, m.end, m.style) for m in view.marks("events")]

    panel.step_event(1)
    assert panel.current_event() is not None and panel.current_event().id == suggestions[1].id
    qtbot.keyClick(view, "r")
    states = {e.id: e.state for e in stored(window)}
    assert states[suggestions[1].id] == "rejected"
    assert [e.id for e in panel.items] == [suggestions[0].id]  # rejected: gone from the list
    assert (*VOYAGE, CURRENT_TRIGGER) in [(m.start, m.end, m.style) for m in view.marks("events")]
    fresh = Store.open(window.store.url)
    try:
        assert acceptance_rates(fresh) == {"VISITE_OFFICIELLE": {"accepted": 1, "rejected": 1}}
    finally:
        fresh.close()
    window.undo_stack.undo()
    assert [e.id for e in panel.items] == [s.id for s in suggestions]
    assert SUGGESTED_TRIGGER in [m.style for m in view.marks("events")]


def test_events_panel_screenshot(qtbot: QtBot, window: MainWindow) -> None:
    """The main window with stance, evidence and an event with arguments (shots/panels.png)."""
    view = window.view
    qtbot.keyClicks(view, "s1f")
    qtbot.keyClicks(view, "s2f")
    qtbot.keyClicks(view, "s4d")
    view.set_selection_range(*find("les relations chaleureuses entre les deux pays"))
    qtbot.keyClicks(view, "s1v")
    created = new_event(qtbot, window)
    window.events.select(Row(created.id, "participant"))
    for name in ("Vladimir Poutine", "Xi Jinping"):
        view.select_entity(entity_id(window, name))
        qtbot.keyClick(view, Qt.Key.Key_Return)
    window.events.step_role(1)
    view.select_entity(entity_id(window, "Pékin", created.end))
    qtbot.keyClick(view, Qt.Key.Key_Return)
    window.events.select(Row(created.id), role=False)
    view.select_entity(None)
    view.verticalScrollBar().setValue(0)
    qtbot.keyClicks(view, "s3")  # a pending sequence shows its hint in the status bar
    qtbot.wait(50)
    path = screenshot(window, "panels")
    assert path.stat().st_size > 10_000
    assert window.sequence_label.text().startswith("Stance › 3 Ukraine")
