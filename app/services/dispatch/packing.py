"""The packing station: every unit scanned into a carton, checked before the carton closes.

A shipment is opened for an order (``start``: one open shipment an order at a time), cartons are
opened with an SSCC (``open_carton``; the suggested box from ``cartonize`` unless one is named),
each scan packs units of an order line (``pack``): an item not on the order, more than was picked,
a serial-tracked item without its serial (or with one that is not in stock, or packed already) are
refused with the reason and change nothing. ``unpack`` takes a mis-scan back. ``close_carton``
needs the weight (typed, or the scale's reading as keyboard input) and refuses a carton over its
box's limit; closing the last carton while picked units are still unpacked is refused (the missing
items are named) unless the packer says why it goes short. Once every carton is closed the shipment
is ``packed``: ready to rate, label and confirm.

What may be packed of a line is what was picked to the packing location and not packed yet
(``picking.picked_unpacked``; this module tells it what cartons hold), or, for a line that was never
on a wave, what is reserved and not yet packed as far as the packing location holds it.
"""

from __future__ import annotations

import re
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.dispatch import PickLine, Wave
from app.models.org import Location
from app.models.packing import Carton, CartonLine, CartonType
from app.models.parties import Carrier, Customer
from app.models.receiving import SerialNumber
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.models.stock import StockBalance
from app.models.workflow import SHIPMENT_UNCONFIRMED
from app.services.auth import Actor
from app.services.dispatch import cartonize
from app.services.dispatch.confirm import find_shipment
from app.services.dispatch.picking import picked_unpacked, register_packed_source
from app.services.dispatch.sscc import next_sscc
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.items import find_by_code
from app.services.numbering import next_number
from app.services.receiving.scan import parse_scan
from app.services.workflow import transition

_WEIGHT = re.compile(r"([+-]?\d+(?:\.\d+)?)\s*(kg|g|lbs|lb|oz)?\s*$")
_GRAMS = {"kg": Decimal(1000), "g": Decimal(1), "lb": Decimal("453.59237"), "lbs": Decimal("453.59237"),
          "oz": Decimal("28.349523125")}

#: an order may be packed in these states (credit holds, drafts, cancelled ones never)
PACKABLE_ORDER = ("allocated", "picking", "backordered", "packed")


class NeedSerial(ValidationError):
    """A serial-tracked item was scanned without its serial: the station asks for it."""


@dataclass
class PackLine:
    line_id: uuid.UUID
    line_no: int
    sku: str
    description: str
    ordered: int
    shipped: int
    packable: int
    packed: int
    serial: bool
    lot: bool

    @property
    def missing(self) -> int:
        return max(self.packable - self.packed, 0)


@dataclass
class PackState:
    """What the station shows: the shipment, its cartons and every line's figures."""

    shipment: str
    order: str
    customer: str
    status: str
    carrier: str
    cartons: list[dict[str, object]]
    lines: list[PackLine]
    suggestion: str = ""
    current: int | None = None  # seq of the open carton scans go into

    @property
    def missing(self) -> list[PackLine]:
        return [ln for ln in self.lines if ln.missing]


@dataclass
class PackOutcome:
    ok: bool
    message: str
    sku: str = ""
    qty: int = 0
    carton: int = 0
    state: PackState | None = None
    notes: list[str] = field(default_factory=list)


# ------------------------------------------------------------------------------------------------
def _order(session: Session, s: Shipment) -> SalesOrder:
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    if order is None:
        raise Conflict(f"shipment {s.number} has no order to pack")
    return order


def packed_by_line(session: Session, order_id: uuid.UUID, *, unconfirmed_only: bool = False) -> dict[uuid.UUID, int]:
    """Units of each order line in cartons (of shipments not cancelled; only those not yet confirmed)."""
    states = tuple(SHIPMENT_UNCONFIRMED) if unconfirmed_only else (*SHIPMENT_UNCONFIRMED, "label_created")
    q = (select(CartonLine.order_line_id, func.sum(CartonLine.qty))
         .join(Carton, Carton.id == CartonLine.carton_id).join(Shipment, Shipment.id == Carton.shipment_id)
         .where(Shipment.sales_order_id == order_id, Carton.status != "cancelled", CartonLine.deleted_at.is_(None),
                Carton.deleted_at.is_(None))
         .group_by(CartonLine.order_line_id))
    if unconfirmed_only:
        q = q.where(Shipment.status.in_(states))
    else:
        q = q.where(Shipment.status != "cancelled")
    return {lid: int(n or 0) for lid, n in session.execute(q)}


