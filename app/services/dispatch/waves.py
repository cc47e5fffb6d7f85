"""Waves: allocated orders grouped by carrier cut-off, priority and bin similarity; the plan says
for each carrier the cut-off, the lines, and whether the warehouse's pickers make it in time.

Planning reads in a few set-based queries (``stock_view``), chooses bins per reserved lot (pick
face first, FEFO where the reservation names no lot), and writes planned waves (a new plan
cancels the planned ones it replaces; released waves are never touched). ``release`` checks the
plan still holds (orders still allocated, reservations and bins still there: else "plan again",
nothing written) and freezes its orders (``picking``); ``unrelease`` undoes it before the first pick.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.dispatch import PICK_MODES, PickLine, Wave
from app.models.org import Warehouse
from app.models.sales import SalesOrder
from app.models.types import iso_utc, utcnow
from app.services import audit
from app.services.allocation.runs import scope
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.dispatch.layout import Floor
from app.services.dispatch.setup import Settings, branch_zone, cutoffs, next_cutoff, settings_for
from app.services.dispatch.stock_view import Bin, bins_for, chunked, committed, rows
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.numbering import next_number
from app.services.ownership import ForeignWrite, ownership
from app.services.workflow import transition, transition_all

LIVE = ("released", "picking")
_PICK_COLUMNS = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "wave_id", "order_id",
                 "order_line_id", "item_id", "lot_id", "from_location_id", "tote", "seq", "qty", "qty_picked",
                 "status")


@dataclass
class Stop:
    """One planned pick: a bin, an order line, a lot, a quantity."""

    order_id: str
    order_number: str
    line_id: str
    line_no: int
    item_id: str
    bin: Bin
    qty: int
    tote: int = 0
    seq: int = 0


@dataclass
class OrderIn:
    id: str
    number: str
    rush: bool
    tier: str
    carrier_id: str | None
    stops: list[Stop] = field(default_factory=list)
    centroid: float = 0.0


@dataclass
class WavePlan:
    number: str
    warehouse: str
    carrier: str
    cutoff_at: dt.datetime | None
    priority: int
    pick_mode: str
    orders: list[str]
    stops: list[Stop]
    pick_minutes: int
    done_by: dt.datetime
    in_time: bool
    walk_m: int
    walk_line_order_m: int
    notes: list[str] = field(default_factory=list)
    #: the branch's time zone (times on screen and paper are local)
    tz: str = "UTC"

    def local(self, value: dt.datetime | None) -> str:
        return local_text(value, self.tz)

    @property
    def units(self) -> int:
        return sum(s.qty for s in self.stops)

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "warehouse": self.warehouse, "carrier": self.carrier,
                "cutoff_at": iso_utc(self.cutoff_at) if self.cutoff_at else None, "priority": self.priority,
                "pick_mode": self.pick_mode, "orders": self.orders, "lines": len(self.stops), "units": self.units,
                "pick_minutes": self.pick_minutes, "done_by": iso_utc(self.done_by), "in_time": self.in_time,
                "walk_m": self.walk_m, "walk_line_order_m": self.walk_line_order_m, "notes": self.notes,
                "cutoff_local": self.local(self.cutoff_at), "done_by_local": self.local(self.done_by)}


def local_text(value: dt.datetime | None, tz: str) -> str:
    """A stored UTC time as the branch reads it ("Sat 16:00")."""
    return value.astimezone(ZoneInfo(tz)).strftime("%a %H:%M") if value else ""


@dataclass
class PlanResult:
    waves: list[WavePlan]
    cancelled: list[str]
    notes: list[str]
    seconds: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {"waves": [w.as_dict() for w in self.waves], "cancelled": self.cancelled, "notes": self.notes,
                "seconds": round(self.seconds, 3)}


def _own_warehouses(session: Session, warehouse: str | uuid.UUID | None) -> list[Warehouse]:
    whs = scope(session, warehouse)
    own = ownership(session)
    for wh in whs:
        if not own.owns(wh.branch_id):
            raise ForeignWrite(f"waves of {wh.code} are planned at a workstation of its own branch")
    return whs


def plan_waves(session: Session, actor: Actor, *, warehouse: str | uuid.UUID | None = None,
               orders: Sequence[str] | None = None, mode: str = "batch", now: dt.datetime | None = None) -> PlanResult:
    """Plan waves for the allocated orders of ``warehouse`` (every warehouse of this branch), or only
    for ``orders`` (numbers; each must be allocated, else nothing is planned). Replaces the planned
    waves of those warehouses."""
    started = time.perf_counter()
    actor.require("dispatch.wave")
    if mode not in PICK_MODES:
        raise ValidationError("pick mode", f"must be one of {', '.join(PICK_MODES)}")
    now = now or utcnow()
    whs = _own_warehouses(session, warehouse)
    chosen = _check_orders(session, orders, whs) if orders is not None else None
    result = PlanResult([], [], [])
    for wh in whs:
        if chosen is not None and not chosen.get(wh.id.hex):
            continue
        _plan_warehouse(session, actor, wh, chosen.get(wh.id.hex) if chosen is not None else None, mode, now, result)
    if result.waves or result.cancelled:
        audit.record(session, actor, "wave.plan", "wave", None, whs[0].branch_id,
                     waves=[w.number for w in result.waves], cancelled=result.cancelled,
                     lines=sum(len(w.stops) for w in result.waves))
    result.seconds = time.perf_counter() - started
    return result


def _check_orders(session: Session, numbers: Sequence[str], whs: list[Warehouse]) -> dict[str, list[str]]:
    """The named orders by warehouse; one that is not allocated refuses the plan, with why."""
    wanted = [n.strip().upper() for n in numbers if n.strip()]
    if not wanted:
        raise ValidationError("orders", "name at least one order")
    by_wh: dict[str, list[str]] = defaultdict(list)
    wh_ids = {w.id for w in whs}
    found: dict[str, SalesOrder] = {}
    for i in range(0, len(wanted), 500):  # one query per 500 numbers, not one per order
        found.update((so.number, so) for so in session.scalars(select(SalesOrder).where(
            SalesOrder.number.in_(wanted[i:i + 500]), SalesOrder.deleted_at.is_(None))))
    for number in wanted:
        so = found.get(number)
        if so is None:
            raise NotFound("sales order", number)
        if so.warehouse_id not in wh_ids:
            raise ValidationError("orders", f"{number} ships from another warehouse")
        if so.status == "credit_hold":
            raise Conflict(f"{number} is on credit hold ({so.credit_reason or 'no reason given'}): "
                           "a manager releases it before it is picked")
        if so.status in LIVE or so.status == "picking":
            raise Conflict(f"{number} is being picked already")
        if so.status != "allocated":
            raise Conflict(f"{number} is {so.status.replace('_', ' ')}, not allocated: only an order with every "
                           "line reserved is picked (allocate it first)")
        by_wh[so.warehouse_id.hex].append(so.id.hex)
    return by_wh


def _cancel_planned(session: Session, actor: Actor, wh: Warehouse, result: PlanResult) -> None:
    for w in session.scalars(select(Wave).where(Wave.warehouse_id == wh.id, Wave.status == "planned",
                                                Wave.deleted_at.is_(None)).order_by(Wave.number)):
        for pl in session.scalars(select(PickLine).where(PickLine.wave_id == w.id, PickLine.status == "open")):
            transition(pl, "cancelled", actor)
        transition(w, "cancelled", actor, "replaced by a new plan")
        result.cancelled.append(w.number)


def _plan_warehouse(session: Session, actor: Actor, wh: Warehouse, only: list[str] | None, mode: str,
                    now: dt.datetime, result: PlanResult) -> None:
    _cancel_planned(session, actor, wh, result)
    wid = wh.id.hex
    settings = settings_for(session, wh.id)
    cuts = {c.carrier_id.hex: c for c in cutoffs(session, wh.id)}
    default = next((k for k, c in cuts.items() if c.is_default), None)
    orders = _orders(session, wid, only)
    if not orders:
        return
    today = now.astimezone(branch_zone(session, wh)).date().isoformat()
    stops, notes = _stops(session, wid, orders, today)
    result.notes.extend(notes)
    for s in stops:
        orders[s.order_id].stops.append(s)
    floor = Floor([s.bin.spot for s in stops])
    for o in orders.values():
        if o.stops:
            xs = [floor.index[(s.bin.spot.zone, s.bin.spot.aisle)] * 1000 + s.bin.spot.bay for s in o.stops]
            o.centroid = sum(xs) / len(xs)
    groups: dict[str | None, list[OrderIn]] = defaultdict(list)
    for o in orders.values():
        if o.stops:
            groups[o.carrier_id or default].append(o)
    tz = branch_zone(session, wh)
    carriers = {str(i): c for i, c in rows(session, "SELECT id, code FROM carrier")}
    drafts: list[tuple[str | None, dt.datetime | None, list[OrderIn]]] = []
    for carrier, members in groups.items():
        cut = next_cutoff(cuts[carrier].cutoff, now, tz) if carrier in cuts else None
        members.sort(key=lambda o: (not o.rush, o.centroid, o.number))
        batch: list[OrderIn] = []
        for o in members:
            if batch and (sum(len(b.stops) for b in batch) + len(o.stops) > settings.wave_max_lines
                          or batch[0].rush != o.rush):
                drafts.append((carrier, cut, batch))
                batch = []
            batch.append(o)
        if batch:
            drafts.append((carrier, cut, batch))
    far = now + dt.timedelta(days=3650)
    drafts.sort(key=lambda d: (d[1] or far, not d[2][0].rush, d[2][0].number))
    start = now + dt.timedelta(minutes=_backlog_minutes(session, wid, settings))
    written: list[tuple[Wave, list[Stop]]] = []
    for prio, (carrier, cut, members) in enumerate(drafts, 1):
        plan = _wave(floor, members, mode, settings)
        minutes = settings.minutes_for(len(plan))
        done = start + dt.timedelta(minutes=minutes)
        start = done
        in_time = cut is None or done + dt.timedelta(minutes=settings.pack_minutes) <= cut
        walk, line_walk = _walks(floor, members, plan, mode)
        number = next_number(session, wh.branch_id, "WV")
        wp = WavePlan(number, wh.code, carriers.get(carrier or "", "") if carrier else "", cut, prio,
                      "discrete" if mode == "discrete" or len(members) == 1 else "batch",
                      [o.number for o in members], plan, minutes, done, in_time, walk, line_walk, tz=tz.key)
        if cut is not None and not in_time:
            wp.notes.append(f"done by {done.astimezone(tz):%H:%M} + {settings.pack_minutes} min packing: misses the "
                            f"{cut.astimezone(tz):%H:%M} cut-off")
        wave = Wave(number=number, warehouse_id=wh.id, carrier_id=uuid.UUID(carrier) if carrier else None,
                    cutoff_at=cut, priority=prio, pick_mode=wp.pick_mode, orders=len(members), lines=len(plan),
                    units=wp.units, pick_minutes=minutes, done_by=done, walk_m=walk, walk_line_order_m=line_walk,
                    planned_by=actor.username, note="; ".join(wp.notes)[:300], owner_branch_id=wh.branch_id)
        session.add(wave)
        written.append((wave, plan))
        result.waves.append(wp)
    session.flush()
    _write_lines(session, wh, written)


def _orders(session: Session, wid: str, only: list[str] | None) -> dict[str, OrderIn]:
    sql = ("SELECT o.id, o.number, o.rush, c.priority_tier, o.carrier_id FROM sales_order o "
           "JOIN customer c ON c.id = o.customer_id WHERE o.warehouse_id = ? AND o.status = 'allocated' "
           "AND o.deleted_at IS NULL")
    found = (chunked(session, sql + " AND o.id IN ({keys})", only, (wid,)) if only is not None
             else rows(session, sql, (wid,)))
    return {str(r[0]): OrderIn(str(r[0]), str(r[1]), bool(r[2]), str(r[3] or ""), str(r[4]) if r[4] else None)
            for r in found}


def _stops(session: Session, wid: str, orders: dict[str, OrderIn], today: str) -> tuple[list[Stop], list[str]]:
    """Each reserved lot of each open line, placed in bins: pick face first; a lot-less reservation
    takes lots first-expiry-first-out. What no bin holds is left out, with a note."""
    lines = chunked(session, "SELECT l.id, l.order_id, l.line_no, l.item_id, l.qty_allocated FROM sales_order_line l "
                    "WHERE l.order_id IN ({keys}) AND l.status = 'open' AND l.qty_allocated > 0 "
                    "AND l.deleted_at IS NULL", sorted(orders))
    line_ids = [str(r[0]) for r in lines]
    by_lot: dict[str, dict[str, int]] = defaultdict(dict)
    for lid, lot, q in chunked(session, "SELECT order_line_id, lot_id, SUM(qty) FROM allocation "
                               "WHERE order_line_id IN ({keys}) GROUP BY order_line_id, lot_id", line_ids):
        if q:
            by_lot[str(lid)][str(lot) if lot else ""] = int(q)
    items = sorted({str(r[3]) for r in lines})
    bins = bins_for(session, wid, items, today=today)
    for cands in bins.values():
        cands.sort(key=lambda b: (b.role != "pick", b.expiry or "9999-12-31", b.walk_seq, b.code))
    skus = {str(i): s for i, s in chunked(session, "SELECT id, sku FROM item WHERE id IN ({keys})", items)}
    stops: list[Stop] = []
    notes: list[str] = []
    for lid, oid, line_no, item, qty_alloc in sorted(lines, key=lambda r: (orders[str(r[1])].number, r[2])):
        lid, oid, item = str(lid), str(oid), str(item)
        lots = dict(by_lot.get(lid, {}))
        gap = int(qty_alloc) - sum(lots.values())
        if gap > 0:
            lots[""] = lots.get("", 0) + gap
        o = orders[oid]
        for lot, want in sorted(lots.items(), key=lambda kv: kv[0] == ""):
            for b in bins.get(item, []):
                if want <= 0:
                    break
                if b.qty <= 0 or (lot and b.lot != lot):
                    continue
                take = min(want, b.qty)
                b.qty -= take
                want -= take
                stops.append(Stop(oid, o.number, lid, int(line_no), item, b, take))
            if want > 0:
                notes.append(f"{o.number}/{line_no} {skus.get(item, '?')}: {want} reserved unit(s) are in no bin "
                             "(left off the wave; count the item)")
    return stops, notes


def _wave(floor: Floor, members: list[OrderIn], mode: str, settings: Settings) -> list[Stop]:
    """The wave's stops in walking order, each with its seq and (batch) tote."""
    batch = mode == "batch" and len(members) > 1
    stops: list[Stop] = []
    for n, o in enumerate(members, 1):
        for s in o.stops:
            s.tote = n if batch else 0
        stops.extend(o.stops)
    if batch:
        order = floor.serpentine([s.bin.spot for s in stops])
        walked = [stops[i] for i in order]
    else:
        walked = []
        for o in members:
            walked += [o.stops[i] for i in floor.serpentine([s.bin.spot for s in o.stops])]
    for seq, s in enumerate(walked, 1):
        s.seq = seq
    return walked


