"""The document list: a lazy Qt table model over Store.document_rows, and the panel
showing it with a status filter and a search field.

The row count comes from SQL; rows are read a page at a time when a view first shows them
and only the last pages seen are kept: the corpus is never held in memory.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from math import ceil
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QEvent,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QFontMetricsF
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
    QStyle,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from models.db import UnavailableError
from models.labels import LabelSchema
from models.queues import Queue
from models.store import DocumentRow, Store

Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")

TITLE, STATUS, ENTITIES, STANCE = range(4)
COLUMNS = 4
ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the backing DocumentRow
PAGE_SIZE = 200
MAX_PAGES = 8  # pages held: what a view shows and around it
RETRY_SECONDS = 1.0  # after a read failed (database unavailable)
RIGHT = int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
ROLES = {  # the roles data() answers; the views ask for many more
    Qt.ItemDataRole.DisplayRole,
    Qt.ItemDataRole.ToolTipRole,
    Qt.ItemDataRole.ForegroundRole,
    Qt.ItemDataRole.TextAlignmentRole,
    ROW_ROLE,
}

STATUS_FILTERS = (
    ("All statuses", None),
    ("To do", "todo"),
    ("In progress", "in_progress"),
    ("Done", "done"),
    ("Skipped", "skipped"),
)
STATUS_COLOURS = {"done": "#2e7d32", "in_progress": "#a15c00", "skipped": "#7b7f86"}
STATUS_NAMES = {
    "todo": "to do",
    "in_progress": "in progress",
    "done": "done",
    "skipped": "skipped",
}


VALUE_SYMBOLS = {"favorable": "+", "neutre": "=", "defavorable": "−"}


def target_code(target: str) -> str:
    """A two-letter code of a stance target id: RUSSIE → RU, ETATS_UNIS → EU."""
    words = [word for word in target.split("_") if word]
    code = "".join(word[0] for word in words) if len(words) > 1 else target[:2]
    return code.upper()


def stance_summary(schema: LabelSchema | None, stance: tuple[tuple[str, str], ...]) -> str:
    """E.g. "RU+ CH= UK−": each target set, in schema order, with its value's symbol."""
    order = {t.id: i for i, t in enumerate(schema.stance_targets)} if schema is not None else {}
    keys = {v.id: v.key.upper() for v in schema.stance_values} if schema is not None else {}
    ranked = sorted(stance, key=lambda pair: (order.get(pair[0], len(order)), pair[0]))
    return " ".join(
        target_code(target) + VALUE_SYMBOLS.get(value, keys.get(value, "?"))
        for target, value in ranked
    )


def status_name(status: str) -> str:
    """The translated display name of a layer status."""
    return QCoreApplication.translate("DocumentTableModel", STATUS_NAMES.get(status, status))


