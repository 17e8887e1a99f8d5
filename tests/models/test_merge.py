"""Merging another database: every annotation kind copied, idempotence, conflicts, and what
cannot be placed (documents, labels, annotators) reported by name."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, update

from models import cli
from models.commands import AddEntity, SetStatus
from models.events import AddArgument, AddEvent, SetEventState, events
from models.jobs import run
from models.labels import default_schema_text
from models.layers import add_time, entities, find_layer, open_layer
from models.merge import MergeError, MergeReport, merge, merge_file
from models.records import DocumentRecord
from models.schema import Base, Layer
from models.stance import AddEvidence, SetStance, stance
from models.store import DEFAULT_MODEL, ProjectInfo, Store, text_hash

TEXTS = [
    "Vladimir Poutine a reçu Xi Jinping à Moscou.",
    "Pékin et Moscou signent un accord gazier.",
    "L’OTAN s’inquiète des manœuvres en mer de Chine.",
]
ONLY_THERE = "Kiev demande à Pékin de jouer un rôle de médiateur."
EXTRA_LABEL = (
    '\n[[entities]]\nid = "ARME"\nname = "Arme"\ncolour = "#123456"\nkey = "9"\n'
    'description = "Weapons."\n'
)


def _documents(store: Store, project: ProjectInfo, texts: list[str]) -> list[int]:
    records = [DocumentRecord(text=text, title=f"Article {text[:6]}") for text in texts]
    ids = store.add_documents(project.id, records)
    assert None not in ids
    return [i for i in ids if i is not None]


@pytest.fixture
def here(store: Store) -> ProjectInfo:
    project = store.ensure_project("test")
    _documents(store, project, TEXTS)
    return project


@pytest.fixture
def other(tmp_path: Path) -> Iterator[Store]:
    """An analyst's own SQLite file: the same corpus plus a document only there."""
    opened = Store.open(str(tmp_path / "analyst.sqlite"))
    project = opened.ensure_project("test", default_schema_text() + EXTRA_LABEL)
    _documents(opened, project, [*TEXTS, ONLY_THERE])
    yield opened
    opened.close()


def _layer(store: Store, document_id: int, name: str, kind: str = "human") -> int:
    info = open_layer(store, document_id, store.annotator_id(name, kind), None, create=True)
    assert info is not None
    return info.id


def _entity(store: Store, layer_id: int, start: int, end: int, label: str, **kw: Any) -> int:
    command = AddEntity(layer_id, start, end, label, **kw)
    store.do(command)
    assert command.entity_id is not None
    return command.entity_id


def _annotate_fully(store: Store, layer_id: int) -> None:
    """Entities of two origins with a score, stance with evidence, an accepted event with
    two arguments and a suggested one, status done and time spent (text: TEXTS[0])."""
    poutine = _entity(store, layer_id, 0, 16, "PER", origin="model", score=0.875)
    xi = _entity(store, layer_id, 24, 34, "PER")
    moscou = _entity(store, layer_id, 37, 43, "LOC", origin="model")
    store.do(SetStance(layer_id, "RUSSIE", value="favorable"))
    store.do(AddEvidence(layer_id, "RUSSIE", start=17, end=23))
    visit = AddEvent(layer_id, "VISITE_OFFICIELLE", 19, 23)
    store.do(visit)
    assert visit.event_id is not None
    store.do(AddArgument(visit.event_id, "hote", poutine))
    store.do(AddArgument(visit.event_id, "visiteur", xi))
    store.do(AddArgument(visit.event_id, "lieu", moscou, origin="model"))
    suggestion = AddEvent(layer_id, "RENCONTRE_SOMMET", 19, 23, origin="model")
    store.do(suggestion)
    assert suggestion.event_id is not None
    store.do(SetEventState(suggestion.event_id, state="rejected"))
    store.do(SetStatus(layer_id, "done"))
    add_time(store, layer_id, 42.5)


def _view(store: Store, layer_id: int) -> tuple[Any, ...]:
    """Everything a layer holds, without database ids."""
    info = find_layer_by_id(store, layer_id)
    spans = [(e.start, e.end, e.label, e.origin, e.score) for e in entities(store, layer_id)]
    found = [
        (
            e.type,
            e.start,
            e.end,
            e.origin,
            e.state,
            sorted((a.role, a.start, a.end) for a in e.arguments),
        )
        for e in events(store, layer_id, include_rejected=True)
    ]
    return info, spans, stance(store, layer_id), sorted(found)


