"""Inter-branch transfers: create, ship (stock into transit), receive (out of transit), cancel.

Why transit: between ship and receipt the stock belongs to neither warehouse's on hand,
yet it must not vanish. Shipping moves it from the sending bins to the SENDING warehouse's
``transit`` location (one balance, counted once, visible as "in transit"); receiving moves
it from there into the destination's dock (or a named bin).

Across branches each step runs at the site of the branch that performs it (see
``transfer_settle``): the sending branch owns the transfer order and creates, ships and cancels
it; the receiving branch's site creates its own expected receipt when it sees the shipment and
records the receipt with rows it owns (ER, ledger moves out of transit); the sender's settler then
marks the transfer received. A site that owns both ends does all of it at once.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.inventory import TransferLine, TransferOrder
from app.models.org import Location, Warehouse
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.stock import StockBalance, StockMove
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.events import StockArrived, emit
from app.services.inventory.common import branch_code, get_warehouse, qty, require_owner
from app.services.inventory.transfer_settle import (
    er_line_id_for,
    expect_transfer,
    follow_serials,
    inbound_receipt,
    left_transit,
    settle_received,
)
from app.services.numbering import next_number
from app.services.ownership import owns
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.workflow import transition


@dataclass(frozen=True)
class TransferLineSpec:
    item_id: uuid.UUID
    qty: int
    lot_id: uuid.UUID | None = None
    serial_no: str | None = None
    from_location_id: uuid.UUID | None = None


def _get(session: Session, transfer_id: uuid.UUID) -> TransferOrder:
    return get_live(session, TransferOrder, transfer_id, "transfer")


def transfer_by_number(session: Session, number: str) -> TransferOrder:
    t = session.scalars(select(TransferOrder).where(TransferOrder.number == number.strip().upper())).first()
    if t is None:
        raise NotFound("transfer", number)
    return t


def lines_of(session: Session, transfer_id: uuid.UUID) -> list[TransferLine]:
    return list(session.scalars(select(TransferLine).where(TransferLine.transfer_id == transfer_id)
                                .order_by(TransferLine.line_no)))


def create_transfer(
    session: Session, actor: Actor, from_warehouse_id: uuid.UUID, to_warehouse_id: uuid.UUID,
    lines: Sequence[TransferLineSpec], *, requisition_ids: Sequence[uuid.UUID] = (),
    requested_date: dt.date | None = None, notes: str = "",
) -> TransferOrder:
    """A draft transfer. ``requisition_ids`` are the requisitions it fulfils, kept on the transfer
    (Buying's ``conversion.transfers_from_requisitions`` marks them converted)."""
    actor.require("transfer.create")
    src, dst = get_warehouse(session, from_warehouse_id), get_warehouse(session, to_warehouse_id)
    if src.id == dst.id:
        raise ValidationError("to warehouse", "must differ from the sending warehouse")
    if not lines:
        raise ValidationError("lines", "a transfer needs at least one line")
    require_owner(session, src.branch_id, f"a transfer from {src.code} is created (from a transfer requisition or directly)")
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines})))}
    checked: list[tuple[TransferLineSpec, int]] = []
    for n, ln in enumerate(lines, 1):
        item = items.get(ln.item_id)
        if item is None:
            raise NotFound("item", ln.item_id)
        q = qty(ln.qty, f"line {n} ({item.sku}) quantity")
        if item.track_serial and (not ln.serial_no or q != 1):
            raise ValidationError(f"line {n} serial", f"item {item.sku} is serial-tracked: one line per serial, quantity 1")
        if ln.lot_id is not None:
            lot = session.get(Lot, ln.lot_id)
            if lot is None or lot.item_id != item.id:
                raise NotFound(f"lot of {item.sku}", ln.lot_id)
        if ln.from_location_id is not None:
            loc = session.get(Location, ln.from_location_id)
            if loc is None or loc.warehouse_id != src.id or loc.kind != "storage":
                raise ValidationError(f"line {n} from bin", f"must be a storage bin of {src.code}")
        checked.append((ln, q))
    t = TransferOrder(number=next_number(session, src.branch_id, "TR"), from_warehouse_id=src.id,
                      to_warehouse_id=dst.id, status="draft", requested_date=requested_date, notes=notes,
                      requisition_ids=",".join(str(r) for r in requisition_ids), owner_branch_id=src.branch_id)
    session.add(t)
    session.flush()
    for n, (ln, q) in enumerate(checked, 1):
        session.add(TransferLine(transfer_id=t.id, line_no=n, item_id=ln.item_id, lot_id=ln.lot_id,
                                 serial_no=ln.serial_no, qty=q, from_location_id=ln.from_location_id,
                                 owner_branch_id=src.branch_id))
    session.flush()
    audit.record(session, actor, "transfer.create", "transfer_order", t.id, t.owner_branch_id,
                 number=t.number, lines=len(checked), to=dst.code)
    return t


