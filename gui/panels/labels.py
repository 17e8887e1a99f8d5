"""The label palette: each entity label of the schema with its colour, key and name.

Clicking a label applies it as its shortcut key would (``labelClicked``).
"""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import QHBoxLayout, QLabel, QPushButton, QVBoxLayout, QWidget

from gui.panels.common import panel_hint, panel_title
from gui.style import label_colour, shade, text_colour_for, tint
from models.labels import EntityLabel, LabelSchema


class LabelButton(QPushButton):
    """One palette row: colour swatch, key badge, identifier and display name."""

    def __init__(self, schema: LabelSchema, label: EntityLabel, parent: QWidget | None = None):
        super().__init__(parent)
        self.label = label
        colour = label_colour(schema, label.id)
        self.setObjectName("labelButton")
        self.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # keys stay with the document view
        self.setCursor(Qt.CursorShape.PointingHandCursor)
        self.setToolTip(label.description or label.name)
        self.setMinimumHeight(34)
        swatch = QLabel(label.id)
        swatch.setAlignment(Qt.AlignmentFlag.AlignCenter)
        swatch.setFixedWidth(52)
        swatch.setStyleSheet(
            f"background: {colour.name()}; color: {text_colour_for(colour).name()};"
            f" border: 1px solid {shade(colour, 0.25).name()}; border-radius: 4px;"
            " font-weight: 700; padding: 2px 0;"
        )
        name = QLabel(label.name)
        key = QLabel(label.key)
        key.setAlignment(Qt.AlignmentFlag.AlignCenter)
        key.setFixedWidth(22)
        key.setStyleSheet(
            "font-family: monospace; font-weight: 600; border: 1px solid palette(mid);"
            " border-radius: 4px; background: palette(base);"
        )
        layout = QHBoxLayout(self)
        layout.setContentsMargins(8, 4, 8, 4)
        layout.setSpacing(10)
        layout.addWidget(swatch)
        layout.addWidget(name, 1)
        layout.addWidget(key)
        for child in (swatch, name, key):
            child.setAttribute(Qt.WidgetAttribute.WA_TransparentForMouseEvents)
        hover, border, pressed = (tint(colour, strength).name() for strength in (0.14, 0.4, 0.3))
        self.setStyleSheet(
            "#labelButton { text-align: left; border: 1px solid transparent; border-radius: 6px;"
            " background: transparent; }"
            f"#labelButton:hover {{ background: {hover}; border-color: {border}; }}"
            f"#labelButton:pressed {{ background: {pressed}; }}"
        )


class LabelPanel(QWidget):
    """The schema's entity labels; ``labelClicked(label_id)`` when one is clicked."""

    labelClicked = Signal(str)

    def __init__(self, schema: LabelSchema, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        title = panel_title(self.tr("Labels"))
        hint = panel_hint(self.tr("Select text, then press a key or click a label."))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        layout.addWidget(title)
        self.buttons: dict[str, LabelButton] = {}
        for label in schema.entities:
            button = LabelButton(schema, label, self)
            button.clicked.connect(lambda _=False, ident=label.id: self.labelClicked.emit(ident))
            layout.addWidget(button)
            self.buttons[label.id] = button
        layout.addSpacing(6)
        layout.addWidget(hint)
