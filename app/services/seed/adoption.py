"""What the adoption issue adds to the seed: the company profile with its logo (the PO's
letterhead), sales history the company brought from its old system (the weeks before the
simulated year), and fixed min/max order points on one pair in ten.

Each part draws from its own random stream (derived from the seed), so the rows the rest of the
seed makes do not change.
"""

from __future__ import annotations

import base64
import datetime as dt
import io
import random
import re
import sqlite3
import uuid
from typing import Any

from app.models import stamps
from app.models.demand import policy_id_for
from app.models.org import COMPANY_ID
from app.models.stamps import JDN_EPOCH
from app.services.seed.bulk import LEDGER, VERSIONED, hlc_of, iso, ms_of
from app.services.seed.spec import Ctx

COMPANY = ("Lone Star Industrial Supply", "100 Congress Ave\nAustin TX 78701", "+1 512 555 0100",
           "purchasing@lonestar-supply.example", "lonestar-supply.example", "74-1234567")
#: weeks of legacy history before the simulated year (A and B items only: they sell often enough)
LEGACY_WEEKS = 8
#: one pair in this many gets a fixed min/max
POLICY_EVERY = 10


def logo_png() -> bytes:
    """A small deterministic logo (drawn, no font files needed)."""
    from PIL import Image, ImageDraw

    img = Image.new("RGB", (480, 150), "white")
    d = ImageDraw.Draw(img)
    d.polygon([(15, 75), (75, 15), (135, 75), (75, 135)], fill=(31, 78, 121))
    d.polygon([(45, 75), (75, 45), (105, 75), (75, 105)], fill="white")
    for n, width in enumerate((300, 250, 200)):
        d.rectangle([160, 35 + n * 30, 160 + width, 52 + n * 30], fill=(31, 78, 121) if n == 0 else (120, 140, 160))
    buf = io.BytesIO()
    img.save(buf, "PNG")
    return buf.getvalue()


def seed_company(ctx: Ctx) -> None:
    ms = ms_of(ctx.start() - dt.timedelta(days=30))
    ts = iso(ctx.start() - dt.timedelta(days=30))
    name, address, phone, email, web, tax = COMPANY
    ctx.bulk.insert("company", (*VERSIONED, "name", "address", "phone", "email", "website", "tax_id", "base_currency",
                                "timezone", "logo_b64", "logo_mime"),
                    [(COMPANY_ID.hex, ctx.ho, ts, ts, hlc_of(ms), "", name, address, phone, email, web, tax, "USD",
                      "America/Chicago", base64.b64encode(logo_png()).decode("ascii"), "image/png")])


#: the columns of ``sales_history`` the legacy history fills, in the order of ``legacy_rows``' tuples
LEGACY_COLUMNS = (*LEDGER, "item_id", "warehouse_id", "sale_date", "qty", "customer_id", "reference")


def seed_legacy_history(ctx: Ctx, seed: int) -> int:
    """Daily sales of A and B items in the weeks before the simulated year, as imported history
    (demand only: no stock moves). Written before ``sales_week`` is rebuilt, so it counts there.
    (The large seed makes these rows in a worker process: ``legacy_to_file``.)"""
    rows = legacy_rows(ctx, seed)
    ctx.bulk.insert("sales_history", LEGACY_COLUMNS, rows)
    return len(rows)


def legacy_table_sql(ddl: str) -> str:
    """``sales_history``'s CREATE TABLE (``ddl``, as the file stores it) made to create table ``h``."""
    sql, n = re.subn(r'^CREATE TABLE (IF NOT EXISTS )?("?)sales_history\2', "CREATE TABLE h", ddl.strip())
    if n != 1:
        raise RuntimeError(f"seed: cannot read the definition of sales_history: {ddl[:60]!r}")
    return sql


