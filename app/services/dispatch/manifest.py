"""End of day: one manifest per warehouse, carrier and day (the branch's local calendar day) listing
the confirmed shipments the driver takes, as PDF and CSV, closed when the truck leaves.

``build`` gathers the day's confirmed shipments of a carrier that are on no manifest yet into the
open manifest (a new one after a close: late shipments go on a second manifest of the same day).
``close`` closes it; where the carrier's API has an end-of-day close it would be called between
the read and the write (none of the carriers' REST APIs the sandbox speaks has one, so the close is
recorded as ours alone and says so).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import zoneinfo
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch, Warehouse
from app.models.packing import Carton, Manifest
from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.workflow import SHIPMENT_UNCONFIRMED
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound
from app.services.numbering import next_number
from app.services.org.company import letterhead
from app.services.ownership import working_branch
from app.services.workflow import transition
from reports.manifest import ManifestDoc, ManifestRow, render_manifest

#: the columns of the CSV a carrier's driver or portal takes
CSV_COLUMNS = ("manifest", "ship_date", "carrier", "shipment", "tracking_number", "service", "order", "customer",
               "ship_to", "cartons", "weight_kg", "freight_quoted", "freight_billed", "currency")


@dataclass
class ManifestSummary:
    number: str
    carrier: str
    warehouse: str
    ship_date: dt.date
    status: str
    shipments: int
    cartons: int
    weight_g: int
    close_ref: str = ""

    def sentence(self) -> str:
        return (f"{self.number} {self.carrier} {self.ship_date}: {self.shipments} shipments, {self.cartons} cartons, "
                f"{self.weight_g / 1000:.1f} kg, {self.status}" + (f" ({self.close_ref})" if self.close_ref else ""))


def _tz(session: Session, wh: Warehouse) -> dt.tzinfo:
    name = session.scalar(select(Branch.timezone).where(Branch.id == wh.branch_id)) or "UTC"
    try:
        return zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return dt.UTC


def _day_bounds(tz: dt.tzinfo, day: dt.date) -> tuple[dt.datetime, dt.datetime]:
    start = dt.datetime.combine(day, dt.time(0), tzinfo=tz).astimezone(dt.UTC)
    return start, (dt.datetime.combine(day + dt.timedelta(days=1), dt.time(0), tzinfo=tz)).astimezone(dt.UTC)


def _warehouse(session: Session, code: str | None, actor: Actor) -> Warehouse:
    q = select(Warehouse).where(Warehouse.deleted_at.is_(None))
    if code:
        q = q.where(Warehouse.code == code.strip().upper())
    elif (branch := working_branch(session, actor.branch_id)) is not None:
        q = q.where(Warehouse.branch_id == branch)
    wh = session.scalar(q.order_by(Warehouse.code))
    if wh is None:
        raise NotFound("warehouse", code or "of your branch")
    return wh


def _summary(session: Session, m: Manifest) -> ManifestSummary:
    carrier = session.scalar(select(Carrier.name).where(Carrier.id == m.carrier_id)) or ""
    wh = session.scalar(select(Warehouse.code).where(Warehouse.id == m.warehouse_id)) or ""
    return ManifestSummary(m.number, carrier, wh, m.ship_date, m.status, m.shipments, m.cartons, m.weight_g, m.close_ref)


def build(session: Session, actor: Actor, carrier: str, *, warehouse: str | None = None,
          day: dt.date | None = None) -> ManifestSummary:
    """Put the day's confirmed shipments of ``carrier`` on the open manifest (made when needed)."""
    actor.require("dispatch.ship")
    wh = _warehouse(session, warehouse, actor)
    c = session.scalar(select(Carrier).where(Carrier.code == carrier.strip().upper(), Carrier.deleted_at.is_(None)))
    if c is None:
        raise NotFound("carrier", carrier)
    tz = _tz(session, wh)
    day = day or dt.datetime.now(tz).date()
    start, end = _day_bounds(tz, day)
    ships = list(session.scalars(select(Shipment).where(
        Shipment.warehouse_id == wh.id, Shipment.carrier_id == c.id, Shipment.manifest_id.is_(None),
        Shipment.deleted_at.is_(None), Shipment.status.not_in((*SHIPMENT_UNCONFIRMED, "cancelled")),
        Shipment.shipped_at >= start, Shipment.shipped_at < end).order_by(Shipment.shipped_at)))
    m = session.scalar(select(Manifest).where(Manifest.warehouse_id == wh.id, Manifest.carrier_id == c.id,
                                              Manifest.ship_date == day, Manifest.status == "open",
                                              Manifest.deleted_at.is_(None)))
    if m is None:
        if not ships:
            raise Conflict(f"no confirmed {c.name} shipments from {wh.code} on {day} are waiting for a manifest")
        m = Manifest(number=next_number(session, wh.branch_id, "MF"), warehouse_id=wh.id, carrier_id=c.id,
                     ship_date=day, owner_branch_id=wh.branch_id)
        session.add(m)
        session.flush()
    for s in ships:
        s.manifest_id = m.id
    session.flush()
    _recount(session, m)
    return _summary(session, m)


