"""The lazy document list model, tested without widgets (but one)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import Qt
from PySide6.QtGui import QFontMetricsF
from PySide6.QtWidgets import QStyle
from pytestqt.qtbot import QtBot

from gui import document_table
from gui.document_table import (
    ENTITIES,
    ROW_ROLE,
    STANCE,
    STATUS,
    TITLE,
    DocumentList,
    DocumentTableModel,
)
from models.commands import AddEntity, SetStatus
from models.layers import open_layer
from models.records import DocumentRecord
from models.stance import SetStance
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


def test_document_table_reads_only_the_pages_shown(model: DocumentTableModel) -> None:
    assert model.rowCount() == DOCUMENTS == model.total  # counted with its first page
    assert model.loaded == PAGE
    assert model.index(12, TITLE).data() == "T12"  # reads the page of row 12 only
    assert model.loaded == 2 * PAGE
    assert model.index(22, TITLE).data() == "T22"  # the last page, shorter
    assert model.loaded == 2 * PAGE + DOCUMENTS % PAGE
    assert [model.document_row(i).title for i in range(3)] == ["T0", "T1", "T2"]
    assert model.index(DOCUMENTS, TITLE).data() is None


def test_document_table_keeps_the_last_pages_seen(
    store: Store, ids: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(document_table, "MAX_PAGES", 2)
    project = store.project("test")
    assert project is not None
    model = DocumentTableModel(store, project.id, store.annotator_id("alice"), page_size=PAGE)
    for row in range(DOCUMENTS):  # scrolling down: from the page before, by position
        assert model.document_row(row).id == ids[row]
    assert model.loaded == PAGE + DOCUMENTS % PAGE  # the last two pages
    assert model.row_of(ids[0]) is None and model.row_of(ids[-1]) == DOCUMENTS - 1
    assert model.document_row(7).id == ids[7]  # read again, by offset


def test_document_table_columns_and_row_role(model: DocumentTableModel) -> None:
    assert model.columnCount() == 4  # title, status, entities, stance
    assert model.index(1, TITLE).data() == "T1"
    assert model.index(1, STATUS).data() == "to do"
    assert model.index(1, ENTITIES).data() == 0
    row = model.index(1, STATUS).data(ROW_ROLE)
    assert isinstance(row, DocumentRow) and row.title == "T1"
    assert model.index(1, TITLE).data(Qt.ItemDataRole.DecorationRole) is None
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
    assert model.total == 3 == model.rowCount() and model.loaded == 3  # with the count
    assert [model.document_row(i).id for i in range(3)] == ids[:3]
    model.set_filter(search="Moscou")
    assert model.total == len([i for i in range(DOCUMENTS) if i % 2])
    model.set_filter(status="todo", search="Pékin")
    assert model.total == len([i for i in range(3, DOCUMENTS) if i % 2 == 0])
    assert model.document_row(0).title == "T4"


def test_document_table_refresh_row_after_an_edit(
    model: DocumentTableModel, store: Store, ids: list[int], qtbot: object
) -> None:
    model.document_row(7)  # pages 0 and 1 held
    layer = open_layer(store, ids[6], model.annotator_id, None, create=True)
    assert layer is not None
    store.do(AddEntity(layer.id, 0, 7, "MISC"))
    changed: list[int] = []
    model.dataChanged.connect(lambda top, _bottom: changed.append(top.row()))
    model.refresh_row(ids[6])
    assert changed == [6]
    assert model.index(6, ENTITIES).data() == 1
    assert model.index(6, STATUS).data() == "in progress"


def test_document_table_refresh_row_of_a_document_leaving_the_filter(
    model: DocumentTableModel, store: Store, ids: list[int]
) -> None:
    model.set_filter(status="todo")
    assert model.document_row(2).id == ids[2]
    layer = open_layer(store, ids[2], model.annotator_id, None, create=True)
    assert layer is not None
    store.do(SetStatus(layer.id, "done"))
    model.refresh_row(ids[2])
    assert model.total == DOCUMENTS - 1
    assert model.document_row(2).id == ids[3]


def test_document_table_refresh_updates_in_place_and_resets_for_new_documents(
    store: Store, ids: list[int], qtbot: object
) -> None:
    project = store.project("test")
    assert project is not None
    model = DocumentTableModel(store, project.id, store.annotator_id("bob"), page_size=50)
    resets: list[bool] = []
    model.modelReset.connect(lambda: resets.append(True))
    assert model.index(1, STATUS).data() == "to do"
    assert open_layer(store, ids[1], store.annotator_id("bob"), None, create=True)
    model.refresh()  # same rows: read again, no reset
    assert model.index(1, STATUS).data() == "in progress" and not resets
    store.add_documents(project.id, [DocumentRecord(text="Un nouvel article.", title="New")])
    model.refresh()
    assert model.rowCount() == DOCUMENTS + 1 and resets
    assert model.document_row(DOCUMENTS).title == "New"


def test_document_table_locate_reads_one_page(
    model: DocumentTableModel, store: Store, ids: list[int]
) -> None:
    position = store.document(ids[12]).position
    assert model.locate(ids[12], position) == 12
    assert model.loaded == 2 * PAGE  # the first page and that of row 12, none between
    model.set_filter(search="Moscou")  # odd documents only
    assert model.locate(ids[12], position) is None
    assert model.locate(ids[13], store.document(ids[13]).position) == 6


def _stance_on(store: Store, document_id: int, annotator_id: int, *targets: str) -> None:
    layer = open_layer(store, document_id, annotator_id, None, create=True)
    assert layer is not None
    for target in targets:
        store.do(SetStance(layer.id, target, value="favorable"))


def _fits(documents: DocumentList, column: int, text: str) -> bool:
    table = documents.table
    needed = QFontMetricsF(table.font()).horizontalAdvance(text)
    margin = table.style().pixelMetric(QStyle.PixelMetric.PM_FocusFrameHMargin, None, table)
    return table.columnWidth(column) >= needed + 2 * (margin + 1)


def test_document_list_fits_its_columns_without_a_size_hint_per_cell(
    store: Store, ids: list[int], qtbot: QtBot
) -> None:
    """The status, entities and stance columns fit their texts (none elided), from every
    status and the rows held: the model is asked for no cell's size."""
    alice = store.annotator_id("alice")
    _stance_on(store, ids[1], alice, "RUSSIE")
    project = store.project("test")
    assert project is not None
    model = DocumentTableModel(store, project.id, alice, page_size=PAGE, schema=project.schema)
    asked: list[int] = []
    data = model.data
    model.data = lambda index, role=Qt.ItemDataRole.DisplayRole: (
        asked.append(role),
        data(index, role),
    )[1]  # type: ignore[method-assign]
    documents = DocumentList(model)
    qtbot.addWidget(documents)
    documents.resize(600, 300)
    documents.show()
    qtbot.waitExposed(documents)
    assert Qt.ItemDataRole.SizeHintRole not in asked
    assert all(_fits(documents, STATUS, name) for name in ("in progress", "to do", "skipped"))
    assert model.index(1, STANCE).data() == "RU+"
    assert _fits(documents, STANCE, "RU+")
    assert _fits(documents, ENTITIES, "Entities")  # the header
    font = documents.font()
    font.setPointSizeF(font.pointSizeF() * 2)
    documents.setFont(font)
    assert _fits(documents, STATUS, "in progress")  # sized again for the new font


def test_document_list_widens_its_stance_column_for_a_page_read_later(
    store: Store, ids: list[int], qtbot: QtBot
) -> None:
    alice = store.annotator_id("alice")
    _stance_on(store, ids[12], alice, "RUSSIE", "CHINE", "UKRAINE", "ETATS_UNIS")
    project = store.project("test")
    assert project is not None
    model = DocumentTableModel(store, project.id, alice, page_size=PAGE, schema=project.schema)
    documents = DocumentList(model)
    qtbot.addWidget(documents)
    wide = model.index(12, STANCE).data()  # reads the page of row 12
    assert wide.count(" ") == 3
    qtbot.waitUntil(lambda: _fits(documents, STANCE, wide))  # queued after the read


def test_document_table_passes_qtmodeltester(model: DocumentTableModel, qtmodeltester) -> None:  # type: ignore[no-untyped-def]
    qtmodeltester.check(model, force_py=True)  # keeps checking on every signal below
    model.set_filter(search="Pékin")
    model.refresh()
    assert model.rowCount() > 0