def legacy_to_file(ctx: Ctx, seed: int, path: str, ddl: str) -> tuple[int, object]:
    """Worker: ``legacy_rows`` into table ``h`` of a new SQLite file, for the writer to copy, and their
    share of ``sales_week`` into table ``w`` (item, warehouse,
    week, qty: the week as ``stamps.sql_day_week`` makes it, Julian day number // 7), which the writer sums with
    the history workers' shares instead of grouping the million rows again (``digests_from_chunks``).
    Returns the row count and the state of ``ctx.ids`` after the rows' ids, which the writer takes
    over so the ids it hands out next are the ones it would have.

    ``h`` is made by ``ddl``, ``sales_history``'s own definition (its primary key too): the writer then
    copies it with ``INSERT INTO sales_history SELECT *``, which SQLite does as VACUUM does (records
    as they are, the primary key's b-tree filled, not 2.8 MB of it left free): 0.36 s of the writer's
    CPU instead of 2.0 on the large set; this process pays the inserts' ~1.5 s more."""
    rows = legacy_rows(ctx, seed)
    # keyed by the id objects (a bytearray is no dict key; ``Ctx.stored`` holds one per id value)
    weeks: dict[tuple[int, int, int], list[Any]] = {}  # -> [item, warehouse, week, qty]
    r: Any
    for r in rows:
        week = (r[5] + JDN_EPOCH) // 7  # the day number's week (``stamps.sql_day_week``)
        key = (id(r[3]), id(r[4]), week)
        acc = weeks.get(key)
        if acc is None:
            acc = weeks[key] = [r[3], r[4], week, 0]
        acc[3] += r[6]
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        conn.execute(legacy_table_sql(ddl))
        conn.executemany(f"INSERT INTO h ({', '.join(LEGACY_COLUMNS)}) VALUES ({', '.join('?' * len(LEGACY_COLUMNS))})",
                         rows)  # ids in stored form
        conn.execute("CREATE TABLE w (item_id, warehouse_id, week, qty)")
        conn.executemany("INSERT INTO w VALUES (?, ?, ?, ?)", [tuple(acc) for acc in weeks.values()])
        conn.execute("COMMIT")
    finally:
        conn.close()
    return len(rows), ctx.ids.getstate()


def legacy_rows(ctx: Ctx, seed: int) -> list[tuple[object, ...]]:
    """The legacy history's rows (ids from ``ctx.ids``, one a row, in row order), ids in stored form
    (``Ctx.stored``, ``IdGen.stored_at_ms``: made so, nothing to convert).

    A million rows on large: each day's stamp, date and reference are made once, not per row."""
    rng = random.Random(seed * 104_729 + 11)
    draw, expo, at_ms = rng.random, rng.expovariate, ctx.ids.stored_at_ms
    stored = ctx.stored
    first = ctx.start().date() - dt.timedelta(weeks=LEGACY_WEEKS)
    # (ms, stored time, stored date, reference) of the selling days (none on Sunday); the time and the
    # date as the numbers SQLite stores (``stamps``: microseconds, days since 1970-01-01)
    days: list[tuple[int, int, int, str] | None] = []
    for n in range(LEGACY_WEEKS * 7):
        day = first + dt.timedelta(days=n)
        when = dt.datetime.combine(day, dt.time(18), dt.UTC)
        ms = ms_of(when)
        days.append(None if day.weekday() == 6 else (ms, ms * 1000, stamps.days(day), f"LEGACY-{day:%y%m%d}"))
    rows: list[tuple[object, ...]] = []
    add = rows.append
    for w, (_wid, _code, branch) in enumerate(ctx.warehouses):
        owner, wid = stored.branch[branch], stored.warehouse[w]
        for n, item in enumerate(ctx.items):
            if item.velocity not in ("A", "B") or item.track_serial:
                continue
            share = 0.5 if item.velocity == "A" else 0.2
            iid = stored.items[n]
            for d in days:
                if d is None or draw() >= share:
                    continue
                add((at_ms(d[0]), owner, d[1], iid, wid, d[2], 1 + int(expo(0.3)), None, d[3]))
    return rows


def seed_policies(ctx: Ctx, conn: sqlite3.Connection) -> int:
    """Fixed min/max on one pair in ten: min = two weeks of its recent sales, max = five weeks
    (so some fall below min and the worklist shows 'fixed min/max')."""
    week_now = (ctx.today.toordinal() + 1_721_425) // 7
    sold = {(str(i), str(w)): int(q) for i, w, q in conn.execute(
        "SELECT lower(hex(item_id)), lower(hex(warehouse_id)), SUM(qty) FROM sales_week WHERE week >= ? AND week < ? "
        "GROUP BY item_id, warehouse_id", (week_now - 26, week_now))}
    ms = ms_of(dt.datetime.combine(ctx.today, dt.time(0), dt.UTC)) - 86_400_000
    ts = iso(dt.datetime.fromtimestamp(ms / 1000, dt.UTC))
    rows = []
    for wid, _code, branch in ctx.warehouses:
        for n, item in enumerate(ctx.items):
            if n % POLICY_EVERY != 3:
                continue
            weekly = sold.get((item.id, wid), 0) / 26
            lo = max(int(weekly * 2), 1)
            hi = max(int(weekly * 5), lo + max(item.case, 1))
            pid = policy_id_for(uuid.UUID(item.id), uuid.UUID(wid)).hex
            rows.append((pid, ctx.branch_ids[branch], ts, ts, hlc_of(ms), "", item.id, wid, "fixed_minmax", lo, hi))
    ctx.bulk.insert("replenishment_policy", (*VERSIONED, "item_id", "warehouse_id", "policy", "min_qty", "max_qty"),
                    rows)
    return len(rows)
