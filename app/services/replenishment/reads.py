"""The bulk reads of a replenishment run: each figure grouped by item x warehouse in SQL.

``engine`` turns what these return into (items x warehouses) numpy arrays and does the maths;
keeping the SQL here keeps the engine about decisions. The SQL is written for the branch
SQLite file (ids are 16 bytes, read here as 32-hex keys by ``h``; times ISO text).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import numpy as np
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.buying import SALES_WEEK_REBUILD_SQL, SALES_WEEK_SELECT_SQL
from app.models.workflow import open_states
from app.services.db import has_table as _has_table
from app.services.db import raw_rows as _raw
from app.services.forecast.demand import week_of

#: expected receipts still waiting for goods
_WAITING = open_states("expected_receipt")

#: PO states whose open lines are "on order"
OPEN_PO_STATES = ("draft", "pending_approval", "rejected", "approved", "sent", "confirmed", "partially_received")
#: sales order states whose allocations still hold stock
OPEN_SO_STATES = ("open", "credit_hold", "backordered", "allocated", "picking", "packed")


def fill(session: Session, sql: str, params: dict[str, Any], item_ix: dict[str, int], wh_ix: dict[str, int],
          shape: tuple[int, int], dtype: Any = np.int64) -> Any:
    """Run ``SELECT item_hex, warehouse_hex, value`` and scatter it into an (items x warehouses) array."""
    arr = np.zeros(shape, dtype=dtype)
    rows = _raw(session, sql, params)
    if not rows:
        return arr
    ii = np.fromiter((item_ix.get(h(r[0]), -1) for r in rows), dtype=np.int64, count=len(rows))
    ww = np.fromiter((wh_ix.get(h(r[1]), -1) for r in rows), dtype=np.int64, count=len(rows))
    vv = np.fromiter((r[2] or 0 for r in rows), dtype=dtype, count=len(rows))
    ok = (ii >= 0) & (ww >= 0)
    np.add.at(arr, (ii[ok], ww[ok]), vv[ok])
    return arr


def on_hand(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int], shape: tuple[int, int]) -> Any:
    """On hand per item x warehouse over internal locations.

    One sequential scan of stock_balance (NOT INDEXED: walking its primary-key index would
    cost a table lookup per row) that leaves out the few virtual locations by id; the rows
    are summed into warehouses in numpy, which avoids a sort.
    """
    virtual = [h(r[0]) for r in _raw(session, (
        "SELECT id FROM location WHERE kind NOT IN ('storage', 'dock', 'qa')"))]
    return fill(session, (
        "SELECT b.item_id, l.warehouse_id, b.qty FROM stock_balance b NOT INDEXED"
        " JOIN location l ON l.id = b.location_id WHERE b.qty <> 0"
        + (f" AND b.location_id NOT IN ({sql_in_ids(virtual)})" if virtual else "")
        + " AND l.kind IN ('storage', 'dock', 'qa')"), {}, item_ix, wh_ix, shape)


@dataclass(frozen=True)
class Source:
    supplier_id: str
    supplier_code: str
    lead_time_days: int
    lead_time_sd: float
    pack_size: int
    min_order: int
    unit_price: Decimal
    currency: str


def source_of(r: tuple[Any, ...]) -> Source:
    contract, last = int(r[7] or 0), int(r[8] or 0)
    price = contract if (r[10] and contract > 0) or last == 0 else last
    return Source(h(r[1]), str(r[2]), int(r[3]), float(r[4] or 0) / 10_000, max(int(r[5]), 1),
                   max(int(r[6]), 1), Decimal(price) / 10_000, str(r[9]))


def sources(session: Session) -> dict[str, tuple[Any, ...]]:
    """Best supplier row per item: preferred, then contracted, then cheapest, then by code.

    Raw rows (``source_of`` makes the object only for items that get a recommendation).
    """
    rows = _raw(session, (
        "SELECT s.item_id, s.supplier_id, p.code, s.lead_time_days, s.lead_time_sd_days, s.pack_size,"
        " s.min_order_qty, s.contract_price, s.last_price, s.currency, s.contracted, s.preferred"
        " FROM item_supplier s JOIN supplier p ON p.id = s.supplier_id"
        " WHERE s.deleted_at IS NULL AND p.deleted_at IS NULL AND p.active = 1"
        " ORDER BY s.item_id, s.preferred DESC, s.contracted DESC, s.contract_price, p.code"))
    out: dict[str, tuple[Any, ...]] = {}
    for r in rows:
        out.setdefault(h(r[0]), r)
    return out


def suppressed(session: Session, today: dt.date) -> set[tuple[str, str]]:
    """Pairs whose newest decision (by HLC, any branch's) is a snooze/rejection still in force.

    Decisions are insert-only rows of whoever decided (a lift is a decision too), so the newest
    one per item x warehouse counts; the NOT EXISTS probe runs on ix_recommendation_decision_pair
    only for the few decisions still in force."""
    rows = _raw(session, (
        "SELECT d.item_id, d.warehouse_id FROM recommendation_decision d"
        " WHERE d.deleted_at IS NULL AND d.kind <> 'lift' AND d.until_date > :today"
        " AND NOT EXISTS (SELECT 1 FROM recommendation_decision n"
        "  WHERE n.item_id = d.item_id AND n.warehouse_id = d.warehouse_id AND n.deleted_at IS NULL"
        "  AND (n.hlc > d.hlc OR (n.hlc = d.hlc AND (n.hlc_site > d.hlc_site"
        "   OR (n.hlc_site = d.hlc_site AND n.id > d.id)))))"), {"today": today.isoformat()})
    return {(h(i), h(w)) for i, w in rows}


def sql_in(values: Iterable[str]) -> str:
    return ", ".join(f"'{v}'" for v in values)


def sql_in_ids(hex_ids: Iterable[str]) -> str:
    """Ids (32 hex) as SQL blob literals: the columns hold 16 bytes."""
    return ", ".join(f"X'{bytes.fromhex(v).hex()}'" for v in hex_ids)


def h(v: Any) -> str:
    """A stored id (16 bytes) as the 32-hex key the run's arrays are indexed by."""
    return v.hex() if type(v) is bytes else str(v)



#: an open requisition another branch already put on a PO (its owner has not settled it yet) is
#: counted by that PO line (on order), not twice (requisitions.conversions_of)
NOT_ON_A_DOCUMENT = ("NOT EXISTS (SELECT 1 FROM audit_entry a WHERE a.entity = 'requisition'"
                      " AND a.entity_id = requisition.id AND a.action = 'requisition.convert')")


def next_expected(session: Session) -> dict[tuple[str, str], dt.date]:
    """Earliest expected date of the open PO lines per item x ship-to (shown beside on order)."""
    rows = _raw(session, (
        "SELECT pl.item_id, pl.ship_to_warehouse_id, MIN(COALESCE(pl.expected_date, po.expected_date))"
        " FROM purchase_order po CROSS JOIN purchase_order_line pl ON pl.po_id = po.id"
        f" WHERE po.status IN ({sql_in(OPEN_PO_STATES)}) AND po.deleted_at IS NULL AND pl.deleted_at IS NULL"
        " AND pl.status NOT IN ('cancelled', 'closed', 'received') AND pl.qty_ordered > pl.qty_received"
        " GROUP BY pl.item_id, pl.ship_to_warehouse_id"))
    return {(h(i), h(w)): dt.date.fromisoformat(str(d)[:10]) for i, w, d in rows if d}


def history(session: Session, today: dt.date, weeks: int, item_ix: dict[str, int], wh_ix: dict[str, int],
             shape: tuple[int, int]) -> tuple[Any, Any]:
    """Sum and sum of squares of weekly sales per item x warehouse over the ``weeks`` full
    weeks before the current one.

    Read from ``sales_week`` (one ordered pass, one row back per pair); the weekly buckets
    themselves are kept by triggers as sales are posted. Sales are moves to a warehouse's
    customer location (reversed sales are taken back) and imported sales history
    (``sales_history``, demand only: it moves no stock).
    """
    cur = week_of(today)
    if _has_table(session, "sales_week"):
        sql = ("SELECT item_id, warehouse_id, SUM(qty), SUM(qty * qty) FROM sales_week"
               " WHERE week >= :w0 AND week < :w1 GROUP BY item_id, warehouse_id")
    else:  # a database from before sales_week: the same buckets straight from the ledger (slower)
        sql = (f"SELECT item_id, warehouse_id, SUM(qty), SUM(qty * qty) FROM ({SALES_WEEK_SELECT_SQL})"
               " WHERE week >= :w0 AND week < :w1 GROUP BY item_id, warehouse_id")
    rows = _raw(session, sql, {"w0": cur - weeks, "w1": cur})
    total = np.zeros(shape, dtype=np.float64)
    total_sq = np.zeros(shape, dtype=np.float64)
    if rows:
        n = len(rows)
        ii = np.fromiter((item_ix.get(h(r[0]), -1) for r in rows), dtype=np.int64, count=n)
        ww = np.fromiter((wh_ix.get(h(r[1]), -1) for r in rows), dtype=np.int64, count=n)
        s1 = np.fromiter((float(r[2]) for r in rows), dtype=np.float64, count=n)
        s2 = np.fromiter((float(r[3]) for r in rows), dtype=np.float64, count=n)
        ok = (ii >= 0) & (ww >= 0)
        np.add.at(total, (ii[ok], ww[ok]), s1[ok])
        np.add.at(total_sq, (ii[ok], ww[ok]), s2[ok])
    return total, total_sq


def rebuild_sales_weeks(session: Session) -> int:
    """Recompute the weekly sales digest from the ledger; returns its row count."""
    session.execute(text("DELETE FROM sales_week"))
    session.execute(text(SALES_WEEK_REBUILD_SQL))
    return int(session.scalar(text("SELECT count(*) FROM sales_week")) or 0)


def transfers(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int],
               shape: tuple[int, int]) -> tuple[Any, Any]:
    """(inbound, outbound-not-yet-shipped) quantities of open transfers per item x warehouse.

    Transfer orders (Inventory area) when that table exists; expected receipts with source
    'transfer' that no transfer order points at count as inbound too.
    """
    zeros = np.zeros(shape, dtype=np.int64)
    inbound = fill(session, (
        "SELECT el.item_id, er.warehouse_id, SUM(MAX(el.qty_expected - el.qty_received, 0))"
        " FROM expected_receipt er CROSS JOIN expected_receipt_line el ON el.receipt_id = er.id"
        " WHERE er.source = 'transfer' AND er.status IN (" + ", ".join(f"'{s}'" for s in _WAITING) + ")"
        " AND er.deleted_at IS NULL AND el.deleted_at IS NULL"
        + (" AND er.id NOT IN (SELECT expected_receipt_id FROM transfer_order WHERE expected_receipt_id IS NOT NULL)"
           # the receiver's own ER of a transfer (before the sender links it) is that transfer's inbound
           " AND (er.source_doc_id IS NULL OR er.source_doc_id NOT IN (SELECT id FROM transfer_order))"
           if _has_table(session, "transfer_order") else "")
        + " GROUP BY el.item_id, er.warehouse_id"), {}, item_ix, wh_ix, shape)
    if not _has_table(session, "transfer_order"):
        return inbound, zeros
    inbound = inbound + fill(session, (
        "SELECT tl.item_id, t.to_warehouse_id, SUM(MAX(tl.qty - tl.qty_received - tl.qty_short, 0))"
        " FROM transfer_order t CROSS JOIN transfer_line tl ON tl.transfer_id = t.id"
        " WHERE t.status IN ('draft', 'shipped') AND t.deleted_at IS NULL AND tl.deleted_at IS NULL"
        # received at the destination (its moves out of transit are here), not yet settled by the sender
        " AND NOT EXISTS (SELECT 1 FROM stock_move m WHERE m.doc_type = 'transfer' AND m.doc_id = t.id"
        " AND m.reason <> 'transfer_out')"
        " GROUP BY tl.item_id, t.to_warehouse_id"), {}, item_ix, wh_ix, shape)
    outbound = fill(session, (
        "SELECT tl.item_id, t.from_warehouse_id, SUM(MAX(tl.qty - tl.qty_shipped, 0))"
        " FROM transfer_order t CROSS JOIN transfer_line tl ON tl.transfer_id = t.id"
        " WHERE t.status = 'draft' AND t.deleted_at IS NULL AND tl.deleted_at IS NULL"
        " GROUP BY tl.item_id, t.from_warehouse_id"), {}, item_ix, wh_ix, shape)
    return inbound, outbound


