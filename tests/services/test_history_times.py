"""The legacy sales history's day and creation time are stored as numbers (migration
0025_history_times): a date as days since 1970-01-01, a time as microseconds; a file with the text
forms converts in place, and replication keeps its text wire form.

The file with text forms is a file at the current schema taken down through the migrations' own
downgrades (``test_storage.down_to``), as a branch's file looked before.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import func, select

from app.models.buying import SALES_WEEK_SELECT_SQL
from app.models.demand import SalesHistory
from app.models.stamps import days, days_iso, from_days, iso_days, sql_date, sql_day_week, sql_days
from app.services import schema
from app.services.auth import Actor
from app.services.db import make_engine, open_database, session_scope
from app.services.importer import ImportRejected, import_csv
from app.services.replication.tables import sync_tables
from tests.factories import build_world
from tests.services.test_storage import (
    assert_upgraded_in_place,
    down_to,
    table_digests,
)

REVISION = "0025_history_times"


def test_day_numbers_round_trip_and_their_sql_forms_agree_with_the_text_forms() -> None:
    conn = sqlite3.connect(":memory:")
    try:
        for d in (dt.date(2026, 3, 1), dt.date(1970, 1, 1), dt.date(1969, 12, 31), dt.date(1901, 6, 30),
                  dt.date(2099, 12, 31)):
            n = days(d)
            assert from_days(n) == d and iso_days(days_iso(n)) == n and days_iso(n) == d.isoformat()
            text_week = conn.execute("SELECT CAST(julianday(?) + 0.5 AS INTEGER) / 7", (d.isoformat(),)).fetchone()[0]
            got = conn.execute(f"SELECT {sql_date('?1')}, {sql_day_week('?1')}, {sql_days('?2')}",
                               (n, d.isoformat())).fetchone()
            assert got == (d.isoformat(), text_week, n)
        assert days(dt.date(1970, 1, 2)) == 1 and days(dt.datetime(1970, 1, 2, 23, tzinfo=dt.UTC)) == 1
        assert conn.execute(f"SELECT {sql_date('NULL')}, {sql_days('NULL')}").fetchone() == (None, None)
    finally:
        conn.close()


def _history_csv(path: Path, first: dt.date) -> Path:
    rows = ["date,warehouse,sku,qty,customer,reference"]
    for k in range(10):  # every third day from a Sunday: across week boundaries
        rows.append(f"{(first + dt.timedelta(days=3 * k)).isoformat()},DAL1,BOLT,{k + 1},BUILDCO,INV-{k}")
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


def history_file(path: Path, csv: Path) -> Actor:
    """A file at today's schema with the history of ``csv`` imported; the actor who may import."""
    engine = make_engine(path)
    schema.upgrade(engine)
    with session_scope(engine) as s:
        w = build_world(s)
        root = w.actors["root"]
        import_csv(s, root, "sales-history", csv)
    engine.dispose()
    return root


