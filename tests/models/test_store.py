"""Store: projects, annotators, idempotent document import and the document list queries."""

from __future__ import annotations

import pytest

from models.commands import AddEntity, SetStatus
from models.labels import SchemaError, load_default
from models.layers import open_layer
from models.records import DocumentRecord
from models.store import DEFAULT_MODEL, ProjectInfo, Store

TEXTS = [
    "Sommet à Moscou : Poutine reçoit Xi.",
    "Pékin et l’Ukraine\u00a0: un plan de paix.",
    "Exercice naval conjoint en mer du Japon 🇷🇺🇨🇳.",
    "Sanctions : Washington vise des banques de MOSCOU.",
    "Accord gazier signé, e\u0301tape suivante.",
]
ONE_LABEL = '[[entities]]\nid = "ACTOR"\ncolour = "#123456"\nkey = "a"\n'


def add(store: Store, project: ProjectInfo, texts: list[str]) -> list[int | None]:
    records = [
        DocumentRecord(text=t, title=t[:12], meta={"source": f"{i}.txt"})
        for i, t in enumerate(texts)
    ]
    return store.add_documents(project.id, records)


def ids(values: list[int | None]) -> list[int]:
    assert all(value is not None for value in values)
    return [value for value in values if value is not None]


def test_store_ensure_project_creates_once_and_keeps_its_schema(store: Store) -> None:
    first = store.ensure_project("veille")
    again = store.ensure_project("veille", ONE_LABEL)
    assert again == first
    assert first.schema.entity_ids == load_default().entity_ids
    assert first.model_annotator == DEFAULT_MODEL
    other = store.ensure_project("custom", ONE_LABEL)
    assert other.id != first.id and other.schema.entity_ids == ("ACTOR",)
    assert store.project() == first
    assert store.project("custom") == other
    assert store.project("absent") is None


def test_store_ensure_project_refuses_a_bad_schema(store: Store) -> None:
    with pytest.raises(SchemaError, match="schema of project broken"):
        store.ensure_project("broken", ONE_LABEL.replace("#123456", "blue"))
    assert store.project("broken") is None


def test_store_annotator_is_created_once(store: Store) -> None:
    alice = store.annotator_id("alice")
    model = store.annotator_id(DEFAULT_MODEL, "model")
    assert store.annotator_id("alice", "gold") == alice != model
    assert store.annotators() == [("alice", "human"), (DEFAULT_MODEL, "model")]


def test_store_add_documents_skips_known_texts(store: Store, project: ProjectInfo) -> None:
    first = add(store, project, [TEXTS[0], TEXTS[1], TEXTS[0]])
    assert first[2] is None and len(set(ids(first[:2]))) == 2
    second = add(store, project, [TEXTS[1], TEXTS[2]])
    assert second[0] is None and second[1] is not None
    documents = [store.document(i) for i in ids([*first[:2], second[1]])]
    assert [d.position for d in documents] == [0, 1, 2]
    assert [d.text for d in documents] == TEXTS[:3]
    assert documents[2].meta == {"source": "1.txt"}
    assert store.count_documents(project.id, store.annotator_id("alice")) == 3
    elsewhere = store.ensure_project("other")
    assert ids(add(store, elsewhere, TEXTS[:1]))


@pytest.fixture
def corpus(store: Store, project: ProjectInfo) -> list[int]:
    return ids(add(store, project, TEXTS))


def test_store_document_rows_filter_search_and_count_the_visible_layer(
    store: Store, project: ProjectInfo, corpus: list[int], model_id: int, human_id: int
) -> None:
    for doc_id in corpus[:3]:
        model = open_layer(store, doc_id, model_id, None, create=True)
        assert model is not None
        store.do(AddEntity(model.id, 0, 6, "MISC", origin="model"))
        store.do(AddEntity(model.id, 9, 13, "LOC", origin="model"))
    mine = open_layer(store, corpus[1], human_id, model_id)
    assert mine is not None
    store.do(AddEntity(mine.id, 16, 18, "PER"))
    store.do(SetStatus(mine.id, "done"))

    rows = store.document_rows(project.id, human_id, 0, 10)
    assert [row.id for row in rows] == corpus
    assert [row.entities for row in rows] == [2, 3, 2, 0, 0]
    assert [row.status for row in rows] == ["todo", "done", "todo", "todo", "todo"]
    assert [row.title for row in rows] == [text[:12] for text in TEXTS]
    assert [row.id for row in store.document_rows(project.id, human_id, 1, 2)] == corpus[1:3]
    assert [row.id for row in store.document_rows(project.id, human_id, 0, 10, "done")] == [
        corpus[1]
    ]
    found = store.document_rows(project.id, human_id, 0, 10, search="moscou")
    assert [row.id for row in found] == [corpus[0], corpus[3]]
    assert store.count_documents(project.id, human_id, search="moscou") == 2
    assert store.count_documents(project.id, human_id, "todo") == 4
    assert store.progress(project.id, human_id) == (1, 5)
    assert store.progress(project.id, store.annotator_id("bob")) == (0, 5)


def test_store_document_rows_after_a_position_and_count_before_one(
    store: Store, project: ProjectInfo, corpus: list[int], human_id: int
) -> None:
    positions = [row.position for row in store.document_rows(project.id, human_id, 0, 10)]
    after = store.document_rows(project.id, human_id, 1, 2, after=positions[1])
    assert [row.id for row in after] == corpus[3:5]  # one row past the one after position 1
    assert store.count_documents(project.id, human_id, before=positions[3]) == 3
    layer = open_layer(store, corpus[1], human_id, None, create=True)
    assert layer is not None
    store.do(SetStatus(layer.id, "done"))
    assert store.count_documents(project.id, human_id, "todo", before=positions[3]) == 2
    assert store.count_documents(project.id, human_id, "done", before=positions[3]) == 1
    todo = store.document_rows(project.id, human_id, 0, 1, "todo", after=positions[0])
    assert [row.id for row in todo] == [corpus[2]]  # the done one is skipped


def test_store_next_document_skips_done_and_wraps(
    store: Store, project: ProjectInfo, corpus: list[int], human_id: int
) -> None:
    for doc_id, status in [(corpus[1], "done"), (corpus[2], "skipped"), (corpus[4], "in_progress")]:
        layer = open_layer(store, doc_id, human_id, None, create=True)
        assert layer is not None
        store.do(SetStatus(layer.id, status))
    assert store.next_document(project.id, human_id, 0) == corpus[3]
    assert store.next_document(project.id, human_id, 3) == corpus[4]
    assert store.next_document(project.id, human_id, 4) == corpus[0]
    for doc_id in (corpus[0], corpus[3], corpus[4]):
        layer = open_layer(store, doc_id, human_id, None, create=True)
        assert layer is not None
        store.do(SetStatus(layer.id, "done"))
    assert store.next_document(project.id, human_id, 0) is None


def test_store_neighbour_steps_in_corpus_order(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    assert store.neighbour(project.id, 2, +1) == corpus[3]
    assert store.neighbour(project.id, 2, -1) == corpus[1]
    assert store.neighbour(project.id, 0, -1) is None
    assert store.neighbour(project.id, 4, +1) is None