def _walks(floor: Floor, members: list[OrderIn], plan: list[Stop], mode: str) -> tuple[int, int]:
    """Metres of the planned path and of picking the same lines in order-line order."""
    if mode == "batch" and len(members) > 1:
        line_order = sorted(plan, key=lambda s: (s.order_number, s.line_no))
        return round(floor.distance([s.bin.spot for s in plan])), round(floor.distance([s.bin.spot for s in line_order]))
    walk = sum(floor.distance([s.bin.spot for s in plan if s.order_id == o.id]) for o in members)
    line = sum(floor.distance([s.bin.spot for s in sorted(o.stops, key=lambda s: s.line_no)]) for o in members)
    return round(walk), round(line)


def _backlog_minutes(session: Session, wid: str, settings: Settings) -> int:
    """Minutes the pickers still need for the open lines of released waves (they go first)."""
    n = rows(session, "SELECT COUNT(*) FROM pick_line p JOIN wave w ON w.id = p.wave_id WHERE w.warehouse_id = ? "
             "AND w.status IN ('released', 'picking') AND p.status = 'open' AND p.deleted_at IS NULL", (wid,))[0][0]
    return settings.minutes_for(int(n or 0))


def _write_lines(session: Session, wh: Warehouse, written: list[tuple[Wave, list[Stop]]]) -> None:
    stamp = Stamp.take(session)
    owner = wh.branch_id.hex
    out = []
    for wave, stops in written:
        for s in stops:
            out.append((new_id(), owner, stamp.now, stamp.now, stamp.hlc, stamp.site, wave.id.hex, s.order_id,
                        s.line_id, s.item_id, s.bin.lot or None, s.bin.location_id, s.tote, s.seq, s.qty, 0, "open"))
    BulkInsert(session, PickLine, _PICK_COLUMNS).write(out)


