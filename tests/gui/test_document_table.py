"""The lazy document list model, tested without widgets."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QModelIndex, Qt

from gui.document_table import ENTITIES, ROW_ROLE, STATUS, TITLE, DocumentTableModel
from models.commands import AddEntity, SetStatus
from models.layers import open_layer
from models.records import DocumentRecord
from models.store import DocumentRow, Store

DOCUMENTS = 23
PAGE = 5


@pytest.fixture
def ids(store: Store) -> list[int]:
    project = store.ensure_project("test")
    records = [
        DocumentRecord(text=f"Article {i}: {'Moscou' if i % 2 else 'Pékin'} et Xi.", title=f"T{i}")
        for i in range(DOCUMENTS)
    ]
    added = store.add_documents(project.id, records)
    return [doc_id for doc_id in added if doc_id is not None]


@pytest.fixture
def model(store: Store, ids: list[int]) -> DocumentTableModel:
    project = store.project("test")
    assert project is not None
    return DocumentTableModel(store, project.id, store.annotator_id("alice"), page_size=PAGE)


def test_document_table_fetches_pages_lazily(model: DocumentTableModel) -> None:
    assert model.rowCount() == 0
    assert model.total == DOCUMENTS
    assert model.canFetchMore(QModelIndex())
    model.fetchMore(QModelIndex())
    assert model.rowCount() == PAGE
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    assert model.rowCount() == DOCUMENTS
    assert [model.document_row(i).title for i in range(3)] == ["T0", "T1", "T2"]


def test_document_table_columns_and_row_role(model: DocumentTableModel) -> None:
    model.fetchMore(QModelIndex())
    assert model.columnCount() == 4  # title, status, entities, stance
    assert model.index(1, TITLE).data() == "T1"
    assert model.index(1, STATUS).data() == "to do"
    assert model.index(1, ENTITIES).data() == 0
    row = model.index(1, STATUS).data(ROW_ROLE)
    assert isinstance(row, DocumentRow) and row.title == "T1"
    header = model.headerData(TITLE, Qt.Orientation.Horizontal, Qt.ItemDataRole.DisplayRole)
    assert header == "Title"


def test_document_table_filter_by_status_and_search(
    model: DocumentTableModel, store: Store, ids: list[int]
) -> None:
    alice = model.annotator_id
    for doc_id in ids[:3]:
        layer = open_layer(store, doc_id, alice, None, create=True)
        assert layer is not None
        store.do(SetStatus(layer.id, "done"))
    model.set_filter(status="done")
    assert model.total == 3 and model.rowCount() == 0
    model.fetchMore(QModelIndex())
    assert [model.document_row(i).id for i in range(3)] == ids[:3]
    assert not model.canFetchMore(QModelIndex())
    model.set_filter(search="Moscou")
    assert model.total == len([i for i in range(DOCUMENTS) if i % 2])
    model.set_filter(status="todo", search="Pékin")
    assert model.total == len([i for i in range(3, DOCUMENTS) if i % 2 == 0])


def test_document_table_refresh_row_after_an_edit(
    model: DocumentTableModel, store: Store, ids: list[int], qtbot: object
) -> None:
    model.fetchMore(QModelIndex())
    layer = open_layer(store, ids[2], model.annotator_id, None, create=True)
    assert layer is not None
    store.do(AddEntity(layer.id, 0, 7, "MISC"))
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.refresh_row(ids[2])
    assert changed == [2]
    assert model.index(2, ENTITIES).data() == 1
    assert model.index(2, STATUS).data() == "in progress"


def test_document_table_refresh_keeps_rows_and_adds_new_documents(
    store: Store, ids: list[int]
) -> None:
    project = store.project("test")
    assert project is not None
    model = DocumentTableModel(store, project.id, store.annotator_id("bob"), page_size=50)
    model.fetchMore(QModelIndex())
    assert model.rowCount() == DOCUMENTS
    store.add_documents(project.id, [DocumentRecord(text="Un nouvel article.", title="New")])
    model.refresh()
    assert model.rowCount() == DOCUMENTS + 1
    assert model.document_row(DOCUMENTS).title == "New"


def test_document_table_locate_fetches_up_to_the_document(
    model: DocumentTableModel, store: Store, ids: list[int]
) -> None:
    position = store.document(ids[12]).position
    assert model.locate(ids[12], position) == 12
    assert model.rowCount() == 15  # three pages, not the whole corpus


def test_document_table_passes_qtmodeltester(model: DocumentTableModel, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(model, force_py=True)  # keeps checking on every signal below
    model.fetchMore(QModelIndex())
    model.set_filter(search="Pékin")
    model.fetchMore(QModelIndex())
    model.refresh()
    assert model.rowCount() > 0
