"""Engine creation, database URLs, SQLite pragmas and migrations on open."""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import platformdirs
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import URL, make_url
from sqlalchemy.pool import StaticPool

ENV_VAR = "GLOSE_DB"
BUSY_TIMEOUT_MS = 5000


class DatabaseError(Exception):
    """A database cannot be opened or upgraded; the message says which and why."""


def default_db_path() -> Path:
    return platformdirs.user_data_path("glose", appauthor=False) / "glose.sqlite"


def resolve_db(path_or_url: str | None) -> URL:
    """``--db`` value, else ``$GLOSE_DB``, else the user data dir's glose.sqlite.

    A value containing ``://`` is an SQLAlchemy URL (``postgresql+psycopg://...``);
    anything else is a path to a SQLite file.
    """
    value = path_or_url or os.environ.get(ENV_VAR) or str(default_db_path())
    if "://" in value:
        return make_url(value)
    path = Path(value).expanduser().resolve()
    return URL.create("sqlite+pysqlite", database=str(path))


def is_sqlite(url: URL) -> bool:
    return url.get_backend_name() == "sqlite"


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    cursor.execute("PRAGMA journal_mode = WAL")
    cursor.execute("PRAGMA synchronous = NORMAL")
    cursor.execute("PRAGMA foreign_keys = ON")
    cursor.close()


def create_glose_engine(url: URL) -> Engine:
    if is_sqlite(url):
        database = url.database or ""
        if database and database != ":memory:":
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        in_memory = database in ("", ":memory:")
        engine = create_engine(
            url,
            connect_args={"timeout": BUSY_TIMEOUT_MS / 1000, "check_same_thread": False},
            **({"poolclass": StaticPool} if in_memory else {}),
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True)


def _alembic_config() -> Config:
    config = Config()
    config.set_main_option("script_location", "models:migrations")
    return config


def head_revision() -> str:
    head = ScriptDirectory.from_config(_alembic_config()).get_current_head()
    assert head is not None
    return head


def current_revision(engine: Engine) -> str | None:
    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def _backup_sqlite(url: URL, revision: str) -> Path | None:
    database = Path(url.database or "")
    if not database.is_file():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    backup = database.with_name(f"{database.name}.{revision}.{stamp}.bak")
    shutil.copy2(database, backup)
    return backup


def upgrade(engine: Engine) -> str | None:
    """Bring the schema to head. For an existing SQLite database a backup is copied first.

    Returns the path of the backup (as a string) when one was written.
    """
    current = current_revision(engine)
    if current == head_revision():
        return None
    backup = None
    if current is not None and is_sqlite(engine.url):
        backup = _backup_sqlite(engine.url, current)
    config = _alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    return str(backup) if backup else None


def open_engine(path_or_url: str | None = None, *, migrate: bool = True) -> Engine:
    url = resolve_db(path_or_url)
    if is_sqlite(url):
        _check_sqlite_file(Path(url.database or ""))
    engine = create_glose_engine(url)
    if migrate:
        try:
            upgrade(engine)
        except Exception as error:  # re-raised with the database named
            engine.dispose()
            raise DatabaseError(f"{url.render_as_string()}: cannot open: {error}") from error
    return engine


def _check_sqlite_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise DatabaseError(f"{path}: not a SQLite database (the file header is not SQLite's)")
