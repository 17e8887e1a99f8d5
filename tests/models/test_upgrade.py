"""Upgrades: the frozen database of schema 0001 (tests/data/glose-0001.sqlite, written by
the code of revision 0001 with every kind of row) migrates on open after a backup copy; a
failed migration leaves the file byte for byte as it was; the same path on PostgreSQL."""

from __future__ import annotations

import shutil
import sqlite3
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from sqlalchemy import Engine, text

from models import db
from models.commands import AddEntity
from models.layers import entities
from models.schema import Base
from models.store import Store
from tests.conftest import ROOT

FROZEN = {"0001": ROOT / "tests" / "data" / "glose-0001.sqlite"}
MIGRATIONS = ROOT / "models" / "migrations"
TABLES = ("projects", "documents", "annotators", "layers", "entities", "doc_labels", "events")


def _rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    with sqlite3.connect(path) as connection:
        rows = {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY id").fetchall()
            for table in (*TABLES, "event_arguments")
        }
    connection.close()
    return rows


def _schema_differences(engine: Engine) -> list[object]:
    """What the migrated database has that models/schema.py does not declare, or the other
    way round (the full-text search index of migration 0003 is outside the ORM)."""

    def declared(item: object, name: str | None, *_: object) -> bool:
        return not (name or "").startswith(("documents_fts", "ix_documents_fts"))

    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": declared})
        return list(compare_metadata(context, Base.metadata))


def _revision(path: Path) -> str:
    with sqlite3.connect(path) as connection:
        (revision,) = connection.execute("SELECT version_num FROM alembic_version").fetchone()
    connection.close()
    return str(revision)


@pytest.mark.parametrize("revision", sorted(FROZEN))
def test_upgrade_frozen_database_migrates_after_a_backup(revision: str, tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    shutil.copyfile(FROZEN[revision], path)
    before = _rows(path)
    store = Store.open(str(path))
    try:
        assert db.current_revision(store.engine) == db.head_revision() != revision
    finally:
        store.close()
    [backup] = tmp_path.glob(f"glose.sqlite.{revision}.*.bak")
    assert _revision(backup) == revision
    assert _rows(backup) == before  # the backup is the database as it was
    after = _rows(path)
    for table in (*TABLES, "event_arguments"):  # every row kept, new columns at the end
        assert [row[: len(old)] for row, old in zip(after[table], before[table], strict=True)] == [
            tuple(old) for old in before[table]
        ], table
    store = Store.open(str(path))
    try:
        assert _schema_differences(store.engine) == []
        assert not store.sign_in("alice").reviewer  # 0002: nobody is a reviewer yet
        mine = int(str(before["layers"][1][0]))  # alice's layer
        store.do(AddEntity(mine, 17, 22, "MISC"))  # the upgraded file works
        assert len(entities(store, mine)) == 4  # three seeded from the model, one new
    finally:
        store.close()


def _broken_migrations(tmp_path: Path) -> Path:
    """The real migrations plus a 0002 that changes the schema, then fails."""
    scripts = tmp_path / "migrations"
    shutil.copytree(MIGRATIONS, scripts, ignore=shutil.ignore_patterns("__pycache__", "0002*"))
    (scripts / "versions" / "0002_broken.py").write_text(
        '"""broken"""\nimport sqlalchemy as sa\nfrom alembic import op\n\n'
        'revision = "0002"\ndown_revision = "0001"\nbranch_labels = None\n'
        "depends_on = None\n\n\ndef upgrade() -> None:\n"
        '    op.add_column("annotators", sa.Column("broken", sa.Integer()))\n'
        "    op.execute(\"UPDATE layers SET status = 'done'\")\n"
        '    raise RuntimeError("simulated failure in the middle of the migration")\n',
        "utf-8",
    )
    return scripts


def test_upgrade_failed_migration_leaves_the_file_untouched(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "glose.sqlite"
    shutil.copyfile(FROZEN["0001"], path)
    original = path.read_bytes()
    scripts = _broken_migrations(tmp_path)

    def broken_config() -> Config:
        config = Config()
        config.set_main_option("script_location", str(scripts))
        return config

    monkeypatch.setattr(db, "_alembic_config", broken_config)
    with pytest.raises(db.DatabaseError) as error:
        Store.open(str(path))
    message = str(error.value)
    assert str(path) in message
    assert "the upgrade from schema 0001 to head failed, the database was left unchanged" in message
    assert "simulated failure in the middle of the migration" in message
    assert "a copy made before the upgrade is at" in message
    assert path.read_bytes() == original
    assert not Path(f"{path}-wal").exists() or Path(f"{path}-wal").stat().st_size == 0
    monkeypatch.undo()
    store = Store.open(str(path))  # the real migrations still apply afterwards
    try:
        assert db.current_revision(store.engine) == db.head_revision()
    finally:
        store.close()


def test_upgrade_from_0001_on_both_backends(db_url: str) -> None:
    engine = db.create_glose_engine(db.resolve_db(db_url))
    try:
        db.upgrade(engine, "0001")
        assert db.current_revision(engine) == "0001"
        with engine.begin() as connection:
            connection.execute(text("INSERT INTO annotators (name, kind) VALUES ('bob', 'human')"))
    finally:
        engine.dispose()
    store = Store.open(db_url)
    try:
        assert db.current_revision(store.engine) == db.head_revision()
        assert store.annotators() == [("bob", "human")]
        assert not store.sign_in("bob").reviewer
        store.set_reviewer("bob")
        assert store.sign_in("bob").reviewer
    finally:
        store.close()


def test_upgrade_backup_holds_commits_still_in_the_wal(tmp_path: Path) -> None:
    path = tmp_path / "glose.sqlite"
    store = Store.open(str(path))
    try:
        with store.engine.connect() as connection:  # a reader keeps the WAL from resetting
            connection.execute(text("PRAGMA wal_autocheckpoint = 0")).all()
            store.ensure_project("only in the wal")
            assert Path(f"{path}-wal").stat().st_size > 0
            db.backup_sqlite(path, tmp_path / "copy.sqlite")
    finally:
        store.close()
    with sqlite3.connect(tmp_path / "copy.sqlite") as copy:
        assert copy.execute("SELECT name FROM projects").fetchall() == [("only in the wal",)]
    copy.close()


def test_upgrade_new_database_has_the_schema_of_the_models(db_url: str) -> None:
    store = Store.open(db_url)
    try:
        assert _schema_differences(store.engine) == []
    finally:
        store.close()
