"""Learned pre-annotation in the store: raw and learned model layers, refresh after
corrections, human layers never rewritten, settings per project."""

from __future__ import annotations

from typing import Any

import pytest

from models.commands import AddEntity, RelabelEntity, RemoveEntity, SetStatus
from models.jobs import Job, run
from models.layers import entities, find_layer, open_layer
from models.learning import LearningSettings, learned_name, learning_settings, set_learning
from models.preannotate import PreannotateReport, _write_layers
from models.records import ArgumentRecord, DocumentRecord, EventRecord, Progress
from models.refresh import refresh
from models.store import DEFAULT_MODEL, ProjectInfo, Store

TEXTS = [
    "Previous slide. Xi a reçu la Chine à Pékin.",
    "Previous slide. Xi et Poutine : la visite de Xi.",
    "Previous slide. Le Kremlin et Xi.",
]


def _raw(store: Store, project: ProjectInfo) -> list[int]:
    """Three documents with raw model layers: "Previous slide" MISC, "Xi" MISC,
    "la Chine" LOC, "Pékin" LOC, ... and one suggested event with an argument on "la Chine"."""
    doc_ids = store.add_documents(project.id, [DocumentRecord(text=t) for t in TEXTS])
    raw_id = store.annotator_id(DEFAULT_MODEL, "model")
    rows = {}
    for doc_id, text in zip(doc_ids, TEXTS, strict=True):
        assert doc_id is not None
        spans = [(0, 14, "MISC"), (16, 18, "MISC")]
        if "la Chine" in text:
            start = text.index("la Chine")
            spans.append((start, start + 8, "LOC"))
        events = []
        if "reçu" in text:
            trigger = (text.index("reçu"), text.index("reçu") + 4)
            events.append(
                EventRecord(
                    "VISITE_OFFICIELLE", trigger, (ArgumentRecord("hote", start, start + 8),)
                )
            )
        rows[doc_id] = (spans, events)
    with store.transaction() as session:
        _write_layers(session, raw_id, rows)
    return [doc_id for doc_id in doc_ids if doc_id is not None]


def _surfaces(store: Store, doc_id: int, layer_id: int) -> list[tuple[str, str, str]]:
    text = store.document(doc_id).text
    return [(text[e.start : e.end], e.label, e.origin) for e in entities(store, layer_id)]


def _learned_layer(store: Store, doc_id: int) -> int:
    layer = find_layer(store, doc_id, store.annotator_id(learned_name(DEFAULT_MODEL), "model"))
    assert layer is not None
    return layer.id


def test_learning_refresh_applies_rules_to_raw_layers(store: Store, project: ProjectInfo) -> None:
    first, _, _ = _raw(store, project)
    report = run(refresh(store, project))
    assert (report.documents, report.forms) == (3, 0)
    assert store.project("test").model_annotator == learned_name(DEFAULT_MODEL)  # type: ignore[union-attr]
    learned = _learned_layer(store, first)
    assert _surfaces(store, first, learned) == [
        ("Previous slide", "MISC", "model"),
        ("Xi", "MISC", "model"),
        ("Chine", "LOC", "model"),
    ]
    raw = find_layer(store, first, store.annotator_id(DEFAULT_MODEL))
    assert raw is not None and len(entities(store, raw.id)) == 3  # the raw layer stays raw
    with store.reading() as session:
        from sqlalchemy import select

        from models.schema import Entity, EventArgument

        argument = session.execute(
            select(Entity.start, Entity.end)
            .join(EventArgument, EventArgument.entity_id == Entity.id)
            .where(EventArgument.layer_id == learned)
        ).one()
    chine = TEXTS[0].index("Chine")
    assert tuple(argument) == (chine, chine + 5)  # the argument moved onto "Chine"