def packable(session: Session, order: SalesOrder) -> dict[uuid.UUID, int]:
    """Line id -> units that may still be packed: what was picked and not packed yet
    (``picking.picked_unpacked``). A line never on a wave (a serial-tracked item, which waves do not
    pick yet, brought to the packing location by hand): what is reserved and not packed, as far as
    the packing location holds the item beyond what is packed already."""
    lines = list(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id,
                                                              SalesOrderLine.deleted_at.is_(None),
                                                              SalesOrderLine.status != "cancelled")))
    on_waves = set(session.scalars(select(PickLine.order_line_id).join(Wave, Wave.id == PickLine.wave_id).where(
        PickLine.order_id == order.id, PickLine.deleted_at.is_(None), PickLine.status != "cancelled",
        Wave.status != "cancelled")))
    picked = picked_unpacked(session, order.id) if on_waves else {}
    off = [ln for ln in lines if ln.id not in on_waves]
    out = {ln.id: picked.get(ln.id, 0) for ln in lines if ln.id in on_waves}
    if off:
        packed = packed_by_line(session, order.id, unconfirmed_only=True)
        spare = _spare_at_pack(session, order.warehouse_id, {ln.item_id for ln in off})
        for ln in off:
            out[ln.id] = max(min(ln.qty_allocated - packed.get(ln.id, 0), spare.get(ln.item_id, 0)), 0)
    return out


def _spare_at_pack(session: Session, warehouse_id: uuid.UUID, items: set[uuid.UUID]) -> dict[uuid.UUID, int]:
    """Units of each item in the warehouse's packing location not in an open shipment's carton."""
    loc = session.scalar(select(Location.id).where(Location.warehouse_id == warehouse_id, Location.kind == "pack"))
    if loc is None:
        return {}
    have = {i: int(q or 0) for i, q in session.execute(
        select(StockBalance.item_id, func.sum(StockBalance.qty)).where(
            StockBalance.location_id == loc, StockBalance.item_id.in_(items)).group_by(StockBalance.item_id))}
    inside = {i: int(q or 0) for i, q in session.execute(
        select(CartonLine.item_id, func.sum(CartonLine.qty)).join(Carton, Carton.id == CartonLine.carton_id)
        .join(Shipment, Shipment.id == Carton.shipment_id)
        .where(CartonLine.item_id.in_(items), CartonLine.deleted_at.is_(None), Carton.status != "cancelled",
               Shipment.status.in_(tuple(SHIPMENT_UNCONFIRMED)), Shipment.warehouse_id == warehouse_id)
        .group_by(CartonLine.item_id))}
    return {i: have.get(i, 0) - inside.get(i, 0) for i in items}


@register_packed_source
def _packed_from_picks(session: Session, order_id: uuid.UUID) -> dict[uuid.UUID, int]:
    """What ``picking.picked_unpacked`` leaves out: every unit in a carton of a shipment not
    cancelled (packed, or shipped since)."""
    return packed_by_line(session, order_id)


