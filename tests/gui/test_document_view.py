"""The document view alone: offsets at the Qt border, highlighting, label tags, keys, mouse."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from PySide6.QtCore import QPoint, Qt
from PySide6.QtGui import QColor, QTextCursor
from pytestqt.qtbot import QtBot

from gui.document_view import DocumentView, display_text
from models.labels import LabelSchema, load_default
from models.layers import EntitySpan
from models.offsets import Utf16Map
from tests.gui.conftest import screenshot

# astral characters (a flag is two of them), a decomposed accent, both line ends
TEXT = (
    "Vladimir Poutine 🇷🇺 a rencontré Xi Jinping à Pe\u0301kin.\r\n"
    "La Russie 😀 et la Chine ont signé un accord.\rFin."
)


def word(text: str, needle: str, occurrence: int = 0) -> tuple[int, int]:
    start = -1
    for _ in range(occurrence + 1):
        start = text.index(needle, start + 1)
    return start, start + len(needle)


def span(entity_id: int, needle: str, label: str, origin: str = "model") -> EntitySpan:
    return EntitySpan(entity_id, *word(TEXT, needle), label, origin)


SPANS = [
    span(1, "Vladimir Poutine", "PER"),
    span(2, "Xi Jinping", "PER", "manual"),
    span(3, "Pe\u0301kin", "LOC"),
    span(4, "Russie", "LOC"),
    span(5, "Chine", "LOC"),
]


@pytest.fixture
def schema() -> LabelSchema:
    return load_default()


@pytest.fixture
def view(qtbot: QtBot, schema: LabelSchema) -> Iterator[DocumentView]:
    widget = DocumentView()
    qtbot.addWidget(widget)
    widget.resize(700, 400)
    widget.set_document(TEXT, SPANS, schema)
    widget.show()
    qtbot.waitExposed(widget)
    widget.setFocus()
    yield widget


def caret_at(view: DocumentView, offset: int) -> None:
    cursor = view.textCursor()
    cursor.setPosition(Utf16Map(view.text).to_utf16(offset))
    view.setTextCursor(cursor)


def point_of(view: DocumentView, offset: int, inside: bool = True) -> QPoint:
    """Viewport point of the character at ``offset`` (its middle when ``inside``)."""
    cursor = view.textCursor()
    cursor.setPosition(Utf16Map(view.text).to_utf16(offset))
    rect = view.cursorRect(cursor)
    return QPoint(rect.left() + (4 if inside else 0), rect.center().y())


def test_document_view_display_keeps_length_of_line_ends() -> None:
    shown = display_text("a\r\nb\rc\n")
    assert len(shown) == len("a\r\nb\rc\n")
    assert shown == "a \nb\nc\n"


def test_document_view_document_has_the_utf16_length_of_the_text(view: DocumentView) -> None:
    assert view.document().characterCount() - 1 == Utf16Map(TEXT).utf16_length()
    assert view.document().blockCount() == 3  # "\r\n" and "\r" each end one line


def test_document_view_highlights_entities_at_utf16_positions(
    view: DocumentView, schema: LabelSchema
) -> None:
    utf16 = Utf16Map(TEXT)
    start, end = word(TEXT, "Chine")
    block = view.document().findBlock(utf16.to_utf16(start))
    ranges = block.layout().formats()
    covered = [
        (r.start + block.position(), r.start + block.position() + r.length)
        for r in ranges
        if r.format.background().color().name() != QColor(0, 0, 0).name()
        and r.format.underlineStyle() != r.format.UnderlineStyle.NoUnderline
    ]
    low, high = utf16.to_utf16(start), utf16.to_utf16(end)
    assert any(a == low for a, _ in covered) and any(b == high for _, b in covered)
    assert not any(a < low < b for a, b in covered)  # no format starts inside "Chine" off by one


def test_document_view_origin_shows_as_underline_style(view: DocumentView) -> None:
    highlighter = view._highlighter
    model = highlighter.span_format("PER", "model").underlineStyle()
    manual = highlighter.span_format("PER", "manual").underlineStyle()
    assert model != manual


def test_document_view_paints_label_tags_in_label_colours(
    view: DocumentView, schema: LabelSchema
) -> None:
    image = view.viewport().grab().toImage()
    colours = {
        image.pixelColor(x, y).name()
        for x in range(image.width())
        for y in range(0, image.height(), 2)
    }
    for label in ("PER", "LOC"):
        entity = schema.entity(label)
        assert entity is not None
        assert entity.colour in colours  # the tag is filled with the full label colour
    assert schema.entity("ORG").colour not in colours  # type: ignore[union-attr]


def test_document_view_selection_range_snaps_with_emoji_and_accents(view: DocumentView) -> None:
    start, end = word(TEXT, "Pe\u0301kin")
    view.set_selection_range(start + 1, end - 2)  # "e\u0301k" inside the word
    assert view.selection_range() == (start, end)
    start, _ = word(TEXT, "et la")
    view.set_selection_range(word(TEXT, "😀")[0], start + 2)
    snapped = view.selection_range()
    assert snapped is not None and TEXT[snapped[0] : snapped[1]] == "😀 et"


def test_document_view_selection_snaps_to_the_tokens_of_the_new_document(
    view: DocumentView, schema: LabelSchema
) -> None:
    view.set_selection_range(*word(TEXT, "Poutine"))
    assert view.selection_range() == word(TEXT, "Poutine")  # the first text's tokens
    other = "Un sommet entre Moscou et Pékin."
    view.set_document(other, [], schema)
    view.set_selection_range(other.index("Moscou") + 2, other.index("Moscou") + 3)
    assert view.selection_range() == word(other, "Moscou")


def test_document_view_keyboard_selection_then_label_key_requests_creation(
    view: DocumentView, qtbot: QtBot
) -> None:
    start, end = word(TEXT, "accord")
    caret_at(view, start)
    for _ in range(3):
        qtbot.keyClick(view, Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier)
    with qtbot.waitSignal(view.createRequested) as blocker:
        qtbot.keyClicks(view, "4")
    assert blocker.args == [start, end, "MISC"]


def test_document_view_label_key_relabels_the_selected_entity(
    view: DocumentView, qtbot: QtBot
) -> None:
    view.select_entity(4)
    with qtbot.waitSignal(view.relabelRequested) as blocker:
        qtbot.keyClicks(view, "2")
    assert blocker.args == [4, "ORG"]
    with qtbot.assertNotEmitted(view.relabelRequested):
        qtbot.keyClicks(view, "3")  # already LOC


def test_document_view_tab_walks_entities_in_text_order(view: DocumentView, qtbot: QtBot) -> None:
    caret_at(view, 0)
    order = []
    for _ in range(len(SPANS) + 1):
        qtbot.keyClick(view, Qt.Key.Key_Tab)
        entity = view.selected_entity()
        assert entity is not None
        order.append(entity.id)
    assert order == [1, 2, 3, 4, 5, 1]  # wraps around
    qtbot.keyClick(view, Qt.Key.Key_Backtab, Qt.KeyboardModifier.ShiftModifier)
    assert view.selected_entity() == SPANS[-1]
    assert view.hasFocus()  # Tab did not move the focus away


def test_document_view_tab_scrolls_the_entity_into_view(qtbot: QtBot, schema: LabelSchema) -> None:
    text = "Mot.\n" * 300 + "Pékin"
    far = EntitySpan(9, len(text) - 5, len(text), "LOC", "model")
    widget = DocumentView()
    qtbot.addWidget(widget)
    widget.resize(500, 200)
    widget.set_document(text, [far], schema)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.keyClick(widget, Qt.Key.Key_Tab)
    assert widget.selected_entity() == far
    assert widget.viewport().rect().contains(widget.cursorRect().center())


def test_document_view_shift_arrows_request_moving_start_and_end(
    view: DocumentView, qtbot: QtBot
) -> None:
    view.select_entity(2)  # "Xi Jinping"
    xi, jinping = word(TEXT, "Xi"), word(TEXT, "Jinping")
    cases = [
        (Qt.Key.Key_Right, Qt.KeyboardModifier.ShiftModifier, [2, jinping[0], jinping[1]]),
        (
            Qt.Key.Key_Left,
            Qt.KeyboardModifier.ShiftModifier,
            [2, word(TEXT, "rencontré")[0], jinping[1]],
        ),
        (
            Qt.Key.Key_Right,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
            [2, xi[0], word(TEXT, "à")[1]],
        ),
        (
            Qt.Key.Key_Left,
            Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
            [2, xi[0], xi[1]],
        ),
    ]
    for key, modifiers, expected in cases:
        with qtbot.waitSignal(view.resizeRequested) as blocker:
            qtbot.keyClick(view, key, modifiers)
        assert blocker.args == expected


def test_document_view_delete_escape_enter_and_page_keys(view: DocumentView, qtbot: QtBot) -> None:
    view.select_entity(3)
    for key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
        with qtbot.waitSignal(view.removeRequested) as blocker:
            qtbot.keyClick(view, key)
        assert blocker.args == [3]
    with qtbot.waitSignal(view.entitySelected) as selected:
        qtbot.keyClick(view, Qt.Key.Key_Escape)
    assert selected.args == [None] and view.selected_entity() is None
    with qtbot.assertNotEmitted(view.removeRequested):
        qtbot.keyClick(view, Qt.Key.Key_Delete)  # nothing selected: nothing removed
    with qtbot.waitSignal(view.doneRequested):
        qtbot.keyClick(view, Qt.Key.Key_Return)
    for key, step in ((Qt.Key.Key_PageDown, 1), (Qt.Key.Key_PageUp, -1)):
        with qtbot.waitSignal(view.navigateRequested) as blocker:
            qtbot.keyClick(view, key)
        assert blocker.args == [step]


def test_document_view_plain_arrow_leaves_the_entity_and_moves_the_caret(
    view: DocumentView, qtbot: QtBot
) -> None:
    view.select_entity(1)
    qtbot.keyClick(view, Qt.Key.Key_Right)
    assert view.selected_entity() is None
    assert view.textCursor().position() == 1


def test_document_view_click_selects_the_entity_under_the_mouse(
    view: DocumentView, qtbot: QtBot
) -> None:
    start, _ = word(TEXT, "Russie")
    with qtbot.waitSignal(view.entitySelected) as blocker:
        qtbot.mouseClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(view, start + 2))
    assert blocker.args == [SPANS[3]]
    qtbot.mouseClick(
        view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(view, word(TEXT, "signé")[0])
    )
    assert view.selected_entity() is None


def test_document_view_drag_selection_snaps_to_tokens(view: DocumentView, qtbot: QtBot) -> None:
    start, end = word(TEXT, "un accord")
    viewport = view.viewport()
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=point_of(view, start + 1))
    qtbot.mouseMove(viewport, point_of(view, end - 3))
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=point_of(view, end - 3))
    assert view.selection_range() == (start, end)
    cursor = view.textCursor()
    utf16 = Utf16Map(TEXT)
    assert (cursor.selectionStart(), cursor.selectionEnd()) == (
        utf16.to_utf16(start),
        utf16.to_utf16(end),
    )


def test_document_view_double_click_selects_a_word(view: DocumentView, qtbot: QtBot) -> None:
    start, end = word(TEXT, "accord")
    qtbot.mouseDClick(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(view, start + 2))
    qtbot.mouseRelease(view.viewport(), Qt.MouseButton.LeftButton, pos=point_of(view, start + 2))
    assert view.selection_range() == (start, end)
    assert view.selected_entity() is None


def test_document_view_set_spans_rehighlights_only_touched_blocks(
    view: DocumentView, monkeypatch: pytest.MonkeyPatch
) -> None:
    touched: list[int] = []
    highlighter = view._highlighter
    original = highlighter.rehighlightBlock
    monkeypatch.setattr(
        highlighter,
        "rehighlightBlock",
        lambda block: (touched.append(block.blockNumber()), original(block)),
    )
    moved = EntitySpan(5, *word(TEXT, "la Chine"), "LOC", "manual")
    view.set_spans([*SPANS[:4], moved], ranges=((moved.start, moved.end),))
    assert touched == [1]
    assert view.spans[-1] == moved


def test_document_view_selected_entity_kept_across_set_spans(view: DocumentView) -> None:
    view.select_entity(2)
    relabelled = EntitySpan(2, *word(TEXT, "Xi Jinping"), "ORG", "manual")
    view.set_spans([relabelled, *[s for s in SPANS if s.id != 2]])
    assert view.selected_entity() == relabelled
    view.set_spans([s for s in SPANS if s.id != 2])
    assert view.selected_entity() is None


def test_document_view_selected_entity_is_outlined_by_an_extra_selection(
    view: DocumentView, schema: LabelSchema
) -> None:
    view.select_entity(3)
    [selection] = view.extraSelections()
    utf16 = Utf16Map(TEXT)
    start, end = word(TEXT, "Pe\u0301kin")
    assert (selection.cursor.selectionStart(), selection.cursor.selectionEnd()) == (
        utf16.to_utf16(start),
        utf16.to_utf16(end),
    )
    assert selection.format.background().color().name() == schema.entity("LOC").colour  # type: ignore[union-attr]
    cursor = view.textCursor()
    assert cursor.position() == utf16.to_utf16(start)
    assert cursor.movePosition(QTextCursor.MoveOperation.NoMove)


def test_document_view_sample_article_screenshot(
    qtbot: QtBot, schema: LabelSchema, sample_text: str
) -> None:
    """Article 000 with hand-made entities, saved to shots/view.png (or $GLOSE_SHOTS)."""
    names = {"Vladimir Poutine": "PER", "Xi Jinping": "PER", "Pékin": "LOC", "Russie": "LOC"}
    names |= {"Chine": "LOC", "Europe": "LOC", "Biden": "PER", "Otan": "ORG", "sino-russes": "MISC"}
    pattern = re.compile("|".join(sorted(map(re.escape, names), key=len, reverse=True)))
    spans = [
        EntitySpan(i, m.start(), m.end(), names[m.group()], "manual" if i % 5 == 0 else "model")
        for i, m in enumerate(pattern.finditer(sample_text), start=1)
    ]
    widget = DocumentView()
    qtbot.addWidget(widget)
    widget.resize(1000, 760)
    widget.set_document(sample_text, spans, schema)
    widget.show()
    qtbot.waitExposed(widget)
    widget.select_entity(spans[2].id)
    widget.verticalScrollBar().setValue(0)
    path = screenshot(widget, "view")
    assert path.stat().st_size > 10_000
    image = widget.viewport().grab().toImage()
    labels_painted = {
        image.pixelColor(x, y).name()
        for x in range(0, image.width())
        for y in range(0, image.height(), 2)
    }
    assert {schema.entity(label).colour for label in ("PER", "LOC")} <= labels_painted  # type: ignore[union-attr]
