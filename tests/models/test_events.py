"""Event commands: do/undo, suggestions, and the database rule that arguments always point
at an existing entity of the same layer."""

from __future__ import annotations

import pytest
from sqlalchemy import insert
from sqlalchemy.exc import IntegrityError

from models import layers
from models.commands import AddEntity, EditError, RemoveEntity
from models.events import (
    AddArgument,
    AddEvent,
    RemoveArgument,
    RemoveEvent,
    SetEventState,
    SetEventType,
    acceptance_rates,
    events,
)
from models.records import DocumentRecord
from models.schema import EventArgument
from models.store import Store

TEXT = "Poutine rencontre Xi à Pékin."


@pytest.fixture
def layer(store: Store) -> int:
    project = store.ensure_project()
    store.add_documents(project.id, [DocumentRecord(TEXT), DocumentRecord("Autre texte.")])
    annotator = store.annotator_id("alice")
    info = layers.open_layer(store, 1, annotator, None, create=True)
    assert info is not None
    return info.id


def _entity(store: Store, layer_id: int, start: int, end: int, label: str = "PER") -> int:
    command = AddEntity(layer_id, start, end, label)
    store.do(command)
    assert command.entity_id is not None
    return command.entity_id


def test_events_add_type_remove_undo(store: Store, layer: int) -> None:
    add = AddEvent(layer, "RENCONTRE_SOMMET", 8, 17)
    store.do(add)
    [event] = events(store, layer)
    assert (event.type, event.start, event.end, event.origin) == (
        "RENCONTRE_SOMMET",
        8,
        17,
        "manual",
    )
    retype = SetEventType(add.event_id or 0, type="VISITE_OFFICIELLE")
    store.do(retype)
    assert events(store, layer)[0].type == "VISITE_OFFICIELLE"
    store.undo(retype)
    assert events(store, layer)[0].type == "RENCONTRE_SOMMET"
    remove = RemoveEvent(add.event_id or 0)
    store.do(remove)
    assert events(store, layer) == []
    store.undo(remove)
    assert events(store, layer) == [event]
    store.undo(add)
    assert events(store, layer) == []
    store.do(add)  # redo keeps the id
    assert events(store, layer)[0].id == event.id


def test_events_argument_removed_with_its_entity_and_restored_by_undo(
    store: Store, layer: int
) -> None:
    putin = _entity(store, layer, 0, 7)
    add = AddEvent(layer, "RENCONTRE_SOMMET", 8, 17)
    store.do(add)
    store.do(AddArgument(add.event_id or 0, "participant", putin))
    remove = RemoveEntity(putin)
    changes = store.do(remove)
    assert changes.events and "participant" in changes.message
    assert events(store, layer)[0].arguments == ()
    store.undo(remove)
    [argument] = events(store, layer)[0].arguments
    assert (argument.role, argument.entity_id, argument.start, argument.end) == (
        "participant",
        putin,
        0,
        7,
    )


def test_events_argument_remove_and_undo(store: Store, layer: int) -> None:
    putin = _entity(store, layer, 0, 7)
    add = AddEvent(layer, "RENCONTRE_SOMMET", 8, 17)
    store.do(add)
    argument = AddArgument(add.event_id or 0, "participant", putin)
    store.do(argument)
    remove = RemoveArgument(argument.argument_id or 0)
    store.do(remove)
    assert events(store, layer)[0].arguments == ()
    store.undo(remove)
    assert events(store, layer)[0].arguments[0].id == argument.argument_id


def test_events_argument_from_another_layer_is_refused(store: Store, layer: int) -> None:
    other = layers.open_layer(store, 2, store.annotator_id("alice"), None, create=True)
    assert other is not None
    foreign = _entity(store, other.id, 0, 5)
    add = AddEvent(layer, "RENCONTRE_SOMMET", 8, 17)
    store.do(add)
    with pytest.raises(EditError):
        store.do(AddArgument(add.event_id or 0, "participant", foreign))
    # the database itself refuses it, whatever the caller does
    with pytest.raises(IntegrityError), store.transaction() as session:
        session.execute(
            insert(EventArgument).values(
                event_id=add.event_id,
                layer_id=layer,
                role="participant",
                entity_id=foreign,
                origin="manual",
            )
        )
    assert events(store, layer)[0].arguments == ()


def test_events_bad_trigger_range_is_refused(store: Store, layer: int) -> None:
    with pytest.raises(EditError):
        store.do(AddEvent(layer, "RENCONTRE_SOMMET", 20, 200))
    assert events(store, layer) == []


def test_events_suggestion_accept_reject_counts(store: Store, layer: int) -> None:
    suggestions = [AddEvent(layer, "RENCONTRE_SOMMET", 8, 17, origin="model") for _ in range(2)]
    for command in suggestions:
        store.do(command)
    store.do(SetEventState(suggestions[0].event_id or 0, state="accepted"))
    reject = SetEventState(suggestions[1].event_id or 0, state="rejected")
    store.do(reject)
    assert [event.id for event in events(store, layer)] == [suggestions[0].event_id]
    assert len(events(store, layer, include_rejected=True)) == 2
    assert acceptance_rates(store) == {"RENCONTRE_SOMMET": {"accepted": 1, "rejected": 1}}
    store.undo(reject)
    assert len(events(store, layer)) == 2
