"""Delivered shipments with realistic lateness: the history predictive ETA learns from (issue 18).

Written after the main load onto closed sales orders of the history, with capture off like
the rest of the seed. Lateness against the carrier's promise follows patterns a dispatcher
knows: each carrier and service keeps its promise to a different degree, a far lane is later
than a local one, a Friday pick-up after the cutoff waits for Monday, the peak season (Nov-Dec)
slips, and a few shipments meet an exception (weather, a misroute) and arrive days late.

Each carries what the carrier charged: the carrier sandbox's price list for its service level,
lane and weight (the order's shipped units x item weight), billed as quoted but for one in
twenty (a surcharge of 3-15 %), so the manager's freight KPIs have a year of figures. A second
random stream draws them, so the lateness above is the same as before they were added. Three of
last week's shipments are billed 2.5-4x their quote, for the freight alerts to find (issue 18).
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
from decimal import Decimal
from typing import Any

from app.models.types import iso_utc
from app.services.carriers.sandbox import lanes
from app.services.seed.bulk import hlc_of, micros_positions, stored_ids, stored_times

#: carrier -> (share delivered early, mean extra days when late, share late on a good day)
_CARRIER = {"SANDBOX": (0.25, 0.6, 0.12), "UPS": (0.3, 0.5, 0.08), "FEDEX": (0.28, 0.6, 0.1),
            "DHL": (0.2, 1.0, 0.18), "USPS": (0.15, 1.2, 0.22)}
HISTORY = {"demo": 3_000, "large": 100_000}
#: the shipment rows' id columns (id, owner, order, warehouse, carrier, service): read and made as
#: hex here, written as the 16 bytes SQLite stores
_SHIPMENT_IDS = (0, 1, 7, 8, 9, 10)
_SHIPMENT_COLUMNS = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "number", "sales_order_id",
                     "warehouse_id", "carrier_id", "service_id", "tracking_number", "status", "shipped_at", "eta",
                     "delivered_at", "promised_date", "service_code", "freight_quoted", "freight_billed")
#: a service's transit days -> the sandbox price list's level
_LEVEL = {1: "next_day", 2: "two_day", 3: "three_day", 4: "ground", 5: "ground"}
#: grams in a pound: 45,359,237 / 100,000
_LB_NUM, _LB_DEN = 45_359_237, 100_000


def _zips(conn: sqlite3.Connection) -> dict[str, str]:
    """Warehouse code prefix (DAL) -> its ZIP: the demo's ship-to addresses name a city by it."""
    out = {}
    for code, address in conn.execute("SELECT code, address FROM warehouse").fetchall():
        tail = str(address or "").split()[-1:] or [""]
        if tail[0].isdigit():
            out[str(code)[:3]] = tail[0]
    return out


