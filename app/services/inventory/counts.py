"""Cycle counting: an ABC schedule, blind counts, tolerance, recount, manager approval.

Why blind: a counter who sees the expected quantity tends to find it. The counter's view
(``count_sheet``) never carries ``expected_qty``; only ``count_review`` (count.approve) does.

Flow of one task (one bin):
``scheduled`` -> ``start_counts`` snapshots the bin (refused while a pick/replenish/putaway
task is open on it) -> ``enter_counts``: if every line is within tolerance the adjustment
posts at once (``posted``); otherwise ``recount`` of the lines over tolerance -> a second
``enter_counts``: within tolerance posts, else ``pending_approval`` -> ``approve_count`` by a
manager who counted neither round posts the adjustment as ledger moves to/from the
warehouse's ``adjust`` location. Adjustments bring the bin to the counted figure.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.inventory import CountLine, CountTask, ReplenishTask
from app.models.org import Location
from app.models.receiving import PutawayTask
from app.models.stock import StockBalance
from app.models.types import utcnow
from app.models.workflow import open_states
from app.services import audit
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.inventory.common import get_warehouse, qty, require_owner
from app.services.numbering import next_number
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.workflow import transition

#: days between counts of a bin by its best item's velocity class (A monthly, B quarterly, C twice a year)
DEFAULT_INTERVAL_DAYS: dict[str, int] = {"A": 30, "B": 90, "C": 180}
#: allowed |variance| in percent of the expected quantity, by class
DEFAULT_TOLERANCE_PCT: dict[str, Decimal] = {"A": Decimal("1"), "B": Decimal("2"), "C": Decimal("5")}
OPEN_STATES = open_states("count_task")
OPEN_STATES_PUTAWAY = open_states("putaway_task")

#: Checks that say a bin is being worked (picked, replenished, put away) and must not be counted.
#: Each takes (session, location ids) and returns {location id: reason}. The picking issue adds one.
BusyCheck = Callable[[Session, set[uuid.UUID]], dict[uuid.UUID, str]]
BUSY_BIN_CHECKS: list[BusyCheck] = []


def _replenish_busy(session: Session, loc_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    out: dict[uuid.UUID, str] = {}
    rows = session.execute(
        select(ReplenishTask.pick_location_id, ReplenishTask.from_location_id).where(
            ReplenishTask.status == "open",
            (ReplenishTask.pick_location_id.in_(loc_ids)) | (ReplenishTask.from_location_id.in_(loc_ids)),
        )
    )
    for pick, src in rows:
        for lid in (pick, src):
            if lid in loc_ids:
                out[lid] = "an open replenishment task"
    return out


def _putaway_busy(session: Session, loc_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    """Open putaway tasks into (proposed) or out of the bins."""
    out: dict[uuid.UUID, str] = {}
    q = select(PutawayTask.from_location_id, PutawayTask.proposed_location_id).where(
        PutawayTask.status.in_(OPEN_STATES_PUTAWAY),
        or_(PutawayTask.from_location_id.in_(loc_ids), PutawayTask.proposed_location_id.in_(loc_ids)))
    for row in session.execute(q):
        for lid in row:
            if lid in loc_ids:
                out[lid] = "an open putaway task"
    return out


BUSY_BIN_CHECKS.extend([_replenish_busy, _putaway_busy])


def busy_bins(session: Session, loc_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, str]:
    ids = set(loc_ids)
    out: dict[uuid.UUID, str] = {}
    for check in BUSY_BIN_CHECKS:
        out.update(check(session, ids))
    return out


def _require_any(actor: Actor, *actions: str) -> None:
    if not any(actor.can(a) for a in actions):
        raise PermissionDenied(f"{actor.username} may not {actions[0].replace('.', ' ')}")


def _task(session: Session, task_id: uuid.UUID) -> CountTask:
    return get_live(session, CountTask, task_id, "count task")


def create_count_tasks(
    session: Session, actor: Actor, location_ids: Sequence[uuid.UUID], *, on: dt.date | None = None,
    abc_class: str = "C", tolerance_pct: Decimal | None = None,
) -> list[CountTask]:
    """Ad hoc count tasks for the given bins (one per bin; a bin with an open task is refused)."""
    _require_any(actor, "count.enter", "count.approve")
    locs = {loc.id: loc for loc in session.scalars(select(Location).where(Location.id.in_(list(location_ids))))}
    for lid in location_ids:
        loc = locs.get(lid)
        if loc is None:
            raise NotFound("bin", lid)
        if loc.kind != "storage":
            raise ValidationError("bin", f"{loc.code} is a {loc.kind} location, not a storage bin")
        require_owner(session, get_warehouse(session, loc.warehouse_id).branch_id, f"bin {loc.code} is counted")
    open_ = set(session.scalars(select(CountTask.location_id).where(
        CountTask.location_id.in_(list(locs)), CountTask.status.in_(OPEN_STATES))))
    if open_:
        codes = ", ".join(sorted(locs[i].code for i in open_))
        raise Conflict(f"bin {codes} already has an open count task")
    tol = tolerance_pct if tolerance_pct is not None else DEFAULT_TOLERANCE_PCT.get(abc_class, Decimal("2"))
    if tol < 0:
        raise ValidationError("tolerance", "must not be negative")
    out: list[CountTask] = []
    for lid in dict.fromkeys(location_ids):
        loc = locs[lid]
        wh = get_warehouse(session, loc.warehouse_id)
        task = CountTask(
            number=next_number(session, wh.branch_id, "CC"), warehouse_id=wh.id, location_id=loc.id,
            status="scheduled", abc_class=abc_class, scheduled_for=on or dt.date.today(), tolerance_pct=tol,
            owner_branch_id=wh.branch_id,
        )
        session.add(task)
        session.flush()
        audit.record(session, actor, "count.schedule", "count_task", task.id, wh.branch_id,
                     number=task.number, bin=loc.code, abc=abc_class)
        out.append(task)
    return out


def schedule_counts(
    session: Session, actor: Actor, warehouse_id: uuid.UUID, *, on: dt.date | None = None,
    intervals: dict[str, int] | None = None, limit: int | None = None,
) -> list[CountTask]:
    """Create tasks for every bin due by ABC class: a bin takes the best class of the items in it
    (or of its fixed pick item), and is due when its last posted count is older than the interval."""
    _require_any(actor, "count.enter", "count.approve")
    wh = get_warehouse(session, warehouse_id)
    require_owner(session, wh.branch_id, f"bins of {wh.code} are counted")
    on = on or dt.date.today()
    days = intervals or DEFAULT_INTERVAL_DAYS
    bins = session.execute(
        select(Location.id, Location.fixed_item_id).where(
            Location.warehouse_id == warehouse_id, Location.kind == "storage", Location.active.is_(True))
    ).all()
    bin_ids = {b for b, _ in bins}
    klass: dict[uuid.UUID, str] = {}
    stocked = session.execute(
        select(StockBalance.location_id, func.min(Item.velocity_class))
        .join(Item, Item.id == StockBalance.item_id)
        .where(StockBalance.location_id.in_(bin_ids), StockBalance.qty != 0)
        .group_by(StockBalance.location_id)
    )
    for lid, cls in stocked:
        klass[lid] = cls
    fixed = {f for _, f in bins if f}
    if fixed:
        vel = {a: b for a, b in session.execute(select(Item.id, Item.velocity_class).where(Item.id.in_(fixed)))}
        for lid, f in bins:
            if f and f in vel:
                klass[lid] = min(klass.get(lid, "C"), vel[f])
    last = {a: b for a, b in session.execute(
        select(CountTask.location_id, func.max(CountTask.scheduled_for))
        .where(CountTask.location_id.in_(list(klass)), CountTask.status == "posted")
        .group_by(CountTask.location_id)
    )}
    open_ = set(session.scalars(select(CountTask.location_id).where(
        CountTask.location_id.in_(list(klass)), CountTask.status.in_(OPEN_STATES))))
    due: list[tuple[str, uuid.UUID]] = []
    for lid, cls in klass.items():
        if lid in open_:
            continue
        prev = last.get(lid)
        if prev is None or (on - prev).days >= days.get(cls, 180):
            due.append((cls, lid))
    due.sort(key=lambda t: (t[0], str(t[1])))
    if limit is not None:
        due = due[: max(0, limit)]
    out: list[CountTask] = []
    for cls, lid in due:
        out.extend(create_count_tasks(session, actor, [lid], on=on, abc_class=cls))
    return out


def start_counts(session: Session, actor: Actor, task_ids: Sequence[uuid.UUID]) -> list[CountTask]:
    """Snapshot each bin's balances (hidden from the counter) and open the tasks for entry."""
    actor.require("count.enter")
    tasks = [_task(session, t) for t in task_ids]
    for t in tasks:
        require_owner(session, t.owner_branch_id, f"count {t.number} is counted")
        if t.status != "scheduled":
            raise Conflict(f"count {t.number} is {t.status}, not scheduled")
    busy = busy_bins(session, {t.location_id for t in tasks})
    if busy:
        t = next(t for t in tasks if t.location_id in busy)
        code = session.get(Location, t.location_id).code  # type: ignore[union-attr]
        raise Conflict(f"bin {code} is being worked ({busy[t.location_id]}): count {t.number} cannot start")
    now = utcnow()
    for t in tasks:
        rows = session.execute(
            select(StockBalance.item_id, StockBalance.lot_key, StockBalance.qty)
            .where(StockBalance.location_id == t.location_id, StockBalance.qty != 0)
        ).all()
        for item_id, lot_key, q in rows:
            session.add(CountLine(
                task_id=t.id, item_id=item_id, lot_key=lot_key, lot_id=uuid.UUID(lot_key) if lot_key else None,
                expected_qty=int(q), owner_branch_id=t.owner_branch_id,
            ))
        t.round = 1
        transition(t, "counting", actor, at=now)
    session.flush()
    return tasks


