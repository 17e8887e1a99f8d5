"""The one keyboard map of the app: data for the shortcuts and for the `?` overlay.

Menu actions take their shortcuts from ``shortcuts(action)``; the overlay lists every
binding, with the label keys of the project's schema, grouped by section.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from PySide6.QtCore import QCoreApplication, QEvent, QObject, Qt
from PySide6.QtGui import QColor, QKeyEvent, QKeySequence, QMouseEvent, QPainter, QPaintEvent
from PySide6.QtWidgets import (
    QFrame,
    QGridLayout,
    QHBoxLayout,
    QLabel,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from models.labels import Choice, EventType, LabelSchema

CONTEXT = "Keymap"
OVERLAY_COLUMNS = 3


@dataclass(frozen=True, slots=True)
class KeyBinding:
    action: str  # stable identifier
    keys: tuple[str, ...]  # portable QKeySequence texts
    text: str  # English description, translated at display time
    section: str
    sequence: bool = False  # the keys are typed one after the other (S, 1, F), not alternatives


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
    KeyBinding(
        "stance",
        ("S", "1…9", "F N D 0"),
        _t("Stance toward target N (value key; 0 clears)"),
        _t("Stance"),
        sequence=True,
    ),
    KeyBinding(
        "stance_evidence",
        ("S", "1…9", "V"),
        _t("Attach the selected passage as evidence"),
        _t("Stance"),
        sequence=True,
    ),
    KeyBinding("show_evidence", ("Ctrl+E",), _t("Show / hide evidence passages"), _t("Stance")),
    KeyBinding(
        "event",
        ("E", "1…9"),
        _t("New event on the selected trigger (no selection: change the type)"),
        _t("Events"),
        sequence=True,
    ),
    KeyBinding("next_event", ("Alt+Down",), _t("Next event"), _t("Events")),
    KeyBinding("previous_event", ("Alt+Up",), _t("Previous event"), _t("Events")),
    KeyBinding(
        "next_role", ("Alt+Right",), _t("Arm the next role (Tab in the events list)"), _t("Events")
    ),
    KeyBinding(
        "previous_role",
        ("Alt+Left",),
        _t("Arm the previous role (Shift+Tab in the events list)"),
        _t("Events"),
    ),
    KeyBinding(
        "assign_role",
        ("Return",),
        _t("Role armed: fill it with the selected entity (or click one)"),
        _t("Events"),
    ),
    KeyBinding(
        "new_argument",
        ("label key",),
        _t("Role armed, text selected: label key creates the entity and fills the role"),
        _t("Events"),
    ),
    KeyBinding("disarm", ("Esc",), _t("Disarm the role, cancel a key sequence"), _t("Events")),
    KeyBinding("accept", ("A",), _t("Accept the selected suggestion"), _t("Events")),
    KeyBinding("reject", ("R",), _t("Reject the selected suggestion"), _t("Events")),
    KeyBinding(
        "remove_event",
        ("Del",),
        _t("Remove the selected event or argument (events list)"),
        _t("Events"),
    ),
    KeyBinding("done", ("Return",), _t("Mark done, open the next document"), _t("Documents")),
    KeyBinding("next_document", ("PgDown",), _t("Next document"), _t("Documents")),
    KeyBinding("previous_document", ("PgUp",), _t("Previous document"), _t("Documents")),
    KeyBinding("search", ("Ctrl+F",), _t("Filter the document list"), _t("Documents")),
    KeyBinding("document_list", ("Ctrl+L",), _t("Show or hide the document list"), _t("Documents")),
    KeyBinding(
        "corpus_search", ("Ctrl+Shift+F",), _t("Search the corpus (Esc closes)"), _t("Search")
    ),
    KeyBinding("next_match", ("F3",), _t("Next match in the document"), _t("Search")),
    KeyBinding("previous_match", ("Shift+F3",), _t("Previous match in the document"), _t("Search")),
    KeyBinding("review_mode", ("Ctrl+R",), _t("Review mode: adjudicate into gold"), _t("Review")),
    KeyBinding("next_disagreement", ("J",), _t("Next disagreement"), _t("Review")),
    KeyBinding("previous_disagreement", ("K",), _t("Previous disagreement"), _t("Review")),
    KeyBinding("take_version", ("1…9",), _t("Take annotator N's version into gold"), _t("Review")),
    KeyBinding("accept_agreed", ("Ctrl+Shift+A",), _t("Accept all agreed items"), _t("Review")),
    KeyBinding("edit_gold", ("Ctrl+G",), _t("Edit gold directly (toggle)"), _t("Review")),
    KeyBinding("undo", ("Ctrl+Z",), _t("Undo"), _t("General")),
    KeyBinding("redo", ("Ctrl+Shift+Z",), _t("Redo"), _t("General")),
    KeyBinding("import", ("Ctrl+O",), _t("Import texts"), _t("General")),
    KeyBinding("shortcuts", ("?", "F1"), _t("Show this keyboard map"), _t("General")),
    KeyBinding("legend", ("F2",), _t("Show the label schema legend"), _t("General")),
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


def schema_bindings(schema: LabelSchema) -> list[KeyBinding]:
    """The numbers of the schema's stance targets and event types, and the value keys."""

    def numbered(items: Sequence[Choice | EventType]) -> str:
        return " · ".join(f"{n} {item.name}" for n, item in enumerate(items[:9], start=1))

    def span(items: Sequence[Choice | EventType]) -> str:
        return f"1…{min(len(items), 9)}"

    values = " · ".join(f"{value.key.upper()} {value.name}" for value in schema.stance_values)
    value_keys = " ".join(value.key.upper() for value in schema.stance_values)
    rows = [
        (
            "targets",
            ("S", span(schema.stance_targets)),
            numbered(schema.stance_targets),
            _t("Stance"),
        ),
        ("values", (value_keys,), values, _t("Stance")),
        ("types", ("E", span(schema.events)), numbered(schema.events), _t("Events")),
    ]
    return [
        KeyBinding(f"schema:{name}", keys, text, section, sequence=len(keys) > 1)
        for name, keys, text, section in rows
    ]


