"""Pick confirmation: a bin, an item and a quantity per pick, checked against the wave.

A wrong bin or item is refused with the reason (nothing written). A confirmed pick posts a stock
move from the bin to the warehouse's packing location through the ledger. A **short pick** (less
than the line asks, with a reason) gives the missing units back to allocation (a ``release`` run
row), re-reserves them from free stock elsewhere in the warehouse when there is some (a new pick
line on the same wave, in the same tote) and raises an exception for a dispatcher when nothing
covers them. ``picked_unpacked`` is what packing (dispatchship) reads.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.allocation import Allocation, AllocationRun
from app.models.catalog import Item
from app.models.dispatch import PickLine, Wave
from app.models.ids import uuid7
from app.models.org import Location, pack_location_id
from app.models.receiving import SerialNumber
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.dispatch.stock_view import Bin, bins_for, rows
from app.services.dispatch.waves import find_wave
from app.services.errors import Conflict, DomainError, NotFound, ValidationError
from app.services.exception_inbox import raise_exception
from app.services.inventory.counts import create_count_tasks
from app.services.inventory.transfer_settle import follow_serials
from app.services.items import find_by_code
from app.services.numbering import next_number
from app.services.ownership import ForeignWrite, ownership
from app.services.stock import MoveSpec, post_moves
from app.services.workflow import transition

#: what packing adds: order id -> {order line id: units packed (or shipped) from picked stock}
PackedSource = Callable[[Session, uuid.UUID], dict[uuid.UUID, int]]
_PACKED_SOURCES: list[PackedSource] = []


def register_packed_source(fn: PackedSource) -> PackedSource:
    """Packing registers how much of each line it packed, so ``picked_unpacked`` leaves it out."""
    if fn not in _PACKED_SOURCES:
        _PACKED_SOURCES.append(fn)
    return fn


def picked_unpacked(session: Session, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """{order line id: units picked and not yet packed or shipped} of an order (lines with none left out)."""
    picked: dict[uuid.UUID, int] = {}
    for line_id, q in session.execute(
            select(PickLine.order_line_id, func.sum(PickLine.qty_picked))
            .join(Wave, Wave.id == PickLine.wave_id)
            .where(PickLine.order_id == order_id, PickLine.status.in_(("picked", "short")),
                   PickLine.deleted_at.is_(None), Wave.status != "cancelled")
            .group_by(PickLine.order_line_id)):
        picked[line_id] = int(q or 0)
    for source in _PACKED_SOURCES:
        for line_id, q in source(session, order_id).items():
            picked[line_id] = picked.get(line_id, 0) - int(q)
    return {k: v for k, v in picked.items() if v > 0}


@dataclass
class PickOutcome:
    """What a confirmed pick did, in words for the picker and as figures."""

    wave: str
    order: str
    bin: str
    sku: str
    qty: int
    tote: int
    short: int = 0
    covered: int = 0
    exception: str = ""
    #: the count task scheduled for the short bin ('' when none was: no right to, or one is open)
    count: str = ""
    wave_status: str = ""
    message: str = ""

    def as_dict(self) -> dict[str, Any]:
        return {k: getattr(self, k) for k in ("wave", "order", "bin", "sku", "qty", "tote", "short", "covered",
                                               "exception", "count", "wave_status", "message")}


def live_wave(session: Session, number: str) -> Wave:
    """A wave pickers may pick on (released or being picked), owned here."""
    wave = find_wave(session, number)
    if not ownership(session).owns(wave.owner_branch_id):
        raise ForeignWrite(f"wave {wave.number} is another branch's: it is picked there")
    if wave.status == "planned":
        raise Conflict(f"wave {wave.number} is planned, not released: release it before picking")
    if wave.status not in ("released", "picking"):
        raise Conflict(f"wave {wave.number} is {wave.status}: nothing is left to pick on it")
    return wave


def find_bin(session: Session, wave: Wave, code: str) -> Location:
    text = (code or "").strip().upper()
    if not text:
        raise ValidationError("bin", "scan the bin's barcode")
    loc = session.scalar(select(Location).where(Location.warehouse_id == wave.warehouse_id, Location.code == text,
                                                Location.deleted_at.is_(None)))
    if loc is None:
        raise NotFound("bin", text)
    return loc


def open_at(session: Session, wave: Wave, loc: Location) -> list[PickLine]:
    return list(session.scalars(select(PickLine).where(PickLine.wave_id == wave.id, PickLine.from_location_id == loc.id,
                                                       PickLine.status == "open", PickLine.deleted_at.is_(None))
                                .order_by(PickLine.seq)))


def next_stop(session: Session, wave: Wave) -> str:
    """The bin of the wave's next open line in walking order ('' when none is left)."""
    found = session.scalar(select(Location.code).join(PickLine, PickLine.from_location_id == Location.id)
                           .where(PickLine.wave_id == wave.id, PickLine.status == "open", PickLine.deleted_at.is_(None))
                           .order_by(PickLine.seq).limit(1))
    return found or ""


