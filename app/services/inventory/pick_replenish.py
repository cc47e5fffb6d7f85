"""Forward-pick replenishment: keep each pick face between its minimum and maximum.

A pick face is a storage bin with ``role == 'pick'``, a ``fixed_item_id`` and ``min_qty`` /
``max_qty``. When its stock (plus what open tasks will bring) is below the minimum, tasks
are created to top it up to the maximum from reserve bins of the same warehouse, oldest
expiry first (FEFO) for lot-tracked items. Confirming a task moves the stock ('replenish').
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session, aliased

from app.models.catalog import Item, Lot
from app.models.inventory import ReplenishTask
from app.models.org import Location
from app.models.stock import StockBalance
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.inventory.common import get_warehouse, qty, require_owner
from app.services.stock import MoveSpec, post_moves
from app.services.workflow import transition


def _require(actor: Actor) -> None:
    if not (actor.can("putaway.confirm") or actor.can("stock.adjust")):
        raise PermissionDenied(f"{actor.username} may not replenish pick faces")


@dataclass(frozen=True)
class Shortfall:
    """A pick face below minimum that reserve stock could not (fully) cover."""

    bin_code: str
    sku: str
    missing: int


@dataclass
class ReplenishResult:
    tasks: list[ReplenishTask]
    shortfalls: list[Shortfall]


def check_pick_faces(session: Session, actor: Actor, warehouse_id: uuid.UUID,
                     item_ids: Sequence[uuid.UUID] | None = None) -> ReplenishResult:
    """Create replenishment tasks for every pick face (of ``item_ids``, if given) below its minimum."""
    _require(actor)
    wh = get_warehouse(session, warehouse_id)
    require_owner(session, wh.branch_id, f"pick faces of {wh.code} are replenished")
    q = select(Location).where(Location.warehouse_id == wh.id, Location.kind == "storage", Location.role == "pick",
                               Location.fixed_item_id.is_not(None), Location.max_qty > 0, Location.active.is_(True))
    if item_ids is not None:
        q = q.where(Location.fixed_item_id.in_(list(item_ids)))
    faces = list(session.scalars(q.order_by(Location.walk_seq, Location.code)))
    if not faces:
        return ReplenishResult([], [])
    face_ids = [f.id for f in faces]
    have = {a: b for a, b in session.execute(select(StockBalance.location_id, func.sum(StockBalance.qty))
                                .where(StockBalance.location_id.in_(face_ids)).group_by(StockBalance.location_id))}
    coming = {a: b for a, b in session.execute(select(ReplenishTask.pick_location_id, func.sum(ReplenishTask.qty))
                                  .where(ReplenishTask.pick_location_id.in_(face_ids), ReplenishTask.status == "open")
                                  .group_by(ReplenishTask.pick_location_id))}
    reserved: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None], int] = {
        (a, b, c): int(d) for a, b, c, d in session.execute(
            select(ReplenishTask.from_location_id, ReplenishTask.item_id, ReplenishTask.lot_id,
                   func.sum(ReplenishTask.qty))
            .where(ReplenishTask.warehouse_id == wh.id, ReplenishTask.status == "open")
            .group_by(ReplenishTask.from_location_id, ReplenishTask.item_id, ReplenishTask.lot_id))
    }
    skus = {a: b for a, b in session.execute(select(Item.id, Item.sku).where(Item.id.in_({f.fixed_item_id for f in faces})))}
    tasks: list[ReplenishTask] = []
    short: list[Shortfall] = []
    for face in faces:
        item_id = face.fixed_item_id
        assert item_id is not None
        level = int(have.get(face.id) or 0) + int(coming.get(face.id) or 0)
        if level >= face.min_qty:
            continue
        need = face.max_qty - level
        for src, lot_id, avail in _reserve(session, wh.id, item_id, face.id):
            free = avail - reserved.get((src, item_id, lot_id), 0)
            if free <= 0:
                continue
            take = min(need, free)
            reserved[(src, item_id, lot_id)] = reserved.get((src, item_id, lot_id), 0) + take
            task = ReplenishTask(warehouse_id=wh.id, item_id=item_id, lot_id=lot_id, pick_location_id=face.id,
                                 from_location_id=src, qty=take, status="open", owner_branch_id=wh.branch_id)
            session.add(task)
            tasks.append(task)
            need -= take
            if need == 0:
                break
        if need:
            short.append(Shortfall(face.code, skus.get(item_id, "?"), need))
    session.flush()
    for t in tasks:
        audit.record(session, actor, "replenish.create", "replenish_task", t.id, t.owner_branch_id, qty=t.qty)
    return ReplenishResult(tasks, short)


def _reserve(session: Session, wh_id: uuid.UUID, item_id: uuid.UUID,
             face_id: uuid.UUID) -> list[tuple[uuid.UUID, uuid.UUID | None, int]]:
    """Reserve stock of the item: FEFO by lot expiry, then walk sequence."""
    rows = session.execute(
        select(StockBalance.location_id, StockBalance.lot_key, StockBalance.qty, Location.walk_seq)
        .join(Location, Location.id == StockBalance.location_id)
        .where(StockBalance.item_id == item_id, StockBalance.qty > 0, Location.warehouse_id == wh_id,
               Location.kind == "storage", Location.role != "pick", Location.id != face_id, Location.active.is_(True))
    ).all()
    lot_ids = [uuid.UUID(r[1]) for r in rows if r[1]]
    expiry = {a: b for a, b in session.execute(select(Lot.id, Lot.expiry_date).where(Lot.id.in_(lot_ids)))} if lot_ids else {}

    def key(r: tuple[uuid.UUID, str, int, int]) -> tuple[dt.date, int]:
        exp = expiry.get(uuid.UUID(r[1])) if r[1] else None
        return (exp or dt.date.max, r[3])

    return [(loc, uuid.UUID(lk) if lk else None, int(q)) for loc, lk, q, _ in sorted(rows, key=key)]


def confirm_replenish(session: Session, actor: Actor, task_ids: Sequence[uuid.UUID],
                      moved: Mapping[uuid.UUID, int] | None = None) -> list[ReplenishTask]:
    """Confirm tasks: the stock moves reserve -> pick face. ``moved`` may give a smaller quantity
    actually moved (the task still closes); more than the task is refused."""
    _require(actor)
    tasks = []
    for tid in task_ids:
        t = session.get(ReplenishTask, tid)
        if t is None:
            raise NotFound("replenishment task", tid)
        require_owner(session, t.owner_branch_id, "a replenishment task is confirmed")
        if t.status != "open":
            raise Conflict(f"replenishment task {tid} is {t.status}")
        tasks.append(t)
    moves = []
    for n, t in enumerate(tasks, 1):
        q = t.qty if moved is None or t.id not in moved else qty(moved[t.id], f"task {n} moved quantity", allow_zero=True)
        if q > t.qty:
            raise ValidationError(f"task {n} moved quantity", f"{q} is more than the {t.qty} asked")
        t.qty_moved = q
        if q:
            moves.append(MoveSpec(item_id=t.item_id, qty=q, from_location_id=t.from_location_id,
                                  to_location_id=t.pick_location_id, reason="replenish", lot_id=t.lot_id,
                                  doc_type="replenish", doc_id=t.id))
    if tasks:
        post_moves(session, actor, moves, owner_branch_id=tasks[0].owner_branch_id)
    now = utcnow()
    for t in tasks:
        transition(t, "done", actor, at=now, moved=t.qty_moved)
    session.flush()
    return tasks


def cancel_replenish(session: Session, actor: Actor, task_id: uuid.UUID) -> ReplenishTask:
    _require(actor)
    t = session.get(ReplenishTask, task_id)
    if t is None:
        raise NotFound("replenishment task", task_id)
    require_owner(session, t.owner_branch_id, "a replenishment task is cancelled")
    if t.status != "open":
        raise Conflict(f"replenishment task {task_id} is {t.status}")
    transition(t, "cancelled", actor)
    session.flush()
    return t


def open_tasks(session: Session, warehouse_id: uuid.UUID) -> list[ReplenishTask]:
    return list(session.scalars(select(ReplenishTask).where(
        ReplenishTask.warehouse_id == warehouse_id, ReplenishTask.status == "open").order_by(ReplenishTask.id)))


@dataclass(frozen=True)
class TaskView:
    id: uuid.UUID
    sku: str
    lot: str
    from_bin: str
    pick_bin: str
    qty: int


def open_task_views(session: Session, warehouse_id: uuid.UUID) -> list[TaskView]:
    """Open tasks with codes, in walk order of the pick faces (the order a replenisher works)."""
    src, dst = aliased(Location), aliased(Location)
    q = (select(ReplenishTask.id, Item.sku, Lot.lot_code, src.code, dst.code, ReplenishTask.qty)
         .join(Item, Item.id == ReplenishTask.item_id)
         .join(src, src.id == ReplenishTask.from_location_id)
         .join(dst, dst.id == ReplenishTask.pick_location_id)
         .outerjoin(Lot, Lot.id == ReplenishTask.lot_id)
         .where(ReplenishTask.warehouse_id == warehouse_id, ReplenishTask.status == "open")
         .order_by(dst.walk_seq, dst.code, ReplenishTask.id))
    return [TaskView(i, sku, lc or "", f, t, int(qt)) for i, sku, lc, f, t, qt in session.execute(q)]
