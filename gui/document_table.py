"""The document list: a lazy Qt table model over Store.document_rows, and the panel
showing it with a status filter and a search field.

Rows are fetched in pages as the view scrolls (canFetchMore/fetchMore); the corpus is
never held in memory, only the rows fetched so far.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractTableModel,
    QCoreApplication,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHeaderView,
    QLineEdit,
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

    A read that fails because the database is unavailable changes no row: the rows shown
    stay and ``unavailable(reason)`` is emitted."""

    unavailable = Signal(str)

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
        self._rows: list[DocumentRow] = []
        self._total = self._count() or 0
        self._changing = False  # inside a begin/end pair: views' fetchMore calls must wait

    # -- Qt model ------------------------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else COLUMNS

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and not self._changing and len(self._rows) < self._total

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        if not self.canFetchMore(parent):
            return
        page = self._fetch(len(self._rows), self.page_size)
        if page is None:
            return
        if not page:
            self._total = len(self._rows)
            return
        first = len(self._rows)
        self._changing = True
        self.beginInsertRows(QModelIndex(), first, first + len(page) - 1)
        self._rows.extend(page)
        self.endInsertRows()
        self._changing = False

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._rows):
            return None
        row = self._rows[index.row()]
        column = index.column()
        if role == ROW_ROLE:
            return row
        if role == Qt.ItemDataRole.DisplayRole:
            if column == TITLE:
                return row.title or self.tr("(untitled)")
            if column == STATUS:
                return status_name(row.status)
            if column == ENTITIES:
                return row.entities
            if column == STANCE:
                return stance_summary(self.schema, row.stance)
        if role == Qt.ItemDataRole.ToolTipRole and column == TITLE:
            return row.title
        if role == Qt.ItemDataRole.ToolTipRole and column == STANCE and row.stance:
            return self._stance_tooltip(row)
        if (
            role == Qt.ItemDataRole.ForegroundRole
            and column == STATUS
            and row.status in STATUS_COLOURS
        ):
            return QColor(STATUS_COLOURS[row.status])
        if role == Qt.ItemDataRole.TextAlignmentRole and column == ENTITIES:
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        return None

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
        """Documents matching the filter (loaded or not)."""
        return self._total

    def document_row(self, row: int) -> DocumentRow:
        return self._rows[row]

    def row_of(self, document_id: int) -> int | None:
        """Row of a loaded document, or None."""
        return next((i for i, row in enumerate(self._rows) if row.id == document_id), None)

    def locate(self, document_id: int, position: int) -> int | None:
        """Row of the document, fetching pages up to its corpus position if needed."""
        while self.row_of(document_id) is None and self.canFetchMore():
            if self._rows and self._rows[-1].position >= position:
                break
            loaded = len(self._rows)
            self.fetchMore()
            if len(self._rows) == loaded:  # the database is unavailable
                break
        return self.row_of(document_id)

    # -- updates -------------------------------------------------------------------------
    def set_filter(self, status: str | None = None, search: str | None = None) -> None:
        """Show only documents with that status and containing ``search``; resets the rows."""
        before = self.status, self.search
        self.status = status or None
        self.search = search or None
        total = self._count()
        if total is None:
            self.status, self.search = before
            return
        self._reset(total)

    def refresh_row(self, document_id: int) -> None:
        """Re-read one document's row after an edit (status, entity count)."""
        row = self.row_of(document_id)
        if row is None:
            return
        fresh = self._fetch(row, 1)
        if fresh is None:
            return
        if fresh and fresh[0].id == document_id:
            self._rows[row] = fresh[0]
            self.dataChanged.emit(self.index(row, 0), self.index(row, COLUMNS - 1))
        else:  # the document left the filter (e.g. it is done and the list shows "to do")
            self.refresh()

    def refresh(self) -> None:
        """Re-read the loaded rows (counts after pre-annotation, new documents after import).

        Rows are updated in place when the same documents are still in the same places,
        so the view keeps its selection; otherwise the model is reset.
        """
        loaded = len(self._rows)
        total = self._count()
        fresh = self._fetch(0, loaded) if loaded else []
        if total is None or fresh is None:
            return
        if [row.id for row in fresh] != [row.id for row in self._rows]:
            self._reset(total)
            return
        complete = loaded == self._total
        self._total = total
        for index, (old, new) in enumerate(zip(self._rows, fresh, strict=True)):
            if old != new:
                self._rows[index] = new
                self.dataChanged.emit(self.index(index, 0), self.index(index, COLUMNS - 1))
        if complete and self.canFetchMore():  # documents were added after the last page
            self.fetchMore()

    def _reset(self, total: int) -> None:
        self._changing = True
        self.beginResetModel()
        self._rows, self._total = [], total
        self.endResetModel()
        self._changing = False

    def _count(self) -> int | None:
        return self._read(
            lambda: self.store.count_documents(
                self.project_id, self.annotator_id, self.status, self.search, self.queue
            )
        )

    def _fetch(self, offset: int, limit: int) -> list[DocumentRow] | None:
        return self._read(
            lambda: self.store.document_rows(
                self.project_id,
                self.annotator_id,
                offset,
                limit,
                self.status,
                self.search,
                self.queue,
            )
        )

    def _read(self, query: Callable[[], T]) -> T | None:
        """The query's result; None (and ``unavailable``) when the database is unavailable."""
        try:
            return query()
        except UnavailableError as error:
            self.unavailable.emit(str(error))
            return None


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
        header.setSectionResizeMode(TITLE, QHeaderView.ResizeMode.Stretch)
        header.setSectionResizeMode(STATUS, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(ENTITIES, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(STANCE, QHeaderView.ResizeMode.ResizeToContents)
        header.setHighlightSections(False)
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

    def focus_search(self) -> None:
        self.search.setFocus()
        self.search.selectAll()

    def _current_changed(self, current: QModelIndex, _previous: QModelIndex) -> None:
        if current.isValid():
            self.documentChosen.emit(self.model.document_row(current.row()).id)
