"""corpus full-text search: an FTS5 index on SQLite, a GIN index on PostgreSQL

SQLite: ``documents_fts`` is an external-content FTS5 table over documents.title and
documents.text (``detail=none``: no positions, 7 % of the database instead of 48 % with
``detail=full``; phrases are verified on the candidates by models.search), kept in sync by
the triggers below. A later migration that recreates ``documents`` (Alembic batch mode on
SQLite copies the table and drops the old one) drops these triggers with it: it must create
them again and rebuild the index.

PostgreSQL: an expression GIN index on ``to_tsvector('simple', title || ' ' || text)``, read
through ``glose_matches(tsquery, project)``: computing the tsvector of a 4 KB text takes about
1 ms, which the planner does not know, so left to itself it scans the table or walks the
corpus order computing it for every row (80 s for a rare word at 100,000 documents). The
function allows only the index (a bitmap scan; models.search sends no phrase operator, so
no row is rechecked) and returns the (id, position) of the project's matching documents.

Revision ID: 0003
Revises: 0002
"""

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

SQLITE_UPGRADE = (
    """CREATE VIRTUAL TABLE documents_fts USING fts5(
        title, text, content='documents', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2', detail=none)""",
    """CREATE TRIGGER documents_fts_insert AFTER INSERT ON documents BEGIN
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    """CREATE TRIGGER documents_fts_delete AFTER DELETE ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
    END""",
    """CREATE TRIGGER documents_fts_update AFTER UPDATE OF title, text ON documents BEGIN
        INSERT INTO documents_fts(documents_fts, rowid, title, text)
        VALUES ('delete', old.id, old.title, old.text);
        INSERT INTO documents_fts(rowid, title, text) VALUES (new.id, new.title, new.text);
    END""",
    "INSERT INTO documents_fts(documents_fts) VALUES ('rebuild')",
)
SQLITE_DOWNGRADE = (
    "DROP TRIGGER documents_fts_update",
    "DROP TRIGGER documents_fts_delete",
    "DROP TRIGGER documents_fts_insert",
    "DROP TABLE documents_fts",
)
POSTGRESQL_UPGRADE = (
    """CREATE INDEX ix_documents_fts ON documents
        USING gin (to_tsvector('simple', title || ' ' || text))""",
    """CREATE FUNCTION glose_matches(query tsquery, project integer)
        RETURNS TABLE (id integer, "position" integer)
        LANGUAGE sql STABLE PARALLEL SAFE
        SET enable_seqscan = off SET enable_indexscan = off
        AS $$
            SELECT d.id, d.position FROM documents AS d
            WHERE to_tsvector('simple', d.title || ' ' || d.text) @@ query
                AND d.project_id = project
        $$""",
)
POSTGRESQL_DOWNGRADE = (
    "DROP FUNCTION glose_matches(tsquery, integer)",
    "DROP INDEX ix_documents_fts",
)


def _run(statements: dict[str, tuple[str, ...]]) -> None:
    for statement in statements.get(op.get_bind().dialect.name, ()):
        op.execute(statement)


def upgrade() -> None:
    _run({"sqlite": SQLITE_UPGRADE, "postgresql": POSTGRESQL_UPGRADE})


def downgrade() -> None:
    _run({"sqlite": SQLITE_DOWNGRADE, "postgresql": POSTGRESQL_DOWNGRADE})
