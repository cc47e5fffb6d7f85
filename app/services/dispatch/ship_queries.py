"""What the Packing, Shipping and Manifest tabs list (reads only): orders ready to pack, shipments
waiting for rating / a label / confirmation, and the day's confirmed shipments per carrier."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.dispatch import PickLine, Wave
from app.models.packing import Carton
from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.dispatch.packing import PACKABLE_ORDER, packable
from app.services.ownership import ownership


@dataclass(frozen=True)
class ReadyOrder:
    number: str
    customer: str
    status: str
    units: int
    shipment: str  # the shipment being packed, '' when none yet


@dataclass(frozen=True)
class ShipRow:
    id: uuid.UUID
    number: str
    order: str
    customer: str
    status: str
    carrier: str
    service: str
    cartons: int
    weight_g: int
    label: str
    quoted: Decimal | None
    billed: Decimal | None
    promised: dt.date | None
    override: str
    tracking: str


def ready_orders(session: Session, *, limit: int = 200) -> list[ReadyOrder]:
    """Orders with something picked and not packed yet (and those being packed), oldest first."""
    picked = (select(PickLine.order_id).join(Wave, Wave.id == PickLine.wave_id)
              .where(PickLine.qty_picked > 0, PickLine.deleted_at.is_(None), Wave.status != "cancelled"))
    packing_now = dict(session.execute(select(Shipment.sales_order_id, Shipment.number)
                                       .where(Shipment.status == "packing", Shipment.deleted_at.is_(None))).all())
    q = (select(SalesOrder, Customer.name).join(Customer, Customer.id == SalesOrder.customer_id)
         .where(SalesOrder.status.in_(PACKABLE_ORDER), SalesOrder.deleted_at.is_(None),
                or_(SalesOrder.id.in_(picked), SalesOrder.id.in_(list(packing_now))))
         .order_by(SalesOrder.order_date, SalesOrder.number).limit(limit * 3))
    own = ownership(session)
    if own.enforced:
        q = q.where(SalesOrder.owner_branch_id == own.branch_id)
    out = []
    for order, cust in session.execute(q):
        units = sum(packable(session, order).values())
        if units > 0 or order.id in packing_now:
            out.append(ReadyOrder(order.number, cust, order.status, units, packing_now.get(order.id, "")))
        if len(out) >= limit:
            break
    return out


def shipments(session: Session, *, statuses: tuple[str, ...] = ("packing", "packed"), day: dt.date | None = None,
              carrier: str | None = None, branch_id: uuid.UUID | None = None, limit: int = 500) -> list[ShipRow]:
    """Shipments by status (and confirmed on ``day``, UTC calendar, when given; of one branch when
    given), with their cartons."""
    weights = (select(Carton.shipment_id, func.count(Carton.id).label("n"), func.sum(Carton.weight_g).label("w"))
               .where(Carton.status != "cancelled", Carton.deleted_at.is_(None)).group_by(Carton.shipment_id).subquery())
    q = (select(Shipment, SalesOrder.number, Customer.name, Carrier.name, weights.c.n, weights.c.w)
         .join(Carrier, Carrier.id == Shipment.carrier_id)
         .join(SalesOrder, SalesOrder.id == Shipment.sales_order_id, isouter=True)
         .join(Customer, Customer.id == SalesOrder.customer_id, isouter=True)
         .join(weights, weights.c.shipment_id == Shipment.id, isouter=True)
         .where(Shipment.deleted_at.is_(None), Shipment.status.in_(statuses)))
    if day is not None:
        start = dt.datetime.combine(day, dt.time(0), tzinfo=dt.UTC)
        q = q.where(Shipment.shipped_at >= start, Shipment.shipped_at < start + dt.timedelta(days=1))
    if carrier:
        q = q.where(Carrier.code == carrier.upper())
    if branch_id is not None:
        q = q.where(Shipment.owner_branch_id == branch_id)
    own = ownership(session)
    if own.enforced:
        q = q.where(Shipment.owner_branch_id == own.branch_id)
    rows = session.execute(q.order_by(Shipment.number).limit(limit))
    return [ShipRow(s.id, s.number, order or "", cust or "", s.status, carrier_name, s.service_code, int(n or 0),
                    int(w or 0), s.label_number, s.freight_quoted, s.freight_billed, s.promised_date, s.override_reason,
                    s.tracking_number) for s, order, cust, carrier_name, n, w in rows]


def carriers(session: Session) -> list[tuple[str, str]]:
    return [(c, n) for c, n in session.execute(select(Carrier.code, Carrier.name).where(
        Carrier.deleted_at.is_(None), Carrier.active.is_(True)).order_by(Carrier.code))]