def find_layer_by_id(store: Store, layer_id: int) -> tuple[str, float, int]:
    with store.reading() as session:
        layer = session.get_one(Layer, layer_id)
        return layer.status, layer.seconds, layer.version


def _dump(store: Store) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of every table (ids included): equal dumps, identical databases."""
    with store.reading() as session:
        return {
            table.name: sorted(
                (tuple(map(repr, row)) for row in session.execute(select(table))), key=str
            )
            for table in Base.metadata.sorted_tables
        }


def _merge(store: Store, project: ProjectInfo, other: Store, **options: Any) -> MergeReport:
    return run(merge(store, project, other, **options))


def _layer_of(store: Store, text: str, name: str) -> int:
    project = store.project("test")
    assert project is not None
    rows = store.document_rows(project.id, store.annotator_id(name), 0, 10, search=text[:20])
    info = find_layer(store, rows[0].id, store.annotator_id(name))
    assert info is not None
    return info.id


def test_merge_copies_layers_with_all_annotation_kinds(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    theirs = _layer(other, 1, "alice")
    _annotate_fully(other, theirs)
    model = _layer(other, 2, DEFAULT_MODEL, "model")
    _entity(other, model, 0, 5, "LOC", origin="model", score=0.5)
    gold = _layer(other, 1, "gold", "gold")
    _entity(other, gold, 0, 16, "PER")

    report = _merge(store, here, other)

    assert (report.added, report.replaced, report.conflicts) == (3, 0, [])
    ours = _layer_of(store, TEXTS[0], "alice")
    assert _view(store, ours) == _view(other, theirs)
    assert _view(store, ours)[0] == ("done", 42.5, find_layer_by_id(other, theirs)[2])
    assert _view(store, _layer_of(store, TEXTS[1], DEFAULT_MODEL)) == _view(other, model)
    assert _view(store, _layer_of(store, TEXTS[0], "gold")) == _view(other, gold)
    assert dict(store.annotators())["gold"] == "gold"


def test_merge_twice_changes_nothing(store: Store, here: ProjectInfo, other: Store) -> None:
    _annotate_fully(other, _layer(other, 1, "alice"))
    _entity(other, _layer(other, 2, "bob"), 0, 5, "LOC")
    first = _merge(store, here, other)
    before = _dump(store)

    second = _merge(store, here, other)

    assert first.changes == 2
    assert (second.changes, second.unchanged, second.conflicts) == (0, 2, [])
    assert _dump(store) == before


def test_merge_reports_documents_not_in_this_project(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    _entity(other, _layer(other, 4, "alice"), 0, 4, "LOC")

    report = _merge(store, here, other)

    digest = text_hash(ONLY_THERE)[:12]
    assert report.unknown_documents == [f"document 'Article {ONLY_THERE[:6]}' (sha256 {digest})"]
    assert report.added == 0
    assert any(ONLY_THERE[:6] in line for line in report.unplaced)


def test_merge_adds_missing_documents_on_request(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    _entity(other, _layer(other, 4, "alice"), 0, 4, "LOC")

    report = _merge(store, here, other, add_documents=True)

    assert (report.documents_added, report.added, report.unknown_documents) == (1, 1, [])
    spans = entities(store, _layer_of(store, ONLY_THERE, "alice"))
    assert [(s.start, s.end, s.label) for s in spans] == [(0, 4, "LOC")]
    rows = store.document_rows(here.id, store.annotator_id("alice"), 0, 10)
    assert [row.position for row in rows] == list(range(len(TEXTS) + 1))


def test_merge_reports_labels_not_in_the_schema(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    _entity(other, _layer(other, 1, "alice"), 0, 16, "ARME")
    _entity(other, _layer(other, 2, "alice"), 0, 5, "LOC")

    report = _merge(store, here, other)

    assert report.unknown_labels == {
        "entity label ARME": [f"document 'Article {TEXTS[0][:6]}' / alice"]
    }
    assert report.added == 1
    assert any(
        "entity label ARME is not in this project's schema" in line for line in report.unplaced
    )


def test_merge_replaces_older_layers_and_reports_newer_local_work(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    theirs = [_layer(other, document, "alice") for document in (1, 2)]
    for layer_id in theirs:
        _entity(other, layer_id, 0, 5, "LOC")
    _merge(store, here, other)
    ours = [_layer_of(store, text, "alice") for text in TEXTS[:2]]
    _entity(other, theirs[0], 6, 12, "PER")  # the analyst goes on working on document 1
    _entity(store, ours[1], 6, 12, "ORG")  # while document 2 is edited here
    _entity(other, theirs[1], 10, 14, "LOC")  # and, earlier than here, there too
    _age(other, theirs[1], hours=1)

    report = _merge(store, here, other)

    assert (report.replaced, report.added, report.unchanged) == (1, 0, 0)
    assert [e.label for e in entities(store, ours[0])] == ["LOC", "PER"]
    assert len(report.conflicts) == 1
    assert report.conflicts[0].startswith(f"document 'Article {TEXTS[1][:6]}' / alice: differs")
    assert [e.label for e in entities(store, ours[1])] == ["LOC", "ORG"]


def _age(store: Store, layer_id: int, hours: int) -> None:
    with store.transaction() as session:
        session.execute(
            update(Layer)
            .where(Layer.id == layer_id)
            .values(updated_at=datetime.now(UTC) - timedelta(hours=hours))
        )


def test_merge_raises_time_spent_on_identical_layers(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    theirs = _layer(other, 1, "alice")
    _merge(store, here, other)
    add_time(other, theirs, 30.0)

    report = _merge(store, here, other)

    assert (report.times, report.changes) == (1, 1)
    assert find_layer_by_id(store, _layer_of(store, TEXTS[0], "alice"))[1] == 30.0


def test_merge_reports_an_annotator_of_another_kind(
    store: Store, here: ProjectInfo, other: Store
) -> None:
    store.annotator_id("carol", "model")
    _entity(other, _layer(other, 1, "carol"), 0, 5, "LOC")

    report = _merge(store, here, other)

    assert report.added == 0
    assert report.conflicts == [
        f"annotator carol is a model here and a human in {other.url}: none of its layers merged"
    ]


def test_merge_uses_the_only_project_of_another_name(store: Store, tmp_path: Path) -> None:
    project = store.ensure_project("test")
    _documents(store, project, TEXTS)
    source = Store.open(str(tmp_path / "b.sqlite"))
    try:
        _documents(source, source.ensure_project("analyse"), TEXTS[:1])
        _entity(source, _layer(source, 1, "alice"), 0, 5, "LOC")
        assert _merge(store, project, source).added == 1
        source.ensure_project("second")
        with pytest.raises(MergeError, match="no project 'test'"):
            _merge(store, project, source)
        assert _merge(store, project, source, other_project="analyse").unchanged == 1
    finally:
        source.close()


def test_merge_file_refuses_a_missing_file_and_the_database_itself(
    sqlite_store: Store, tmp_path: Path
) -> None:
    project = sqlite_store.ensure_project("test")
    with pytest.raises(MergeError, match="no such database file"):
        run(merge_file(sqlite_store, project, str(tmp_path / "missing.sqlite")))
    assert not (tmp_path / "missing.sqlite").exists()
    with pytest.raises(MergeError, match="open database itself"):
        run(merge_file(sqlite_store, project, str(tmp_path / "glose.sqlite")))


def test_merge_file_merges_a_sqlite_file(store: Store, here: ProjectInfo, other: Store) -> None:
    _entity(other, _layer(other, 1, "alice"), 0, 5, "LOC")
    path = other.engine.url.database
    assert path is not None

    report = run(merge_file(store, here, path))

    assert report.added == 1
    assert "1 layer(s) added" in report.summary()


def test_merge_cli_merges_then_changes_nothing_and_names_what_it_cannot_place(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    team, analyst = str(tmp_path / "team.sqlite"), str(tmp_path / "analyst.sqlite")
    assert cli.main(["import", str(corpus_dir), "--db", team, "--project", "p"]) == 0
    assert cli.main(["import", str(corpus_dir), "--db", analyst, "--project", "p"]) == 0
    source = Store.open(analyst)
    try:
        _entity(source, _layer(source, 1, "alice"), 0, 3, "LOC")
        project = source.project("p")
        assert project is not None
        _documents(source, project, [ONLY_THERE])
    finally:
        source.close()
    capsys.readouterr()

    assert cli.main(["merge", analyst, "--db", team, "--project", "p"]) == 1
    first = capsys.readouterr()
    assert cli.main(["merge", analyst, "--db", team, "--project", "p"]) == 1
    second = capsys.readouterr()

    assert "6 document(s) read" in first.out
    assert "1 layer(s) added" in first.out
    assert "0 layer(s) added, 0 replaced, 0 with more time, 1 unchanged" in second.out
    assert f"document 'Article {ONLY_THERE[:6]}'" in second.err
    assert cli.main(["merge", str(tmp_path / "none.sqlite"), "--db", team]) == 2
    assert "no such database file" in capsys.readouterr().err
