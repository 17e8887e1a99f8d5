"""The Qt binding itself: PySide6-Essentials 6.12.0 took a reference off ``None`` on every
call that returns nothing, and Python 3.11 (where ``None`` is not immortal) aborted with
"none_dealloc" after a few hundred document switches. pyproject.toml keeps that release out;
this test fails on it."""

from __future__ import annotations

import sys

from PySide6.QtWidgets import QLabel
from pytestqt.qtbot import QtBot


def test_calls_returning_nothing_keep_none_alive(qtbot: QtBot) -> None:
    label = QLabel()
    qtbot.addWidget(label)
    before = sys.getrefcount(None)
    for _ in range(1000):
        label.setText("Pékin")
    assert sys.getrefcount(None) >= before - 100  # other code may release a few references
