"""Review mode: the queue of documents by disagreement, the merged view of a document, the
competing versions of the current disagreement, and adjudication into gold from the keys.

The merged view shows the agreed entities (and gold's choice where a group is resolved) in
their colours; each disagreement is outlined, the current one filled. J / K move through the
disagreements (on to the next document of the queue at the end), 1–9 take annotator N's
version into gold, Ctrl+Shift+A accepts every agreed item, Ctrl+G switches to editing gold
directly (the usual document view and editor on gold's layer). Every adjudication is a
models command on one undo stack (Ctrl+Z / Ctrl+Shift+Z).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

from PySide6.QtCore import QModelIndex, QSortFilterProxyModel, Qt
from PySide6.QtGui import QAction, QColor, QKeyEvent, QKeySequence, QUndoStack
from PySide6.QtWidgets import (
    QAbstractItemView,
    QFrame,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QListView,
    QProgressBar,
    QSplitter,
    QStackedWidget,
    QTableView,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.document_view import DocumentView
from gui.editor import DocumentEditor
from gui.highlighter import Mark, MarkStyle
from gui.keymap import shortcuts
from gui.review_model import (
    DISAGREEMENTS,
    ROW_ROLE,
    SORT_ROLE,
    ReviewQueueTableModel,
    VersionTableModel,
    describe,
    excerpt,
    group_title,
)
from gui.undo import FAILURES, CommandUndo
from gui.workers import JobWorker
from models.access import LayerVersion, StaleLayerError
from models.commands import Changes, Command
from models.layers import EntitySpan, entities, find_layer
from models.records import SpanRecord
from models.review import (
    AcceptAgreed,
    DocumentReview,
    Group,
    QueueRow,
    TakeVersion,
    compared_annotators,
    gold_layer,
    queue_row,
    review_document,
    review_queue,
)
from models.store import ProjectInfo, Store
from models.transfer import GOLD

PENDING = QColor("#d9480f")
SETTLED = QColor("#2e7d32")
OPEN_STYLE = MarkStyle(outline=PENDING, dashed=True, width=1.4)
SETTLED_STYLE = MarkStyle(outline=SETTLED, dashed=True, width=1.2)
CURRENT_OPEN = MarkStyle(fill=QColor(217, 72, 15, 45), outline=PENDING, width=2.4)
CURRENT_SETTLED = MarkStyle(fill=QColor(46, 125, 50, 40), outline=SETTLED, width=2.4)
MAX_VERSIONS = 9


class MergedView(DocumentView):
    """The document view without label keys: digits take versions in review mode."""

    def _label_for_key(self, event: QKeyEvent) -> str | None:
        return None


class ReviewView(QWidget):
    def __init__(
        self,
        store: Store,
        project: ProjectInfo,
        annotators: Sequence[str] = (),
        status: str = "any",
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.project, self.status = store, project, status
        self.annotators = compared_annotators(store, project, annotators, status)
        self.gold_id = store.annotator_id(GOLD, "gold")
        self.review: DocumentReview | None = None
        self._seen: LayerVersion | None = None  # gold's layer version this screen shows
        self.current = -1  # index of the current group in review.groups
        self.worker: JobWorker | None = None
        self.setWindowTitle(self.tr("Glose — Review: {project}").format(project=project.name))
        self.undo_stack = QUndoStack(self)
        self.merged = MergedView(self)
        self.gold_view = DocumentView(self)
        self.editor = DocumentEditor(store, self.gold_view, self.undo_stack, self)
        self.model = ReviewQueueTableModel(self)
        self.proxy = QSortFilterProxyModel(self)
        self.proxy.setSourceModel(self.model)
        self.proxy.setSortRole(SORT_ROLE)
        self._build()
        self._build_actions()
        self.editor.changed.connect(self.refresh)
        self.editor.statusMessage.connect(self.message.setText)
        for view in (self.merged, self.gold_view):
            view.navigateRequested.connect(self.step_document)

    # -- construction --------------------------------------------------------------------
    def _build(self) -> None:
        self.table = QTableView(self)
        self.table.setModel(self.proxy)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.verticalHeader().hide()
        self.table.setShowGrid(False)
        self.table.setWordWrap(False)
        self.table.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(36)
        self.table.setSortingEnabled(True)
        self.table.sortByColumn(DISAGREEMENTS, Qt.SortOrder.DescendingOrder)
        self.table.activated.connect(self._chosen)
        self.table.clicked.connect(self._chosen)
        self.stack = QStackedWidget(self)
        self.stack.addWidget(self.merged)
        self.stack.addWidget(self.gold_view)
        self.splitter = QSplitter(Qt.Orientation.Horizontal, self)
        self.splitter.addWidget(self.table)
        self.splitter.addWidget(self.stack)
        self.splitter.addWidget(self._side_panel())
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.splitter.setSizes([360, 720, 360])
        self.comparing = QLabel(
            self.tr("Comparing {names}").format(names=", ".join(self.annotators) or "—")
        )
        self.corpus = QLabel()
        self.corpus.setStyleSheet("font-weight: 600;")
        top = QHBoxLayout()
        top.setContentsMargins(10, 6, 10, 0)
        title = QLabel(self.tr("Review"))
        title.setStyleSheet("font-size: 14pt; font-weight: 600;")
        top.addWidget(title)
        top.addSpacing(12)
        top.addWidget(self.comparing)
        top.addStretch(1)
        top.addWidget(self.corpus)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.splitter, 1)

    def _side_panel(self) -> QWidget:
        panel = QFrame(self)
        panel.setMinimumWidth(280)
        self.heading = QLabel()
        self.heading.setStyleSheet("font-size: 12pt; font-weight: 600;")
        self.excerpt = QLabel()
        self.excerpt.setWordWrap(True)
        self.excerpt.setTextFormat(Qt.TextFormat.RichText)
        self.versions = VersionTableModel(self)
        self.version_list = QListView(panel)
        self.version_list.setModel(self.versions)
        self.version_list.setWordWrap(True)
        self.version_list.setSpacing(2)
        self.version_list.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.version_list.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.version_list.doubleClicked.connect(
            lambda index: self.take(index.data(ROW_ROLE).number)
        )
        self.gold_line = QLabel()
        self.gold_line.setWordWrap(True)
        self.progress = QProgressBar(panel)
        self.progress.setTextVisible(False)
        self.progress.setMaximumHeight(8)
        self.resolved_line = QLabel()
        self.agreed_line = QLabel()
        self.agreed_line.setWordWrap(True)
        buttons = QHBoxLayout()
        self.accept_button = QToolButton(panel)
        self.gold_button = QToolButton(panel)
        buttons.addWidget(self.accept_button)
        buttons.addWidget(self.gold_button)
        buttons.addStretch(1)
        hint = QLabel(
            self.tr(
                "J / K next / previous · 1–9 take that version · Ctrl+Shift+A accept agreed"
                " · Ctrl+G edit gold · Ctrl+Z undo. Outlined in orange: open; in green:"
                " resolved."
            )
        )
        hint.setWordWrap(True)
        hint.setStyleSheet("color: palette(mid);")
        self.message = QLabel()
        self.message.setWordWrap(True)
        self.message.setStyleSheet("color: #a15c00;")
        layout = QVBoxLayout(panel)
        layout.setContentsMargins(8, 8, 10, 8)
        layout.addWidget(self.heading)
        layout.addWidget(self.excerpt)
        layout.addWidget(self.version_list)
        layout.addWidget(self.gold_line)
        layout.addWidget(self.progress)
        layout.addWidget(self.resolved_line)
        layout.addWidget(self.agreed_line)
        layout.addLayout(buttons)
        layout.addWidget(self.message)
        layout.addStretch(1)
        layout.addWidget(hint)
        return panel

    def _build_actions(self) -> None:
        self.next_action = self._action(self.tr("Next Disagreement"), lambda: self.step(1))
        self.next_action.setShortcuts(shortcuts("next_disagreement"))
        self.previous_action = self._action(self.tr("Previous Disagreement"), lambda: self.step(-1))
        self.previous_action.setShortcuts(shortcuts("previous_disagreement"))
        self.take_actions = []
        for number in range(1, MAX_VERSIONS + 1):
            action = self._action(
                self.tr("Take Version {n}").format(n=number), partial(self.take, number)
            )
            action.setShortcut(QKeySequence(str(number)))
            self.take_actions.append(action)
        self.accept_action = self._action(self.tr("Accept All Agreed"), self.accept_agreed)
        self.accept_action.setShortcuts(shortcuts("accept_agreed"))
        self.accept_button.setDefaultAction(self.accept_action)
        self.edit_gold_action = QAction(self.tr("Edit Gold"), self)
        self.edit_gold_action.setCheckable(True)
        self.edit_gold_action.setShortcuts(shortcuts("edit_gold"))
        self.edit_gold_action.toggled.connect(self.set_editing_gold)
        self.addAction(self.edit_gold_action)
        self.gold_button.setDefaultAction(self.edit_gold_action)
        self.undo_action = self.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.undo_action.setShortcuts(shortcuts("undo"))
        self.redo_action = self.undo_stack.createRedoAction(self, self.tr("&Redo"))
        self.redo_action.setShortcuts(shortcuts("redo"))
        self.addActions([self.undo_action, self.redo_action])

    def _action(self, text: str, slot: Callable[[], object]) -> QAction:
        action = QAction(text, self)
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    # -- queue ---------------------------------------------------------------------------
    def refresh_queue(self) -> JobWorker:
        """Compare the annotators over the corpus in the background, then fill the queue."""
        if self.worker is not None:
            return self.worker
        worker = JobWorker(review_queue(self.store, self.project.id, self.annotators, self.status))
        worker.signals.progress.connect(
            lambda step: self.corpus.setText(
                self.tr("Comparing… {done} / {total}").format(done=step.done, total=step.total)
            )
        )
        worker.signals.finished.connect(self._queue_ready)
        worker.signals.failed.connect(self.message.setText)
        self.worker = worker
        return worker.start()

    def _queue_ready(self, rows: list[QueueRow]) -> None:
        self.worker = None
        self.model.set_rows(rows)
        self._show_corpus_progress()
        if self.review is None and rows:
            self.open_document(rows[0].document_id)
        else:
            self.refresh()  # the annotators may have changed the open document meanwhile

    def _chosen(self, index: QModelIndex) -> None:
        row = index.data(ROW_ROLE)
        if isinstance(row, QueueRow) and (
            self.review is None or row.document_id != self.document_id
        ):
            self.open_document(row.document_id)

    def _show_corpus_progress(self) -> None:
        done, total = self.model.adjudicated()
        self.corpus.setText(
            self.tr("{done} of {total} documents adjudicated").format(done=done, total=total)
        )

    @property
    def document_id(self) -> int | None:
        return self.review.document_id if self.review is not None else None

    def _queue_place(self) -> int:
        """The open document's row in the queue as shown (sorted), -1 when not there."""
        for number in range(self.proxy.rowCount()):
            row = self.proxy.index(number, 0).data(ROW_ROLE)
            if row is not None and row.document_id == self.document_id:
                return number
        return -1

    # -- documents -----------------------------------------------------------------------
    def open_document(self, document_id: int, group: int | None = None) -> None:
        """Show the document merged, with its first unresolved disagreement (or ``group``)."""
        self.review = review_document(self.store, document_id, self.annotators, self.status)
        self._seen = self._read_seen()
        text = self.store.document(document_id).text
        self.merged.set_document(text, self._merged_spans(), self.project.schema)
        self.editor.load(document_id, self.gold_id, self.project.schema, None)
        self.message.clear()
        place = self._queue_place()
        if place >= 0:
            self.table.selectRow(place)
        groups = self.review.groups
        if group is None:
            group = next((i for i, g in enumerate(groups) if not g.resolved), 0)
        self.show_group(min(group, len(groups) - 1))
        self._shown().setFocus()

    def step_document(self, step: int, group: int | None = None) -> bool:
        place = self._queue_place() + step
        if not 0 <= place < self.proxy.rowCount():
            return False
        row = self.proxy.index(place, 0).data(ROW_ROLE)
        self.open_document(row.document_id, group)
        return True

    def refresh(self, _changes: Changes | None = None) -> None:
        """Read the open document's review again after an edit (of gold or by a command)."""
        if self.review is None:
            return
        self.review = review_document(
            self.store, self.review.document_id, self.annotators, self.status
        )
        self._seen = self._read_seen()
        self.merged.set_spans(self._merged_spans())
        if self.review.gold_layer_id is not None:
            self.gold_view.set_spans(entities(self.store, self.review.gold_layer_id))
        self.show_group(min(self.current, len(self.review.groups) - 1))
        row = self.model.row_of(self.review.document_id)
        if row is not None:
            known = self.model.queue_row(row)
            self.model.update_row(queue_row(self.review, known.position, known.title))
            self._show_corpus_progress()

    def _merged_spans(self) -> list[EntitySpan]:
        """The agreed entities, and gold's entities in the resolved groups."""
        assert self.review is not None
        spans = list(self.review.agreed.spans)
        for group in self.review.groups:
            if group.kind == "entity" and group.resolved:
                spans.extend(item for item in group.gold if isinstance(item, SpanRecord))
        return [
            EntitySpan(number, span.start, span.end, span.label, "manual")
            for number, span in enumerate(spans, 1)
        ]

    # -- disagreements -------------------------------------------------------------------
    def step(self, delta: int) -> None:
        """The next (+1) or previous (-1) disagreement, on to the neighbour document."""
        if self.review is None:
            return
        index = self.current + delta
        if 0 <= index < len(self.review.groups):
            self.show_group(index)
        elif not self.step_document(delta, 0 if delta > 0 else 1_000_000):
            self.message.setText(self.tr("No more disagreements in the queue."))

    def show_group(self, index: int) -> None:
        assert self.review is not None
        groups = self.review.groups
        self.current = index if groups else -1
        marks: list[Mark] = []
        for number, group in enumerate(groups):
            current = number == self.current
            if current:
                style = CURRENT_SETTLED if group.resolved else CURRENT_OPEN
            else:
                style = SETTLED_STYLE if group.resolved else OPEN_STYLE
            ranges = group.marks if group.kind == "stance" else ((group.start, group.end),)
            marks.extend(Mark(start, end, style) for start, end in ranges)
        for view in (self.merged, self.gold_view):
            view.set_marks("review", marks)
        self._show_panel(groups[self.current] if groups else None)
        if groups and groups[self.current].end > 0:
            shown = self._shown()
            group = groups[self.current]
            shown.set_selection_range(group.start, group.start)
            shown.ensureCursorVisible()

    def _show_panel(self, group: Group | None) -> None:
        review = self.review
        assert review is not None
        total, resolved = len(review.groups), review.resolved
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(resolved if total else 1)
        self.resolved_line.setText(
            self.tr("{resolved} of {total} disagreements resolved").format(
                resolved=resolved, total=total
            )
        )
        agreed = len(review.agreed)
        if review.agreed_accepted:
            text = self.tr("{count} agreed items · accepted into gold ✓")
        else:
            text = self.tr("{count} agreed items · not yet in gold")
        self.agreed_line.setText(text.format(count=agreed))
        self.versions.set_group(group, self.merged.text, self.project.schema)
        self._fit_versions()
        if group is None:
            self.heading.setText(self.tr("No disagreement"))
            self.excerpt.setText(self.tr("The annotators agree on this document."))
            self.gold_line.clear()
            return
        self.heading.setText(
            self.tr("Disagreement {n} of {total} · {what}").format(
                n=self.current + 1, total=total, what=group_title(group, self.project.schema)
            )
        )
        self.excerpt.setText(excerpt(self.merged.text, group))
        chosen = group.in_gold()
        if not group.resolved:
            gold = self.tr("Gold: not decided")
        elif chosen is not None:
            gold = self.tr("Gold: {name}'s version").format(name=chosen.annotator)
        else:
            shown = describe(group.gold, self.merged.text, self.project.schema)
            gold = self.tr("Gold: edited · {items}").format(items=shown)
        self.gold_line.setText(gold)

    def _fit_versions(self) -> None:
        """The version list as tall as its lines (the panel's room goes to what follows)."""
        view = self.version_list
        rows = self.versions.rowCount()
        lines = sum(view.sizeHintForRow(row) + 2 * view.spacing() for row in range(rows))
        view.setFixedHeight(max(lines, view.fontMetrics().height()) + 2 * view.frameWidth() + 4)

    # -- adjudication --------------------------------------------------------------------
    def take(self, number: int) -> None:
        """Gold takes annotator ``number``'s version of the current disagreement."""
        if self.review is None or self.current < 0:
            return
        group = self.review.groups[self.current]
        if group.version(number) is None:
            self.message.setText(self.tr("No version {n} here.").format(n=number))
            return
        layer_id = self._gold_layer()
        if layer_id is not None and self._push(
            TakeVersion(layer_id, self.review, group.key, number)
        ):
            self._next_unresolved()

    def accept_agreed(self) -> None:
        if self.review is None:
            return
        layer_id = self._gold_layer()
        if layer_id is not None:
            self._push(AcceptAgreed(layer_id, self.review))

    def _gold_layer(self) -> int | None:
        """Gold's layer of the open document, created on first use; None when refused (not
        a reviewer in team mode, read-only, database unavailable, or another reviewer
        created gold since this screen was read)."""
        assert self.review is not None
        try:
            if self._seen is None and self._read_seen() is not None:
                self._stale()
                return None
            layer_id = gold_layer(self.store, self.review.document_id)
            if self._seen is None:
                self._seen = self._read_seen()
            return layer_id
        except FAILURES as error:
            self.message.setText(self.tr("Not saved: {reason}").format(reason=error))
            return None

    def _next_unresolved(self) -> None:
        assert self.review is not None
        groups = self.review.groups
        following = [*range(self.current + 1, len(groups)), *range(self.current + 1)]
        found = next((i for i in following if not groups[i].resolved), None)
        if found is not None:
            self.show_group(found)
        elif not self.review.agreed_accepted and self.review.agreed:
            self.message.setText(
                self.tr("Every disagreement is resolved: Ctrl+Shift+A accepts the agreed items.")
            )
        else:
            self.message.setText(self.tr("This document is adjudicated. J goes on to the next."))

    def _push(self, command: Command) -> bool:
        failed: list[Exception] = []
        self.undo_stack.push(
            CommandUndo(self.store, command, self.refresh, failed.append, self._gold_seen)
        )
        if failed and isinstance(failed[0], StaleLayerError):
            self._stale()
        elif failed:
            self.message.setText(self.tr("Not saved: {reason}").format(reason=failed[0]))
        return not failed

    def _gold_seen(self) -> LayerVersion | None:
        """The version of gold's layer this screen shows: read with the review, or when the
        first adjudication of the document has just created the layer."""
        return self._seen

    def _stale(self) -> None:
        """Another reviewer changed gold: nothing was written; show the fresh state."""
        self.refresh()
        self.message.setText(
            self.tr("Not saved: another reviewer changed gold; it is reloaded, try again.")
        )

    def _read_seen(self) -> LayerVersion | None:
        if self.review is None:
            return None
        layer = find_layer(self.store, self.review.document_id, self.gold_id)
        return LayerVersion(layer.id, layer.version) if layer else None

    def _shown(self) -> DocumentView:
        return self.gold_view if self.stack.currentWidget() is self.gold_view else self.merged

    def set_editing_gold(self, editing: bool) -> None:
        """Show gold's layer in the editable document view, or the merged view."""
        self.stack.setCurrentWidget(self.gold_view if editing else self.merged)
        for action in self.take_actions:
            action.setEnabled(not editing)  # digits are label keys while editing gold
        if self.review is not None and self.current >= 0:
            self.show_group(self.current)
        self._shown().setFocus()
