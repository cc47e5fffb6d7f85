"""The stock ledger: post moves, reverse them, and read balances derived from them.

Nothing here updates an on-hand figure. ``post_moves`` validates a batch and inserts
``StockMove`` rows (validate -> plan -> apply); the database trigger keeps ``stock_balance`` in step in the same
transaction. ``rebuild_balances`` recomputes the table from the ledger (and
``balance_mismatches`` proves the two agree).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.org import INTERNAL_KINDS, Location, Warehouse
from app.models.stock import MOVE_REASONS, StockBalance, StockMove
from app.models.types import DomainValueError, hex_of, to_qty, utcnow
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, ValidationError


@dataclass(frozen=True)
class MoveSpec:
    item_id: uuid.UUID
    qty: int
    from_location_id: uuid.UUID
    to_location_id: uuid.UUID
    reason: str
    lot_id: uuid.UUID | None = None
    serial_no: str | None = None
    doc_type: str = ""
    doc_id: uuid.UUID | None = None
    doc_line_id: uuid.UUID | None = None
    reverses_move_id: uuid.UUID | None = None


def virtual_location(session: Session, warehouse_id: uuid.UUID, kind: str) -> Location:
    """The warehouse's virtual location of ``kind`` (supplier, customer, adjust, transit, scrap)."""
    loc = session.scalars(
        select(Location).where(Location.warehouse_id == warehouse_id, Location.kind == kind).limit(1)
    ).first()
    if loc is None:
        raise NotFound(f"{kind} location of warehouse", warehouse_id)
    return loc


def post_moves(
    session: Session,
    actor: Actor | None,
    moves: Sequence[MoveSpec],
    *,
    owner_branch_id: uuid.UUID,
    at: dt.datetime | None = None,
    allow_negative: bool = False,
) -> list[StockMove]:
    """Validate every move, then insert them all; any bad move rejects the whole batch.

    Internal locations may not go below zero unless ``allow_negative`` (counts may
    reveal that the system was wrong; picks may not).
    """
    if not moves:
        return []
    _validate_moves(session, moves, allow_negative)
    rows = _plan_rows(moves, actor, owner_branch_id, at or utcnow())
    session.add_all(rows)
    session.flush()
    return rows


def _validate_moves(session: Session, moves: Sequence[MoveSpec], allow_negative: bool) -> None:
    """Read the items, locations and lots once; check each move, then the stock the batch takes."""
    item_ids = {m.item_id for m in moves}
    loc_ids = {m.from_location_id for m in moves} | {m.to_location_id for m in moves}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(item_ids)))}
    locs = {loc.id: loc for loc in session.scalars(select(Location).where(Location.id.in_(loc_ids)))}
    lot_ids = {m.lot_id for m in moves if m.lot_id}
    lots = {lot.id: lot for lot in session.scalars(select(Lot).where(Lot.id.in_(lot_ids)))} if lot_ids else {}
    outgoing: dict[tuple[uuid.UUID, uuid.UUID, str], int] = {}
    for n, m in enumerate(moves, 1):
        _check_move(f"move {n}", m, items, locs, lots)
        src = locs[m.from_location_id]
        if src.kind in INTERNAL_KINDS:
            key = (src.id, m.item_id, m.lot_id.hex if m.lot_id else "")
            outgoing[key] = outgoing.get(key, 0) + m.qty
    if allow_negative:
        return
    for (loc_id, item_id, lot_key), qty in outgoing.items():
        have = session.scalar(select(StockBalance.qty).where(
            StockBalance.location_id == loc_id, StockBalance.item_id == item_id, StockBalance.lot_key == lot_key)) or 0
        if have < qty:
            raise Conflict(f"not enough stock of {items[item_id].sku} in {locs[loc_id].code}: {have} on hand, {qty} to move")


def _check_move(where: str, m: MoveSpec, items: dict[uuid.UUID, Item], locs: dict[uuid.UUID, Location],
                lots: dict[uuid.UUID, Lot]) -> None:
    try:
        to_qty(m.qty, f"{where} quantity")
    except DomainValueError as e:
        raise ValidationError(f"{where} quantity", str(e).split(": ", 1)[-1]) from None
    item = items.get(m.item_id)
    if item is None:
        raise NotFound("item", m.item_id)
    if m.reason not in MOVE_REASONS:
        raise ValidationError(f"{where} reason", f"unknown reason {m.reason!r}")
    for side, lid in (("from", m.from_location_id), ("to", m.to_location_id)):
        if lid not in locs:
            raise NotFound(f"{side} location", lid)
    if m.from_location_id == m.to_location_id:
        raise ValidationError(f"{where} location", "from and to are the same location")
    if m.lot_id is not None:
        lot = lots.get(m.lot_id)
        if lot is None:
            raise NotFound("lot", m.lot_id)
        if not item.track_lot:
            raise ValidationError(f"{where} lot", f"item {item.sku} is not lot-tracked")
        if lot.item_id != item.id:
            raise ValidationError(f"{where} lot", f"lot {lot.lot_code} belongs to another item")
    elif item.track_lot:
        raise ValidationError(f"{where} lot", f"item {item.sku} is lot-tracked: a lot is required")
    if item.track_serial:
        if not m.serial_no:
            raise ValidationError(f"{where} serial", f"item {item.sku} is serial-tracked: a serial is required")
        if m.qty != 1:
            raise ValidationError(f"{where} quantity", "a serial-tracked move carries exactly 1 unit")
    elif m.serial_no:
        raise ValidationError(f"{where} serial", f"item {item.sku} is not serial-tracked")


