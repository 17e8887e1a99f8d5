"""Corpus search: the query parser, the matcher (same tokens as SQLite FTS5's unicode61
with remove_diacritics 2), and search through the index on SQLite and PostgreSQL: hits in
corpus order, phrases, accents, prefixes, exclusions, paging, inserted / changed / deleted
documents, the document list's filter, and an upgraded database's index."""

from __future__ import annotations

import json
import shutil
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import delete, event, update

from models import cli
from models import search as search_module
from models.jobs import run
from models.records import DocumentRecord, Progress
from models.schema import Document
from models.search import (
    Found,
    QueryError,
    count,
    count_job,
    fold,
    parse,
    search,
    search_job,
    snippet_of,
    tokens,
)
from models.store import ProjectInfo, Store
from tests.conftest import ROOT

TEXTS = [
    ("Visite", "Vladimir Poutine a reçu Xi Jinping à l’Élysée.\nLes deux présidents ont parlé."),
    ("Accord", "La Chine et la Russie signent un accord commercial à Moscou."),
    ("Poutine", "Xi Jinping écoute. Le président russe parle de la coopération."),
    ("Marché", "Les marchés de Pékin et les exportations de gaz vers la Chine."),
]


def texts(query: str, body: str) -> list[str]:
    return [body[start:end] for start, end in parse(query).spans(body)]


# -- parser ---------------------------------------------------------------------------
def test_parse_reads_words_phrases_prefixes_and_exclusions() -> None:
    query = parse('Poutine "Xi  Jinping" mosc* -"accord commercial" -gaz')
    assert [(t.words, t.prefix, t.excluded) for t in query.terms] == [
        (("Poutine",), False, False),
        (("Xi", "Jinping"), False, False),
        (("mosc",), True, False),
        (("accord", "commercial"), False, True),
        (("gaz",), False, True),
    ]
    assert parse(query.canonical).canonical == query.canonical


def test_a_word_the_tokenizer_cuts_is_a_phrase() -> None:
    assert parse("l’Élysée").terms[0].words == ("l", "Élysée")
    assert parse("Jean-Pierre").terms[0].words == ("Jean", "Pierre")


def test_typing_makes_the_last_bare_word_a_prefix() -> None:
    assert parse("xi jinp", typing=True).terms[-1].prefix
    assert not parse("xi jinp ", typing=True).terms[-1].prefix  # a space ends the word
    assert not parse('"xi jinp"', typing=True).terms[-1].prefix
    assert not parse("xi jinp").terms[-1].prefix


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "empty query"),
        ("   ", "empty query"),
        ('!!! "" * - () «»', "no word"),
        ('-poutine -"xi jinping"', "not only words to leave out"),
    ],
)
def test_a_query_without_a_word_to_find_is_refused(text: str, message: str) -> None:
    with pytest.raises(QueryError, match=message):
        parse(text)


def test_fts_syntax_in_a_query_is_plain_text() -> None:
    query = parse('NEAR(a b) OR title:x ^y "z')
    assert [t.words for t in query.terms] == [
        ("NEAR", "a"),
        ("b",),
        ("OR",),
        ("title", "x"),
        ("y",),
        ("z",),
    ]


# -- matcher --------------------------------------------------------------------------
def test_matches_ignore_case_and_diacritics_on_token_boundaries() -> None:
    body = "L’ÉLYSÉE, l’Elysee et l'élysée ; Elyséens. CAFÉ café"
    assert texts("elysee", body) == ["ÉLYSÉE", "Elysee", "élysée"]
    assert texts("Élysée", body) == ["ÉLYSÉE", "Elysee", "élysée"]
    assert texts("elys*", body) == ["ÉLYSÉE", "Elysee", "élysée", "Elyséens"]
    assert texts("cafe", body) == ["CAFÉ", "café"]


def test_decomposed_accents_match_and_offsets_are_code_points() -> None:
    body = "😀 Ele\u0301onore et Éléonore"  # e + combining acute, after an emoji
    assert parse("eleonore").spans(body) == [(2, 11), (15, 23)]
    assert texts("éléonore", body) == ["Ele\u0301onore", "Éléonore"]