class DocumentTableModel(QAbstractTableModel):
    """Documents of a project as one annotator sees them: title, status, entity count,
    stance summary (with the schema's target order and names when given).

    The model has as many rows as documents match the filter (counted in SQL once per
    filter); a row's page is read when a view first asks for it, and only the pages seen
    last are kept (``MAX_PAGES``), so scrolling anywhere in 100,000 documents reads about
    one page and holds a few hundred rows.

    A read that fails because the database is unavailable changes no row: the rows shown
    stay, the others are blank, ``unavailable(reason)`` is emitted and the read is tried
    again after ``RETRY_SECONDS``."""

    unavailable = Signal(str)
    pageRead = Signal()  # a page of rows was read and is held

    def __init__(
        self,
        store: Store,
        project_id: int,
        annotator_id: int,
        page_size: int = PAGE_SIZE,
        parent: Any = None,
        schema: LabelSchema | None = None,
        queue: Queue | None = None,
    ) -> None:
        super().__init__(parent)
        self.store = store
        self.schema = schema
        self.queue = queue  # the annotator's queue (models.queues); None: every document
        self.project_id = project_id
        self.annotator_id = annotator_id
        self.page_size = page_size
        self.status: str | None = None
        self.search: str | None = None
        self._pages: OrderedDict[int, list[DocumentRow]] = OrderedDict()  # least recent first
        self._retry_at = 0.0  # no read before this time (monotonic) after a failed one
        total, first = self._first() or (0, [])
        self._total = total
        if first:
            self._pages[0] = first

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else self._total

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role not in ROLES or not index.isValid():
            return None
        row = self._row(index.row())
        if row is None:
            return None
        column = index.column()
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TITLE:
                return row.title or self.tr("(untitled)")
            if column == STATUS:
                return status_name(row.status)
            if column == ENTITIES:
                return row.entities
            return stance_summary(self.schema, row.stance)
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.ToolTipRole:
            if column == TITLE:
                return row.title
            return self._stance_tooltip(row) if column == STANCE and row.stance else None
        if role == Qt.ItemDataRole.ForegroundRole:
            colour = STATUS_COLOURS.get(row.status) if column == STATUS else None
            return QColor(colour) if colour else None
        return RIGHT if column == ENTITIES else None  # TextAlignmentRole

    def headerData(
        self, section: int, orientation: Qt.Orientation, role: int = Qt.ItemDataRole.DisplayRole
    ) -> Any:
        if orientation != Qt.Orientation.Horizontal:
            return None
        if role == Qt.ItemDataRole.TextAlignmentRole:
            align = (
                Qt.AlignmentFlag.AlignRight if section == ENTITIES else Qt.AlignmentFlag.AlignLeft
            )
            return int(align | Qt.AlignmentFlag.AlignVCenter)
        if role != Qt.ItemDataRole.DisplayRole:
            return None
        return {
            TITLE: self.tr("Title"),
            STATUS: self.tr("Status"),
            ENTITIES: self.tr("Entities"),
            STANCE: self.tr("Stance"),
        }.get(section)

    def _stance_tooltip(self, row: DocumentRow) -> str:
        targets = {t.id: t.name for t in self.schema.stance_targets} if self.schema else {}
        values = {v.id: v.name for v in self.schema.stance_values} if self.schema else {}
        return "\n".join(
            f"{targets.get(target, target)}: {values.get(value, value)}"
            for target, value in row.stance
        )

    # -- queries -------------------------------------------------------------------------
    @property
    def total(self) -> int:
        """Documents matching the filter."""
        return self._total

    @property
    def loaded(self) -> int:
        """Rows held in memory."""
        return sum(len(rows) for rows in self._pages.values())

    def held(self) -> Iterator[DocumentRow]:
        """The rows held in memory, in no particular order."""
        for rows in self._pages.values():
            yield from rows

    def document_row(self, row: int) -> DocumentRow:
        """The row's document; ``IndexError`` when there is no such row or it cannot be read."""
        found = self._row(row)
        if found is None:
            raise IndexError(f"row {row} of the document list cannot be read")
        return found

    def row_of(self, document_id: int) -> int | None:
        """Row of a document among the rows held, or None."""
        for number, rows in self._pages.items():
            for offset, row in enumerate(rows):
                if row.id == document_id:
                    return number * self.page_size + offset
        return None

    def locate(self, document_id: int, position: int) -> int | None:
        """Row of the document at that corpus position, None when it is not listed."""
        row = self.row_of(document_id)
        if row is not None:
            return row
        before = self._read(
            lambda: self.store.count_documents(
                self.project_id,
                self.annotator_id,
                self.status,
                self.search,
                self.queue,
                before=position,
            )
        )
        if before is None or before >= self._total:
            return None
        found = self._row(before)
        return before if found is not None and found.id == document_id else None

    # -- updates -------------------------------------------------------------------------
    def set_filter(self, status: str | None = None, search: str | None = None) -> None:
        """Show only documents with that status and containing ``search``; resets the rows."""
        before = self.status, self.search
        self.status = status or None
        self.search = search or None
        first = self._first()
        if first is None:
            self.status, self.search = before
            return
        self._reset(*first)

    def refresh_row(self, document_id: int) -> None:
        """Re-read one document's row after an edit (status, entity count, stance)."""
        row = self.row_of(document_id)
        if row is None:
            return
        page, offset = divmod(row, self.page_size)
        rows = self._pages[page]
        previous = rows[offset - 1].position if offset else None
        fresh = self._fetch(page * self.page_size if previous is None else 0, 1, previous)
        if fresh is None:
            return
        if fresh and fresh[0].id == document_id:
            rows[offset] = fresh[0]
            self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMNS - 1))
        else:  # the document left the filter (e.g. it is done and the list shows "to do")
            self.refresh()

    def refresh(self) -> None:
        """Count and read the rows again (counts after pre-annotation, documents imported).

        With the same number of rows the views keep their selection and only repaint;
        otherwise the model is reset."""
        first = self._first()
        if first is None:
            return
        total, rows = first
        if total != self._total:
            self._reset(total, rows)
            return
        self._pages.clear()
        self._pages[0] = rows
        if total:
            self.dataChanged.emit(self.index(0, 0), self.index(total - 1, COLUMNS - 1))

    def _reset(self, total: int, first: list[DocumentRow]) -> None:
        self.beginResetModel()
        self._pages.clear()
        self._pages[0] = first
        self._total = total
        self.endResetModel()

    def _row(self, row: int) -> DocumentRow | None:
        """The row's document, its page read if needed; None if it cannot be read."""
        if not 0 <= row < self._total:
            return None
        number, offset = divmod(row, self.page_size)
        rows = self._pages.get(number)
        if rows is None:
            rows = self._load(number)
        else:
            self._pages.move_to_end(number)
        return rows[offset] if rows is not None and offset < len(rows) else None

    def _load(self, number: int) -> list[DocumentRow] | None:
        """Read page ``number`` (from the end of the page before it when that one is held)."""
        if time.monotonic() < self._retry_at:
            return None
        previous = self._pages.get(number - 1)
        if previous:
            rows = self._fetch(0, self.page_size, previous[-1].position)
        else:
            rows = self._fetch(number * self.page_size, self.page_size)
        if rows is None:
            self._retry_at = time.monotonic() + RETRY_SECONDS
            return None
        self._pages[number] = rows
        while len(self._pages) > MAX_PAGES:
            self._pages.popitem(last=False)
        self.pageRead.emit()
        return rows

    def _first(self) -> tuple[int, list[DocumentRow]] | None:
        """The number of rows and the first page (one query where that is quicker)."""
        return self._read(
            lambda: self.store.first_rows(
                self.project_id,
                self.annotator_id,
                self.page_size,
                self.status,
                self.search,
                self.queue,
            )
        )

    def _fetch(self, offset: int, limit: int, after: int | None = None) -> list[DocumentRow] | None:
        return self._read(
            lambda: self.store.document_rows(
                self.project_id,
                self.annotator_id,
                offset,
                limit,
                self.status,
                self.search,
                self.queue,
                after=after,
            )
        )

    def _read(self, query: Callable[[], T]) -> T | None:
        """The query's result; None (and ``unavailable``) when the database is unavailable."""
        try:
            result = query()
        except UnavailableError as error:
            self.unavailable.emit(str(error))
            return None
        self._retry_at = 0.0  # the database answers again
        return result