# --- release ----------------------------------------------------------------------------------------

def find_wave(session: Session, number: str) -> Wave:
    wave = session.scalar(select(Wave).where(Wave.number == number.strip().upper(), Wave.deleted_at.is_(None)))
    if wave is None:
        raise NotFound("wave", number)
    return wave


def _own_wave(session: Session, number: str) -> Wave:
    wave = find_wave(session, number)
    if not ownership(session).owns(wave.owner_branch_id):
        raise ForeignWrite(f"wave {wave.number} is another branch's: it is released and picked there")
    return wave


@dataclass
class ReleaseResult:
    waves: list[str]
    orders: int
    lines: int

    def as_dict(self) -> dict[str, Any]:
        return {"waves": self.waves, "orders": self.orders, "lines": self.lines}


def release(session: Session, actor: Actor, numbers: Iterable[str], *, now: dt.datetime | None = None) -> ReleaseResult:
    """Release planned waves to the pickers: every check first (one failing wave releases none)."""
    actor.require("dispatch.wave")
    waves = [_own_wave(session, n) for n in numbers]
    if not waves:
        raise ValidationError("waves", "name at least one wave")
    plans: list[tuple[Wave, list[SalesOrder], int]] = []
    taken: dict[str, dict[tuple[str, str, str], int]] = {}  # per warehouse: what released waves take
    for wave in waves:
        if wave.status != "planned":
            raise Conflict(f"wave {wave.number} is {wave.status}; only a planned wave is released")
        orders, n = _verify(session, wave, taken)
        plans.append((wave, orders, n))
    for wave, orders, _n in plans:
        transition(wave, "released", actor, at=now)
        transition_all(orders, "picking", actor, f"wave {wave.number}")
    session.flush()
    return ReleaseResult([w.number for w in waves], sum(len(o) for _w, o, _n in plans), sum(n for *_x, n in plans))


