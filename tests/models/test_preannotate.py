"""spaCy pre-annotation into the model layer: offsets, resume after cancel, redo, human layers."""

from __future__ import annotations

import multiprocessing
import re
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import func, select

from models.commands import AddEntity, RemoveEntity
from models.events import AddEvent, SetEventState, acceptance_rates, events
from models.jobs import run
from models.layers import entities, find_layer, open_layer
from models.normalise import normalise
from models.preannotate import load_pipeline, model_annotator_name, preannotate, suggest_events
from models.records import DocumentRecord, Progress
from models.schema import Event, Layer, Project
from models.store import DEFAULT_MODEL, ProjectInfo, Store

if TYPE_CHECKING:
    from spacy.language import Language

# Typographic apostrophes, NBSP and narrow NBSP, emoji (two of them astral, one a flag
# pair) and combining accents before and between the entities.
TRICKY = (
    "😀🇫🇷 Le président Emmanuel Macron a reçu Vladimir Poutine à Versailles.\u00a0L’ambassadeur"
    " de Chine a rencontré M.\u202fXi Jinping à Pe\u0301kin le 3\u00a0mai\u202f: «\u00a0C’est"
    " l’amitié\u00a0», a dit Jose\u0301 Bove\u0301 depuis l’Élysée."
)
ELIDED = re.compile(r"(?i)^(?:[cdjlmnst]|qu|jusqu|lorsqu|puisqu)['’]?$")


@pytest.fixture(scope="module")
def nlp() -> Iterator[Language]:
    yield load_pipeline()


@pytest.fixture(scope="module")
def nlp_events() -> Iterator[Language]:
    yield load_pipeline(events=True)


def _import(store: Store, project: ProjectInfo, texts: list[str]) -> list[int]:
    ids = store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    assert None not in ids
    return [doc_id for doc_id in ids if doc_id is not None]


def _model_spans(store: Store, doc_id: int) -> list[tuple[int, int, str]]:
    layer = find_layer(store, doc_id, store.annotator_id(DEFAULT_MODEL, "model"))
    assert layer is not None, f"document {doc_id} has no model layer"
    return [(span.start, span.end, span.label) for span in entities(store, layer.id)]


def _model_layers(store: Store) -> int:
    model_id = store.annotator_id(DEFAULT_MODEL, "model")
    with store.reading() as session:
        return int(
            session.scalar(select(func.count(Layer.id)).where(Layer.annotator_id == model_id)) or 0
        )


def _corpus(corpus_dir: Path) -> list[str]:
    return [path.read_text("utf-8") for path in sorted(corpus_dir.glob("*.txt"))]


def test_preannotate_module_imports_no_spacy() -> None:
    code = "import sys, models.preannotate; sys.exit('spacy' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


@pytest.mark.spacy_model
def test_preannotate_pipeline_runs_ner_only(nlp: Language) -> None:
    assert nlp.pipe_names == ["ner"]
    assert model_annotator_name(nlp) == DEFAULT_MODEL


@pytest.mark.spacy_model
def test_preannotate_sample_article_poutine_is_per_and_no_elisions(
    store: Store, project: ProjectInfo, nlp: Language, sample_text: str
) -> None:
    (doc_id,) = _import(store, project, [sample_text])
    report = run(preannotate(store, project, nlp=nlp))
    spans = _model_spans(store, doc_id)
    assert report.documents == 1 and report.entities == len(spans) > 20
    assert report.words == len(sample_text.split())
    found = {(sample_text[start:end], label) for start, end, label in spans}
    assert ("Vladimir Poutine", "PER") in found
    assert [text for text, _ in found if ELIDED.match(text)] == []
    layer = find_layer(store, doc_id, store.annotator_id(DEFAULT_MODEL, "model"))
    assert layer is not None and layer.status == "done"
    model_layer = entities(store, layer.id)
    assert {(span.origin, span.score) for span in model_layer} == {("model", None)}


