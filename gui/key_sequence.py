"""Multi-key sequences (S, target number, value key; E, type number; ...) typed in a widget.

A ``KeySequencer`` watches widgets through an event filter. The first key of a sequence
starts it; while it is pending, every key press goes to the sequence (a window shortcut
or the widget's own use of the key waits), the hint of the pending step is published for
the status bar, Escape cancels, and a key the step does not know cancels with a message.
Keys are matched case-insensitively on the text they type.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QWidget

Action = Callable[[], None]

COMMAND_MODIFIERS = (
    Qt.KeyboardModifier.ControlModifier
    | Qt.KeyboardModifier.AltModifier
    | Qt.KeyboardModifier.MetaModifier
)
MODIFIER_KEYS = {
    Qt.Key.Key_Shift,
    Qt.Key.Key_Control,
    Qt.Key.Key_Alt,
    Qt.Key.Key_Meta,
    Qt.Key.Key_AltGr,
}


@dataclass(frozen=True, slots=True)
class KeyStep:
    """A pending step: what the status bar shows and what each next key does."""

    hint: str
    keys: Mapping[str, KeyStep | Action] = field(default_factory=dict)


class KeySequencer(QObject):
    """Runs the sequences of ``root`` (first key → a step or an action) in watched widgets."""

    hintChanged = Signal(str)  # the pending step's hint; "" when no sequence is pending
    cancelled = Signal(str)  # why a sequence stopped without an action

    def __init__(
        self, root: Mapping[str, KeyStep | Action] | None = None, parent: QObject | None = None
    ) -> None:
        super().__init__(parent)
        self.root: Mapping[str, KeyStep | Action] = root or {}
        self._step: KeyStep | None = None
        self._typed: list[str] = []

    @property
    def pending(self) -> bool:
        return self._step is not None

    @property
    def typed(self) -> str:
        """The keys typed so far in the pending sequence, e.g. "S 1"."""
        return " ".join(self._typed)

    def watch(self, widget: QWidget) -> None:
        widget.installEventFilter(self)

    def cancel(self) -> None:
        pending = self._step is not None
        self._step, self._typed = None, []
        if pending:
            self.hintChanged.emit("")

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if not isinstance(event, QKeyEvent):
            if event.type() == QEvent.Type.FocusOut:
                self.cancel()
            return False
        if event.type() == QEvent.Type.ShortcutOverride:
            if self._wants(event):
                event.accept()  # a window shortcut on the same key must wait
                return True
            return False
        if event.type() == QEvent.Type.KeyPress and self._wants(event):
            self.press(event)
            return True
        return False

    def _wants(self, event: QKeyEvent) -> bool:
        if self._step is not None:
            return Qt.Key(event.key()) not in MODIFIER_KEYS
        return not event.modifiers() & COMMAND_MODIFIERS and _key(event) in self.root

    def press(self, event: QKeyEvent) -> None:
        """Advance the sequence with one key press (the filter calls it)."""
        if self._step is not None and Qt.Key(event.key()) == Qt.Key.Key_Escape:
            self.cancel()
            return
        key = _key(event)
        keys = self.root if self._step is None else self._step.keys
        target = keys.get(key) if not event.modifiers() & COMMAND_MODIFIERS else None
        if target is None:
            typed = " ".join([*self._typed, event.text().upper() or "?"])
            self.cancel()
            self.cancelled.emit(self.tr("{keys}: no such key here, cancelled").format(keys=typed))
            return
        self._typed.append(key.upper())
        if isinstance(target, KeyStep):
            self._step = target
            self.hintChanged.emit(target.hint)
            return
        self.cancel()
        target()


def _key(event: QKeyEvent) -> str:
    return event.text().lower()
