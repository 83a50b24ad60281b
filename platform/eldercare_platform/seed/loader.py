"""Write a generated `DemoData` set to PostgreSQL in one transaction with COPY (psycopg 3).

Tables are filled in foreign-key order with the generator's explicit ids, then each id sequence is
moved past the largest id so rows created later by the application do not collide. The target tables
must be empty: `load` refuses to mix demo data with existing rows.
"""

from __future__ import annotations

from operator import itemgetter
from typing import Any

import psycopg
from psycopg import sql
from psycopg.types.json import Jsonb

from eldercare_platform.seed.generator import TABLE_ORDER, DemoData, Row


class DatabaseNotEmptyError(RuntimeError):
    """Raised when a table the demo data would fill already holds rows."""


def is_seeded(database_url: str) -> bool:
    """Whether the database already holds demo (or any) data, judged by the `area` table."""
    with psycopg.connect(database_url) as conn:
        row = conn.execute("SELECT EXISTS (SELECT 1 FROM area)").fetchone()
    return bool(row and row[0])


def load(database_url: str, data: DemoData) -> dict[str, int]:
    """Write every table of `data` in one transaction; returns the number of rows per table.

    Raises `DatabaseNotEmptyError` (and writes nothing) if any of the tables already has rows.
    """
    counts: dict[str, int] = {}
    with psycopg.connect(database_url) as conn, conn.transaction(), conn.cursor() as cur:
        non_empty = [table for table in TABLE_ORDER if _has_rows(cur, table)]
        if non_empty:
            listed = ", ".join(non_empty)
            raise DatabaseNotEmptyError(f"refusing to load demo data; tables not empty: {listed}")
        jsonb_columns = _jsonb_columns(cur)
        for table, rows in data.tables():
            counts[table] = _copy_rows(cur, table, rows, jsonb_columns.get(table, set()))
        for table in TABLE_ORDER:
            _reset_sequence(cur, table)
    return counts


def _has_rows(cur: psycopg.Cursor[Any], table: str) -> bool:
    cur.execute(sql.SQL("SELECT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(table)))
    row = cur.fetchone()
    return bool(row and row[0])


def _jsonb_columns(cur: psycopg.Cursor[Any]) -> dict[str, set[str]]:
    """Columns of type jsonb per table (their list/dict values are wrapped in `Jsonb`)."""
    cur.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND data_type = 'jsonb' AND table_name = ANY(%s)",
        (list(TABLE_ORDER),),
    )
    columns: dict[str, set[str]] = {}
    for table, column in cur.fetchall():
        columns.setdefault(table, set()).add(column)
    return columns


def _copy_rows(cur: psycopg.Cursor[Any], table: str, rows: list[Row], jsonb: set[str]) -> int:
    """COPY the rows into `table` (columns = the first row's keys); returns how many were written."""
    if not rows:
        return 0
    columns = list(rows[0])
    statement = sql.SQL("COPY {} ({}) FROM STDIN").format(
        sql.Identifier(table), sql.SQL(", ").join(sql.Identifier(c) for c in columns)
    )
    getter = itemgetter(*columns)
    wrap = [i for i, c in enumerate(columns) if c in jsonb]
    with cur.copy(statement) as copy:
        for row in rows:
            values = getter(row)
            if len(columns) == 1:
                values = (values,)
            if wrap:
                values = list(values)
                for i in wrap:
                    values[i] = Jsonb(values[i])
            copy.write_row(values)
    return len(rows)


def _reset_sequence(cur: psycopg.Cursor[Any], table: str) -> None:
    """Point the table's id sequence at max(id), so the next default id follows the loaded rows."""
    cur.execute(
        sql.SQL(
            "SELECT setval(pg_get_serial_sequence(%s, 'id'), COALESCE(max(id), 1), max(id) IS NOT NULL) FROM {}"
        ).format(sql.Identifier(table)),
        (table,),
    )
