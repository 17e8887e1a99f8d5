"""Widgets shared by the side panels: the bold panel title and the grey key hint."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel


def panel_title(text: str) -> QLabel:
    """The panel's heading, bold and slightly larger than the body."""
    title = QLabel(text)
    title.setStyleSheet("font-weight: 600; font-size: 11pt; padding: 2px 0 4px 2px;")
    return title


def panel_hint(text: str) -> QLabel:
    """A wrapped hint under the panel, in the palette's placeholder colour."""
    hint = QLabel(text)
    hint.setWordWrap(True)
    hint.setStyleSheet("color: palette(placeholder-text);")
    return hint