def _sources(session: Session, wh_id: uuid.UUID, item: Item, lot_id: uuid.UUID | None,
             bin_id: uuid.UUID | None) -> list[tuple[uuid.UUID, uuid.UUID | None, int]]:
    """(bin, lot, qty) to ship from: FEFO by lot expiry, reserve bins before pick faces."""
    q = (select(StockBalance.location_id, StockBalance.lot_key, StockBalance.qty, Location.role, Location.walk_seq)
         .join(Location, Location.id == StockBalance.location_id)
         .where(StockBalance.item_id == item.id, StockBalance.qty > 0, Location.warehouse_id == wh_id,
                Location.kind == "storage"))
    if bin_id is not None:
        q = q.where(Location.id == bin_id)
    if lot_id is not None:
        q = q.where(StockBalance.lot_key == lot_id.hex)
    rows = session.execute(q).all()
    lots = {lk for _, lk, _, _, _ in rows if lk}
    expiry = {a: b for a, b in session.execute(select(Lot.id, Lot.expiry_date).where(
        Lot.id.in_([uuid.UUID(x) for x in lots])))} if lots else {}
    far = dt.date.max

    def key(r: tuple[uuid.UUID, str, int, str, int]) -> tuple[dt.date, int, int]:
        lid = uuid.UUID(r[1]) if r[1] else None
        return (expiry.get(lid) or far if lid else far, 0 if r[3] == "reserve" else 1, r[4])

    return [(loc, uuid.UUID(lk) if lk else None, int(q_)) for loc, lk, q_, _, _ in sorted(rows, key=key)]


def ship_transfer(session: Session, actor: Actor, transfer_id: uuid.UUID) -> TransferOrder:
    """Move every line from its bins into the sending warehouse's transit location."""
    actor.require("transfer.create")
    t = _get(session, transfer_id)
    require_owner(session, t.owner_branch_id, f"transfer {t.number} is shipped")
    if t.status != "draft":
        raise Conflict(f"transfer {t.number} is {t.status}: only a draft can be shipped")
    transit = virtual_location(session, t.from_warehouse_id, "transit")
    lines = lines_of(session, t.id)
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines})))}
    moves: list[MoveSpec] = []
    taken: dict[tuple[uuid.UUID, uuid.UUID, uuid.UUID | None], int] = {}  # (bin, item, lot): lines share bins
    for ln in lines:
        item = items[ln.item_id]
        need = ln.qty
        for loc, lot, have in _sources(session, t.from_warehouse_id, item, ln.lot_id, ln.from_location_id):
            free = have - taken.get((loc, item.id, lot), 0)
            if free <= 0 or need == 0:
                continue
            take = 1 if item.track_serial else min(need, free)
            taken[(loc, item.id, lot)] = taken.get((loc, item.id, lot), 0) + take
            moves.append(MoveSpec(item_id=item.id, qty=take, from_location_id=loc, to_location_id=transit.id,
                                  reason="transfer_out", lot_id=lot, serial_no=ln.serial_no,
                                  doc_type="transfer", doc_id=t.id, doc_line_id=ln.id))
            need -= take
        if need:
            raise Conflict(f"line {ln.line_no}: not enough stock of {item.sku} to ship: {ln.qty - need} available, {ln.qty} to ship")
        ln.qty_shipped = ln.qty
    posted = post_moves(session, actor, moves, owner_branch_id=t.owner_branch_id)
    follow_serials(session, [m for m in posted if m.serial_no])
    transition(t, "shipped", actor, units=sum(m.qty for m in moves))
    session.flush()
    dst = session.get(Warehouse, t.to_warehouse_id)
    assert dst is not None
    er = expect_transfer(session, t) if owns(session, dst.branch_id) else None
    if er is not None:
        t.expected_receipt_id = er.id
    session.flush()
    return t


def ship_note(session: Session, t: TransferOrder) -> str:
    """What the user is told after shipping: where the expected receipt comes from."""
    er = inbound_receipt(session, t)
    if er is not None:
        return f"{t.number} shipped, in transit; expected at the dock as {er.number}"
    dst = session.get(Warehouse, t.to_warehouse_id)
    code = branch_code(session, dst.branch_id if dst else None)
    return f"{t.number} shipped, in transit; {code} sees it at its dock when {code} next syncs"


