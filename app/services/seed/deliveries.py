"""Delivered shipments with realistic lateness: the history predictive ETA learns from (issue 18).

Written after the main load onto closed sales orders of the history, with capture off like
the rest of the seed. Lateness against the carrier's promise follows patterns a dispatcher
knows: each carrier and service keeps its promise to a different degree, a far lane is later
than a local one, a Friday pick-up after the cutoff waits for Monday, the peak season (Nov-Dec)
slips, and a few shipments meet an exception (weather, a misroute) and arrive days late.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
import uuid

from app.models.types import iso_utc
from app.services.seed.bulk import hlc_of

#: carrier -> (share delivered early, mean extra days when late, share late on a good day)
_CARRIER = {"SANDBOX": (0.25, 0.6, 0.12), "UPS": (0.3, 0.5, 0.08), "FEDEX": (0.28, 0.6, 0.1),
            "DHL": (0.2, 1.0, 0.18), "USPS": (0.15, 1.2, 0.22)}
HISTORY = {"demo": 3_000, "large": 100_000}


def _id(ms: int, rng: random.Random) -> str:
    """A UUIDv7 of the shipment's time whose random bits come from the seed (same seed, same ids)."""
    v = (ms << 80) | (0x7 << 76) | (rng.getrandbits(12) << 64) | (0b10 << 62) | rng.getrandbits(62)
    return uuid.UUID(int=v).hex


def seed_deliveries(conn: sqlite3.Connection, size: str, today: dt.date, seed: int = 1) -> int:
    """Insert delivered shipments on closed sales orders; returns how many."""
    rng = random.Random(seed * 7919 + 18)
    want = HISTORY.get(size, 0)
    orders = conn.execute(
        "SELECT so.id, so.warehouse_id, so.order_date, w.code, w.branch_id, so.ship_to, cu.ship_to"
        " FROM sales_order so JOIN warehouse w ON w.id = so.warehouse_id JOIN customer cu ON cu.id = so.customer_id"
        " WHERE so.status = 'closed' AND so.id NOT IN (SELECT sales_order_id FROM shipment"
        " WHERE sales_order_id IS NOT NULL)").fetchall()
    services = conn.execute("SELECT c.id, c.code, v.id, v.transit_days FROM carrier_service v"
                            " JOIN carrier c ON c.id = v.carrier_id WHERE c.active = 1").fetchall()
    if not orders or not services or not want:
        return 0
    rng.shuffle(orders)
    rows = []
    counter: dict[str, int] = {}
    branch_code = dict(conn.execute("SELECT id, code FROM branch").fetchall())
    for k in range(want):
        so_id, wh_id, order_date, wcode, bid, so_ship_to, cu_ship_to = orders[k % len(orders)]
        carrier_id, ccode, svc_id, transit = rng.choice(services)
        day = dt.date.fromisoformat(str(order_date)[:10]) + dt.timedelta(days=rng.choice((0, 0, 1, 1, 2)))
        if day >= today - dt.timedelta(days=3):
            day = today - dt.timedelta(days=4 + rng.randint(0, 30))
        hour = rng.choice((9, 10, 11, 13, 14, 15, 16, 16, 17, 17, 18))
        shipped = dt.datetime.combine(day, dt.time(hour, rng.randint(0, 59)), dt.UTC)
        promised_day = day + dt.timedelta(days=int(transit))
        while promised_day.weekday() >= 5:  # carriers promise business days
            promised_day += dt.timedelta(days=1)
        promised = dt.datetime.combine(promised_day, dt.time(20, 0), dt.UTC)
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
        owner = str(bid)
        b = str(branch_code.get(owner, "BR"))
        counter[b] = counter.get(b, 0) + 1
        ms = int(shipped.timestamp() * 1000)
        ts = iso_utc(delivered)
        rows.append((_id(ms, rng), owner, iso_utc(shipped), ts, hlc_of(ms), "", f"{b}-HS-{counter[b]:06d}", so_id,
                     wh_id, carrier_id, svc_id, f"HIST{k + 1:012d}", "delivered", iso_utc(shipped), iso_utc(promised),
                     ts, promised_day.isoformat()))
    conn.execute("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
    try:
        conn.executemany(
            "INSERT INTO shipment (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, number, sales_order_id,"
            " warehouse_id, carrier_id, service_id, tracking_number, status, shipped_at, eta, delivered_at,"
            " promised_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", rows)
    finally:
        conn.execute("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    return len(rows)