def test_learning_refresh_learns_from_done_layers_and_never_rewrites_human_ones(
    store: Store, project: ProjectInfo, human_id: int
) -> None:
    first, second, third = _raw(store, project)
    run(refresh(store, project))
    project = store.project("test")  # type: ignore[assignment]
    model_id = store.annotator_id(project.model_annotator, "model")
    # alice corrects the first document: deletes "Previous slide", Xi → PER, marks it done
    done = open_layer(store, first, human_id, model_id)
    assert done is not None
    spans = {(e.start, e.end): e.id for e in entities(store, done.id)}
    store.do(RemoveEntity(spans[(0, 14)]))
    store.do(RelabelEntity(spans[(16, 18)], label="PER"))
    store.do(SetStatus(done.id, "done"))
    # she has opened the third one and added an entity, not done yet
    opened = open_layer(store, third, human_id, model_id)
    assert opened is not None
    store.do(AddEntity(opened.id, 20, 27, "ORG"))
    before = _surfaces(store, third, opened.id)
    learned_third = _surfaces(store, third, _learned_layer(store, third))

    report = run(refresh(store, project))

    assert (report.documents, report.forms) == (1, 3)
    assert _surfaces(store, second, _learned_layer(store, second)) == [
        ("Xi", "PER", "pattern"),
        ("Xi", "PER", "pattern"),
    ]
    assert _surfaces(store, third, opened.id) == before
    assert _surfaces(store, third, _learned_layer(store, third)) == learned_third
    assert ("Previous slide", "MISC", "model") not in _surfaces(store, first, done.id)


def test_learning_settings_turn_sources_off(store: Store, project: ProjectInfo) -> None:
    first, _, _ = _raw(store, project)
    set_learning(store, project.id, LearningSettings(rules=False, memory=True, finetuned=False))
    project = store.project("test")  # type: ignore[assignment]
    assert learning_settings(project) == LearningSettings(False, True, False)
    run(refresh(store, project))
    assert ("la Chine", "LOC", "model") in _surfaces(store, first, _learned_layer(store, first))
    set_learning(store, project.id, LearningSettings(rules=False, memory=False))
    project = store.project("test")  # type: ignore[assignment]
    report = run(refresh(store, project))
    assert report.documents == 0
    assert store.project("test").model_annotator == DEFAULT_MODEL  # type: ignore[union-attr]


def test_learning_cli_preannotate_learns_unless_no_learn(
    sqlite_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    import models.preannotate
    from models import cli

    def fake(store: Store, project: ProjectInfo, **options: Any) -> Job[PreannotateReport]:
        yield Progress(1, 1)
        return PreannotateReport(0, 0, 0, 0.0)

    monkeypatch.setattr(models.preannotate, "preannotate", fake)
    project = sqlite_store.ensure_project("test")
    _raw(sqlite_store, project)
    database = str(sqlite_store.engine.url.database)
    assert cli.main(["preannotate", "--db", database]) == 0
    assert sqlite_store.project("test").model_annotator == learned_name(DEFAULT_MODEL)  # type: ignore[union-attr]
    assert cli.main(["preannotate", "--db", database, "--no-learn"]) == 0
    assert sqlite_store.project("test").model_annotator == DEFAULT_MODEL  # type: ignore[union-attr]


def test_learning_document_opened_during_the_run_is_seeded_from_learned_output(
    store: Store, project: ProjectInfo
) -> None:
    """Learned layers are written batch by batch: an analyst who opens a document while
    pre-annotation still runs gets the rules applied ("Chine", not "la Chine")."""
    import spacy

    from models.refresh import preannotate_learning

    nlp = spacy.blank("fr")
    ruler = nlp.add_pipe("entity_ruler")
    ruler.add_patterns([{"label": "LOC", "pattern": "la Chine"}])  # type: ignore[attr-defined]
    store.add_documents(project.id, [DocumentRecord(text=t) for t in TEXTS])
    job = preannotate_learning(store, project, nlp=nlp, batch_size=1, suggest=False)
    step = next(job)  # refresh of earlier documents, then the run starts
    while not step.message.startswith("Pre-annotated"):
        step = next(job)
    assert step.done == 1  # the first document's batch, the run still going
    current = store.project(project.name)
    assert current is not None and current.model_annotator == "fr_pipeline@0.0.0+learned"
    model_id = store.annotator_id(current.model_annotator, "model")
    first = min(d.id for d in store.document_rows(project.id, store.annotator_id("a"), 0, 9))
    layer = open_layer(store, first, store.annotator_id("alice"), model_id)
    assert layer is not None
    assert _surfaces(store, first, layer.id) == [("Chine", "LOC", "model")]
    run(job)