def state(session: Session, ref: str | uuid.UUID) -> PackState:
    s = find_shipment(session, ref)
    order = _order(session, s)
    cust_name = session.scalar(select(Customer.name).where(Customer.id == order.customer_id)) or ""
    carrier = session.scalar(select(Carrier.name).where(Carrier.id == s.carrier_id)) or ""
    cartons = []
    current = None
    content: dict[uuid.UUID, dict[uuid.UUID, int]] = defaultdict(lambda: defaultdict(int))
    rows = session.execute(select(CartonLine.carton_id, CartonLine.order_line_id, CartonLine.qty)
                           .join(Carton, Carton.id == CartonLine.carton_id)
                           .where(Carton.shipment_id == s.id, CartonLine.deleted_at.is_(None)))
    for cid, lid, q in rows:
        content[cid][lid] += int(q)
    types = {t.id: t.code for t in session.scalars(select(CartonType))}
    for c in session.scalars(select(Carton).where(Carton.shipment_id == s.id, Carton.deleted_at.is_(None),
                                                  Carton.status != "cancelled").order_by(Carton.seq)):
        units = sum(content[c.id].values())
        cartons.append({"seq": c.seq, "sscc": c.sscc, "type": types.get(c.carton_type_id, "") if c.carton_type_id else "",
                        "status": c.status, "units": units, "weight_g": c.weight_g})
        if c.status == "open":
            current = c.seq
    can = packable(session, order)
    here: dict[uuid.UUID, int] = defaultdict(int)
    for per in content.values():
        for lid, q in per.items():
            here[lid] += q
    lines = []
    for ln, it in session.execute(select(SalesOrderLine, Item).join(Item, Item.id == SalesOrderLine.item_id)
                                  .where(SalesOrderLine.order_id == order.id, SalesOrderLine.deleted_at.is_(None),
                                         SalesOrderLine.status != "cancelled").order_by(SalesOrderLine.line_no)):
        # what this shipment may still take = what it has + what is left to pack anywhere
        lines.append(PackLine(ln.id, ln.line_no, it.sku, it.description, ln.qty_ordered, ln.qty_shipped,
                              here[ln.id] + can.get(ln.id, 0),
                              here[ln.id], it.track_serial, it.track_lot))
    sugg = suggestion(session, s.id) if s.status == "packing" else ""
    return PackState(s.number, order.number, cust_name, s.status, carrier, cartons, lines, sugg, current)


def suggestion(session: Session, shipment_id: uuid.UUID) -> str:
    """The cartonization for what is still to pack of the shipment's order, in one sentence."""
    s = session.get(Shipment, shipment_id)
    assert s is not None
    order = _order(session, s)
    can = packable(session, order)
    items = dict(session.execute(select(SalesOrderLine.id, SalesOrderLine.item_id)
                                 .where(SalesOrderLine.id.in_(list(can)))).all())
    units = cartonize.units_for(session, {lid: (items[lid], q) for lid, q in can.items() if q > 0})
    plan = cartonize.suggest(units, cartonize.boxes(session))
    return plan.sentence({u.line_id: u.sku for u in units})


# ------------------------------------------------------------------------------------------------
def _default_carrier(session: Session, order: SalesOrder) -> uuid.UUID:
    cid = getattr(order, "carrier_id", None)
    if cid is not None:
        return uuid.UUID(str(cid)) if not isinstance(cid, uuid.UUID) else cid
    found = session.scalar(select(Carrier.id).where(Carrier.deleted_at.is_(None), Carrier.active.is_(True))
                           .order_by(Carrier.code))
    if found is None:
        raise Conflict("no carrier in the master data: add one first")
    return found


def start(session: Session, actor: Actor, order_ref: str | uuid.UUID, *, carrier: str | None = None) -> Shipment:
    """The order's open shipment, or a new one (status packing)."""
    actor.require("dispatch.ship")
    if isinstance(order_ref, uuid.UUID):
        order = session.get(SalesOrder, order_ref)
    else:
        order = session.scalar(select(SalesOrder).where(SalesOrder.number == str(order_ref).strip().upper()))
    if order is None or order.deleted_at is not None:
        raise NotFound("sales order", order_ref)
    existing = session.scalar(select(Shipment).where(Shipment.sales_order_id == order.id, Shipment.status == "packing",
                                                     Shipment.deleted_at.is_(None)))
    if existing is not None:
        return existing
    if order.status not in PACKABLE_ORDER:
        why = {"credit_hold": "is on credit hold", "cancelled": "was cancelled"}.get(order.status,
                                                                                   f"is {order.status.replace('_', ' ')}")
        raise Conflict(f"order {order.number} {why}: it cannot be packed")
    if not any(q > 0 for q in packable(session, order).values()):
        raise Conflict(f"order {order.number} has nothing picked or reserved to pack")
    carrier_id = _default_carrier(session, order)
    if carrier:
        carrier_id = session.scalar(select(Carrier.id).where(Carrier.code == carrier.strip().upper())) or carrier_id
    s = Shipment(number=next_number(session, order.owner_branch_id, "SH"), sales_order_id=order.id,
                 warehouse_id=order.warehouse_id, carrier_id=carrier_id, status="packing",
                 promised_date=order.promised_date or order.requested_date, owner_branch_id=order.owner_branch_id)
    session.add(s)
    session.flush()
    return s


