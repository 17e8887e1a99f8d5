"""The agreement dashboard: pairwise heat map, per-label bars, each annotator's progress
and speed, drawn with matplotlib's Qt canvas and exportable as PNG.

Agreement is computed by ``models.agreement.store_io`` in a background JobWorker; the
window shows its progress and redraws when it ends. An undefined score is "n/a", with
its reason as the tooltip of the place it is drawn.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import matplotlib
from matplotlib.artist import Artist
from matplotlib.axes import Axes
from matplotlib.backend_bases import Event, MouseEvent
from matplotlib.backends.backend_qtagg import FigureCanvasQTAgg
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent, QColor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from gui.style import text_colour_for
from gui.workers import JobWorker
from models.agreement.categorical import Measure
from models.agreement.report import LABEL_MEASURES, NOT_AVAILABLE
from models.agreement.store_io import store_agreement
from models.annotator_stats import AnnotatorProgress, annotator_progress
from models.jobs import Job
from models.records import Progress
from models.store import ProjectInfo, Store

MEASURES = ("f1_exact", "f1_overlap", "kappa_token")
COLOUR_MAP = "viridis"
MISSING_COLOUR = "#dcdcdc"
DONE_COLOUR, TOTAL_COLOUR, SPEED_COLOUR = "#3b7dd8", "#e4e7ec", "#4c9f70"
NAME_CHARS = 18  # longer annotator names are shortened on the axes (full in tooltips)


@dataclass(frozen=True, slots=True)
class Cell:
    """What one heat-map cell shows and its tooltip."""

    text: str
    tooltip: str


Starter = Callable[[JobWorker, str], JobWorker]
DashboardData = tuple[dict[str, Any], list[AnnotatorProgress]]


def dashboard_job(store: Store, project: ProjectInfo, status: str) -> Job[DashboardData]:
    """Agreement (with progress) then each annotator's progress, all on the worker thread."""
    result = yield from store_agreement(store, project, status=status)
    return result, annotator_progress(store, project.id)


def short(name: str, kind: str = "human") -> str:
    if kind == "model":
        return "model"
    return name if len(name) <= NAME_CHARS else name[: NAME_CHARS - 1] + "…"


