"""GUI tests run offscreen (set before pytest-qt creates the QApplication).

Each test file brings its own fixtures; this file only holds the platform setting and a
screenshot helper.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from PySide6.QtWidgets import QWidget

os.environ["QT_QPA_PLATFORM"] = "offscreen"

SHOTS = Path(os.environ.get("GLOSE_SHOTS", Path(__file__).resolve().parents[2] / "shots"))


def screenshot(widget: QWidget, name: str) -> Path:
    """Save what ``widget`` shows as shots/<name>.png (or $GLOSE_SHOTS) and return the path."""
    SHOTS.mkdir(parents=True, exist_ok=True)
    path = SHOTS / f"{name}.png"
    if not widget.grab().save(str(path)):
        raise OSError(f"cannot write screenshot {path}")
    return path