def _carton_type(session: Session, code: str) -> CartonType:
    t = session.scalar(select(CartonType).where(CartonType.code == code.strip().upper(), CartonType.deleted_at.is_(None)))
    if t is None:
        raise NotFound("carton type", code)
    return t


def open_carton(session: Session, actor: Actor, ref: str | uuid.UUID, carton_type: str | None = None) -> Carton:
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status != "packing":
        raise Conflict(f"shipment {s.number} is {s.status}: reopen it to add cartons")
    seq = (session.scalar(select(func.max(Carton.seq)).where(Carton.shipment_id == s.id)) or 0) + 1
    t = _carton_type(session, carton_type) if carton_type else None
    if t is None:
        first = suggestion(session, s.id).split(" x ", 1)
        code = first[1].split(",")[0].split(";")[0].split(" ")[0] if len(first) == 2 else ""
        t = session.scalar(select(CartonType).where(CartonType.code == code)) if code else None
    c = Carton(shipment_id=s.id, seq=seq, sscc=next_sscc(session, s.owner_branch_id),
               carton_type_id=t.id if t else None, owner_branch_id=s.owner_branch_id,
               length_mm=t.length_mm if t else 0, width_mm=t.width_mm if t else 0, height_mm=t.height_mm if t else 0)
    session.add(c)
    session.flush()
    return c


def _current(session: Session, s: Shipment, actor: Actor) -> Carton:
    c = session.scalar(select(Carton).where(Carton.shipment_id == s.id, Carton.status == "open",
                                            Carton.deleted_at.is_(None)).order_by(Carton.seq.desc()))
    return c if c is not None else open_carton(session, actor, s.id)


def _lot(session: Session, item: Item, code: str) -> uuid.UUID | None:
    if not item.track_lot:
        return None
    if not code:
        raise ValidationError("lot", f"{item.sku} is lot-tracked: scan its lot (LOT:... or the GS1 label)")
    lot = session.scalar(select(Lot.id).where(Lot.item_id == item.id, Lot.lot_code == code))
    if lot is None:
        raise ValidationError("lot", f"lot {code} of {item.sku} is unknown")
    return lot