class _Freight:
    """(quoted, billed) in 1/10,000 of a dollar, as the sandbox's price list charges.

    The price list bills whole pounds, so a quote depends on (level, lane, pounds) only: each is
    asked once (100,000 shipments on large share a few thousand), the weight's ceiling in integers
    (exact: a gram count over 453.59237 is an integer or at least 1/45,359,237 from one)."""

    def __init__(self) -> None:
        self._quotes: dict[tuple[str, str, str, int], Decimal] = {}

    def __call__(self, level: str, origin: str, dest: str, grams: int, rng: random.Random) -> tuple[int, int]:
        pounds = -(-max(grams, 1) * _LB_DEN // _LB_NUM)
        key = (level, origin, dest, pounds)
        quoted = self._quotes.get(key)
        if quoted is None:
            quoted = self._quotes[key] = lanes.price(level, origin, dest, Decimal(pounds))
        billed = quoted * (1 + Decimal(rng.randint(3, 15)) / 100) if rng.random() < 0.05 else quoted
        return int(quoted * 10_000), int(billed.quantize(Decimal("0.01")) * 10_000)


def _id(ms: int, rng: random.Random) -> str:
    """A UUIDv7 of the shipment's time whose random bits come from the seed (same seed, same ids)."""
    v = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return f"{v:032x}"  # uuid.UUID(int=v).hex without the object


def delivery_rows(conn: sqlite3.Connection, size: str, today: dt.date, seed: int, *,
                  clock: dt.datetime) -> list[tuple[Any, ...]]:
    """Delivered shipments on closed sales orders, as ``insert_deliveries`` writes them (made from a
    read: the caller takes the write lock only to insert). None is delivered after ``clock`` (the
    seed's ``seed_clock``)."""
    latest = clock
    rng = random.Random(seed * 7919 + 18)
    want = HISTORY.get(size, 0)
    orders = conn.execute(
        "SELECT lower(hex(so.id)), lower(hex(so.warehouse_id)), so.order_date, w.code, lower(hex(w.branch_id)),"
        " so.ship_to, cu.ship_to"
        " FROM sales_order so JOIN warehouse w ON w.id = so.warehouse_id JOIN customer cu ON cu.id = so.customer_id"
        " WHERE so.status = 'closed' AND so.id NOT IN (SELECT sales_order_id FROM shipment"
        " WHERE sales_order_id IS NOT NULL)").fetchall()
    services = conn.execute("SELECT lower(hex(c.id)), c.code, lower(hex(v.id)), v.transit_days, v.code FROM carrier_service v"
                            " JOIN carrier c ON c.id = v.carrier_id WHERE c.active = 1").fetchall()
    if not orders or not services or not want:
        return []
    rng.shuffle(orders)
    frng = random.Random(seed * 7919 + 19)
    freight = _Freight()
    zips = _zips(conn)
    grams = dict(conn.execute("SELECT lower(hex(l.order_id)), SUM(l.qty_shipped * COALESCE(i.weight_g, 0)) FROM sales_order_line l"
                              " JOIN item i ON i.id = l.item_id JOIN sales_order o ON o.id = l.order_id"
                              " WHERE o.status = 'closed' GROUP BY l.order_id").fetchall())
    rows = []
    counter: dict[str, int] = {}
    branch_code = dict(conn.execute("SELECT lower(hex(id)), code FROM branch").fetchall())
    for k in range(want):
        so_id, wh_id, order_date, wcode, bid, so_ship_to, cu_ship_to = orders[k % len(orders)]
        carrier_id, ccode, svc_id, transit, svc_code = rng.choice(services)
        day = dt.date.fromisoformat(str(order_date)[:10]) + dt.timedelta(days=rng.choice((0, 0, 1, 1, 2)))
        if day >= today - dt.timedelta(days=3):
            day = today - dt.timedelta(days=4 + rng.randint(0, 30))
        hour = rng.choice((9, 10, 11, 13, 14, 15, 16, 16, 17, 17, 18))
        minute = rng.randint(0, 59)
        shipped = dt.datetime.combine(day, dt.time(hour, minute), dt.UTC)
        shipped_at = f"{day.isoformat()}T{hour:02d}:{minute:02d}:00.000000+00:00"  # iso_utc(shipped)
        promised_day = day + dt.timedelta(days=int(transit))
        while promised_day.weekday() >= 5:  # carriers promise business days
            promised_day += dt.timedelta(days=1)
        promised = dt.datetime.combine(promised_day, dt.time(20, 0), dt.UTC)
        promised_date = promised_day.isoformat()
        early, late_mean, late_p = _CARRIER.get(str(ccode), (0.2, 0.8, 0.15))
        dest = str(so_ship_to or cu_ship_to or "").split(",")[-1].strip().upper()
        p = late_p + (0.08 if dest and dest != str(wcode)[:3] else 0.0)
        if day.weekday() == 4 and hour >= 15:
            p += 0.35
        elif hour >= 16:
            p += 0.15
        if day.month in (11, 12):
            p += 0.12
        r = rng.random()
        if r < 0.03:  # exception: weather, misroute
            delta = rng.uniform(2, 6)
        elif r < 0.03 + min(p, 0.9) * 0.97:
            delta = rng.expovariate(1 / late_mean) + 0.2
        elif rng.random() < early:
            delta = -rng.uniform(0.3, 1.0)
        else:
            delta = -rng.uniform(0.0, 0.4)
        delivered = promised + dt.timedelta(days=delta)
        delivered = max(delivered, shipped + dt.timedelta(hours=10))
        if delivered > latest:  # a late one still on its way would be delivered in the future: by now instead
            delivered = latest - dt.timedelta(minutes=7 * (k % 97))
        owner = str(bid)
        b = str(branch_code.get(owner, "BR"))
        counter[b] = counter.get(b, 0) + 1
        ms = int(shipped.timestamp() * 1000)
        ts = iso_utc(delivered)
        quoted, billed = freight(_LEVEL.get(int(transit), "economy"), zips.get(str(wcode)[:3], ""),
                                 zips.get(dest[:3], ""), int(grams.get(so_id) or 0), frng)
        rows.append((_id(ms, rng), owner, shipped_at, ts, hlc_of(ms), "", f"{b}-HS-{counter[b]:06d}", so_id,
                     wh_id, carrier_id, svc_id, f"HIST{k + 1:012d}", "delivered", shipped_at,
                     f"{promised_date}T20:00:00.000000+00:00", ts, promised_date, str(svc_code), quoted, billed))
    # three of last week's shipments billed 2.5-4x their quote (re-weighed, billed as a pallet), for
    # the freight alerts to find (issue 18), from a stream of their own: nothing else moves
    arng = random.Random(seed * 104_729 + 18)
    last_week = today - dt.timedelta(days=today.weekday() + 7)
    marked = 0
    for k, row in enumerate(rows):
        on = dt.date.fromisoformat(str(row[13])[:10])
        if marked < 3 and row[-2] and last_week <= on < last_week + dt.timedelta(days=7):
            rows[k] = (*row[:-1], int(int(row[-2]) * arng.uniform(2.5, 4.0)))
            marked += 1
    return rows


def insert_deliveries(conn: sqlite3.Connection, rows: list[tuple[Any, ...]]) -> int:
    """Insert ``delivery_rows`` (capture off: seeded rows are not local edits); returns how many."""
    conn.execute("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
    stored = stored_ids(stored_times(rows, micros_positions("shipment", _SHIPMENT_COLUMNS)), _SHIPMENT_IDS)
    try:
        conn.executemany(f"INSERT INTO shipment ({', '.join(_SHIPMENT_COLUMNS)}) "
                         f"VALUES ({', '.join('?' * len(_SHIPMENT_COLUMNS))})", stored)
    finally:
        conn.execute("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    return len(rows)
