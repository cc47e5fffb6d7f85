"""Confirmed picks of the weeks before today: the history pick-error alerts learn from (issue 18).

Written after the main load, onto the closed sales orders of the last ``WEEKS`` weeks, with
capture off like the rest of the seed: one picked wave per warehouse and week (numbered
``<branch>-WH-nnnnnn``, apart from Dispatch's own ``-WV-`` waves), one pick line per order line
shipped, from a pick bin of the warehouse (zones in proportion to their bins), confirmed by one
of the branch staff who pick. A pick is short (an error, as the pick accuracy KPI counts it) at
each picker's own rate of 0.4-1 %. In the last full week two things go wrong on purpose, for the
alerts to find: one picker at the first warehouse mis-picks 8 % of their lines, and the chilled
zone (CHL) of the second warehouse runs short on 30 % of its lines.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import uuid
import zlib
from dataclasses import dataclass, field
from typing import Any

from app.models.dispatch import SHORT_REASONS
from app.models.types import iso_utc
from app.services.seed.bulk import hlc_of, stored_ids, stored_times

WEEKS = 13
#: order lines picked at most, per size (the large seed's history is long; its alerts need no more)
MAX_LINES = {"demo": 40_000, "large": 60_000}
PICKERS = ("warehouse", "receiver", "dispatcher", "manager")
JUMP_PICKER_RATE = 0.08
JUMP_ZONE, JUMP_ZONE_RATE = "CHL", 0.30


def _id(ms: int, rng: random.Random) -> str:
    v = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=v).hex


@dataclass
class _Wave:
    id: str
    branch: str
    number: str
    warehouse: str
    week: dt.date
    orders: set[str] = field(default_factory=set)
    lines: int = 0
    units: int = 0
    last: dt.datetime | None = None


def _monday(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


#: the picked waves and their pick lines, as ``insert_picks`` writes them
Picks = tuple[list[tuple[Any, ...]], list[tuple[Any, ...]]]


def pick_rows(conn: sqlite3.Connection, size: str, today: dt.date, seed: int = 1) -> Picks:
    """The picked waves and their pick lines (made from a read: the caller takes the write lock only
    to insert them)."""
    rng = random.Random(seed * 6007 + 18)
    pickers = [str(r[0]) for r in conn.execute(
        f"SELECT lower(hex(id)) FROM app_user WHERE username IN ({', '.join('?' * len(PICKERS))}) ORDER BY username", PICKERS)]
    recent = _monday(today) - dt.timedelta(weeks=1)
    start = recent - dt.timedelta(weeks=WEEKS - 1)
    lines = conn.execute(
        "SELECT lower(hex(so.id)), lower(hex(l.id)), lower(hex(l.item_id)), l.qty_shipped, lower(hex(so.warehouse_id)),"
        " so.order_date, w.code, lower(hex(w.branch_id))"
        " FROM sales_order so JOIN sales_order_line l ON l.order_id = so.id JOIN warehouse w ON w.id = so.warehouse_id"
        " WHERE so.status = 'closed' AND l.qty_shipped > 0 AND l.deleted_at IS NULL"
        " AND so.order_date >= ? AND so.order_date < ? ORDER BY so.order_date, so.number, l.line_no",
        (start.isoformat(), (recent + dt.timedelta(weeks=1)).isoformat())).fetchall()
    if not pickers or not lines:
        return [], []
    lines = lines[-MAX_LINES.get(size, 0):] if MAX_LINES.get(size, 0) else []
    bins: dict[str, list[tuple[str, str]]] = {}
    for loc, wh, zone in conn.execute(
            "SELECT lower(hex(l.id)), lower(hex(l.warehouse_id)), z.code FROM location l JOIN zone z ON z.id = l.zone_id"
            " WHERE l.kind = 'storage' AND l.role = 'pick' AND l.deleted_at IS NULL ORDER BY l.code"):
        bins.setdefault(str(wh), []).append((str(loc), str(zone)))
    warehouses = sorted({str(r[6]) for r in lines})
    jump_picker_wh = warehouses[0]
    jump_zone_wh = warehouses[1] if len(warehouses) > 1 else warehouses[0]
    rate = {p: rng.uniform(0.004, 0.01) for p in pickers}
    branch_code = dict(conn.execute("SELECT lower(hex(id)), code FROM branch").fetchall())
    waves: dict[tuple[str, dt.date], _Wave] = {}
    counter: dict[str, int] = {}
    out = []
    for so_id, line_id, item_id, qty, wh_id, order_date, wcode, bid in lines:
        here = bins.get(str(wh_id))
        if not here:
            continue
        loc, zone = here[zlib.crc32(str(item_id).encode()) % len(here)]  # an item keeps its bin
        day = dt.date.fromisoformat(str(order_date)[:10])
        week = _monday(day)
        wave = waves.get((str(wh_id), week))
        if wave is None:
            b = str(branch_code.get(str(bid), "BR"))
            counter[b] = counter.get(b, 0) + 1
            ms = int(dt.datetime.combine(week, dt.time(6), dt.UTC).timestamp() * 1000)
            wave = waves[(str(wh_id), week)] = _Wave(_id(ms, rng), str(bid), f"{b}-WH-{counter[b]:06d}", str(wh_id), week)
        picker = rng.choice(pickers)
        p = rate[picker]
        if week == recent and str(wcode) == jump_picker_wh and picker == pickers[0]:
            p = JUMP_PICKER_RATE
        if week == recent and str(wcode) == jump_zone_wh and zone == JUMP_ZONE:
            p = JUMP_ZONE_RATE
        short = rng.random() < p
        at = dt.datetime.combine(day, dt.time(rng.randint(7, 16), rng.randint(0, 59)), dt.UTC)
        ms = int(at.timestamp() * 1000)
        wave.orders.add(str(so_id))
        wave.lines += 1
        wave.units += int(qty)
        wave.last = max(wave.last or at, at)
        picked = int(qty) - max(1, int(qty) // 4) if short else int(qty)
        reason = f"{rng.choice(SHORT_REASONS)}: found {picked}" if short else ""
        out.append((_id(ms, rng), str(bid), iso_utc(at), iso_utc(at), hlc_of(ms), "", wave.id, str(so_id),
                    str(line_id), str(item_id), loc, 0, wave.lines, int(qty), picked,
                    "short" if short else "picked", reason, iso_utc(at), picker))
    wave_rows = []
    for w in waves.values():
        released = dt.datetime.combine(w.week, dt.time(6), dt.UTC)
        done = w.last or released
        wave_rows.append((w.id, w.branch, iso_utc(released), iso_utc(done), hlc_of(int(released.timestamp() * 1000)),
                          "", w.number, w.warehouse, "picked", "batch", len(w.orders), w.lines, w.units, "history",
                          iso_utc(released), iso_utc(done), "the week's picks (history)"))
    return wave_rows, out


#: positions of created_at and updated_at in both row shapes (``stamps.UTCMicros``)
_VERSION_TIMES = (2, 3)


def insert_picks(conn: sqlite3.Connection, picks: Picks) -> int:
    """Insert ``pick_rows`` (capture off: seeded rows are not local edits); returns how many lines."""
    wave_rows, out = picks
    conn.execute("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
    try:
        conn.executemany(
            "INSERT INTO wave (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, number, warehouse_id, status,"
            " pick_mode, orders, lines, units, planned_by, released_at, picked_at, note, priority, pick_minutes, walk_m,"
            " walk_line_order_m) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, 0, 0, 0)",
            # ids read and made as hex here, stored as 16 bytes; created_at, updated_at as microseconds
            stored_ids(stored_times(wave_rows, _VERSION_TIMES), (0, 1, 7)))
        conn.executemany(
            "INSERT INTO pick_line (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, wave_id, order_id,"
            " order_line_id, item_id, from_location_id, tote, seq, qty, qty_picked, status, short_reason, picked_at,"
            " picked_by_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            stored_ids(stored_times(out, _VERSION_TIMES), (0, 1, 6, 7, 8, 9, 10, 18)))
    finally:
        conn.execute("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    return len(out)