def _recount(session: Session, m: Manifest) -> None:
    ids = list(session.scalars(select(Shipment.id).where(Shipment.manifest_id == m.id)))
    cartons = list(session.scalars(select(Carton).where(Carton.shipment_id.in_(ids), Carton.status == "closed")))
    m.shipments, m.cartons, m.weight_g = len(ids), len(cartons), sum(c.weight_g for c in cartons)
    session.flush()


def find(session: Session, number: str) -> Manifest:
    m = session.scalar(select(Manifest).where(Manifest.number == number.strip().upper(), Manifest.deleted_at.is_(None)))
    if m is None:
        raise NotFound("manifest", number)
    return m


def close(session: Session, actor: Actor, number: str) -> ManifestSummary:
    """Close the manifest (the truck has left); later shipments of the day go on a new one."""
    actor.require("dispatch.ship")
    m = find(session, number)
    if m.status != "open":
        raise Conflict(f"manifest {m.number} is closed already")
    _recount(session, m)
    if not m.shipments:
        raise Conflict(f"manifest {m.number} has no shipments")
    m.close_ref = "closed here; the carrier's API has no end-of-day close"
    transition(m, "closed", actor, shipments=m.shipments, cartons=m.cartons)
    session.flush()
    return _summary(session, m)


def listing(session: Session, *, day: dt.date | None = None, limit: int = 100) -> list[ManifestSummary]:
    q = select(Manifest).where(Manifest.deleted_at.is_(None))
    if day is not None:
        q = q.where(Manifest.ship_date == day)
    return [_summary(session, m) for m in session.scalars(q.order_by(Manifest.ship_date.desc(), Manifest.number)
                                                         .limit(limit))]


def rows(session: Session, number: str) -> tuple[Manifest, list[ManifestRow]]:
    m = find(session, number)
    out = []
    q = (select(Shipment, SalesOrder.number, Customer.name, SalesOrder.ship_to)
         .join(SalesOrder, SalesOrder.id == Shipment.sales_order_id, isouter=True)
         .join(Customer, Customer.id == SalesOrder.customer_id, isouter=True)
         .where(Shipment.manifest_id == m.id).order_by(Shipment.shipped_at, Shipment.number))
    for s, order, cust, ship_to in session.execute(q):
        cartons = list(session.scalars(select(Carton).where(Carton.shipment_id == s.id, Carton.status == "closed")))
        out.append(ManifestRow(s.number, s.tracking_number, s.service_code, order or "", cust or "",
                               " ".join((ship_to or "").replace("\n", ", ").split())[:60], len(cartons),
                               sum(c.weight_g for c in cartons), s.freight_quoted, s.freight_billed, s.freight_currency))
    return m, out


def manifest_pdf(session: Session, number: str) -> bytes:
    m, data = rows(session, number)
    s = _summary(session, m)
    head = letterhead(session, m.owner_branch_id)
    return render_manifest(ManifestDoc(m.number, s.carrier, s.warehouse, m.ship_date, m.status, data, head,
                                       m.close_ref, m.closed_at))


def manifest_csv(session: Session, number: str) -> bytes:
    m, data = rows(session, number)
    carrier = _summary(session, m).carrier
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\r\n")
    w.writerow(CSV_COLUMNS)
    for r in data:
        w.writerow([m.number, m.ship_date.isoformat(), carrier, r.shipment, r.tracking, r.service, r.order, r.customer,
                    r.ship_to, r.cartons, f"{r.weight_g / 1000:.3f}",
                    "" if r.quoted is None else f"{r.quoted:.2f}", "" if r.billed is None else f"{r.billed:.2f}",
                    r.currency])
    return buf.getvalue().encode("utf-8")


__all__ = ["ManifestSummary", "build", "close", "listing", "manifest_csv", "manifest_pdf", "rows"]
