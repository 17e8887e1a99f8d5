"""Corpus search (Ctrl+Shift+F): a query field, the number of matching documents and the
list of them, each with a snippet around its first match; Enter or a click opens one with
every match highlighted (``MatchMarks``), F3 / Shift+F3 step through the matches.

The query runs on a pool thread (``JobWorker``) 150 ms after the last key, so typing never
waits for the database; a new query cancels the running ones between two of their steps
and a result that arrives after a newer query started is dropped. The first page comes with
its total, except for phrases on SQLite (``models.search``): then the total is counted by a
second worker and shown when it is ready. A phrase's page fills step by step (its
candidates are checked in corpus order): the hits of each step are listed as they come.
"""

from __future__ import annotations

import html
from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from PySide6.QtCore import (
    QAbstractListModel,
    QModelIndex,
    QObject,
    QPersistentModelIndex,
    QRectF,
    QSize,
    Qt,
    QTimer,
    Signal,
)
from PySide6.QtGui import QColor, QKeyEvent, QPainter, QPalette, QTextDocument
from PySide6.QtWidgets import (
    QApplication,
    QLabel,
    QLineEdit,
    QListView,
    QStyle,
    QStyledItemDelegate,
    QStyleOptionViewItem,
    QVBoxLayout,
    QWidget,
)

from gui.document_view import DocumentView
from gui.highlighter import Mark, MarkStyle
from gui.workers import JobWorker
from models.jobs import Job
from models.records import Progress
from models.search import Found, Hit, Page, Query, QueryError, count_job, parse, search_job
from models.store import Store

Index = QModelIndex | QPersistentModelIndex
T = TypeVar("T")

SEARCH_DELAY_MS = 150
PAGE_SIZE = 50
HIT_ROLE = Qt.ItemDataRole.UserRole + 1  # the backing models.search.Hit
MARK_LAYER = "search"
MATCH_COLOUR = "#ffd54f"
MATCH = MarkStyle(fill=QColor(255, 213, 79, 120))
CURRENT_MATCH = MarkStyle(fill=QColor(255, 179, 0, 170), outline=QColor("#b26a00"), width=1.6)


class SearchTableModel(QAbstractListModel):
    """The matching documents, one page at a time as the list scrolls (keyset paging on the
    corpus position: a page never re-reads the pages before it)."""

    fetchRequested = Signal(int)  # the corpus position after which the next page starts

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.query: Query | None = None
        self._hits: list[Hit] = []
        self._more = False
        self._fetching = False  # a next page was asked for (fetchRequested) and not added yet
        self._changing = False  # no fetchMore from a view reacting to a change of the rows

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008
        return 0 if parent.isValid() else len(self._hits)

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid() or not 0 <= index.row() < len(self._hits):
            return None
        hit = self._hits[index.row()]
        if role == HIT_ROLE:
            return hit
        if role == Qt.ItemDataRole.DisplayRole:
            return hit.title or self.tr("(untitled)")
        if role == Qt.ItemDataRole.ToolTipRole:
            return hit.snippet
        return None

    def set_page(self, query: Query | None, page: Page | None) -> None:
        """Show the first page of a query (None: no results)."""
        self._changing = True
        self.beginResetModel()
        self.query = query
        self._hits = list(page.hits) if page is not None else []
        self._more = page is not None and len(page.hits) == PAGE_SIZE
        self._fetching = False
        self.endResetModel()
        self._changing = False

    def canFetchMore(self, parent: Index = QModelIndex()) -> bool:  # noqa: B008
        return not parent.isValid() and self._more and not self._fetching and not self._changing

    def fetchMore(self, parent: Index = QModelIndex()) -> None:  # noqa: B008
        """Ask for the next page (``fetchRequested``): a page of a phrase whose words are
        common but seldom side by side takes most of a second, so the panel reads it on a
        worker and hands it to ``append``."""
        if not self.canFetchMore(parent) or self.query is None:
            return
        self._fetching = True
        self.fetchRequested.emit(self._hits[-1].position)

    def append(self, hits: Sequence[Hit], more: bool | None = None) -> None:
        """Add hits of the page asked for by the last ``fetchRequested`` (or of the first
        page); ``more`` once that page is complete: whether a next one may follow."""
        if more is not None:
            self._fetching = False
            self._more = more
        if hits:
            first = len(self._hits)
            self._changing = True
            self.beginInsertRows(QModelIndex(), first, first + len(hits) - 1)
            self._hits.extend(hits)
            self.endInsertRows()
            self._changing = False

    def hit(self, row: int) -> Hit:
        return self._hits[row]


