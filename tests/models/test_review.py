"""Review: disagreement groups (entities, stance, events), the queue order, adjudication into
gold with undo/redo, and gold exported like any layer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from models.commands import AddEntity, SetStatus
from models.events import AddArgument, AddEvent, events
from models.jobs import run
from models.layer_io import layer_record
from models.layers import entities, find_layer, open_layer
from models.records import ArgumentRecord, DocumentRecord, EventRecord, SpanRecord, StanceRecord
from models.review import (
    AcceptAgreed,
    ReviewError,
    TakeVersion,
    compared_annotators,
    gold_layer,
    review_document,
    review_queue,
)
from models.stance import AddEvidence, SetStance, stance
from models.store import ProjectInfo, Store
from models.transfer import export
from tests.models.conftest import SAMPLE


def at(word: str) -> tuple[int, int]:
    start = SAMPLE.index(word)
    return start, start + len(word)


POUTINE, XI_JINPING, XI, MOSCOU, KREMLIN, RECU = (
    at(w) for w in ("Vladimir Poutine", "Xi Jinping", "Xi", "Moscou", "Kremlin", "reçu")
)


def annotate(
    store: Store,
    document_id: int,
    name: str,
    spans: list[tuple[tuple[int, int], str]],
    stances: dict[str, str] | None = None,
    event: tuple[str, list[tuple[str, tuple[int, int]]]] | None = None,
) -> int:
    """A human layer with these entities, stance values and one event on "reçu"."""
    layer = open_layer(store, document_id, store.annotator_id(name), None, create=True)
    assert layer is not None
    ids = {}
    for (start, end), label in spans:
        add = AddEntity(layer.id, start, end, label)
        store.do(add)
        ids[start, end] = add.entity_id
    for target, value in (stances or {}).items():
        store.do(SetStance(layer.id, target, value=value))
    if event is not None:
        kind, arguments = event
        add_event = AddEvent(layer.id, kind, *RECU)
        store.do(add_event)
        assert add_event.event_id is not None
        for role, span in arguments:
            entity_id = ids[span]
            assert entity_id is not None
            store.do(AddArgument(add_event.event_id, role, entity_id))
    return layer.id


@pytest.fixture
def two(store: Store, doc_id: int) -> None:
    """alice and bob agree on Poutine, Moscou, CHINE and disagree on the rest."""
    annotate(
        store,
        doc_id,
        "alice",
        [(POUTINE, "PER"), (XI_JINPING, "PER"), (MOSCOU, "LOC")],
        {"CHINE": "neutre", "RUSSIE": "favorable"},
        ("VISITE_OFFICIELLE", [("visiteur", XI_JINPING)]),
    )
    annotate(
        store,
        doc_id,
        "bob",
        [(POUTINE, "PER"), (XI, "MISC"), (MOSCOU, "LOC"), (KREMLIN, "ORG")],
        {"CHINE": "neutre", "RUSSIE": "defavorable"},
        ("RENCONTRE_SOMMET", []),
    )


def test_review_groups_entities_stance_and_events(store: Store, doc_id: int, two: None) -> None:
    review = review_document(store, doc_id, ["alice", "bob"])
    assert review.agreed.spans == (
        SpanRecord(*POUTINE, "PER"),
        SpanRecord(*MOSCOU, "LOC"),
    )
    assert review.agreed.stance == (StanceRecord("CHINE", "neutre"),)
    assert review.agreed.events == ()
    keys = [group.key for group in review.groups]
    start, end = XI_JINPING
    assert keys == [
        f"event:{RECU[0]}-{RECU[1]}",
        f"entity:{start}-{end}",
        f"entity:{KREMLIN[0]}-{KREMLIN[1]}",
        "stance:RUSSIE",
    ]
    xi = review.group(f"entity:{start}-{end}")
    assert xi.marks == (XI, XI_JINPING)
    assert [(v.number, v.annotator, v.items) for v in xi.versions] == [
        (1, "alice", (SpanRecord(*XI_JINPING, "PER"),)),
        (2, "bob", (SpanRecord(*XI, "MISC"),)),
    ]
    kremlin = review.groups[2]
    assert [v.items for v in kremlin.versions] == [(), (SpanRecord(*KREMLIN, "ORG"),)]
    event = review.groups[0]
    assert event.versions[0].items == (
        EventRecord("VISITE_OFFICIELLE", RECU, (ArgumentRecord("visiteur", *XI_JINPING),)),
    )
    assert event.versions[1].items == (EventRecord("RENCONTRE_SOMMET", RECU),)
    russie = review.groups[3]
    assert [v.items[0].value for v in russie.versions] == ["favorable", "defavorable"]  # type: ignore[union-attr]
    assert review.resolved == 0 and not review.adjudicated and review.gold_layer_id is None
    assert review.f1 == pytest.approx(2 * 2 / (3 + 4))


def test_review_absent_layer_is_not_a_version_and_model_joins_by_alias(
    store: Store, project: ProjectInfo, doc_id: int, model_id: int
) -> None:
    annotate(store, doc_id, "alice", [(XI, "PER")])
    model_layer = open_layer(store, doc_id, model_id, None, create=True)
    assert model_layer is not None
    names = compared_annotators(store, project, ["alice", "model"])
    assert names == ("alice", project.model_annotator)
    review = review_document(store, doc_id, [*names, "nobody"])
    (group,) = review.groups
    assert [(v.number, v.annotator, v.items) for v in group.versions] == [
        (1, "alice", (SpanRecord(*XI, "PER"),)),
        (2, project.model_annotator, ()),
    ]
    with pytest.raises(ReviewError, match="carol"):
        compared_annotators(store, project, ["carol"])


def test_review_status_done_compares_finished_layers_only(
    store: Store, project: ProjectInfo, doc_id: int, two: None
) -> None:
    alice = open_layer(store, doc_id, store.annotator_id("alice"), None)
    assert alice is not None
    store.do(SetStatus(alice.id, "done"))
    assert compared_annotators(store, project) == ("alice", "bob")
    assert compared_annotators(store, project, status="done") == ("alice",)
    review = review_document(store, doc_id, ["alice", "bob"], status="done")
    assert list(review.records) == ["alice"] and review.groups == ()
    assert len(review.agreed) == 3 + 2 + 1  # one layer: everything it has is agreed


def test_review_queue_orders_by_disagreement(
    store: Store, project: ProjectInfo, doc_id: int, two: None
) -> None:
    (calm, lone) = store.add_documents(
        project.id, [DocumentRecord(text=SAMPLE + " Calme."), DocumentRecord(text="Seul.")]
    )
    assert calm is not None and lone is not None
    for name in ("alice", "bob"):
        annotate(store, calm, name, [(XI, "PER")])
    annotate(store, calm, "bob", [], {"UKRAINE": "neutre"})
    rows = run(review_queue(store, project.id, ["alice", "bob"]))
    assert [(row.document_id, row.groups, row.layers) for row in rows] == [
        (doc_id, 4, 2),
        (calm, 1, 2),
    ]
    assert rows[1].f1 == 1.0 and not any(row.adjudicated for row in rows)


def test_review_take_version_is_one_undoable_command(store: Store, doc_id: int, two: None) -> None:
    key = f"entity:{XI_JINPING[0]}-{XI_JINPING[1]}"
    gold = gold_layer(store, doc_id)
    take_bob = TakeVersion(gold, review_document(store, doc_id, ["alice", "bob"]), key, 2)
    store.do(take_bob)
    assert [(e.start, e.end, e.label) for e in entities(store, gold)] == [(*XI, "MISC")]
    review = review_document(store, doc_id, ["alice", "bob"])
    group = review.group(key)
    assert group.resolved and group.decision == "bob" and group.in_gold() == group.versions[1]
    assert review.resolved == 1

    take_alice = TakeVersion(gold, review, key, 1)  # change of mind: swaps gold's item
    store.do(take_alice)
    assert [(e.start, e.end, e.label) for e in entities(store, gold)] == [(*XI_JINPING, "PER")]
    store.undo(take_alice)
    assert [(e.start, e.end, e.label) for e in entities(store, gold)] == [(*XI, "MISC")]
    assert review_document(store, doc_id, ["alice", "bob"]).group(key).decision == "bob"
    store.undo(take_bob)
    assert entities(store, gold) == []
    assert review_document(store, doc_id, ["alice", "bob"]).resolved == 0
    store.do(take_bob)  # redo
    assert [(e.start, e.end, e.label) for e in entities(store, gold)] == [(*XI, "MISC")]


def test_review_take_empty_version_resolves_and_removes(
    store: Store, doc_id: int, two: None
) -> None:
    key = f"entity:{KREMLIN[0]}-{KREMLIN[1]}"
    gold = gold_layer(store, doc_id)
    store.do(TakeVersion(gold, review_document(store, doc_id, ["alice", "bob"]), key, 2))
    assert len(entities(store, gold)) == 1
    store.do(TakeVersion(gold, review_document(store, doc_id, ["alice", "bob"]), key, 1))
    assert entities(store, gold) == []
    group = review_document(store, doc_id, ["alice", "bob"]).group(key)
    assert group.resolved and group.in_gold() == group.versions[0]


def test_review_take_stance_and_event_versions(store: Store, doc_id: int, two: None) -> None:
    alice = open_layer(store, doc_id, store.annotator_id("alice"), None)
    assert alice is not None
    store.do(AddEvidence(alice.id, "RUSSIE", start=0, end=16))
    gold = gold_layer(store, doc_id)
    review = review_document(store, doc_id, ["alice", "bob"])
    store.do(TakeVersion(gold, review, "stance:RUSSIE", 2))
    take = TakeVersion(gold, review_document(store, doc_id, ["alice", "bob"]), "stance:RUSSIE", 1)
    store.do(take)
    assert stance(store, gold) == {"RUSSIE": StanceRecord("RUSSIE", "favorable", ((0, 16),))}
    store.undo(take)
    assert stance(store, gold) == {"RUSSIE": StanceRecord("RUSSIE", "defavorable")}

    event_take = TakeVersion(gold, review, f"event:{RECU[0]}-{RECU[1]}", 1)
    store.do(event_take)
    (event,) = events(store, gold)
    assert event.type == "VISITE_OFFICIELLE"
    assert [(a.role, a.start, a.end, a.label) for a in event.arguments] == [
        ("visiteur", *XI_JINPING, "PER")  # the argument's entity came along with alice's label
    ]
    store.undo(event_take)
    assert events(store, gold) == [] and entities(store, gold) == []
    store.do(event_take)
    assert len(events(store, gold)) == 1 and len(entities(store, gold)) == 1


def test_review_accept_all_agreed_with_undo_redo(store: Store, doc_id: int, two: None) -> None:
    gold = gold_layer(store, doc_id)
    store.do(AddEntity(gold, *MOSCOU, "ORG"))  # the reviewer already decided there
    accept = AcceptAgreed(gold, review_document(store, doc_id, ["alice", "bob"]))
    changes = store.do(accept)
    assert changes.entities and changes.doc_labels
    spans = [(e.start, e.end, e.label) for e in entities(store, gold)]
    assert spans == [(*POUTINE, "PER"), (*MOSCOU, "ORG")]
    assert stance(store, gold) == {"CHINE": StanceRecord("CHINE", "neutre")}
    assert review_document(store, doc_id, ["alice", "bob"]).agreed_accepted
    store.undo(accept)
    assert [(e.start, e.end) for e in entities(store, gold)] == [MOSCOU]
    assert stance(store, gold) == {}
    assert not review_document(store, doc_id, ["alice", "bob"]).agreed_accepted
    store.do(accept)
    assert len(entities(store, gold)) == 2 and len(stance(store, gold)) == 1


def test_review_document_adjudicated_and_gold_exports(
    store: Store, project: ProjectInfo, doc_id: int, two: None, tmp_path: Path
) -> None:
    gold = gold_layer(store, doc_id)
    store.do(AcceptAgreed(gold, review_document(store, doc_id, ["alice", "bob"])))
    for group in review_document(store, doc_id, ["alice", "bob"]).groups:
        review = review_document(store, doc_id, ["alice", "bob"])
        store.do(TakeVersion(gold, review, group.key, 1))
    review = review_document(store, doc_id, ["alice", "bob"])
    assert review.resolved == len(review.groups) == 4 and review.adjudicated
    assert review.agreed.spans == (SpanRecord(*POUTINE, "PER"), SpanRecord(*MOSCOU, "LOC"))
    out = tmp_path / "gold.jsonl"
    report = run(export(store, project.id, out, "jsonl", source="gold"))
    assert report.source == "gold" and report.annotated == 1
    (line,) = out.read_text("utf-8").splitlines()
    record = json.loads(line)
    assert record["annotator"] == "gold"
    assert [(s["start"], s["end"], s["label"]) for s in record["spans"]] == [
        (*POUTINE, "PER"),
        (*XI_JINPING, "PER"),
        (*MOSCOU, "LOC"),
    ]
    assert {s["target"]: s["value"] for s in record["stance"]} == {
        "CHINE": "neutre",
        "RUSSIE": "favorable",
    }
    assert [e["type"] for e in record["events"]] == ["VISITE_OFFICIELLE"]
    with store.reading() as session:  # review decisions are not annotations
        assert layer_record(session, doc_id, gold).stance == [
            StanceRecord("CHINE", "neutre"),
            StanceRecord("RUSSIE", "favorable"),
        ]


def gold_status(store: Store, document_id: int) -> str | None:
    layer = find_layer(store, document_id, store.annotator_id("gold", "gold"))
    return layer.status if layer is not None else None


def test_review_completing_command_marks_gold_done_undoable(
    store: Store, project: ProjectInfo, doc_id: int, two: None, tmp_path: Path
) -> None:
    (other,) = store.add_documents(project.id, [DocumentRecord(text=SAMPLE + " Fin.")])
    assert other is not None
    annotate(store, other, "alice", [(POUTINE, "PER"), (MOSCOU, "LOC")])
    annotate(store, other, "bob", [(POUTINE, "ORG")])
    partly = review_document(store, other, ["alice", "bob"])
    store.do(TakeVersion(gold_layer(store, other), partly, partly.groups[0].key, 1))
    assert gold_status(store, other) == "in_progress"  # one of two groups resolved
    gold = gold_layer(store, doc_id)
    keys = [group.key for group in review_document(store, doc_id, ["alice", "bob"]).groups]
    for key in keys:  # every group resolved, the agreed items not accepted yet
        store.do(TakeVersion(gold, review_document(store, doc_id, ["alice", "bob"]), key, 1))
        assert gold_status(store, doc_id) == "in_progress"
    accept = AcceptAgreed(gold, review_document(store, doc_id, ["alice", "bob"]))
    assert store.do(accept).status
    assert review_document(store, doc_id, ["alice", "bob"]).adjudicated
    assert gold_status(store, doc_id) == "done"
    out = tmp_path / "gold.jsonl"
    report = run(export(store, project.id, out, "jsonl", source="gold", status="done"))
    assert report.documents == 1
    assert [json.loads(line)["text"] for line in out.read_text("utf-8").splitlines()] == [SAMPLE]
    store.undo(accept)  # undone with the command that completed the adjudication
    assert gold_status(store, doc_id) == "in_progress"
    store.do(accept)
    assert gold_status(store, doc_id) == "done"
