"""Database fixtures: every ``store`` test runs on SQLite and on PostgreSQL.

PostgreSQL runs when ``$GLOSE_TEST_PG`` names a server database (``.ci/run`` sets it, and
there the tests never skip); each test gets a fresh schema of that database, dropped after.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, create_engine, text
from sqlalchemy.pool import NullPool

from models.layers import LayerInfo, open_layer
from models.records import DocumentRecord
from models.store import DEFAULT_MODEL, ProjectInfo, Store

PG_ENV = "GLOSE_TEST_PG"
SAMPLE = "Vladimir Poutine a reçu Xi Jinping à Moscou. L’accord a été signé au Kremlin."


@pytest.fixture(scope="session")
def pg_admin() -> Iterator[Engine]:
    """An engine on the ``$GLOSE_TEST_PG`` database, to create and drop test schemas."""
    url = os.environ.get(PG_ENV)
    if not url:
        if os.environ.get("CI"):  # .ci/run sets both: there PostgreSQL tests never skip
            pytest.fail(f"CI without {PG_ENV}: the PostgreSQL tests would be skipped")
        pytest.skip(f"PostgreSQL not tested: set {PG_ENV}=postgresql+psycopg://user@host/db")
    engine = create_engine(url, poolclass=NullPool, isolation_level="AUTOCOMMIT")
    yield engine
    engine.dispose()


@pytest.fixture
def pg_url(pg_admin: Engine) -> Iterator[str]:
    """URL of a fresh, empty schema (search_path set through the connection options)."""
    schema = f"glose_test_{uuid.uuid4().hex[:12]}"
    with pg_admin.connect() as connection:
        connection.execute(text(f'CREATE SCHEMA "{schema}"'))
    url = pg_admin.url.update_query_dict({"options": f"-csearch_path={schema}"})
    yield url.render_as_string(hide_password=False)
    with pg_admin.connect() as connection:
        connection.execute(text("SET lock_timeout = '20s'"))
        connection.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A database that does not exist yet: a SQLite file path or a PostgreSQL URL."""
    if request.param == "sqlite":
        return str(tmp_path / "glose.sqlite")
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    opened = Store.open(db_url)
    yield opened
    opened.close()


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Iterator[Store]:
    opened = Store.open(str(tmp_path / "glose.sqlite"))
    yield opened
    opened.close()


@pytest.fixture
def project(store: Store) -> ProjectInfo:
    return store.ensure_project("test")


@pytest.fixture
def doc_id(store: Store, project: ProjectInfo) -> int:
    """One document of ``SAMPLE``."""
    (new_id,) = store.add_documents(project.id, [DocumentRecord(text=SAMPLE, title="t")])
    assert new_id is not None
    return new_id


@pytest.fixture
def model_id(store: Store) -> int:
    return store.annotator_id(DEFAULT_MODEL, "model")


@pytest.fixture
def human_id(store: Store) -> int:
    return store.annotator_id("alice", "human")


@pytest.fixture
def layer(store: Store, doc_id: int, human_id: int) -> LayerInfo:
    """An empty human layer on ``doc_id``."""
    info = open_layer(store, doc_id, human_id, None, create=True)
    assert info is not None
    return info