def _verify(session: Session, wave: Wave,
            taken_by_wh: dict[str, dict[tuple[str, str, str], int]]) -> tuple[list[SalesOrder], int]:
    """The wave's orders, if its plan still holds; else Conflict naming what changed. (Waves of one
    plan never share stock, so what released waves take is read once per warehouse.)"""
    wid = wave.warehouse_id.hex
    picks = rows(session, "SELECT order_id, order_line_id, item_id, COALESCE(lot_id, ''), from_location_id, qty "
                 "FROM pick_line WHERE wave_id = ? AND status = 'open' AND deleted_at IS NULL", (wave.id.hex,))
    order_ids = sorted({str(p[0]) for p in picks})
    orders = list(session.scalars(select(SalesOrder).where(SalesOrder.id.in_([uuid.UUID(o) for o in order_ids]))))
    for so in orders:
        if so.status != "allocated" or so.deleted_at is not None:
            raise Conflict(f"{so.number} is {so.status.replace('_', ' ')} since wave {wave.number} was planned: "
                           "plan again")
    want: dict[tuple[str, str], int] = defaultdict(int)
    for _o, line, _i, lot, _loc, q in picks:
        want[(str(line), str(lot))] += int(q)
    lines = sorted({k[0] for k in want})
    have: dict[str, dict[str, int]] = defaultdict(dict)
    for lid, lot, q in chunked(session, "SELECT order_line_id, COALESCE(lot_id, ''), SUM(qty) FROM allocation "
                               "WHERE order_line_id IN ({keys}) GROUP BY order_line_id, lot_id", lines):
        have[str(lid)][str(lot)] = int(q)
    for lid in lines:
        held = have.get(lid, {})
        if sum(q for (ln, _l), q in want.items() if ln == lid) > sum(held.values()) or any(
                lot and q > held.get(lot, 0) + held.get("", 0) for (ln, lot), q in want.items() if ln == lid):
            number = next((so.number for so in orders if any(str(p[1]) == lid and str(p[0]) == so.id.hex
                                                                for p in picks)), "?")
            raise Conflict(f"a reservation of {number} changed since wave {wave.number} was planned: plan again")
    need: dict[tuple[str, str, str], int] = defaultdict(int)
    for _o, _line, item, lot, loc, q in picks:
        need[(str(loc), str(item), str(lot))] += int(q)
    on_hand = {(str(loc), str(item), str(lot)): int(q) for loc, item, lot, q in chunked(
        session, "SELECT location_id, item_id, lot_key, qty FROM stock_balance WHERE location_id IN ({keys})",
        sorted({k[0] for k in need}))}
    if wid not in taken_by_wh:
        taken_by_wh[wid] = committed(session, wid)
    taken = taken_by_wh[wid]
    for key, q in need.items():
        if on_hand.get(key, 0) - taken.get(key, 0) < q:
            code = session.scalar(select(Warehouse.code).where(Warehouse.id == wave.warehouse_id))
            loc = rows(session, "SELECT code FROM location WHERE id = ?", (key[0],))
            raise Conflict(f"bin {loc[0][0] if loc else '?'} in {code} no longer holds the {q} unit(s) wave "
                           f"{wave.number} would pick there: plan again")
    return orders, len(picks)


def unrelease(session: Session, actor: Actor, number: str) -> Wave:
    """Take a released wave back before anything is picked: it is planned again, its orders allocated."""
    actor.require("dispatch.wave")
    wave = _own_wave(session, number)
    if wave.status != "released":
        raise Conflict(f"wave {wave.number} is {wave.status}; only a released wave with nothing picked is taken back")
    done = rows(session, "SELECT COUNT(*) FROM pick_line WHERE wave_id = ? AND status IN ('picked', 'short')",
                (wave.id.hex,))[0][0]
    if done:
        raise Conflict(f"wave {wave.number} has {done} line(s) picked already: finish it or pick short")
    order_ids = [uuid.UUID(str(r[0])) for r in rows(
        session, "SELECT DISTINCT order_id FROM pick_line WHERE wave_id = ? AND status = 'open'", (wave.id.hex,))]
    orders = list(session.scalars(select(SalesOrder).where(SalesOrder.id.in_(order_ids), SalesOrder.status == "picking")))
    transition(wave, "planned", actor, action="wave.unrelease")
    transition_all(orders, "allocated", actor, f"wave {wave.number} taken back")
    session.flush()
    return wave