def receive_note(session: Session, t: TransferOrder) -> str:
    """What the user is told after receiving: whether the sender's transfer is updated yet."""
    if t.status == "received":
        return f"{t.number} received"
    return (f"{t.number} received; {branch_code(session, t.owner_branch_id)}'s transfer shows it received when "
            f"{branch_code(session, t.owner_branch_id)} next syncs")


def receive_transfer(
    session: Session, actor: Actor, transfer_id: uuid.UUID, received: Mapping[uuid.UUID, int] | None = None,
    *, to_location_id: uuid.UUID | None = None,
) -> TransferOrder:
    """Take a shipped transfer out of transit into the destination (its dock unless a bin is named).

    ``received`` maps line id -> quantity received (default: everything shipped). Less than
    shipped is a shortage written off from transit; more is refused; a second receipt is refused
    (also one made on another workstation of the receiving branch, once synced: its expected
    receipt says received and the transit moves are there).

    Only the destination's rows are written here (its expected receipt, ledger moves it owns);
    the sender's transfer is settled at once when this site owns it, else by the sender's settler.
    """
    return receive(session, actor, transfer_id, received, to_location_id=to_location_id).transfer


@dataclass(frozen=True)
class TransferReceipt:
    """What receiving a transfer did: the moves out of transit, and the orders that released."""

    transfer: TransferOrder
    moves: list[StockMove]
    released: list[str]


@dataclass
class _Arrival:
    """A transfer receipt checked and planned: the moves and the expected lines' quantities."""

    t: TransferOrder
    er: ExpectedReceipt
    target: Location
    lines: list[TransferLine]
    moves: list[MoveSpec]
    got_by_line: dict[uuid.UUID, int]


def receive(
    session: Session, actor: Actor, transfer_id: uuid.UUID, received: Mapping[uuid.UUID, int] | None = None,
    *, to_location_id: uuid.UUID | None = None,
) -> TransferReceipt:
    """``receive_transfer`` with its outcome: validate -> plan -> apply, then ``StockArrived``."""
    plan = _plan_arrival(session, actor, transfer_id, received, to_location_id)
    t, er, target = plan.t, plan.er, plan.target
    dst_branch = session.get(Warehouse, t.to_warehouse_id).branch_id  # type: ignore[union-attr]
    posted = post_moves(session, actor, plan.moves, owner_branch_id=dst_branch)
    now = utcnow()
    er_lines = list(session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == er.id)
                                    .order_by(ExpectedReceiptLine.created_at, ExpectedReceiptLine.id)))
    derived = {erl.id: erl for erl in er_lines}
    for n, ln in enumerate(plan.lines):
        erl = derived.get(er_line_id_for(ln.id)) or (er_lines[n] if n < len(er_lines) else None)
        if erl is not None:
            erl.qty_received = plan.got_by_line[ln.id]
    er.arrived_at = er.arrived_at or now
    transition(er, "received", actor, at=now, transfer=t.number)
    follow_serials(session, [m for m in posted if m.serial_no and m.to_location_id == target.id])
    session.flush()
    if owns(session, t.owner_branch_id):
        settle_received(session, t)
    audit.record(session, actor, "transfer.receive", "transfer_order", t.id, t.owner_branch_id, number=t.number,
                 received=sum(plan.got_by_line.values()),
                 short=sum(ln.qty_shipped for ln in plan.lines) - sum(plan.got_by_line.values()),
                 into=target.code, expected_receipt=er.number)
    session.flush()
    got_items = tuple(sorted({m.item_id for m in plan.moves if m.to_location_id == target.id}, key=str))
    released: list[str] = []
    if got_items:
        released = emit(session, StockArrived(actor, warehouse_id=t.to_warehouse_id, item_ids=got_items,
                                              source="transfer")).released
    return TransferReceipt(t, posted, released)


