"""Bad input and bad states, each with a clear message and no damage: a damaged SQLite
file, a database locked by another program, a read-only file, a PostgreSQL server that goes
away mid-session and comes back, a huge .txt file, a huge JSONL file (opt-in)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text

from models import db
from models.commands import AddEntity
from models.layers import LayerInfo, entities, open_layer
from models.records import DocumentRecord, Problem
from models.store import Store
from models.textfiles import MAX_TEXT_BYTES, read_text_file
from tests.conftest import ROOT

BIG_ENV = "GLOSE_BIG_IMPORT"  # set to run the ~300 MB JSONL import (minutes)


def _seeded(path: Path) -> tuple[int, int]:
    """A database with one document and alice's empty layer: (document id, layer id)."""
    store = Store.open(str(path))
    try:
        project = store.ensure_project()
        [document] = store.add_documents(project.id, [DocumentRecord("Xi Jinping à Moscou.")])
        assert document is not None
        layer = open_layer(store, document, store.annotator_id("alice"), None, create=True)
        assert layer is not None
        return document, layer.id
    finally:
        store.close()


def test_bad_states_damaged_sqlite_file_is_refused_untouched(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    damaged = b"SQLite format 3\x00" + bytes(range(256)) * 64
    path.write_bytes(damaged)
    with pytest.raises(db.DatabaseError, match=r"cannot open: .*not a database") as error:
        Store.open(str(path))
    assert str(path) in str(error.value)
    assert path.read_bytes() == damaged


@pytest.fixture
def short_busy_timeout(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(db, "BUSY_TIMEOUT_MS", 300)


def test_bad_states_locked_database_refuses_the_edit_then_retry_saves(
    tmp_path: Path, short_busy_timeout: None
) -> None:
    path = tmp_path / "glose.sqlite"
    _document, layer_id = _seeded(path)
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sqlite3, sys\n"
            f"c = sqlite3.connect({str(path)!r}, isolation_level=None)\n"
            "c.execute('BEGIN IMMEDIATE')\n"
            "print('locked', flush=True)\n"
            "sys.stdin.readline()\n",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert holder.stdin is not None and holder.stdout is not None
    store = Store.open(str(path))
    try:
        assert holder.stdout.readline() == "locked\n"
        edit = AddEntity(layer_id, 0, 10, "PER")
        with pytest.raises(db.DatabaseLockedError) as error:
            store.do(edit)
        assert "locked by another program" in str(error.value)
        assert "nothing was saved" in str(error.value)
        holder.stdin.write("\n")
        holder.stdin.flush()
        holder.wait(10)
        assert entities(store, layer_id) == []
        store.do(edit)  # the same edit, retried once the lock is gone
        assert [(e.start, e.end) for e in entities(store, layer_id)] == [(0, 10)]
    finally:
        store.close()
        if holder.poll() is None:
            holder.kill()


def test_bad_states_read_only_file_opens_read_only(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    document, layer_id = _seeded(path)
    path.chmod(0o444)
    original = path.read_bytes()
    store = Store.open(str(path))
    try:
        assert store.read_only
        assert store.document(document).text == "Xi Jinping à Moscou."
        with pytest.raises(db.ReadOnlyError, match="is open read-only: nothing can be changed"):
            store.do(AddEntity(layer_id, 0, 10, "PER"))
        shown = open_layer(store, document, store.annotator_id("alice"), None, create=True)
        assert shown is not None and shown.id == layer_id  # existing layers are shown
        with pytest.raises(db.ReadOnlyError, match="has no annotator bob"):
            store.annotator_id("bob")
    finally:
        store.close()
    assert path.read_bytes() == original


def test_bad_states_read_only_file_of_an_older_schema_says_why(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    shutil.copyfile(ROOT / "tests" / "data" / "glose-0001.sqlite", path)
    path.chmod(0o444)
    with pytest.raises(db.DatabaseError, match=r"read-only and its schema \(0001\) is older"):
        Store.open(str(path))


@pytest.fixture
def vanishing_pg(pg_admin: Engine) -> Iterator[tuple[str, Engine, str]]:
    """A database of its own on the test server, so that refusing its connections (the
    server "going away") touches no other test: (url, admin engine, database name)."""
    name = f"glose_gone_{uuid.uuid4().hex[:10]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield pg_admin.url.set(database=name).render_as_string(hide_password=False), pg_admin, name
    with pg_admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


def _server(admin: Engine, name: str, *, up: bool) -> None:
    with admin.connect() as connection:
        connection.execute(
            text(f'ALTER DATABASE "{name}" WITH ALLOW_CONNECTIONS {str(up).lower()}')
        )
        if not up:
            connection.execute(
                text("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = :n"),
                {"n": name},
            )


@pytest.mark.postgres
def test_bad_states_postgres_going_away_then_back_loses_nothing(
    vanishing_pg: tuple[str, Engine, str],
) -> None:
    url, admin, name = vanishing_pg
    store = Store.open(url)
    try:
        project = store.ensure_project()
        [document] = store.add_documents(project.id, [DocumentRecord("Xi Jinping à Moscou.")])
        assert document is not None
        layer: LayerInfo | None = open_layer(
            store, document, store.annotator_id("alice"), None, create=True
        )
        assert layer is not None
        store.do(AddEntity(layer.id, 0, 10, "PER"))
        _server(admin, name, up=False)
        edit = AddEntity(layer.id, 13, 19, "LOC")
        with pytest.raises(db.ConnectionLostError) as error:
            store.do(edit)
        assert "lost the connection to the database server" in str(error.value)
        assert "nothing was saved, retry when the server is back" in str(error.value)
        with pytest.raises(db.ConnectionLostError):
            store.do(edit)  # still away: the retry fails the same way
        _server(admin, name, up=True)
        store.do(edit)  # back: the retry succeeds
        assert [(e.start, e.label) for e in entities(store, layer.id)] == [(0, "PER"), (13, "LOC")]
    finally:
        store.close()


def test_bad_states_huge_text_file_refused_without_reading_it(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "everything.txt"
    with path.open("wb") as handle:  # sparse: 400 MB on paper, nothing on disk
        handle.truncate(400 * 1024 * 1024)
    monkeypatch.setattr(Path, "read_bytes", lambda self: pytest.fail("the file was read"))
    problem = read_text_file(path)
    assert isinstance(problem, Problem)
    limit = MAX_TEXT_BYTES // 2**20
    assert problem.reason.startswith(f"400 MB is more than the {limit} MB limit for one article")
    assert "import it as JSONL" in problem.reason


@pytest.mark.skipif(not os.environ.get(BIG_ENV), reason=f"set {BIG_ENV}=1 (a ~300 MB import)")
def test_bad_states_huge_jsonl_import_has_bounded_memory() -> None:
    script = ROOT / "tests" / "benchmarks" / "bench_import_memory.py"
    output = subprocess.run(
        [sys.executable, str(script), "300"], check=True, capture_output=True, text=True
    ).stdout
    result = json.loads(output.strip().splitlines()[-1])
    assert result["added"] == result["lines"] > 100_000
    assert result["peak_mb"] < 200  # the file is 300 MB: it was never held in memory
