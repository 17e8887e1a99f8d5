"""File ▸ Export…: one annotator's layers to a training-data format, in the background.

The dialog only gathers the choices (format, source annotator, status, spaCy split, output
path) and runs ``models.transfer.export`` as a ``JobWorker``: progress, Cancel between two
pages, then the report (documents written, the writer's warnings) in the dialog.
"""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPlainTextEdit,
    QProgressBar,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from gui.workers import JobWorker
from models.formats import FORMATS
from models.records import Progress
from models.store import ProjectInfo, Store
from models.transfer import GOLD, ExportReport, export

SPACY = "spacy"


class ExportDialog(QDialog):
    exportEnded = Signal(str)  # the report shown: written, failed or cancelled

    def __init__(
        self,
        store: Store,
        project: ProjectInfo,
        source: str | None = None,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.project = store, project
        self.worker: JobWorker | None = None
        self.report: ExportReport | None = None
        self.setWindowTitle(self.tr("Export annotations"))
        self.format = QComboBox(self)
        for spec in FORMATS.values():
            self.format.addItem(f"{spec.name} — {spec.description}", spec.name)
        self.source = QComboBox(self)
        for name, kind in store.annotators():
            self.source.addItem(f"{name} ({kind})", name)
        if self.source.findData(GOLD) < 0:
            self.source.addItem(f"{GOLD} (gold)", GOLD)
        if source is not None and self.source.findData(source) >= 0:
            self.source.setCurrentIndex(self.source.findData(source))
        self.status = QComboBox(self)
        self.status.addItem(self.tr("Documents marked done"), "done")
        self.status.addItem(self.tr("Every document"), "any")
        self.dev_fraction = QDoubleSpinBox(self)
        self.dev_fraction.setRange(0.0, 1.0)
        self.dev_fraction.setSingleStep(0.05)
        self.dev_fraction.setValue(0.2)
        self.seed = QSpinBox(self)
        self.seed.setRange(0, 2**31 - 1)
        self.path = QLineEdit(self)
        self.path.setPlaceholderText(self.tr("Where to write the export"))
        browse = QPushButton(self.tr("Browse…"), self)
        browse.clicked.connect(self.choose_path)
        path_row = QHBoxLayout()
        path_row.addWidget(self.path, 1)
        path_row.addWidget(browse)
        form = QFormLayout()
        form.addRow(self.tr("Format"), self.format)
        form.addRow(self.tr("Annotations of"), self.source)
        form.addRow(self.tr("Documents"), self.status)
        form.addRow(self.tr("Dev fraction (spaCy)"), self.dev_fraction)
        form.addRow(self.tr("Split seed (spaCy)"), self.seed)
        form.addRow(self.tr("Output"), path_row)
        self.progress = QProgressBar(self)
        self.progress.setVisible(False)
        self.output = QPlainTextEdit(self)
        self.output.setReadOnly(True)
        self.output.setVisible(False)
        self.buttons = QDialogButtonBox(self)
        self.export_button = self.buttons.addButton(
            self.tr("Export"), QDialogButtonBox.ButtonRole.AcceptRole
        )
        self.close_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Close)
        self.cancel_button = self.buttons.addButton(QDialogButtonBox.StandardButton.Cancel)
        self.cancel_button.setVisible(False)
        self.export_button.clicked.connect(self.start)
        self.cancel_button.clicked.connect(self.cancel)
        self.close_button.clicked.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(self.progress)
        layout.addWidget(self.output)
        layout.addWidget(self.buttons)
        self.format.currentIndexChanged.connect(self._format_changed)
        self.path.textChanged.connect(self._update_buttons)
        self._format_changed()
        self.resize(560, self.sizeHint().height())

    @property
    def format_name(self) -> str:
        return str(self.format.currentData())

    def _format_changed(self) -> None:
        spacy = self.format_name == SPACY
        self.dev_fraction.setEnabled(spacy)
        self.seed.setEnabled(spacy)
        text = self.path.text().strip()
        if text:  # keep the place, fit the name to the format (a folder for spaCy)
            path = Path(text)
            extensions = FORMATS[self.format_name].extensions
            self.path.setText(str(path.with_suffix("" if spacy else extensions[0])))
        self._update_buttons()

    def _update_buttons(self) -> None:
        running = self.worker is not None
        self.export_button.setEnabled(not running and bool(self.path.text().strip()))
        self.cancel_button.setVisible(running)
        self.close_button.setVisible(not running)

    def choose_path(self) -> None:
        if self.format_name == SPACY:
            chosen = QFileDialog.getExistingDirectory(self, self.tr("Folder of the spaCy files"))
        else:
            spec = FORMATS[self.format_name]
            patterns = " ".join(f"*{ext}" for ext in spec.extensions)
            chosen, _filter = QFileDialog.getSaveFileName(
                self, self.tr("Export to"), "", f"{spec.description} ({patterns})"
            )
        if chosen:
            self.path.setText(chosen)

    def start(self) -> JobWorker | None:
        """Run the export in the background; the report shows in the dialog."""
        if self.worker is not None or not self.path.text().strip():
            return None
        options = {}
        if self.format_name == SPACY:
            options = {"dev_fraction": self.dev_fraction.value(), "seed": self.seed.value()}
        job = export(
            self.store,
            self.project.id,
            Path(self.path.text().strip()),
            fmt=self.format_name,
            source=self.source.currentData(),
            status=str(self.status.currentData()),
            **options,
        )
        self.worker = JobWorker(job, "export")
        self.worker.signals.progress.connect(self._progress)
        self.worker.signals.finished.connect(self._finished)
        self.worker.signals.failed.connect(self._failed)
        self.worker.signals.cancelled.connect(self._cancelled)
        self.progress.setRange(0, 0)
        self.progress.setVisible(True)
        self.output.setVisible(False)
        self._update_buttons()
        return self.worker.start()

    def cancel(self) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.cancel_button.setEnabled(False)

    def _progress(self, step: Progress) -> None:
        if step.total:
            self.progress.setRange(0, step.total)
            self.progress.setValue(min(step.done, step.total))

    def _finished(self, report: ExportReport) -> None:
        self.report = report
        text = self.tr("{documents} document(s) written to {path} ({annotated} with annotations")
        lines = [
            text.format(documents=report.documents, path=report.path, annotated=report.annotated)
            + self.tr(" of {source}).").format(source=report.source)
        ]
        lines += [self.tr("Warning: {text}").format(text=warning) for warning in report.warnings]
        self._ended("\n".join(lines))

    def _failed(self, reason: str) -> None:
        self._ended(self.tr("Export failed: {reason}").format(reason=reason))

    def _cancelled(self) -> None:
        self._ended(self.tr("Export cancelled."))

    def _ended(self, text: str) -> None:
        self.worker = None
        self.progress.setVisible(False)
        self.cancel_button.setEnabled(True)
        self.output.setPlainText(text)
        self.output.setVisible(True)
        self._update_buttons()
        self.exportEnded.emit(text)

    def reject(self) -> None:
        """Close (Escape) cancels a running export first."""
        if self.worker is not None:
            self.worker.cancel()
            self.worker.wait(30)
        super().reject()
