"""The stock ledger's times are stored as numbers (migration 0023_numeric_times), and a file with
ISO-text times converts in place.

The file with text times is made the way a branch's file looked before the migration: written at
the current schema, then taken down through the migration's own downgrade (times back to the ISO
text, triggers in their text forms). ``schema.upgrade`` converts it: every row the same (times
compared as the ISO text they stand for), the schema of a new file, and the triggers that read the
times (stock days, sales weeks, the PO lines' receipts) keeping their digests equal to a rebuild
from the ledger.
"""

from __future__ import annotations

import datetime as dt
import importlib.util
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from alembic.operations import Operations
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text

from app.models.buying import SALES_WEEK_SELECT_SQL
from app.models.kpi import KPI_PO_LINE_REBUILD_SQL, KPI_STOCK_DAY_REBUILD_SQL
from app.models.stamps import (
    from_micros,
    iso_micros,
    micros,
    micros_iso,
    sql_day,
    sql_iso,
    sql_micros,
    sql_week,
)
from app.models.stock import StockMove
from app.services import schema
from app.services.db import make_engine, open_database, session_scope
from app.services.stock import MoveSpec, balance_mismatches, post_moves, virtual_location
from tests.factories import build_world
from tests.services.test_storage import (
    assert_upgraded_in_place,
    down_to,
    table_digests,
)

REVISION = "0023_numeric_times"


def _migration(revision: str) -> Any:
    spec = importlib.util.spec_from_file_location(revision, schema.MIGRATIONS / "versions" / f"{revision}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def to_text_times(path: Path) -> None:
    """Take a file at head down through 0023's own downgrade: times as the previous Depot wrote them
    (the migrations after it first)."""
    down_to(path, REVISION)
    migration = _migration(REVISION)
    engine = make_engine(path)
    with engine.begin() as conn:
        conn.exec_driver_sql("PRAGMA foreign_keys = OFF")
    with engine.begin() as conn:
        with Operations.context(MigrationContext.configure(conn)):
            migration.downgrade()
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = ? WHERE version_num = ?",
                             (migration.down_revision, REVISION))
    engine.dispose()


def time_kinds(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {str(k) for (k,) in conn.execute(
            "SELECT typeof(moved_at) FROM stock_move UNION SELECT typeof(created_at) FROM stock_move")}
    finally:
        conn.close()


def derived_equal_rebuild(path: Path) -> None:
    """The trigger-kept digests equal what their rebuild SQL makes from the ledger now."""
    conn = sqlite3.connect(path)
    try:
        weeks = conn.execute(f"SELECT * FROM ({SALES_WEEK_SELECT_SQL}) ORDER BY 1, 2, 3").fetchall()
        assert conn.execute("SELECT * FROM sales_week ORDER BY 1, 2, 3").fetchall() == weeks
        for table, rebuild in (("kpi_stock_day", KPI_STOCK_DAY_REBUILD_SQL), ("kpi_po_line", KPI_PO_LINE_REBUILD_SQL)):
            kept = conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall()
            conn.execute(f"DELETE FROM {table}")
            conn.execute(rebuild)
            assert conn.execute(f"SELECT * FROM {table} ORDER BY 1, 2").fetchall() == kept, table
            conn.rollback()
    finally:
        conn.close()


def ledger_file(path: Path) -> dict[str, Any]:
    """A file at today's schema with receipts (two of them on a PO line), putaway and sales."""
    engine = make_engine(path)
    schema.upgrade(engine)
    with session_scope(engine) as s:
        w = build_world(s)
        sup = virtual_location(s, w.wh_dal.id, "supplier")
        cust = virtual_location(s, w.wh_dal.id, "customer")
        bolt, bin_a = w.items["BOLT"].id, w.bins["DAL1-A-01"].id
        at = dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=dt.UTC)  # a microsecond before a new day
        post_moves(s, None, [MoveSpec(bolt, 40, sup.id, bin_a, "receipt")], owner_branch_id=w.dal.id, at=at)
        post_moves(s, None, [MoveSpec(bolt, 5, bin_a, cust.id, "sale")], owner_branch_id=w.dal.id,
                   at=at + dt.timedelta(microseconds=1))
        post_moves(s, None, [MoveSpec(bolt, 3, bin_a, cust.id, "sale")], owner_branch_id=w.dal.id,
                   at=dt.datetime(2026, 3, 8, 0, 0, tzinfo=dt.UTC))
    engine.dispose()
    return {"world": w}


