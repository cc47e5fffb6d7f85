"""Applying server rows to the branch SQLite database (pull, first sync, lost pushes).

Rows come as tuples in storage form. Capture is switched off while they are written
(they are not local changes), foreign keys are checked at commit (a window of rows may
hold children before parents of another table), ledgers insert ``ON CONFLICT DO NOTHING``
(the balance trigger fires only for rows really inserted), and a versioned row replaces the
local one only if its HLC is not older — unless ``force`` (the server refused our version,
so its version is the truth). Rows whose key still has pending outbox entries are never
overwritten: the local change is pushed first and the server decides.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from sqlalchemy import Connection

from app.services.replication.tables import SyncTable, sync_tables

Row = tuple[Any, ...]


def _insert_sql(t: SyncTable, force: bool) -> str:
    cols = ", ".join(f'"{c}"' for c in t.names)
    marks = ", ".join("?" * len(t.names))
    base = f'INSERT INTO "{t.name}" ({cols}) VALUES ({marks}) '
    if not t.versioned:
        return base + "ON CONFLICT DO NOTHING"
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in t.names if c != "id")
    sql = base + f"ON CONFLICT (id) DO UPDATE SET {sets}"
    if not force:
        newer = (f'CAST(excluded.hlc AS INTEGER) > "{t.name}".hlc OR (CAST(excluded.hlc AS INTEGER) = "{t.name}".hlc '
                 f'AND excluded.hlc_site >= "{t.name}".hlc_site)')
        sql += f" WHERE {newer}"
    return sql


#: from this many pulled moves on (a first sync, a long offline spell) the balance trigger is
#: set aside and balances are recomputed once from the ledger: one aggregate instead of two
#: upserts per row. Same transaction, and SQLite DDL is transactional, so a crash undoes all.
BULK_MOVES = 20_000
#: page cache (KiB, as a negative PRAGMA value) while applying a big pull
BIG_CACHE_KIB = -512 * 1024


def _bulk_moves(conn: Connection, insert: str, rows: list[Row]) -> None:
    from app.models.stock import BALANCE_TRIGGER_SQL
    from app.services.stock import _REBUILD_SQL

    conn.exec_driver_sql("DROP TRIGGER IF EXISTS trg_stock_move_balance")
    conn.exec_driver_sql(insert, rows)
    conn.exec_driver_sql("DELETE FROM stock_balance")
    conn.exec_driver_sql(_REBUILD_SQL)
    conn.exec_driver_sql(BALANCE_TRIGGER_SQL)


def pending_ids(conn: Connection, table: str) -> set[str]:
    return {str(r[0]) for r in conn.exec_driver_sql("SELECT row_id FROM sync_outbox WHERE tbl = ?", (table,))}


def capture(conn: Connection, on: bool) -> None:
    conn.exec_driver_sql("UPDATE sync_capture SET enabled = ? WHERE id = 1", (1 if on else 0,))


def apply_rows(conn: Connection, rows: Mapping[str, Sequence[Row]], *, force: bool = False) -> set[str]:
    """Write server rows inside the caller's SQLite transaction; returns the tables touched."""
    if not any(rows.values()):
        return set()
    tables = sync_tables()
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    big = sum(len(v) for v in rows.values()) >= BULK_MOVES
    if big:  # a first sync: index pages of big tables must stay in memory, not thrash a 2 MB cache
        old_cache = conn.exec_driver_sql("PRAGMA cache_size").scalar()
        conn.exec_driver_sql(f"PRAGMA cache_size = {BIG_CACHE_KIB}")
    capture(conn, False)
    touched: set[str] = set()
    try:
        for name in tables:  # parents first
            batch = rows.get(name)
            if not batch:
                continue
            t = tables[name]
            pend = pending_ids(conn, name)
            todo = [r for r in batch if r[0] not in pend] if pend else list(batch)
            if todo and name == "stock_move" and len(todo) >= BULK_MOVES:
                _bulk_moves(conn, _insert_sql(t, force), todo)
                touched.add(name)
            elif todo:
                conn.exec_driver_sql(_insert_sql(t, force), todo)
                touched.add(name)
    finally:
        capture(conn, True)
        if big:
            conn.exec_driver_sql(f"PRAGMA cache_size = {int(old_cache or -2000)}")
    return touched