@dataclass(frozen=True)
class CountEntry:
    item_id: uuid.UUID
    qty: int
    lot_id: uuid.UUID | None = None


@dataclass(frozen=True)
class SheetLine:
    """What a counter sees: no expected quantity."""

    line_id: uuid.UUID
    sku: str
    description: str
    lot_code: str
    counted_qty: int | None
    to_count: bool
    lot_id: uuid.UUID | None = None


@dataclass(frozen=True)
class CountSheet:
    task_id: uuid.UUID
    number: str
    bin_code: str
    status: str
    round: int
    lines: list[SheetLine]


def _lot_codes(session: Session, lot_ids: set[uuid.UUID]) -> dict[uuid.UUID, str]:
    if not lot_ids:
        return {}
    return {a: b for a, b in session.execute(select(Lot.id, Lot.lot_code).where(Lot.id.in_(lot_ids)))}


def _lines(session: Session, task_id: uuid.UUID) -> list[CountLine]:
    return list(session.scalars(select(CountLine).where(CountLine.task_id == task_id).order_by(CountLine.created_at)))


def _within(expected: int, counted: int, tol_pct: Decimal) -> bool:
    return Decimal(abs(counted - expected)) <= Decimal(expected) * tol_pct / 100


def count_sheet(session: Session, actor: Actor, task_id: uuid.UUID) -> CountSheet:
    """The blind sheet: items (and lots) to count, never the expected quantity."""
    _require_any(actor, "count.enter", "count.approve")
    t = _task(session, task_id)
    lines = _lines(session, t.id)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines})))}
    lots = _lot_codes(session, {ln.lot_id for ln in lines if ln.lot_id})
    out = []
    for ln in lines:
        flagged = t.status == "recount" and not _within(ln.expected_qty, ln.counted_qty or 0, t.tolerance_pct)
        shown = ln.recount_qty if t.status == "recount" else ln.counted_qty
        out.append(SheetLine(ln.id, items[ln.item_id].sku, items[ln.item_id].description,
                             lots.get(ln.lot_id, "") if ln.lot_id else "", shown,
                             t.status == "counting" or flagged, ln.lot_id))
    loc = session.get(Location, t.location_id)
    return CountSheet(t.id, t.number, loc.code if loc else "", t.status, t.round, out)


