"""Agreement over a store (model + two analysts), checked against values worked out by hand."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

import pytest

from models.agreement import corpus, entity_io, store_io
from models.agreement.corpus import AnnotatedDocument
from models.agreement.store_io import AgreementError, participants, store_agreement
from models.annotator_stats import annotator_progress
from models.jobs import run
from models.layer_io import write_layer, write_layers
from models.records import DocumentRecord, EventRecord, Progress, SpanRecord, StanceRecord
from models.schema import Layer
from models.store import DEFAULT_MODEL, ProjectInfo, Store
from tests.models.test_agreement_columns import reference_agreement

T1 = "Vladimir Poutine a reçu Xi Jinping à Moscou."
T2 = "Pékin et Moscou signent un accord."
T3 = "Rien à signaler."
T4 = "Personne n'a ouvert ce document."
POUTINE, XI, MOSCOU = SpanRecord(0, 16, "PER"), SpanRecord(24, 34, "PER"), SpanRecord(37, 43, "LOC")
PEKIN, MOSCOU2 = SpanRecord(0, 5, "LOC"), SpanRecord(9, 15, "LOC")
ACCORD = EventRecord("ACCORD_COMMERCIAL", (27, 33))


def add_layer(
    store: Store,
    document_id: int,
    annotator_id: int,
    spans: Sequence[SpanRecord],
    stance: Sequence[StanceRecord] = (),
    events: Sequence[EventRecord] = (),
    status: str = "done",
    seconds: float = 0.0,
) -> None:
    record = DocumentRecord(
        "", spans=list(spans), stance=list(stance), events=list(events), status=status
    )
    with store.transaction() as session:
        layer = Layer(document_id=document_id, annotator_id=annotator_id, seconds=seconds)
        session.add(layer)
        session.flush()
        write_layer(session, layer.id, record)


def build_corpus(store: Store, name: str = "p") -> ProjectInfo:
    """Four documents: the model, alice and bob on the first; the model, alice and bob (in
    progress) on the second; the model alone on the third; nobody on the fourth."""
    project = store.ensure_project(name)
    ids = store.add_documents(project.id, [DocumentRecord(t) for t in (T1, T2, T3, T4)])
    d1, d2, d3, _ = (i for i in ids if i is not None)
    model = store.annotator_id(DEFAULT_MODEL, "model")
    alice, bob = store.annotator_id("alice"), store.annotator_id("bob")
    store.annotator_id("carol")  # no layer anywhere
    russie = "RUSSIE"
    add_layer(store, d1, model, [POUTINE, XI, MOSCOU])
    add_layer(
        store, d1, alice, [POUTINE, XI, MOSCOU], [StanceRecord(russie, "favorable")], seconds=600
    )
    bob_spans = [POUTINE, SpanRecord(24, 26, "PER"), SpanRecord(37, 43, "ORG")]
    add_layer(store, d1, bob, bob_spans, [StanceRecord(russie, "neutre")], seconds=300)
    add_layer(store, d2, model, [PEKIN, MOSCOU2])
    neutral = [StanceRecord(russie, "neutre")]
    add_layer(store, d2, alice, [PEKIN, MOSCOU2], neutral, [ACCORD], seconds=1200)
    add_layer(store, d2, bob, [PEKIN], neutral, [ACCORD], status="in_progress", seconds=900)
    add_layer(store, d3, model, [])
    return project


def pairs(section: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    """The pairs of a section of the result, by (a, b)."""
    return {(p["a"], p["b"]): p for p in section["pairs"]}


def test_agreement_store_done_layers_by_hand(store: Store) -> None:
    project = build_corpus(store)
    steps: list[Progress] = []
    result = run(store_agreement(store, project), steps.append)
    assert result["annotators"] == [DEFAULT_MODEL, "alice", "bob"]
    assert result["kinds"] == {DEFAULT_MODEL: "model", "alice": "human", "bob": "human"}
    assert result["documents"] == 3  # the fourth has no layer
    assert [(s.done, s.total) for s in steps] == [(3, 3)]  # one page
    entities = pairs(result["entities"])
    model_alice = entities[(DEFAULT_MODEL, "alice")]
    assert model_alice["documents"] == 2
    assert model_alice["f1_exact"] == 1.0 and model_alice["kappa_token"] == 1.0
    for pair in (entities[(DEFAULT_MODEL, "bob")], entities[("alice", "bob")]):
        assert pair["documents"] == 1  # bob's second layer is not done
        assert pair["f1_exact"] == pytest.approx(1 / 3)  # 2·1 / (3 + 3)
        assert pair["f1_overlap"] == pytest.approx(2 / 3)  # Xi overlaps; LOC ≠ ORG
        # 9 tokens, 7 agreed; chance = B-PER 2·2 + I-PER 2·1 + O 4·5 = 26
        assert pair["kappa_token"] == pytest.approx((9 * 7 - 26) / (81 - 26))
        assert pair["per_label"]["PER"]["f1_exact"] == pytest.approx(0.5)
        assert pair["per_label"]["ORG"]["f1_exact"] == 0.0
        assert pair["per_label"]["MISC"]["f1_exact"] is None
        assert (
            pair["per_label"]["MISC"]["reasons"]["f1_exact"]
            == "neither annotator marked a MISC span"
        )
    # tokens: n = 41 pairable tags, two units of three tags disagree (4 each, / (3 - 1));
    # Σ n_c² = B-PER 6² + I-PER 5² + O 23² + B-LOC 6² + B-ORG 1² = 627
    assert result["entities"]["alpha_token"] == pytest.approx(1 - 40 * 4 / (41**2 - 627))
    russie = result["stance"]["RUSSIE"]
    assert russie["items"] == 2
    kappas = pairs(russie)
    assert kappas[("alice", "bob")]["kappa"] == 0.0 and kappas[("alice", "bob")]["items"] == 1
    assert kappas[(DEFAULT_MODEL, "alice")]["reasons"] == {"kappa": "no item rated by both"}
    assert russie["fleiss_kappa"] is None
    assert russie["alpha"] == pytest.approx(0.0)
    assert result["stance"]["CHINE"]["items"] == 0
    events = pairs(result["events"])
    assert events[(DEFAULT_MODEL, "alice")]["f1_trigger"] == 0.0
    assert events[("alice", "bob")]["f1_trigger"] is None
    assert events[("alice", "bob")]["reasons"]["f1_trigger"] == "neither annotator marked any span"


def test_agreement_store_status_any_counts_layers_in_progress(store: Store) -> None:
    project = build_corpus(store)
    result = run(store_agreement(store, project, status="any"))
    alice_bob = pairs(result["entities"])[("alice", "bob")]
    assert alice_bob["documents"] == 2
    assert alice_bob["f1_exact"] == pytest.approx(2 * 2 / 9)  # 1 of 3+3, then 1 of 2+1
    events = pairs(result["events"])[("alice", "bob")]
    assert events["f1_trigger"] == 1.0 and events["type_agreement"] == 1.0
    assert events["type_kappa"] is None  # one event type only: no variation


def test_agreement_store_named_annotators_and_missing_layers(store: Store) -> None:
    project = build_corpus(store)
    result = run(store_agreement(store, project, ["alice", "carol", "model"]))
    assert result["annotators"] == ["alice", "carol", DEFAULT_MODEL]
    assert result["documents"] == 3
    alice_carol = pairs(result["entities"])[("alice", "carol")]
    assert alice_carol["documents"] == 0
    assert alice_carol["f1_exact"] is None and alice_carol["kappa_token"] is None
    assert alice_carol["reasons"] == dict.fromkeys(
        ("f1_exact", "f1_overlap", "kappa_token"), "no document annotated by both"
    )
    assert alice_carol["per_label"]["PER"]["reasons"]["f1_exact"] == "no document annotated by both"
    assert pairs(result["entities"])[("alice", DEFAULT_MODEL)]["f1_exact"] == 1.0


def test_agreement_store_refuses_unknown_annotator_and_status(store: Store) -> None:
    project = build_corpus(store)
    with pytest.raises(AgreementError, match=r"no annotator named 'dave'.*alice, bob, carol"):
        store_agreement(store, project, ["alice", "dave"])
    with pytest.raises(AgreementError, match="unknown status filter 'todo'"):
        participants(store, project, status="todo")


@pytest.mark.parametrize("kind", ["stance", "events"])
def test_agreement_store_reads_stance_or_events_alone(store: Store, kind: str) -> None:
    """A project with stance but no event (or the reverse), beside one with both: only
    the kinds of annotation its counted layers have are read, and all of them."""
    build_corpus(store, "both")
    project = store.ensure_project("alone")
    ids = store.add_documents(project.id, [DocumentRecord(T2)])
    alice, bob = store.annotator_id("alice"), store.annotator_id("bob")
    stance = [StanceRecord("RUSSIE", "favorable")] if kind == "stance" else []
    events = [ACCORD] if kind == "events" else []
    for annotator in (alice, bob):
        add_layer(store, ids[0] or 0, annotator, [PEKIN], stance, events)
    result = run(store_agreement(store, project))
    if kind == "stance":
        assert result["stance"]["RUSSIE"]["items"] == 1
        assert pairs(result["events"])[("alice", "bob")]["f1_trigger"] is None
    else:
        assert result["stance"]["RUSSIE"]["items"] == 0
        assert pairs(result["events"])[("alice", "bob")]["f1_trigger"] == 1.0


def test_agreement_store_pages_give_the_same_result(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = build_corpus(store)
    whole = run(store_agreement(store, project, status="any"))
    monkeypatch.setattr(store_io, "PAGE", 1)
    steps: list[Progress] = []
    assert run(store_agreement(store, project, status="any"), steps.append) == whole
    assert [(s.done, s.total) for s in steps] == [(1, 3), (2, 3), (3, 3)]


def test_agreement_store_empty_project_is_undefined(store: Store) -> None:
    project = store.ensure_project("empty")
    result = run(store_agreement(store, project))
    assert result["annotators"] == [] and result["documents"] == 0
    assert result["entities"]["alpha_token"] is None
    assert result["entities"]["reasons"]["alpha_token"] == "fewer than two annotators"


def test_annotator_stats_progress_and_speed(store: Store) -> None:
    project = build_corpus(store)
    stats = {p.name: p for p in annotator_progress(store, project.id)}
    assert list(stats) == [DEFAULT_MODEL, "alice", "bob"]
    alice, bob, model = stats["alice"], stats["bob"], stats[DEFAULT_MODEL]
    assert (alice.done, alice.layers, alice.total, alice.seconds) == (2, 2, 4, 1800.0)
    assert alice.speed().value == pytest.approx(4.0)  # 2 documents in half an hour
    assert (bob.done, bob.layers, bob.seconds, bob.done_seconds) == (1, 2, 1200.0, 300.0)
    assert bob.speed().value == pytest.approx(12.0)
    assert (model.done, model.kind) == (3, "model")
    assert model.speed().value is None
    assert model.speed().reason == "no time recorded on the documents done"


WORDS = [
    "Poutine",
    "Xi",
    "Jinping",
    "à",
    "Moscou,",
    "l’accord",
    "d’un",
    "2,5",
    "Pékin.",
    "«",
    "Pe\u0301kin",
]
LABELS = ["PER", "LOC", "ORG", "LIEU,É"]  # a label with a comma and a non-ASCII letter


def random_layer(rng: random.Random, text: str) -> DocumentRecord:
    """Spans (overlapping, repeated, cut mid-word), stance and events on ``text``."""
    spans = []
    for _ in range(rng.randrange(8)):
        start = rng.randrange(len(text))
        spans.append(
            SpanRecord(start, min(len(text), start + rng.randint(1, 12)), rng.choice(LABELS))
        )
    spans += spans[: rng.randrange(2)]  # the same span twice
    stance = [
        StanceRecord(t, rng.choice(["favorable", "neutre"]))
        for t in ["RUSSIE", "CHINE"]
        if rng.random() < 0.5
    ]
    events = [EventRecord(rng.choice(["SOMMET", "VISITE"]), (s.start, s.end)) for s in spans[:2]]
    return DocumentRecord("", spans=spans, stance=stance, events=events, status="done")


@pytest.mark.parametrize("coded", [None, (), ("PER",), tuple(LABELS)])
def test_agreement_store_equals_one_document_at_a_time(
    store: Store, monkeypatch: pytest.MonkeyPatch, coded: tuple[str, ...] | None
) -> None:
    """Random layers read from the store in pages and sub-pages give the measures worked
    out one document at a time from the same records, whichever labels the database codes
    at first (None: the schema's; an entity labelled otherwise, or ending too far for the
    packing, is read as a row, and its label coded from then on)."""
    if coded is not None:
        reader = entity_io.LayerReader.__init__

        def coding(self: entity_io.LayerReader, labels: Any, conditions: Any) -> None:
            reader(self, coded, conditions)

        monkeypatch.setattr(entity_io.LayerReader, "__init__", coding)
    rng = random.Random(8)
    project = store.ensure_project("random")
    texts = [" ".join(rng.choices(WORDS, k=rng.randint(3, 30))) + f" {n}" for n in range(40)]
    ids = [i for i in store.add_documents(project.id, [DocumentRecord(t) for t in texts]) if i]
    names = ["ann", "bob", "cy"]
    annotators = {name: store.annotator_id(name) for name in names}
    records = {
        (document_id, annotators[name]): random_layer(rng, text)
        for document_id, text in zip(ids, texts, strict=True)
        for name in names
        if rng.random() < 0.8
    }
    far = next(iter(records.values()))  # a span past the text, past 2^30
    far.spans.append(SpanRecord(2, 2**30 + 5, "PER"))
    with store.transaction() as session:
        write_layers(session, records)
    monkeypatch.setattr(store_io, "PAGE", 7)
    monkeypatch.setattr(corpus, "CHARACTERS", 300)  # pages of a few documents
    result = run(store_agreement(store, project, names, status="any"))
    documents = [
        AnnotatedDocument(text, layers)
        for document_id, text in zip(ids, texts, strict=True)
        if (layers := {n: records.get((document_id, annotators[n])) for n in names})
        and any(layers.values())
    ]
    schema = project.schema
    expected = reference_agreement(
        names, documents, schema.entity_ids, [target.id for target in schema.stance_targets]
    )
    assert {key: result[key] for key in expected} == expected
    assert result["entities"]["pairs"][0]["per_label"]["LIEU,É"]["f1_exact"] is not None
