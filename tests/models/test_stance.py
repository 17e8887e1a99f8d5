"""Stance commands: one value per target, evidence passages, undo."""

from __future__ import annotations

import pytest

from models import layers
from models.commands import EditError
from models.records import DocumentRecord, StanceRecord
from models.stance import AddEvidence, RemoveEvidence, SetStance, stance
from models.store import Store

TEXT = "La Russie salue un partenariat « sans limites » avec la Chine."


@pytest.fixture
def layer(store: Store) -> int:
    project = store.ensure_project()
    store.add_documents(project.id, [DocumentRecord(TEXT)])
    info = layers.open_layer(store, 1, store.annotator_id("alice"), None, create=True)
    assert info is not None
    return info.id


def test_stance_set_change_clear_and_undo(store: Store, layer: int) -> None:
    first = SetStance(layer, "RUSSIE", value="favorable")
    store.do(first)
    assert stance(store, layer) == {"RUSSIE": StanceRecord("RUSSIE", "favorable")}
    change = SetStance(layer, "RUSSIE", value="neutre")
    store.do(change)
    assert stance(store, layer)["RUSSIE"].value == "neutre"
    clear = SetStance(layer, "RUSSIE", value=None)
    store.do(clear)
    assert stance(store, layer) == {}
    store.undo(clear)
    assert stance(store, layer)["RUSSIE"].value == "neutre"
    store.undo(change)
    store.undo(first)
    assert stance(store, layer) == {}


def test_stance_evidence_added_kept_on_value_change_and_removed(store: Store, layer: int) -> None:
    store.do(SetStance(layer, "CHINE", value="favorable"))
    evidence = AddEvidence(layer, "CHINE", start=19, end=46)
    changes = store.do(evidence)
    assert (19, 46) in changes.ranges
    assert stance(store, layer)["CHINE"].evidence == ((19, 46),)
    store.do(SetStance(layer, "CHINE", value="neutre"))
    assert stance(store, layer)["CHINE"] == StanceRecord("CHINE", "neutre", ((19, 46),))
    store.do(RemoveEvidence(layer, "CHINE", start=19, end=46))
    assert stance(store, layer)["CHINE"].evidence == ()


def test_stance_evidence_needs_a_value_and_a_valid_range(store: Store, layer: int) -> None:
    with pytest.raises(EditError):
        store.do(AddEvidence(layer, "UKRAINE", start=0, end=5))
    store.do(SetStance(layer, "UKRAINE", value="neutre"))
    with pytest.raises(EditError):
        store.do(AddEvidence(layer, "UKRAINE", start=0, end=len(TEXT) + 1))
    assert stance(store, layer)["UKRAINE"].evidence == ()