def enter_counts(session: Session, actor: Actor, task_id: uuid.UUID, entries: Sequence[CountEntry]) -> CountTask:
    """Record a (re)count of the whole bin. Lines not entered count as zero; items found that were not
    expected get a line. Posts at once when every line is within tolerance."""
    actor.require("count.enter")
    t = _task(session, task_id)
    require_owner(session, t.owner_branch_id, f"count {t.number} is counted")
    if t.status not in ("counting", "recount"):
        raise Conflict(f"count {t.number} is {t.status}: counts can be entered only while counting or recounting")
    counted: dict[tuple[uuid.UUID, str], int] = {}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({e.item_id for e in entries})))}
    for n, e in enumerate(entries, 1):
        item = items.get(e.item_id)
        if item is None:
            raise NotFound("item", e.item_id)
        q = qty(e.qty, f"count line {n} ({item.sku}) quantity", allow_zero=True)
        if item.track_lot and e.lot_id is None:
            raise ValidationError(f"count line {n} lot", f"item {item.sku} is lot-tracked: count it per lot")
        if not item.track_lot and e.lot_id is not None:
            raise ValidationError(f"count line {n} lot", f"item {item.sku} is not lot-tracked")
        if e.lot_id is not None:
            lot = session.get(Lot, e.lot_id)
            if lot is None or lot.item_id != item.id:
                raise NotFound(f"lot of {item.sku}", e.lot_id)
        key = (e.item_id, e.lot_id.hex if e.lot_id else "")
        counted[key] = counted.get(key, 0) + q
    lines = {(ln.item_id, ln.lot_key): ln for ln in _lines(session, t.id)}
    recount = t.status == "recount"
    flagged = {k for k, ln in lines.items() if not _within(ln.expected_qty, ln.counted_qty or 0, t.tolerance_pct)}
    for key in counted:
        if key not in lines:
            ln = CountLine(task_id=t.id, item_id=key[0], lot_key=key[1], lot_id=uuid.UUID(key[1]) if key[1] else None,
                           expected_qty=0, owner_branch_id=t.owner_branch_id)
            session.add(ln)
            lines[key] = ln
            flagged.add(key)
    for key, ln in lines.items():
        if recount:
            if key in flagged:
                ln.recount_qty = counted.get(key, 0)
                if ln.counted_qty is None:
                    ln.counted_qty = 0
        else:
            ln.counted_qty = counted.get(key, 0)
    if recount:
        t.recounted_by_id = actor.user_id
    else:
        t.counted_by_id = actor.user_id
    over = [ln for ln in lines.values() if not _within(ln.expected_qty, _final(ln), t.tolerance_pct)]
    audit.record(session, actor, "count.recount" if recount else "count.enter", "count_task", t.id,
                 t.owner_branch_id, number=t.number, lines=len(lines), over_tolerance=len(over))
    if not over:
        _post(session, actor, t, list(lines.values()))
    else:
        t.round = 2
        transition(t, "pending_approval" if recount else "recount", actor, over_tolerance=len(over))
    session.flush()
    return t


