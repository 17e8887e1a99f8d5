"""The stance panel: per target of the schema, its number, its value as a segmented button
group and its evidence passages; the S key sequence; evidence marks in the text.

Every change goes through the editor (one undoable command, committed at once); the panel
re-reads the layer's stance after each change that touched document labels.
"""

from __future__ import annotations

from functools import partial

from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QColor
from PySide6.QtWidgets import (
    QButtonGroup,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QMenu,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from gui.document_view import DocumentView
from gui.editor import DocumentEditor
from gui.highlighter import EVIDENCE, Mark
from gui.key_sequence import Action, KeyStep
from gui.panels.common import panel_hint, panel_title
from gui.style import shade, tint
from models.commands import Changes
from models.labels import Choice, LabelSchema
from models.records import StanceRecord
from models.stance import stance

# Colours of the usual values; a value of another schema gets the neutral one.
VALUE_COLOURS = {"favorable": "#2e7d32", "neutre": "#5b6b7f", "defavorable": "#c62828"}
NEUTRAL_VALUE = "#5b6b7f"
CLEAR_KEY = "0"
EVIDENCE_KEY = "v"
EXCERPT = 60  # characters of an evidence passage shown in its menu


def value_colour(value: str) -> QColor:
    return QColor(VALUE_COLOURS.get(value, NEUTRAL_VALUE))


def _segment_style(colour: QColor) -> str:
    return (
        "QToolButton { border: 1px solid palette(mid); border-radius: 0; padding: 2px 6px;"
        " background: palette(base); }"
        f"QToolButton:hover {{ background: {tint(colour, 0.12).name()}; }}"
        f"QToolButton:checked {{ background: {colour.name()}; color: white;"
        f" border-color: {shade(colour, 0.2).name()}; font-weight: 600; }}"
    )


class StanceRow:
    """The widgets of one target: number, name, value segments, evidence button."""

    def __init__(self, panel: StancePanel, number: int, target: Choice) -> None:
        self.target = target
        self.number = QLabel(str(number))
        self.number.setObjectName("stanceNumber")
        self.number.setAlignment(Qt.AlignmentFlag.AlignCenter)
        self.number.setFixedSize(20, 20)
        self.name = QLabel(target.name)
        self.name.setToolTip(target.id)
        self.segments = QButtonGroup(panel)
        self.segments.setExclusive(False)  # "none" is a state, synchronised from the store
        self.strip = QHBoxLayout()
        self.strip.setSpacing(0)
        for value in (*panel.schema.stance_values, None):
            button = QToolButton()
            button.setCheckable(True)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the document view
            button.setText(value.name if value is not None else "—")
            tip = panel.tr("{value} (S {number} {key})")
            button.setToolTip(
                tip.format(value=value.name, number=number, key=value.key.upper())
                if value is not None
                else panel.tr("No stance (S {number} 0)").format(number=number)
            )
            colour = value_colour(value.id) if value is not None else QColor("#8a8f98")
            button.setStyleSheet(_segment_style(colour))
            button.setProperty("value", value.id if value is not None else "")
            button.clicked.connect(
                partial(panel.set_value, target.id, value.id if value is not None else None)
            )
            self.segments.addButton(button)
            self.strip.addWidget(button)
        self.evidence = QToolButton()
        self.evidence.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.evidence.setPopupMode(QToolButton.ToolButtonPopupMode.InstantPopup)
        self.evidence.setObjectName("evidenceButton")
        menu = QMenu(self.evidence)
        menu.aboutToShow.connect(partial(panel.fill_evidence_menu, menu, target.id))
        self.evidence.setMenu(menu)
        self.show(None, panel)

    def show(self, record: StanceRecord | None, panel: StancePanel) -> None:
        value = record.value if record is not None else ""
        for button in self.segments.buttons():
            button.setChecked(button.property("value") == value)
        count = len(record.evidence) if record is not None else 0
        self.evidence.setText(f"¶ {count}")
        self.evidence.setEnabled(record is not None)
        self.evidence.setToolTip(
            panel.tr(
                "{count} evidence passage(s); select text and press S {number} V to add"
            ).format(count=count, number=self.number.text())
        )


class StancePanel(QWidget):
    """Stance of the open document toward each target of the schema."""

    evidenceShown = Signal(bool)

    def __init__(
        self,
        schema: LabelSchema,
        editor: DocumentEditor,
        view: DocumentView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.schema, self.editor, self.view = schema, editor, view
        self.records: dict[str, StanceRecord] = {}
        self.setObjectName("stancePanel")
        self.setStyleSheet(
            "#stanceNumber { font-family: monospace; font-weight: 600; border-radius: 4px;"
            " border: 1px solid palette(mid); background: palette(alternate-base); }"
            "#evidenceButton { border: 1px solid palette(mid); border-radius: 4px;"
            " padding: 2px 6px; background: palette(base); }"
        )
        title = panel_title(self.tr("Stance"))
        self.toggle = QToolButton()
        self.toggle.setText(self.tr("Show evidence"))
        self.toggle.setCheckable(True)
        self.toggle.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.toggle.setToolTip(self.tr("Highlight the evidence passages in the text"))
        self.toggle.toggled.connect(self.show_evidence)
        header = QHBoxLayout()
        header.addWidget(title)
        header.addStretch(1)
        header.addWidget(self.toggle)
        grid = QGridLayout()
        grid.setHorizontalSpacing(8)
        grid.setVerticalSpacing(6)
        grid.setColumnStretch(1, 1)
        self.rows: dict[str, StanceRow] = {}
        for index, target in enumerate(schema.stance_targets):
            row = StanceRow(self, index + 1, target)
            grid.addWidget(row.number, 2 * index, 0)
            grid.addWidget(row.name, 2 * index, 1)
            grid.addWidget(row.evidence, 2 * index, 2, Qt.AlignmentFlag.AlignRight)
            grid.addLayout(row.strip, 2 * index + 1, 1, 1, 2)
            self.rows[target.id] = row
        hint = panel_hint(self.tr("Keys: S, target number, then F N D (0 clears, V evidence)."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addLayout(header)
        layout.addLayout(grid)
        layout.addWidget(hint)
        editor.loaded.connect(self.refresh)
        editor.changed.connect(self._changed)

    # -- reading ---------------------------------------------------------------------------
    def refresh(self) -> None:
        layer_id = self.editor.layer_id
        self.records = stance(self.editor.store, layer_id) if layer_id is not None else {}
        for target, row in self.rows.items():
            row.show(self.records.get(target), self)
        self._mark_evidence()

    def _changed(self, changes: Changes) -> None:
        if changes.doc_labels and changes.layer_id == self.editor.layer_id:
            self.refresh()

    def _mark_evidence(self) -> None:
        marks = []
        if self.toggle.isChecked():
            spans = {span for record in self.records.values() for span in record.evidence}
            marks = [Mark(start, end, EVIDENCE) for start, end in sorted(spans)]
        self.view.set_marks("evidence", marks)

    # -- edits -----------------------------------------------------------------------------
    def set_value(self, target: str, value: str | None) -> None:
        current = self.records.get(target)
        if (current.value if current is not None else None) == value:
            self.rows[target].show(current, self)  # a click on the checked segment
            return
        self.editor.set_stance(target, value)
        self.view.setFocus()

    def attach_evidence(self, target: str) -> None:
        """Attach the text selection (whole tokens) to the stance toward ``target``."""
        selection = self.view.selection_range()
        name = self.rows[target].target.name
        if selection is None:
            self.view.notice.emit(self.tr("Select a passage to attach as evidence."))
        elif target not in self.records:
            text = self.tr("Set a stance toward {target} before attaching evidence.")
            self.view.notice.emit(text.format(target=name))
        elif self.editor.add_evidence(target, *selection):
            self.toggle.setChecked(True)

    def show_evidence(self, shown: bool) -> None:
        self.toggle.setChecked(shown)
        self._mark_evidence()
        self.evidenceShown.emit(shown)

    def fill_evidence_menu(self, menu: QMenu, target: str) -> None:
        menu.clear()
        record = self.records.get(target)
        for start, end in record.evidence if record is not None else ():
            excerpt = " ".join(self.view.text[start:end].split())
            if len(excerpt) > EXCERPT:
                excerpt = excerpt[: EXCERPT - 1] + "…"
            passage = menu.addMenu(f"« {excerpt} »")
            passage.addAction(
                self.tr("Show in text"), partial(self.view.set_selection_range, start, end)
            )
            passage.addAction(
                self.tr("Remove"), partial(self.editor.remove_evidence, target, start, end)
            )
        menu.addSeparator()
        attach = menu.addAction(self.tr("Attach selection"), partial(self.attach_evidence, target))
        attach.setEnabled(self.view.selection_range() is not None)

    # -- keys ------------------------------------------------------------------------------
    def key_step(self) -> KeyStep:
        """The steps after S: target number, then a value key, 0 (clear) or V (evidence)."""
        targets: dict[str, KeyStep | Action] = {}
        for number, target in enumerate(self.schema.stance_targets[:9], start=1):
            keys: dict[str, KeyStep | Action] = {
                value.key.lower(): partial(self.set_value, target.id, value.id)
                for value in self.schema.stance_values
            }
            keys[CLEAR_KEY] = partial(self.set_value, target.id, None)
            keys[EVIDENCE_KEY] = partial(self.attach_evidence, target.id)
            choices = " · ".join(
                f"{value.key.upper()} {value.name}" for value in self.schema.stance_values
            )
            hint = self.tr("Stance › {number} {target}:  {choices} · 0 clear · V evidence")
            targets[str(number)] = KeyStep(
                hint.format(number=number, target=target.name, choices=choices), keys
            )
        listed = " · ".join(
            f"{number} {target.name}"
            for number, target in enumerate(self.schema.stance_targets[:9], start=1)
        )
        return KeyStep(self.tr("Stance › target:  {targets}").format(targets=listed), targets)
