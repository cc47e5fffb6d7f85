"""binary ids: every id stored as its 16 bytes instead of 32 hex characters (issue 19)

Revision ID: 0022_binary_ids
Revises: every head before it (a merge point: it runs after all of them)

Ids were about a third of the large data set's file (docs/data.md, "Storage"): a UUID held as
``CHAR(32)`` hex text costs 33 bytes in a row and again in every index that carries it; as a BLOB
it costs 17. The columns keep their declared ``CHAR(32)`` (SQLite stores a BLOB as is whatever
the column's affinity), so only values change and a converted file has the schema of a new one.

Converts in place, in the upgrade's transaction (``schema.upgrade`` runs it with foreign keys off
and VACUUMs afterwards): every trigger is set aside (capture would queue every row, the insert-only
guards refuse the UPDATE, digest triggers do not fire on UPDATE anyway) and every non-unique index
of a table is dropped while its ids are rewritten, then rebuilt once. The outbox keeps its row ids
as 32-hex text (replication's wire form): capture triggers are recreated writing ``lower(hex(id))``.
Which columns: every column declared ``CHAR(32)`` (how SQLAlchemy's ``Uuid`` is declared on
SQLite) and ``stock_balance.lot_key`` (a lot id, or '' for stock without a lot). A value that is not
32 hex characters is left as it is.
"""

from __future__ import annotations

import re
from typing import Any

from alembic import op

revision = "0022_binary_ids"
down_revision = ("0020_storage", "0021_warehouse_figures")
branch_labels = None
depends_on = None

_EXTRA = {"stock_balance": ("lot_key",)}
_HEX = re.compile(r"[0-9a-fA-F]{32}")
#: the outbox insert of a capture trigger as the earlier migrations wrote it
_CAPTURE = re.compile(r"VALUES \('(\w+)', (NEW|OLD)\.id, '([IUD])'")


def _unhex(v: Any) -> Any:
    if isinstance(v, str) and len(v) == 32 and _HEX.fullmatch(v):
        return bytes.fromhex(v)
    return v


def _hexed(v: Any) -> Any:
    if isinstance(v, bytes) and len(v) == 16:
        return v.hex()
    return v


def _id_columns(conn: Any) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for (table,) in conn.exec_driver_sql(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'alembic_version' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name").fetchall():
        cols = [str(r[1]) for r in conn.exec_driver_sql(f'PRAGMA table_info("{table}")')
                if str(r[2]).upper().replace(" ", "") == "CHAR(32)" or str(r[1]) in _EXTRA.get(str(table), ())]
        if cols:
            out[str(table)] = cols
    return out


def _capture_sql(sql: str, binary: bool) -> str:
    def one(m: re.Match[str]) -> str:
        col = f"{m.group(2)}.id"
        value = f"CASE WHEN typeof({col}) = 'blob' THEN lower(hex({col})) ELSE {col} END" if binary else col
        return f"VALUES ('{m.group(1)}', {value}, '{m.group(3)}'"
    if binary:
        return _CAPTURE.sub(one, sql)
    return re.sub(r"CASE WHEN typeof\((NEW|OLD)\.id\) = 'blob' THEN lower\(hex\(\1\.id\)\) ELSE \1\.id END",
                  r"\1.id", sql)


def _convert(binary: bool) -> None:
    conn = op.get_bind()
    raw = conn.connection.driver_connection
    raw.create_function("depot_id_form", 1, _unhex if binary else _hexed, deterministic=True)
    # schema.upgrade runs migrations with foreign keys off; run another way, keys are checked at commit
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for table, cols in _id_columns(conn).items():
        indexes = conn.exec_driver_sql(
            "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
            "AND upper(sql) NOT LIKE 'CREATE UNIQUE%' ORDER BY name", (table,)).fetchall()
        for name, _sql in indexes:
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
        sets = ", ".join(f'"{c}" = depot_id_form("{c}")' for c in cols)
        conn.exec_driver_sql(f'UPDATE "{table}" SET {sets}')
        for _name, sql in indexes:
            conn.exec_driver_sql(str(sql))
    for _name, sql in triggers:
        conn.exec_driver_sql(_capture_sql(str(sql), binary))


def upgrade() -> None:
    _convert(binary=True)


def downgrade() -> None:
    _convert(binary=False)