class HitDelegate(QStyledItemDelegate):
    """A hit as its corpus number and title, then two lines of its snippet with the matches
    marked (every row the same height)."""

    SNIPPET_LINES = 2
    MARGIN = 4
    SAMPLE = Hit(0, 0, "T", "mot " * 200, (), 0)  # measures the height of a row

    def _document(self, hit: Hit, option: QStyleOptionViewItem, width: float) -> QTextDocument:
        selected = bool(option.state & QStyle.StateFlag.State_Selected)
        role = QPalette.ColorRole.HighlightedText if selected else QPalette.ColorRole.Text
        pieces, last = [], 0
        for start, end in hit.marks:
            pieces.append(html.escape(hit.snippet[last:start]))
            match = html.escape(hit.snippet[start:end])
            pieces.append(f"<span style='background:{MATCH_COLOUR}; color:#000'>{match}</span>")
            last = end
        pieces.append(html.escape(hit.snippet[last:]))
        title = html.escape(hit.title or self.tr("(untitled)"))
        size = option.font.pointSizeF() * 0.9
        document = QTextDocument()
        document.setDefaultFont(option.font)
        document.setDocumentMargin(self.MARGIN)
        document.setDefaultStyleSheet(
            f"p {{ margin: 0; color: {option.palette.color(role).name()} }}"
        )
        document.setHtml(
            f"<p><b>{hit.position + 1}. {title}</b></p>"
            f"<p style='font-size:{size:.1f}pt'>{''.join(pieces)}</p>"
        )
        document.setTextWidth(width)
        document.size()  # lays it out now
        return document

    def _bottom(self, document: QTextDocument) -> float:
        """Where the snippet's last shown line ends."""
        layout = document.lastBlock().layout()
        lines = min(layout.lineCount(), self.SNIPPET_LINES)
        return layout.position().y() + layout.lineAt(lines - 1).rect().bottom() if lines else 0

    def paint(self, painter: QPainter, option: QStyleOptionViewItem, index: Index) -> None:
        hit = index.data(HIT_ROLE)
        if not isinstance(hit, Hit):
            return
        self.initStyleOption(option, index)
        option.text = ""
        style = option.widget.style() if option.widget else QApplication.style()
        style.drawControl(QStyle.ControlElement.CE_ItemViewItem, option, painter, option.widget)
        document = self._document(hit, option, option.rect.width())
        painter.save()
        painter.translate(option.rect.topLeft())
        document.drawContents(painter, QRectF(0, 0, option.rect.width(), self._bottom(document)))
        painter.restore()

    def sizeHint(self, option: QStyleOptionViewItem, index: Index) -> QSize:
        document = self._document(self.SAMPLE, option, 400)
        return QSize(option.rect.width(), int(self._bottom(document) + self.MARGIN + 1))