def test_stored_numbers_round_trip_every_microsecond() -> None:
    for t in (dt.datetime(2026, 11, 26, 15, 21, 0, 123456, tzinfo=dt.UTC), dt.datetime(1969, 12, 31, 23, 59, 59, 500000,
              tzinfo=dt.UTC), dt.datetime(2026, 3, 1, 18, 0, tzinfo=dt.timezone(dt.timedelta(hours=-6)))):
        n = micros(t)
        assert from_micros(n) == t and iso_micros(micros_iso(n)) == n
        conn = sqlite3.connect(":memory:")
        iso, day, week, back = conn.execute(
            f"SELECT {sql_iso('?1')}, {sql_day('?1')}, {sql_week('?1')}, {sql_micros(sql_iso('?1'))}", (n,)).fetchone()
        assert iso == t.astimezone(dt.UTC).isoformat(timespec="microseconds") == micros_iso(n)
        text_week = conn.execute("SELECT CAST(julianday(substr(?, 1, 10)) + 0.5 AS INTEGER) / 7", (iso,)).fetchone()[0]
        assert (day, week, back) == (iso[:10], text_week, n)
        conn.close()


def test_a_file_with_text_times_is_converted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    ledger_file(path)
    derived = table_digests(path)
    to_text_times(path)
    assert time_kinds(path) == {"text"}, "the previous Depot's file: ISO text"
    before = table_digests(path)
    assert before == derived, "the downgrade gives back every row"

    assert_upgraded_in_place(path, tmp_path, time_kinds, before, "every time is now a number")
    conn = sqlite3.connect(path)
    try:
        days = [r[0] for r in conn.execute("SELECT day FROM kpi_stock_day ORDER BY day")]
        assert days == ["2026-03-01", "2026-03-02", "2026-03-08"], "the day of a time a microsecond before midnight"
    finally:
        conn.close()

    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            assert balance_mismatches(s) == []
            first = s.scalars(select(StockMove).where(StockMove.qty == 40)).one()
            assert first.moved_at == dt.datetime(2026, 3, 1, 23, 59, 59, 999_999, tzinfo=dt.UTC)
            cust = s.scalars(select(StockMove).where(StockMove.qty == 3)).one().to_location_id
            post_moves(s, None, [MoveSpec(first.item_id, 4, first.to_location_id, cust, "sale")],
                       owner_branch_id=first.owner_branch_id, at=dt.datetime(2026, 3, 9, 12, tzinfo=dt.UTC))
    finally:
        engine.dispose()
    derived_equal_rebuild(path)
    conn = sqlite3.connect(path)
    try:
        assert conn.execute("SELECT count(*) FROM kpi_stock_day").fetchone()[0] == 4
    finally:
        conn.close()


def test_a_time_written_as_text_around_the_type_is_refused(tmp_path: Path) -> None:
    """In SQLite any text is greater than any number: a raw ISO write would compare wrong, silently."""
    path = tmp_path / "branch.db"
    ledger_file(path)
    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            move = s.scalars(select(StockMove)).first()
            assert move is not None
            with pytest.raises(Exception, match="moved_at_number"):
                s.execute(text(
                    "INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, "
                    "to_location_id, qty, reason, doc_type, moved_at) VALUES (:id, :o, 1767225600000000, :i, :f, :t, "
                    "1, 'receipt', '', '2026-01-01T00:00:00.000000+00:00')"),
                    {"id": move.id.bytes[:15] + b"\x01", "o": move.owner_branch_id, "i": move.item_id,
                     "f": move.from_location_id, "t": move.to_location_id})
    finally:
        engine.dispose()
