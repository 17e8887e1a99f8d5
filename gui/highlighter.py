"""Entity colouring of the document view: a QSyntaxHighlighter over a per-block span index,
and the marks painted over the view (label tags, the selected entity's outline).

Offsets of spans are Python code points; the QTextDocument counts UTF-16 units, converted
here with ``models.offsets.Utf16Map``. The last character of every entity gets extra letter
spacing, the room where the view paints the entity's label tag.

Marks (stance evidence, event triggers and arguments) are painted over the text from their
ranges, never written into the document's formats.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass
from typing import cast

from PySide6.QtCore import QRect, QRectF, Qt
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QPainter,
    QPen,
    QSyntaxHighlighter,
    QTextBlock,
    QTextCharFormat,
    QTextDocument,
    QTextLine,
)
from PySide6.QtWidgets import QPlainTextEdit

from gui.style import label_colour, shade, text_colour_for, tint
from models.labels import LabelSchema
from models.layers import EntitySpan
from models.offsets import Utf16Map

TAG_PADDING = 3.0  # inside a label tag, left and right
TAG_GAP = 2.0  # between the entity text and its tag, and after the tag
SPAN_TINT = 0.3
UNDERLINES = {
    "model": QTextCharFormat.UnderlineStyle.DotLine,
    "manual": QTextCharFormat.UnderlineStyle.SingleUnderline,
    "import": QTextCharFormat.UnderlineStyle.DashUnderline,
    "pattern": QTextCharFormat.UnderlineStyle.DashDotLine,
}


@dataclass(frozen=True, slots=True)
class MarkStyle:
    """How a mark is painted: a translucent fill, an outline, a bar in the left margin."""

    fill: QColor | None = None
    outline: QColor | None = None
    dashed: bool = False
    width: float = 1.5
    bar: bool = False


@dataclass(frozen=True, slots=True)
class Mark:
    """A range of the text (code points, end exclusive) painted with ``style``."""

    start: int
    end: int
    style: MarkStyle


EVENT_COLOUR = QColor("#c2570c")
EVIDENCE = MarkStyle(fill=QColor(250, 204, 21, 80), bar=True)
TRIGGER = MarkStyle(outline=EVENT_COLOUR, width=1.2)
SUGGESTED_TRIGGER = MarkStyle(outline=EVENT_COLOUR, dashed=True, width=1.2)
CURRENT_TRIGGER = MarkStyle(fill=QColor(234, 88, 12, 60), outline=EVENT_COLOUR, width=2.2)
CURRENT_SUGGESTED = MarkStyle(
    fill=QColor(234, 88, 12, 30), outline=EVENT_COLOUR, dashed=True, width=2.2
)
ARGUMENT = MarkStyle(outline=EVENT_COLOUR, width=1.8)
BAR_COLOUR = QColor("#e0a800")
BAR_WIDTH = 4.0


@dataclass(frozen=True, slots=True)
class Tag:
    """The label tags drawn where entities end: ``anchor`` is a code point offset."""

    anchor: int
    labels: tuple[str, ...]
    width: float


class EntityHighlighter(QSyntaxHighlighter):
    def __init__(self, document: QTextDocument, tag_font: QFont) -> None:
        super().__init__(document)
        self._tag_font = tag_font
        self._metrics = QFontMetricsF(tag_font)
        self._schema: LabelSchema | None = None
        self._utf16 = Utf16Map("")
        self._starts: list[int] = [0]  # code point offset of each block
        self._ends: list[int] = [0]  # code point offset where each block's text ends
        self._by_block: list[list[EntitySpan]] = [[]]
        self._tags: list[list[Tag]] = [[]]
        self._formats: dict[tuple[str, str], QTextCharFormat] = {}
        self._tag_widths: dict[str, float] = {}

    # -- index -----------------------------------------------------------------------------
    def reset(self, utf16: Utf16Map, schema: LabelSchema) -> None:
        """Index the blocks of a newly set document text (no spans yet)."""
        self._utf16, self._schema, self._formats = utf16, schema, {}
        starts, block = [], self.document().begin()
        while block.isValid():
            starts.append(utf16.from_utf16(block.position()))
            block = block.next()
        self._starts = starts or [0]
        self._ends = [start - 1 for start in self._starts[1:]] + [
            utf16.from_utf16(utf16.utf16_length())
        ]
        self._by_block = [[] for _ in self._starts]
        self._tags = [[] for _ in self._starts]

    def set_spans(self, spans: list[EntitySpan]) -> None:
        """Rebuild the per-block span index; call ``rehighlight_ranges`` to repaint."""
        starts, block_ends = self._starts, self._ends
        by_block: list[list[EntitySpan]] = [[] for _ in starts]
        ends: dict[int, list[str]] = {}
        for span in spans:
            first = bisect_right(starts, span.start) - 1
            last = bisect_right(starts, span.end - 1) - 1 if span.end > span.start else first
            for number in range(first, last + 1):
                by_block[number].append(span)
            ends.setdefault(min(span.end, block_ends[last]), []).append(span.label)
        tags: list[list[Tag]] = [[] for _ in starts]
        width = self.tag_width
        for anchor in sorted(ends):
            labels = tuple(ends[anchor])
            tag = Tag(anchor, labels, sum(width(label) for label in labels))
            tags[max(bisect_right(starts, anchor - 1) - 1, 0)].append(tag)
        self._by_block, self._tags = by_block, tags

    def block_of(self, offset: int) -> int:
        return max(bisect_right(self._starts, offset) - 1, 0)

    def block_range(self, start: int, end: int) -> range:
        return range(self.block_of(start), self.block_of(max(end - 1, start)) + 1)

    def spans_in_block(self, number: int) -> list[EntitySpan]:
        return self._by_block[number] if number < len(self._by_block) else []

    def tags_in_block(self, number: int) -> list[Tag]:
        return self._tags[number] if number < len(self._tags) else []

    def tag_width(self, label: str) -> float:
        width = self._tag_widths.get(label)
        if width is None:
            width = self._metrics.horizontalAdvance(label) + 2 * TAG_PADDING + 2 * TAG_GAP
            self._tag_widths[label] = width
        return width

    def rehighlight_ranges(self, ranges: tuple[tuple[int, int], ...]) -> None:
        """Re-highlight only the blocks touching the code point ``ranges``."""
        numbers = sorted({n for start, end in ranges for n in self.block_range(start, end)})
        for number in numbers:
            block = self.document().findBlockByNumber(number)
            if block.isValid():
                self.rehighlightBlock(block)

    # -- formats ---------------------------------------------------------------------------
    def span_format(self, label: str, origin: str) -> QTextCharFormat:
        key = (label, origin)
        if key not in self._formats:
            colour = label_colour(self._schema, label)
            char_format = QTextCharFormat()
            char_format.setBackground(tint(colour, SPAN_TINT))
            char_format.setUnderlineStyle(
                UNDERLINES.get(origin, QTextCharFormat.UnderlineStyle.WaveUnderline)
            )
            char_format.setUnderlineColor(QColor(colour).darker(115))
            self._formats[key] = char_format
        return self._formats[key]

    def highlightBlock(self, text: str) -> None:
        block = self.currentBlock()
        number = block.blockNumber()
        if number >= len(self._by_block):
            return
        base, start, end = block.position(), self._starts[number], self._ends[number]
        to16 = self._utf16.to_utf16
        last_format: dict[int, QTextCharFormat] = {}
        for span in self._by_block[number]:
            low, high = max(span.start, start), min(span.end, end)
            if low >= high:
                continue
            char_format = self.span_format(span.label, span.origin)
            self.setFormat(to16(low) - base, to16(high) - to16(low), char_format)
            last_format[high] = char_format
        for tag in self._tags[number]:
            if tag.anchor <= start:
                continue
            spaced = QTextCharFormat(last_format.get(tag.anchor, QTextCharFormat()))
            spaced.setFontLetterSpacingType(QFont.SpacingType.AbsoluteSpacing)
            spaced.setFontLetterSpacing(tag.width)
            self.setFormat(
                to16(tag.anchor - 1) - base, to16(tag.anchor) - to16(tag.anchor - 1), spaced
            )

    # -- marks painted over the view's viewport --------------------------------------------
    def paint_marks(
        self, painter: QPainter, view: QPlainTextEdit, area: QRect, selected: EntitySpan | None
    ) -> None:
        """Label tags of the visible blocks in ``area``, then the selected entity's outline."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painter.setFont(self._tag_font)
        block = view.firstVisibleBlock()
        while block.isValid():
            top = view.blockBoundingGeometry(block).translated(view.contentOffset()).top()
            if top > area.bottom():
                break
            for tag in self.tags_in_block(block.blockNumber()):
                self._paint_tag(painter, block, top, tag, selected)
            block = block.next()
        if selected is not None:
            colour = shade(label_colour(self._schema, selected.label), 0.35)
            painter.setPen(QPen(colour, 1.5))
            painter.setBrush(Qt.BrushStyle.NoBrush)
            for rect in self.range_rects(view, selected.start, selected.end):
                painter.drawRoundedRect(rect.adjusted(-2, 0, 1, 0), 3, 3)

    def _paint_tag(
        self,
        painter: QPainter,
        block: QTextBlock,
        top: float,
        tag: Tag,
        selected: EntitySpan | None,
    ) -> None:
        unit = self._utf16.to_utf16(tag.anchor) - block.position()
        line = block.layout().lineForTextPosition(max(unit - 1, 0))
        if not line.isValid():
            return
        height = self._metrics.height() + 1
        right = block.layout().position().x() + _cursor_x(line, unit) - TAG_GAP
        middle = top + line.y() + line.height() / 2
        for label in reversed(tag.labels):
            width = self.tag_width(label) - 2 * TAG_GAP
            rect = QRectF(right - width, middle - height / 2, width, height)
            colour = label_colour(self._schema, label)
            if selected is not None and (selected.end, selected.label) == (tag.anchor, label):
                colour = shade(colour, 0.35)  # stands out on the selected entity's colour
            painter.setPen(Qt.PenStyle.NoPen)
            painter.setBrush(colour)
            painter.drawRoundedRect(rect, 3, 3)
            painter.setPen(text_colour_for(colour))
            painter.drawText(rect, Qt.AlignmentFlag.AlignCenter, label)
            right -= width + 2 * TAG_GAP

    def paint_ranges(self, painter: QPainter, view: QPlainTextEdit, marks: list[Mark]) -> None:
        """Paint ``marks`` over the text: fills first, then outlines and margin bars."""
        painter.setRenderHint(QPainter.RenderHint.Antialiasing)
        painted = [(mark.style, self.range_rects(view, mark.start, mark.end)) for mark in marks]
        painter.setPen(Qt.PenStyle.NoPen)
        for style, rects in painted:
            if style.fill is not None:
                painter.setBrush(style.fill)
                for rect in rects:
                    painter.drawRoundedRect(rect.adjusted(-1, 0, 1, 0), 2, 2)
            if style.bar and rects:
                painter.setBrush(BAR_COLOUR)
                top, bottom = rects[0].top(), rects[-1].bottom()
                painter.drawRoundedRect(QRectF(2, top, BAR_WIDTH, bottom - top), 2, 2)
        painter.setBrush(Qt.BrushStyle.NoBrush)
        for style, rects in painted:
            if style.outline is None:
                continue
            pen = QPen(style.outline, style.width)
            if style.dashed:
                pen.setStyle(Qt.PenStyle.DashLine)
            painter.setPen(pen)
            for rect in rects:
                painter.drawRoundedRect(rect.adjusted(-2, 0, 1, 0), 3, 3)

    def range_rects(self, view: QPlainTextEdit, start_offset: int, end_offset: int) -> list[QRectF]:
        """One viewport rectangle per visual line the code point range covers."""
        rects = []
        for number in self.block_range(start_offset, end_offset):
            block = self.document().findBlockByNumber(number)
            top = view.blockBoundingGeometry(block).translated(view.contentOffset()).top()
            low = self._utf16.to_utf16(start_offset) - block.position()
            high = self._utf16.to_utf16(end_offset) - block.position()
            layout = block.layout()
            for index in range(layout.lineCount()):
                line = layout.lineAt(index)
                start = max(low, line.textStart())
                end = min(high, line.textStart() + line.textLength())
                if start < end:
                    left = layout.position().x() + _cursor_x(line, start)
                    right = layout.position().x() + _cursor_x(line, end)
                    rects.append(QRectF(left, top + line.y(), right - left, line.height()))
        return rects


def _cursor_x(line: QTextLine, unit: int) -> float:
    """QTextLine.cursorToX; PySide returns (x, adjusted position)."""
    x, _ = cast(tuple[float, int], line.cursorToX(unit))
    return x