class SearchPanel(QWidget):
    """The query field, the count and the hits. ``documentChosen(id)`` on Enter or a click;
    ``closeRequested`` on Escape; ``queryChanged(query or None)`` when a search ran."""

    documentChosen = Signal(int)
    closeRequested = Signal()
    queryChanged = Signal(object)

    def __init__(self, store: Store, project_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.store, self.project_id = store, project_id
        self.field = QLineEdit()
        self.field.setPlaceholderText(self.tr('Words, "a phrase", prefix*, -left out'))
        self.field.setClearButtonEnabled(True)
        self.status = QLabel()
        self.status.setProperty("role", "hint")
        self.model = SearchTableModel(self)
        self.model.fetchRequested.connect(self._fetch)
        self.list = QListView()
        self.list.setModel(self.model)
        self.list.setItemDelegate(HitDelegate(self.list))
        self.list.setUniformItemSizes(True)
        self.list.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.delay = QTimer(self, singleShot=True, interval=SEARCH_DELAY_MS)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(8, 8, 8, 8)
        layout.addWidget(self.field)
        layout.addWidget(self.status)
        layout.addWidget(self.list, 1)
        self.field.textChanged.connect(lambda _text: self.delay.start())
        self.delay.timeout.connect(self.run)
        self.field.returnPressed.connect(self._open_current)
        self.list.activated.connect(lambda index: self._choose(index.row()))
        self.list.clicked.connect(lambda index: self._choose(index.row()))
        self.field.installEventFilter(self)
        self.list.installEventFilter(self)
        self._generation = 0  # the latest query: results of older ones are dropped
        self.workers: list[JobWorker] = []

    @property
    def query(self) -> Query | None:
        return self.model.query

    def focus(self) -> None:
        self.field.setFocus()
        self.field.selectAll()

    # -- running a query -----------------------------------------------------------------
    def run(self) -> None:
        """Search for the field's text (its last word a prefix while it is being typed)."""
        self.delay.stop()
        self._generation += 1
        for worker in self.workers:
            worker.cancel()  # a count still running stops at its next step
        text = self.field.text()
        try:
            query = parse(text, typing=True)
        except QueryError as error:
            self.model.set_page(None, None)
            self.status.setText(str(error) if text.strip() else "")
            self.queryChanged.emit(None)
            return
        self.status.setText(self.tr("Searching…"))
        generation = self._generation
        worker = self._start(
            search_job(self.store, self.project_id, query, limit=PAGE_SIZE),
            lambda page: self._show(generation, query, page),
        )
        worker.signals.progress.connect(lambda step: self._found(generation, query, step))

    def _start(self, job: Job[T], done: Callable[[T], None]) -> JobWorker:
        worker = JobWorker(job, "search")
        worker.signals.finished.connect(done)
        worker.signals.failed.connect(self._failed)
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(lambda *_args, w=worker: self.workers.remove(w))
        self.workers.append(worker)
        return worker.start()

    def _fetch(self, after: int) -> None:
        query, generation = self.model.query, self._generation
        if query is None:
            return
        listed = [0]  # hits of this page listed on the way

        def found(step: Progress) -> None:
            if generation == self._generation and isinstance(step, Found):
                self.model.append(step.hits)
                listed[0] += len(step.hits)

        def done(page: Page) -> None:
            if generation == self._generation:
                self.model.append(page.hits[listed[0] :], len(page.hits) == PAGE_SIZE)

        worker = self._start(
            search_job(self.store, self.project_id, query, limit=PAGE_SIZE, after=after), done
        )
        worker.signals.progress.connect(found)

    def _found(self, generation: int, query: Query, step: Progress) -> None:
        """Hits of a phrase listed before its first page is complete."""
        if generation != self._generation or not isinstance(step, Found):
            return
        if self.model.query is query:
            self.model.append(step.hits)
        elif step.hits:
            self._list(query, Page(list(step.hits), None))
        else:
            return  # none yet: the list still shows the previous query's, under "Searching…"
        self.status.setText(self.tr("{n}+ documents, searching…").format(n=self.model.rowCount()))

    def _list(self, query: Query, page: Page) -> None:
        self.model.set_page(query, page)
        if self.model.rowCount():
            self.list.setCurrentIndex(self.model.index(0))
        self.queryChanged.emit(query)

    def _show(self, generation: int, query: Query, page: Page) -> None:
        if generation != self._generation:
            return
        if self.model.query is query:  # its first hits are listed already
            listed = self.model.rowCount()
            self.model.append(page.hits[listed:], len(page.hits) == PAGE_SIZE)
        else:
            self._list(query, page)
        if page.total is not None:
            self._show_total(generation, page.total)
        else:
            self.status.setText(self.tr("{n}+ documents, counting…").format(n=len(page.hits)))
            worker = self._start(
                count_job(self.store, self.project_id, query),
                lambda total: self._show_total(generation, total),
            )
            worker.signals.progress.connect(lambda step: self._counting(generation, step))

    def _counting(self, generation: int, step: Progress) -> None:
        if generation == self._generation and step.total:
            text = self.tr("Counting… {percent} % of the candidates checked")
            self.status.setText(text.format(percent=100 * step.done // step.total))

    def _show_total(self, generation: int, total: int) -> None:
        if generation == self._generation:
            text = (
                self.tr("No document matches")
                if not total
                else self.tr("%n document(s)", "", total)
            )
            self.status.setText(text)

    def _failed(self, reason: str) -> None:
        self.status.setText(self.tr("Search failed: {reason}").format(reason=reason))

    def stop(self, timeout: float = 10.0) -> None:
        """Stop counting and wait until every running query has ended (closing the window)."""
        for worker in list(self.workers):
            worker.cancel()
        for worker in list(self.workers):
            worker.wait(timeout)

    # -- choosing a document -------------------------------------------------------------
    def _open_current(self) -> None:
        if self.delay.isActive() or self.model.query is None:
            self.run()  # Enter before the pause: search now, open when a hit is chosen
            return
        row = self.list.currentIndex().row()
        if self.model.rowCount():
            self._choose(max(row, 0))

    def _choose(self, row: int) -> None:
        if 0 <= row < self.model.rowCount():
            self.documentChosen.emit(self.model.hit(row).id)

    def eventFilter(self, watched: QObject, event: Any) -> bool:
        if isinstance(event, QKeyEvent) and event.type() == QKeyEvent.Type.KeyPress:
            key = event.key()
            if key == Qt.Key.Key_Escape:
                self.closeRequested.emit()
                return True
            if watched is self.field and key in (Qt.Key.Key_Down, Qt.Key.Key_Up):
                step = 1 if key == Qt.Key.Key_Down else -1
                row = min(max(self.list.currentIndex().row() + step, 0), self.model.rowCount() - 1)
                self.list.setCurrentIndex(self.model.index(row))
                return True
        return super().eventFilter(watched, event)


class MatchMarks(QObject):
    """The search matches in the document view: all marked, the current one stronger;
    ``step`` moves to the next / previous one and scrolls to it."""

    def __init__(self, view: DocumentView, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.view = view
        self.query: Query | None = None
        self.spans: list[tuple[int, int]] = []
        self.current = 0

    def set_query(self, query: Query | None) -> None:
        self.query = query
        self.refresh()

    def refresh(self, reveal: bool = False) -> None:
        """Mark the matches of the view's document (after it changed); ``reveal`` scrolls
        to the first."""
        self.spans = self.query.spans(self.view.text) if self.query is not None else []
        self.current = 0
        self._paint()
        if reveal and self.spans:
            self.view.reveal(self.spans[0][0])

    def step(self, delta: int) -> bool:
        """The next (+1) or previous (-1) match, wrapping; False when there is none."""
        if not self.spans:
            return False
        self.current = (self.current + delta) % len(self.spans)
        self._paint()
        self.view.reveal(self.spans[self.current][0])
        return True

    def _paint(self) -> None:
        marks = [
            Mark(start, end, CURRENT_MATCH if number == self.current else MATCH)
            for number, (start, end) in enumerate(self.spans)
        ]
        self.view.set_marks(MARK_LAYER, marks)
