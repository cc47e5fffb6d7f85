"""Customer returns: authorise, receive into QA, inspect, dispose, and request the credit.

Why QA first: a returned unit is not sellable until someone has looked at it, so receipt
puts it in the warehouse's QA cage (not in a bin). Inspection says ``ok``, ``defective``
(the product's fault: credited, goes to scrap or back to the vendor) or ``customer_damage``
(not credited). Disposal moves the stock: restock (QA -> a bin; only ``ok`` units), scrap
(QA -> scrap), rtv (QA -> supplier). When every line is disposed the RMA closes and a
``CreditRequest`` is written for the invoicing area to turn into a credit note.

Across branches: the RMA, its lines, its moves and its credit request belong to the branch whose
warehouse takes the goods back, and every step runs on that branch's workstations. The sales order
(possibly another branch's) is only read; the credit request is a new row of the returning branch
that names the order, never an edit of it.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.inventory import DISPOSITIONS as DISPOSITIONS  # what the screens offer
from app.models.inventory import INSPECTION_RESULTS as INSPECTION_RESULTS
from app.models.inventory import CreditRequest, Rma, RmaLine
from app.models.org import Location, Warehouse
from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.types import DomainValueError, to_money
from app.services import audit
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.events import StockArrived, emit
from app.services.inventory.common import get_warehouse, qty, require_owner
from app.services.numbering import next_number
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.workflow import transition

CREDITED = ("ok", "defective")


@dataclass(frozen=True)
class RmaLineSpec:
    item_id: uuid.UUID
    qty: int
    unit_credit: Decimal | str | None = None
    lot_id: uuid.UUID | None = None
    serial_no: str | None = None


@dataclass(frozen=True)
class Inspection:
    result: str
    note: str = ""


@dataclass(frozen=True)
class Disposition:
    disposition: str  # restock | scrap | rtv
    to_location_id: uuid.UUID | None = None  # the bin, for restock


def _get(session: Session, rma_id: uuid.UUID) -> Rma:
    return get_live(session, Rma, rma_id, "RMA")


def rma_by_number(session: Session, number: str) -> Rma:
    r = session.scalars(select(Rma).where(Rma.number == number.strip().upper())).first()
    if r is None:
        raise NotFound("RMA", number)
    return r


def rma_lines(session: Session, rma_id: uuid.UUID) -> list[RmaLine]:
    return list(session.scalars(select(RmaLine).where(RmaLine.rma_id == rma_id).order_by(RmaLine.line_no)))


def authorise_rma(
    session: Session, actor: Actor, customer_id: uuid.UUID, warehouse_id: uuid.UUID, lines: Sequence[RmaLineSpec],
    *, sales_order_id: uuid.UUID | None = None, reason: str = "",
) -> Rma:
    """Authorise a return. Against a sales order, each item must have shipped on it and the
    quantity (with earlier RMAs of that order) may not exceed what shipped; the credit defaults
    to the order's price (else the item's list price)."""
    actor.require("rma.manage")
    cust = session.get(Customer, customer_id)
    if cust is None:
        raise NotFound("customer", customer_id)
    wh = get_warehouse(session, warehouse_id)
    require_owner(session, wh.branch_id, f"a return into {wh.code} is authorised")
    if not lines:
        raise ValidationError("lines", "an RMA needs at least one line")
    order_lines: dict[uuid.UUID, tuple[int, Decimal]] = {}
    earlier: dict[uuid.UUID, int] = {}
    if sales_order_id is not None:
        so = session.get(SalesOrder, sales_order_id)
        if so is None:
            raise NotFound("sales order", sales_order_id)
        if so.customer_id != cust.id:
            raise ValidationError("sales order", f"{so.number} belongs to another customer")
        for item_id, shipped, price in session.execute(select(
                SalesOrderLine.item_id, SalesOrderLine.qty_shipped, SalesOrderLine.unit_price)
                .where(SalesOrderLine.order_id == so.id)):
            prev = order_lines.get(item_id, (0, price))
            order_lines[item_id] = (prev[0] + int(shipped), price)
        earlier = {a: b for a, b in session.execute(
            select(RmaLine.item_id, func.sum(RmaLine.qty_authorised)).join(Rma, Rma.id == RmaLine.rma_id)
            .where(Rma.sales_order_id == so.id, Rma.status != "cancelled").group_by(RmaLine.item_id))}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines})))}
    checked: list[tuple[RmaLineSpec, int, Decimal]] = []
    asked: dict[uuid.UUID, int] = {}
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
        elif item.track_lot:
            raise ValidationError(f"line {n} lot", f"item {item.sku} is lot-tracked: name the returned lot")
        price = item.list_price
        if sales_order_id is not None:
            if item.id not in order_lines:
                raise ValidationError(f"line {n} item", f"{item.sku} is not on the sales order")
            shipped, price = order_lines[item.id]
            asked[item.id] = asked.get(item.id, 0) + q
            if asked[item.id] + int(earlier.get(item.id) or 0) > shipped:
                raise ValidationError(f"line {n} ({item.sku}) quantity",
                                      f"more than the {shipped} shipped on the order (less earlier returns)")
        if ln.unit_credit is not None:
            try:
                price = to_money(ln.unit_credit, f"line {n} unit credit")
            except DomainValueError as e:
                raise ValidationError(f"line {n} unit credit", str(e).split(": ", 1)[-1]) from None
            if price < 0:
                raise ValidationError(f"line {n} unit credit", "must not be negative")
        checked.append((ln, q, price))
    r = Rma(number=next_number(session, wh.branch_id, "RMA"), customer_id=cust.id, sales_order_id=sales_order_id,
            warehouse_id=wh.id, status="authorised", reason=reason.strip()[:200], currency=cust.currency,
            owner_branch_id=wh.branch_id)
    session.add(r)
    session.flush()
    for n, (ln, q, price) in enumerate(checked, 1):
        session.add(RmaLine(rma_id=r.id, line_no=n, item_id=ln.item_id, lot_id=ln.lot_id, serial_no=ln.serial_no,
                            qty_authorised=q, unit_credit=price, owner_branch_id=wh.branch_id))
    audit.record(session, actor, "rma.authorise", "rma", r.id, r.owner_branch_id, number=r.number,
                 customer=cust.code, lines=len(checked))
    session.flush()
    return r


def receive_rma(session: Session, actor: Actor, rma_id: uuid.UUID,
                received: Mapping[uuid.UUID, int] | None = None) -> Rma:
    """Returned goods arrive: customer -> QA. Default quantity: as authorised; more is refused."""
    actor.require("rma.manage")
    r = _get(session, rma_id)
    require_owner(session, r.owner_branch_id, f"RMA {r.number} is received")
    if r.status != "authorised":
        raise Conflict(f"RMA {r.number} is {r.status}: only an authorised RMA can be received")
    lines = rma_lines(session, r.id)
    by_id = {ln.id: ln for ln in lines}
    for lid in received or {}:
        if lid not in by_id:
            raise NotFound(f"line of RMA {r.number}", lid)
    cust, qa = virtual_location(session, r.warehouse_id, "customer"), virtual_location(session, r.warehouse_id, "qa")
    moves = []
    for ln in lines:
        got = ln.qty_authorised if received is None or ln.id not in received else qty(
            received[ln.id], f"line {ln.line_no} received quantity", allow_zero=True)
        if got > ln.qty_authorised:
            raise ValidationError(f"line {ln.line_no} received quantity", f"{got} is more than the {ln.qty_authorised} authorised")
        ln.qty_received = got
        if got:
            moves.append(MoveSpec(item_id=ln.item_id, qty=got, from_location_id=cust.id, to_location_id=qa.id,
                                  reason="return", lot_id=ln.lot_id, serial_no=ln.serial_no,
                                  doc_type="rma", doc_id=r.id, doc_line_id=ln.id))
    if not moves:
        raise ValidationError("received quantity", "nothing was received")
    post_moves(session, actor, moves, owner_branch_id=r.owner_branch_id)
    transition(r, "received", actor, units=sum(m.qty for m in moves))
    session.flush()
    return r


def inspect_rma(session: Session, actor: Actor, rma_id: uuid.UUID, results: Mapping[uuid.UUID, Inspection]) -> Rma:
    """Record inspection results; the RMA is ``inspected`` once every received line has one."""
    actor.require("rma.manage")
    r = _get(session, rma_id)
    require_owner(session, r.owner_branch_id, f"RMA {r.number} is inspected")
    if r.status not in ("received", "inspected"):
        raise Conflict(f"RMA {r.number} is {r.status}: inspect after receipt and before disposal")
    by_id = {ln.id: ln for ln in rma_lines(session, r.id)}
    for lid, res in results.items():
        ln = by_id.get(lid)
        if ln is None:
            raise NotFound(f"line of RMA {r.number}", lid)
        if res.result not in INSPECTION_RESULTS:
            raise ValidationError(f"line {ln.line_no} inspection", f"must be one of {', '.join(INSPECTION_RESULTS)}")
        if ln.disposition:
            raise Conflict(f"line {ln.line_no} of RMA {r.number} is already disposed")
        ln.inspection_result, ln.inspection_note = res.result, res.note[:200]
    found = {str(k): v.result for k, v in results.items()}
    if r.status == "received" and all(ln.inspection_result for ln in by_id.values() if ln.qty_received):
        transition(r, "inspected", actor, results=found)
    else:  # more results for an RMA not (or already) fully inspected: no change of state
        audit.record(session, actor, "rma.inspect", "rma", r.id, r.owner_branch_id, number=r.number, results=found)
    session.flush()
    return r


def dispose_rma(session: Session, actor: Actor, rma_id: uuid.UUID, dispositions: Mapping[uuid.UUID, Disposition]) -> Rma:
    """Move inspected stock out of QA; when every line is disposed, close and request the credit."""
    actor.require("rma.manage")
    r = _get(session, rma_id)
    require_owner(session, r.owner_branch_id, f"RMA {r.number} is disposed of")
    if r.status != "inspected":
        raise Conflict(f"RMA {r.number} is {r.status}: every received line must be inspected before disposal")
    lines = rma_lines(session, r.id)
    by_id = {ln.id: ln for ln in lines}
    qa = virtual_location(session, r.warehouse_id, "qa")
    moves = []
    for lid, d in dispositions.items():
        ln = by_id.get(lid)
        if ln is None:
            raise NotFound(f"line of RMA {r.number}", lid)
        where = f"line {ln.line_no} disposition"
        if ln.disposition:
            raise Conflict(f"line {ln.line_no} of RMA {r.number} is already disposed ({ln.disposition})")
        if not ln.qty_received:
            raise ValidationError(where, "nothing was received on this line")
        if d.disposition == "restock":
            if ln.inspection_result != "ok":
                raise ValidationError(where, f"only units inspected ok may be restocked (this line: {ln.inspection_result})")
            loc = session.get(Location, d.to_location_id) if d.to_location_id else None
            if loc is None or loc.warehouse_id != r.warehouse_id or loc.kind != "storage":
                wh = session.get(Warehouse, r.warehouse_id)
                raise ValidationError(f"line {ln.line_no} bin", f"restock needs a storage bin of {wh.code if wh else '?'}")
            dest, reason = loc.id, "putaway"
            ln.qty_restocked = ln.qty_received
        elif d.disposition == "scrap":
            dest, reason = virtual_location(session, r.warehouse_id, "scrap").id, "scrap"
            ln.qty_scrapped = ln.qty_received
        elif d.disposition == "rtv":
            dest, reason = virtual_location(session, r.warehouse_id, "supplier").id, "rtv"
            ln.qty_rtv = ln.qty_received
        else:
            raise ValidationError(where, "must be restock, scrap or rtv")
        ln.disposition = d.disposition
        moves.append(MoveSpec(item_id=ln.item_id, qty=ln.qty_received, from_location_id=qa.id, to_location_id=dest,
                              reason=reason, lot_id=ln.lot_id, serial_no=ln.serial_no, doc_type="rma",
                              doc_id=r.id, doc_line_id=ln.id))
    post_moves(session, actor, moves, owner_branch_id=r.owner_branch_id)
    audit.record(session, actor, "rma.dispose", "rma", r.id, r.owner_branch_id, number=r.number,
                 dispositions={str(k): v.disposition for k, v in dispositions.items()})
    restocked = sorted({m.item_id for m in moves if m.reason == "putaway"}, key=str)
    if restocked:
        emit(session, StockArrived(actor, warehouse_id=r.warehouse_id, item_ids=tuple(restocked), source="rma"))
    if all(ln.disposition for ln in lines if ln.qty_received):
        _close(session, actor, r, lines)
    session.flush()
    return r


def _close(session: Session, actor: Actor, r: Rma, lines: list[RmaLine]) -> None:
    credited = [ln for ln in lines if ln.qty_received and ln.inspection_result in CREDITED]
    amount = sum((ln.unit_credit * ln.qty_received for ln in credited), Decimal(0))
    if amount > 0:
        skus = {a: b for a, b in session.execute(select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in credited})))}
        detail = "\n".join(f"{skus[ln.item_id]} x {ln.qty_received} @ {ln.unit_credit} ({ln.inspection_result})"
                           for ln in credited)
        cr = CreditRequest(number=next_number(session, r.owner_branch_id, "CR"), customer_id=r.customer_id,
                           rma_id=r.id, sales_order_id=r.sales_order_id, amount=amount, currency=r.currency,
                           status="open", detail=detail, owner_branch_id=r.owner_branch_id)
        session.add(cr)
        session.flush()
        audit.record(session, actor, "credit.request", "credit_request", cr.id, r.owner_branch_id,
                     number=cr.number, rma=r.number, amount=amount)
    transition(r, "closed", actor, credit=amount)


def credit_for(session: Session, rma_id: uuid.UUID) -> CreditRequest | None:
    return session.scalars(select(CreditRequest).where(CreditRequest.rma_id == rma_id)).first()


def cancel_rma(session: Session, actor: Actor, rma_id: uuid.UUID) -> Rma:
    actor.require("rma.manage")
    r = _get(session, rma_id)
    require_owner(session, r.owner_branch_id, f"RMA {r.number} is cancelled")
    if r.status != "authorised":
        raise Conflict(f"RMA {r.number} is {r.status}: only an RMA not yet received can be cancelled")
    transition(r, "cancelled", actor)
    session.flush()
    return r


@dataclass(frozen=True)
class RmaSummary:
    id: uuid.UUID
    number: str
    customer: str
    status: str
    lines: int
    units: int
    credit: Decimal | None


def list_rmas(session: Session, *, warehouse_id: uuid.UUID | None = None, status: str | None = None,
              limit: int = 200) -> list[RmaSummary]:
    """Newest first, with the credit requested (when closed)."""
    q = (select(Rma, Customer.code).join(Customer, Customer.id == Rma.customer_id)
         .where(Rma.deleted_at.is_(None)).order_by(Rma.created_at.desc()).limit(limit))
    if warehouse_id is not None:
        q = q.where(Rma.warehouse_id == warehouse_id)
    if status:
        q = q.where(Rma.status == status)
    out = []
    for r, code in session.execute(q):
        lines = rma_lines(session, r.id)
        cr = credit_for(session, r.id)
        out.append(RmaSummary(r.id, r.number, code, r.status, len(lines), sum(ln.qty_authorised for ln in lines),
                              cr.amount if cr else None))
    return out


@dataclass(frozen=True)
class RmaLineView:
    id: uuid.UUID
    line_no: int
    sku: str
    qty_authorised: int
    qty_received: int
    inspection_result: str
    disposition: str
    unit_credit: Decimal


def rma_line_views(session: Session, rma_id: uuid.UUID) -> list[RmaLineView]:
    lines = rma_lines(session, rma_id)
    skus = {a: b for a, b in session.execute(select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in lines})))}
    return [RmaLineView(ln.id, ln.line_no, skus.get(ln.item_id, "?"), ln.qty_authorised, ln.qty_received,
                        ln.inspection_result, ln.disposition, ln.unit_credit) for ln in lines]
