"""A year of stock history: receipts and sales as ledger moves, with the POs and SOs behind them.

Each (warehouse, item) is simulated on its own: sale events drawn from a demand curve
(velocity class x category season x trend x weekday x noise), and a reorder-point policy
that places an order with the preferred supplier on the supplier's order weekday; the
order arrives after the supplier's lead time (with its deviation) as a receipt to the dock
and a putaway to the item's pick face. A sale never takes more than is on hand, so stock
never goes negative in an internal location. Orders still on their way today become
the open POs.

Items are simulated in blocks, each with its own random stream, so the result does not
depend on how many processes run the blocks (the large seed forks two workers: see
``seed.history_load``, which runs the blocks and writes their rows). POs and SOs that several
blocks add lines to get ids derived from their key, so every block names the same document.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import math
import random
import uuid
from collections import deque
from dataclasses import dataclass, field
from itertools import accumulate
from typing import Any, NamedTuple

from app.models.catalog import lot_id_for
from app.models.stamps import US_PER_DAY
from app.services.seed.bulk import LEDGER, IdGen, ms_of
from app.services.seed.bulk import iso_ms as bulk_iso_ms
from app.services.seed.spec import Ctx

DAYS = 365
BLOCK = 2500
#: category -> (season amplitude, peak day of year)
SEASON = {"Beverages": (0.5, 200), "HVAC": (0.45, 190), "Frozen food": (0.3, 210), "Grocery": (0.25, 340),
          "Janitorial": (0.15, 20), "Safety": (0.1, 100), "Plumbing": (0.15, 30), "Chemicals": (0.2, 120)}
TRENDS = (-0.2, -0.1, 0.0, 0.1, 0.2, 0.3)
WEEKDAY = (1.0, 1.05, 1.0, 1.0, 1.1, 0.35, 0.0)  # Monday .. Sunday
BRANCH_FACTOR = {"DAL": 1.2, "HOU": 1.0, "PHX": 0.8}
SHELF_LIFE = {"Dairy": (30, 75), "Frozen food": (180, 365), "Grocery": (180, 720), "Beverages": (180, 365),
              "Chemicals": (540, 1095)}

MOVE_COLUMNS = (*LEDGER, "item_id", "lot_id", "serial_no", "from_location_id", "to_location_id", "qty", "reason",
                "doc_type", "doc_id", "doc_line_id", "user_id", "moved_at")
LOT_COLUMNS = (*LEDGER, "item_id", "lot_code", "expiry_date")
BALANCE_COLUMNS = ("location_id", "item_id", "lot_key", "qty")


class PoLine(NamedTuple):
    """A line of a PO the history ordered. A tuple: the workers send 350,000 of them back to the writer
    (large), and a dataclass pickles and unpickles at two to three times the cost."""

    id: str
    item: int
    qty: int
    price: int
    expected_day: int
    arrival_day: int  # >= DAYS: not yet arrived (open)
    ms: int


@dataclass
class Po:
    id: str
    warehouse_id: str
    supplier: int
    order_day: int
    ms: int
    lines: list[PoLine] = field(default_factory=list)
    #: ``id`` as the moves carry it (stored form, ``Ctx.stored``)
    raw: bytearray = field(default_factory=bytearray)


@dataclass
class So:
    id: str
    warehouse_id: str
    customer: int
    day: int
    ms: int
    #: (line id, item index, qty, unit price)
    lines: list[tuple[str, int, int, int]] = field(default_factory=list)
    #: ``id`` as the moves carry it (stored form, ``Ctx.stored``)
    raw: bytearray = field(default_factory=bytearray)


@dataclass
class Block:
    """What one block of items produced (moves sorted by id). Its rows (moves, lots, balances and the
    digests' shares) hold ids in stored form, made so (``Ctx.stored``, ``IdGen.stored_at_ms``: a
    bytearray of the 16 bytes); its documents (``pos``, ``sos``) and ``on_hand`` keys hold hex."""

    moves: list[tuple[object, ...]]
    lots: list[tuple[object, ...]]
    #: stock_balance rows (location, item, lot key, qty)
    balances: list[tuple[Any, ...]]
    pos: dict[tuple[str, int, int], Po]
    sos: dict[tuple[str, int, int], So]
    on_hand: dict[tuple[str, int], int]
    #: the block's share of the ledger digests: sales_week rows, kpi_stock_day sums and its PO lines'
    #: receipt figures for kpi_po_line (see _digests)
    sales_week: list[tuple[Any, ...]] = field(default_factory=list)
    stock_day: list[tuple[Any, ...]] = field(default_factory=list)
    po_lines: list[tuple[Any, ...]] = field(default_factory=list)


@dataclass
class History:
    pos: dict[tuple[str, int, int], Po] = field(default_factory=dict)
    sos: dict[tuple[str, int, int], So] = field(default_factory=dict)
    moves: int = 0


class _Days:
    """Per-day timestamps of the history year (and the lead times after it), computed once."""

    def __init__(self, ctx: Ctx) -> None:
        start = ctx.start()
        span = range(DAYS + 160)
        self.ms = [ms_of(start + dt.timedelta(days=d)) for d in span]
        self.prefix = [(start + dt.timedelta(days=d)).strftime("%Y-%m-%dT") for d in span]
        self.date = [(start + dt.timedelta(days=d)).date() for d in span]
        self.weekday = [dd.weekday() for dd in self.date]

    def stamp(self, day: int, sec: int) -> tuple[int, str]:
        h, rem = divmod(sec, 3600)
        m, s = divmod(rem, 60)
        return self.ms[day] + sec * 1000, f"{self.prefix[day]}{h:02d}:{m:02d}:{s:02d}.000000+00:00"


def _curves(days: _Days) -> dict[tuple[str, float], list[float]]:
    """Cumulative demand weights per (category, trend): the shape sale days are drawn from."""
    from app.services.seed.master import CATEGORIES

    out = {}
    for cat in CATEGORIES:
        amp, peak = SEASON.get(cat[0], (0.08, 150))
        for g in TRENDS:
            w = []
            for d in range(DAYS):
                doy = days.date[d].timetuple().tm_yday
                w.append(max(0.0, (1 + amp * math.cos(2 * math.pi * (doy - peak) / 365.0)) * WEEKDAY[days.weekday[d]]
                             * (1 + g * d / DAYS)))
            out[(cat[0], g)] = list(accumulate(w))
    return out


def keyed_id(ms: int, *key: object) -> str:
    """A uuid7-shaped id whose random part comes from ``key``: every block names the same document."""
    h = int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=10).digest(), "big")
    value = ((ms & 0xFFFFFFFFFFFF) << 80) | (0x7 << 76) | ((h >> 62) & 0xFFF) << 64 | (0b10 << 62) | (h & ((1 << 62) - 1))
    return f"{value:032x}"


#: location kinds inside a warehouse (kpi_stock_day counts stock entering and leaving them)
_INTERNAL = frozenset({"storage", "dock", "qa"})
#: moves that never leave the internal locations (kpi_stock_day skips them)
_INSIDE = frozenset({"putaway", "replenish", "hold"})


def _tasks(ctx: Ctx) -> list[tuple[int, int]]:
    return [(w, b) for w in range(len(ctx.warehouses)) for b in range(0, len(ctx.items), BLOCK)]


@dataclass
class _Env:
    """What every item of one block shares while it is simulated."""

    ctx: Ctx
    days: _Days
    curves: dict[tuple[str, float], list[float]]
    rng: random.Random
    ids: IdGen
    w: int
    moves: list[tuple[object, ...]] = field(default_factory=list)
    lots: list[tuple[object, ...]] = field(default_factory=list)
    pos: dict[tuple[str, int, int], Po] = field(default_factory=dict)
    sos: dict[tuple[str, int, int], So] = field(default_factory=dict)
    on_hand: dict[tuple[str, int], int] = field(default_factory=dict)


def _simulate(ctx: Ctx, days: _Days, curves: dict[tuple[str, float], list[float]], seed: int, w: int,
              first: int) -> Block:
    """Simulate items [first, first + BLOCK) in warehouse number ``w``."""
    env = _Env(ctx, days, curves, random.Random(f"{seed}:history:{w}:{first}"),
               IdGen(random.Random(f"{seed}:ids:{w}:{first}")), w)
    for idx in range(first, min(first + BLOCK, len(ctx.items))):
        _simulate_item(env, idx)
    moves = env.moves
    moves.sort(key=_move_order)
    # keyed by the id objects (a bytearray is no dict key; one object per id value: ``Ctx.stored``,
    # one per lot made in ``receive``): key -> [location, item, lot key, qty]
    balances: dict[tuple[int, int, int], list[Any]] = {}
    get = balances.get
    m: Any
    for m in moves:
        item_id, lot, q = m[3], m[4] or "", m[8]
        to, frm = m[7], m[6]
        k = (id(to), id(item_id), id(lot))
        b = get(k)
        if b is None:
            b = balances[k] = [to, item_id, lot, 0]
        b[3] += q
        k = (id(frm), id(item_id), id(lot))
        b = get(k)
        if b is None:
            b = balances[k] = [frm, item_id, lot, 0]
        b[3] -= q
    sales_week, stock_day, po_lines = _digests(ctx, w, first, moves)
    return Block(moves, env.lots, [tuple(b) for b in balances.values()], env.pos, env.sos, env.on_hand,
                 sales_week, stock_day, po_lines)


def _move_order(move: tuple[Any, ...]) -> int:
    """A move's place: its id's number (bytearrays compare through the buffer protocol, 1.6x the
    time of sorting the tuples on their text ids, of which this sorts in two thirds)."""
    return int.from_bytes(move[0], "big")


def _digests(ctx: Ctx, w: int, first: int, moves: list[Any]) -> tuple[
        list[tuple[Any, ...]], list[tuple[Any, ...]], list[tuple[Any, ...]]]:
    """The block's rows of ``sales_week``, its sums for ``kpi_stock_day`` and its PO lines' receipt
    figures for ``kpi_po_line`` (first and last receipt, quantity received, last putaway), as the
    digests' triggers (and rebuild SQL) would make them from these moves: the writer then sums the
    workers' small tables instead of joining 2 million moves with their locations and items.

    Every move of a block stays in its warehouse: its locations are the warehouse's virtual ones
    (by kind) or pick faces (storage). Sales week = Julian day number // 7 of the move's day.
    Ids are in stored form (``Ctx.stored``), keyed by their objects (``id()``: one object per id value;
    a PO line's id is one object, made when it was ordered)."""
    stored = ctx.stored
    wid = stored.warehouse[w]
    kind_of = {id(loc): kind for kind, loc in stored.virtual[ctx.warehouses[w][0]].items()}
    cost = {id(stored.items[i]): ctx.items[i].cost for i in range(first, min(first + BLOCK, len(ctx.items)))}
    week_of: dict[str, int] = {}
    day_of: dict[int, str] = {}  # day number since the epoch -> 'YYYY-MM-DD'
    weeks: dict[tuple[int, int], list[Any]] = {}  # -> [item, warehouse, week, qty]
    days: dict[str, list[int]] = {}
    lines: dict[int, list[Any]] = {}  # -> [line id, first receipt, last receipt, qty, last putaway]
    for m in moves:
        reason = m[9]
        if m[10] == "PO" and (reason == "receipt" or reason == "putaway"):
            line = lines.get(id(m[12]))
            if line is None:
                line = lines[id(m[12])] = [m[12], None, None, 0, None]
            at = m[14]
            if reason == "receipt":
                if line[1] is None or at < line[1]:
                    line[1] = at
                if line[2] is None or at > line[2]:
                    line[2] = at
                line[3] += m[8]
            elif line[4] is None or at > line[4]:
                line[4] = at
        if reason in _INSIDE:
            continue
        day = day_of.get(m[14] // US_PER_DAY)
        if day is None:
            day = day_of[m[14] // US_PER_DAY] = bulk_iso_ms(m[14] // 1000)[:10]
        to_kind, from_kind = kind_of.get(id(m[7]), "storage"), kind_of.get(id(m[6]), "storage")
        q = m[8]
        value = q * cost[id(m[3])]
        acc = days.get(day)
        if acc is None:
            acc = days[day] = [0, 0]
        acc[0] += value * ((to_kind in _INTERNAL) - (from_kind in _INTERNAL))
        if to_kind == "customer":
            acc[1] += value
            if reason == "sale":
                week = week_of.get(day)
                if week is None:
                    week = week_of[day] = (dt.date.fromisoformat(day).toordinal() + 1_721_425) // 7
                key = (id(m[3]), week)
                acc_w = weeks.get(key)
                if acc_w is None:
                    acc_w = weeks[key] = [m[3], wid, week, 0]
                acc_w[3] += q
    # kpi_po_line keeps its times as the moves' numbers (``stamps``, 0026_kpi_times)
    return ([tuple(r) for r in weeks.values()],
            [(wid, day, inflow, cogs) for day, (inflow, cogs) in days.items()],
            [tuple(r) for r in lines.values()])


def _simulate_item(env: _Env, idx: int) -> None:
    """One item in one warehouse for a year: sales, reorders, receipts and putaways."""
    ctx, days, rng, spec = env.ctx, env.days, env.rng, env.ctx.spec
    # the moves' and lots' ids are made and kept as the 16 bytes SQLite stores (``Ctx.stored``): the
    # rows go to the chunk file as they are; the documents (Po, So) keep hex for the writer
    stored = ctx.stored
    raw_at_ms = env.ids.stored_at_ms
    wid, wcode, bcode = ctx.warehouses[env.w]
    owner = stored.branch[bcode]
    v = stored.virtual[wid]
    sup_loc, cust_loc, dock = v["supplier"], v["customer"], v["dock"]
    customers = ctx.customers[bcode]
    users = stored.users
    u_recv, u_wh, u_disp = users["receiver"], users["warehouse"], users["dispatcher"]
    doc_from = DAYS - spec.sales_doc_days
    random_, gauss = rng.random, rng.gauss
    stamp = days.stamp
    add = env.moves.append
    pos, sos = env.pos, env.sos

    def rint(a: int, b: int) -> int:
        return a + int(random_() * (b - a + 1))

    item = ctx.items[idx]
    face = stored.pick_face[(wid, idx)]
    iid = stored.items[idx]
    lo, hi = spec.sales_per_year[item.velocity]
    n = max(1, int(rint(lo, hi) * BRANCH_FACTOR.get(bcode, 1.0)))
    cw = env.curves[(item.category, TRENDS[rint(0, len(TRENDS) - 1)])]
    sale_days = sorted(rng.choices(range(DAYS), cum_weights=cw, k=n))
    mean_line = 1.0 if item.track_serial else max(1.0, item.case * (0.3 + 1.2 * random_()))
    s_idx, lead, sd, pack, moq, price = item.supplier
    mu = n * mean_line / DAYS
    rop = int(mu * (lead + 2 * sd + 3)) + 1
    order_qty = max(moq, -(-int(mu * rint(*spec.cover_days) + 1) // pack) * pack)
    weekday = ctx.suppliers[s_idx][2]
    stock: deque[list[object]] = deque()  # [lot id or None, serial or None, qty]
    on_hand = 0
    pending: list[tuple[int, int, bytearray, bytearray]] = []  # (arrival day, qty, po id, line id)
    serial_seq = 0

    def order(day: int, qty: int) -> None:
        # the buyer orders on the supplier's order weekday, not on the day stock dips
        od = day + (weekday - days.weekday[day]) % 7
        if od >= DAYS:
            return
        arrival = od + max(1, int(round(gauss(lead, sd))))
        key = (wid, s_idx, od)
        po = pos.get(key)
        if po is None:
            ms = days.ms[od] + 7 * 3600_000 + int.from_bytes(hashlib.blake2b(repr(key).encode(), digest_size=3)
                                                             .digest(), "big") % (3 * 3600_000)
            po_id = keyed_id(ms, "po", *key)
            po = Po(po_id, wid, s_idx, od, ms, raw=bytearray.fromhex(po_id))
            pos[key] = po
        line_ms = po.ms + 1 + rint(0, 999)
        lid = raw_at_ms(line_ms)
        po.lines.append(PoLine(lid.hex(), idx, qty, price, od + lead, arrival, line_ms))
        pending.append((arrival, qty, po.raw, lid))

    def receive(arrival: int, qty: int, po_id: bytearray, line_id: bytearray) -> None:
        nonlocal on_hand, serial_seq
        ms, _ts = stamp(arrival, rint(6 * 3600, 11 * 3600))
        ms2 = days.ms[arrival] + rint(11 * 3600 + 60, 13 * 3600) * 1000
        us, us2 = ms * 1000, ms2 * 1000  # the moves' and the lot's times as stored (``stamps``)
        lot_id = None
        if item.track_lot:
            code = f"{wcode}{days.date[arrival]:%y%m%d}"
            lot_id = bytearray(lot_id_for(uuid.UUID(item.id), code).bytes)  # one object per lot (balances key on it)
            expiry = None
            if item.track_expiry or item.category in SHELF_LIFE:
                a, b = SHELF_LIFE.get(item.category, (365, 730))
                expiry = (days.date[arrival] + dt.timedelta(days=rint(a, b))).isoformat()
            env.lots.append((lot_id, owner, us, iid, code, expiry))
        if item.track_serial:
            for _ in range(qty):
                serial_seq += 1
                serial = f"{item.sku}-{wcode}-{serial_seq:05d}"
                add((raw_at_ms(ms), owner, us, iid, None, serial, sup_loc, dock, 1, "receipt", "PO", po_id, line_id,
                     u_recv, us))
                add((raw_at_ms(ms2), owner, us2, iid, None, serial, dock, face, 1, "putaway", "PO", po_id, line_id,
                     u_wh, us2))
                stock.append([None, serial, 1])
        else:
            add((raw_at_ms(ms), owner, us, iid, lot_id, None, sup_loc, dock, qty, "receipt", "PO", po_id, line_id,
                 u_recv, us))
            add((raw_at_ms(ms2), owner, us2, iid, lot_id, None, dock, face, qty, "putaway", "PO", po_id, line_id,
                 u_wh, us2))
            stock.append([lot_id, None, qty])
        on_hand += qty

    order(0, order_qty + rop)
    lognorm = rng.lognormvariate
    for day in sale_days:
        while pending and pending[0][0] <= day:
            receive(*pending.pop(0))
        take = min(max(1, int(mean_line * lognorm(0, 0.45))), on_hand)
        if take:
            ms = days.ms[day] + rint(8 * 3600, 17 * 3600) * 1000
            us = ms * 1000
            doc_id = line_id = None
            if day >= doc_from:
                c = int(random_() * len(customers))
                skey = (wid, day, c)
                so = sos.get(skey)
                if so is None:
                    so_ms = days.ms[day] + 3600_000 + int.from_bytes(
                        hashlib.blake2b(repr(skey).encode(), digest_size=3).digest(), "big") % (6 * 3600_000)
                    so_id = keyed_id(so_ms, "so", *skey)
                    so = So(so_id, wid, c, day, so_ms, raw=bytearray.fromhex(so_id))
                    sos[skey] = so
                line_id = raw_at_ms(so.ms + 1 + rint(0, 999))
                so.lines.append((line_id.hex(), idx, take, item.price * customers[c][2] // 1000))
                doc_id = so.raw
            left = take
            while left:
                lot_id, serial, q = stock[0]
                step = min(left, int(q))  # type: ignore[call-overload]
                add((raw_at_ms(ms), owner, us, iid, lot_id, serial, face, cust_loc, step, "sale",
                     "SO" if doc_id else "", doc_id, line_id, u_disp, us))
                left -= step
                if step == q:
                    stock.popleft()
                else:
                    stock[0][2] = int(q) - step  # type: ignore[call-overload]
            on_hand -= take
        if not pending and on_hand <= rop:
            order(min(day + 1, DAYS - 1), order_qty)
    for p in sorted(pending):
        if p[0] < DAYS:
            receive(*p)
    env.on_hand[(wid, idx)] = on_hand
