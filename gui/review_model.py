"""Qt item models of review mode: the queue (one row per document with compared layers,
most disagreement first; ``models.review.review_queue`` computes the rows off the GUI
thread) and the versions of the current disagreement, with the one-line descriptions of
what each annotator marked.

Queue rows are small (ids, counts, a title), so the model holds the queue, not the corpus.
"""

from __future__ import annotations

import html
import re
from typing import Any

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QColor, QFont

from gui.style import label_colour, tint
from models.labels import LabelSchema
from models.records import EventRecord, SpanRecord
from models.review import Group, Item, QueueRow

Index = QModelIndex | QPersistentModelIndex

TITLE, DISAGREEMENTS, RESOLVED, F1, STATE = range(5)
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the backing QueueRow
SORT_ROLE = Qt.ItemDataRole.UserRole + 2  # a number or text to sort the column by
ADJUDICATED_COLOUR = "#2e7d32"
PENDING_COLOUR = "#a15c00"
NOTHING_COLOUR = "#d0d3d8"  # the swatch of an empty version
QUOTE_CHARS = 48  # longest quoted passage in a version line
CONTEXT_CHARS = 60  # context shown around a disagreement's passage


class ReviewQueueTableModel(QAbstractTableModel):
    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._rows: list[QueueRow] = []

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 5

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.DisplayRole:
            names = (
                self.tr("Document"),
                self.tr("Groups"),
                self.tr("Resolved"),
                self.tr("F1"),
                self.tr("Gold"),
            )
            return names[section] if 0 <= section < len(names) else None
        if role == Qt.ItemDataRole.ToolTipRole:
            tips = (
                self.tr("Documents with compared layers, most disagreement first"),
                self.tr("Disagreement groups: entities, events, stance targets"),
                self.tr("Groups settled in gold"),
                self.tr("Mean pairwise exact-span F1 of the entities"),
                self.tr("Adjudicated: every group resolved and the agreed items accepted"),
            )
            return tips[section] if 0 <= section < len(tips) else None
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row, column = self._rows[index.row()], index.column()
        if role == ROW_ROLE:
            return row
        if role == SORT_ROLE:
            values = (row.title, row.groups, row.groups - row.resolved, row.f1 or 0.0)
            return values[column] if column < len(values) else int(row.adjudicated)
        if role == Qt.ItemDataRole.DisplayRole:
            return self._display(row, column)
        if role == Qt.ItemDataRole.ForegroundRole and column == STATE:
            return QColor(ADJUDICATED_COLOUR if row.adjudicated else PENDING_COLOUR)
        if role == Qt.ItemDataRole.TextAlignmentRole and column != TITLE:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.ToolTipRole and column == TITLE:
            return self.tr("{layers} layer(s) compared").format(layers=row.layers)
        return None

    def _display(self, row: QueueRow, column: int) -> Any:
        if column == TITLE:
            return row.title or self.tr("(untitled)")
        if column == DISAGREEMENTS:
            return row.groups
        if column == RESOLVED:
            return f"{row.resolved} / {row.groups}"
        if column == F1:
            return "—" if row.f1 is None else f"{row.f1:.2f}"
        return self.tr("adjudicated") if row.adjudicated else self.tr("pending")

    # -- rows ----------------------------------------------------------------------------
    def set_rows(self, rows: list[QueueRow]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def update_row(self, row: QueueRow) -> None:
        """Replace the document's row in place (its place in the queue stays)."""
        number = self.row_of(row.document_id)
        if number is None:
            return
        self._rows[number] = row
        self.dataChanged.emit(self.index(number, 0), self.index(number, STATE))

    def row_of(self, document_id: int) -> int | None:
        return next((i for i, row in enumerate(self._rows) if row.document_id == document_id), None)

    def queue_row(self, number: int) -> QueueRow:
        return self._rows[number]

    def adjudicated(self) -> tuple[int, int]:
        """(documents adjudicated, documents in the queue)."""
        return sum(row.adjudicated for row in self._rows), len(self._rows)


class VersionTableModel(QAbstractTableModel):
    """The competing versions of one disagreement: one row per annotator with a layer,
    "N  name:  what they marked", the version gold holds in bold on green."""

    def __init__(self, parent: Any = None) -> None:
        super().__init__(parent)
        self._group: Group | None = None
        self._schema: LabelSchema | None = None
        self._lines: list[str] = []
        self._chosen: int | None = None

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._lines)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else 1

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if self._group is None or not index.isValid() or not 0 <= index.row() < len(self._lines):
            return None
        version = self._group.versions[index.row()]
        chosen = version.number == self._chosen
        if role == ROW_ROLE:
            return version
        if role == Qt.ItemDataRole.DisplayRole:
            return ("✓ " if chosen else "") + self._lines[index.row()]
        if role == Qt.ItemDataRole.ToolTipRole:
            return self._lines[index.row()]
        if role == Qt.ItemDataRole.DecorationRole and self._group.kind == "entity":
            first = version.items[0] if version.items else None
            label = first.label if isinstance(first, SpanRecord) else None
            return label_colour(self._schema, label) if label else QColor(NOTHING_COLOUR)
        if role == Qt.ItemDataRole.FontRole and chosen:
            font = QFont()
            font.setBold(True)
            return font
        if role == Qt.ItemDataRole.BackgroundRole and chosen:
            return tint(QColor(ADJUDICATED_COLOUR), 0.18)
        return None

    def set_group(self, group: Group | None, text: str, schema: LabelSchema) -> None:
        """Show the versions of ``group`` (None: nothing) over the document ``text``."""
        self.beginResetModel()
        self._group, self._schema = group, schema
        versions = group.versions if group is not None else ()
        self._lines = [
            f"{v.number}   {v.annotator}:  {describe(v.items, text, schema)}" for v in versions
        ]
        chosen = group.in_gold() if group is not None else None
        self._chosen = chosen.number if chosen is not None else None
        self.endResetModel()


