"""Engine, URL resolution, SQLite pragmas, migrations on open and the schema's constraints."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import delete, insert, inspect, select, text
from sqlalchemy.exc import IntegrityError

from models import db
from models.layers import LayerInfo, open_layer
from models.schema import Entity, Event, EventArgument
from models.store import Store

TABLES = {
    "projects",
    "documents",
    "annotators",
    "layers",
    "entities",
    "doc_labels",
    "events",
    "event_arguments",
}


def test_db_open_migrates_to_head_with_every_table(db_url: str) -> None:
    engine = db.open_engine(db_url)
    try:
        assert TABLES | {"alembic_version"} <= set(inspect(engine).get_table_names())
        assert db.current_revision(engine) == db.head_revision()
    finally:
        engine.dispose()


def test_db_head_revision_is_alembics_and_a_current_database_opens_without_alembic(
    db_url: str,
) -> None:
    Store.open(db_url).close()  # migrated
    code = (
        "import sys; from models.store import Store; Store.open(sys.argv[1]).close(); "
        "print('alembic' in sys.modules)"
    )
    opened = subprocess.run(
        [sys.executable, "-c", code, db_url], capture_output=True, text=True, check=True
    )
    assert opened.stdout.strip() == "False"
    from alembic.script import ScriptDirectory

    assert (
        db.head_revision() == ScriptDirectory.from_config(db._alembic_config()).get_current_head()
    )


def test_db_refuses_a_database_with_several_revisions(db_url: str) -> None:
    engine = db.open_engine(db_url)
    try:
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO alembic_version VALUES ('0001')"))
        with pytest.raises(db.DatabaseError, match="several schema revisions"):
            db.current_revision(engine)
    finally:
        engine.dispose()


def test_db_open_again_is_a_no_op(db_url: str, tmp_path: Path) -> None:
    first = Store.open(db_url)
    project = first.ensure_project("kept")
    first.close()
    engine = db.open_engine(db_url)
    try:
        assert db.upgrade(engine) is None
        with engine.connect() as connection:
            versions = connection.execute(text("SELECT version_num FROM alembic_version")).all()
        assert [tuple(row) for row in versions] == [(db.head_revision(),)]
    finally:
        engine.dispose()
    second = Store.open(db_url)
    try:
        assert second.project("kept") == project
    finally:
        second.close()
    assert not list(tmp_path.glob("*.bak"))  # no upgrade, so no backup copy


def test_db_sqlite_pragmas_read_back(sqlite_store: Store) -> None:
    with sqlite_store.engine.connect() as connection:

        def pragma(name: str) -> object:
            return connection.execute(text(f"PRAGMA {name}")).scalar_one()

        assert pragma("journal_mode") == "wal"
        assert pragma("synchronous") == 1
        assert pragma("foreign_keys") == 1
        assert pragma("busy_timeout") == db.BUSY_TIMEOUT_MS


def test_db_refuses_a_file_that_is_not_sqlite(tmp_path: Path) -> None:
    path = tmp_path / "notes.sqlite"
    path.write_text("these are my notes, not a database\n", "utf-8")
    with pytest.raises(db.DatabaseError, match="not a SQLite database") as error:
        Store.open(str(path))
    assert str(path) in str(error.value)
    assert path.read_text("utf-8") == "these are my notes, not a database\n"


def test_db_resolve_db_prefers_option_then_env_then_user_data_dir(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "data"))
    monkeypatch.setenv(db.ENV_VAR, str(tmp_path / "env.sqlite"))
    assert db.resolve_db(str(tmp_path / "option.sqlite")).database == str(
        tmp_path / "option.sqlite"
    )
    assert db.resolve_db(None).database == str(tmp_path / "env.sqlite")
    monkeypatch.delenv(db.ENV_VAR)
    default = db.resolve_db(None)
    assert default.get_backend_name() == "sqlite"
    assert default.database == str(tmp_path / "data" / "glose" / "glose.sqlite")
    assert default.database == str(db.default_db_path())


def test_db_resolve_db_keeps_server_urls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(db.ENV_VAR, "postgresql+psycopg://ana@server:5433/glose")
    url = db.resolve_db(None)
    assert (url.drivername, url.username, url.host, url.port, url.database) == (
        "postgresql+psycopg",
        "ana",
        "server",
        5433,
        "glose",
    )


def _other_layer(store: Store, doc_id: int) -> int:
    other = open_layer(store, doc_id, store.annotator_id("bob"), None, create=True)
    assert other is not None
    return other.id


def _entity(store: Store, layer_id: int) -> int:
    with store.transaction() as session:
        return session.execute(
            insert(Entity)
            .values(layer_id=layer_id, start=0, end=8, label="PER", origin="manual")
            .returning(Entity.id)
        ).scalar_one()


def _event(store: Store, layer_id: int) -> int:
    with store.transaction() as session:
        return session.execute(
            insert(Event)
            .values(layer_id=layer_id, type="VISITE_OFFICIELLE", trigger_start=17, trigger_end=22)
            .returning(Event.id)
        ).scalar_one()


def test_db_refuses_an_argument_whose_entity_is_in_another_layer(
    store: Store, doc_id: int, layer: LayerInfo
) -> None:
    mine, theirs = layer.id, _other_layer(store, doc_id)
    event_id, foreign_entity = _event(store, mine), _entity(store, theirs)
    for layer_id in (mine, theirs):
        with pytest.raises(IntegrityError), store.transaction() as session:
            session.execute(
                insert(EventArgument).values(
                    event_id=event_id, layer_id=layer_id, role="visiteur", entity_id=foreign_entity
                )
            )
    with store.reading() as session:
        assert session.scalars(select(EventArgument)).all() == []


def test_db_deleting_an_entity_deletes_its_arguments(
    store: Store, doc_id: int, layer: LayerInfo
) -> None:
    event_id, entity_id = _event(store, layer.id), _entity(store, layer.id)
    kept = _entity(store, layer.id)
    with store.transaction() as session:
        session.execute(
            insert(EventArgument),
            [
                {
                    "event_id": event_id,
                    "layer_id": layer.id,
                    "role": "visiteur",
                    "entity_id": entity_id,
                },
                {"event_id": event_id, "layer_id": layer.id, "role": "hote", "entity_id": kept},
            ],
        )
    with store.transaction() as session:
        session.execute(delete(Entity).where(Entity.id == entity_id))
    with store.reading() as session:
        remaining = session.execute(select(EventArgument.role, EventArgument.entity_id)).all()
    assert [tuple(row) for row in remaining] == [("hote", kept)]
