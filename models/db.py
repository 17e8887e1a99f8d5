"""Engine creation, database URLs, SQLite pragmas, migrations on open, and the errors a
database in a bad state raises (locked, gone, read-only), each with a clear message.

SQLite write transactions start with ``BEGIN IMMEDIATE`` (engines made by
``write_engine``): the write lock is taken first, so concurrent writers queue for
``busy_timeout`` instead of failing when a read turns into a write on a stale snapshot.
"""

from __future__ import annotations

import os
import sqlite3
import stat
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import quote

import platformdirs
from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import URL, make_url
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.pool import StaticPool

from models.checkpoint import Checkpointer

if TYPE_CHECKING:
    from alembic.config import Config

ENV_VAR = "GLOSE_DB"
BUSY_TIMEOUT_MS = 5000
MIGRATIONS = Path(__file__).parent / "migrations" / "versions"
VERSION_TABLE = "alembic_version"  # Alembic's own
WRITE_OPTION = "glose_write"  # execution option: this transaction writes (BEGIN IMMEDIATE)


class DatabaseError(Exception):
    """A database cannot be opened, upgraded or written; the message says which and why."""


class ReadOnlyError(DatabaseError):
    """The database is open read-only: nothing can be changed."""


class UnavailableError(DatabaseError):
    """The database cannot be written right now; nothing was saved, a retry may succeed."""


class DatabaseLockedError(UnavailableError):
    """Another program holds the SQLite write lock for longer than ``busy_timeout``."""


class ConnectionLostError(UnavailableError):
    """The database server went away or refuses connections."""


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


def sqlite_file_read_only(path: Path) -> bool:
    """True for an existing file this process may not write, or whose write bits are all
    off (``chmod a-w``: respected even when running as root)."""
    if not path.is_file():
        return False
    return not os.access(path, os.W_OK) or not path.stat().st_mode & (
        stat.S_IWUSR | stat.S_IWGRP | stat.S_IWOTH
    )


def _sqlite_pragmas(read_only: bool) -> Any:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # transactions are begun by _begin below
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
        if not read_only:
            cursor.execute("PRAGMA journal_mode = WAL")
            cursor.execute("PRAGMA wal_autocheckpoint = 0")  # models.checkpoint does it
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    return connect


def _begin(connection: Connection) -> None:
    """BEGIN IMMEDIATE for a unit of work that writes (through SQLAlchemy, whose errors
    ``clear_errors`` explains: the database may be locked); a read's BEGIN, which cannot
    fail so, on the driver's own connection: through SQLAlchemy it costs as much as the
    query of a small read (a document switch makes a dozen)."""
    if connection.get_execution_options().get(WRITE_OPTION, False):
        connection.exec_driver_sql("BEGIN IMMEDIATE")
    else:
        cast(sqlite3.Connection, connection.connection.driver_connection).execute("BEGIN")


def create_glose_engine(url: URL, *, read_only: bool = False) -> Engine:
    if not is_sqlite(url):
        return create_engine(url, pool_pre_ping=True)
    database = url.database or ""
    in_memory = database in ("", ":memory:")
    if not in_memory and not read_only:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    options: dict[str, Any] = {"poolclass": StaticPool} if in_memory else {}
    if read_only:
        uri = f"file:{quote(database)}?mode=ro"
        options["creator"] = lambda: sqlite3.connect(
            uri, uri=True, timeout=BUSY_TIMEOUT_MS / 1000, check_same_thread=False
        )
    else:
        options["connect_args"] = {
            "timeout": BUSY_TIMEOUT_MS / 1000,
            "check_same_thread": False,
        }
    engine = create_engine(url, **options)
    event.listen(engine, "connect", _sqlite_pragmas(read_only))
    event.listen(engine, "begin", _begin)
    if not in_memory and not read_only:
        checkpointer = Checkpointer(database)
        checkpointer.start()
        event.listen(engine, "engine_disposed", lambda _engine: checkpointer.stop())
    return engine


def write_engine(engine: Engine) -> Engine:
    """The same engine (same pool) for units of work that write."""
    return engine.execution_options(**{WRITE_OPTION: True})


@contextmanager
def clear_errors(url: URL) -> Iterator[None]:
    """Turn a locked database or a lost server into a ``DatabaseError`` that says so."""
    try:
        yield
    except DBAPIError as error:
        raise translate(error, url) from error


def translate(error: DBAPIError, url: URL) -> Exception:
    """The error to show for a driver error: clear for the bad states, else unchanged."""
    where = url.render_as_string(hide_password=True)
    reason = str(error.orig).strip().splitlines()[0] if error.orig else str(error)
    if is_sqlite(url):
        if "database is locked" in reason or "database table is locked" in reason:
            return DatabaseLockedError(
                f"{where}: the database is locked by another program (waited "
                f"{BUSY_TIMEOUT_MS / 1000:g} s); nothing was saved, retry when it is free"
            )
        if "readonly database" in reason:
            return ReadOnlyError(f"{where}: the database is read-only; nothing was saved")
        return error
    if error.connection_invalidated or _is_connection_error(error):
        return ConnectionLostError(
            f"{where}: lost the connection to the database server ({reason}); "
            "nothing was saved, retry when the server is back"
        )
    return error