def _plan_rows(moves: Sequence[MoveSpec], actor: Actor | None, owner_branch_id: uuid.UUID,
               at: dt.datetime) -> list[StockMove]:
    user_id = actor.user_id if actor else None
    return [
        StockMove(
            item_id=m.item_id, lot_id=m.lot_id, serial_no=m.serial_no, from_location_id=m.from_location_id,
            to_location_id=m.to_location_id, qty=int(m.qty), reason=m.reason, doc_type=m.doc_type,
            doc_id=m.doc_id, doc_line_id=m.doc_line_id, reverses_move_id=m.reverses_move_id, user_id=user_id,
            moved_at=at, owner_branch_id=owner_branch_id,
        )
        for m in moves
    ]


def reverse_move(
    session: Session, actor: Actor | None, move_id: uuid.UUID, *, owner_branch_id: uuid.UUID
) -> StockMove:
    """Undo a move with an opposite move; the original stays in the ledger."""
    orig = session.get(StockMove, move_id)
    if orig is None:
        raise NotFound("stock move", move_id)
    if session.scalar(select(func.count()).where(StockMove.reverses_move_id == move_id)):
        raise Conflict(f"stock move {move_id} is already reversed")
    spec = MoveSpec(
        item_id=orig.item_id, qty=orig.qty, from_location_id=orig.to_location_id,
        to_location_id=orig.from_location_id, reason="reversal", lot_id=orig.lot_id,
        serial_no=orig.serial_no, doc_type=orig.doc_type, doc_id=orig.doc_id, doc_line_id=orig.doc_line_id,
        reverses_move_id=orig.id,
    )
    (row,) = post_moves(session, actor, [spec], owner_branch_id=owner_branch_id)
    return row


@dataclass(frozen=True)
class WarehouseStock:
    warehouse_id: uuid.UUID
    warehouse_code: str
    on_hand: int


def stock_by_warehouse(session: Session, item_id: uuid.UUID) -> list[WarehouseStock]:
    """On hand of one item in every warehouse (internal locations only)."""
    q = (
        select(Warehouse.id, Warehouse.code, func.coalesce(func.sum(StockBalance.qty), 0))
        .select_from(Warehouse)
        .outerjoin(Location, (Location.warehouse_id == Warehouse.id) & Location.kind.in_(INTERNAL_KINDS))
        .outerjoin(StockBalance, (StockBalance.location_id == Location.id) & (StockBalance.item_id == item_id))
        .group_by(Warehouse.id, Warehouse.code)
        .order_by(Warehouse.code)
    )
    return [WarehouseStock(wid, code, int(q_)) for wid, code, q_ in session.execute(q)]


def on_hand(session: Session, item_id: uuid.UUID, warehouse_id: uuid.UUID | None = None) -> int:
    q = (
        select(func.coalesce(func.sum(StockBalance.qty), 0))
        .join(Location, Location.id == StockBalance.location_id)
        .where(StockBalance.item_id == item_id, Location.kind.in_(INTERNAL_KINDS))
    )
    if warehouse_id is not None:
        q = q.where(Location.warehouse_id == warehouse_id)
    return int(session.scalar(q) or 0)


REBUILD_BALANCES_SQL = """
INSERT INTO stock_balance (location_id, item_id, lot_key, qty)
SELECT loc, item_id, lot_key, SUM(q) FROM (
    SELECT to_location_id AS loc, item_id, COALESCE(lot_id, '') AS lot_key, qty AS q FROM stock_move
    UNION ALL
    SELECT from_location_id, item_id, COALESCE(lot_id, ''), -qty FROM stock_move
) GROUP BY loc, item_id, lot_key
"""


def rebuild_balances(session: Session) -> int:
    """Recompute stock_balance from the ledger; returns the number of balance rows."""
    session.execute(text("DELETE FROM stock_balance"))
    session.execute(text(REBUILD_BALANCES_SQL))
    return int(session.scalar(text("SELECT count(*) FROM stock_balance")) or 0)


def balance_mismatches(session: Session, limit: int = 20) -> list[tuple[str, str, str, int, int]]:
    """(location, item, lot, ledger qty, balance qty) where the balance disagrees with the ledger."""
    sql = f"""
    WITH ledger AS (
        SELECT loc, item_id, lot_key, SUM(q) AS qty FROM (
            SELECT to_location_id AS loc, item_id, COALESCE(lot_id, '') AS lot_key, qty AS q FROM stock_move
            UNION ALL
            SELECT from_location_id, item_id, COALESCE(lot_id, ''), -qty FROM stock_move
        ) GROUP BY loc, item_id, lot_key
    )
    SELECT l.loc, l.item_id, l.lot_key, l.qty, COALESCE(b.qty, 0) FROM ledger l
    LEFT JOIN stock_balance b ON b.location_id = l.loc AND b.item_id = l.item_id AND b.lot_key = l.lot_key
    WHERE l.qty <> COALESCE(b.qty, 0)
    UNION ALL
    SELECT b.location_id, b.item_id, b.lot_key, 0, b.qty FROM stock_balance b
    WHERE b.qty <> 0 AND NOT EXISTS (SELECT 1 FROM ledger l WHERE l.loc = b.location_id
        AND l.item_id = b.item_id AND l.lot_key = b.lot_key)
    LIMIT {int(limit)}
    """
    # ids as 32-hex text ('' for no lot): the file holds 16 bytes, which str() would print as b'...'
    return [(hex_of(a), hex_of(b), hex_of(c), int(d), int(e)) for a, b, c, d, e in session.execute(text(sql))]


def items_by_ids(session: Session, ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, Item]:
    return {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(list(ids))))}
