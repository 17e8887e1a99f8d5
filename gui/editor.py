"""The document editor: turns the document view's and the panels' requests (entities,
stance, events) into undoable model commands, committed at once, and refreshes the view
from what each command changed."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QUndoStack

from gui.document_view import DocumentView
from gui.undo import CommandUndo
from models.commands import (
    AddEntity,
    Changes,
    Command,
    RelabelEntity,
    RemoveEntity,
    ResizeEntity,
    SetStatus,
)
from models.db import DatabaseError, UnavailableError
from models.events import (
    AddArgument,
    AddEvent,
    RemoveArgument,
    RemoveEvent,
    SetEventState,
    SetEventType,
)
from models.labels import LabelSchema
from models.layers import EntitySpan, entities, open_layer
from models.stance import AddEvidence, RemoveEvidence, SetStance
from models.store import Store


class DocumentEditor(QObject):
    changed = Signal(object)  # Changes, after every do, undo and redo
    loaded = Signal()  # a document (or its newly seeded layer) is shown: panels re-read
    statusMessage = Signal(str)
    saved = Signal()
    saveFailed = Signal(str)
    retryAvailable = Signal(bool)  # an edit failed only because the database was unavailable

    def __init__(
        self,
        store: Store,
        view: DocumentView,
        undo_stack: QUndoStack,
        parent: QObject | None = None,
    ) -> None:
        super().__init__(parent)
        self.store, self.view, self.undo_stack = store, view, undo_stack
        self._document_id: int | None = None
        self._annotator_id: int | None = None
        self._model_id: int | None = None
        self._layer_id: int | None = None
        self._failed = False
        self._pushing: Command | None = None
        self.unsaved: Command | None = None  # the edit to retry (``retry``)
        view.createRequested.connect(self._create)
        view.relabelRequested.connect(self._relabel)
        view.removeRequested.connect(self._remove)
        view.resizeRequested.connect(self._resize)

    @property
    def document_id(self) -> int | None:
        return self._document_id

    @property
    def layer_id(self) -> int | None:
        return self._layer_id

    def load(
        self, document_id: int, annotator_id: int, schema: LabelSchema, model_id: int | None
    ) -> None:
        """Show the document with the annotator's entities (seeded from the model's layer).

        Everything is read first: when the database is unavailable (``UnavailableError``
        raised to the caller) the document shown stays, with its undo history.
        """
        document = self.store.document(document_id)
        layer = open_layer(self.store, document_id, annotator_id, model_id)
        spans = entities(self.store, layer.id) if layer is not None else []
        self.undo_stack.clear()
        self._document_id, self._annotator_id, self._model_id = document_id, annotator_id, model_id
        self._layer_id = layer.id if layer is not None else None
        self.view.set_document(document.text, spans, schema)
        self.loaded.emit()

    def reload_if_unseeded(self) -> None:
        """Seed and show the layer if pre-annotation has now produced the model's layer."""
        if self._document_id is None or self._annotator_id is None or self._layer_id is not None:
            return
        layer = open_layer(self.store, self._document_id, self._annotator_id, self._model_id)
        if layer is not None:
            self._layer_id = layer.id
            self.view.set_spans(entities(self.store, layer.id))
            self.loaded.emit()

    def mark_done(self) -> bool:
        """Set the layer's status to done (undoable); False when nothing could be set."""
        layer_id = self._ensure_layer()
        return layer_id is not None and self._push(SetStatus(layer_id, "done"))

    def apply_label(self, label: str) -> None:
        """A label chosen outside the view (the palette): as if its key had been pressed."""
        self.view.apply_label(label)
        self.view.setFocus()

    # -- stance ------------------------------------------------------------------------------
    def set_stance(self, target: str, value: str | None) -> bool:
        """The document's stance toward ``target`` (None clears it)."""
        layer_id = self._ensure_layer()
        return layer_id is not None and self._push(SetStance(layer_id, target, value=value))

    def add_evidence(self, target: str, start: int, end: int) -> bool:
        layer_id = self._ensure_layer()
        command = AddEvidence(layer_id, target, start=start, end=end) if layer_id else None
        return command is not None and self._push(command)

    def remove_evidence(self, target: str, start: int, end: int) -> bool:
        layer_id = self._layer_id
        command = RemoveEvidence(layer_id, target, start=start, end=end) if layer_id else None
        return command is not None and self._push(command)

    # -- events ------------------------------------------------------------------------------
    def add_event(self, event_type: str, start: int, end: int) -> int | None:
        """A new event with its trigger; its id, or None when nothing was added."""
        layer_id = self._ensure_layer()
        if layer_id is None:
            return None
        command = AddEvent(layer_id, event_type, start, end)
        return command.event_id if self._push(command) else None

    def remove_event(self, event_id: int) -> bool:
        return self._push(RemoveEvent(event_id))

    def set_event_type(self, event_id: int, event_type: str) -> bool:
        return self._push(SetEventType(event_id, type=event_type))

    def set_event_state(self, event_id: int, state: str) -> bool:
        """Accept ("accepted") or reject ("rejected") a suggested event."""
        return self._push(SetEventState(event_id, state=state))

    def add_argument(self, event_id: int, role: str, entity_id: int) -> bool:
        return self._push(AddArgument(event_id, role, entity_id))

    def remove_argument(self, argument_id: int) -> bool:
        return self._push(RemoveArgument(argument_id))

    def add_argument_entity(
        self, event_id: int, role: str, start: int, end: int, label: str
    ) -> bool:
        """Create an entity on [start, end) and fill ``role`` with it: one undo step."""
        layer_id = self._ensure_layer()
        if layer_id is None:
            return False
        entity = AddEntity(layer_id, start, end, label)
        self.undo_stack.beginMacro(self.tr("add {label} as {role}").format(label=label, role=role))
        created = self._push(entity)
        filled = created and self._push(AddArgument(event_id, role, entity.entity_id or 0))
        self.undo_stack.endMacro()
        if not created:  # nothing happened: drop the empty step from the history
            self.undo_stack.undo()
        return filled

    # -- requests from the view ------------------------------------------------------------
    def _create(self, start: int, end: int, label: str) -> None:
        layer_id = self._ensure_layer()
        if layer_id is None:
            return
        same = next((s for s in self.view.spans if (s.start, s.end) == (start, end)), None)
        if same is None:
            self._push(AddEntity(layer_id, start, end, label))
        elif same.label != label:
            self._push(RelabelEntity(same.id, label=label))
        else:
            self.view.select_entity(same.id)

    def _relabel(self, entity_id: int, label: str) -> None:
        self._push(RelabelEntity(entity_id, label=label))

    def _remove(self, entity_id: int) -> None:
        self._push(RemoveEntity(entity_id))

    def _resize(self, entity_id: int, start: int, end: int) -> None:
        self._push(ResizeEntity(entity_id, start=start, end=end))

    def _ensure_layer(self) -> int | None:
        """The annotator's layer, created (and seeded if the model's layer exists) on demand."""
        if self._layer_id is None and self._document_id is not None:
            assert self._annotator_id is not None
            try:
                layer = open_layer(
                    self.store, self._document_id, self._annotator_id, self._model_id, create=True
                )
                assert layer is not None  # create=True always returns a layer
                self._layer_id = layer.id
                self.view.set_spans(entities(self.store, layer.id))
            except DatabaseError as error:  # read-only, locked, server away: no edit made
                self._refused(error)
                return None
        return self._layer_id

    def _push(self, command: Command) -> bool:
        """Apply the command through the undo stack; False when the store refused it."""
        self._failed, self._pushing = False, command
        try:
            self.undo_stack.push(CommandUndo(self.store, command, self._applied, self._refused))
        finally:
            self._pushing = None
        return not self._failed

    def retry(self) -> bool:
        """Apply again the edit that failed because the database was locked or away."""
        command, self.unsaved = self.unsaved, None
        saved = command is not None and self._push(command)
        self.retryAvailable.emit(self.unsaved is not None)
        return saved

    def _applied(self, changes: Changes) -> None:
        if changes.layer_id == self._layer_id and changes.entities:
            try:
                spans = self._spans_after(changes)
            except UnavailableError as error:  # saved, but the server went away just after
                self.statusMessage.emit(self.tr("Saved; not shown yet: {0}").format(error))
            else:
                self.view.set_spans(spans, changes.ranges)
                self.view.select_entity(changes.selected)
        if changes.message:
            self.statusMessage.emit(changes.message)
        self.saved.emit()
        self.changed.emit(changes)

    def _spans_after(self, changes: Changes) -> list[EntitySpan]:
        """The view's entities with those in the changed ranges read again (an edit changes
        only entities in its ranges: a long document's others are not read again)."""
        if not changes.ranges:
            return entities(self.store, changes.layer_id)
        fresh = entities(self.store, changes.layer_id, within=changes.ranges)
        kept = [
            span
            for span in self.view.spans
            if not any(span.start < end and span.end > start for start, end in changes.ranges)
        ]
        return kept + fresh

    def _refused(self, error: Exception) -> None:
        self._failed = True
        if isinstance(error, UnavailableError) and self._pushing is not None:
            self.unsaved = self._pushing  # nothing was saved: the same edit can be retried
            self.retryAvailable.emit(True)
        reason = str(error)
        self.statusMessage.emit(self.tr("Edit not saved: {0}").format(reason))
        self.saveFailed.emit(reason)