def pack(session: Session, actor: Actor, ref: str | uuid.UUID, code: str, *, qty: int = 1, lot: str = "",
         serial: str = "") -> PackOutcome:
    """Pack ``qty`` units of the scanned item into the shipment's open carton (one is opened if none)."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status != "packing":
        raise Conflict(f"shipment {s.number} is {s.status}: it is not being packed")
    if qty <= 0:
        raise ValidationError("quantity", "must be more than zero")
    scan = parse_scan(code)
    if scan.kind == "sscc":
        raise ValidationError("scan", "that is a carton label (SSCC), not an item")
    item_code = scan.gtin or scan.text or code.strip()
    lot = lot or scan.lot
    serial = (serial or scan.serial).strip()
    item_id = find_by_code(session, item_code)
    order = _order(session, s)
    item = session.get(Item, item_id) if item_id else None
    if item is None:
        raise ValidationError("scan", f"{item_code} is no item we know")
    line = session.scalar(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id,
                                                       SalesOrderLine.item_id == item.id,
                                                       SalesOrderLine.deleted_at.is_(None),
                                                       SalesOrderLine.status != "cancelled")
                          .order_by(SalesOrderLine.line_no))
    if line is None:
        raise ValidationError("scan", f"{item.sku} is not on order {order.number}")
    left = packable(session, order).get(line.id, 0)
    if qty > left:
        done = packed_by_line(session, order.id, unconfirmed_only=True).get(line.id, 0)
        raise ValidationError("quantity", f"{item.sku}: {done} packed of {done + left} picked; {qty} more would "
                                          "be more than was picked")
    if item.track_serial:
        if not serial:
            raise NeedSerial("serial", f"{item.sku} is serial-tracked: scan its serial (SN:...)")
        if qty != 1:
            raise ValidationError("quantity", "a serial-tracked unit is packed one at a time")
        known = session.scalar(select(SerialNumber.status).where(SerialNumber.item_id == item.id,
                                                                 SerialNumber.serial == serial))
        if known != "in_stock":
            raise ValidationError("serial", f"serial {serial} of {item.sku} is "
                                            f"{'not in stock' if known is None else known.replace('_', ' ')}")
        dup = session.scalar(select(Carton.seq).join(CartonLine, CartonLine.carton_id == Carton.id)
                             .join(Shipment, Shipment.id == Carton.shipment_id)
                             .where(CartonLine.item_id == item.id, CartonLine.serial_no == serial,
                                    Carton.status != "cancelled", Shipment.status != "cancelled",
                                    CartonLine.deleted_at.is_(None)))
        if dup is not None:
            raise ValidationError("serial", f"serial {serial} of {item.sku} is packed already")
    elif serial:
        raise ValidationError("serial", f"{item.sku} is not serial-tracked")
    lot_id = _lot(session, item, lot)
    carton = _current(session, s, actor)
    row = session.scalar(select(CartonLine).where(CartonLine.carton_id == carton.id, CartonLine.order_line_id == line.id,
                                                  CartonLine.lot_id.is_(lot_id) if lot_id is None
                                                  else CartonLine.lot_id == lot_id,
                                                  CartonLine.serial_no == serial, CartonLine.deleted_at.is_(None)))
    if row is None or serial:
        session.add(CartonLine(carton_id=carton.id, order_line_id=line.id, item_id=item.id, lot_id=lot_id,
                               serial_no=serial, qty=qty, owner_branch_id=s.owner_branch_id))
    else:
        row.qty += qty
    session.flush()
    extra = f" serial {serial}" if serial else ""
    return PackOutcome(True, f"{qty} x {item.sku}{extra} into carton {carton.seq} ({left - qty} left to pack)",
                       item.sku, qty, carton.seq)


def unpack(session: Session, actor: Actor, ref: str | uuid.UUID, code: str, *, qty: int = 1,
           carton: int | None = None) -> PackOutcome:
    """Take units back out of an open carton (a mis-scan)."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    item_id = find_by_code(session, parse_scan(code).gtin or parse_scan(code).text or code)
    q = (select(CartonLine, Carton).join(Carton, Carton.id == CartonLine.carton_id)
         .where(Carton.shipment_id == s.id, Carton.status == "open", CartonLine.item_id == item_id,
                CartonLine.deleted_at.is_(None)).order_by(Carton.seq.desc()))
    if carton is not None:
        q = q.where(Carton.seq == carton)
    found = session.execute(q).first()
    if found is None:
        raise ValidationError("scan", f"{code} is in no open carton of {s.number}")
    row, c = found
    if qty > row.qty:
        raise ValidationError("quantity", f"carton {c.seq} holds only {row.qty}")
    row.qty -= qty
    if row.qty == 0:
        session.delete(row)
    session.flush()
    return PackOutcome(True, f"{qty} taken out of carton {c.seq}", carton=c.seq, qty=qty)