def key_text(key: str) -> str:
    """A key as shown to the user, in the platform's notation."""
    return QKeySequence(key).toString(QKeySequence.SequenceFormat.NativeText) or key


def _key_badges(item: KeyBinding) -> QHBoxLayout:
    """The keys of a binding as badges: alternatives side by side, a sequence with "›"."""
    keys = QHBoxLayout()
    keys.setSpacing(4)
    keys.addStretch(1)
    for index, key in enumerate(item.keys):
        if index and item.sequence:
            keys.addWidget(QLabel("›"))
        badge = QLabel(key_text(key))
        badge.setProperty("role", "key")
        badge.setSizePolicy(QSizePolicy.Policy.Fixed, QSizePolicy.Policy.Fixed)
        keys.addWidget(badge)
    return keys


def _columns(
    sections: list[tuple[str, list[KeyBinding]]], count: int
) -> list[list[tuple[str, list[KeyBinding]]]]:
    """Sections in reading order over at most ``count`` columns, the tallest as short as
    possible (a section counts its rows and its title)."""
    sizes = [len(items) + 1 for _, items in sections]
    count = max(min(count, len(sections)), 1)

    def tallest(cuts: tuple[int, ...]) -> int:
        bounds = (0, *cuts, len(sections))
        return max(sum(sizes[a:b]) for a, b in itertools.pairwise(bounds))

    cuts = min(itertools.combinations(range(1, len(sections)), count - 1), key=tallest)
    bounds = (0, *cuts, len(sections))
    return [sections[a:b] for a, b in itertools.pairwise(bounds)]


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
        sections: dict[str, list[KeyBinding]] = {}
        for item in (*label_bindings(schema), *KEYMAP, *schema_bindings(schema)):
            sections.setdefault(item.section, []).append(item)
        columns = QHBoxLayout()
        columns.setSpacing(36)
        for group in _columns(list(sections.items()), OVERLAY_COLUMNS):
            grid = QGridLayout()
            grid.setHorizontalSpacing(14)
            grid.setVerticalSpacing(5)
            row = 0
            for section, items in group:
                title = QLabel(QCoreApplication.translate(CONTEXT, section))
                title.setProperty("role", "section")
                grid.addWidget(title, row, 0, 1, 2)
                row += 1
                for item in items:
                    grid.addLayout(_key_badges(item), row, 0, Qt.AlignmentFlag.AlignTop)
                    text = QLabel(QCoreApplication.translate(CONTEXT, item.text))
                    text.setWordWrap(True)
                    text.setMaximumWidth(300)
                    grid.addWidget(text, row, 1, Qt.AlignmentFlag.AlignTop)
                    row += 1
            grid.setRowStretch(row, 1)
            columns.addLayout(grid)
        heading = QLabel(QCoreApplication.translate(CONTEXT, "Keyboard shortcuts"))
        heading.setStyleSheet("font-size: 16pt; font-weight: 600;")
        hint = QLabel(QCoreApplication.translate(CONTEXT, "Press any key to close"))
        hint.setStyleSheet("color: palette(mid);")
        layout = QVBoxLayout(card)
        layout.setContentsMargins(28, 20, 28, 20)
        layout.addWidget(heading)
        layout.addLayout(columns)
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
