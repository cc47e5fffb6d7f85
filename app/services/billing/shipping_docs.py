"""Dispatch's documents in the print registry: packing slips, carton labels and manifests.

Dispatch renders them (``dispatch.documents``, ``dispatch.manifest``); this module only lists them
for the clerk's print centre queue (shipments by ship date, manifests by day) and points at those
renderers, so Dispatch need not know the print centre exists. Pick lists join when Dispatch's
picking area has a renderer (register it the same way).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.packing import Manifest
from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services import printing
from app.services.dispatch.documents import carton_labels_pdf, packing_slip_pdf
from app.services.dispatch.manifest import manifest_pdf
from app.services.errors import NotFound
from app.services.printing import Printable, QueueRow


def _day_bounds(since: dt.date, until: dt.date) -> tuple[dt.datetime, dt.datetime]:
    return (dt.datetime.combine(since, dt.time(0), dt.UTC),
            dt.datetime.combine(until + dt.timedelta(days=1), dt.time(0), dt.UTC))


def _shipments(kind: str) -> object:
    def queue(session: Session, since: dt.date, until: dt.date, status: str | None, limit: int) -> list[QueueRow]:
        lo, hi = _day_bounds(since, until)
        q = (select(Shipment, Customer.code, Customer.name)
             .outerjoin(SalesOrder, SalesOrder.id == Shipment.sales_order_id)
             .outerjoin(Customer, Customer.id == SalesOrder.customer_id)
             .where(Shipment.shipped_at >= lo, Shipment.shipped_at < hi, Shipment.deleted_at.is_(None)))
        if status:
            q = q.where(Shipment.status == status)
        rows = session.execute(q.order_by(Shipment.shipped_at.desc()).limit(limit)).all()
        return [QueueRow(kind, sh.number, sh.shipped_at.date() if sh.shipped_at else since,
                         f"{code or ''} {name or ''}".strip(), sh.status) for sh, code, name in rows]
    return queue


def _shipment_branch(session: Session, ref: str) -> uuid.UUID:
    sh = session.scalars(select(Shipment).where(Shipment.number == ref.strip().upper())).first()
    if sh is None:
        raise NotFound("shipment", ref)
    return sh.owner_branch_id


def _manifests(session: Session, since: dt.date, until: dt.date, status: str | None, limit: int) -> list[QueueRow]:
    q = (select(Manifest, Carrier.name).join(Carrier, Carrier.id == Manifest.carrier_id)
         .where(Manifest.ship_date >= since, Manifest.ship_date <= until, Manifest.deleted_at.is_(None)))
    if status:
        q = q.where(Manifest.status == status)
    rows = session.execute(q.order_by(Manifest.ship_date.desc(), Manifest.number.desc()).limit(limit)).all()
    return [QueueRow("manifest", m.number, m.ship_date, carrier, m.status, f"{m.shipments} shipments")
            for m, carrier in rows]


def _manifest_branch(session: Session, ref: str) -> uuid.UUID:
    m = session.scalars(select(Manifest).where(Manifest.number == ref.strip().upper())).first()
    if m is None:
        raise NotFound("manifest", ref)
    return m.owner_branch_id


printing.register(Printable(
    "packing-slip", "Packing slips", lambda s, ref, _again: (f"{ref.upper()}-slip.pdf", packing_slip_pdf(s, ref)),
    _shipments("packing-slip"), None, _shipment_branch))  # type: ignore[arg-type]
printing.register(Printable(
    "carton-labels", "Carton labels",
    lambda s, ref, _again: (f"{ref.upper()}-cartons.pdf", carton_labels_pdf(s, ref)),
    _shipments("carton-labels"), None, _shipment_branch))  # type: ignore[arg-type]
printing.register(Printable(
    "manifest", "Manifests", lambda s, ref, _again: (f"{ref.upper()}.pdf", manifest_pdf(s, ref)),
    _manifests, None, _manifest_branch))
