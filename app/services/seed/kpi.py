"""History the manager dashboard shows from the first day (issue 17): what a year of a real
branch leaves behind besides moves and orders.

* a few order lines shipped short (the customer asked for more than went out) and a few PO lines
  closed short (the supplier sent less), so fill rate and in-full are not a flat 100 %;
* approvals: a share of the closed POs went through pending approval, decided hours later;
* cycle counts of pick faces, most matching the book, some found a unit or three off (posted
  with their adjust moves, and the balances kept in step);
* exceptions raised over the year and resolved after a while (a few still open).

Runs inside the seed's load transaction, after the documents, before the digests that read
documents are rebuilt. Deterministic: a random stream of its own from the seed.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sqlite3
from collections.abc import Sequence
from typing import Any

from app.models import stamps
from app.models.kpi import kpi_stock_day_add_sql
from app.services.seed.bulk import (
    hlc_of,
    id_positions,
    iso,
    iso_ms,
    micros_positions,
    stored_ids,
    stored_times,
)
from app.services.seed.spec import Ctx

EXCEPTION_KINDS = (
    ("receiving.short", "receiver", "Delivery short against the PO", "purchase_order"),
    ("edi.qty_changed", "buyer", "Supplier confirmed a different quantity", "purchase_order"),
    ("tracking.late_eta", "dispatcher", "Carrier ETA after the promised date", "shipment"),
    ("count.variance", "manager", "Count variance above tolerance", "count_task"),
    ("edi.file_rejected", "buyer", "Supplier file could not be read", "supplier_message"),
)


def seed_kpi_history(ctx: Ctx, conn: sqlite3.Connection) -> None:
    rng = random.Random(ctx.seed * 7723 + 29)
    # ~3 % of closed order lines: the customer asked for 1-4 more than the stock allowed
    conn.execute("UPDATE sales_order_line SET qty_ordered = qty_ordered + 1 + (unicode(substr(lower(hex(id)), 30, 1)) % 4) "
                 "WHERE status = 'closed' AND substr(lower(hex(id)), 31, 2) < '08'")  # the id's hex digits
    # ~4 % of received PO lines: the supplier sent about a tenth less than ordered
    conn.execute("UPDATE purchase_order_line SET qty_ordered = qty_received + MAX(1, qty_received / 10) "
                 "WHERE status = 'received' AND qty_received > 0 AND substr(lower(hex(id)), 31, 2) < '0a'")
    _approvals(ctx, conn, rng)
    _counts(ctx, conn, rng)
    _exceptions(ctx, conn, rng)


def _insert(ctx: Ctx, conn: sqlite3.Connection, table: str, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """Insert and count the rows (the seed's report counts every table it wrote); ids as 16 bytes."""
    columns = sql[sql.index("(") + 1:sql.index(")")].split(", ")
    rows = stored_times(rows, micros_positions(table, columns))  # the ledger's times as numbers
    conn.executemany(sql, stored_ids(rows, id_positions(conn, table, columns)))
    ctx.bulk.counts[table] = ctx.bulk.counts.get(table, 0) + len(rows)


def _approvals(ctx: Ctx, conn: sqlite3.Connection, rng: random.Random) -> None:
    rows = []
    approver = ctx.users.get("approver")
    pos = conn.execute("SELECT id, owner_branch_id, created_at FROM purchase_order WHERE status = 'closed' "
                       "AND substr(lower(hex(id)), 31, 2) < '28' ORDER BY created_at, id").fetchall()  # ids: 16 bytes
    for po_id, owner, created in pos:
        # microseconds (``stamps``; the digits as text in a file of an older schema: test_storage)
        sent = stamps.from_micros(int(created)) + dt.timedelta(minutes=rng.randint(2, 40))
        hours = rng.choice((1, 2, 3, 4, 6, 8, 20, 22, 26, 47)) + rng.random()
        ok = sent + dt.timedelta(hours=hours)
        for action, at, user, who in (("po.pending_approval", sent, ctx.users.get("buyer"), "buyer"),
                                      ("po.approved", ok, approver, "approver")):
            ms = int(at.timestamp() * 1000)
            rows.append((ctx.ids.at_ms(ms), owner, iso(at), user, who, action, "purchase_order", po_id,
                         json.dumps({"seeded": True})))
    _insert(ctx, conn, "audit_entry", "INSERT INTO audit_entry (id, owner_branch_id, created_at, user_id, username, "
            "action, entity, entity_id, detail) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


def _counts(ctx: Ctx, conn: sqlite3.Connection, rng: random.Random) -> None:
    """Four pick-face counts a week per warehouse over the year (items without lots or serials)."""
    start = dt.datetime.combine(ctx.today - dt.timedelta(days=364), dt.time(9), dt.UTC)
    plain = [i for i, it in enumerate(ctx.items) if not it.track_lot and not it.track_serial]
    if not plain:
        return
    tasks, lines, moves = [], [], []
    balance: dict[tuple[str, str], int] = {}
    n = 0
    for wid, _code, bcode in ctx.warehouses:
        owner = ctx.branch_ids[bcode]
        adjust = ctx.virtual[wid]["adjust"]
        for k in range(52 * 4):
            at = start + dt.timedelta(days=k * 7 // 4, hours=rng.randint(0, 6), minutes=rng.randint(0, 59))
            if at.date() >= ctx.today:
                break
            idx = rng.choice(plain)
            face = ctx.pick_face.get((wid, idx))
            if face is None:
                continue
            item = ctx.items[idx]
            on_hand = ctx.on_hand.get((wid, idx), 0) + balance.get((face, item.id), 0)
            variance = 0
            if rng.random() < 0.08:
                variance = rng.choice((-3, -2, -1, -1, 1, 2))
                if on_hand + variance < 0:
                    variance = 1
            n += 1
            ms = int(at.timestamp() * 1000)
            tid = ctx.ids.at_ms(ms)
            ts = iso(at)
            tasks.append((tid, owner, ts, ts, hlc_of(ms), "", f"{bcode}-CT-{n:06d}", wid, face, "posted",
                          item.velocity or "C", (at - dt.timedelta(days=1)).date().isoformat(), "2", 1, ts, ts))
            lines.append((ctx.ids.at_ms(ms + 1), owner, ts, ts, hlc_of(ms + 1), "", tid, item.id, "",
                          max(on_hand, 0), max(on_hand, 0) + variance, variance, variance))
            if variance:
                frm, to = (adjust, face) if variance > 0 else (face, adjust)
                moves.append((ctx.ids.at_ms(ms + 2), owner, ts, item.id, frm, to, abs(variance), "adjust", "count",
                              tid, ts))
                balance[(face, item.id)] = balance.get((face, item.id), 0) + variance
                balance[(adjust, item.id)] = balance.get((adjust, item.id), 0) - variance
    _insert(
        ctx, conn, "count_task",
        "INSERT INTO count_task (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, number, warehouse_id, "
        "location_id, status, abc_class, scheduled_for, tolerance_pct, round, started_at, posted_at) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [(*t[:12], 20000, *t[13:]) for t in tasks])
    _insert(
        ctx, conn, "count_line",
        "INSERT INTO count_line (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, task_id, item_id, "
        "lot_key, expected_qty, counted_qty, variance, adjusted_qty) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        lines)
    _insert(
        ctx, conn, "stock_move",
        "INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, to_location_id, qty, "
        "reason, doc_type, doc_id, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", moves)
    conn.executemany(
        "INSERT INTO stock_balance (location_id, item_id, lot_key, qty) VALUES (?, ?, '', ?) "
        "ON CONFLICT (location_id, item_id, lot_key) DO UPDATE SET qty = qty + excluded.qty",
        stored_ids([(loc, item, q) for (loc, item), q in balance.items() if q], (0, 1)))
    # the stock-value digest was rebuilt from the ledger before these moves: add them to it
    conn.execute(kpi_stock_day_add_sql("m.reason = 'adjust' AND m.doc_type = 'count'"))


def _exceptions(ctx: Ctx, conn: sqlite3.Connection, rng: random.Random) -> None:
    """Two to six exceptions a week per branch; resolved after hours or days (the last few open)."""
    start = dt.datetime.combine(ctx.today - dt.timedelta(days=364), dt.time(7), dt.UTC)
    now = min(dt.datetime.combine(ctx.today, dt.time(6), dt.UTC), ctx.clock)  # resolved by then
    rows = []
    manager = ctx.users.get("manager")
    for bcode, owner in sorted(ctx.branch_ids.items()):
        if bcode == "HQ":
            continue
        for week in range(52):
            for _ in range(rng.randint(2, 6)):
                at = start + dt.timedelta(days=week * 7 + rng.randint(0, 6), hours=rng.randint(0, 10),
                                          minutes=rng.randint(0, 59))
                kind, role, title, entity = rng.choice(EXCEPTION_KINDS)
                took = dt.timedelta(hours=rng.choice((2, 5, 20, 30, 50, 70, 120, 200)) * (0.5 + rng.random()))
                done = at + took
                status = "resolved" if done < now else "open"
                ms = int(at.timestamp() * 1000)
                ts = iso(at)
                rows.append((ctx.ids.at_ms(ms), owner, ts, iso(done) if status == "resolved" else ts, hlc_of(ms), "",
                             kind, "warning", entity, "", title, "", status, role, "",
                             manager if status == "resolved" else None, iso(done) if status == "resolved" else None,
                             "handled" if status == "resolved" else ""))
    _insert(
        ctx, conn, "exception_item",
        "INSERT INTO exception_item (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, kind, severity, "
        "entity, entity_ref, title, detail, status, role, key, resolved_by_id, resolved_at, resolution) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)


__all__ = ["seed_kpi_history", "iso_ms"]
