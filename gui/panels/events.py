"""The events panel: the document's events (type, trigger, arguments by role), suggestions
to accept or reject, role filling, and the E key sequence; event marks in the text.

The current event's roles can be armed (selecting a role row, Tab / Shift+Tab in the list,
Alt+→ / Alt+← anywhere): the document view then fills the armed role with the entity that
is clicked, or selected and confirmed with Enter, or created on the spot with a label key.
Every change goes through the editor (undoable, committed at once).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

from PySide6.QtCore import QEvent, QModelIndex, QPoint, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QFont, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QHBoxLayout,
    QHeaderView,
    QMenu,
    QPushButton,
    QTreeWidget,
    QTreeWidgetItem,
    QVBoxLayout,
    QWidget,
)

from gui.document_view import DocumentView
from gui.editor import DocumentEditor
from gui.highlighter import (
    ARGUMENT,
    CURRENT_SUGGESTED,
    CURRENT_TRIGGER,
    EVENT_COLOUR,
    SUGGESTED_TRIGGER,
    TRIGGER,
    Mark,
)
from gui.key_sequence import Action, KeyStep
from gui.panels.common import panel_title
from gui.style import label_colour, tint
from models.commands import Changes
from models.events import ArgumentView, EventView, events
from models.labels import LabelSchema

ROW_ROLE = Qt.ItemDataRole.UserRole + 1  # the Row of a tree item
SUGGESTED_COLOUR = QColor("#6b7280")
ARMED_BACKGROUND = tint(EVENT_COLOUR, 0.18)


@dataclass(frozen=True, slots=True)
class Row:
    """What a tree item stands for: an event, or one of its roles (filled or not)."""

    event_id: int
    role: str = ""  # "" for the event's own row
    argument_id: int | None = None


def _row(item: QTreeWidgetItem) -> Row:
    row = item.data(0, ROW_ROLE)
    assert isinstance(row, Row)
    return row


def _children(item: QTreeWidgetItem) -> list[QTreeWidgetItem]:
    return [child for i in range(item.childCount()) if (child := item.child(i)) is not None]


class EventTree(QTreeWidget):
    """The list of events; Tab / Shift+Tab step through the current event's roles, Enter
    fills the current role, Delete removes the current event or argument."""

    roleStep = Signal(int)
    assignPressed = Signal()
    deletePressed = Signal()

    def event(self, event: QEvent) -> bool:
        if isinstance(event, QKeyEvent) and event.key() in (Qt.Key.Key_Tab, Qt.Key.Key_Backtab):
            if event.type() == QEvent.Type.KeyPress:  # before Qt moves the focus
                backwards = event.key() == Qt.Key.Key_Backtab
                self.roleStep.emit(-1 if backwards else 1)
            return True
        return super().event(event)

    def keyPressEvent(self, event: QKeyEvent) -> None:
        key = event.key()
        if key in (Qt.Key.Key_Return, Qt.Key.Key_Enter):
            self.assignPressed.emit()
        elif key in (Qt.Key.Key_Delete, Qt.Key.Key_Backspace):
            self.deletePressed.emit()
        else:
            super().keyPressEvent(event)


class EventsPanel(QWidget):
    """Events of the open document, in text order; suggestions italic with a badge."""

    def __init__(
        self,
        schema: LabelSchema,
        editor: DocumentEditor,
        view: DocumentView,
        parent: QWidget | None = None,
    ) -> None:
        super().__init__(parent)
        self.schema, self.editor, self.view = schema, editor, view
        self.items: list[EventView] = []
        self.role_names = {role.id: role.name for role in schema.roles}
        self.type_names = {kind.id: kind.name for kind in schema.events}
        self.title = panel_title(self.tr("Events"))
        self.types = QComboBox()
        self.types.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        for number, kind in enumerate(schema.events, start=1):
            self.types.addItem(f"{number}  {kind.name}", kind.id)
        self.add_button = QPushButton(self.tr("Add"))
        self.add_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.add_button.setToolTip(self.tr("New event on the selected trigger (E, type number)"))
        self.add_button.clicked.connect(lambda: self.create_or_retype(self.types.currentData()))
        self.tree = EventTree()
        self.tree.setColumnCount(2)
        self.tree.setHeaderHidden(True)
        self.tree.setRootIsDecorated(False)
        self.tree.setIndentation(14)
        self.tree.setUniformRowHeights(True)
        self.tree.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.tree.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)
        self.tree.header().setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        self.tree.header().setStretchLastSection(True)
        self.tree.setStyleSheet(
            "QTreeWidget::item { padding: 3px 2px; }"
            f"QTreeWidget::item:selected {{ background: {ARMED_BACKGROUND.name()};"
            " color: palette(text); }"
        )
        self.review_buttons = (QPushButton(self.tr("Accept  A")), QPushButton(self.tr("Reject  R")))
        self.delete_button = QPushButton(self.tr("Delete"))
        actions = QHBoxLayout()
        for button in (*self.review_buttons, self.delete_button):
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            actions.addWidget(button)
        self.review_buttons[0].clicked.connect(lambda: self.review(True))
        self.review_buttons[1].clicked.connect(lambda: self.review(False))
        self.delete_button.clicked.connect(self.remove_current)
        adding = QHBoxLayout()
        adding.addWidget(self.types, 1)
        adding.addWidget(self.add_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(4)
        layout.addWidget(self.title)
        layout.addLayout(adding)
        layout.addWidget(self.tree, 1)
        layout.addLayout(actions)
        self.tree.currentItemChanged.connect(self._current_changed)
        self.tree.roleStep.connect(self.step_role)
        self.tree.assignPressed.connect(self.assign_selected)
        self.tree.deletePressed.connect(self.remove_current)
        self.tree.customContextMenuRequested.connect(self._context_menu)
        editor.loaded.connect(self.refresh)
        editor.changed.connect(self._changed)
        view.assignRequested.connect(self.assign)
        view.assignNewRequested.connect(self.assign_new)
        view.disarmRequested.connect(lambda: self.select(self.current_row(), role=False))
        view.textClicked.connect(self._text_clicked)
        self._update_actions()

    # -- reading ---------------------------------------------------------------------------
    def refresh(self, keep: Row | None = None) -> None:
        """Re-read the layer's events; keep the current row (or ``keep``) when it still exists."""
        keep = keep or self.current_row()
        layer_id = self.editor.layer_id
        self.items = events(self.editor.store, layer_id) if layer_id is not None else []
        self.tree.blockSignals(True)
        self.tree.clear()
        for event in self.items:
            self._add_event_item(event)
        self.tree.blockSignals(False)
        suggested = sum(event.state == "suggested" for event in self.items)
        title = self.tr("Events ({count})").format(count=len(self.items))
        if suggested:
            title += "  " + self.tr("· {count} suggested").format(count=suggested)
        self.title.setText(title)
        self.select(keep, role=keep is not None and bool(keep.role))

    def _changed(self, changes: Changes) -> None:
        if (changes.events or changes.entities) and changes.layer_id == self.editor.layer_id:
            self.refresh()

    def _add_event_item(self, event: EventView) -> None:
        trigger = " ".join(self.view.text[event.start : event.end].split())
        item = QTreeWidgetItem([self.type_names.get(event.type, event.type), f"« {trigger} »"])
        item.setData(0, ROW_ROLE, Row(event.id))
        suggested = event.state == "suggested"
        font = QFont(self.tree.font())
        font.setBold(not suggested)
        font.setItalic(suggested)
        item.setFont(0, font)
        item.setForeground(0, QBrush(SUGGESTED_COLOUR if suggested else EVENT_COLOUR))
        if suggested:
            item.setText(1, item.text(1) + "   " + self.tr("suggested"))
            item.setForeground(1, QBrush(SUGGESTED_COLOUR))
            item.setToolTip(0, self.tr("Suggested by the model: A accepts, R rejects"))
        self.tree.addTopLevelItem(item)
        for role, argument in self._role_rows(event):
            self._add_role_item(item, event, role, argument)
        item.setExpanded(True)

    def _role_rows(self, event: EventView) -> list[tuple[str, ArgumentView | None]]:
        """The type's roles in schema order (each argument, or one empty row), then others."""
        kind = next((kind for kind in self.schema.events if kind.id == event.type), None)
        roles = list(kind.roles if kind is not None else ())
        roles += [arg.role for arg in event.arguments if arg.role not in roles]
        rows: list[tuple[str, ArgumentView | None]] = []
        for role in dict.fromkeys(roles):
            filled = [argument for argument in event.arguments if argument.role == role]
            rows += [(role, argument) for argument in filled] or [(role, None)]
        return rows

    def _add_role_item(
        self, parent: QTreeWidgetItem, event: EventView, role: str, argument: ArgumentView | None
    ) -> None:
        name = self.role_names.get(role, role)
        if argument is None:
            item = QTreeWidgetItem([name, "—"])
            item.setForeground(1, QBrush(QColor("#9ca3af")))
        else:
            text = " ".join(self.view.text[argument.start : argument.end].split())
            item = QTreeWidgetItem([name, f"{text}  [{argument.label}]"])
            item.setBackground(1, QBrush(tint(label_colour(self.schema, argument.label), 0.22)))
        item.setForeground(0, QBrush(QColor("#4b5563")))
        row = Row(event.id, role, argument.id if argument is not None else None)
        item.setData(0, ROW_ROLE, row)
        parent.addChild(item)

    # -- current event and armed role ------------------------------------------------------
    def current_row(self) -> Row | None:
        item = self.tree.currentItem()
        row = item.data(0, ROW_ROLE) if item is not None else None
        return row if isinstance(row, Row) else None

    def current_event(self) -> EventView | None:
        row = self.current_row()
        return next((e for e in self.items if row is not None and e.id == row.event_id), None)

    def armed_role(self) -> str:
        row = self.current_row()
        return row.role if row is not None else ""

    def select(self, row: Row | None, role: bool = True) -> None:
        """Make ``row`` current: its event's row, or (``role``) its role row when it exists."""
        tops = [self.tree.topLevelItem(i) for i in range(self.tree.topLevelItemCount())]
        top = next((t for t in tops if t and row and _row(t).event_id == row.event_id), None)
        if top is None or row is None:
            self.tree.setCurrentIndex(QModelIndex())
            self._current_changed()
            return
        same = [child for child in _children(top) if role and _row(child).role == row.role]
        exact = [child for child in same if _row(child).argument_id == row.argument_id]
        self.tree.setCurrentItem((exact or same or [top])[0])

    def step_event(self, step: int) -> None:
        """Make the next (+1) or previous (-1) event current, wrapping."""
        if not self.items:
            return
        current = self.current_event()
        index = self.items.index(current) + step if current is not None else 0
        if current is None and step < 0:
            index = len(self.items) - 1
        self.select(Row(self.items[index % len(self.items)].id), role=False)

    def step_role(self, step: int) -> None:
        """Arm the next (+1) or previous (-1) role of the current event, wrapping; a role
        filled several times is one step (its first row)."""
        item = self.tree.currentItem()
        if item is None:
            return
        firsts: dict[str, QTreeWidgetItem] = {}
        for child in _children(item.parent() or item):
            firsts.setdefault(_row(child).role, child)
        if not firsts:
            return
        roles = list(firsts)
        role = _row(item).role
        index = roles.index(role) if role else (-1 if step > 0 else 0)
        self.tree.setCurrentItem(firsts[roles[(index + step) % len(roles)]])

    def _current_changed(self, *_: object) -> None:
        role = self.armed_role()
        self.view.set_armed(self.role_names.get(role, role))
        self._mark_events()
        self._update_actions()
        item = self.tree.currentItem()
        if item is not None:
            self.tree.scrollToItem(item)

    def _mark_events(self) -> None:
        current = self.current_event()
        marks: list[Mark] = []
        for event in self.items:
            suggested = event.state == "suggested"
            if event is current:
                style = CURRENT_SUGGESTED if suggested else CURRENT_TRIGGER
                marks += [Mark(arg.start, arg.end, ARGUMENT) for arg in event.arguments]
            else:
                style = SUGGESTED_TRIGGER if suggested else TRIGGER
            marks.append(Mark(event.start, event.end, style))
        self.view.set_marks("events", marks)

    def _update_actions(self) -> None:
        event = self.current_event()
        suggested = event is not None and event.state == "suggested"
        for button in self.review_buttons:
            button.setEnabled(suggested)
        self.delete_button.setEnabled(event is not None)

    def _text_clicked(self, offset: int) -> None:
        hit = next((e for e in self.items if e.start <= offset < e.end), None)
        if hit is not None:
            self.select(Row(hit.id), role=False)

    # -- edits -----------------------------------------------------------------------------
    def create_or_retype(self, event_type: str) -> None:
        """With a text selection: a new event on it (whole tokens); else the current event's
        new type."""
        selection = self.view.selection_range()
        current = self.current_event()
        if selection is not None:
            event_id = self.editor.add_event(event_type, *selection)
            if event_id is not None:
                self.select(Row(event_id), role=False)
                cursor = self.view.textCursor()
                cursor.clearSelection()
                self.view.setTextCursor(cursor)
        elif current is not None:
            if current.type != event_type:
                self.editor.set_event_type(current.id, event_type)
        else:
            self.view.notice.emit(self.tr("Select the trigger words of the event first."))

    def assign(self, entity_id: int) -> None:
        """Fill the armed role of the current event with an entity."""
        row = self.current_row()
        if row is None or not row.role:
            return
        event = self.current_event()
        if event is not None and any(
            arg.role == row.role and arg.entity_id == entity_id for arg in event.arguments
        ):
            self.view.notice.emit(self.tr("That entity already fills this role."))
            return
        if self.editor.add_argument(row.event_id, row.role, entity_id):
            self.select(Row(row.event_id, row.role))

    def assign_selected(self) -> None:
        entity = self.view.selected_entity()
        if entity is None:
            self.view.notice.emit(self.tr("Select an entity in the text first."))
        else:
            self.assign(entity.id)

    def assign_new(self, start: int, end: int, label: str) -> None:
        """Create an entity on [start, end) and fill the armed role with it (one undo step)."""
        row = self.current_row()
        if row is not None and row.role:
            self.editor.add_argument_entity(row.event_id, row.role, start, end, label)
            self.select(Row(row.event_id, row.role))

    def remove_current(self) -> None:
        """Delete the current argument, or the current event with its arguments."""
        row = self.current_row()
        if row is None:
            return
        if row.argument_id is not None:
            self.editor.remove_argument(row.argument_id)
        elif not row.role:
            following = self._neighbour(row.event_id)
            if self.editor.remove_event(row.event_id):
                self.select(following, role=False)

    def review(self, accept: bool) -> None:
        """Accept (A) or reject (R) the current event when it is a suggestion."""
        event = self.current_event()
        if event is None or event.state != "suggested":
            self.view.notice.emit(self.tr("Select a suggested event to accept or reject."))
            return
        following = self._neighbour(event.id) if not accept else Row(event.id)
        state = "accepted" if accept else "rejected"
        if self.editor.set_event_state(event.id, state):
            self.select(following, role=False)

    def _neighbour(self, event_id: int) -> Row | None:
        """The event shown after (else before) ``event_id``: current once it is gone."""
        ids = [event.id for event in self.items]
        index = ids.index(event_id)
        others = ids[index + 1 :] + ids[:index][::-1]
        return Row(others[0]) if others else None

    def _context_menu(self, point: QPoint) -> None:
        event = self.current_event()
        if event is None:
            return
        menu = QMenu(self)
        types = menu.addMenu(self.tr("Change type"))
        for number, kind in enumerate(self.schema.events, start=1):
            action = types.addAction(f"{number}  {kind.name}")
            action.setCheckable(True)
            action.setChecked(kind.id == event.type)
            action.triggered.connect(partial(self.editor.set_event_type, event.id, kind.id))
        if event.state == "suggested":
            menu.addAction(self.tr("Accept"), partial(self.review, True))
            menu.addAction(self.tr("Reject"), partial(self.review, False))
        menu.addAction(self.tr("Delete"), self.remove_current)
        menu.popup(self.tree.viewport().mapToGlobal(point))

    # -- keys ------------------------------------------------------------------------------
    def key_step(self) -> KeyStep:
        """The step after E: the event type's number."""
        keys: dict[str, KeyStep | Action] = {
            str(number): partial(self.create_or_retype, kind.id)
            for number, kind in enumerate(self.schema.events[:9], start=1)
        }
        listed = " · ".join(
            f"{number} {kind.name}" for number, kind in enumerate(self.schema.events[:9], start=1)
        )
        return KeyStep(self.tr("Event › type:  {types}").format(types=listed), keys)
