"""The one keyboard map of the app: data for the shortcuts and for the `?` overlay.

Menu actions take their shortcuts from ``shortcuts(action)``; the overlay lists every
binding, with the label keys of the project's schema, grouped by section.
"""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import QFrame, QGridLayout, QHBoxLayout, QLabel, QVBoxLayout, QWidget

from models.labels import LabelSchema

CONTEXT = "Keymap"


@dataclass(frozen=True, slots=True)
class KeyBinding:
    action: str  # stable identifier
    keys: tuple[str, ...]  # portable QKeySequence texts
    text: str  # English description, translated at display time
    section: str


def _t(text: str) -> str:
    """Marks a string for translation (lupdate) without translating it at import time."""
    return text


KEYMAP: tuple[KeyBinding, ...] = (
    KeyBinding("next_entity", ("Tab",), _t("Next entity"), _t("Entities")),
    KeyBinding("previous_entity", ("Shift+Tab",), _t("Previous entity"), _t("Entities")),
    KeyBinding(
        "move_start", ("Shift+Left", "Shift+Right"), _t("Move start by one token"), _t("Entities")
    ),
    KeyBinding(
        "move_end",
        ("Ctrl+Shift+Left", "Ctrl+Shift+Right"),
        _t("Move end by one token"),
        _t("Entities"),
    ),
    KeyBinding(
        "remove_entity", ("Del", "Backspace"), _t("Remove the selected entity"), _t("Entities")
    ),
    KeyBinding("done", ("Return",), _t("Mark done, open the next document"), _t("Documents")),
    KeyBinding("next_document", ("PgDown",), _t("Next document"), _t("Documents")),
    KeyBinding("previous_document", ("PgUp",), _t("Previous document"), _t("Documents")),
    KeyBinding("search", ("Ctrl+F",), _t("Search the corpus"), _t("Documents")),
    KeyBinding("undo", ("Ctrl+Z",), _t("Undo"), _t("General")),
    KeyBinding("redo", ("Ctrl+Shift+Z",), _t("Redo"), _t("General")),
    KeyBinding("import", ("Ctrl+O",), _t("Import texts"), _t("General")),
    KeyBinding("shortcuts", ("?", "F1"), _t("Show this keyboard map"), _t("General")),
    KeyBinding("quit", ("Ctrl+Q",), _t("Quit"), _t("General")),
)


def binding(action: str) -> KeyBinding:
    return next(item for item in KEYMAP if item.action == action)


def shortcuts(action: str) -> list[QKeySequence]:
    """The key sequences of an action, for QAction.setShortcuts."""
    return [QKeySequence(key) for key in binding(action).keys]


def label_bindings(schema: LabelSchema) -> list[KeyBinding]:
    """One binding per entity label of the schema (its shortcut key)."""
    return [
        KeyBinding(f"label:{label.id}", (label.key,), f"{label.id} · {label.name}", _t("Labels"))
        for label in schema.entities
    ]


def key_text(key: str) -> str:
    """A key as shown to the user, in the platform's notation."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key


class KeymapOverlay(QWidget):
    """A translucent sheet over the window listing every binding; any key or click closes it."""

    def __init__(self, schema: LabelSchema, parent: QWidget) -> None:
        super().__init__(parent)
        self.setFocusPolicy(Qt.FocusPolicy.StrongFocus)
        card = QFrame(self)
        card.setObjectName("keymapCard")
        card.setStyleSheet(
            "#keymapCard { background: palette(base); border-radius: 10px; }"
            "QLabel[role='key'] { font-family: monospace; font-weight: 600;"
            " background: palette(alternate-base); border: 1px solid palette(mid);"
            " border-radius: 4px; padding: 1px 6px; }"
            "QLabel[role='section'] { font-weight: 600; font-size: 13pt; padding-top: 8px; }"
        )
        grid = QGridLayout()
        grid.setHorizontalSpacing(14)
        grid.setVerticalSpacing(5)
        row = 0
        section = ""
        for item in (*label_bindings(schema), *KEYMAP):
            if item.section != section:
                section = item.section
                title = QLabel(QCoreApplication.translate(CONTEXT, section))
                title.setProperty("role", "section")
                grid.addWidget(title, row, 0, 1, 2)
                row += 1
            keys = QHBoxLayout()
            keys.setSpacing(4)
            keys.addStretch(1)
            for key in item.keys:
                badge = QLabel(key_text(key))
                badge.setProperty("role", "key")
                keys.addWidget(badge)
            grid.addLayout(keys, row, 0)
            grid.addWidget(QLabel(QCoreApplication.translate(CONTEXT, item.text)), row, 1)
            row += 1
        heading = QLabel(QCoreApplication.translate(CONTEXT, "Keyboard shortcuts"))
        heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        hint = QLabel(QCoreApplication.translate(CONTEXT, "Press any key to close"))
        hint.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.addWidget(heading)
        layout.addLayout(grid)
        layout.addWidget(hint, 0, Qt.AlignmentFlag.AlignRight)
        self.card = card
        self._parent = parent
        parent.installEventFilter(self)
        self.hide()

    def popup(self) -> None:
        self.setGeometry(self._parent.rect())
        self.card.adjustSize()
        self.card.move(
            (self.width() - self.card.width()) // 2, (self.height() - self.card.height()) // 2
        )
        self.show()
        self.raise_()
        self.setFocus()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() == QEvent.Type.Resize and self.isVisible():
            self.popup()
        return False

    def paintEvent(self, event: QPaintEvent) -> None:
        painter = QPainter(self)
        painter.fillRect(self.rect(), QColor(0, 0, 0, 130))

    def keyPressEvent(self, event: QKeyEvent) -> None:
        event.accept()
        self.hide()

    def mousePressEvent(self, event: QMouseEvent) -> None:
        event.accept()
        self.hide()