def test_phrases_match_token_sequences_across_punctuation_and_lines() -> None:
    body = "Xi Jinping. Puis xi,\njinping et Jinping Xi; xijinping"
    assert texts('"xi jinping"', body) == ["Xi Jinping", "xi,\njinping"]
    assert texts('"xi jin"*', body) == ["Xi Jinping", "xi,\njinping"]


def test_overlapping_matches_are_merged() -> None:
    body = "La coopération sino-russe"
    assert parse("coop* coopération").spans(body) == [(3, 14)]


def test_accepts_needs_every_term_and_no_excluded_one() -> None:
    query = parse('poutine "xi jinping" -moscou')
    assert query.accepts("Poutine", "Xi Jinping à Pékin")
    assert not query.accepts("Poutine", "Xi et Jinping à Pékin")
    assert not query.accepts("Poutine", "Xi Jinping à Moscou")


def _fts_terms(text: str) -> list[str]:
    """The terms SQLite's own tokenizer makes of ``text``."""
    connection = sqlite3.connect(":memory:")
    connection.execute(
        "CREATE VIRTUAL TABLE t USING fts5(x, tokenize='unicode61 remove_diacritics 2')"
    )
    connection.execute("CREATE VIRTUAL TABLE v USING fts5vocab(t, 'instance')")
    connection.execute("INSERT INTO t(x) VALUES (?)", (text,))
    terms = [row[0] for row in connection.execute("SELECT term FROM v ORDER BY offset")]
    connection.close()
    return terms


def test_tokens_and_folding_are_those_of_the_fts5_index() -> None:
    latin = "".join(chr(code) for code in range(0xC0, 0x180) if chr(code).isalpha())
    french = (
        "Œuvre d’art: l'Élysée, ÇA, «Noël», 3,5 %, covid-19, e\u0301te\u0301, straße "
        "rue_du_bac ДЖ Зеленский Ελλάδα 😀x"
    )
    for sample in (*(f"a{letter}b" for letter in latin), french):
        assert [fold(word) for word in tokens(sample)] == _fts_terms(sample), sample


def test_snippet_is_cut_at_spaces_around_the_first_match() -> None:
    body = "mot " * 40 + "Poutine parle\nà Pékin " + "fin " * 80
    spans = parse("poutine pékin").spans(body)
    snippet, marks = snippet_of(body, spans)
    assert snippet.startswith("…mot ") and snippet.endswith("…") and "\n" not in snippet
    assert [snippet[start:end] for start, end in marks] == ["Poutine", "Pékin"]
    assert snippet_of("Court.", []) == ("Court.", ())


# -- through the store ----------------------------------------------------------------
@pytest.fixture
def corpus(store: Store, project: ProjectInfo) -> list[int]:
    records = [DocumentRecord(text=body, title=title) for title, body in TEXTS]
    return [doc_id for doc_id in store.add_documents(project.id, records) if doc_id]


def found(store: Store, project: ProjectInfo, text: str) -> list[str]:
    page = search(store, project.id, parse(text))
    assert page.total in (None, len(page.hits))
    assert count(store, project.id, parse(text)) == len(page.hits)
    return [hit.title for hit in page.hits]