class AgreementDashboard(QWidget):
    ready = Signal()  # the figure shows a new result

    def __init__(
        self,
        store: Store,
        project: ProjectInfo,
        parent: QWidget | None = None,
        start: Starter | None = None,
    ) -> None:
        super().__init__(parent, Qt.WindowType.Window)
        self.store, self.project = store, project
        self._start = start or (lambda worker, _title: worker.start())
        self.worker: JobWorker | None = None
        self.result: dict[str, Any] | None = None
        self.progress: list[AnnotatorProgress] = []
        self.cells: dict[tuple[str, str], Cell] = {}
        self.axes: dict[str, Axes] = {}
        self._tips: list[tuple[Artist, str]] = []
        self.setWindowTitle(self.tr("Agreement — {project}").format(project=project.name))
        self.resize(1280, 860)

        self.measure_box = QComboBox(self)
        for measure, text in zip(MEASURES, self._measure_names(), strict=True):
            self.measure_box.addItem(text, measure)
        self.status_box = QComboBox(self)
        self.status_box.addItem(self.tr("Done layers"), "done")
        self.status_box.addItem(self.tr("All layers"), "any")
        self.refresh_button = QPushButton(self.tr("Recompute"), self)
        self.export_button = QPushButton(self.tr("Export PNG…"), self)
        self.export_button.setEnabled(False)
        self.state_label = QLabel(self)
        self.bar = QProgressBar(self)
        self.bar.setMaximumWidth(180)
        self.bar.setTextVisible(False)
        self.bar.hide()
        controls = QHBoxLayout()
        controls.addWidget(QLabel(self.tr("Measure:"), self))
        controls.addWidget(self.measure_box)
        controls.addWidget(QLabel(self.tr("Layers:"), self))
        controls.addWidget(self.status_box)
        controls.addWidget(self.refresh_button)
        controls.addStretch(1)
        controls.addWidget(self.state_label)
        controls.addWidget(self.bar)
        controls.addWidget(self.export_button)

        self.figure = Figure(figsize=(12.8, 8), layout="constrained")
        self.canvas = FigureCanvasQTAgg(self.figure)
        self.canvas.setParent(self)
        self.canvas.mpl_connect("motion_notify_event", self._hover)
        layout = QVBoxLayout(self)
        layout.addLayout(controls)
        layout.addWidget(self.canvas, 1)

        self.measure_box.currentIndexChanged.connect(lambda _index: self.draw())
        self.status_box.currentIndexChanged.connect(lambda _index: self.refresh())
        self.refresh_button.clicked.connect(lambda _checked=False: self.refresh())
        self.export_button.clicked.connect(lambda _checked=False: self.choose_export())

    def _measure_names(self) -> list[str]:
        return [self.tr("Entity F1, exact"), self.tr("Entity F1, overlap"), self.tr("Token κ")]

    @property
    def measure(self) -> str:
        return str(self.measure_box.currentData())

    # -- computing -----------------------------------------------------------------------
    def refresh(self) -> JobWorker:
        """Compute agreement again in the background (a running computation is cancelled)."""
        if self.worker is not None:
            self.worker.cancel()
        status = str(self.status_box.currentData())
        worker = JobWorker(dashboard_job(self.store, self.project, status), "agreement")
        self.worker = worker
        worker.signals.progress.connect(self._progress)
        worker.signals.finished.connect(self._finished)
        worker.signals.failed.connect(self._failed)
        self.state_label.setText(self.tr("Computing agreement…"))
        self.bar.setRange(0, 0)
        self.bar.show()
        return self._start(worker, self.tr("Computing agreement"))

    def _current(self) -> bool:
        return self.worker is not None and self.sender() is self.worker.signals

    def _progress(self, step: Progress) -> None:
        if self._current() and step.total:
            self.bar.setRange(0, step.total)
            self.bar.setValue(step.done)

    def _finished(self, data: DashboardData) -> None:
        if not self._current():
            return
        self.worker = None
        self.result, self.progress = data
        self.bar.hide()
        self.state_label.setText(
            self.tr("{documents} document(s), {annotators} annotator(s)").format(
                documents=self.result["documents"], annotators=len(self.result["annotators"])
            )
        )
        self.export_button.setEnabled(True)
        self.draw()

    def _failed(self, reason: str) -> None:
        if self._current():
            self.worker = None
            self.bar.hide()
            self.state_label.setText(self.tr("Agreement failed: {reason}").format(reason=reason))

    def closeEvent(self, event: QCloseEvent) -> None:
        if self.worker is not None:
            self.worker.cancel()
            self.worker = None
            self.bar.hide()
        super().closeEvent(event)

    # -- drawing -------------------------------------------------------------------------
    def draw(self) -> None:
        if self.result is None:
            return
        self.figure.clear()
        self._tips = []
        index = self.status_box.findData(self.result["status"])
        status = self.status_box.itemText(index).lower()
        self.figure.suptitle(
            self.tr("{project}: {documents} document(s), {status}").format(
                project=self.project.name, documents=self.result["documents"], status=status
            ),
            fontweight="bold",
        )
        mosaic = [["matrix", "labels"], ["progress", "speed"]]
        self.axes = self.figure.subplot_mosaic(
            mosaic, width_ratios=[1, 1.25], height_ratios=[1.5, 1]
        )
        self._draw_matrix(self.axes["matrix"])
        self._draw_labels(self.axes["labels"])
        self._draw_progress(self.axes["progress"], self.axes["speed"])
        self.canvas.draw_idle()
        self.ready.emit()

    def _names(self) -> list[str]:
        assert self.result is not None
        kinds = self.result["kinds"]
        return [short(name, kinds.get(name, "human")) for name in self.result["annotators"]]

    def _draw_matrix(self, ax: Axes) -> None:
        assert self.result is not None
        annotators: list[str] = self.result["annotators"]
        measure, name = self.measure, self.measure_box.currentText()
        pairs = {(p["a"], p["b"]): p for p in self.result["entities"]["pairs"]}
        size = len(annotators)
        values = [[math.nan] * size for _ in range(size)]
        self.cells = {}
        for i, a in enumerate(annotators):
            for j, b in enumerate(annotators):
                if i == j:
                    continue
                pair = pairs.get((a, b)) or pairs[(b, a)]
                value = pair[measure]
                documents = self.tr("{n} document(s) in common").format(n=pair["documents"])
                if value is None:
                    reason = pair["reasons"][measure]
                    cell = Cell(NOT_AVAILABLE, f"{a} × {b}: {NOT_AVAILABLE} ({reason})")
                else:
                    values[i][j] = value
                    cell = Cell(f"{value:.2f}", f"{a} × {b}: {name} {value:.3f}, {documents}")
                self.cells[(a, b)] = cell
        ax.set_title(self.tr("Pairwise agreement: {measure}").format(measure=name))
        if size < 2:
            self._empty(ax, self.tr("Agreement needs two annotators with layers"))
            return
        low = min([0.0, *(v for row in values for v in row if not math.isnan(v))])
        colours = matplotlib.colormaps[COLOUR_MAP].with_extremes(bad=MISSING_COLOUR)
        image = ax.imshow(values, cmap=colours, vmin=low, vmax=1.0)
        self.figure.colorbar(image, ax=ax, shrink=0.85, label=name)
        ticks, names = range(size), self._names()
        ax.set_xticks(ticks, names, rotation=30, ha="right", rotation_mode="anchor")
        ax.set_yticks(ticks, names)
        for i, a in enumerate(annotators):
            for j, b in enumerate(annotators):
                text = self.cells[(a, b)].text if i != j else "—"
                value = values[i][j]
                colour = "#555555" if math.isnan(value) else _on(image.cmap(image.norm(value)))
                ax.text(j, i, text, ha="center", va="center", color=colour)

    def _draw_labels(self, ax: Axes) -> None:
        assert self.result is not None
        kinds = self.result["kinds"]
        pairs = self.result["entities"]["pairs"]
        measure = self.measure if self.measure in LABEL_MEASURES else LABEL_MEASURES[0]
        title = self.measure_box.itemText(MEASURES.index(measure))
        ax.set_title(self.tr("Per label: {measure}").format(measure=title))
        labels = list(dict.fromkeys(label for pair in pairs for label in pair["per_label"]))
        if not pairs or not labels:
            self._empty(ax, self.tr("No pair of annotators to compare"))
            return
        width = 0.8 / len(pairs)
        legend = []
        for k, pair in enumerate(pairs):
            who = f"{short(pair['a'], kinds.get(pair['a'], 'human'))} × "
            who += short(pair["b"], kinds.get(pair["b"], "human"))
            for x, label in enumerate(labels):
                scores = pair["per_label"][label]
                offset = x - 0.4 + width * (k + 0.5)
                value = scores[measure]
                if value is None:
                    text = ax.text(offset, 0.01, NOT_AVAILABLE, ha="center", va="bottom", size=7)
                    text.set_color("#777777")
                    self._tips.append((text, f"{who}, {label}: {scores['reasons'][measure]}"))
                    continue
                (bar,) = ax.bar(offset, value, width, color=f"C{k % 10}")
                ax.text(offset, value + 0.01, f"{value:.2f}", ha="center", va="bottom", size=7)
                self._tips.append((bar, f"{who}, {label}: {value:.3f}"))
            legend.append(Patch(color=f"C{k % 10}", label=who))
        ax.set_xticks(range(len(labels)), labels)
        ax.set_ylim(0, 1.1)
        ax.legend(
            handles=legend, fontsize=8, loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False
        )

    def _draw_progress(self, ax: Axes, speed_ax: Axes) -> None:
        ax.set_title(self.tr("Progress: documents done"))
        speed_ax.set_title(self.tr("Speed: documents per hour"))
        if not self.progress:
            self._empty(ax, self.tr("No layer yet"))
            self._empty(speed_ax, self.tr("No layer yet"))
            return
        rows = list(range(len(self.progress)))
        names = [short(p.name, p.kind) for p in self.progress]
        total = max(p.total for p in self.progress) or 1
        ax.barh(rows, [p.total for p in self.progress], color=TOTAL_COLOUR)
        bars = ax.barh(rows, [p.done for p in self.progress], color=DONE_COLOUR)
        for row, (bar, p) in enumerate(zip(bars, self.progress, strict=True)):
            ax.text(total * 1.01, row, f"{p.done}/{p.total}", va="center", size=9)
            tip = f"{p.name}: {p.done} of {p.total} document(s) done, {p.layers} opened"
            self._tips.append((bar, tip))
        ax.set_xlim(0, total * 1.15)
        ax.set_yticks(rows, names)
        ax.set_ylim(len(rows) - 0.5, -0.5)
        speeds: list[Measure] = [p.speed() for p in self.progress]
        top = max([s.value for s in speeds if s.value is not None] or [1.0])
        for row, (p, speed) in enumerate(zip(self.progress, speeds, strict=True)):
            if speed.value is None:
                text = speed_ax.text(top * 0.01, row, NOT_AVAILABLE, va="center", size=9)
                self._tips.append((text, f"{p.name}: {speed.reason}"))
                continue
            (bar,) = speed_ax.barh(row, speed.value, color=SPEED_COLOUR)
            speed_ax.text(speed.value + top * 0.01, row, f"{speed.value:.1f}", va="center", size=9)
            hours = p.done_seconds / 3600
            self._tips.append((bar, f"{p.name}: {p.done} document(s) in {hours:.1f} h"))
        speed_ax.set_xlim(0, top * 1.2)
        speed_ax.set_yticks(rows, names)
        speed_ax.set_ylim(len(rows) - 0.5, -0.5)

    @staticmethod
    def _empty(ax: Axes, text: str) -> None:
        ax.set_axis_off()
        ax.text(0.5, 0.5, text, ha="center", va="center", transform=ax.transAxes, color="#777")

    # -- tooltips and export -------------------------------------------------------------
    def _hover(self, event: Event) -> None:
        assert isinstance(event, MouseEvent)
        self.canvas.setToolTip(self.tooltip_at(event))

    def tooltip_at(self, event: MouseEvent) -> str:
        """The tooltip of what is under the mouse: a heat-map cell, a bar or an n/a."""
        matrix = self.axes.get("matrix")
        if matrix is not None and event.inaxes is matrix and self.result is not None:
            annotators = self.result["annotators"]
            i, j = round(event.ydata or 0), round(event.xdata or 0)
            if 0 <= i < len(annotators) and 0 <= j < len(annotators):
                cell = self.cells.get((annotators[i], annotators[j]))
                return cell.tooltip if cell else ""
        return next((tip for artist, tip in self._tips if artist.contains(event)[0]), "")

    def export_png(self, path: Path) -> Path:
        """Save the figure as a PNG file."""
        self.figure.savefig(path, format="png", dpi=150)
        return path

    def choose_export(self) -> None:
        name = f"agreement-{self.project.name}.png"
        path, _ = QFileDialog.getSaveFileName(
            self, self.tr("Export the dashboard"), name, self.tr("PNG image (*.png)")
        )
        if path:
            self.export_png(Path(path))


def _on(rgba: tuple[float, float, float, float]) -> str:
    """Readable text colour on a colour-map colour."""
    return str(text_colour_for(QColor.fromRgbF(*rgba)).name())
