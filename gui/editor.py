"""The entity editor: turns the document view's requests into undoable model commands,
committed at once, and refreshes the view from what each command changed."""

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
from models.labels import LabelSchema
from models.layers import entities, open_layer
from models.store import Store


class DocumentEditor(QObject):
    changed = Signal(object)  # Changes, after every do, undo and redo
    statusMessage = Signal(str)
    saved = Signal()
    saveFailed = Signal(str)

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
        """Show the document with the annotator's entities (seeded from the model's layer)."""
        self.undo_stack.clear()
        self._document_id, self._annotator_id, self._model_id = document_id, annotator_id, model_id
        document = self.store.document(document_id)
        layer = open_layer(self.store, document_id, annotator_id, model_id)
        self._layer_id = layer.id if layer is not None else None
        spans = entities(self.store, layer.id) if layer is not None else []
        self.view.set_document(document.text, spans, schema)

    def reload_if_unseeded(self) -> None:
        """Seed and show the layer if pre-annotation has now produced the model's layer."""
        if self._document_id is None or self._annotator_id is None or self._layer_id is not None:
            return
        layer = open_layer(self.store, self._document_id, self._annotator_id, self._model_id)
        if layer is not None:
            self._layer_id = layer.id
            self.view.set_spans(entities(self.store, layer.id))

    def mark_done(self) -> bool:
        """Set the layer's status to done (undoable); False when nothing could be set."""
        layer_id = self._ensure_layer()
        return layer_id is not None and self._push(SetStatus(layer_id, "done"))

    def apply_label(self, label: str) -> None:
        """A label chosen outside the view (the palette): as if its key had been pressed."""
        self.view.apply_label(label)
        self.view.setFocus()

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
            layer = open_layer(
                self.store, self._document_id, self._annotator_id, self._model_id, create=True
            )
            assert layer is not None  # create=True always returns a layer
            self._layer_id = layer.id
            self.view.set_spans(entities(self.store, layer.id))
        return self._layer_id

    def _push(self, command: Command) -> bool:
        """Apply the command through the undo stack; False when the store refused it."""
        self._failed = False
        self.undo_stack.push(CommandUndo(self.store, command, self._applied, self._refused))
        return not self._failed

    def _applied(self, changes: Changes) -> None:
        if changes.layer_id == self._layer_id and changes.entities:
            self.view.set_spans(entities(self.store, changes.layer_id), changes.ranges)
            self.view.select_entity(changes.selected)
        if changes.message:
            self.statusMessage.emit(changes.message)
        self.saved.emit()
        self.changed.emit(changes)

    def _refused(self, error: Exception) -> None:
        self._failed = True
        reason = str(error)
        self.statusMessage.emit(self.tr("Edit not saved: {0}").format(reason))
        self.saveFailed.emit(reason)