def _is_connection_error(error: DBAPIError) -> bool:
    """A driver error about the connection itself (no SQL state: it failed client side)."""
    if not isinstance(error, OperationalError):
        return False
    state = getattr(getattr(error.orig, "diag", None), "sqlstate", None)
    # class 08: connection exception; 57P01-57P03: admin shutdown, crash, cannot connect now
    return state is None or state.startswith("08") or state in ("57P01", "57P02", "57P03")


def _alembic_config() -> Config:
    from alembic.config import Config  # Alembic takes 0.1 s to import: only to migrate

    config = Config()
    config.set_main_option("script_location", "models:migrations")
    return config


def head_revision() -> str:
    """The newest migration's revision: revisions are the numbers their files start with
    (0001_initial_schema.py is "0001"; tests/models/test_db.py checks it against Alembic's
    head), so that opening a current database needs no Alembic."""
    return max(path.name.split("_", 1)[0] for path in MIGRATIONS.glob("[0-9]*_*.py"))


def current_revision(engine: Engine) -> str | None:
    """The database's revision (Alembic's version table), None when it has none."""
    with engine.connect() as connection:
        if not inspect(connection).has_table(VERSION_TABLE):
            return None
        versions = connection.execute(text(f"SELECT version_num FROM {VERSION_TABLE}")).all()
    if len(versions) > 1:
        raise DatabaseError(f"several schema revisions: {sorted(row[0] for row in versions)}")
    return versions[0][0] if versions else None


def backup_sqlite(source: Path, target: Path) -> None:
    """Copy a SQLite database with SQLite's backup API: consistent even while it is in use
    (a plain file copy of a WAL database can miss committed pages)."""
    with sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True) as src:
        destination = sqlite3.connect(target)
        try:
            src.backup(destination)
        finally:
            destination.close()
    src.close()


def _backup_before_upgrade(url: URL, revision: str) -> Path | None:
    database = Path(url.database or "")
    if not database.is_file():
        return None
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S")
    backup = database.with_name(f"{database.name}.{revision}.{stamp}.bak")
    backup_sqlite(database, backup)
    return backup


def upgrade(engine: Engine, target: str = "head") -> str | None:
    """Bring the schema to ``target`` in one transaction: a failed migration changes nothing.

    For an existing SQLite database a backup copy is written first; returns its path.
    """
    current = current_revision(engine)
    if current == (head_revision() if target == "head" else target):
        return None
    backup = None
    if current is not None and is_sqlite(engine.url):
        backup = _backup_before_upgrade(engine.url, current)
    try:
        _migrate(engine, target)
    except Exception as error:
        kept = f"; a copy made before the upgrade is at {backup}" if backup else ""
        raise DatabaseError(
            f"the upgrade from schema {current or 'none'} to {target} failed, the database "
            f"was left unchanged{kept}: {error}"
        ) from error
    return str(backup) if backup else None


def _migrate(engine: Engine, target: str) -> None:
    """Run the migrations in one transaction. On SQLite foreign keys are off meanwhile (a
    table that Alembic's batch mode recreates must not cascade-delete the rows pointing at
    it) and checked before the commit."""
    from alembic import command

    config = _alembic_config()
    sqlite = is_sqlite(engine.url)
    with engine.connect() as connection:
        driver: Any = connection.connection.driver_connection
        if sqlite:  # only outside a transaction does this pragma take effect
            driver.execute("PRAGMA foreign_keys = OFF")
        try:
            with connection.begin():
                config.attributes["connection"] = connection
                command.upgrade(config, target)
                if sqlite:
                    broken = connection.exec_driver_sql("PRAGMA foreign_key_check").all()
                    if broken:
                        raise DatabaseError(f"rows left without their parent: {broken[:5]}")
        finally:
            if sqlite:
                driver.execute("PRAGMA foreign_keys = ON")


def open_engine(
    path_or_url: str | None = None, *, migrate: bool = True, read_only: bool = False
) -> Engine:
    """An engine on the database, upgraded to the current schema unless ``migrate`` is off.

    A read-only SQLite database is opened with ``mode=ro``; it must already be current.
    """
    url = resolve_db(path_or_url)
    if is_sqlite(url):
        _check_sqlite_file(Path(url.database or ""))
    engine = create_glose_engine(url, read_only=read_only)
    try:
        if read_only and migrate:
            _check_current(engine)
        elif migrate:
            upgrade(engine)
    except Exception as error:  # re-raised with the database named
        engine.dispose()
        raise DatabaseError(f"{url.render_as_string()}: cannot open: {error}") from error
    return engine


def _check_current(engine: Engine) -> None:
    current, head = current_revision(engine), head_revision()
    if current != head:
        raise ReadOnlyError(
            f"it is read-only and its schema ({current or 'none'}) is older than this "
            f"version of Glose ({head}): make it writable once so it can be upgraded"
        )


def _check_sqlite_file(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        header = handle.read(16)
    if header != b"SQLite format 3\x00":
        raise DatabaseError(f"{path}: not a SQLite database (the file header is not SQLite's)")
