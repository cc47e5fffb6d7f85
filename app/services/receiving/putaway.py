"""Directed putaway: propose a bin for each received line, and confirm tasks by scanning the bin.

Rules, in this order (``BinBook.refusal`` is the one check both proposing and confirming use):

1. hard rules, never broken: a storage bin of the task's warehouse, active; a pick face fixed to
   another item is refused; the bin's temperature class must equal the item's; a hazmat item
   needs a bin approved for a compatible hazmat class and must be compatible with every hazmat
   class already in the bin (``INCOMPATIBLE``, a simplified segregation table); the volume and the
   weight of what is in the bin, plus open putaway tasks heading there, plus this load, must fit
   the bin's capacity (a capacity of 0 means "not measured" and does not limit).
2. preference: a bin that already holds the item and has room; then an empty bin; then any bin
   with room. Ordinary goods go to a hazmat-approved bin only when no other bin fits. Within each, velocity decides: A items go to pick-face bins nearest the start of the
   walk (low ``walk_seq``), C items to reserve bins furthest away, B items to reserve bins nearest.

Bins and their contents are read once per call (``load_bins``), so 500 proposals are one query
plus pure Python.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom, Lot
from app.models.org import Location
from app.models.receiving import PutawayTask, Receipt, SerialNumber
from app.models.stock import StockBalance
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.ownership import owns
from app.services.stock import MoveSpec, post_moves
from app.services.workflow import transition

#: pairs of hazmat classes that may not share a bin (simplified from the segregation tables)
INCOMPATIBLE: frozenset[frozenset[str]] = frozenset(
    frozenset(p) for p in (("3", "5.1"), ("2.1", "5.1"), ("4.1", "5.1"), ("4.2", "5.1"), ("4.3", "8"),
                           ("2.1", "2.3"), ("3", "5.2"), ("6.1", "3"))
)


def hazmat_compatible(a: str, b: str) -> bool:
    return not a or not b or frozenset((a, b)) not in INCOMPATIBLE


@dataclass(frozen=True)
class BinInfo:
    """The columns of a storage bin the rules read (plain tuples load ~10x faster than ORM rows)."""

    id: uuid.UUID
    code: str
    kind: str
    active: bool
    role: str
    fixed_item_id: uuid.UUID | None
    temperature_class: str
    hazmat_class: str
    capacity_volume_cm3: int
    capacity_weight_g: int
    walk_seq: int


@dataclass
class BinState:
    loc: BinInfo
    used_volume: int = 0
    used_weight: int = 0
    items: set[uuid.UUID] = field(default_factory=set)
    hazmat: set[str] = field(default_factory=set)


@dataclass(frozen=True)
class Proposal:
    item_id: uuid.UUID
    qty: int
    location_id: uuid.UUID | None
    location_code: str
    reason: str


class BinBook:
    """The storage bins of one warehouse with what is in them (stock + open tasks)."""

    def __init__(self, bins: list[BinState], items: dict[uuid.UUID, PutItem]) -> None:
        self.bins = {b.loc.id: b for b in bins}
        self.by_code = {b.loc.code: b for b in bins}
        self.items = items
        self.by_item: dict[uuid.UUID, list[BinState]] = defaultdict(list)
        for b in bins:
            for iid in b.items:
                self.by_item[iid].append(b)
        # candidate order per (temperature class, velocity)
        self._orders: dict[tuple[str, str, bool], list[BinState]] = {}

    def refusal(self, item: PutItem, qty: int, b: BinState) -> str | None:
        """Why ``qty`` of ``item`` may not go into bin ``b`` (None = it may)."""
        loc = b.loc
        if loc.kind != "storage" or not loc.active:
            return f"{loc.code} is not an active storage bin"
        if loc.fixed_item_id is not None and loc.fixed_item_id != item.id:
            return f"bin {loc.code} is the pick face of another item"
        if loc.temperature_class != item.temperature_class:
            return f"bin {loc.code} is {loc.temperature_class}; {item.sku} needs {item.temperature_class}"
        if item.hazmat_class:
            if not loc.hazmat_class:
                return f"bin {loc.code} is not approved for hazmat class {item.hazmat_class}"
            if not hazmat_compatible(item.hazmat_class, loc.hazmat_class):
                return f"bin {loc.code} (hazmat {loc.hazmat_class}) may not hold class {item.hazmat_class}"
            clash = sorted(h for h in b.hazmat if not hazmat_compatible(item.hazmat_class, h))
            if clash:
                return f"bin {loc.code} holds hazmat class {clash[0]}, incompatible with {item.hazmat_class}"
        vol, wt = item.volume_cm3 * qty, item.weight_g * qty
        if loc.capacity_volume_cm3 and b.used_volume + vol > loc.capacity_volume_cm3:
            free = max(loc.capacity_volume_cm3 - b.used_volume, 0)
            return f"bin {loc.code} is full: {free:,} cm3 free, {vol:,} cm3 needed"
        if loc.capacity_weight_g and b.used_weight + wt > loc.capacity_weight_g:
            free = max(loc.capacity_weight_g - b.used_weight, 0)
            return f"bin {loc.code} is full by weight: {free:,} g free, {wt:,} g needed"
        return None

    def reserve(self, item: PutItem, qty: int, b: BinState) -> None:
        b.used_volume += item.volume_cm3 * qty
        b.used_weight += item.weight_g * qty
        if item.id not in b.items:
            b.items.add(item.id)
            self.by_item[item.id].append(b)
        if item.hazmat_class:
            b.hazmat.add(item.hazmat_class)

    def _order(self, item: PutItem) -> list[BinState]:
        key = (item.temperature_class, item.velocity_class, bool(item.hazmat_class))
        if key not in self._orders:
            cands = [b for b in self.bins.values() if b.loc.temperature_class == item.temperature_class
                     and b.loc.kind == "storage" and b.loc.active]
            # ordinary goods use a hazmat-approved store only when nothing else fits
            if item.velocity_class == "A":
                cands.sort(key=lambda b: (bool(b.loc.hazmat_class) != key[2], b.loc.role != "pick", b.loc.walk_seq, b.loc.code))
            elif item.velocity_class == "B":
                cands.sort(key=lambda b: (bool(b.loc.hazmat_class) != key[2], b.loc.role != "reserve", b.loc.walk_seq, b.loc.code))
            else:
                cands.sort(key=lambda b: (bool(b.loc.hazmat_class) != key[2], b.loc.role != "reserve", -b.loc.walk_seq, b.loc.code))
            self._orders[key] = cands
        return self._orders[key]

    def _why(self, item: PutItem, b: BinState, how: str) -> str:
        loc = b.loc
        free = f"{loc.capacity_volume_cm3 - b.used_volume:,} cm3 free after" if loc.capacity_volume_cm3 else "capacity not measured"
        vel = {"A": "fast mover near the pick face", "B": "medium mover", "C": "slow mover to far reserve"}
        temp = [] if loc.temperature_class == "ambient" else [f"{loc.temperature_class} matches"]
        parts = [how, free, *temp, f"velocity {item.velocity_class}: "
                 f"{vel.get(item.velocity_class, '')} ({loc.role or 'bin'}, walk {loc.walk_seq})"]
        if item.hazmat_class:
            parts.append(f"approved for hazmat {loc.hazmat_class}")
        return "; ".join(parts)

    def propose(self, item: PutItem, qty: int) -> Proposal:
        """Pick a bin by the rules and reserve the room; no bin -> location None with the reason."""
        same = sorted(self.by_item.get(item.id, []), key=lambda b: (b.loc.walk_seq, b.loc.code))
        for b in same:
            if self.refusal(item, qty, b) is None:
                self.reserve(item, qty, b)
                return Proposal(item.id, qty, b.loc.id, b.loc.code, self._why(item, b, f"{item.sku} already in this bin"))
        order = self._order(item)
        for how, only_empty in (("empty bin", True), ("bin with room", False)):
            for b in order:
                if (not only_empty or not b.items) and self.refusal(item, qty, b) is None:
                    self.reserve(item, qty, b)
                    return Proposal(item.id, qty, b.loc.id, b.loc.code, self._why(item, b, how))
        hz = f", hazmat {item.hazmat_class}" if item.hazmat_class else ""
        return Proposal(item.id, qty, None, "", f"no bin fits {qty} x {item.sku} ({item.temperature_class}{hz}, "
                                                f"{item.volume_cm3 * qty:,} cm3): choose a bin and scan it")

    def room_for(self, item: PutItem, b: BinState, limit: int) -> int:
        """How many units of ``item`` (at most ``limit``) bin ``b`` can still take."""
        if self.refusal(item, 1, b) is not None:
            return 0
        n = limit
        if b.loc.capacity_volume_cm3 and item.volume_cm3:
            n = min(n, (b.loc.capacity_volume_cm3 - b.used_volume) // item.volume_cm3)
        if b.loc.capacity_weight_g and item.weight_g:
            n = min(n, (b.loc.capacity_weight_g - b.used_weight) // item.weight_g)
        return max(n, 0)

    def plan(self, item: PutItem, qty: int, max_parts: int = 20) -> list[Proposal]:
        """One proposal when a bin takes it all; otherwise split over the bins in preference order
        (same item first), each part reserving its room; what is left has no bin."""
        whole = self.propose(item, qty)
        if whole.location_id is not None:
            return [whole]
        parts: list[Proposal] = []
        left = qty
        same = sorted(self.by_item.get(item.id, []), key=lambda b: (b.loc.walk_seq, b.loc.code))
        bins = [*same, *self._order(item)]
        # whole cases (a bin that takes all that is left takes the loose units too); only when no bin
        # has room for even one whole case are cases broken, and the reason says so
        for whole_cases in (True, False):
            for b in bins:
                if left == 0 or len(parts) == max_parts:
                    break
                take = self.room_for(item, b, left)
                if whole_cases and take < left and item.case > 1:
                    take = take // item.case * item.case
                if take:
                    self.reserve(item, take, b)
                    how = f"split {qty:,}{item.packs(qty)}: {take:,}{item.packs(take)} fit here"
                    if not whole_cases:
                        how += f" (no bin has room for a whole case of {item.case})"
                    if b in same:
                        how += f" ({item.sku} already here)"
                    parts.append(Proposal(item.id, take, b.loc.id, b.loc.code, self._why(item, b, how)))
                    left -= take
            if item.case <= 1 or parts:  # cases are broken only when not one whole case found a bin
                break
        if left:
            parts.append(Proposal(item.id, left, None, "", whole.reason.replace(f"{qty} x", f"{left} x", 1)))
        return parts


def load_bins(session: Session, warehouse_id: uuid.UUID, item_ids: Iterable[uuid.UUID] = (),
              bin_codes: Iterable[str] = ()) -> BinBook:
    """The storage bins that can matter for ``item_ids``, with their used volume/weight, items and
    hazmat classes (stock + open tasks). A pick face fixed to another item can never take these
    items, so only free bins, the items' own faces and any bin named in ``bin_codes`` (a scanned
    bin, to say why it is refused) are read: a warehouse of 50,000 pick faces stays cheap."""
    wanted = set(item_ids)
    codes = [c.strip().upper() for c in bin_codes if c.strip()]
    alts: list[ColumnElement[bool]] = [Location.fixed_item_id.is_(None)]
    if wanted:
        alts.append(Location.fixed_item_id.in_(wanted))
    if codes:
        alts.append(Location.code.in_(codes))
    scope = and_(Location.warehouse_id == warehouse_id, Location.kind == "storage", or_(*alts))
    cols = [getattr(Location, f) for f in BinInfo.__dataclass_fields__]
    states = {loc.id: BinState(loc) for loc in (BinInfo(*r) for r in session.execute(select(*cols).where(scope)))}
    # balances by the candidates' ids (the stock_balance key starts with location_id): a plain join
    # lets SQLite walk the whole balance table of every warehouse instead
    loc_ids = list(states)
    rows: list[Any] = []
    for n in range(0, len(loc_ids), 900):
        rows += session.execute(
            select(StockBalance.location_id, StockBalance.item_id, func.sum(StockBalance.qty))
            .where(StockBalance.location_id.in_(loc_ids[n:n + 900]), StockBalance.qty > 0)
            .group_by(StockBalance.location_id, StockBalance.item_id)
        ).all()
    tasks = session.execute(
        select(PutawayTask.proposed_location_id, PutawayTask.item_id, func.sum(PutawayTask.qty))
        .join(Location, Location.id == PutawayTask.proposed_location_id)
        .where(PutawayTask.warehouse_id == warehouse_id, PutawayTask.status == "open", scope)
        .group_by(PutawayTask.proposed_location_id, PutawayTask.item_id)
    ).all()
    all_ids = {r[1] for r in rows} | {r[1] for r in tasks} | wanted
    items = load_items(session, all_ids)
    for loc_id, item_id, qty in [*rows, *tasks]:
        b = states.get(loc_id) if loc_id else None
        it = items.get(item_id)
        if b is None or it is None:
            continue
        b.used_volume += it.volume_cm3 * int(qty)
        b.used_weight += it.weight_g * int(qty)
        b.items.add(item_id)
        if it.hazmat_class:
            b.hazmat.add(it.hazmat_class)
    return BinBook(list(states.values()), items)


@dataclass(frozen=True)
class PutItem:
    """What the putaway rules read of an item (plain rows: thousands load in milliseconds)."""

    id: uuid.UUID
    sku: str
    temperature_class: str
    hazmat_class: str
    velocity_class: str
    volume_cm3: int
    weight_g: int
    #: base units in a case and in a pallet (the item's pack units; 1 / 0 when it has none)
    case: int = 1
    pallet: int = 0

    def packs(self, qty: int) -> str:
        """' (7 cases of 24)', ' (1 pallet + 3 cases of 24)', ' (2 cases of 12 + 5)'; '' for loose goods."""
        if self.case <= 1 or qty < self.case:
            return ""
        pallets = qty // self.pallet if self.pallet > self.case else 0
        rest = qty - pallets * self.pallet
        cases, loose = divmod(rest, self.case)
        bits = [f"{pallets} pallet{'s' if pallets != 1 else ''}"] if pallets else []
        if cases:
            bits.append(f"{cases} case{'s' if cases != 1 else ''} of {self.case}")
        text = " + ".join(bits)
        return f" ({text}{f' + {loose}' if loose else ''})"


def load_items(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, PutItem]:
    ids = list(ids)
    out: dict[uuid.UUID, PutItem] = {}
    packs: dict[uuid.UUID, list[int]] = defaultdict(list)
    for n in range(0, len(ids), 900):  # SQLite's bound-parameter limit
        chunk = ids[n:n + 900]
        for iid, factor in session.execute(select(ItemUom.item_id, ItemUom.factor).where(
                ItemUom.item_id.in_(chunk), ItemUom.factor > 1, ItemUom.deleted_at.is_(None))):
            packs[iid].append(int(factor))
        for r in session.execute(select(Item.id, Item.sku, Item.temperature_class, Item.hazmat_class, Item.velocity_class,
                                        Item.length_mm, Item.width_mm, Item.height_mm, Item.weight_g)
                                 .where(Item.id.in_(chunk))):
            f = sorted(packs.get(r[0], []))
            out[r[0]] = PutItem(r[0], r[1], r[2], r[3], r[4], (r[5] * r[6] * r[7]) // 1000, r[8],
                                case=f[0] if f else 1, pallet=f[-1] if len(f) > 1 else 0)
    return out


def propose_bins(session: Session, warehouse_id: uuid.UUID, requests: Sequence[tuple[uuid.UUID, int]]) -> list[Proposal]:
    """A proposal per (item, qty) request, in order; each proposal reserves its room for the next."""
    book = load_bins(session, warehouse_id, {iid for iid, _ in requests})
    out = []
    for iid, qty in requests:
        item = book.items.get(iid)
        if item is None:
            raise NotFound("item", iid)
        out.append(book.propose(item, qty))
    return out


def plan_putaway(session: Session, warehouse_id: uuid.UUID,
                 requests: Sequence[tuple[uuid.UUID, int]]) -> list[list[Proposal]]:
    """Like ``propose_bins``, but a line no single bin can take is split over several bins."""
    book = load_bins(session, warehouse_id, {iid for iid, _ in requests})
    out = []
    for iid, qty in requests:
        item = book.items.get(iid)
        if item is None:
            raise NotFound("item", iid)
        out.append(book.plan(item, qty))
    return out


@dataclass(frozen=True)
class TaskRequest:
    item_id: uuid.UUID
    qty: int
    from_location_id: uuid.UUID
    lot_id: uuid.UUID | None = None
    serials: tuple[str, ...] = ()
    receipt_id: uuid.UUID | None = None
    receipt_line_id: uuid.UUID | None = None


def create_tasks(session: Session, warehouse_id: uuid.UUID, owner_branch_id: uuid.UUID,
                 requests: Sequence[TaskRequest]) -> list[PutawayTask]:
    """Open putaway tasks with a proposed bin each (called by posting and by hold release)."""
    plans = plan_putaway(session, warehouse_id, [(r.item_id, r.qty) for r in requests])
    tasks = []
    for r, parts in zip(requests, plans, strict=True):
        serials = list(r.serials)
        for p in parts:
            mine, serials = serials[:p.qty], serials[p.qty:]
            tasks.append(PutawayTask(
                warehouse_id=warehouse_id, receipt_id=r.receipt_id, receipt_line_id=r.receipt_line_id,
                item_id=r.item_id, lot_id=r.lot_id, serials="\n".join(mine), qty=p.qty,
                from_location_id=r.from_location_id, proposed_location_id=p.location_id,
                reason=p.reason[:300], status="open", owner_branch_id=owner_branch_id))
    session.add_all(tasks)
    session.flush()
    return tasks


@dataclass(frozen=True)
class TaskRow:
    task_id: uuid.UUID
    sku: str
    description: str
    lot: str
    qty: int
    from_code: str
    proposed_code: str
    reason: str
    status: str
    receipt_number: str


def list_tasks(session: Session, warehouse_id: uuid.UUID, *, status: str = "open",
               receipt_id: uuid.UUID | None = None) -> list[TaskRow]:
    frm, prop = Location.__table__.alias("frm"), Location.__table__.alias("prop")
    q = (select(PutawayTask.id, Item.sku, Item.description, Lot.lot_code, PutawayTask.qty, frm.c.code, prop.c.code,
                PutawayTask.reason, PutawayTask.status, Receipt.number)
         .join(Item, Item.id == PutawayTask.item_id)
         .outerjoin(Lot, Lot.id == PutawayTask.lot_id)
         .join(frm, frm.c.id == PutawayTask.from_location_id)
         .outerjoin(prop, prop.c.id == PutawayTask.proposed_location_id)
         .outerjoin(Receipt, Receipt.id == PutawayTask.receipt_id)
         .where(PutawayTask.warehouse_id == warehouse_id)
         .order_by(prop.c.walk_seq, prop.c.code, Item.sku))
    if status:
        q = q.where(PutawayTask.status == status)
    if receipt_id:
        q = q.where(PutawayTask.receipt_id == receipt_id)
    return [TaskRow(r[0], r[1], r[2], r[3] or "", int(r[4]), r[5], r[6] or "", r[7], r[8], r[9] or "")
            for r in session.execute(q)]


def confirm_putaway(session: Session, actor: Actor, confirmations: Sequence[tuple[uuid.UUID, str]],
                    *, at: dt.datetime | None = None) -> list[PutawayTask]:
    """Confirm tasks by the scanned bin code: stock moves dock/QA -> bin. All or nothing.

    The scanned bin may differ from the proposal, but it must pass the same rules (a full or
    incompatible bin is refused with the reason).
    """
    actor.require("putaway.confirm")
    at = at or utcnow()
    if not confirmations:
        raise ValidationError("putaway", "no task to confirm")
    tasks = {t.id: t for t in session.scalars(select(PutawayTask).where(PutawayTask.id.in_([c[0] for c in confirmations])))}
    books: dict[uuid.UUID, BinBook] = {}
    moves: list[MoveSpec] = []
    done: list[tuple[PutawayTask, BinState]] = []
    for task_id, code in confirmations:
        task = tasks.get(task_id)
        if task is None:
            raise NotFound("putaway task", task_id)
        if task.status != "open":
            raise Conflict(f"putaway task of {task.qty} was already confirmed")
        if task.warehouse_id not in books:
            # tasks being confirmed no longer reserve room in their proposed bin
            book = load_bins(session, task.warehouse_id, [t.item_id for t in tasks.values()],
                             [c for _tid, c in confirmations])
            for t in tasks.values():
                b = book.bins.get(t.proposed_location_id) if t.proposed_location_id else None
                it = book.items.get(t.item_id)
                if b is not None and it is not None and t.status == "open" and t.warehouse_id == task.warehouse_id:
                    b.used_volume -= it.volume_cm3 * t.qty
                    b.used_weight -= it.weight_g * t.qty
            books[task.warehouse_id] = book
        book = books[task.warehouse_id]
        b = book.by_code.get(code.strip().upper())
        if b is None:
            raise ValidationError("bin", f"{code.strip()!r} is not a storage bin of this warehouse")
        item = book.items[task.item_id]
        why = book.refusal(item, task.qty, b)
        if why:
            raise ValidationError("bin", why)
        book.reserve(item, task.qty, b)
        units: list[str | None] = [s for s in task.serials.split("\n") if s] or [None]
        for unit in units:
            moves.append(MoveSpec(item_id=task.item_id, qty=1 if unit else task.qty, from_location_id=task.from_location_id,
                                  to_location_id=b.loc.id, reason="putaway", lot_id=task.lot_id, serial_no=unit,
                                  doc_type="putaway", doc_id=task.id, doc_line_id=task.receipt_line_id))
        done.append((task, b))
    post_moves(session, actor, moves, owner_branch_id=done[0][0].owner_branch_id, at=at)
    receipts: set[uuid.UUID] = set()
    for task, b in done:
        task.confirmed_location_id = b.loc.id
        transition(task, "done", actor, at=at, bin=b.loc.code, proposed=task.proposed_location_id)
        serials = [s for s in task.serials.split("\n") if s]
        if serials:
            for sn in session.scalars(select(SerialNumber).where(SerialNumber.item_id == task.item_id,
                                                                 SerialNumber.serial.in_(serials))):
                if owns(session, sn.owner_branch_id):  # a transferred unit's row may be the sender's
                    sn.location_id = b.loc.id
        if task.receipt_id:
            receipts.add(task.receipt_id)
    session.flush()
    for rid in receipts:
        still_open = session.scalar(select(func.count()).where(PutawayTask.receipt_id == rid, PutawayTask.status == "open"))
        if not still_open:
            rec = session.get(Receipt, rid)
            if rec is not None and rec.stocked_at is None:
                rec.stocked_at = at
    session.flush()
    return [t for t, _ in done]


def dock_to_stock(session: Session, receipt_id: uuid.UUID) -> dict[str, float | None]:
    """Minutes from arrival to posting and from arrival to the last putaway (None while open)."""
    rec = session.get(Receipt, receipt_id)
    if rec is None:
        raise NotFound("receipt", receipt_id)
    post_min = (rec.posted_at - rec.arrived_at).total_seconds() / 60
    stock_min = (rec.stocked_at - rec.arrived_at).total_seconds() / 60 if rec.stocked_at else None
    return {"arrival_to_receipt_min": round(post_min, 1),
            "dock_to_stock_min": round(stock_min, 1) if stock_min is not None else None}
