"""The article view: read-only text with coloured entities, their label tags, and the keys
and mouse gestures that ask for entity edits (the editor turns requests into commands).

Offsets in the API are Python code points; QTextCursor positions are UTF-16 units,
converted at this border with ``models.offsets.Utf16Map``.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from PySide6.QtCore import QEvent, QPoint, Qt, Signal
from PySide6.QtGui import (
    QFontMetricsF,
    QHelpEvent,
    QKeyEvent,
    QMouseEvent,
    QPainter,
    QPaintEvent,
    QPalette,
    QResizeEvent,
    QTextCursor,
)
from PySide6.QtWidgets import QPlainTextEdit, QTextEdit, QToolTip, QWidget

from gui.highlighter import EntityHighlighter, Mark
from gui.style import (
    READING_WIDTH_CHARS,
    label_colour,
    reading_font,
    tag_font,
    text_colour_for,
)
from models.labels import LabelSchema
from models.layers import EntitySpan
from models.offsets import Utf16Map
from models.tokens import TokenIndex

_CR_BEFORE_LF = re.compile(r"\r(?=\n)")
NAVIGATION_KEYS = {
    Qt.Key.Key_Left,
    Qt.Key.Key_Right,
    Qt.Key.Key_Up,
    Qt.Key.Key_Down,
    Qt.Key.Key_Home,
    Qt.Key.Key_End,
}
HORIZONTAL = {Qt.Key.Key_Left: -1, Qt.Key.Key_Right: 1}
TABS = (Qt.Key.Key_Tab, Qt.Key.Key_Backtab)
PAGES = {Qt.Key.Key_PageDown: 1, Qt.Key.Key_PageUp: -1}
SHIFT = Qt.KeyboardModifier.ShiftModifier
CTRL_SHIFT = Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier
COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)


def display_text(text: str) -> str:
    """``text`` with the same length on screen: Qt would fold "\\r\\n" into one separator."""
    return _CR_BEFORE_LF.sub(" ", text).replace("\r", "\n")


class DocumentView(QPlainTextEdit):
    createRequested = Signal(int, int, str)
    relabelRequested = Signal(int, str)
    removeRequested = Signal(int)
    resizeRequested = Signal(int, int, int)
    doneRequested = Signal()
    navigateRequested = Signal(int)
    entitySelected = Signal(object)
    # while an event role is armed (``set_armed``): fill it with an entity, or with a new one
    assignRequested = Signal(int)
    assignNewRequested = Signal(int, int, str)
    disarmRequested = Signal()
    textClicked = Signal(int)  # a plain click outside entities, at this code point offset
    notice = Signal(str)  # a message for the status bar

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setReadOnly(True)
        self.setTextInteractionFlags(
            Qt.TextInteractionFlag.TextSelectableByKeyboard
            | Qt.TextInteractionFlag.TextSelectableByMouse
        )
        self.setLineWrapMode(QPlainTextEdit.LineWrapMode.WidgetWidth)
        self.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)  # lines wrap
        self.setTabChangesFocus(False)
        self.setFont(reading_font())
        self.setCursorWidth(2)
        self.document().setDocumentMargin(12)
        self.setAutoFillBackground(True)
        palette = self.palette()
        palette.setColor(QPalette.ColorRole.Window, palette.color(QPalette.ColorRole.Base))
        self.setPalette(palette)
        self._tag_font = tag_font(self.font())
        self._highlighter = EntityHighlighter(self.document(), self._tag_font)
        self._schema: LabelSchema | None = None
        self._text = ""
        self._utf16 = Utf16Map("")
        self._token_index: TokenIndex | None = None  # built when first needed
        self._spans: list[EntitySpan] = []
        self._selected: int | None = None
        self._pressed: int | None = None
        self._marks: dict[str, list[Mark]] = {}
        self._armed = ""
        # why an entity is there (pre-annotation that learns), shown as its tooltip
        self.reason: Callable[[EntitySpan], str | None] | None = None

    # -- content ---------------------------------------------------------------------------
    def set_document(self, text: str, spans: list[EntitySpan], schema: LabelSchema) -> None:
        self._text, self._schema = text, schema
        self._marks = {}
        self._utf16, self._token_index = Utf16Map(text), None
        self._highlighter.setDocument(None)  # one highlighting pass, after indexing
        self.setPlainText(display_text(text))
        self._highlighter.setDocument(self.document())
        self._highlighter.reset(self._utf16, schema)
        self._spans = sorted(spans, key=lambda span: (span.start, span.end))
        self._highlighter.set_spans(self._spans)
        self._highlighter.rehighlight()
        self.select_entity(None)

    def set_spans(
        self, spans: list[EntitySpan], ranges: tuple[tuple[int, int], ...] | None = None
    ) -> None:
        """New entities; re-highlight only the blocks touching ``ranges`` when given."""
        self._spans = sorted(spans, key=lambda span: (span.start, span.end))
        self._highlighter.set_spans(self._spans)
        if ranges is None:
            self._highlighter.rehighlight()
        else:
            self._highlighter.rehighlight_ranges(ranges)
        self.select_entity(self._selected)
        self.viewport().update()

    def set_marks(self, layer: str, marks: list[Mark]) -> None:
        """Replace the marks of one layer ("evidence", "events"): painted, not formatted."""
        self._marks[layer] = marks
        self.viewport().update()

    def marks(self, layer: str) -> list[Mark]:
        return list(self._marks.get(layer, []))

    def set_armed(self, role: str) -> None:
        """Arm an event role (its display name; "" disarms): clicking an entity, Enter on the
        selected entity or a label key on a selection then fill it."""
        self._armed = role
        shape = Qt.CursorShape.PointingHandCursor if role else Qt.CursorShape.IBeamCursor
        self.viewport().setCursor(shape)

    @property
    def _tokens(self) -> TokenIndex:
        """Token boundaries of the text, built on the first selection or boundary move."""
        if self._token_index is None:
            self._token_index = TokenIndex(self._text)
        return self._token_index

    @property
    def armed(self) -> str:
        return self._armed

    @property
    def text(self) -> str:
        return self._text

    @property
    def spans(self) -> list[EntitySpan]:
        return list(self._spans)

    # -- selection -------------------------------------------------------------------------
    def selected_entity(self) -> EntitySpan | None:
        return next((span for span in self._spans if span.id == self._selected), None)

    def select_entity(self, entity_id: int | None) -> None:
        """Select an entity (None clears): caret at its start, scrolled into view."""
        previous = self._selected
        span = next((span for span in self._spans if span.id == entity_id), None)
        self._selected = span.id if span is not None else None
        if span is not None and previous != span.id:
            cursor = self.textCursor()
            cursor.setPosition(self._utf16.to_utf16(span.end))
            self.setTextCursor(cursor)
            self.ensureCursorVisible()
            cursor.setPosition(self._utf16.to_utf16(span.start))
            self.setTextCursor(cursor)
            self.ensureCursorVisible()
        self._show_selected(span)
        if previous != self._selected:
            self.entitySelected.emit(span)

    def selection_range(self) -> tuple[int, int] | None:
        """The text selection in code points, widened to whole tokens; None without one."""
        cursor = self.textCursor()
        if not cursor.hasSelection():
            return None
        start = self._utf16.from_utf16(cursor.selectionStart())
        end = self._utf16.from_utf16(cursor.selectionEnd())
        return self._tokens.snap(start, end)

    def set_selection_range(self, start: int, end: int) -> None:
        """Select the text [start, end) (code points), caret at the end."""
        cursor = self.textCursor()
        cursor.setPosition(self._utf16.to_utf16(start))
        cursor.setPosition(self._utf16.to_utf16(end), QTextCursor.MoveMode.KeepAnchor)
        self.setTextCursor(cursor)

    def reveal(self, offset: int) -> None:
        """The caret at ``offset`` (code points), its line scrolled to the middle."""
        cursor = self.textCursor()
        cursor.setPosition(self._utf16.to_utf16(offset))
        self.setTextCursor(cursor)
        self.centerCursor()

    def entity_at(self, point: QPoint) -> EntitySpan | None:
        """The innermost entity under a viewport point."""
        cursor = self.cursorForPosition(point)
        unit, rect = cursor.position(), self.cursorRect(cursor)
        if unit > 0 and (point.x() < rect.left() or not rect.top() <= point.y() <= rect.bottom()):
            unit -= 1  # the character under the point is before the nearest caret position
        offset = self._utf16.from_utf16(unit)
        hits = [span for span in self._spans if span.start <= offset < span.end]
        return min(hits, key=lambda span: span.end - span.start) if hits else None

    def _show_selected(self, span: EntitySpan | None) -> None:
        selections = []
        if span is not None:
            colour = label_colour(self._schema, span.label)
            selection = QTextEdit.ExtraSelection()
            cursor = QTextCursor(self.document())
            cursor.setPosition(self._utf16.to_utf16(span.start))
            cursor.setPosition(self._utf16.to_utf16(span.end), QTextCursor.MoveMode.KeepAnchor)
            selection.cursor = cursor
            selection.format.setBackground(colour)
            selection.format.setForeground(text_colour_for(colour))
            selections.append(selection)
        self.setExtraSelections(selections)
        self.viewport().update()

    def apply_label(self, label: str) -> None:
        """What a label key does: relabel the selected entity, or create one on the selection."""
        entity = self.selected_entity()
        if entity is not None:
            if entity.label != label:
                self.relabelRequested.emit(entity.id, label)
        elif (selected := self.selection_range()) is not None:
            if self._armed:
                self.assignNewRequested.emit(selected[0], selected[1], label)
            else:
                self.createRequested.emit(selected[0], selected[1], label)

    def _step_entity(self, step: int) -> None:
        if not self._spans:
            return
        index = next((i for i, span in enumerate(self._spans) if span.id == self._selected), None)
        if index is None:
            caret = self._utf16.from_utf16(self.textCursor().position())
            after = [i for i, span in enumerate(self._spans) if span.start >= caret]
            before = [i for i, span in enumerate(self._spans) if span.start < caret]
            if step > 0:
                index = after[0] if after else 0
            else:
                index = before[-1] if before else len(self._spans) - 1
        else:
            index = (index + step) % len(self._spans)
        self.select_entity(self._spans[index].id)

    # -- keys ------------------------------------------------------------------------------
    def _label_for_key(self, event: QKeyEvent) -> str | None:
        if self._schema is None or event.modifiers() & COMMAND_MODIFIERS or not event.text():
            return None
        label = self._schema.entity_by_key(event.text())
        return label.id if label is not None else None

    def _owns_key(self, event: QKeyEvent) -> bool:
        """Keys this view handles itself even when a window shortcut uses them."""
        key, modifiers = Qt.Key(event.key()), event.modifiers()
        if self._label_for_key(event) is not None:
            return True
        if key == Qt.Key.Key_Escape:
            selection = self._selected is not None or self.textCursor().hasSelection()
            return selection or bool(self._armed)
        if key in (*TABS, *PAGES):
            return not modifiers & COMMAND_MODIFIERS
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            return not modifiers & COMMAND_MODIFIERS
        if self._selected is None:
            return False
        return key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace) or (
            key in HORIZONTAL and modifiers in (SHIFT, CTRL_SHIFT)
        )

    def viewportEvent(self, event: QEvent) -> bool:
        if isinstance(event, QHelpEvent) and event.type() == QEvent.Type.ToolTip:
            span = self.entity_at(event.pos()) if self.reason is not None else None
            text = self.reason(span) if self.reason is not None and span is not None else None
            if text:
                QToolTip.showText(event.globalPos(), text, self.viewport())
            else:
                QToolTip.hideText()
            return True
        return super().viewportEvent(event)

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and self._owns_key(event):
            if event.type() == QEvent.Type.ShortcutOverride:
                event.accept()  # a window shortcut on the same key must not steal it
                return True
            if event.type() == QEvent.Type.KeyPress and event.key() in TABS:
                self.keyPressEvent(event)  # before Qt moves the focus
                return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key, modifiers = Qt.Key(event.key()), event.modifiers()
        entity = self.selected_entity()
        label = self._label_for_key(event)
        if label is not None:
            self.apply_label(label)
        elif key == Qt.Key.Key_Backtab or (key == Qt.Key.Key_Tab and modifiers & SHIFT):
            self._step_entity(-1)
        elif key == Qt.Key.Key_Tab:
            self._step_entity(1)
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter) and self._armed:
            if entity is not None:
                self.assignRequested.emit(entity.id)
            else:
                text = self.tr("Select an entity to fill '{role}' (Esc disarms).")
                self.notice.emit(text.format(role=self._armed))
        elif key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.doneRequested.emit()
        elif key in PAGES and not modifiers & COMMAND_MODIFIERS:
            self.navigateRequested.emit(PAGES[key])
        elif key == Qt.Key.Key_Escape and (entity is not None or self.textCursor().hasSelection()):
            self.select_entity(None)
            cursor = self.textCursor()
            cursor.clearSelection()
            self.setTextCursor(cursor)
        elif key == Qt.Key.Key_Escape and self._armed:
            self.disarmRequested.emit()
        elif entity is not None and key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.removeRequested.emit(entity.id)
        elif entity is not None and key in HORIZONTAL and modifiers in (SHIFT, CTRL_SHIFT):
            self._resize(entity, HORIZONTAL[key], move_end=modifiers == CTRL_SHIFT)
        elif key == Qt.Key.Key_Escape:
            event.ignore()
        else:
            if entity is not None and key in NAVIGATION_KEYS:
                self.select_entity(None)
            super().keyPressEvent(event)

    def _resize(self, entity: EntitySpan, step: int, move_end: bool) -> None:
        start, end = entity.start, entity.end
        if move_end:
            end = self._tokens.shift_end(start, end, step)
        else:
            start = self._tokens.shift_start(start, end, step)
        if (start, end) != (entity.start, entity.end):
            self.resizeRequested.emit(entity.id, start, end)

    # -- mouse -----------------------------------------------------------------------------
    def mousePressEvent(self, event: QMouseEvent) -> None:
        self._pressed = None
        if event.button() == Qt.MouseButton.LeftButton:
            span = self.entity_at(event.position().toPoint())
            self._pressed = span.id if span is not None else None
        super().mousePressEvent(event)

    def mouseReleaseEvent(self, event: QMouseEvent) -> None:
        super().mouseReleaseEvent(event)
        if event.button() != Qt.MouseButton.LeftButton:
            return
        if self.textCursor().hasSelection():  # a drag or a double-click: whole tokens
            self.select_entity(None)
            snapped = self.selection_range()
            if snapped is not None:
                self.set_selection_range(*snapped)
            return
        span = self.entity_at(event.position().toPoint())
        clicked = span.id if span is not None and span.id == self._pressed else None
        self.select_entity(clicked)
        if clicked is not None and self._armed:
            self.assignRequested.emit(clicked)
        elif clicked is None:
            unit = self.cursorForPosition(event.position().toPoint()).position()
            self.textClicked.emit(self._utf16.from_utf16(unit))

    # -- painting --------------------------------------------------------------------------
    def resizeEvent(self, event: QResizeEvent) -> None:
        column = QFontMetricsF(self.font()).averageCharWidth() * READING_WIDTH_CHARS
        side = max(int((self.width() - column) / 2), 0)  # the event may be the viewport's
        if self.viewportMargins().left() != side:
            self.setViewportMargins(side, 0, side, 0)
        super().resizeEvent(event)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        painter = QPainter(self.viewport())
        marks = [mark for layer in self._marks.values() for mark in layer]
        if marks:
            self._highlighter.paint_ranges(painter, self, marks)
        self._highlighter.paint_marks(painter, self, event.rect(), self.selected_entity())
        painter.end()
