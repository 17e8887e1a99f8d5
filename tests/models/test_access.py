"""Team mode: a signed-in session changes only its own layers (gold for reviewers), and a
stale edit of a layer (optimistic locking by version) is refused; SQLite and PostgreSQL."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from models.access import AccessError, LayerVersion, StaleLayerError
from models.commands import AddEntity, RemoveEntity, SetStatus
from models.layers import LayerInfo, add_time, entities, find_layer, open_layer
from models.schema import Annotator
from models.stance import SetStance, stance
from models.store import DEFAULT_MODEL, Store


def _layer(store: Store, doc_id: int, name: str, kind: str = "human") -> LayerInfo:
    info = open_layer(store, doc_id, store.annotator_id(name, kind), None, create=True)
    assert info is not None
    return info


def test_access_signed_in_analyst_edits_own_layer_only(
    store: Store, doc_id: int, layer: LayerInfo
) -> None:
    bob = _layer(store, doc_id, "bob")
    added = AddEntity(bob.id, 0, 8, "PER")
    store.do(added)  # not signed in: no restriction (CLI, solo use)
    identity = store.sign_in("alice")
    assert (identity.name, identity.reviewer) == ("alice", False)
    store.do(AddEntity(layer.id, 0, 16, "PER"))
    with pytest.raises(AccessError, match="layer of bob: an analyst changes only their own"):
        store.do(AddEntity(bob.id, 25, 35, "PER"))
    with pytest.raises(AccessError):
        store.do(RemoveEntity(added.entity_id or 0))
    with pytest.raises(AccessError):
        store.do(SetStance(bob.id, "Russie", value="favorable"))
    assert [(e.start, e.end) for e in entities(store, bob.id)] == [(0, 8)]  # nothing changed
    assert stance(store, bob.id) == {}
    assert [(e.start, e.end) for e in entities(store, layer.id)] == [(0, 16)]


def test_access_gold_needs_the_reviewer_role(store: Store, doc_id: int) -> None:
    gold = _layer(store, doc_id, "gold", "gold")
    store.sign_in("alice")
    with pytest.raises(AccessError, match="alice is not a reviewer"):
        store.do(AddEntity(gold.id, 0, 16, "PER"))
    assert entities(store, gold.id) == []
    store.set_reviewer("alice")
    with store.reading() as session:
        assert session.scalar(select(Annotator.reviewer).where(Annotator.name == "alice"))
    assert store.sign_in("alice").reviewer
    store.do(AddEntity(gold.id, 0, 16, "PER"))
    assert [(e.start, e.end) for e in entities(store, gold.id)] == [(0, 16)]
    store.set_reviewer("alice", False)
    store.sign_in("alice")
    with pytest.raises(AccessError):
        store.do(SetStatus(gold.id, "done"))


def test_access_version_returned_and_stale_write_refused(store: Store, doc_id: int) -> None:
    gold = _layer(store, doc_id, "gold", "gold")
    first = store.do(AddEntity(gold.id, 0, 16, "PER"), LayerVersion(gold.id, gold.version))
    assert first.version == gold.version + 1
    # another reviewer, who opened the layer at the same time, saves later: refused
    stale = LayerVersion(gold.id, gold.version)
    with pytest.raises(StaleLayerError) as refused:
        store.do(AddEntity(gold.id, 25, 35, "ORG"), stale)
    message = str(refused.value)
    assert f"gold layer of document {doc_id} changed since you opened it" in message
    assert f"(version {gold.version} → {first.version})" in message
    assert (refused.value.expected, refused.value.current) == (gold.version, first.version)
    assert [(e.start, e.label) for e in entities(store, gold.id)] == [(0, "PER")]
    # the reviewer reloads: the fresh version lets the edit through
    fresh = find_layer(store, doc_id, gold.annotator_id)
    assert fresh is not None and fresh.version == first.version
    second = store.do(AddEntity(gold.id, 25, 35, "ORG"), LayerVersion(gold.id, fresh.version))
    assert second.version == fresh.version + 1
    assert [(e.start, e.label) for e in entities(store, gold.id)] == [(0, "PER"), (25, "ORG")]


def test_access_stale_undo_refused(store: Store, doc_id: int, layer: LayerInfo) -> None:
    added = AddEntity(layer.id, 0, 16, "PER")
    after_add = store.do(added)
    assert after_add.version is not None
    store.do(AddEntity(layer.id, 25, 35, "PER"))  # a later edit elsewhere
    with pytest.raises(StaleLayerError):
        store.undo(added, LayerVersion(layer.id, after_add.version))
    assert len(entities(store, layer.id)) == 2
    undone = store.undo(added, LayerVersion(layer.id, after_add.version + 1))
    assert undone.version == after_add.version + 2
    assert [(e.start, e.end) for e in entities(store, layer.id)] == [(25, 35)]


def test_access_open_layer_creates_only_layers_the_session_may_change(
    store: Store, doc_id: int, model_id: int, human_id: int
) -> None:
    model = _layer(store, doc_id, DEFAULT_MODEL, "model")
    store.do(AddEntity(model.id, 0, 16, "PER"))
    bob, gold = store.annotator_id("bob"), store.annotator_id("gold", "gold")
    store.sign_in("alice")
    with pytest.raises(AccessError, match="layer of bob: an analyst changes only their own"):
        open_layer(store, doc_id, bob, model_id, create=True)
    assert open_layer(store, doc_id, bob, model_id) is None  # not seeded for bob either
    with pytest.raises(AccessError, match="alice is not a reviewer"):
        open_layer(store, doc_id, gold, None, create=True)
    assert find_layer(store, doc_id, bob) is None and find_layer(store, doc_id, gold) is None
    own = open_layer(store, doc_id, human_id, model_id)  # seeded from the model's layer
    assert own is not None and [(e.start, e.end) for e in entities(store, own.id)] == [(0, 16)]
    store.set_reviewer("alice")
    store.sign_in("alice")
    assert open_layer(store, doc_id, gold, None, create=True) is not None


def test_access_add_time_only_to_layers_the_session_may_change(
    store: Store, doc_id: int, layer: LayerInfo
) -> None:
    bob = _layer(store, doc_id, "bob")
    gold = _layer(store, doc_id, "gold", "gold")
    store.sign_in("alice")
    add_time(store, layer.id, 12.0)
    with pytest.raises(AccessError, match="layer of bob"):
        add_time(store, bob.id, 30.0)
    with pytest.raises(AccessError, match="alice is not a reviewer"):
        add_time(store, gold.id, 30.0)
    store.set_reviewer("alice")
    store.sign_in("alice")
    add_time(store, gold.id, 5.0)
    seconds = {
        name: info.seconds
        for name, info in (
            ("alice", find_layer(store, doc_id, layer.annotator_id)),
            ("bob", find_layer(store, doc_id, bob.annotator_id)),
            ("gold", find_layer(store, doc_id, gold.annotator_id)),
        )
        if info is not None
    }
    assert seconds == {"alice": 12.0, "bob": 0.0, "gold": 5.0}
