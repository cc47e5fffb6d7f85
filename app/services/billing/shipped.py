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
