"""Available to promise per item and warehouse, by date; and the promise an order line gets.

ATP(d) = on hand - allocated (reserved, not yet shipped) + expected receipts due on or before d.
The stock profile (``atp``, ``atp_profile``) does not subtract open unallocated orders: allocation
is the step that claims stock. A **promise** to a customer does (``promise``, ``promise_lines``):
units on hand in pickable locations (not QA, not expired lots), less what is reserved, less the
unreserved demand already waiting (the backlog, first come first served), plus receipts (POs,
ASNs, inbound transfers) by their dates. The line reads "available now", "on D" (the receipt that
covers it) or "not before D" (today + the preferred supplier's lead time, when no known receipt
covers it). Receipts without a date are not promised; receipts already late count from tomorrow.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.org import INTERNAL_KINDS, Location
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.stock import StockBalance
from app.models.workflow import open_states

#: sales order states whose allocations still hold stock in the warehouse
HOLDING_STATES = ("open", "allocated", "picking", "packed", "backordered", "credit_hold")
#: orders whose unreserved lines wait for stock (the backlog a promise counts)
WAITING_STATES = ("open", "backordered", "allocated")
PICKABLE_KINDS = ("storage", "dock", "pack")
OPEN_RECEIPT_STATES = open_states("expected_receipt")


def on_hand_by_item(session: Session, item_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID) -> dict[uuid.UUID, int]:
    rows = session.execute(
        select(StockBalance.item_id, func.sum(StockBalance.qty))
        .join(Location, Location.id == StockBalance.location_id)
        .where(StockBalance.item_id.in_(list(item_ids)), Location.warehouse_id == warehouse_id,
               Location.kind.in_(INTERNAL_KINDS))
        .group_by(StockBalance.item_id))
    return {i: int(q or 0) for i, q in rows}


def allocated_by_item(session: Session, item_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """Reserved and not yet shipped (``qty_allocated``: shipping consumes it), per item, on live
    orders of the warehouse."""
    rows = session.execute(
        select(SalesOrderLine.item_id, func.sum(SalesOrderLine.qty_allocated))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(SalesOrderLine.item_id.in_(list(item_ids)), SalesOrder.warehouse_id == warehouse_id,
               SalesOrder.status.in_(HOLDING_STATES), SalesOrder.deleted_at.is_(None))
        .group_by(SalesOrderLine.item_id))
    return {i: int(q or 0) for i, q in rows}


@dataclass(frozen=True)
class Incoming:
    item_id: uuid.UUID
    due: dt.date | None
    qty: int
    source: str
    number: str


def incoming(session: Session, item_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID) -> list[Incoming]:
    rows = session.execute(
        select(ExpectedReceiptLine.item_id, ExpectedReceipt.expected_at,
               ExpectedReceiptLine.qty_expected - ExpectedReceiptLine.qty_received,
               ExpectedReceipt.source, ExpectedReceipt.number)
        .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
        .where(ExpectedReceiptLine.item_id.in_(list(item_ids)), ExpectedReceipt.warehouse_id == warehouse_id,
               ExpectedReceipt.status.in_(OPEN_RECEIPT_STATES), ExpectedReceipt.deleted_at.is_(None),
               ExpectedReceiptLine.deleted_at.is_(None),
               ExpectedReceiptLine.qty_expected > ExpectedReceiptLine.qty_received))
    return sorted((Incoming(i, at.date() if at else None, int(q), s, n) for i, at, q, s, n in rows),
                  key=lambda x: (x.due or dt.date.max, x.number))


def atp(session: Session, item_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID,
        on: dt.date | None = None) -> dict[uuid.UUID, int]:
    """ATP of each item on date ``on`` (default today)."""
    on = on or dt.date.today()
    have = on_hand_by_item(session, item_ids, warehouse_id)
    alloc = allocated_by_item(session, item_ids, warehouse_id)
    out = {i: have.get(i, 0) - alloc.get(i, 0) for i in item_ids}
    for inc in incoming(session, item_ids, warehouse_id):
        if inc.due is not None and inc.due <= on:
            out[inc.item_id] += inc.qty
    return out


@dataclass(frozen=True)
class AtpPoint:
    date: dt.date
    receipts: int
    atp: int
    note: str


def atp_profile(session: Session, item_id: uuid.UUID, warehouse_id: uuid.UUID,
                today: dt.date | None = None) -> list[AtpPoint]:
    """ATP today, then at every dated receipt (earlier-than-today receipts count today)."""
    today = today or dt.date.today()
    have = on_hand_by_item(session, [item_id], warehouse_id).get(item_id, 0)
    alloc = allocated_by_item(session, [item_id], warehouse_id).get(item_id, 0)
    level = have - alloc
    points: list[AtpPoint] = []
    late = 0
    later: list[Incoming] = []
    undated = 0
    for inc in incoming(session, [item_id], warehouse_id):
        if inc.due is None:
            undated += inc.qty
        elif inc.due <= today:
            late += inc.qty
        else:
            later.append(inc)
    level += late
    points.append(AtpPoint(today, late, level, f"on hand {have}, allocated {alloc}"))
    for inc in later:
        level += inc.qty
        points.append(AtpPoint(inc.due or today, inc.qty, level, f"{inc.source} {inc.number}"))
    if undated:
        points.append(AtpPoint(dt.date.max, undated, level, f"{undated} expected without a date (not promised)"))
    return points
