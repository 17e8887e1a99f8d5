"""The entity editor on a real SQLite store: every edit by keyboard and mouse, checked in the
database through a fresh Store, with undo and redo; seeding; refused edits."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QUndoStack
from pytestqt.qtbot import QtBot
from sqlalchemy import insert

from gui import editor as editor_module
from gui.document_view import DocumentView
from gui.editor import DocumentEditor
from models.commands import Changes
from models.layers import EntitySpan, entities, find_layer
from models.offsets import Utf16Map
from models.records import DocumentRecord
from models.schema import Entity, Layer
from models.store import ProjectInfo, Store

TEXT = (
    "Vladimir Poutine 🇷🇺 a rencontré Xi Jinping à Pe\u0301kin.\r\n"
    "La Russie 😀 et la Chine ont signé un accord à Moscou.\n"
)
MODEL_SPANS = [("Vladimir Poutine", "PER"), ("Xi Jinping", "PER"), ("Russie", "LOC")]
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier


def word(needle: str) -> tuple[int, int]:
    start = TEXT.index(needle)
    return start, start + len(needle)


@dataclass
class Setup:
    path: Path
    store: Store
    project: ProjectInfo
    document_id: int
    human: int
    model: int


def make_setup(tmp_path: Path, with_model_layer: bool = True) -> Setup:
    path = tmp_path / "glose.sqlite"
    store = Store.open(str(path))
    project = store.ensure_project()
    [document_id] = store.add_documents(project.id, [DocumentRecord(TEXT, title="t")])
    assert document_id is not None
    model = store.annotator_id(project.model_annotator, "model")
    if with_model_layer:
        with store.transaction() as session:
            layer_id = session.execute(
                insert(Layer)
                .values(document_id=document_id, annotator_id=model, status="done")
                .returning(Layer.id)
            ).scalar_one()
            rows = [
                {"layer_id": layer_id, "start": a, "end": b, "label": label, "origin": "model"}
                for (a, b), label in ((word(needle), label) for needle, label in MODEL_SPANS)
            ]
            session.execute(insert(Entity), rows)
    return Setup(path, store, project, document_id, store.annotator_id("alice"), model)


@dataclass
class Bench:
    setup: Setup
    view: DocumentView
    editor: DocumentEditor
    stack: QUndoStack

    def stored(self) -> list[tuple[str, str, str]]:
        """(text, label, origin) of alice's entities, read through a fresh Store."""
        fresh = Store.open(str(self.setup.path))
        try:
            layer = find_layer(fresh, self.setup.document_id, self.setup.human)
            assert layer is not None
            return [(TEXT[e.start : e.end], e.label, e.origin) for e in entities(fresh, layer.id)]
        finally:
            fresh.close()

    def point(self, offset: int) -> QPoint:
        cursor = self.view.textCursor()
        cursor.setPosition(Utf16Map(TEXT).to_utf16(offset))
        rect = self.view.cursorRect(cursor)
        return QPoint(rect.left() + 3, rect.center().y())

    def select_entity(self, needle: str) -> None:
        entity = next(s for s in self.view.spans if TEXT[s.start : s.end] == needle)
        self.view.select_entity(entity.id)


def make_bench(qtbot: QtBot, setup: Setup) -> Bench:
    view = DocumentView()
    qtbot.addWidget(view)
    view.resize(800, 400)
    # owned by the view, so Qt deletes it with the view: a stack left to Python's
    # collector deleted its commands after their wrappers (a crash in QUndoStack::clear)
    stack = QUndoStack(view)
    editor = DocumentEditor(setup.store, view, stack)
    editor.load(setup.document_id, setup.human, setup.project.schema, setup.model)
    view.show()
    qtbot.waitExposed(view)
    view.setFocus()
    return Bench(setup, view, editor, stack)


@pytest.fixture
def bench(qtbot: QtBot, tmp_path: Path) -> Iterator[Bench]:
    setup = make_setup(tmp_path)
    yield make_bench(qtbot, setup)
    setup.store.close()


SEEDED = [
    ("Vladimir Poutine", "PER", "model"),
    ("Xi Jinping", "PER", "model"),
    ("Russie", "LOC", "model"),
]


def test_editor_load_seeds_the_human_layer_from_the_model(bench: Bench) -> None:
    assert bench.stored() == SEEDED
    assert bench.editor.layer_id is not None
    assert bench.editor.document_id == bench.setup.document_id
    assert [(TEXT[s.start : s.end], s.label) for s in bench.view.spans] == [
        (text, label) for text, label, _ in SEEDED
    ]


