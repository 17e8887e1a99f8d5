"""Bulk SQL through the driver, for rows by the hundred thousand: no work per row in
SQLAlchemy (``insert_many``, ``select_rows``), ids without RETURNING rows (``insert_ids``).
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from itertools import chain
from typing import Any, cast

from sqlalchemy import ClauseElement, ColumnDefault, Table, func, insert, select
from sqlalchemy.orm import Session
from sqlalchemy.sql.compiler import SQLCompiler

MULTI_ROW = 5000  # rows of one INSERT statement at most (SQLite)


def insert_many(
    session: Session, table: Any, columns: Sequence[str], rows: Sequence[Sequence[Any]]
) -> None:
    """Insert ``rows``, values in the order of ``columns`` (numbers and strings only: no
    value is converted), by the driver's fastest path, with no work per row in SQLAlchemy:
    on SQLite multi-row INSERT statements (as many rows as SQLite takes parameters: a
    third of the time of executemany, which runs the statement once a row), PostgreSQL's
    COPY (psycopg); Core's executemany elsewhere."""
    if not rows:
        return
    connection = session.connection()
    target = table.__table__
    if connection.dialect.name == "postgresql" and connection.dialect.driver == "psycopg":
        quote = connection.dialect.identifier_preparer.quote
        names = ", ".join(quote(column) for column in columns)
        cursor = connection.connection.cursor()
        try:
            with cursor.copy(f"COPY {quote(target.name)} ({names}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        finally:
            cursor.close()
        return
    if connection.dialect.paramstyle != "qmark":
        connection.execute(insert(target), [dict(zip(columns, row, strict=True)) for row in rows])
        return
    compiled = insert(target).compile(dialect=connection.dialect, column_keys=list(columns))
    if list(compiled.positiontup or ()) != list(columns):
        raise ValueError(f"{columns} are not in the order of the table's columns")
    driver = cast(sqlite3.Connection, connection.connection.driver_connection)
    limit = driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    size = max(1, min(limit // len(columns), MULTI_ROW))
    marks = compiled.string[compiled.string.rindex("(") :]  # "(?, ?, ...)"
    full = compiled.string + f", {marks}" * (size - 1)
    for first in range(0, len(rows), size):
        chunk = rows[first : first + size]
        statement = (
            full if len(chunk) == size else compiled.string + f", {marks}" * (len(chunk) - 1)
        )
        connection.exec_driver_sql(statement, tuple(chain.from_iterable(chunk)))


def select_rows(session: Session, statement: ClauseElement) -> list[tuple[Any, ...]]:
    """The rows of ``statement`` as the driver returns them, in one fetch: no work per row
    in SQLAlchemy, for queries of many rows of numbers and strings (no conversion: a JSON
    column comes as the driver gives it, text on SQLite, decoded on PostgreSQL)."""
    connection = session.connection()
    compiled = cast(
        SQLCompiler,
        statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True}),
    )
    values = compiled.construct_params()
    parameters = [values[name] for name in compiled.positiontup or ()]
    cursor = connection.connection.cursor()
    try:
        cursor.execute(compiled.string, parameters if compiled.positional else values)
        return list(cursor.fetchall())
    finally:
        cursor.close()


def insert_ids(session: Session, table: Any, rows: list[dict[str, Any]]) -> list[int]:
    """Insert ``rows`` in bulk; their new ids, in order.

    On SQLite, rows of the same keys get their ids from here: those SQLite would give, after
    the largest (the transaction holds the write lock), and go through ``insert_many``
    with the conversions (JSON, dates) and Python defaults of their columns applied here.
    No RETURNING row is fetched one at a time (see ``models.read_ahead``) and the insert
    takes half the time. Elsewhere: INSERT ... RETURNING."""
    if not rows:
        return []
    connection = session.connection()
    keys = list(rows[0])
    if (
        connection.dialect.name != "sqlite"
        or "id" in keys
        or any(r.keys() != rows[0].keys() for r in rows)
    ):
        returning = insert(table).returning(table.id, sort_by_parameter_order=True)
        return list(session.scalars(returning, rows).all())
    columns = cast(Table, table.__table__).columns
    dialect = connection.dialect

    def converted(name: str, value: Any) -> Any:
        to = columns[name].type.bind_processor(dialect)
        return value if to is None else to(value)

    defaults = [
        (column.name, converted(column.name, _default(column.default)))
        for column in columns
        if column.name not in keys and column.name != "id" and column.default is not None
    ]
    converters = [
        (index, to)
        for index, name in enumerate(keys, start=1)
        if (to := columns[name].type.bind_processor(dialect)) is not None
    ]
    first = int(session.scalar(select(func.coalesce(func.max(table.id), 0))) or 0) + 1
    ids = list(range(first, first + len(rows)))
    constant = [value for _, value in defaults]
    names = ["id", *keys, *(name for name, _ in defaults)]
    order = [names.index(column.name) for column in columns if column.name in names]
    values = []
    for row_id, row in zip(ids, rows, strict=True):
        line = [row_id, *row.values(), *constant]
        for index, to in converters:
            line[index] = to(line[index])
        values.append([line[index] for index in order])
    insert_many(session, table, [names[index] for index in order], values)
    return ids


def _default(default: Any) -> Any:
    """The value of a column's Python default (a callable one called without context)."""
    if not isinstance(default, ColumnDefault):
        raise ValueError(f"{default!r}: only Python-side defaults are given by insert_ids")
    return default.arg(None) if default.is_callable else default.arg