@pytest.mark.spacy_model
def test_preannotate_offsets_exact_with_typography_emoji_and_accents(
    store: Store, project: ProjectInfo, nlp: Language
) -> None:
    (doc_id,) = _import(store, project, [TRICKY])
    run(preannotate(store, project, nlp=nlp))
    seen = nlp(normalise(TRICKY))
    expected = [(ent.start_char, ent.end_char, ent.label_) for ent in seen.ents]
    assert _model_spans(store, doc_id) == expected
    texts = {TRICKY[start:end]: label for start, end, label in expected}
    assert texts["Emmanuel Macron"] == "PER"
    assert texts["Xi Jinping"] == "PER"
    assert texts["Pe\u0301kin"] == "LOC"
    for ent in seen.ents:
        assert normalise(TRICKY[ent.start_char : ent.end_char]) == ent.text


@pytest.mark.spacy_model
def test_preannotate_resumes_after_cancel(
    store: Store, project: ProjectInfo, nlp: Language, corpus_dir: Path
) -> None:
    texts = _corpus(corpus_dir)
    ids = _import(store, project, texts)
    job = preannotate(store, project, nlp=nlp, batch_size=2)
    assert next(job) == Progress(0, 5, "Pre-annotating with fr_core_news_sm@3.8.0…")
    assert next(job).done == 2
    job.close()
    assert _model_layers(store) == 2
    report = run(preannotate(store, project, nlp=nlp, batch_size=2))
    assert report.documents == 3
    assert _model_layers(store) == 5
    for doc_id, doc in zip(ids, nlp.pipe(normalise(text) for text in texts), strict=True):
        assert _model_spans(store, doc_id) == [
            (e.start_char, e.end_char, e.label_) for e in doc.ents
        ]


@pytest.mark.spacy_model
def test_preannotate_cancel_with_worker_processes_leaves_none(
    sqlite_store: Store, nlp: Language, corpus_dir: Path
) -> None:
    project = sqlite_store.ensure_project("mp")
    texts = [f"{text}\n{copy}" for copy in range(3) for text in _corpus(corpus_dir)]
    _import(sqlite_store, project, texts)
    job = preannotate(sqlite_store, project, nlp=nlp, batch_size=2, n_process=2)
    next(job)
    assert next(job).done == 2
    assert len(multiprocessing.active_children()) == 2
    job.close()
    assert multiprocessing.active_children() == []
    kept = _model_layers(sqlite_store)
    assert 2 <= kept < len(texts)
    report = run(preannotate(sqlite_store, project, nlp=nlp, batch_size=2, n_process=2))
    assert report.documents == len(texts) - kept
    assert _model_layers(sqlite_store) == len(texts)
    assert multiprocessing.active_children() == []


@pytest.mark.spacy_model
def test_preannotate_redo_replaces_model_layer(
    store: Store, project: ProjectInfo, nlp: Language, sample_text: str
) -> None:
    (doc_id,) = _import(store, project, [sample_text])
    run(preannotate(store, project, nlp=nlp))
    first = _model_spans(store, doc_id)
    layer = find_layer(store, doc_id, store.annotator_id(DEFAULT_MODEL, "model"))
    assert layer is not None
    store.do(AddEntity(layer.id, 0, 7, "MISC"))
    assert run(preannotate(store, project, nlp=nlp)).documents == 0
    assert len(_model_spans(store, doc_id)) == len(first) + 1
    report = run(preannotate(store, project, nlp=nlp, redo=True))
    assert report.documents == 1 and report.entities == len(first)
    assert _model_spans(store, doc_id) == first
    again = find_layer(store, doc_id, layer.annotator_id)
    assert again is not None and again.id == layer.id and again.version > layer.version


@pytest.mark.spacy_model
def test_preannotate_leaves_human_layer_untouched(
    store: Store, project: ProjectInfo, nlp: Language, sample_text: str
) -> None:
    doc_ids = _import(store, project, [sample_text, TRICKY])
    run(preannotate(store, project, nlp=nlp, document_ids=doc_ids[:1]))
    assert _model_layers(store) == 1
    model_id = store.annotator_id(DEFAULT_MODEL, "model")
    human = open_layer(store, doc_ids[0], store.annotator_id("alice"), model_id)
    assert human is not None
    seeded = entities(store, human.id)
    store.do(RemoveEntity(seeded[0].id))
    store.do(AddEntity(human.id, 0, 7, "MISC"))
    before = entities(store, human.id)
    edited = find_layer(store, doc_ids[0], human.annotator_id)
    report = run(preannotate(store, project, nlp=nlp, redo=True))
    assert report.documents == 2
    assert entities(store, human.id) == before
    assert find_layer(store, doc_ids[0], human.annotator_id) == edited