def test_search_finds_words_in_titles_and_texts_in_corpus_order(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    assert found(store, project, "poutine") == ["Visite", "Poutine"]  # text, title
    assert found(store, project, "xi jinping") == ["Visite", "Poutine"]
    assert found(store, project, "chine russie") == ["Accord"]
    assert found(store, project, "zyxwvut") == []
    assert found(store, project, 'NEAR(la chine) OR title:x AND ^y "z') == []


def test_search_checks_phrases(store: Store, project: ProjectInfo, corpus: list[int]) -> None:
    assert found(store, project, '"Xi Jinping"') == ["Visite", "Poutine"]
    assert found(store, project, '"Jinping a reçu"') == []  # every word is there, not in order
    assert found(store, project, '"accord commercial"') == ["Accord"]
    assert found(store, project, 'chine -"accord commercial"') == ["Marché"]


def test_search_prefixes_and_exclusions(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    assert found(store, project, "export*") == ["Marché"]
    assert found(store, project, "pré*") == ["Visite", "Poutine"]  # présidents, président
    assert found(store, project, "xi -poutine") == []
    assert found(store, project, "chine -russie") == ["Marché"]


def test_search_accents(store: Store, project: ProjectInfo, corpus: list[int]) -> None:
    assert found(store, project, "ÉLYSÉE") == ["Visite"]
    assert found(store, project, "pékin") == ["Marché"]
    assert found(store, project, "pekin") == ["Marché"]  # diacritics folded on both
    assert found(store, project, "pek*") == found(store, project, "Pe\u0301kin") == ["Marché"]
    assert found(store, project, '"l elysee"') == ["Visite"]


def test_hits_carry_a_snippet_with_the_matches(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    page = search(store, project.id, parse("chine"))
    assert [hit.matches for hit in page.hits] == [1, 1]
    for hit in page.hits:
        assert [hit.snippet[start:end] for start, end in hit.marks] == ["Chine"]


def test_search_pages_in_corpus_order(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    query = parse("la")
    first = search(store, project.id, query, limit=2)
    assert [hit.title for hit in first.hits] == ["Accord", "Poutine"]
    assert first.total == 3 or first.total is None
    rest = search(store, project.id, query, limit=2, after=first.last_position)
    assert [hit.title for hit in rest.hits] == ["Marché"]
    assert search(store, project.id, query, after=rest.last_position).hits == []


def test_inserted_changed_and_deleted_documents(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    (new,) = store.add_documents(project.id, [DocumentRecord(text="Un sommet à Vladivostok.")])
    assert found(store, project, "vladivostok") == [""]
    with store.transaction() as session:
        session.execute(update(Document).where(Document.id == new).values(text="Sommet à Kazan."))
    assert found(store, project, "vladivostok") == []
    assert found(store, project, "kazan") == [""]
    with store.transaction() as session:
        session.execute(delete(Document).where(Document.id.in_([new, corpus[0]])))
    assert found(store, project, "kazan") == []
    assert found(store, project, "poutine") == ["Poutine"]


@pytest.mark.parametrize(
    ("few", "dense"),
    [(5000, 8), (0, 8), (0, 0)],
    ids=["look candidates up", "ask the index in corpus order", "walk the corpus order"],
)
def test_every_plan_gives_the_same_pages_and_totals(
    store: Store,
    project: ProjectInfo,
    corpus: list[int],
    monkeypatch: pytest.MonkeyPatch,
    few: int,
    dense: int,
) -> None:
    monkeypatch.setattr(search_module, "FEW_CANDIDATES", few)
    monkeypatch.setattr(search_module, "DENSE", dense)
    monkeypatch.setattr(search_module, "CHECK_STEP", 1)  # phrases: one candidate a step

    def page(text: str) -> tuple[list[str], int | None]:
        found = search(store, project.id, parse(text), limit=2)
        return [hit.title for hit in found.hits], found.total

    assert page("la") == (["Accord", "Poutine"], 3)  # the index's count: one project
    assert page('"la chine"') == (["Accord", "Marché"], None)  # phrases: counted apart
    other = store.ensure_project("other")
    store.add_documents(other.id, [DocumentRecord(text="La Chine, ailleurs.")])
    assert page("la") == (["Accord", "Poutine"], 3)  # counted in the project
    assert page("ailleurs") == ([], 0)


def test_a_phrase_page_checks_more_candidates_at_each_step(
    store: Store, project: ProjectInfo
) -> None:
    records = [DocumentRecord(text=f"Chine {n}, la nuit.") for n in range(9)]
    store.add_documents(project.id, [*records, DocumentRecord(text="Toute la Chine.")])
    steps: list[Progress] = []
    page = run(search_job(store, project.id, parse('"la chine"'), limit=1), steps.append)
    assert [hit.position for hit in page.hits] == [9]
    # 2 candidates are read, then 4, then the last 4 of 8: two steps between
    assert len(steps) == 2


def test_a_phrase_page_gives_its_hits_step_by_step(store: Store, project: ProjectInfo) -> None:
    texts = [f"Chine {n}, la nuit." if n % 3 else f"{n} : toute la Chine." for n in range(30)]
    store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    steps: list[Progress] = []
    page = run(search_job(store, project.id, parse('"la chine"'), limit=6), steps.append)
    assert [hit.position for hit in page.hits] == [0, 3, 6, 9, 12, 15]
    # 12 candidates, then 24: the first step's hits come before the page is full
    assert all(isinstance(step, Found) for step in steps)
    assert [[hit.position for hit in step.hits] for step in steps] == [[0, 3, 6, 9]]
    assert steps[0].hits == tuple(page.hits[:4])  # the same hits, snippets and marks


def test_phrases_are_counted_in_steps(
    store: Store, project: ProjectInfo, corpus: list[int], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(search_module, "CHECK_STEP", 1)
    steps: list[Progress] = []
    assert run(count_job(store, project.id, parse('"chine et"')), steps.append) == 1
    # the two candidates (both words) are checked one by one
    assert [(step.done, step.total) for step in steps] == [(1, 2), (2, 2)]


def test_search_stays_in_its_project(store: Store, project: ProjectInfo, corpus: list[int]) -> None:
    other = store.ensure_project("other")
    store.add_documents(other.id, [DocumentRecord(text="Poutine ailleurs.", title="Ailleurs")])
    assert found(store, project, "poutine") == ["Visite", "Poutine"]
    assert [hit.title for hit in search(store, other.id, parse("poutine")).hits] == ["Ailleurs"]


def test_document_list_filter_uses_the_search(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    alice = store.annotator_id("alice")

    def titles(text: str) -> list[str]:
        rows = store.document_rows(project.id, alice, 0, 10, search=text)
        assert store.count_documents(project.id, alice, search=text) == len(rows)
        return [row.title for row in rows]

    assert titles("pou") == ["Visite", "Poutine"]  # typing: the last word is a prefix
    assert titles("xi jinping") == ["Visite", "Poutine"]
    assert titles('"accord commercial"') == ["Accord"]
    # the list counts on the GUI thread: its filter does not check the word order
    assert titles('"commercial accord"') == ["Accord"]
    assert titles("!!!") == ["Visite", "Accord", "Poutine", "Marché"]  # nothing to filter by
    assert titles("-chine") == ["Visite", "Accord", "Poutine", "Marché"]


def test_first_rows_are_the_count_and_the_first_page_in_one_search(
    store: Store, project: ProjectInfo, corpus: list[int]
) -> None:
    alice = store.annotator_id("alice")
    for status, text in ((None, None), (None, "chine"), ("todo", "la"), (None, "zyxwvut")):
        total, rows = store.first_rows(project.id, alice, 2, status, text)
        assert total == store.count_documents(project.id, alice, status, text)
        assert rows == store.document_rows(project.id, alice, 0, 2, status, text)
    statements: list[str] = []

    def executed(*args: Any) -> None:
        statements.append(args[2])

    event.listen(store.engine, "before_cursor_execute", executed)
    assert store.first_rows(project.id, alice, 1, None, "la")[0] == 3
    event.remove(store.engine, "before_cursor_execute", executed)
    searches = [sql for sql in statements if "glose_matches" in sql or "documents_fts" in sql]
    # PostgreSQL counts with the page (each query scans its index); SQLite counts apart
    assert len(searches) == (1 if store.team else 2)


def test_an_upgraded_database_is_indexed(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    shutil.copyfile(ROOT / "tests" / "data" / "glose-0001.sqlite", path)
    store = Store.open(str(path))
    try:
        project = store.project()
        assert project is not None
        assert [hit.title for hit in search(store, project.id, parse("kremlin")).hits] == ["Visite"]
    finally:
        store.close()


# -- glose search ---------------------------------------------------------------------
def test_cli_search_prints_the_hits_and_their_number(
    store: Store, project: ProjectInfo, corpus: list[int], capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url if store.team else str(store.engine.url.database)
    assert cli.main(["search", "chine", "--db", db, "--project", "test", "--limit", "1"]) == 0
    out, _ = capsys.readouterr()
    header, row, total = out.splitlines()
    assert header.split() == ["position", "title", "snippet"]
    assert row.split()[:2] == ["1", "Accord"] and "la Russie signent" in row
    assert total == '2 documents match "chine" (1 shown)'
    assert cli.main(["search", '"xi jinping"', "--db", db, "--format", "json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["total"] == 2
    assert [(hit["title"], hit["position"]) for hit in result["hits"]] == [
        ("Visite", 0),
        ("Poutine", 2),
    ]
    hit = result["hits"][0]
    assert [hit["snippet"][start:end] for start, end in hit["marks"]] == ["Xi Jinping"]


def test_cli_search_prints_a_phrase_hits_as_they_are_found(
    store: Store,
    project: ProjectInfo,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    texts = [f"Chine {n}, la nuit." if n % 3 else f"{n} : toute la Chine." for n in range(30)]
    store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    printed: list[str] = []  # the output at each step of the search, after the first
    job = search_module.search_job

    def watched(*args: Any, **kwargs: Any) -> Any:
        steps = job(*args, **kwargs)
        step = next(steps)
        while True:
            yield step
            printed.append(capsys.readouterr().out)
            try:
                step = next(steps)
            except StopIteration as stop:
                return stop.value

    monkeypatch.setattr(cli, "search_job", watched)
    db = store.url if store.team else str(store.engine.url.database)
    assert cli.main(["search", '"la chine"', "--db", db, "--limit", "6"]) == 0
    # the first step's 4 hits, under the header, were printed before the search went on
    assert [line.split()[0] for line in printed[0].splitlines()] == ["position", *"0369"]
    lines = "".join(printed).splitlines() + capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:-1]] == ["position", *"0369", "12", "15"]
    assert lines[-1] == '10 documents match "la chine" (6 shown)'


def test_cli_search_refuses_a_query_without_words(
    store: Store, project: ProjectInfo, capsys: pytest.CaptureFixture[str]
) -> None:
    db = store.url if store.team else str(store.engine.url.database)
    assert cli.main(["search", "«!»", "--db", db]) == 1
    assert capsys.readouterr().err == "glose search: nothing to search for: no word in '«!»'\n"


def test_a_phrase_reads_its_candidates_as_suits_the_database(
    store: Store, project: ProjectInfo, monkeypatch: pytest.MonkeyPatch
) -> None:
    texts = [f"{n} : toute la Chine." if n % 10 == 0 else f"Chine {n}, la nuit." for n in range(30)]
    store.add_documents(project.id, [DocumentRecord(text=text) for text in texts])
    reads: list[int] = []
    candidates = search_module._candidates

    def counted(*args: Any) -> Any:
        found = candidates(*args)
        page = found.page
        found.page = lambda after, limit: reads.append(limit) or page(after, limit)  # type: ignore[method-assign]
        return found

    monkeypatch.setattr(search_module, "_candidates", counted)

    def positions() -> list[int]:
        page = run(search_job(store, project.id, parse('"la chine"'), limit=2))
        return [hit.position for hit in page.hits]

    # SQLite reads what a step checks (4, then 8); PostgreSQL, whose reads each scan the
    # index, reads CHECK_STEP candidates at once
    assert positions() == [0, 10]
    assert reads == ([search_module.CHECK_STEP] if store.team else [4, 8])
    reads.clear()
    monkeypatch.setattr(search_module, "CHECK_STEP", 5)
    assert positions() == [0, 10] and reads == ([5, 5, 5] if store.team else [4, 5, 5])