def check_bin(session: Session, wave: Wave, code: str) -> tuple[Location, list[PickLine]]:
    """The bin and its open lines; a bin with nothing to pick on the wave is refused with where to go."""
    loc = find_bin(session, wave, code)
    lines = open_at(session, wave, loc)
    if not lines:
        nxt = next_stop(session, wave)
        raise Conflict(f"wrong bin: nothing to pick in {loc.code} on wave {wave.number}"
                       + (f" (next stop: {nxt})" if nxt else ""))
    return loc, lines


def check_item(session: Session, wave: Wave, loc: Location, code: str) -> PickLine:
    """The first open line at ``loc`` for the scanned item; a wrong item is refused with the reason."""
    text = (code or "").strip()
    if not text:
        raise ValidationError("item", "scan the item's barcode")
    item_id = find_by_code(session, text)
    if item_id is None:
        raise NotFound("item", text)
    lines = open_at(session, wave, loc)
    for pl in lines:
        if pl.item_id == item_id:
            return pl
    sku = session.scalar(select(Item.sku).where(Item.id == item_id)) or text
    here = sorted({session.scalar(select(Item.sku).where(Item.id == pl.item_id)) or "?" for pl in lines})
    elsewhere = session.scalar(select(Location.code).join(PickLine, PickLine.from_location_id == Location.id)
                               .where(PickLine.wave_id == wave.id, PickLine.item_id == item_id,
                                      PickLine.status == "open").order_by(PickLine.seq).limit(1))
    if elsewhere:
        raise Conflict(f"wrong item: {sku} is picked from {elsewhere} on this wave; {loc.code} holds "
                       f"{', '.join(here)} for it")
    raise Conflict(f"wrong item: {sku} is not on wave {wave.number} ({loc.code} holds {', '.join(here)} for it)")


def confirm(session: Session, actor: Actor, wave_number: str, *, bin: str, item: str, qty: int | None = None,
            short_reason: str = "", serials: Sequence[str] = ()) -> PickOutcome:
    """Confirm one pick: ``qty`` None = all the line asks at that bin; fewer needs ``short_reason``.
    A serial-tracked item needs the serial of every unit picked (``serials``)."""
    actor.require("dispatch.pick")
    wave = live_wave(session, wave_number)
    loc, _lines = check_bin(session, wave, bin)
    pl = check_item(session, wave, loc, item)
    order = session.get(SalesOrder, pl.order_id)
    sku = session.scalar(select(Item.sku).where(Item.id == pl.item_id)) or "?"
    ref = order.number if order is not None else "?"
    want = pl.qty - pl.qty_picked
    n = want if qty is None else qty
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValidationError("quantity", "must be a whole number of units, 0 or more")
    if n > want:
        raise Conflict(f"only {want} {sku} to pick in {loc.code} for {ref}" + (f" (tote {pl.tote})" if pl.tote else ""))
    reason = (short_reason or "").strip()
    if n < want and not reason:
        raise ValidationError("short reason", f"{n} of {want} {sku}: say why the rest is missing "
                              "(not_found, damaged, expired, ...)")
    if n == want and reason:
        raise ValidationError("short reason", f"all {want} {sku} were picked: nothing is short")
    pack = pack_location_id(wave.warehouse_id)
    units: list[str | None] = [*_serials(session, pl.item_id, sku, n, serials)] or ([None] if n else [])
    if n:
        moved = post_moves(session, actor, [
            MoveSpec(pl.item_id, 1 if sn else n, loc.id, pack, "pick", lot_id=pl.lot_id, serial_no=sn,
                     doc_type="wave", doc_id=wave.id, doc_line_id=pl.id) for sn in units],
            owner_branch_id=wave.owner_branch_id)
        follow_serials(session, [m for m in moved if m.serial_no])
    pl.qty_picked += n
    out = PickOutcome(wave.number, ref, loc.code, sku, n, pl.tote)
    if n == want:
        transition(pl, "picked", actor)
    else:
        pl.short_reason = reason[:200]
        transition(pl, "short", actor)
        out.short = want - n
        out.covered, out.exception = _short(session, actor, wave, pl, loc, out.short, reason, sku, order)
        out.count = _count_bin(session, actor, loc)
    if wave.status == "released":
        transition(wave, "picking", actor)
    session.flush()
    left = session.scalar(select(func.count()).select_from(PickLine).where(
        PickLine.wave_id == wave.id, PickLine.status == "open", PickLine.deleted_at.is_(None))) or 0
    if not left:
        transition(wave, "picked", actor)
    out.wave_status = wave.status
    out.message = _words(out, pl.tote)
    return out