def _final(ln: CountLine) -> int:
    if ln.recount_qty is not None:
        return ln.recount_qty
    return ln.counted_qty or 0


@dataclass(frozen=True)
class ReviewLine:
    sku: str
    lot_code: str
    expected_qty: int
    counted_qty: int | None
    recount_qty: int | None
    variance: int
    within_tolerance: bool


def count_review(session: Session, actor: Actor, task_id: uuid.UUID) -> list[ReviewLine]:
    """The manager's view: expected, counted, recounted and variance per line."""
    actor.require("count.approve")
    t = _task(session, task_id)
    lines = _lines(session, t.id)
    items = {a: b for a, b in session.execute(select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in lines})))}
    lots = _lot_codes(session, {ln.lot_id for ln in lines if ln.lot_id})
    return [ReviewLine(items[ln.item_id], lots.get(ln.lot_id, "") if ln.lot_id else "", ln.expected_qty,
                       ln.counted_qty, ln.recount_qty, _final(ln) - ln.expected_qty,
                       _within(ln.expected_qty, _final(ln), t.tolerance_pct)) for ln in lines]


def approve_count(session: Session, actor: Actor, task_id: uuid.UUID) -> CountTask:
    """A manager who counted neither round approves; the adjustment posts as ledger moves."""
    actor.require("count.approve")
    t = _task(session, task_id)
    require_owner(session, t.owner_branch_id, f"count {t.number} is counted")
    if t.status != "pending_approval":
        raise Conflict(f"count {t.number} is {t.status}, not waiting for approval")
    if actor.user_id in (t.counted_by_id, t.recounted_by_id):
        raise PermissionDenied(f"{actor.username} counted {t.number}: another manager must approve it")
    t.approved_by_id = actor.user_id
    _post(session, actor, t, _lines(session, t.id))
    session.flush()
    return t