def test_preannotate_without_pipeline_reports_loading_first(
    store: Store, project: ProjectInfo
) -> None:
    job = preannotate(store, project)
    assert next(job) == Progress(0, None, "Loading spaCy model…")
    job.close()


def test_preannotate_keeps_schema_labels_and_names_the_model(
    store: Store, project: ProjectInfo
) -> None:
    import spacy

    blank = spacy.blank("fr")
    ruler = blank.add_pipe("entity_ruler")
    ruler.add_patterns(
        [
            {"label": "PER", "pattern": "Poutine"},
            {"label": "WORK_OF_ART", "pattern": "Guernica"},
        ]
    )
    doc_ids = _import(store, project, ["Poutine voit Guernica.", "Poutine, encore.", "Rien."])
    report = run(preannotate(store, project, nlp=blank, document_ids=doc_ids[:2]))
    assert (report.documents, report.entities) == (2, 2)
    name = model_annotator_name(blank)
    assert name == "fr_pipeline@0.0.0"
    updated = store.project(project.name)
    assert updated is not None and updated.model_annotator == name
    model_id = store.annotator_id(name, "model")
    found = [find_layer(store, doc_id, model_id) for doc_id in doc_ids]
    assert found[2] is None
    layers = [layer for layer in found[:2] if layer]
    assert [[(e.start, e.end, e.label) for e in entities(store, layer.id)] for layer in layers] == [
        [(0, 7, "PER")],
        [(0, 7, "PER")],
    ]


def _model_layer(store: Store, doc_id: int) -> int:
    layer = find_layer(store, doc_id, store.annotator_id(DEFAULT_MODEL, "model"))
    assert layer is not None
    return layer.id


def _event_texts(store: Store, layer_id: int, text: str) -> set[tuple[str, str, tuple[str, ...]]]:
    return {
        (
            event.type,
            text[event.start : event.end],
            tuple(sorted(f"{arg.role}={text[arg.start : arg.end]}" for arg in event.arguments)),
        )
        for event in events(store, layer_id)
    }


def _set_setting(store: Store, project: ProjectInfo, **values: object) -> ProjectInfo:
    with store.transaction() as session:
        row = session.get_one(Project, project.id)
        row.settings = {**row.settings, **values}
    updated = store.project(project.name)
    assert updated is not None
    return updated


VISIT = (
    "VISITE_OFFICIELLE",
    "voyage",
    ("hote=Xi Jinping", "lieu=Pékin", "visiteur=Vladimir Poutine"),
)
SUMMIT = (
    "RENCONTRE_SOMMET",
    "rencontrait",
    ("lieu=Pékin", "participant=Vladimir Poutine", "participant=Xi Jinping"),
)


@pytest.mark.spacy_model
def test_preannotate_suggests_events_in_the_model_layer(
    store: Store, project: ProjectInfo, nlp: Language, nlp_events: Language, sample_text: str
) -> None:
    (doc_id,) = _import(store, project, [sample_text])
    report = run(preannotate(store, project, nlp=nlp_events))
    layer_id = _model_layer(store, doc_id)
    found = events(store, layer_id)
    assert report.events == len(found) > 5
    assert {(event.origin, event.state) for event in found} == {("model", "suggested")}
    assert {VISIT, SUMMIT} <= _event_texts(store, layer_id, sample_text)
    model_entities = {span.id for span in entities(store, layer_id)}
    assert {arg.entity_id for event in found for arg in event.arguments} <= model_entities
    # the entities are those of the NER-only pipeline
    ner_only = nlp(normalise(sample_text))
    assert _model_spans(store, doc_id) == [
        (e.start_char, e.end_char, e.label_) for e in ner_only.ents
    ]
    assert report.entities == len(ner_only.ents)


