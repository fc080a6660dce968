"""Many rows into one table in one statement, one round trip, without ORM objects.

A merge writes a few dozen provenance rows (``case_changes``) and blocking keys
(``linkage_keys``). As an executemany, psycopg sends them as one prepared statement per row
(pipelined, but each row is bound, sent and answered on its own), and the ORM's bulk path adds
its own bookkeeping per row: together about a tenth of a merge's CPU. On PostgreSQL this sends
one ``INSERT … SELECT * FROM unnest(array, array, …)``: one array per column, whatever the
number of rows, so the statement text never changes and is prepared once per connection.
Other databases (SQLite, in-process: a statement costs no round trip) keep the executemany.

Values go through each column's own bind processing first (enums stored by value, the UTC
timestamp type), so a row is stored exactly as the ORM would store it.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import Table, insert, text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import Session


@functools.lru_cache(maxsize=64)
def _unnest_statement(table: Table, columns: tuple[str, ...], dialect: Dialect) -> Any:
    arrays = ", ".join(
        f"CAST(:c{i} AS {table.c[name].type.compile(dialect=dialect)}[])" for i, name in enumerate(columns)
    )
    names = ", ".join(dialect.identifier_preparer.quote(c) for c in columns)
    # Names and types come from the table's metadata, never from data.
    return text(f"INSERT INTO {dialect.identifier_preparer.format_table(table)} ({names}) "  # noqa: S608
                f"SELECT * FROM unnest({arrays})")


@functools.lru_cache(maxsize=256)
def _processor(table: Table, column: str, dialect: Dialect) -> Callable[[Any], Any] | None:
    column_type = table.c[column].type
    return column_type.dialect_impl(dialect).bind_processor(dialect)


def insert_rows(session: Session, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """INSERT ``rows`` (dicts with the same keys) into ``table``; no ids are returned. Pending
    ORM changes are flushed first (rows this one refers to, ids in the order of writing)."""
    if not rows:
        return
    dialect = session.get_bind().dialect
    if dialect.name != "postgresql":
        session.execute(insert(table), list(rows))
        return
    session.flush()  # a plain text statement does not autoflush
    columns = tuple(rows[0])
    params: dict[str, list[Any]] = {}
    for i, name in enumerate(columns):
        values = [row[name] for row in rows]
        process = _processor(table, name, dialect)
        params[f"c{i}"] = [None if v is None else process(v) for v in values] if process else values
    session.execute(_unnest_statement(table, columns, dialect), params)
