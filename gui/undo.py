"""QUndoCommand over a models command: the store applies and commits it, the GUI refreshes
from the Changes it returns (DESIGN.md house style 2)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtGui import QUndoCommand
from sqlalchemy.exc import SQLAlchemyError

from models.access import AccessError, LayerVersion
from models.commands import Changes, Command, EditError
from models.db import DatabaseError
from models.store import Store

# refused (bad edit, no right, stale, read-only) or failed (locked, server away): not saved
FAILURES = (EditError, SQLAlchemyError, DatabaseError, AccessError)


class CommandUndo(QUndoCommand):
    """``redo`` runs ``store.do(command)``, ``undo`` runs ``store.undo(command)``.

    The returned Changes go to ``on_changes``. When the store refuses or fails, nothing is
    shown as done: the error goes to ``on_error`` and the command is made obsolete, so the
    undo stack drops it instead of offering to undo an edit that never happened.
    ``expected`` gives the layer version the user last saw (optimistic locking of a layer
    several people edit, such as gold): a stale edit is refused that way.
    """

    def __init__(
        self,
        store: Store,
        command: Command,
        on_changes: Callable[[Changes], None],
        on_error: Callable[[Exception], None],
        expected: Callable[[], LayerVersion | None] | None = None,
    ) -> None:
        super().__init__(command.text)
        self.store, self.command = store, command
        self._on_changes, self._on_error = on_changes, on_error
        self._expected = expected

    def redo(self) -> None:
        self._apply(self.store.do)

    def undo(self) -> None:
        self._apply(self.store.undo)

    def _apply(self, action: Callable[[Command, LayerVersion | None], Changes]) -> None:
        try:
            changes = action(self.command, self._expected() if self._expected else None)
        except FAILURES as error:
            self.setObsolete(True)
            self._on_error(error)
            return
        self._on_changes(changes)
