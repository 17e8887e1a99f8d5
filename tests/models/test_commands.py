"""Edit commands: do, undo and redo restore exact rows (ids included) and say what changed."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import insert, select

from models.commands import (
    AddEntity,
    Command,
    EditError,
    RelabelEntity,
    RemoveEntity,
    ResizeEntity,
    SetStatus,
)
from models.layers import LayerInfo, find_layer
from models.schema import Entity, Event, EventArgument, Layer
from models.store import Store
from tests.models.conftest import SAMPLE

POUTINE = (0, len("Vladimir Poutine"))
XI = (SAMPLE.index("Xi Jinping"), SAMPLE.index("Xi Jinping") + len("Xi Jinping"))


def entity_rows(store: Store, layer_id: int) -> list[tuple[Any, ...]]:
    columns = (Entity.id, Entity.start, Entity.end, Entity.label, Entity.origin, Entity.score)
    with store.reading() as session:
        rows = session.execute(
            select(*columns).where(Entity.layer_id == layer_id).order_by(Entity.id)
        )
        return [tuple(row) for row in rows]


def argument_rows(store: Store, layer_id: int) -> list[tuple[Any, ...]]:
    columns = (
        EventArgument.id,
        EventArgument.event_id,
        EventArgument.role,
        EventArgument.entity_id,
    )
    with store.reading() as session:
        query = (
            select(*columns).where(EventArgument.layer_id == layer_id).order_by(EventArgument.id)
        )
        return [tuple(row) for row in session.execute(query)]


def version(store: Store, layer_id: int) -> int:
    with store.reading() as session:
        return int(session.scalar(select(Layer.version).where(Layer.id == layer_id)) or 0)


def model_entity(store: Store, layer: LayerInfo, span: tuple[int, int], label: str) -> int:
    """An entity as pre-annotation leaves it: origin model, with a score."""
    command = AddEntity(layer.id, *span, label, origin="model", score=0.75)
    store.do(command)
    assert command.entity_id is not None
    return command.entity_id


def cycle(store: Store, command: Command, layer_id: int) -> tuple[list[Any], list[Any]]:
    """do, undo, redo; checks undo restores the rows and redo repeats do exactly."""
    before = entity_rows(store, layer_id), argument_rows(store, layer_id)
    store.do(command)
    after = entity_rows(store, layer_id), argument_rows(store, layer_id)
    assert after != before
    store.undo(command)
    assert (entity_rows(store, layer_id), argument_rows(store, layer_id)) == before
    store.do(command)
    assert (entity_rows(store, layer_id), argument_rows(store, layer_id)) == after
    return after


def test_commands_add_entity_undo_redo_keeps_its_id(store: Store, layer: LayerInfo) -> None:
    command = AddEntity(layer.id, *POUTINE, "PER")
    changes = store.do(command)
    entity_id = command.entity_id
    assert changes.entities and changes.selected == entity_id
    assert changes.ranges == (POUTINE,)
    assert entity_rows(store, layer.id) == [(entity_id, *POUTINE, "PER", "manual", None)]
    assert store.undo(command).entities
    assert entity_rows(store, layer.id) == []
    store.do(command)
    assert entity_rows(store, layer.id) == [(entity_id, *POUTINE, "PER", "manual", None)]


def test_commands_each_edit_bumps_the_layer_version(store: Store, layer: LayerInfo) -> None:
    command = AddEntity(layer.id, *POUTINE, "PER")
    start = version(store, layer.id)
    store.do(command)
    store.undo(command)
    assert version(store, layer.id) == start + 2


def test_commands_relabel_sets_origin_manual_and_undo_restores_model_row(
    store: Store, layer: LayerInfo
) -> None:
    entity_id = model_entity(store, layer, POUTINE, "ORG")
    after = cycle(store, RelabelEntity(entity_id, label="PER"), layer.id)
    assert after[0] == [(entity_id, *POUTINE, "PER", "manual", 0.75)]


def test_commands_resize_sets_origin_manual_and_reports_both_ranges(
    store: Store, layer: LayerInfo
) -> None:
    entity_id = model_entity(store, layer, POUTINE, "PER")
    command = ResizeEntity(entity_id, start=len("Vladimir "), end=POUTINE[1] + 2)
    after = cycle(store, command, layer.id)
    assert after[0] == [(entity_id, len("Vladimir "), POUTINE[1] + 2, "PER", "manual", 0.75)]
    assert store.undo(command).ranges == ((0, POUTINE[1] + 2),)


def test_commands_remove_restores_entity_and_event_arguments_that_pointed_at_it(
    store: Store, layer: LayerInfo
) -> None:
    poutine = model_entity(store, layer, POUTINE, "PER")
    xi = model_entity(store, layer, XI, "PER")
    with store.transaction() as session:
        event_id = session.execute(
            insert(Event)
            .values(layer_id=layer.id, type="VISITE_OFFICIELLE", trigger_start=17, trigger_end=22)
            .returning(Event.id)
        ).scalar_one()
        session.execute(
            insert(EventArgument),
            [
                {"event_id": event_id, "layer_id": layer.id, "role": "hote", "entity_id": poutine},
                {"event_id": event_id, "layer_id": layer.id, "role": "lieu", "entity_id": poutine},
                {"event_id": event_id, "layer_id": layer.id, "role": "visiteur", "entity_id": xi},
            ],
        )
    command = RemoveEntity(poutine)
    entities_after, arguments_after = cycle(store, command, layer.id)
    assert [row[0] for row in entities_after] == [xi]
    assert [row[2:] for row in arguments_after] == [("visiteur", xi)]
    store.undo(command)
    changes = store.do(command)
    assert changes.events and changes.ranges == (POUTINE,)
    assert "2 event argument(s)" in changes.message and "hote, lieu" in changes.message


def status(store: Store, layer: LayerInfo) -> str:
    found = find_layer(store, layer.document_id, layer.annotator_id)
    assert found is not None
    return found.status


def test_commands_set_status_undo_redo(store: Store, layer: LayerInfo) -> None:
    command = SetStatus(layer.id, "done")
    assert store.do(command).status
    assert status(store, layer) == "done"
    store.undo(command)
    assert status(store, layer) == layer.status == "in_progress"
    store.do(command)
    assert status(store, layer) == "done"
    with pytest.raises(EditError, match="unknown status"):
        store.do(SetStatus(layer.id, "finished"))


@pytest.mark.parametrize(
    "span",
    [(-1, 3), (5, 5), (8, 2), (0, len(SAMPLE) + 1)],
    ids=["negative", "empty", "reversed", "past-end"],
)
def test_commands_bad_range_raises_edit_error_and_changes_nothing(
    store: Store, layer: LayerInfo, span: tuple[int, int]
) -> None:
    entity_id = model_entity(store, layer, POUTINE, "PER")
    before = entity_rows(store, layer.id), version(store, layer.id)
    with pytest.raises(EditError, match="outside the text"):
        store.do(AddEntity(layer.id, *span, "PER"))
    with pytest.raises(EditError, match="outside the text"):
        store.do(ResizeEntity(entity_id, start=span[0], end=span[1]))
    assert (entity_rows(store, layer.id), version(store, layer.id)) == before


def test_commands_missing_rows_raise_edit_error(store: Store, layer: LayerInfo) -> None:
    with pytest.raises(EditError, match="layer 999999 does not exist"):
        store.do(AddEntity(999999, *POUTINE, "PER"))
    for command in (RelabelEntity(999999, label="PER"), RemoveEntity(999999)):
        with pytest.raises(EditError, match="entity 999999 does not exist"):
            store.do(command)
