"""Corpus search in the main window: Ctrl+Shift+F, typing (debounced, off the GUI thread),
the count, the hits with snippets, Enter opening a hit with its matches marked, F3 /
Shift+F3, Escape; the paged results model on its own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import QModelIndex, Qt
from pytestqt.qtbot import QtBot

from gui.main_window import MainWindow
from gui.search_panel import (
    CURRENT_MATCH,
    HIT_ROLE,
    MARK_LAYER,
    MATCH,
    PAGE_SIZE,
    SearchTableModel,
)
from models.records import DocumentRecord
from models.search import Found, parse, search
from models.store import ProjectInfo, Store
from tests.gui.conftest import screenshot, show_window

TEXTS = [
    ("Visite", "Vladimir Poutine a reçu Xi Jinping à Moscou. " * 3),
    ("Gaz", "Pékin et Moscou signent un accord gazier. Le gaz russe ira en Chine."),
    ("OTAN", "L’OTAN s’inquiète des manœuvres en mer de Chine."),
    (
        "Médiation",
        "Kiev demande à Pékin de jouer un rôle de médiateur.\n\n"
        + "La diplomatie chinoise avance lentement. " * 120
        + "Xi Jinping reçoit Zelensky ; Xi Jinping parle. Pékin écoute.",
    ),
]


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    project = store.ensure_project("test")
    records = [DocumentRecord(text=text, title=title) for title, text in TEXTS]
    store.add_documents(project.id, records)
    return project


@pytest.fixture
def window(
    qtbot: QtBot, store: Store, project: ProjectInfo, tmp_path: Path
) -> Iterator[MainWindow]:
    shown = show_window(qtbot, store, project, tmp_path)
    shown.resize(1400, 800)  # room for the search dock beside the document list
    yield shown
    shown.close()


def type_query(qtbot: QtBot, window: MainWindow, text: str) -> None:
    """Open the search with its shortcut, type ``text`` and wait for its results."""
    qtbot.keyClick(
        window,
        Qt.Key.Key_F,
        Qt.KeyboardModifier.ControlModifier | Qt.KeyboardModifier.ShiftModifier,
    )
    panel = window.search_panel
    assert window.search_dock.isVisible() and panel.field.hasFocus()
    panel.field.setText(text)  # keyClicks types ASCII only
    qtbot.waitUntil(lambda: not panel.delay.isActive() and not panel.workers)


def titles(window: MainWindow) -> list[str]:
    model = window.search_panel.model
    return [model.index(row).data(HIT_ROLE).title for row in range(model.rowCount())]


def test_typing_searches_the_corpus_and_counts(qtbot: QtBot, window: MainWindow) -> None:
    type_query(qtbot, window, "pékin")
    assert titles(window) == ["Gaz", "Médiation"]
    assert window.search_panel.status.text() == "2 document(s)"
    type_query(qtbot, window, "Moscou -gaz")
    assert titles(window) == ["Visite"]


def test_a_phrase_is_counted_after_the_first_page(qtbot: QtBot, window: MainWindow) -> None:
    type_query(qtbot, window, '"xi jinping"')
    assert titles(window) == ["Visite", "Médiation"]
    qtbot.waitUntil(lambda: window.search_panel.status.text() == "2 document(s)")


def test_the_last_word_is_a_prefix_while_typing(qtbot: QtBot, window: MainWindow) -> None:
    type_query(qtbot, window, "médiat")
    assert titles(window) == ["Médiation"]


def test_a_query_without_words_says_so(qtbot: QtBot, window: MainWindow) -> None:
    type_query(qtbot, window, "-pékin")
    assert titles(window) == []
    assert "not only words to leave out" in window.search_panel.status.text()


def test_enter_opens_the_hit_with_every_match_marked(
    qtbot: QtBot, window: MainWindow, store: Store, project: ProjectInfo
) -> None:
    type_query(qtbot, window, "xi jinping")
    panel = window.search_panel
    qtbot.keyClick(panel.field, Qt.Key.Key_Down)  # the second hit: "Médiation"
    qtbot.keyClick(panel.field, Qt.Key.Key_Return)
    text = window.view.text
    assert window.document_id == store.document_rows(project.id, window.annotator_id, 3, 1)[0].id
    marks = window.view.marks(MARK_LAYER)
    assert [text[mark.start : mark.end] for mark in marks] == ["Xi", "Jinping"] * 2
    assert [mark.style for mark in marks] == [CURRENT_MATCH, MATCH, MATCH, MATCH]
    assert window.view.textCursor().position() == marks[0].start  # no surrogates before it
    assert window.view.verticalScrollBar().value() > 0  # scrolled down to the match
    screenshot(window, "search-document")
    qtbot.keyClick(window.view, Qt.Key.Key_F3)
    assert window.view.marks(MARK_LAYER)[1].style == CURRENT_MATCH
    qtbot.keyClick(window.view, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    qtbot.keyClick(window.view, Qt.Key.Key_F3, Qt.KeyboardModifier.ShiftModifier)
    assert window.view.marks(MARK_LAYER)[3].style == CURRENT_MATCH  # wrapped to the last
    assert window.view.textCursor().position() == marks[3].start


def test_matches_follow_the_open_document_until_the_search_closes(
    qtbot: QtBot, window: MainWindow
) -> None:
    type_query(qtbot, window, "moscou")
    screenshot(window, "search-panel")
    window.search_panel.list.clicked.emit(window.search_panel.model.index(1))  # "Gaz"
    assert [window.view.text[m.start : m.end] for m in window.view.marks(MARK_LAYER)] == ["Moscou"]
    window.navigate(-1)  # "Visite", opened from the list: its matches are marked too
    assert len(window.view.marks(MARK_LAYER)) == 3
    window.show_search()
    qtbot.keyClick(window.search_panel.field, Qt.Key.Key_Escape)
    assert not window.search_dock.isVisible()
    assert window.view.marks(MARK_LAYER) == []
    assert window.view.hasFocus()


def test_results_model_pages_in_corpus_order(
    qtbot: QtBot,
    store: Store,
    project: ProjectInfo,
    qtmodeltester,  # type: ignore[no-untyped-def]
) -> None:
    store.add_documents(
        project.id, [DocumentRecord(text=f"Dépêche {n} de Pékin.") for n in range(120)]
    )
    model = SearchTableModel()
    query = parse("pékin")
    asked: list[int] = []

    def read(after: int) -> None:  # what the panel does on a worker
        asked.append(after)
        page = search(store, project.id, query, limit=PAGE_SIZE, after=after)
        model.append(page.hits, len(page.hits) == PAGE_SIZE)

    model.fetchRequested.connect(read)
    qtmodeltester.check(model, force_py=True)
    model.set_page(query, search(store, project.id, query, limit=PAGE_SIZE))
    assert model.canFetchMore(QModelIndex())  # the tester may already have fetched a page
    while model.canFetchMore(QModelIndex()):
        model.fetchMore(QModelIndex())
    positions = [model.hit(row).position for row in range(model.rowCount())]
    assert len(set(positions)) == 122 and positions == sorted(positions)
    assert asked == sorted(set(asked))  # each page asked for once, after the previous one


def test_panel_reads_the_next_page_off_the_gui_thread(
    qtbot: QtBot, store: Store, project: ProjectInfo, window: MainWindow
) -> None:
    store.add_documents(
        project.id, [DocumentRecord(text=f"Dépêche {n} de Pékin.") for n in range(120)]
    )
    panel = window.search_panel
    model = panel.model
    query = parse("pékin")
    model.set_page(query, search(store, project.id, query, limit=PAGE_SIZE))
    shown = model.rowCount()
    model.fetchMore(QModelIndex())
    assert model.rowCount() == shown and not model.canFetchMore(QModelIndex())  # in flight
    qtbot.waitUntil(lambda: model.rowCount() >= shown + PAGE_SIZE, timeout=10_000)
    assert [model.hit(row).position for row in range(model.rowCount())] == sorted(
        model.hit(row).position for row in range(model.rowCount())
    )


def test_a_phrase_lists_its_hits_as_they_are_found(
    qtbot: QtBot, store: Store, project: ProjectInfo, window: MainWindow
) -> None:
    texts = [
        f"Chine {n}, la nuit." if n % 7 else f"Dépêche {n} : toute la Chine." for n in range(300)
    ]
    store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    model = window.search_panel.model
    listed: list[int] = []  # the rows when the list is first filled
    model.modelReset.connect(lambda: listed.append(model.rowCount()))
    type_query(qtbot, window, '"la chine"')
    # 100 candidates, then 200: the first step's 15 hits were listed before the page was
    # complete, then the other 28 added to them
    assert listed[-1] == 15
    positions = [model.hit(row).position for row in range(model.rowCount())]
    assert positions == sorted(positions) and len(positions) == 43
    assert window.search_panel.list.currentIndex().row() == 0
    qtbot.waitUntil(lambda: window.search_panel.status.text() == "43 document(s)")


def test_a_phrase_step_without_hits_keeps_the_previous_list_and_searching(
    qtbot: QtBot, window: MainWindow
) -> None:
    type_query(qtbot, window, "pékin")
    panel = window.search_panel
    panel.status.setText("Searching…")  # what run() shows while the next query runs
    query = parse('"la chine"')
    panel._found(panel._generation, query, Found(0, PAGE_SIZE, "checking", ()))
    assert titles(window) == ["Gaz", "Médiation"] and panel.status.text() == "Searching…"
    hit = search(window.store, window.project.id, parse("otan")).hits[0]
    panel._found(panel._generation, query, Found(1, PAGE_SIZE, "checking", (hit,)))
    assert titles(window) == ["OTAN"] and panel.status.text() == "1+ documents, searching…"