class DocumentList(QWidget):
    """Status filter, search field and the table; ``documentChosen(id)`` on a new current row."""

    documentChosen = Signal(int)

    def __init__(self, model: DocumentTableModel, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.model = model
        self.status_filter = QComboBox()
        for text, status in STATUS_FILTERS:
            self.status_filter.addItem(self.tr(text), status)
        self.search = QLineEdit()
        self.search.setPlaceholderText(self.tr("Search titles and text…"))
        self.search.setClearButtonEnabled(True)
        self.search_delay = QTimer(self, singleShot=True, interval=250)
        self.table = QTableView()
        self.table.setModel(model)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setAlternatingRowColors(True)
        self.table.setWordWrap(False)
        self.table.setTextElideMode(Qt.TextElideMode.ElideRight)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Fixed)  # see fit_columns
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setHighlightSections(False)
        self.fit_columns()
        model.modelReset.connect(self.fit_columns)
        model.dataChanged.connect(lambda *_: self.fit_columns())
        # queued: a page is read while the table paints
        model.pageRead.connect(self.fit_columns, Qt.ConnectionType.QueuedConnection)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 0, 8)
        layout.addWidget(self.status_filter)
        layout.addWidget(self.search)
        layout.addWidget(self.table, 1)
        self.status_filter.currentIndexChanged.connect(lambda _index: self.apply_filter())
        self.search.textChanged.connect(lambda _text: self.search_delay.start())
        self.search_delay.timeout.connect(self.apply_filter)
        self.table.selectionModel().currentRowChanged.connect(self._current_changed)
        self.current: tuple[int, int] | None = None  # (document id, position) shown as current

    def fit_columns(self) -> None:
        """Size the status, entities and stance columns to their header and to the texts of
        every status and of the rows held. (ResizeToContents asked the delegate for the size
        of each cell of a hundred rows, eight model roles a cell, at every layout: 5,500
        calls and about 8 ms of the window's first show at 100,000 documents.)"""
        model = self.model
        rows = list(model.held())
        texts = {
            STATUS: [status_name(status) for status in STATUS_NAMES],
            ENTITIES: [str(max((row.entities for row in rows), default=0))],
            STANCE: [
                stance_summary(model.schema, stance) for stance in {row.stance for row in rows}
            ],
        }
        metrics = QFontMetricsF(self.table.font())
        style = self.table.style()
        # the item's text margins (QCommonStyle), and a pixel: the text is elided otherwise
        margin = style.pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, self.table)
        header = self.table.horizontalHeader()
        for column, strings in texts.items():
            widest = max((metrics.horizontalAdvance(text) for text in strings), default=0.0)
            width = max(header.sectionSizeHint(column), ceil(widest) + 2 * (margin + 1) + 1)
            if header.sectionSize(column) != width:
                header.resizeSection(column, width)

    def apply_filter(self) -> None:
        self.model.set_filter(self.status_filter.currentData(), self.search.text().strip())
        if self.current is not None:
            self.select(*self.current)

    def select(self, document_id: int, position: int) -> None:
        """Make the document the current row (fetching pages up to it), if it is listed."""
        self.current = (document_id, position)
        row = self.model.locate(document_id, position)
        if row is None:
            self.table.clearSelection()
            return
        index = self.model.index(row, TITLE)
        self.table.setCurrentIndex(index)
        self.table.scrollTo(index)

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if event.type() in (QEvent.Type.FontChange, QEvent.Type.StyleChange):
            self.fit_columns()  # the table has the new font by now

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.documentChosen.emit(self.model.document_row(current.row()).id)