def close_carton(session: Session, actor: Actor, ref: str | uuid.UUID, weight_g: int, *, seq: int | None = None,
                 dims: tuple[int, int, int] | None = None, carton_type: str | None = None, last: bool = False,
                 short_reason: str = "") -> PackOutcome:
    """Weigh and close a carton; ``last``: the shipment is complete (missing items refused unless
    ``short_reason``), and becomes packed."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    q = select(Carton).where(Carton.shipment_id == s.id, Carton.status == "open", Carton.deleted_at.is_(None))
    c = session.scalar(q.where(Carton.seq == seq) if seq is not None else q.order_by(Carton.seq.desc()))
    if c is None:
        raise Conflict(f"shipment {s.number} has no open carton{'' if seq is None else f' {seq}'}")
    units = session.scalar(select(func.coalesce(func.sum(CartonLine.qty), 0))
                           .where(CartonLine.carton_id == c.id, CartonLine.deleted_at.is_(None))) or 0
    if not units:
        raise Conflict(f"carton {c.seq} is empty: scan items into it first")
    if weight_g <= 0:
        raise ValidationError("weight", f"carton {c.seq}: weigh it (grams, typed or from the scale)")
    if weight_g > 1_000_000:
        raise ValidationError("weight", f"{weight_g} g is not a carton's weight")
    t = _carton_type(session, carton_type) if carton_type else (session.get(CartonType, c.carton_type_id)
                                                                  if c.carton_type_id else None)
    if t is not None and weight_g > t.max_weight_g:
        raise Conflict(f"carton {c.seq} weighs {weight_g / 1000:.1f} kg, over the {t.code} box's limit of "
                       f"{t.max_weight_g / 1000:.1f} kg: move some items to another carton")
    st = state(session, s.id)
    others_open = [x for x in st.cartons if x["status"] == "open" and x["seq"] != c.seq]
    if last and others_open:
        raise Conflict(f"carton {others_open[0]['seq']} is still open: close it first")
    if last and st.missing and not " ".join(short_reason.split()):
        miss = ", ".join(f"{ln.sku} {ln.missing} of {ln.packable}" for ln in st.missing)
        raise Conflict(f"not everything picked is packed: {miss} still to pack; scan them, or say why it goes short")
    if t is not None:
        c.carton_type_id = t.id
        if dims is None:
            dims = (t.length_mm, t.width_mm, t.height_mm)
    c.weight_g = weight_g
    if dims is not None:
        if any(d <= 0 or d > 5000 for d in dims):
            raise ValidationError("dimensions", "each side between 1 and 5,000 mm")
        c.length_mm, c.width_mm, c.height_mm = dims
    transition(c, "closed", actor, sscc=c.sscc, weight_g=weight_g)
    notes = []
    if last:
        transition(s, "packed", actor, short_reason or None, cartons=len(st.cartons))
        notes.append(f"{s.number} packed in {len(st.cartons)} carton(s): rate it and buy its label")
    session.flush()
    return PackOutcome(True, f"carton {c.seq} closed at {weight_g / 1000:.2f} kg" + (f"; {notes[0]}" if notes else ""),
                       carton=c.seq, notes=notes)


def reopen(session: Session, actor: Actor, ref: str | uuid.UUID) -> Shipment:
    """A packed shipment without a label goes back to packing (its last carton reopens)."""
    actor.require("dispatch.ship")
    s = find_shipment(session, ref)
    if s.status != "packed":
        raise Conflict(f"shipment {s.number} is {s.status}: only a packed one is reopened")
    if s.label_id is not None:
        raise Conflict(f"shipment {s.number} has label {s.label_number}: void it first")
    transition(s, "packing", actor)
    last = session.scalar(select(Carton).where(Carton.shipment_id == s.id, Carton.status == "closed")
                          .order_by(Carton.seq.desc()))
    if last is not None:
        transition(last, "open", actor)
    session.flush()
    return s


def scale_reading(text: str) -> int:
    """A scale's keyboard output ('1.25 kg', '1250 g', '2.75 lb', 'ST,GS,+  1.250kg') -> grams."""
    t = text.strip().lower().replace(",", " ")
    m = _WEIGHT.search(t)
    if m is None:
        raise ValidationError("weight", f"{text!r} is not a weight (1.25 kg, 1250 g, 2.75 lb)")
    grams = Decimal(m.group(1)) * _GRAMS[m.group(2) or "g"]
    if grams <= 0:
        raise ValidationError("weight", "must be more than zero")
    return int(grams.to_integral_value(ROUND_HALF_UP))


__all__ = ["NeedSerial", "PackOutcome", "PackState", "close_carton", "open_carton", "pack", "reopen",
           "scale_reading", "start", "state", "unpack"]
