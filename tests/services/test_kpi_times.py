"""The KPIs' digest of PO lines keeps its dates as day numbers and its times as microseconds
(migration 0026_kpi_times): a file with the text forms converts in place and every purchasing and
receiving figure, drill row and digest row stays what it was; the triggers keep numbers.

The data set is the KPI tests' hand-made one (tests/services/kpi_world.py: POs received by
Receiving and by history moves, putaways, a late line, a short line).
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from collections.abc import Collection
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models.kpi import KpiPoLine
from app.services import schema
from app.services.db import make_engine, open_database, session_scope
from app.services.kpi.compute import compute, drill
from app.services.kpi.scope import make_scope
from tests.factories import build_world
from tests.services import kpi_world
from tests.services.kpi_world import TODAY
from tests.services.test_numeric_times import derived_equal_rebuild
from tests.services.test_storage import (
    assert_upgraded_in_place,
    down_to,
    table_digests,
)

KEYS = ("supplier_on_time", "supplier_in_full", "po_cycle_time", "dock_to_stock")
COLUMNS = ("order_date", "expected_date", "first_at", "last_at", "put_at")


def kpi_file(path: Path) -> None:
    engine = make_engine(path)
    schema.upgrade(engine)
    with session_scope(engine) as s:
        kpi_world.build(s, build_world(s))
    engine.dispose()


def figures(path: Path, keys: Collection[str] = KEYS) -> dict[str, Any]:
    """The value, series and drill rows of the KPIs ``keys`` over the KPI world's quarter."""
    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            scope = make_scope(s, period="2026-01..2026-03", today=TODAY, bucket="month")
            out: dict[str, Any] = {f.key: (f.value, [p.value for p in f.series]) for f in compute(s, scope)
                                   if f.key in keys}
            for key in keys:
                out[f"drill {key}"] = drill(s, key, scope)
            return out
    finally:
        engine.dispose()


def kinds(path: Path) -> set[str]:
    conn = sqlite3.connect(path)
    try:
        return {str(k) for c in COLUMNS for (k,) in conn.execute(
            f"SELECT DISTINCT typeof({c}) FROM kpi_po_line WHERE {c} IS NOT NULL")}
    finally:
        conn.close()


def test_a_file_with_text_kpi_lines_is_converted_in_place_and_the_figures_stay(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    kpi_file(path)
    assert kinds(path) == {"integer"}
    figs = figures(path)
    assert figs["supplier_on_time"][0] == pytest.approx(200 / 3) and figs["po_cycle_time"][0] == pytest.approx(13.5)
    assert figs["dock_to_stock"][1] == pytest.approx([4.0, 6.0, 2.0])
    on_time_rows = figs["drill supplier_on_time"][0]
    assert "due 2026-01-10, first received 2026-01-12" in on_time_rows[0]["detail"]
    assert on_time_rows[0]["at"].startswith("2026-01-12 ")
    derived = table_digests(path)

    down_to(path, "0025_history_times")
    assert kinds(path) == {"text"}, "the previous Depot's file: ISO text and 'YYYY-MM-DD'"
    assert table_digests(path) == derived, "the downgrade gives back every row"

    assert_upgraded_in_place(path, tmp_path, kinds, derived, "every date and time is now a number")
    derived_equal_rebuild(path)
    assert figures(path) == figs, "every figure, point and drill row as before"


def test_the_triggers_keep_numbers_and_a_text_time_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    kpi_file(path)
    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            lines = s.scalars(select(KpiPoLine).where(KpiPoLine.put_at.is_not(None))
                              .order_by(KpiPoLine.first_at)).all()
            assert lines and all(isinstance(x.first_at, dt.datetime) and x.first_at.tzinfo for x in lines)
            assert all(isinstance(x.order_date, dt.date) for x in lines)
    finally:
        engine.dispose()
    derived_equal_rebuild(path)
    conn = sqlite3.connect(path)
    try:
        row = conn.execute("SELECT * FROM kpi_po_line LIMIT 1").fetchone()
        names = [d[0] for d in conn.execute("SELECT * FROM kpi_po_line LIMIT 0").description]
        for col, value in (("first_at", "2026-01-12T00:00:00.000000+00:00"), ("order_date", "2026-01-02")):
            bad = list(row)
            bad[0] = row[0][:15] + b"\x07"
            bad[names.index(col)] = value
            with pytest.raises(sqlite3.IntegrityError, match=f"{col}_number"):
                conn.execute(f"INSERT INTO kpi_po_line VALUES ({', '.join('?' * len(row))})", bad)
    finally:
        conn.close()
