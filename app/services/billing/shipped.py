"""What a shipment bills: the one place billing reads Dispatch.

A shipment Dispatch confirmed bills its own ``shipment_line`` rows (quantity and the price the
order line had when it shipped) that no live invoice bills yet. A shipment from before Dispatch
(imported or seeded history, no shipment lines) bills its order's shipped quantities
(``SalesOrderLine.qty_shipped``) less what live invoices billed.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine
from app.models.packing import ShipmentLine
from app.models.sales import SalesOrderLine
from app.models.shipping import Shipment


@dataclass(frozen=True)
class Billable:
    order_line_id: uuid.UUID
    shipment_line_id: uuid.UUID | None
    item_id: uuid.UUID
    qty: int
    #: the price per base unit when it shipped (None: the order line's)
    unit_price: Decimal | None = None


def invoiced_qty(session: Session, order_line_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Units of each order line already on a live (pending or released) invoice."""
    ids = list(order_line_ids)
    if not ids:
        return {}
    rows = session.execute(
        select(InvoiceLine.order_line_id, func.sum(InvoiceLine.qty))
        .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.order_line_id.in_(ids), Invoice.kind == "invoice", Invoice.status != "cancelled",
               Invoice.deleted_at.is_(None))
        .group_by(InvoiceLine.order_line_id))
    return {lid: int(q or 0) for lid, q in rows if lid is not None}


def invoiced_shipment_lines(session: Session, ids: Iterable[uuid.UUID]) -> set[uuid.UUID]:
    """The shipment lines already on a live invoice."""
    keys = list(ids)
    if not keys:
        return set()
    return {x for x in session.scalars(
        select(InvoiceLine.shipment_line_id).join(Invoice, Invoice.id == InvoiceLine.invoice_id)
        .where(InvoiceLine.shipment_line_id.in_(keys), Invoice.kind == "invoice", Invoice.status != "cancelled",
               Invoice.deleted_at.is_(None))) if x is not None}


def billable_lines(session: Session, shipment: Shipment) -> list[Billable]:
    """The lines ``shipment`` shipped that no live invoice bills yet."""
    own = list(session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == shipment.id,
                                                          ShipmentLine.deleted_at.is_(None))
                               .order_by(ShipmentLine.created_at, ShipmentLine.id)))
    if own:
        billed = invoiced_shipment_lines(session, [ln.id for ln in own])
        return [Billable(ln.order_line_id, ln.id, ln.item_id, ln.qty, ln.unit_price) for ln in own if ln.id not in billed]
    if shipment.sales_order_id is None:
        return []
    lines = list(session.scalars(select(SalesOrderLine).where(
        SalesOrderLine.order_id == shipment.sales_order_id, SalesOrderLine.deleted_at.is_(None),
        SalesOrderLine.qty_shipped > 0).order_by(SalesOrderLine.line_no)))
    done = invoiced_qty(session, [ln.id for ln in lines])
    return [Billable(ln.id, None, ln.item_id, ln.qty_shipped - done.get(ln.id, 0)) for ln in lines
            if ln.qty_shipped - done.get(ln.id, 0) > 0]


def shipped_qty(session: Session, order_line_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Units shipped per order line (what may be billed at most)."""
    ids = list(order_line_ids)
    rows = session.execute(select(SalesOrderLine.id, SalesOrderLine.qty_shipped).where(SalesOrderLine.id.in_(ids)))
    return {lid: int(q) for lid, q in rows}


@dataclass(frozen=True)
class OrderLine:
    """What billing reads of a sales order line (a plain row)."""

    id: uuid.UUID
    order_id: uuid.UUID
    line_no: int
    item_id: uuid.UUID
    qty_shipped: int
    unit_price: Decimal


@dataclass
class Basis:
    """What a batch of shipments may bill, read set-based (four queries however many shipments).
    ``billables`` hands out a shipment's unbilled lines as ``billable_lines`` would, and ``bill``
    counts an invoice's lines as billed, so two shipments of one order in the batch never bill the
    same units (the batch is settled in order, like one follow-up after another)."""

    own: dict[uuid.UUID, list[Billable]]
    lines: dict[uuid.UUID, OrderLine]
    by_order: dict[uuid.UUID, list[OrderLine]]
    done: dict[uuid.UUID, int]

    def billables(self, shipment_id: uuid.UUID, order_id: uuid.UUID | None) -> list[Billable]:
        if shipment_id in self.own:
            return list(self.own[shipment_id])
        if order_id is None:
            return []
        return [Billable(ln.id, None, ln.item_id, ln.qty_shipped - self.done.get(ln.id, 0))
                for ln in self.by_order.get(order_id, []) if ln.qty_shipped - self.done.get(ln.id, 0) > 0]

    def bill(self, shipment_id: uuid.UUID, billables: list[Billable]) -> None:
        for b in billables:
            self.done[b.order_line_id] = self.done.get(b.order_line_id, 0) + b.qty
        if shipment_id in self.own:  # its shipment lines are on the invoice now (a pre-Dispatch one reads done)
            self.own[shipment_id] = []


def basis(session: Session, shipments: Iterable[tuple[uuid.UUID, uuid.UUID | None]]) -> Basis:
    """The ``Basis`` of (shipment id, sales order id) pairs."""
    pairs = list(shipments)
    ids = [sid for sid, _o in pairs]
    own: dict[uuid.UUID, list[Billable]] = {}
    rows: list[Any] = []
    for n in range(0, len(ids), 500):
        rows += session.execute(select(ShipmentLine.id, ShipmentLine.shipment_id, ShipmentLine.order_line_id,
                                       ShipmentLine.item_id, ShipmentLine.qty, ShipmentLine.unit_price)
                                .where(ShipmentLine.shipment_id.in_(ids[n:n + 500]), ShipmentLine.deleted_at.is_(None))
                                .order_by(ShipmentLine.created_at, ShipmentLine.id)).all()
    billed: set[uuid.UUID] = set()
    keys = [r[0] for r in rows]
    for n in range(0, len(keys), 500):
        billed |= invoiced_shipment_lines(session, keys[n:n + 500])
    for lid, sid, oline, item, qty, price in rows:
        own.setdefault(sid, [])
        if lid not in billed:
            own[sid].append(Billable(oline, lid, item, qty, price))
    orders = list({o for _s, o in pairs if o is not None})
    lines: dict[uuid.UUID, OrderLine] = {}
    for n in range(0, len(orders), 500):
        for r in session.execute(select(SalesOrderLine.id, SalesOrderLine.order_id, SalesOrderLine.line_no,
                                        SalesOrderLine.item_id, SalesOrderLine.qty_shipped, SalesOrderLine.unit_price)
                                 .where(SalesOrderLine.order_id.in_(orders[n:n + 500]),
                                        SalesOrderLine.deleted_at.is_(None))):
            lines[r[0]] = OrderLine(r[0], r[1], r[2], r[3], int(r[4] or 0), r[5])
    by_order: dict[uuid.UUID, list[OrderLine]] = {}
    for ln in sorted(lines.values(), key=lambda x: x.line_no):
        if ln.qty_shipped > 0:
            by_order.setdefault(ln.order_id, []).append(ln)
    done: dict[uuid.UUID, int] = {}
    line_ids = list(lines)
    for n in range(0, len(line_ids), 500):
        done.update(invoiced_qty(session, line_ids[n:n + 500]))
    return Basis(own, lines, by_order, done)
