"""Every replicated row's created_at, updated_at and deleted_at are microseconds in SQLite
(migration 0027_replicated_times): a file with the ISO text converts in place and every figure a
manager reads stays what it was; text written around the type is refused; the tombstones
replication writes and purges compare as numbers.

The data set is the KPI tests' hand-made one (tests/services/kpi_world.py): POs approved after
hours, exceptions raised and resolved, receipts, orders and shipments.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select, text

from app.models.base import REPLICATED_TIMES
from app.models.catalog import ItemUom
from app.models.parties import ItemSupplier
from app.models.stamps import micros
from app.models.types import iso_utc, utcnow
from app.services.db import open_database, session_scope
from app.services.kpi.core import REGISTRY
from app.services.replication import pull
from app.services.replication.engine import purge_local_tombstones
from app.services.replication.tables import sync_tables
from tests.services.test_kpi_times import figures as kpi_figures
from tests.services.test_kpi_times import kpi_file
from tests.services.test_storage import (
    assert_upgraded_in_place,
    down_to,
    table_digests,
)

PREVIOUS = "0026_kpi_times"


def figures(path: Path) -> dict[str, Any]:
    """Every KPI's value, series and drill rows over the KPI world's quarter."""
    return kpi_figures(path, REGISTRY)


#: numbers before 0027 (0023_numeric_times, 0025_history_times)
EARLIER = {("stock_move", "created_at"), ("sales_history", "created_at")}


def kinds(path: Path) -> set[str]:
    """The storage classes of every replicated time in the file that 0027 converts."""
    conn = sqlite3.connect(path)
    try:
        found: set[str] = set()
        for t in sync_tables().values():
            for c in (c.name for c in t.columns if c.name in REPLICATED_TIMES and (t.name, c.name) not in EARLIER):
                found |= {str(k) for (k,) in conn.execute(f'SELECT DISTINCT typeof("{c}") FROM "{t.name}" '
                                                          f'WHERE "{c}" IS NOT NULL')}
        return found
    finally:
        conn.close()


def test_a_file_with_text_times_is_converted_in_place_and_every_figure_stays(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    kpi_file(path)
    engine = open_database(path)
    with session_scope(engine) as s:  # a tombstone: deleted_at set, and kept through both conversions
        uom = s.scalars(select(ItemUom)).first()
        assert uom is not None
        uom.deleted_at = dt.datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
    engine.dispose()
    assert kinds(path) == {"integer"}
    figs = figures(path)
    assert figs["approval_time"][0] == pytest.approx(15.0) and figs["approval_time"][1] == [6.0, 24.0, None]
    assert figs["exception_volume"][0] == 3 and figs["exception_age"][1] == [None, 19.0, 25.0]
    approvals = figs["drill approval_time"][0]
    assert approvals and all(r["detail"].startswith("submitted 2026-") and ", approved 2026-" in r["detail"]
                             for r in approvals)
    derived = table_digests(path)

    down_to(path, PREVIOUS)
    assert kinds(path) == {"text"}, "the previous Depot's file: ISO text"
    assert table_digests(path) == derived, "the downgrade gives back every row"

    assert_upgraded_in_place(path, tmp_path, kinds, derived, "every replicated time is now a number")
    assert figures(path) == figs, "every figure, point and drill row as before"
    engine = open_database(path)
    try:
        with session_scope(engine) as s:
            gone = s.scalars(select(ItemUom).where(ItemUom.deleted_at.is_not(None))).one()
            assert gone.deleted_at == dt.datetime(2026, 2, 3, 4, 5, 6, 789012, tzinfo=dt.UTC)
    finally:
        engine.dispose()


def test_text_written_around_the_type_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    kpi_file(path)
    conn = sqlite3.connect(path)
    try:
        (rid,) = conn.execute("SELECT id FROM purchase_order_line LIMIT 1").fetchone()
        for col in REPLICATED_TIMES:
            with pytest.raises(sqlite3.IntegrityError, match=f"ck_purchase_order_line_{col}_number"):
                conn.execute(f"UPDATE purchase_order_line SET {col} = ? WHERE id = ?", (iso_utc(utcnow()), rid))
        conn.execute("UPDATE purchase_order_line SET deleted_at = NULL WHERE id = ?", (rid,))  # NULL is no time
        row = conn.execute("SELECT * FROM audit_entry LIMIT 1").fetchone()  # a ledger: a new row, not an update
        names = [d[0] for d in conn.execute("SELECT * FROM audit_entry LIMIT 0").description]
        bad = list(row)
        bad[names.index("id")] = row[names.index("id")][:15] + b"\x07"
        bad[names.index("created_at")] = "2026-01-01T00:00:00.000000+00:00"
        with pytest.raises(sqlite3.IntegrityError, match="ck_audit_entry_created_at_number"):
            conn.execute(f"INSERT INTO audit_entry VALUES ({', '.join('?' * len(row))})", bad)
    finally:
        conn.close()


def _tombstone(engine: Any, deleted: dt.datetime) -> bytes:
    """An item-supplier link deleted at ``deleted``, as if its delete had been pushed (outbox empty)."""
    with session_scope(engine) as s:
        link = s.scalars(select(ItemSupplier).where(ItemSupplier.deleted_at.is_(None))).first()
        assert link is not None
        link.deleted_at = deleted
        rid = link.id.bytes
    with engine.begin() as c:
        c.execute(text("DELETE FROM sync_outbox"))
    return rid


def test_tombstones_compare_as_numbers_when_purged_and_when_pulled(tmp_path: Path) -> None:
    path = tmp_path / "branch.db"
    kpi_file(path)
    engine = open_database(path)
    try:
        recent = _tombstone(engine, utcnow() - dt.timedelta(days=2))
        old = _tombstone(engine, utcnow() - dt.timedelta(days=40))
        # a text cut-off would be greater than every number: both would go
        assert purge_local_tombstones(engine, older_than_days=30) == 1
        with engine.connect() as c:
            left = {r[0] for r in c.execute(text("SELECT id FROM item_supplier WHERE deleted_at IS NOT NULL"))}
        assert recent in left and old not in left

        # a row the server purged while this site was away becomes a tombstone here, at the purge's time
        with session_scope(engine) as s:
            live = s.scalars(select(ItemSupplier).where(ItemSupplier.deleted_at.is_(None))).first()
            assert live is not None
            live_hex = live.id.hex
        at = "2026-03-04T05:06:07.080910+00:00"
        with engine.begin() as c:
            assert pull._mark_purged(c, [("item_supplier", live_hex, at)]) == 1
        with engine.connect() as c:
            stored = c.execute(text("SELECT deleted_at FROM item_supplier WHERE id = :i"),
                               {"i": bytes.fromhex(live_hex)}).scalar_one()
        assert stored == micros(dt.datetime.fromisoformat(at))
    finally:
        engine.dispose()
