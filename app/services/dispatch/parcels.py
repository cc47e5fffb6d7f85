"""What a carrier is told about a shipment: the addresses and the parcels (its closed cartons),
read from the database into the carriers' plain ``ShipmentRequest``; and each carrier's parcel
weight limit.

Addresses are free text in Depot (a warehouse's, an order's ship-to); the carriers need a postal
code for a zone. We read the ZIP from the text; a ship-to without one ("1200 Main St, HOU") takes
the ZIP of the branch it names, else the shipping warehouse's (a local delivery).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch, Warehouse
from app.models.packing import Carton
from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.carriers.model import Address, Parcel, ShipmentRequest
from app.services.errors import Conflict

#: the heaviest parcel each carrier takes (grams) unless the carrier row says otherwise
#: (UPS and FedEx 150 lb, USPS 70 lb, DHL eCommerce parcels 25 kg; the sandbox as FedEx)
DEFAULT_MAX_PARCEL_G = {"ups": 68_038, "fedex": 68_038, "sandbox": 68_038, "usps": 31_751, "dhl": 25_000}

_ZIP = re.compile(r"\b(\d{5})(?:-\d{4})?\b")
_STATE_ZIP = re.compile(r"\b([A-Z]{2})\s+(\d{5})(?:-\d{4})?\b")


def max_parcel_g(carrier: Carrier) -> int:
    return carrier.max_parcel_g or DEFAULT_MAX_PARCEL_G.get(carrier.api, 68_038)


def kg(grams: int) -> str:
    return f"{grams / 1000:.1f} kg"


def parse_address(text: str, name: str = "") -> Address:
    """'2400 Irving Blvd, Dallas TX 75207' or lines -> Address (street, city, state, ZIP as found)."""
    parts = [p.strip() for p in re.split(r"[\n,]", text or "") if p.strip()]
    street = parts[0] if parts else ""
    m = _STATE_ZIP.search(text or "")
    state, zip_ = (m.group(1), m.group(2)) if m else ("", (_ZIP.search(text or "") or [None, ""])[1] or "")
    city = ""
    if m:
        before = (text or "")[:m.start()].replace("\n", ",").rstrip(", ").split(",")[-1].strip()
        city = before if before != street else ""
        if " " in city and city.startswith(street):
            city = ""
    return Address(name=name[:35], street=street[:35], city=city[:30], state=state, postal_code=zip_)


def _fill_zip(session: Session, addr: Address, ship_to: str, fallback: Address) -> Address:
    if addr.postal_code:
        return addr
    words = {w.strip().upper() for w in re.split(r"[\s,\n]+", ship_to or "") if w.strip()}
    for code, address in session.execute(select(Branch.code, Branch.address).where(Branch.deleted_at.is_(None))):
        if code.upper() in words:
            b = parse_address(address)
            if b.postal_code:
                return Address(addr.name, addr.street, b.city, b.state, b.postal_code)
    return Address(addr.name, addr.street, fallback.city, fallback.state, fallback.postal_code)


def cartons_of(session: Session, shipment_id: uuid.UUID) -> list[Carton]:
    return list(session.scalars(select(Carton).where(Carton.shipment_id == shipment_id, Carton.deleted_at.is_(None),
                                                     Carton.status != "cancelled").order_by(Carton.seq)))


def shipment_request(session: Session, s: Shipment, *, ship_date: dt.date | None = None) -> ShipmentRequest:
    """The shipment as a carrier sees it; refuses one with open or unweighed cartons."""
    wh = session.get(Warehouse, s.warehouse_id)
    assert wh is not None
    origin = parse_address(wh.address, wh.name)
    if not origin.postal_code:
        branch = session.get(Branch, wh.branch_id)
        origin = parse_address(branch.address if branch else "", wh.name)
    if not origin.postal_code:
        raise Conflict(f"warehouse {wh.code} has no postal code in its address (nor its branch): carriers rate by it; "
                       "set it in Settings > Organisation")
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    cust = session.get(Customer, order.customer_id) if order else None
    ship_to = (order.ship_to if order and order.ship_to else (cust.ship_to if cust else "")) or ""
    dest = _fill_zip(session, parse_address(ship_to, cust.name if cust else ""), ship_to, origin)
    cartons = cartons_of(session, s.id)
    if not cartons:
        raise Conflict(f"shipment {s.number} has no cartons yet: pack it first")
    parcels = []
    for c in cartons:
        if c.status != "closed":
            raise Conflict(f"shipment {s.number}: carton {c.seq} is still open; close it before rating or labelling")
        if c.weight_g <= 0:
            raise Conflict(f"shipment {s.number}: carton {c.seq} has no weight; weigh it first")
        dims = (c.length_mm, c.width_mm, c.height_mm)
        parcels.append(Parcel(c.weight_g, *dims) if all(dims) else Parcel(c.weight_g))
    return ShipmentRequest(s.number, origin, dest, tuple(parcels), ship_date or dt.date.today())


def overweight(session: Session, s: Shipment, carrier: Carrier) -> str:
    """Why ``carrier`` cannot take this shipment's cartons ('' when it can)."""
    limit = max_parcel_g(carrier)
    for c in cartons_of(session, s.id):
        if c.weight_g > limit:
            return (f"carton {c.seq} of {s.number} weighs {kg(c.weight_g)}, over {carrier.name}'s limit of "
                    f"{kg(limit)} a parcel: split it")
    return ""
