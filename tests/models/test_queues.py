"""Queues: balanced, deterministic, stable assignment; the roster; queue-aware listing."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from models import cli
from models.commands import SetStatus
from models.layers import open_layer
from models.queues import (
    Queue,
    QueueError,
    assigned,
    assignment,
    join,
    leave,
    queue_for,
    set_assignment,
)
from models.records import DocumentRecord
from models.store import DEFAULT_MODEL, ProjectInfo, Store


@given(
    n=st.integers(0, 80),
    roster=st.integers(1, 9),
    data=st.data(),
)
def test_queues_assignment_is_balanced_and_distinct(
    n: int, roster: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, roster))
    deals = [assigned(p, roster, k) for p in range(n)]
    load = Counter(index for deal in deals for index in deal)
    low, high = n * k // roster, -(-n * k // roster)
    assert all(low <= load[index] <= high for index in range(roster))
    assert all(len(deal) == len(set(deal)) == k for deal in deals)
    for index in range(roster):
        queue = Queue(index, roster, k)
        assert [p for p in range(n) if queue.contains(p)] == [
            p for p, deal in enumerate(deals) if index in deal
        ]


@given(
    n=st.integers(0, 40),
    more=st.integers(1, 40),
    roster=st.integers(1, 7),
    data=st.data(),
)
def test_queues_adding_documents_keeps_existing_assignments(
    n: int, more: int, roster: int, data: st.DataObject
) -> None:
    k = data.draw(st.integers(1, roster))
    before = [assigned(p, roster, k) for p in range(n)]
    after = [assigned(p, roster, k) for p in range(n + more)]
    assert after[:n] == before
    assert [assigned(p, roster, k) for p in range(n)] == before  # deterministic


def test_queues_k_beyond_the_roster_gives_everyone_everything() -> None:
    assert assigned(5, 3, 7) == [0, 1, 2]
    assert all(Queue(1, 3, 7).contains(p) for p in range(10))


@pytest.fixture
def corpus(store: Store) -> ProjectInfo:
    project = store.ensure_project("test")
    records = [DocumentRecord(text=f"Article numéro {i}.", title=f"A{i}") for i in range(10)]
    store.add_documents(project.id, records)
    return project


def test_queues_roster_grows_in_join_order_and_refuses_non_humans(
    store: Store, corpus: ProjectInfo
) -> None:
    assert join(store, corpus.id, ["bob", "alice"]) == ["bob", "alice"]
    assert join(store, corpus.id, ["alice", "carol", "carol"]) == ["carol"]
    assert assignment(store, corpus.id).roster == ("bob", "alice", "carol")
    store.annotator_id(DEFAULT_MODEL, "model")
    with pytest.raises(QueueError, match="not human"):
        join(store, corpus.id, [DEFAULT_MODEL])
    assert leave(store, corpus.id, ["alice", "zoe"]) == ["alice"]
    assert assignment(store, corpus.id).roster == ("bob", "carol")
    assert dict(store.annotators())["carol"] == "human"


def test_queues_assignment_setting_is_validated(store: Store, corpus: ProjectInfo) -> None:
    assert assignment(store, corpus.id).mode == "all"
    with pytest.raises(QueueError, match="unknown assignment"):
        set_assignment(store, corpus.id, "some")
    with pytest.raises(QueueError, match="at least 1"):
        set_assignment(store, corpus.id, "k", 0)
    assert set_assignment(store, corpus.id, "k", 2).k == 2
    project = store.project("test")
    assert project is not None
    assert (project.settings["assignment"], project.settings["k"]) == ("k", 2)


def test_queues_everyone_sees_everything_unless_k(store: Store, corpus: ProjectInfo) -> None:
    join(store, corpus.id, ["alice", "bob"])
    assert queue_for(store, corpus.id, "alice") is None
    set_assignment(store, corpus.id, "k", 1)
    assert queue_for(store, corpus.id, "bob") == Queue(1, 2, 1)
    assert queue_for(store, corpus.id, "reviewer") is None  # not on the roster


@pytest.mark.parametrize(("roster", "k"), [(3, 1), (3, 2), (4, 3), (2, 2)])
def test_queues_listing_count_and_progress_follow_the_queue(
    store: Store, corpus: ProjectInfo, roster: int, k: int
) -> None:
    names = [f"analyst{i}" for i in range(roster)]
    join(store, corpus.id, names)
    set_assignment(store, corpus.id, "k", k)
    sizes = []
    for index, name in enumerate(names):
        queue = queue_for(store, corpus.id, name)
        annotator = store.annotator_id(name)
        rows = store.document_rows(corpus.id, annotator, 0, 100, queue=queue)
        expected = [p for p in range(10) if index in assigned(p, roster, k)]
        assert [row.position for row in rows] == expected
        assert store.count_documents(corpus.id, annotator, queue=queue) == len(expected)
        assert store.progress(corpus.id, annotator, queue) == (0, len(expected))
        sizes.append(len(expected))
    assert sum(sizes) == 10 * k


def test_queues_next_document_and_neighbour_stay_in_the_queue(
    store: Store, corpus: ProjectInfo
) -> None:
    join(store, corpus.id, ["alice", "bob", "carol"])
    set_assignment(store, corpus.id, "k", 1)
    queue = queue_for(store, corpus.id, "bob")
    assert queue is not None
    bob = store.annotator_id("bob")
    ids = {row.position: row.id for row in store.document_rows(corpus.id, bob, 0, 100)}
    assert [p for p in range(10) if queue.contains(p)] == [1, 4, 7]
    assert store.next_document(corpus.id, bob, -1, queue) == ids[1]
    assert store.next_document(corpus.id, bob, 1, queue) == ids[4]
    layer = open_layer(store, ids[1], bob, None, create=True)
    assert layer is not None
    store.do(SetStatus(layer.id, "done"))
    assert store.next_document(corpus.id, bob, 7, queue) == ids[4]  # wraps, skips done
    assert store.progress(corpus.id, bob, queue) == (1, 3)
    assert store.progress(corpus.id, bob) == (1, 10)
    assert store.neighbour(corpus.id, 4, 1, queue) == ids[7]
    assert store.neighbour(corpus.id, 4, -1, queue) == ids[1]
    assert store.neighbour(corpus.id, 7, 1, queue) is None
    assert store.neighbour(corpus.id, 4, 1) == ids[5]


def test_queues_cli_sets_roster_and_k(
    tmp_path: Path, corpus_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    db = str(tmp_path / "team.sqlite")
    assert cli.main(["import", str(corpus_dir), "--db", db]) == 0
    capsys.readouterr()

    assert cli.main(["queue", "--db", db, "--add", "alice", "bob", "carol", "--k", "2"]) == 0

    out = capsys.readouterr().out
    assert "assignment: k=2 (each document goes to 2 annotator(s))" in out
    assert "  alice: 0 of 4 document(s) done" in out
    assert "  bob: 0 of 3 document(s) done" in out
    assert cli.main(["queue", "--db", db, "--k", "0"]) == 2
    assert "at least 1" in capsys.readouterr().err
    assert cli.main(["queue", "--db", db, "--all", "--remove", "bob"]) == 0
    out = capsys.readouterr().out
    assert "bob removed from the roster" in out
    assert "  carol: 0 of 5 document(s) done" in out
    assert cli.main(["queue", "--db", db, "--all", "--k", "2"]) == 2  # exclusive options