def test_editor_keyboard_create_relabel_resize_delete_undo_redo(bench: Bench, qtbot: QtBot) -> None:
    view, stored = bench.view, bench.stored
    start, _ = word("Pe\u0301kin")
    bench.view.set_selection_range(start + 1, start + 2)  # inside the word, after emoji
    qtbot.keyClicks(view, "3")
    assert ("Pe\u0301kin", "LOC", "manual") in stored()
    assert view.selected_entity() is not None and view.selected_entity().label == "LOC"  # type: ignore[union-attr]

    qtbot.keyClicks(view, "2")  # relabel the new, selected entity
    assert ("Pe\u0301kin", "ORG", "manual") in stored()

    qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)  # start one token left
    assert ("à Pe\u0301kin", "ORG", "manual") in stored()
    qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    assert ("Pe\u0301kin", "ORG", "manual") in stored()
    qtbot.keyClick(view, Qt.Key.Key_Right, CTRL_SHIFT)  # end one token right: the full stop
    assert ("Pe\u0301kin.", "ORG", "manual") in stored()
    qtbot.keyClick(view, Qt.Key.Key_Left, CTRL_SHIFT)
    assert ("Pe\u0301kin", "ORG", "manual") in stored()

    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert stored() == SEEDED
    assert view.selected_entity() is None

    bench.stack.undo()  # the removal
    assert ("Pe\u0301kin", "ORG", "manual") in stored()
    assert view.selected_entity() is not None
    for _ in range(6):
        bench.stack.undo()  # four boundary moves, the relabel, the creation
    assert stored() == SEEDED
    assert [TEXT[s.start : s.end] for s in view.spans] == [text for text, _, _ in SEEDED]
    bench.stack.redo()
    assert ("Pe\u0301kin", "LOC", "manual") in stored()
    assert ("Pe\u0301kin", "LOC") in [(TEXT[s.start : s.end], s.label) for s in view.spans]


def test_editor_edits_read_only_their_ranges_and_the_view_matches_the_database(
    bench: Bench, qtbot: QtBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    view, layer_id = bench.view, bench.editor.layer_id
    assert layer_id is not None
    reads: list[tuple[tuple[int, int], ...]] = []

    def recording(
        store: Store, layer: int, within: tuple[tuple[int, int], ...] = ()
    ) -> list[EntitySpan]:
        reads.append(within)
        return entities(store, layer, within)

    monkeypatch.setattr(editor_module, "entities", recording)

    def shown() -> list[tuple[int, int, str, str]]:
        return [(s.start, s.end, s.label, s.origin) for s in view.spans]

    def in_database() -> list[tuple[int, int, str, str]]:
        return [(s.start, s.end, s.label, s.origin) for s in entities(bench.setup.store, layer_id)]

    view.set_selection_range(*word("Pe\u0301kin"))
    qtbot.keyClicks(view, "3")
    for _ in range(3):  # the start over "à", then over "Jinping" of the next entity
        qtbot.keyClick(view, Qt.Key.Key_Left, Qt.KeyboardModifier.ShiftModifier)
        assert shown() == in_database()
    bench.stack.undo()
    assert shown() == in_database()
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert shown() == in_database()
    bench.stack.undo()
    bench.stack.redo()
    assert shown() == in_database() and len(shown()) == len(SEEDED)
    assert reads and all(reads)  # every edit read its ranges, never the whole layer


def test_editor_keyboard_tab_then_relabel_and_delete_model_entities(
    bench: Bench, qtbot: QtBot
) -> None:
    view = bench.view
    cursor = view.textCursor()
    cursor.setPosition(0)
    view.setTextCursor(cursor)
    qtbot.keyClick(view, Qt.Key.Key_Tab)
    qtbot.keyClick(view, Qt.Key.Key_Tab)  # "Xi Jinping"
    qtbot.keyClicks(view, "4")
    assert ("Xi Jinping", "MISC", "manual") in bench.stored()
    qtbot.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(view, Qt.Key.Key_Backspace)  # "Vladimir Poutine"
    assert [text for text, _, _ in bench.stored()] == ["Xi Jinping", "Russie"]
    bench.stack.undo()
    assert ("Vladimir Poutine", "PER", "model") in bench.stored()  # origin restored too


def test_editor_mouse_create_relabel_and_delete(bench: Bench, qtbot: QtBot) -> None:
    viewport, view = bench.view.viewport(), bench.view
    start, end = word("Moscou")
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=bench.point(start + 1))
    qtbot.mouseMove(viewport, bench.point(end - 2))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=bench.point(end - 2))
    qtbot.keyClicks(view, "3")
    assert ("Moscou", "LOC", "manual") in bench.stored()

    chine = word("Chine")[0]
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=bench.point(word("Russie")[0] + 2))
    qtbot.keyClicks(view, "2")
    assert ("Russie", "ORG", "manual") in bench.stored()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=bench.point(chine + 1))
    assert view.selected_entity() is None  # "Chine" is no entity: a click there selects none
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=bench.point(start + 2))
    qtbot.keyClick(view, Qt.Key.Key_Delete)
    assert "Moscou" not in [text for text, _, _ in bench.stored()]
    bench.stack.undo()
    bench.stack.undo()
    assert ("Russie", "LOC", "model") in bench.stored()


