"""Layers: a human layer is seeded from the model layer once, keeping origins, never again."""

from __future__ import annotations

from sqlalchemy import insert, select

from models.commands import AddEntity, RemoveEntity
from models.layers import (
    EntitySpan,
    add_time,
    entities,
    find_layer,
    model_annotator_id,
    open_layer,
)
from models.schema import Event, EventArgument, Layer
from models.store import DEFAULT_MODEL, Store
from tests.models.conftest import SAMPLE

MOSCOU = (SAMPLE.index("Moscou"), SAMPLE.index("Moscou") + len("Moscou"))
KREMLIN = (SAMPLE.index("Kremlin"), SAMPLE.index("Kremlin") + len("Kremlin"))


def model_layer(store: Store, doc_id: int, model_id: int) -> int:
    """The model's layer as pre-annotation writes it: two entities and an event."""
    layer = open_layer(store, doc_id, model_id, None, create=True)
    assert layer is not None
    store.do(AddEntity(layer.id, 0, 16, "PER", origin="model", score=0.9))
    store.do(AddEntity(layer.id, *MOSCOU, "LOC", origin="model", score=0.8))
    spans = entities(store, layer.id)
    with store.transaction() as session:
        event_id = session.execute(
            insert(Event)
            .values(
                layer_id=layer.id,
                type="VISITE_OFFICIELLE",
                trigger_start=17,
                trigger_end=22,
                origin="model",
            )
            .returning(Event.id)
        ).scalar_one()
        session.execute(
            insert(EventArgument).values(
                event_id=event_id,
                layer_id=layer.id,
                role="lieu",
                entity_id=spans[1].id,
                origin="model",
            )
        )
    return layer.id


def test_layers_model_annotator_id_is_found_by_name(store: Store, model_id: int) -> None:
    assert model_annotator_id(store, DEFAULT_MODEL) == model_id
    assert model_annotator_id(store, "xx_unknown@0") is None


def test_layers_first_open_copies_the_model_layer_with_origins(
    store: Store, doc_id: int, model_id: int, human_id: int
) -> None:
    source = model_layer(store, doc_id, model_id)
    layer = open_layer(store, doc_id, human_id, model_id)
    assert layer is not None and layer.id != source
    assert (layer.document_id, layer.annotator_id, layer.status) == (
        doc_id,
        human_id,
        "in_progress",
    )
    copied, original = entities(store, layer.id), entities(store, source)
    assert [(e.start, e.end, e.label, e.origin, e.score) for e in copied] == [
        (e.start, e.end, e.label, e.origin, e.score) for e in original
    ]
    assert not {e.id for e in copied} & {e.id for e in original}
    with store.reading() as session:
        event = session.scalars(select(Event).where(Event.layer_id == layer.id)).one()
        argument = session.scalars(
            select(EventArgument).where(EventArgument.layer_id == layer.id)
        ).one()
    assert (event.type, event.origin, event.state) == ("VISITE_OFFICIELLE", "model", "suggested")
    assert (argument.event_id, argument.role, argument.entity_id) == (
        event.id,
        "lieu",
        copied[1].id,
    )


def test_layers_seeding_happens_once_and_never_again(
    store: Store, doc_id: int, model_id: int, human_id: int
) -> None:
    source = model_layer(store, doc_id, model_id)
    layer = open_layer(store, doc_id, human_id, model_id)
    assert layer is not None
    first = entities(store, layer.id)[0]
    store.do(RemoveEntity(first.id))
    store.do(AddEntity(source, *KREMLIN, "ORG", origin="model"))
    again = open_layer(store, doc_id, human_id, model_id)
    assert again is not None and again.id == layer.id
    assert [(e.start, e.label) for e in entities(store, layer.id)] == [(MOSCOU[0], "LOC")]
    with store.reading() as session:
        layers = session.scalars(select(Layer.id).where(Layer.document_id == doc_id)).all()
    assert sorted(layers) == sorted([source, layer.id])


def test_layers_without_model_layer_nothing_is_created_until_asked(
    store: Store, doc_id: int, model_id: int, human_id: int
) -> None:
    assert open_layer(store, doc_id, human_id, model_id) is None
    assert open_layer(store, doc_id, human_id, None) is None
    assert find_layer(store, doc_id, human_id) is None
    model_layer(store, doc_id, model_id)
    seeded = open_layer(store, doc_id, human_id, model_id)
    assert seeded is not None
    assert len(entities(store, seeded.id)) == 2


def test_layers_create_without_model_gives_an_empty_layer(
    store: Store, doc_id: int, human_id: int
) -> None:
    layer = open_layer(store, doc_id, human_id, None, create=True)
    assert layer is not None
    assert entities(store, layer.id) == []
    assert find_layer(store, doc_id, human_id) == layer


def test_layers_entities_are_sorted_by_position(store: Store, doc_id: int, human_id: int) -> None:
    layer = open_layer(store, doc_id, human_id, None, create=True)
    assert layer is not None
    for start, end, label in [(*KREMLIN, "ORG"), (*MOSCOU, "LOC"), (0, 8, "PER"), (0, 16, "PER")]:
        store.do(AddEntity(layer.id, start, end, label))
    spans = entities(store, layer.id)
    assert [(span.start, span.end) for span in spans] == [(0, 8), (0, 16), MOSCOU, KREMLIN]
    assert all(isinstance(span, EntitySpan) and span.origin == "manual" for span in spans)


def test_layers_add_time_accumulates_and_ignores_nothing(
    store: Store, doc_id: int, human_id: int
) -> None:
    layer = open_layer(store, doc_id, human_id, None, create=True)
    assert layer is not None
    add_time(store, layer.id, 1.5)
    add_time(store, layer.id, 0)
    add_time(store, layer.id, 2.25)
    found = find_layer(store, doc_id, human_id)
    assert found is not None and found.seconds == 3.75


def test_layers_entities_within_ranges_are_those_overlapping_them(
    store: Store, doc_id: int, model_id: int
) -> None:
    layer = model_layer(store, doc_id, model_id)  # [0, 16) and Moscou
    every = entities(store, layer)
    assert entities(store, layer, within=((15, 17),)) == every[:1]
    assert entities(store, layer, within=((16, MOSCOU[0]),)) == []  # touching is not sharing
    assert entities(store, layer, within=((3, 4), (MOSCOU[1] - 1, MOSCOU[1]))) == every