def _serials(session: Session, item_id: uuid.UUID, sku: str, n: int, serials: Sequence[str]) -> list[str]:
    """The scanned serials of a serial-tracked item (one per unit, each once, none shipped or held);
    [] for an item without serials."""
    track = session.scalar(select(Item.track_serial).where(Item.id == item_id))
    got = [s.strip().upper() for s in serials if s and s.strip()]
    if not track:
        if got:
            raise ValidationError("serial", f"{sku} is not serial-tracked")
        return []
    if len(got) != n:
        raise ValidationError("serial", f"{sku} is serial-tracked: scan the serial of each unit ({len(got)} of {n})")
    if len(set(got)) != len(got):
        raise ValidationError("serial", "the same serial was scanned twice")
    known = {str(sn).upper(): st for sn, st in session.execute(select(SerialNumber.serial, SerialNumber.status).where(
        SerialNumber.item_id == item_id, func.upper(SerialNumber.serial).in_(got)))}
    bad = [sn for sn in got if known.get(sn, "in_stock") != "in_stock"]
    if bad:
        raise ValidationError("serial", f"serial {bad[0]} of {sku} is {known[bad[0]].replace('_', ' ')}, not in stock")
    return got


def _words(out: PickOutcome, tote: int) -> str:
    into = f" into tote {tote}" if tote else ""
    text = f"{out.qty} {out.sku} from {out.bin}{into}"
    if out.short:
        text += f"; {out.short} short"
        if out.covered:
            text += f", {out.covered} re-reserved from another bin (added to the wave)"
        if out.exception:
            text += f"; {out.exception}"
        if out.count:
            text += f"; count {out.count} scheduled for {out.bin}"
    if out.wave_status == "picked":
        text += f"; wave {out.wave} is picked"
    return text


def _short(session: Session, actor: Actor, wave: Wave, pl: PickLine, loc: Location, short: int, reason: str,
           sku: str, order: SalesOrder | None) -> tuple[int, str]:
    """Give the short units back to allocation, cover them from free stock elsewhere, else raise an
    exception. Returns (units covered, the exception's title or ''). Reads first, then writes (the
    run row is insert-only: it is written once, with its figures)."""
    line = session.get(SalesOrderLine, pl.order_line_id)
    assert line is not None
    cover = _cover_plan(session, wave, pl, loc, short)
    covered = sum(take for _b, take in cover)
    branch = wave.owner_branch_id
    now = utcnow()
    run = AllocationRun(id=uuid7(), number=next_number(session, branch, "AL"), kind="release",
                        warehouse_id=wave.warehouse_id, trigger=f"short pick {wave.number} at {loc.code}"[:120],
                        started_at=now, finished_at=now, user_id=actor.user_id, username=actor.username,
                        lines_considered=1, lines_changed=1, units_released=short, units_allocated=covered,
                        owner_branch_id=branch)
    session.add(run)
    session.flush()
    session.add(Allocation(run_id=run.id, order_id=pl.order_id, order_line_id=pl.order_line_id, item_id=pl.item_id,
                           warehouse_id=wave.warehouse_id, lot_id=pl.lot_id, qty=-short, rule="short_pick",
                           reason=f"short pick in {loc.code}: {reason}"[:200], owner_branch_id=branch))
    seq = session.scalar(select(func.max(PickLine.seq)).where(PickLine.wave_id == wave.id)) or 0
    for b, take in cover:
        seq += 1
        lot_id = uuid.UUID(b.lot) if b.lot else None
        session.add(Allocation(run_id=run.id, order_id=pl.order_id, order_line_id=pl.order_line_id, item_id=pl.item_id,
                               warehouse_id=wave.warehouse_id, lot_id=lot_id, qty=take, rule="short_cover",
                               reason=f"covers a short pick in {loc.code} from {b.code}"[:200], owner_branch_id=branch))
        session.add(PickLine(wave_id=wave.id, order_id=pl.order_id, order_line_id=pl.order_line_id, item_id=pl.item_id,
                             lot_id=lot_id, from_location_id=uuid.UUID(b.location_id), tote=pl.tote, seq=seq, qty=take,
                             owner_branch_id=branch))
    line.qty_allocated += covered - short
    wave.lines += len(cover)
    title = ""
    if covered < short:
        ref = order.number if order is not None else "?"
        title = f"short pick {ref}/{line.line_no} {sku}: {short - covered} not covered"
        raise_exception(session, actor, kind="dispatch.short_pick", title=title, owner_branch_id=branch,
                        detail=(f"{short} of {pl.qty} {sku} were missing in bin {loc.code} on wave {wave.number} "
                                f"({reason}); {covered} re-reserved from other bins, {short - covered} not covered: "
                                "nothing free in the warehouse. Count the bin; backorder the rest or tell the customer."),
                        role="dispatcher", entity="sales_order", entity_id=pl.order_id, entity_ref=ref,
                        key=f"short_pick:{pl.id.hex}")
    audit.record(session, actor, "wave.short_pick", "wave", wave.id, branch, number=wave.number, bin=loc.code,
                 sku=sku, short=short, covered=covered, reason=reason)
    return covered, title