def _plan_arrival(session: Session, actor: Actor, transfer_id: uuid.UUID, received: Mapping[uuid.UUID, int] | None,
                  to_location_id: uuid.UUID | None) -> _Arrival:
    """Validate (nothing received twice, quantities within what was shipped, this site's branch is the
    destination) and plan the moves out of transit: received units to the target, the rest written off."""
    if not (actor.can("receipt.post") or actor.can("transfer.create")):
        raise PermissionDenied(f"{actor.username} may not receive transfers")
    t = _get(session, transfer_id)
    dst = session.get(Warehouse, t.to_warehouse_id)
    assert dst is not None
    er = inbound_receipt(session, t)
    done = t.received_at or (er.received_at if er is not None else None)
    if t.status == "received" or (er is not None and er.status == "received") or left_transit(session, t):
        raise Conflict(f"transfer {t.number} was already received{' on ' + done.date().isoformat() if done else ''}")
    if t.status != "shipped":
        raise Conflict(f"transfer {t.number} is {t.status}: only a shipped transfer can be received")
    require_owner(session, dst.branch_id, f"transfer {t.number} is received at {dst.code}")
    if er is None:  # the destination's settler has not run since the shipment arrived: do it now
        er = expect_transfer(session, t)
    if er is None:
        raise Conflict(f"transfer {t.number}: the shipment has not fully reached this workstation yet; sync and try again")
    if to_location_id is None:
        target = virtual_location(session, dst.id, "dock")
    else:
        loc = session.get(Location, to_location_id)
        if loc is None or loc.warehouse_id != dst.id or loc.kind not in ("storage", "dock", "qa"):
            raise ValidationError("to bin", f"must be a bin, dock or QA location of {dst.code}")
        target = loc
    transit = virtual_location(session, t.from_warehouse_id, "transit")
    adjust = virtual_location(session, t.from_warehouse_id, "adjust")
    lines = lines_of(session, t.id)
    by_id = {ln.id: ln for ln in lines}
    for lid in (received or {}):
        if lid not in by_id:
            raise NotFound(f"line of transfer {t.number}", lid)
    skus = {a: b for a, b in session.execute(select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in lines})))}
    shipped = list(session.scalars(select(StockMove).where(
        StockMove.doc_type == "transfer", StockMove.doc_id == t.id, StockMove.reason == "transfer_out")
        .order_by(StockMove.id)))
    moves: list[MoveSpec] = []
    got_by_line: dict[uuid.UUID, int] = {}
    for ln in lines:
        got = ln.qty_shipped if received is None or ln.id not in received else qty(
            received[ln.id], f"line {ln.line_no} ({skus[ln.item_id]}) received quantity", allow_zero=True)
        if got > ln.qty_shipped:
            raise ValidationError(f"line {ln.line_no} ({skus[ln.item_id]}) received quantity",
                                  f"{got} is more than the {ln.qty_shipped} shipped")
        got_by_line[ln.id] = got
        left = got
        for m in (m for m in shipped if m.doc_line_id == ln.id):
            take = min(left, m.qty)
            if take:
                moves.append(MoveSpec(item_id=m.item_id, qty=take, from_location_id=transit.id,
                                      to_location_id=target.id, reason="transfer_in", lot_id=m.lot_id,
                                      serial_no=m.serial_no, doc_type="transfer", doc_id=t.id, doc_line_id=ln.id))
            if m.qty - take:
                moves.append(MoveSpec(item_id=m.item_id, qty=m.qty - take, from_location_id=transit.id,
                                      to_location_id=adjust.id, reason="adjust", lot_id=m.lot_id,
                                      serial_no=m.serial_no, doc_type="transfer", doc_id=t.id, doc_line_id=ln.id))
            left -= take
    return _Arrival(t, er, target, lines, moves, got_by_line)


def cancel_transfer(session: Session, actor: Actor, transfer_id: uuid.UUID) -> TransferOrder:
    actor.require("transfer.create")
    t = _get(session, transfer_id)
    require_owner(session, t.owner_branch_id, f"transfer {t.number} is cancelled")
    if t.status != "draft":
        raise Conflict(f"transfer {t.number} is {t.status}: only a draft can be cancelled")
    transition(t, "cancelled", actor)
    session.flush()
    return t


@dataclass(frozen=True)
class TransferSummary:
    id: uuid.UUID
    number: str
    from_code: str
    to_code: str
    status: str
    lines: int
    units: int
    shipped_at: dt.datetime | None
    received_at: dt.datetime | None


def list_transfers(session: Session, *, status: str | None = None, warehouse_id: uuid.UUID | None = None,
                   limit: int = 200) -> list[TransferSummary]:
    """Newest first; ``warehouse_id`` matches either end."""
    q = select(TransferOrder).where(TransferOrder.deleted_at.is_(None)).order_by(TransferOrder.created_at.desc()).limit(limit)
    if status:
        q = q.where(TransferOrder.status == status)
    if warehouse_id:
        q = q.where((TransferOrder.from_warehouse_id == warehouse_id) | (TransferOrder.to_warehouse_id == warehouse_id))
    orders = list(session.scalars(q))
    codes = {a: b for a, b in session.execute(select(Warehouse.id, Warehouse.code))}
    out = []
    for t in orders:
        lines = lines_of(session, t.id)
        out.append(TransferSummary(t.id, t.number, codes.get(t.from_warehouse_id, "?"), codes.get(t.to_warehouse_id, "?"),
                                   t.status, len(lines), sum(ln.qty for ln in lines), t.shipped_at, t.received_at))
    return out
