"""The main window: document list, the article with its entities, label palette, status bar.

It wires the pieces together and owns the document flow (open, done → next not done,
previous/next), the time spent on each document, and the background jobs.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import Qt, QTimer
from PySide6.QtGui import QAction, QCloseEvent, QUndoStack
from PySide6.QtWidgets import (
    QApplication,
    QDockWidget,
    QFileDialog,
    QFrame,
    QLabel,
    QMainWindow,
    QMessageBox,
    QScrollArea,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from gui.connection import ConnectionState
from gui.document_table import DocumentList, DocumentTableModel
from gui.document_view import DocumentView
from gui.editor import DocumentEditor
from gui.export_dialog import ExportDialog
from gui.key_sequence import KeySequencer
from gui.keymap import KeymapOverlay, shortcuts
from gui.learning_settings import LearningController
from gui.panels.events import EventsPanel
from gui.panels.labels import LabelPanel
from gui.panels.legend import SchemaLegend
from gui.panels.stance import StancePanel
from gui.review_view import ReviewView
from gui.search_panel import MatchMarks, SearchPanel
from gui.settings import Settings
from gui.workers import JobProgress, JobWorker
from models.commands import Changes
from models.db import UnavailableError
from models.job_process import apart
from models.jobs import Job
from models.layers import add_time, find_layer, model_annotator_id
from models.merge import MergeReport, merge_file
from models.preannotate import PreannotateReport
from models.queues import Queue, QueueError, join, queue_for
from models.records import Progress
from models.store import ProjectInfo, Store
from models.transfer import ImportReport

if TYPE_CHECKING:  # matplotlib (90 MB, half a second) loads with the first dashboard
    from gui.dashboard import AgreementDashboard

DEFAULT_SIZE = (1400, 900)  # at most; smaller screens get 94 % of their size
LIST_WIDTH, SIDE_WIDTH = 380, 340  # the document list and the side panels, in a wide window
LIST_MIN = 280  # the list's titles still show beside its status, entities and stance
TEXT_WIDTH = 660  # the article's reading column (78 characters) and a margin
NARROW = 1000  # a first window narrower than this hides the document list (Ctrl+L shows it)
TIME_FLUSH_SECONDS = 30
REPORT_LINES = 12  # refused files listed in the import report (all of them under details)
REFRESH_SECONDS = 1.0  # at most one list refresh a second while pre-annotation runs


def default_split(width: int) -> list[int]:
    """Widths of the document list, the text and the side panels in a window ``width``
    wide: the side panels keep their 340 px (the stance buttons need them); the list takes
    what the article's reading column leaves, from 280 to 380 px (narrower, its titles
    would not show beside the status, entities and stance columns)."""
    listed = min(LIST_WIDTH, max(LIST_MIN, width - SIDE_WIDTH - TEXT_WIDTH))
    return [listed, max(width - listed - SIDE_WIDTH, 0), SIDE_WIDTH]


def preannotation_job(store: Store, project: ProjectInfo) -> Job[PreannotateReport]:
    """Pre-annotation in a child process (``models.job_process``: spaCy's memory and its
    Python work stay out of the window's process) when the database can be opened there;
    else on a thread of this one."""
    return apart("models.refresh:preannotate_learning", PreannotateReport, store, project)


class MainWindow(QMainWindow):
    def __init__(
        self,
        store: Store,
        project: ProjectInfo,
        annotator: str,
        settings: Settings,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.project, self.settings = store, project, settings
        self.annotator = annotator
        # team mode: the session may change only the annotator's own layers (models.access)
        self.annotator_id = (
            store.sign_in(annotator).annotator_id
            if store.team
            else store.annotator_id(annotator, "human")
        )
        self.queue = self._join_queue()
        self.merge_report: QMessageBox | None = None
        self.workers: list[JobWorker] = []
        self.preannotation: JobWorker | None = None
        self.import_report: QMessageBox | None = None
        self.dashboard: AgreementDashboard | None = None
        self.review: ReviewView | None = None
        self.position = -1  # corpus position of the open document
        self.model_id: int | None = None  # the model annotator, once pre-annotation created it
        self._seconds_before = 0.0  # time stored on the layer when the document was opened
        self._opened_at = self._flushed_at = self._flush_tried_at = time.monotonic()
        self._last_refresh = 0.0
        self.setWindowTitle(self.tr("Glose — {project}").format(project=project.name))

        self.undo_stack = QUndoStack(self)
        self.view = DocumentView(self)
        self.editor = DocumentEditor(store, self.view, self.undo_stack, self)
        self.model = DocumentTableModel(
            store,
            project.id,
            self.annotator_id,
            parent=self,
            schema=project.schema,
            queue=self.queue,
        )
        self.labels = LabelPanel(project.schema, self)
        self.stance = StancePanel(project.schema, self.editor, self.view, self)
        self.events = EventsPanel(project.schema, self.editor, self.view, self)
        self.sequencer = KeySequencer(
            {
                "s": self.stance.key_step(),
                "e": self.events.key_step(),
                "a": lambda: self.events.review(True),
                "r": lambda: self.events.review(False),
            },
            self,
        )
        self.sequencer.watch(self.view)
        self.sequencer.watch(self.events.tree)
        self.legend: SchemaLegend | None = None
        self.overlay = KeymapOverlay(project.schema, self)
        self._build_layout()
        self._build_status_bar()
        self._build_search()
        self._build_menus()
        self.learning = LearningController(self)
        self._connect()
        self._restore()
        self.clock = QTimer(self)
        self.clock.setInterval(1000)
        self.clock.timeout.connect(self._tick)
        self.clock.start()
        self.update_progress()
        first = store.next_document(project.id, self.annotator_id, -1, self.queue)
        if first is None and self.model.rowCount():
            first = self.model.document_row(0).id
        if first is not None:
            self.open_document(first)

    # -- construction --------------------------------------------------------------------
    def _build_layout(self) -> None:
        self.documents = DocumentList(self.model, self)
        right = QWidget()
        right_layout = QVBoxLayout(right)
        right_layout.setContentsMargins(4, 8, 8, 8)
        right_layout.setSpacing(8)
        for panel in (self.labels, self.stance, self.events):
            if panel is not self.labels:
                rule = QFrame()
                rule.setFrameShape(QFrame.Shape.HLine)
                rule.setFrameShadow(QFrame.Shadow.Sunken)
                right_layout.addWidget(rule)
            right_layout.addWidget(panel, 1 if panel is self.events else 0)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.documents)
        self.splitter.addWidget(self.view)
        side = QScrollArea()  # the panels scroll on small screens instead of growing the window
        side.setWidget(right)
        side.setWidgetResizable(True)
        side.setFrameShape(QFrame.Shape.NoFrame)
        side.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        self.splitter.addWidget(side)
        self.splitter.setStretchFactor(1, 1)
        self.splitter.setCollapsible(1, False)
        self.setCentralWidget(self.splitter)

    def _build_status_bar(self) -> None:
        self.annotator_label = QLabel(self.tr("Annotator: {name}").format(name=self.annotator))
        self.progress_label = QLabel()
        self.time_label = QLabel()
        self.save_label = QLabel()
        bar = self.statusBar()
        bar.setStyleSheet("QStatusBar::item { border: none; }")
        self.sequence_label = QLabel()
        self.sequence_label.setStyleSheet(
            "background: #fff4d6; border: 1px solid #e0a800; border-radius: 4px;"
            " padding: 1px 8px; font-weight: 600;"
        )
        self.sequence_label.hide()
        bar.addWidget(self.sequence_label)
        labels = (self.annotator_label, self.progress_label, self.time_label, self.save_label)
        for index, label in enumerate(labels):
            if index:
                separator = QFrame()
                separator.setFrameShape(QFrame.Shape.VLine)
                separator.setFrameShadow(QFrame.Shadow.Sunken)
                bar.addPermanentWidget(separator)
            label.setContentsMargins(6, 0, 6, 0)
            bar.addPermanentWidget(label)
        self.connection_state = ConnectionState(self.store, self.editor, self)
        bar.addPermanentWidget(self.connection_state)

    def _build_menus(self) -> None:
        file_menu = self.menuBar().addMenu(self.tr("&File"))
        self.import_files_action = self._action(
            self.tr("&Import Files…"), self.choose_files, "import"
        )
        self.import_folder_action = self._action(self.tr("Import &Folder…"), self.choose_folder)
        self.preannotate_action = self._action(self.tr("&Pre-annotate"), self.start_preannotation)
        file_menu.addActions([self.import_files_action, self.import_folder_action])
        self.import_annotations_action = self._action(
            self.tr("Import &Annotations…"), self.choose_annotated_file
        )
        self.export_action = self._action(self.tr("&Export…"), self.show_export)
        file_menu.addActions([self.import_annotations_action, self.export_action])
        self.merge_action = self._action(self.tr("&Merge…"), self.choose_merge)
        file_menu.addAction(self.merge_action)
        file_menu.addSeparator()
        file_menu.addAction(self.preannotate_action)
        file_menu.addSeparator()
        file_menu.addAction(self._action(self.tr("&Quit"), self.close, "quit"))
        edit_menu = self.menuBar().addMenu(self.tr("&Edit"))
        self.undo_action = self.undo_stack.createUndoAction(self, self.tr("&Undo"))
        self.undo_action.setShortcuts(shortcuts("undo"))
        self.redo_action = self.undo_stack.createRedoAction(self, self.tr("&Redo"))
        self.redo_action.setShortcuts(shortcuts("redo"))
        self.addActions([self.undo_action, self.redo_action])
        edit_menu.addActions([self.undo_action, self.redo_action])
        edit_menu.addSeparator()
        search = self._action(self.tr("&Filter Documents"), self.filter_documents, "search")
        edit_menu.addAction(search)
        for text, slot, keys in (
            (self.tr("Search the &Corpus…"), self.show_search, "corpus_search"),
            (self.tr("Find &Next"), lambda: self.step_match(1), "next_match"),
            (self.tr("Find &Previous"), lambda: self.step_match(-1), "previous_match"),
        ):
            edit_menu.addAction(self._action(text, slot, keys))
        annotate = self.menuBar().addMenu(self.tr("&Annotate"))
        self.evidence_action = self._action(
            self.tr("Show Stance &Evidence"), self.stance.toggle.toggle, "show_evidence"
        )
        self.evidence_action.setCheckable(True)
        self.stance.evidenceShown.connect(self.evidence_action.setChecked)
        annotate.addAction(self.evidence_action)
        annotate.addSeparator()
        for text, slot, keys in (
            (self.tr("&Next Event"), lambda: self.events.step_event(1), "next_event"),
            (self.tr("&Previous Event"), lambda: self.events.step_event(-1), "previous_event"),
            (self.tr("Next &Role"), lambda: self.events.step_role(1), "next_role"),
            (self.tr("Previous R&ole"), lambda: self.events.step_role(-1), "previous_role"),
        ):
            annotate.addAction(self._action(text, slot, keys))
        self.view_menu = self.menuBar().addMenu(self.tr("&View"))
        self.list_action = self._action(
            self.tr("Document &List"),
            lambda: self.show_document_list(self.documents.isHidden()),
            "document_list",
        )
        self.list_action.setCheckable(True)
        self.list_action.setChecked(True)
        self.view_menu.addAction(self.list_action)
        self.dashboard_action = self._action(self.tr("&Agreement Dashboard"), self.show_dashboard)
        self.view_menu.addAction(self.dashboard_action)
        self.review_action = self._action(self.tr("&Review Mode"), self.show_review, "review_mode")
        self.view_menu.addAction(self.review_action)
        help_menu = self.menuBar().addMenu(self.tr("&Help"))
        help_menu.addAction(
            self._action(self.tr("&Keyboard Shortcuts"), self.overlay.popup, "shortcuts")
        )
        help_menu.addAction(self._action(self.tr("Schema &Legend"), self.show_legend, "legend"))

    def _build_search(self) -> None:
        """The corpus search dock (hidden until Ctrl+Shift+F) and its marks in the view."""
        self.search_panel = SearchPanel(self.store, self.project.id, self)
        self.search_dock = QDockWidget(self.tr("Search"), self)
        self.search_dock.setObjectName("searchDock")
        self.search_dock.setWidget(self.search_panel)
        self.addDockWidget(Qt.DockWidgetArea.LeftDockWidgetArea, self.search_dock)
        self.search_dock.hide()
        self.matches = MatchMarks(self.view, self)
        self.search_panel.documentChosen.connect(self.open_hit)
        self.search_panel.queryChanged.connect(self.matches.set_query)
        self.search_panel.closeRequested.connect(self.close_search)
        self.search_dock.visibilityChanged.connect(self._search_shown)
        self.editor.loaded.connect(self.matches.refresh)

    def show_search(self) -> None:
        self.search_dock.show()
        self.search_dock.raise_()
        self.search_panel.focus()

    def close_search(self) -> None:
        self.search_dock.hide()
        self.view.setFocus()

    def _search_shown(self, visible: bool) -> None:
        """The matches are marked while the search is open."""
        self.matches.set_query(self.search_panel.query if visible else None)

    def open_hit(self, document_id: int) -> None:
        """Open a search hit with its matches marked, scrolled to the first."""
        self.open_document(document_id)
        if self.document_id == document_id:
            self.matches.refresh(reveal=True)
            self.view.setFocus()

    def step_match(self, step: int) -> None:
        if not self.matches.step(step):
            self.statusBar().showMessage(self.tr("No search match here (Ctrl+Shift+F)"), 4000)

    def _action(self, text: str, slot: Any, keys: str | None = None) -> QAction:
        """A window-wide action; ``keys`` names its shortcuts in the keymap."""
        action = QAction(text, self)
        if keys is not None:
            action.setShortcuts(shortcuts(keys))
        action.triggered.connect(lambda _checked=False: slot())
        self.addAction(action)
        return action

    def _connect(self) -> None:
        self.documents.documentChosen.connect(self.open_document)
        self.view.doneRequested.connect(self.done_and_next)
        self.view.navigateRequested.connect(self.navigate)
        self.labels.labelClicked.connect(self.editor.apply_label)
        self.editor.changed.connect(self._changed)
        self.editor.statusMessage.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.view.notice.connect(lambda text: self.statusBar().showMessage(text, 6000))
        self.sequencer.cancelled.connect(lambda text: self.statusBar().showMessage(text, 4000))
        self.sequencer.hintChanged.connect(self._sequence_hint)
        self.editor.saved.connect(self._saved)
        self.editor.saveFailed.connect(self._save_failed)
        self.model.unavailable.connect(self.unavailable)

    def _restore(self) -> None:
        geometry = self.settings.state("geometry")
        if geometry is None or not self.restoreGeometry(geometry):
            screen = self.screen().availableGeometry()
            width, height = DEFAULT_SIZE
            self.resize(
                min(width, int(screen.width() * 0.94)), min(height, int(screen.height() * 0.94))
            )
        splitter = self.settings.state("splitter")
        if splitter is None or not self.splitter.restoreState(splitter):
            self.splitter.setSizes(default_split(self.width()))
        shown = self.settings.shown("document_list")
        self.show_document_list(self.width() >= NARROW if shown is None else shown)

    # -- documents -----------------------------------------------------------------------
    def show_document_list(self, shown: bool) -> None:
        """Show or hide the document list (Ctrl+L): hidden, the text takes its width."""
        if not shown and self.documents.isAncestorOf(QApplication.focusWidget()):
            self.view.setFocus()
        self.documents.setVisible(shown)
        self.list_action.setChecked(shown)

    def filter_documents(self) -> None:
        """Ctrl+F: the document list's filter box, the list shown if it was hidden."""
        self.show_document_list(True)
        self.documents.focus_search()

    @property
    def document_id(self) -> int | None:
        return self.editor.document_id

    def open_document(self, document_id: int) -> None:
        """Show the document (the annotator's layer, seeded from the model's if first seen)."""
        if document_id == self.document_id:
            return
        self.flush_time()
        try:  # read first: with the database unavailable, the open document stays shown
            model_id = model_annotator_id(self.store, self.project.model_annotator)
            position = self.store.document(document_id).position
            layer = find_layer(self.store, document_id, self.annotator_id)
            if layer is None:  # to be seeded from the learned layer: bring it up to date
                self.learning.prepare(document_id)
            self.editor.load(document_id, self.annotator_id, self.project.schema, model_id)
        except UnavailableError as error:
            self.unavailable(str(error))
            if self.document_id is not None:
                self.documents.select(self.document_id, self.position)
            return
        self.model_id, self.position = model_id, position
        self._seconds_before = layer.seconds if layer else 0.0
        self._opened_at = self._flushed_at = time.monotonic()
        self.save_label.clear()
        self.documents.select(document_id, self.position)
        self._tick()
        self.view.setFocus()

    def done_and_next(self) -> None:
        """Mark the open document done and open the next one not done (Enter)."""
        current = self.document_id
        if current is None or not self.editor.mark_done():
            return
        self.model.refresh_row(current)
        self.update_progress()
        try:
            following = self.store.next_document(
                self.project.id, self.annotator_id, self.position, self.queue
            )
        except UnavailableError as error:
            self.unavailable(str(error))
            return
        if following is None or following == current:
            self.statusBar().showMessage(self.tr("Every document is done."), 8000)
            return
        self.open_document(following)

    def navigate(self, step: int) -> None:
        """Open the next (+1) or previous (-1) document in corpus order (PgDown/PgUp)."""
        if self.document_id is None:
            return
        try:
            neighbour = self.store.neighbour(self.project.id, self.position, step, self.queue)
        except UnavailableError as error:
            self.unavailable(str(error))
            return
        if neighbour is not None:
            self.open_document(neighbour)

    # -- status bar ----------------------------------------------------------------------
    def update_progress(self) -> None:
        try:
            done, total = self.store.progress(self.project.id, self.annotator_id, self.queue)
        except UnavailableError as error:
            self.unavailable(str(error))
            return
        self.progress_label.setText(self.tr("{done} / {total} done").format(done=done, total=total))

    def _changed(self, changes: Changes) -> None:
        """Refresh the list row when its columns may show the edit, the progress when the
        status changed (the count of done documents is the only one an edit changes)."""
        if self.document_id is not None and (
            changes.entities or changes.status or changes.doc_labels
        ):
            self.model.refresh_row(self.document_id)
        if changes.status:
            self.update_progress()

    def _sequence_hint(self, hint: str) -> None:
        """Show the pending key sequence's next choices (hidden when none is pending)."""
        self.statusBar().clearMessage()
        self.sequence_label.setText(hint)
        self.sequence_label.setVisible(bool(hint))

    def show_legend(self) -> None:
        if self.legend is None:
            self.legend = SchemaLegend(self.project.schema, self)
        self.legend.show()
        self.legend.raise_()

    def _saved(self) -> None:
        self.save_label.setStyleSheet("color: #2e7d32;")
        self.save_label.setText(self.tr("Saved ✓"))

    def unavailable(self, reason: str) -> None:
        """A read failed because the database is locked or the server away: say so; what is
        shown stays (and edits already saved stay saved)."""
        message = self.tr("Database unavailable, showing what was loaded: {reason}")
        self.statusBar().showMessage(message.format(reason=reason), 15000)

    def _save_failed(self, reason: str) -> None:
        self.save_label.setStyleSheet("color: #c62828; font-weight: 600;")
        self.save_label.setText(self.tr("Not saved ✗"))
        self.save_label.setToolTip(reason)

    def _tick(self) -> None:
        now = time.monotonic()
        seconds = int(self._seconds_before + now - self._opened_at)
        minutes, seconds = divmod(seconds, 60)
        clock = f"{minutes:02d}:{seconds:02d}"
        self.time_label.setText(self.tr("Time on document {clock}").format(clock=clock))
        if min(now - self._flushed_at, now - self._flush_tried_at) >= TIME_FLUSH_SECONDS:
            self.flush_time()

    def flush_time(self) -> None:
        """Add the time since the last flush to the open document's layer (once it has one);
        with the database unavailable the time is kept for the next flush."""
        layer_id = self.editor.layer_id
        if layer_id is None:
            return
        now = self._flush_tried_at = time.monotonic()
        try:
            add_time(self.store, layer_id, now - self._flushed_at)
        except UnavailableError as error:
            self.unavailable(str(error))
            return
        self._flushed_at = now

    # -- background jobs -----------------------------------------------------------------
    def _start(self, worker: JobWorker, title: str, *, quiet: bool = False) -> JobWorker:
        """Run ``worker`` with a progress line; a failure is a dialog, or with ``quiet`` (jobs
        the analyst did not ask for) a status bar message."""
        self.workers.append(worker)
        # first of the permanent widgets: after the bar's one other, the key sequence label
        self.statusBar().insertPermanentWidget(1, JobProgress(worker, title, self))
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(lambda *_: self._ended(worker))
        worker.signals.failed.connect(lambda reason: self._failed(title, reason, quiet))
        return worker.start()

    def _failed(self, title: str, reason: str, quiet: bool = False) -> None:
        message = self.tr("{title} failed: {reason}").format(title=title, reason=reason)
        if quiet:
            self.statusBar().showMessage(message, 15000)
        else:
            QMessageBox.warning(self, title, message)

    def _ended(self, worker: JobWorker) -> None:
        if worker in self.workers:
            self.workers.remove(worker)

    def start_preannotation(self) -> JobWorker:
        """Run spaCy over the documents without a model layer, in the background."""
        if self.preannotation is not None:
            return self.preannotation
        worker = JobWorker(preannotation_job(self.store, self.project), "preannotate")
        self.preannotation = worker
        self.preannotate_action.setEnabled(False)
        worker.signals.progress.connect(self._preannotation_progress)
        worker.signals.finished.connect(self._preannotation_finished)
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(self._preannotation_ended)
        return self._start(worker, self.tr("Pre-annotating"))

    def _preannotation_progress(self, _step: Progress) -> None:
        self.seed_open_document()
        now = time.monotonic()
        if now - self._last_refresh >= REFRESH_SECONDS:
            self._last_refresh = now
            self.model.refresh()

    def _preannotation_finished(self, report: PreannotateReport) -> None:
        self.learning.project_changed()  # its model annotator is now the learned one
        self.model_id = None  # seed_open_document looks it up again
        self.seed_open_document()
        self.model_id = model_annotator_id(self.store, self.project.model_annotator)
        self.model.refresh()
        text = self.tr("Pre-annotation finished: {entities} entities in {documents} documents.")
        message = text.format(entities=report.entities, documents=report.documents)
        self.statusBar().showMessage(message, 10000)

    def seed_open_document(self) -> None:
        """Show the model's entities on the open document once pre-annotation stored them.

        A document opened before the first run has no model annotator yet: it is loaded
        again (no edit can be lost: without a layer of its own nothing was edited).
        """
        document_id = self.document_id
        if document_id is None or self.editor.layer_id is not None:
            return
        try:
            if self.model_id is not None:
                self.editor.reload_if_unseeded()
                return
            self.model_id = model_annotator_id(self.store, self.project.model_annotator)
            if self.model_id is not None:
                scroll = self.view.verticalScrollBar().value()
                self.editor.load(document_id, self.annotator_id, self.project.schema, self.model_id)
                self.view.verticalScrollBar().setValue(scroll)
        except UnavailableError as error:
            self.unavailable(str(error))

    def _preannotation_ended(self, *_: object) -> None:
        self.preannotation = None
        self.preannotate_action.setEnabled(True)

    def show_dashboard(self) -> AgreementDashboard:
        """Open (or bring forward) the agreement dashboard and compute agreement afresh."""
        if self.dashboard is None:
            from gui.dashboard import AgreementDashboard

            self.dashboard = AgreementDashboard(self.store, self.project, self, self._start)
        self.dashboard.show()
        self.dashboard.raise_()
        self.dashboard.activateWindow()
        self.dashboard.refresh()
        return self.dashboard

    def show_review(self) -> ReviewView:
        """Open (or bring forward) review mode in its own window, its queue compared afresh."""
        if self.review is None:
            self.review = ReviewView(self.store, self.project, parent=self)
            self.review.setWindowFlag(Qt.WindowType.Window)
            self.review.resize(self.size())
        self.review.show()
        self.review.raise_()
        self.review.activateWindow()
        self.review.refresh_queue()
        return self.review

    def choose_files(self) -> None:
        paths, _filter = QFileDialog.getOpenFileNames(
            self, self.tr("Import texts"), "", self.tr("Text files (*.txt);;All files (*)")
        )
        if paths:
            self.import_paths([Path(path) for path in paths])

    def choose_folder(self) -> None:
        folder = QFileDialog.getExistingDirectory(self, self.tr("Import a folder of texts"))
        if folder:
            self.import_paths([Path(folder)])

    def choose_annotated_file(self) -> None:
        formats = self.tr("Annotated files (*.jsonl *.json *.conll *.iob *.spacy);;All files (*)")
        path, _filter = QFileDialog.getOpenFileName(
            self, self.tr("Import annotations"), "", formats
        )
        if path:
            self.import_annotations(Path(path))

    def import_annotations(self, path: Path) -> JobWorker:
        """Import a structured file (format by extension and content), each record into its
        own annotator's layer; a file with an invalid record imports nothing."""
        target = "models.transfer:import_file_of"
        job = apart(target, ImportReport, self.store, self.project, path=str(path.resolve()))
        worker = JobWorker(job, "import")
        worker.signals.finished.connect(self._import_finished)
        return self._start(worker, self.tr("Importing"))

    def show_export(self) -> ExportDialog:
        """File ▸ Export…: the dialog runs the export in the background."""
        self.flush_time()
        dialog = ExportDialog(self.store, self.project, self.annotator, self)
        dialog.open()
        return dialog

    def _join_queue(self) -> Queue | None:
        """Put the annotator on the project's roster; their queue (None: every document)."""
        try:
            if not self.store.read_only:  # a read-only database shows the queue as it is
                join(self.store, self.project.id, [self.annotator])
        except QueueError:  # the name belongs to a model or gold annotator: no queue
            return None
        return queue_for(self.store, self.project.id, self.annotator)

    def choose_merge(self) -> None:
        path, _filter = QFileDialog.getOpenFileName(
            self,
            self.tr("Merge another database"),
            "",
            self.tr("Glose databases (*.sqlite *.db);;All files (*)"),
        )
        if path:
            self.merge_path(path)

    def merge_path(self, path: str) -> JobWorker:
        """File ▸ Merge…: bring another database's layers of this corpus in, in the
        background, then show what was merged and what could not be placed."""
        self.flush_time()
        worker = JobWorker(merge_file(self.store, self.project, path), "merge")
        worker.signals.finished.connect(self._merge_finished)
        return self._start(worker, self.tr("Merging"))

    def _merge_finished(self, report: MergeReport) -> None:
        self.model.refresh()
        self.update_progress()
        if report.changes and self.document_id is not None:
            self.editor.load(
                self.document_id, self.annotator_id, self.project.schema, self.model_id
            )
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Merge"))
        text = self.tr(
            "{added} layer(s) added, {replaced} replaced, {unchanged} unchanged, "
            "{documents} document(s) added."
        )
        box.setText(
            text.format(
                added=report.added,
                replaced=report.replaced,
                unchanged=report.unchanged + report.times,
                documents=report.documents_added,
            )
        )
        unplaced = report.unplaced
        box.setIcon(QMessageBox.Icon.Warning if unplaced else QMessageBox.Icon.Information)
        heading = self.tr("{count} item(s) could not be merged:").format(count=len(unplaced))
        lines = [heading, *unplaced[:REPORT_LINES]] if unplaced else []
        if len(unplaced) > REPORT_LINES:
            more = self.tr("… and {count} more (see Show Details)")
            lines.append(more.format(count=len(unplaced) - REPORT_LINES))
        box.setInformativeText("\n".join([*lines, report.summary()]))
        box.setDetailedText("\n".join(unplaced))
        self.merge_report = box
        box.open()

    def import_paths(self, paths: list[Path]) -> JobWorker:
        """Import .txt files and folders in the background, then show what was refused."""
        folders = [str(path.resolve()) for path in paths]
        job = apart(
            "models.transfer:import_texts_of", ImportReport, self.store, self.project, paths=folders
        )
        worker = JobWorker(job, "import")
        worker.signals.finished.connect(self._import_finished)
        return self._start(worker, self.tr("Importing"))

    def _import_finished(self, report: ImportReport) -> None:
        self.model.refresh()
        self.update_progress()
        if self.document_id is None and self.model.rowCount():
            self.open_document(self.model.document_row(0).id)
        box = QMessageBox(self)
        box.setWindowTitle(self.tr("Import"))
        text = self.tr("{added} document(s) imported, {duplicates} already there.")
        box.setText(text.format(added=report.added, duplicates=report.duplicates))
        box.setIcon(QMessageBox.Icon.Warning if report.problems else QMessageBox.Icon.Information)
        if report.problems:
            refused = [str(problem) for problem in report.problems]
            lines = refused[:REPORT_LINES]
            if len(refused) > REPORT_LINES:
                more = self.tr("… and {count} more (see Show Details)")
                lines.append(more.format(count=len(refused) - REPORT_LINES))
                box.setDetailedText("\n".join(refused))
            heading = self.tr("{count} file(s) refused:").format(count=len(refused))
            box.setInformativeText("\n".join([heading, *lines]))
        self.import_report = box
        box.open()

    # -- closing -------------------------------------------------------------------------
    def closeEvent(self, event: QCloseEvent) -> None:
        self.flush_time()
        self.settings.set_state("geometry", self.saveGeometry())
        self.settings.set_state("splitter", self.splitter.saveState())
        self.settings.set_shown("document_list", not self.documents.isHidden())
        for worker in list(self.workers):
            worker.cancel()
        for worker in list(self.workers):
            worker.wait(60)
        self.search_panel.stop()
        super().closeEvent(event)