def _count_bin(session: Session, actor: Actor, loc: Location) -> str:
    """A count of the bin that came up short (today, class A tolerance), when the picker may schedule
    one and none is open; its number, else ''."""
    if loc.kind != "storage" or not (actor.can("count.enter") or actor.can("count.approve")):
        return ""
    try:
        with session.begin_nested():
            tasks = create_count_tasks(session, actor, [loc.id], abc_class="A")
    except DomainError:
        return ""  # a count is open already (or the bin is busy): that count will tell
    return tasks[0].number if tasks else ""


def _cover_plan(session: Session, wave: Wave, pl: PickLine, short_bin: Location, short: int) -> list[tuple[Bin, int]]:
    """Bins and units that cover up to ``short`` from stock of the item nobody holds (on hand in the
    warehouse's pickable and packing locations, the short bin left out, less every reservation once
    the short units are given back)."""
    wid, item = wave.warehouse_id.hex, pl.item_id.hex
    today = utcnow().date().isoformat()
    on_hand: dict[str, int] = {}
    for lot, q, exp in rows(
            session, "SELECT b.lot_key, SUM(b.qty), lot.expiry_date FROM stock_balance b JOIN location l "
            "ON l.id = b.location_id LEFT JOIN lot ON lot.id = b.lot_key WHERE b.item_id = ? AND l.warehouse_id = ? "
            "AND l.kind IN ('storage', 'dock', 'pack') AND l.active = 1 AND l.id <> ? GROUP BY b.lot_key",
            (item, wid, short_bin.id.hex)):
        if exp is None or str(exp) >= today:
            on_hand[str(lot or "")] = int(q)
    reserved: dict[str, int] = {}
    for lot, q in rows(session, "SELECT COALESCE(lot_id, ''), SUM(qty) FROM allocation WHERE warehouse_id = ? "
                       "AND item_id = ? GROUP BY lot_id", (wid, item)):
        reserved[str(lot)] = int(q)
    mine = pl.lot_id.hex if pl.lot_id else ""
    reserved[mine] = reserved.get(mine, 0) - short
    free_total = sum(on_hand.values()) - sum(reserved.values())
    if free_total <= 0:
        return []
    free_lot = {lot: q - reserved.get(lot, 0) for lot, q in on_hand.items()}
    bins = [b for b in bins_for(session, wid, [item], today=today).get(item, []) if b.location_id != short_bin.id.hex]
    bins.sort(key=lambda b: (b.expiry or "9999-12-31", b.role != "pick", b.walk_seq, b.code))
    want = min(short, free_total)
    out: list[tuple[Bin, int]] = []
    for b in bins:
        if want <= 0:
            break
        take = min(want, b.qty, free_lot.get(b.lot, 0) if b.lot else want)
        if take <= 0:
            continue
        if b.lot:
            free_lot[b.lot] -= take
        want -= take
        out.append((b, take))
    return out