@pytest.mark.spacy_model
def test_preannotate_seeding_copies_suggestions_and_rates_follow_review(
    store: Store, project: ProjectInfo, nlp_events: Language, sample_text: str
) -> None:
    (doc_id,) = _import(store, project, [sample_text])
    run(preannotate(store, project, nlp=nlp_events))
    model_id = store.annotator_id(DEFAULT_MODEL, "model")
    human = open_layer(store, doc_id, store.annotator_id("alice"), model_id)
    assert human is not None
    seeded = events(store, human.id)
    assert _event_texts(store, human.id, sample_text) == _event_texts(
        store, _model_layer(store, doc_id), sample_text
    )
    assert {(event.origin, event.state) for event in seeded} == {("model", "suggested")}
    human_entities = {span.id for span in entities(store, human.id)}
    assert {arg.entity_id for event in seeded for arg in event.arguments} <= human_entities
    # the human layer's suggestions count, the model layer's own do not
    kinds = Counter(event.type for event in seeded)
    assert acceptance_rates(store) == {kind: {"suggested": n} for kind, n in kinds.items()}
    visit = next(e for e in seeded if (e.type, sample_text[e.start : e.end]) == VISIT[:2])
    summit = next(e for e in seeded if (e.type, sample_text[e.start : e.end]) == SUMMIT[:2])
    store.do(SetEventState(visit.id, state="accepted"))
    store.do(SetEventState(summit.id, state="rejected"))
    store.do(AddEvent(human.id, "SANCTIONS", visit.start, visit.end))
    rates = acceptance_rates(store)
    assert rates["VISITE_OFFICIELLE"]["accepted"] == 1
    assert rates["RENCONTRE_SOMMET"]["rejected"] == 1
    assert rates["VISITE_OFFICIELLE"].get("suggested", 0) == kinds["VISITE_OFFICIELLE"] - 1
    assert rates["SANCTIONS"] == {
        "suggested": kinds["SANCTIONS"]
    }  # a manual event is no suggestion


@pytest.mark.spacy_model
def test_preannotate_redo_replaces_model_events(
    store: Store, project: ProjectInfo, nlp: Language, nlp_events: Language, sample_text: str
) -> None:
    (doc_id,) = _import(store, project, [sample_text])
    first = run(preannotate(store, project, nlp=nlp_events))
    layer_id = _model_layer(store, doc_id)
    before = _event_texts(store, layer_id, sample_text)
    store.do(AddEvent(layer_id, "SANCTIONS", 0, 7))
    again = run(preannotate(store, project, nlp=nlp_events, redo=True))
    assert again.events == first.events
    assert _event_texts(store, layer_id, sample_text) == before
    with store.reading() as session:
        assert session.scalar(select(func.count(Event.id))) == first.events
    off = run(preannotate(store, project, nlp=nlp, redo=True))
    assert (off.events, events(store, layer_id)) == (0, [])
    assert off.entities == first.entities


def test_preannotate_suggestions_follow_schema_and_setting(
    store: Store, project: ProjectInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    asked: list[bool] = []

    def fake_load(*, events: bool = False) -> object:
        asked.append(events)
        raise RuntimeError("stop after loading")

    monkeypatch.setattr("models.preannotate.load_pipeline", fake_load)
    assert suggest_events(project)
    with pytest.raises(RuntimeError):
        run(preannotate(store, project))
    off = _set_setting(store, project, suggest_events=False)
    assert not suggest_events(off)
    with pytest.raises(RuntimeError):
        run(preannotate(store, off))
    with pytest.raises(RuntimeError):
        run(preannotate(store, off, suggest=True))
    assert asked == [True, False, True]
    bare = store.ensure_project("bare", '[[entities]]\nid = "PER"\ncolour = "#d9485f"\nkey = "1"\n')
    assert not suggest_events(bare)


def test_preannotate_asking_suggestions_of_a_pipeline_without_lemmas_is_refused(
    store: Store, project: ProjectInfo
) -> None:
    import spacy

    with pytest.raises(ValueError, match="lemmatizer"):
        run(preannotate(store, project, nlp=spacy.blank("fr"), suggest=True))