def test_editor_emoji_offsets_are_code_points_in_the_database(bench: Bench, qtbot: QtBot) -> None:
    start, end = word("Chine")
    bench.view.set_selection_range(start, end)
    qtbot.keyClicks(bench.view, "3")
    fresh = Store.open(str(bench.setup.path))
    layer = find_layer(fresh, bench.setup.document_id, bench.setup.human)
    assert layer is not None
    assert (start, end) in [(e.start, e.end) for e in entities(fresh, layer.id)]
    fresh.close()


def test_editor_without_model_layer_creates_the_layer_on_first_edit(
    qtbot: QtBot, tmp_path: Path
) -> None:
    setup = make_setup(tmp_path, with_model_layer=False)
    bench = make_bench(qtbot, setup)
    assert bench.editor.layer_id is None and bench.view.spans == []
    assert find_layer(setup.store, setup.document_id, setup.human) is None
    bench.editor.reload_if_unseeded()  # the model has still not run
    assert bench.editor.layer_id is None
    bench.view.set_selection_range(*word("Moscou"))
    qtbot.keyClicks(bench.view, "3")
    assert bench.editor.layer_id is not None
    assert bench.stored() == [("Moscou", "LOC", "manual")]
    setup.store.close()


def test_editor_reload_if_unseeded_seeds_after_preannotation(qtbot: QtBot, tmp_path: Path) -> None:
    setup = make_setup(tmp_path, with_model_layer=False)
    bench = make_bench(qtbot, setup)
    with setup.store.transaction() as session:
        layer_id = session.execute(
            insert(Layer)
            .values(document_id=setup.document_id, annotator_id=setup.model, status="done")
            .returning(Layer.id)
        ).scalar_one()
        session.execute(
            insert(Entity).values(layer_id=layer_id, start=0, end=16, label="PER", origin="model")
        )
    bench.editor.reload_if_unseeded()
    assert bench.editor.layer_id is not None
    assert [(s.start, s.end) for s in bench.view.spans] == [(0, 16)]
    assert bench.stored() == [("Vladimir Poutine", "PER", "model")]
    setup.store.close()


def test_editor_refused_edit_keeps_view_and_stack(bench: Bench, qtbot: QtBot) -> None:
    before = bench.view.spans
    entity = before[0]
    with qtbot.waitSignal(bench.editor.saveFailed) as failed:
        bench.view.resizeRequested.emit(entity.id, 0, len(TEXT) + 5)  # outside the text
    assert "outside the text" in failed.args[0]
    assert bench.stack.count() == 0
    assert bench.view.spans == before
    assert bench.stored() == SEEDED


def test_editor_signals_changes_and_saved_after_each_edit(bench: Bench, qtbot: QtBot) -> None:
    received: list[object] = []
    bench.editor.changed.connect(received.append)
    bench.editor.saved.connect(lambda: received.append("saved"))
    bench.view.select_entity(bench.view.spans[0].id)
    qtbot.keyClicks(bench.view, "2")
    bench.stack.undo()
    bench.stack.redo()
    assert received[0::2] == ["saved"] * 3
    assert all(isinstance(changes, Changes) and changes.entities for changes in received[1::2])


def test_editor_mark_done_sets_the_status_undoably(bench: Bench) -> None:
    assert bench.editor.mark_done()
    layer = find_layer(bench.setup.store, bench.setup.document_id, bench.setup.human)
    assert layer is not None and layer.status == "done"
    bench.stack.undo()
    layer = find_layer(bench.setup.store, bench.setup.document_id, bench.setup.human)
    assert layer is not None and layer.status == "in_progress"


def test_editor_load_clears_the_undo_stack(bench: Bench, qtbot: QtBot) -> None:
    bench.view.select_entity(bench.view.spans[0].id)
    qtbot.keyClicks(bench.view, "2")
    assert bench.stack.count() == 1
    setup = bench.setup
    bench.editor.load(setup.document_id, setup.human, setup.project.schema, setup.model)
    assert bench.stack.count() == 0
    assert ("Vladimir Poutine", "ORG", "manual") in bench.stored()  # reopened, not re-seeded


def test_editor_apply_label_from_the_palette(bench: Bench) -> None:
    bench.view.set_selection_range(*word("accord"))
    bench.editor.apply_label("MISC")
    assert ("accord", "MISC", "manual") in bench.stored()
