"""Pre-annotation that learns, in the main window: the Model menu (Fine-tune…, Learning
Settings…, Refresh Pre-annotation), a background refresh of the next documents whenever
the analyst marks a document done, the learned layer of a document brought up to date
before it is first opened, and tooltips saying why a span was pre-annotated as it is.

Everything here drives ``models.learning`` / ``models.refresh`` / ``models.training``
jobs through ``gui.workers.JobWorker`` (progress and Cancel in the status bar).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QInputDialog,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from gui.workers import JobWorker
from models.commands import Changes
from models.db import UnavailableError
from models.layers import EntitySpan, find_layer, model_annotator_id
from models.learning import (
    Learner,
    LearningSettings,
    RefreshReport,
    current_learner,
    explain,
    learning_settings,
    raw_name,
    raw_spans,
    set_learning,
)
from models.refresh import ensure_current, refresh, refresh_near
from models.store import ProjectInfo, Store
from models.training import MODEL_SETTING, TrainReport, train

if TYPE_CHECKING:
    from gui.main_window import MainWindow


class LearningSettingsDialog(QDialog):
    """Turn each source of learned pre-annotation on or off for the project."""

    def __init__(self, project: ProjectInfo, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle(self.tr("Learning Settings"))
        current = self._current = learning_settings(project)
        self.rules = QCheckBox(self.tr("Apply the schema's guideline &rules"), self)
        self.memory = QCheckBox(self.tr("Learn from &corrections (correction memory)"), self)
        self.finetuned = QCheckBox(self.tr("Pre-annotate with the &fine-tuned model"), self)
        model = project.settings.get(MODEL_SETTING, {}).get("name")
        self.finetuned.setEnabled(model is not None)
        self.finetuned.setToolTip(model or self.tr("No fine-tuned model yet: Model ▸ Fine-tune…"))
        for box, on in ((self.rules, current.rules), (self.memory, current.memory)):
            box.setChecked(on)
        self.finetuned.setChecked(current.finetuned and model is not None)
        note = QLabel(
            self.tr("Changes apply to documents no analyst has opened yet."), self, wordWrap=True
        )
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Ok | QDialogButtonBox.StandardButton.Cancel, self
        )
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        for widget in (self.rules, self.memory, self.finetuned, note, buttons):
            layout.addWidget(widget)

    def settings(self) -> LearningSettings:
        finetuned = self.finetuned.isChecked() if self.finetuned.isEnabled() else None
        return LearningSettings(
            self.rules.isChecked(),
            self.memory.isChecked(),
            self._current.finetuned if finetuned is None else finetuned,
        )


class LearningController(QObject):
    """The main window's learning features; ``MainWindow`` creates one after its menus.

    One refresh job at a time: after a "done", ``refresh`` learns the correction and
    derives the next documents of the queue; ``refresh_all`` (the menu, new settings) every
    stale one. A refresh asked for while one runs supersedes it (a pass over the corpus is
    finished first). ``learner`` is the one the last refresh derived with: ``prepare``
    derives with it the learned layer of a document about to be seeded from it."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        self.refreshing: JobWorker | None = None
        self.training: JobWorker | None = None
        self.learner: Learner | None = None
        self._full = False  # the running refresh is a pass over the corpus
        self._pending: bool | None = None  # a refresh to run next (True: a full one)
        menu = window.menuBar().addMenu(self.tr("&Model"))
        self.train_action = window._action(self.tr("&Fine-tune…"), self.ask_training)
        self.refresh_action = window._action(self.tr("&Refresh Pre-annotation"), self.refresh_all)
        self.settings_action = window._action(self.tr("Learning &Settings…"), self.edit_settings)
        menu.addActions([self.train_action, self.refresh_action, self.settings_action])
        window.editor.changed.connect(self._changed)
        window.view.reason = self.reason

    @property
    def store(self) -> Store:
        return self.window.store

    def project_changed(self) -> None:
        """Read the project's settings again (the model annotator may have changed)."""
        project = self.store.project(self.window.project.name)
        if project is not None:
            self.window.project = project

    # -- refresh after corrections --------------------------------------------------------
    def _changed(self, changes: Changes) -> None:
        if not changes.status:
            return
        document_id = self.window.document_id
        try:
            layer = (
                find_layer(self.store, document_id, self.window.annotator_id)
                if document_id
                else None
            )
        except UnavailableError:  # the main window says so; the next "done" refreshes
            return
        if layer is not None and layer.status == "done":
            self.refresh()

    def prepare(self, document_id: int) -> None:
        """Before the analyst's layer of the document is seeded: derive its learned layer
        if it may be stale. Without a learner yet, start a refresh that makes one."""
        if self.learner is not None:
            ensure_current(self.store, self.window.project, self.learner, document_id)
        elif self.refreshing is None and self._learns():
            self.refresh()

    def _learns(self) -> bool:
        """Whether the project's model annotator is a learned one."""
        model = self.window.project.model_annotator
        return raw_name(model) != model

    def refresh(self) -> JobWorker | None:
        """Learn the new corrections and derive the next documents of the queue."""
        return self._refresh(full=False)

    def refresh_all(self) -> JobWorker | None:
        """Derive every stale learned layer of the documents no analyst has opened."""
        return self._refresh(full=True)

    def _refresh(self, *, full: bool) -> JobWorker | None:
        if self.refreshing is not None:
            if not self._full:  # superseded: the next one learns more
                self._pending = full or bool(self._pending)
                self.refreshing.cancel()
            elif not full and self._pending is None:  # a done during a pass: after it
                self._pending = False
            return None
        self.project_changed()
        project, window = self.window.project, self.window
        job = (
            refresh(self.store, project, learner=self.learner)
            if full
            else refresh_near(
                self.store, project, window.position, learner=self.learner, queue=window.queue
            )
        )
        worker = JobWorker(job, "refresh")
        self.refreshing, self._full = worker, full
        worker.signals.finished.connect(self._refreshed)
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(self._refresh_ended)
        return self.window._start(worker, self.tr("Learning from corrections"), quiet=not full)

    def _refreshed(self, report: RefreshReport) -> None:
        self.learner = report.learner
        self.project_changed()
        self.window.model_id = model_annotator_id(self.store, self.window.project.model_annotator)
        self.window.model.refresh()
        text = self.tr("Pre-annotation refreshed: {documents} documents, {forms} forms learned.")
        self.window.statusBar().showMessage(
            text.format(documents=report.documents, forms=report.forms), 8000
        )

    def _refresh_ended(self, *_: Any) -> None:
        self.refreshing = None
        pending, self._pending = self._pending, None
        if pending is not None and self.window.isVisible():  # not once the window closed
            self._refresh(full=pending)

    # -- fine-tuning ------------------------------------------------------------------------
    def ask_training(self) -> None:
        epochs, ok = QInputDialog.getInt(
            self.window, self.tr("Fine-tune"), self.tr("Epochs over the done documents:"), 3, 1, 50
        )
        if ok:
            self.start_training(epochs)

    def start_training(self, epochs: int) -> JobWorker:
        """Fine-tune the NER on the done layers in the background (Cancel stops it)."""
        if self.training is not None:
            return self.training
        worker = JobWorker(train(self.store, self.window.project, epochs=epochs), "train")
        self.training = worker
        self.train_action.setEnabled(False)
        worker.signals.finished.connect(self._trained)
        for signal in (worker.signals.finished, worker.signals.failed, worker.signals.cancelled):
            signal.connect(self._training_ended)
        return self.window._start(worker, self.tr("Fine-tuning"))

    def _trained(self, report: TrainReport) -> None:
        self.project_changed()
        text = self.tr("{name} trained on {documents} documents: pre-annotate to use it.")
        message = text.format(name=report.name, documents=report.documents)
        self.window.statusBar().showMessage(message, 10000)

    def _training_ended(self, *_: Any) -> None:
        self.training = None
        self.train_action.setEnabled(True)

    # -- settings and tooltips --------------------------------------------------------------
    def edit_settings(self) -> LearningSettingsDialog:
        dialog = LearningSettingsDialog(self.window.project, self.window)
        dialog.accepted.connect(lambda: self.apply_settings(dialog.settings()))
        dialog.open()
        return dialog

    def apply_settings(self, settings: LearningSettings) -> None:
        set_learning(self.store, self.window.project.id, settings)
        self.refresh_all()  # every learned layer is stale: a pass the analyst can cancel

    def reason(self, span: EntitySpan) -> str | None:
        """Why the span under the mouse was pre-annotated so (memory or rules), if it was."""
        document_id = self.window.document_id
        if document_id is None or span.origin not in ("pattern", "model"):
            return None
        project = self.window.project
        if self.learner is None:
            self.learner = current_learner(self.store, project, None)
        text = self.store.document(document_id).text
        placed = (span.start, span.end, span.label, span.origin)
        return explain(self.learner, text, placed, raw_spans(self.store, project, document_id))