def kinds(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {str(k) for (k,) in conn.execute(
            "SELECT typeof(sale_date) FROM sales_history UNION SELECT typeof(created_at) FROM sales_history")}
    finally:
        conn.close()


def weeks_equal_rebuild(path: Path) -> list[tuple[object, ...]]:
    conn = sqlite3.connect(path)
    try:
        kept = conn.execute("SELECT * FROM sales_week ORDER BY 1, 2, 3").fetchall()
        assert kept == conn.execute(f"SELECT * FROM ({SALES_WEEK_SELECT_SQL}) ORDER BY 1, 2, 3").fetchall()
        return kept
    finally:
        conn.close()


def test_a_file_with_text_history_dates_is_converted_in_place(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    csv = _history_csv(tmp_path / "hist.csv", dt.date(2026, 2, 1))
    root = history_file(path, csv)
    assert kinds(path) == {"integer"}
    weeks = weeks_equal_rebuild(path)
    assert sum(int(r[3]) for r in weeks) == 55
    derived = table_digests(path)

    down_to(path, "0024b_history_index")
    assert kinds(path) == {"text"}, "the previous Depot's file: ISO text"
    assert table_digests(path) == derived, "the downgrade gives back every row"
    conn = sqlite3.connect(path)
    try:
        trigger = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'trg_sales_history_sales_week'").fetchone()[0]
        assert "julianday(NEW.sale_date)" in trigger
    finally:
        conn.close()

    assert_upgraded_in_place(path, tmp_path, kinds, derived, "every date and time is now a number")
    assert weeks_equal_rebuild(path) == weeks

    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            rows = s.scalars(select(SalesHistory).order_by(SalesHistory.sale_date)).all()
            assert [r.sale_date for r in rows] == [dt.date(2026, 2, 1) + dt.timedelta(days=3 * k) for k in range(10)]
            assert all(r.created_at.tzinfo is not None for r in rows)
            # a day bound compares as a number: the ORM binds the day number
            assert s.scalar(select(func.count()).select_from(SalesHistory)
                            .where(SalesHistory.sale_date >= dt.date(2026, 2, 10))) == 7
            # the same file again: every row found in the database by its (item, warehouse, day) key
            with pytest.raises(ImportRejected) as e:
                import_csv(s, root, "sales-history", csv)
            assert len(e.value.problems) == 10
            s.rollback()
            # a new day goes in, into the sales weeks by the trigger or the batch alike
            more = tmp_path / "more.csv"
            more.write_text("date,warehouse,sku,qty\n2026-03-09,DAL1,BOLT,100\n", encoding="utf-8")
            import_csv(s, root, "sales-history", more)
    finally:
        engine.dispose()
    after = weeks_equal_rebuild(path)
    assert sum(int(r[3]) for r in after) == 155


def test_a_history_date_written_as_text_around_the_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    history_file(path, _history_csv(tmp_path / "hist.csv", dt.date(2026, 2, 1)))
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT id, owner_branch_id, created_at, item_id, warehouse_id FROM sales_history").fetchone()
        with pytest.raises(sqlite3.IntegrityError, match="sale_date_number"):
            conn.execute("INSERT INTO sales_history (id, owner_branch_id, created_at, item_id, warehouse_id, sale_date, "
                         "qty, reference) VALUES (?, ?, ?, ?, ?, '2026-02-01', 1, '')",
                         (row[0][:15] + b"\x09", row[1], row[2], row[3], row[4]))
        with pytest.raises(sqlite3.IntegrityError, match="created_at_number"):
            conn.execute("INSERT INTO sales_history (id, owner_branch_id, created_at, item_id, warehouse_id, sale_date, "
                         "qty, reference) VALUES (?, ?, '2026-02-01T00:00:00.000000+00:00', ?, ?, 20485, 1, '')",
                         (row[0][:15] + b"\x0a", row[1], row[3], row[4]))
    finally:
        conn.close()


def test_replication_moves_history_days_and_times_as_text_and_stores_numbers(tmp_path: Path) -> None:
    t = sync_tables()["sales_history"]
    cols = {c.name: c for c in t.columns}
    assert cols["sale_date"].days and cols["sale_date"].pg_type == "date" and not cols["sale_date"].micros
    assert cols["created_at"].micros and not cols["created_at"].days
    path = tmp_path / "branch.db"
    history_file(path, _history_csv(tmp_path / "hist.csv", dt.date(2026, 2, 1)))
    conn = sqlite3.connect(path)
    try:
        wire = conn.execute(f"SELECT {', '.join(c.sqlite_expr for c in t.columns)} FROM sales_history "
                            "ORDER BY sale_date").fetchall()
        stored = conn.execute(f"SELECT {', '.join(chr(34) + c.name + chr(34) for c in t.columns)} FROM sales_history "
                              "ORDER BY sale_date").fetchall()
    finally:
        conn.close()
    day = t.names.index("sale_date")
    assert wire[0][day] == "2026-02-01" and isinstance(wire[0][t.names.index("created_at")], str)
    back = t.to_sqlite(wire)
    assert [tuple(None if v == bytearray() else bytes(v) if isinstance(v, bytearray) else v for v in r) for r in back] \
        == [tuple(stored_r) for stored_r in stored]
