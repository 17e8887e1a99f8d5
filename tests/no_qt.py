"""pytest plugin (``-p tests.no_qt``): make Qt and the gui package unimportable.

``make test`` runs tests/models with it, so a Qt import anywhere in ``models`` fails
loudly instead of passing because PySide6 happens to be installed.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from importlib.abc import MetaPathFinder
from importlib.machinery import ModuleSpec
from types import ModuleType

BLOCKED = frozenset({"PySide6", "shiboken6", "superqt", "pytestqt", "gui"})


class QtBlocker(MetaPathFinder):
    """Refuses every module of ``BLOCKED`` before any other finder sees it."""

    def find_spec(
        self,
        fullname: str,
        path: Sequence[str] | None,
        target: ModuleType | None = None,
    ) -> ModuleSpec | None:
        if fullname.partition(".")[0] in BLOCKED:
            raise ModuleNotFoundError(
                f"import of {fullname!r} blocked by tests/no_qt.py: "
                "models must not import Qt or gui",
                name=fullname,
            )
        return None


def install() -> None:
    loaded = sorted(name for name in sys.modules if name.partition(".")[0] in BLOCKED)
    if loaded:
        raise RuntimeError(f"tests/no_qt.py loaded too late, already imported: {loaded}")
    if not any(isinstance(finder, QtBlocker) for finder in sys.meta_path):
        sys.meta_path.insert(0, QtBlocker())


install()