def _tr(text: str) -> str:
    return QCoreApplication.translate("ReviewView", text)


def quoted(text: str, start: int, end: int) -> str:
    """The text of [start, end), quoted, shortened in the middle when long."""
    part = " ".join(text[start:end].split())
    if len(part) > QUOTE_CHARS:
        half = QUOTE_CHARS // 2
        part = f"{part[:half]}…{part[-half:]}"
    return f"‘{part}’"


def describe(items: tuple[Item, ...], text: str, schema: LabelSchema) -> str:
    """What a version holds, in one line: "PER ‘Xi’", "RENCONTRE_SOMMET ‘rencontrait’ ·
    participant: ‘Xi’", "favorable · 1 evidence passage", or "—" for nothing."""
    if not items:
        return _tr("— (nothing)")
    parts = []
    for item in items:
        if isinstance(item, SpanRecord):
            parts.append(f"{item.label} {quoted(text, item.start, item.end)}")
        elif isinstance(item, EventRecord):
            arguments = ", ".join(f"{a.role}: {quoted(text, a.start, a.end)}" for a in item.args)
            trigger = quoted(text, *item.trigger)
            parts.append(f"{item.type} {trigger}" + (f" · {arguments}" if arguments else ""))
        else:
            value = next((v.name for v in schema.stance_values if v.id == item.value), item.value)
            evidence = len(item.evidence)
            parts.append(
                value + (_tr(" · {n} evidence passage(s)").format(n=evidence) if evidence else "")
            )
    return "; ".join(parts)


def group_title(group: Group, schema: LabelSchema) -> str:
    if group.kind == "stance":
        target = group.key.split(":", 1)[1]
        name = next((t.name for t in schema.stance_targets if t.id == target), target)
        return _tr("stance toward {target}").format(target=name)
    return _tr("entities") if group.kind == "entity" else _tr("event")


def excerpt(text: str, group: Group) -> str:
    """The disagreement's passage with some context, as rich text (the passage in bold)."""
    if group.kind == "stance" and not group.marks:
        return _tr("A document-level choice (no evidence passage marked).")
    start, end = group.start, group.end
    before = _flat(text[max(start - CONTEXT_CHARS, 0) : start])
    after = _flat(text[end : end + CONTEXT_CHARS])
    if start > CONTEXT_CHARS:
        before = "…" + before.split(" ", 1)[-1]  # from the first whole word
    if end + CONTEXT_CHARS < len(text):
        after = after.rsplit(" ", 1)[0] + "…"
    middle = html.escape(_flat(text[start:end]))
    return f"{html.escape(before)}<b>{middle}</b>{html.escape(after)}"


def _flat(text: str) -> str:
    """Line breaks and runs of white space as single spaces (ends kept)."""
    return re.sub(r"\s+", " ", text)