def allocated(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int], shape: tuple[int, int]) -> Any:
    """Reserved and not yet shipped (shipping consumes ``qty_allocated``; issue 12)."""
    return fill(session, (
        "SELECT sl.item_id, so.warehouse_id, SUM(sl.qty_allocated)"
        " FROM sales_order so CROSS JOIN sales_order_line sl ON sl.order_id = so.id"
        f" WHERE so.status IN ({sql_in(OPEN_SO_STATES)}) AND so.deleted_at IS NULL AND sl.deleted_at IS NULL"
        " AND sl.status NOT IN ('cancelled', 'closed') GROUP BY sl.item_id, so.warehouse_id"), {}, item_ix, wh_ix, shape)


def on_order(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int], shape: tuple[int, int]) -> Any:
    """Still to come on open PO lines, per item x ship-to warehouse."""
    return fill(session, (
        "SELECT pl.item_id, pl.ship_to_warehouse_id, SUM(MAX(pl.qty_ordered - pl.qty_received, 0))"
        " FROM purchase_order po CROSS JOIN purchase_order_line pl ON pl.po_id = po.id"
        f" WHERE po.status IN ({sql_in(OPEN_PO_STATES)}) AND po.deleted_at IS NULL AND pl.deleted_at IS NULL"
        " AND pl.status NOT IN ('cancelled', 'closed', 'received') GROUP BY pl.item_id, pl.ship_to_warehouse_id"),
        {}, item_ix, wh_ix, shape)


def requisitioned(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int],
                  shape: tuple[int, int]) -> tuple[Any, Any]:
    """(coming in, going out) on open requisitions not yet on a document."""
    req_in = fill(session, (
        "SELECT item_id, warehouse_id, SUM(qty) FROM requisition WHERE status = 'open' AND deleted_at IS NULL"
        f" AND {NOT_ON_A_DOCUMENT} GROUP BY item_id, warehouse_id"), {}, item_ix, wh_ix, shape)
    req_out = fill(session, (
        "SELECT item_id, source_warehouse_id, SUM(qty) FROM requisition WHERE status = 'open' AND kind = 'transfer'"
        f" AND deleted_at IS NULL AND {NOT_ON_A_DOCUMENT} GROUP BY item_id, source_warehouse_id"),
        {}, item_ix, wh_ix, shape)
    return req_in, req_out