def cancel_count(session: Session, actor: Actor, task_id: uuid.UUID) -> CountTask:
    _require_any(actor, "count.approve")
    t = _task(session, task_id)
    require_owner(session, t.owner_branch_id, f"count {t.number} is counted")
    if t.status not in OPEN_STATES:
        raise Conflict(f"count {t.number} is {t.status} and cannot be cancelled")
    transition(t, "cancelled", actor)
    session.flush()
    return t


def _post(session: Session, actor: Actor, t: CountTask, lines: list[CountLine]) -> None:
    """Bring the bin to the counted figures with moves to/from the adjust location."""
    adjust = virtual_location(session, t.warehouse_id, "adjust")
    session.flush()
    moves: list[MoveSpec] = []
    for ln in lines:
        have = session.scalar(select(StockBalance.qty).where(
            StockBalance.location_id == t.location_id, StockBalance.item_id == ln.item_id,
            StockBalance.lot_key == ln.lot_key)) or 0
        final = _final(ln)
        delta = final - int(have)
        ln.variance = final - ln.expected_qty
        ln.adjusted_qty = delta
        if delta == 0:
            continue
        src, dst = (adjust.id, t.location_id) if delta > 0 else (t.location_id, adjust.id)
        moves.append(MoveSpec(item_id=ln.item_id, qty=abs(delta), from_location_id=src, to_location_id=dst,
                              reason="adjust", lot_id=ln.lot_id, doc_type="count", doc_id=t.id, doc_line_id=ln.id))
    serial = session.scalars(select(Item.sku).where(Item.id.in_({m.item_id for m in moves}), Item.track_serial.is_(True))).first()
    if serial:
        raise ValidationError("count", f"item {serial} is serial-tracked: adjust it by serial, not by a cycle count")
    post_moves(session, actor, moves, owner_branch_id=t.owner_branch_id, allow_negative=True)
    transition(t, "posted", actor,
               adjustments={str(m.item_id): (m.qty if m.to_location_id == t.location_id else -m.qty) for m in moves})


@dataclass(frozen=True)
class TaskSummary:
    id: uuid.UUID
    number: str
    warehouse_id: uuid.UUID
    bin_code: str
    status: str
    abc_class: str
    round: int
    scheduled_for: dt.date


def list_count_tasks(session: Session, *, warehouse_id: uuid.UUID | None = None,
                     statuses: Sequence[str] = OPEN_STATES, limit: int = 500) -> list[TaskSummary]:
    """Count tasks (open ones by default), oldest schedule first."""
    q = (select(CountTask, Location.code).join(Location, Location.id == CountTask.location_id)
         .where(CountTask.status.in_(list(statuses)), CountTask.deleted_at.is_(None))
         .order_by(CountTask.scheduled_for, CountTask.number).limit(limit))
    if warehouse_id is not None:
        q = q.where(CountTask.warehouse_id == warehouse_id)
    return [TaskSummary(t.id, t.number, t.warehouse_id, code, t.status, t.abc_class, t.round, t.scheduled_for)
            for t, code in session.execute(q)]
