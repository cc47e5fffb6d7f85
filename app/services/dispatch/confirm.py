"""Ship confirmation: a packed, labelled shipment leaves the building.

One call, one transaction, validate -> plan -> apply: the stock moves out of the warehouse's
packing location to the customer, ``shipment_line`` rows record what went (Billing invoices
from them), the order lines' shipped quantities rise and their reservations are consumed (a
``ship`` allocation run), the order's status follows, the freight quoted and billed is on the
shipment, and tracking takes it on (``label_created`` with ``next_poll_at``). ``ShipmentConfirmed``
is emitted last, in the same transaction. Anything wrong refuses the whole confirmation.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.allocation import Allocation, AllocationRun
from app.models.catalog import Item
from app.models.org import Location
from app.models.packing import Carton, CartonLine, ShipmentLabel, ShipmentLine
from app.models.receiving import SerialNumber
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.models.types import utcnow
from app.models.workflow import WORKFLOWS
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound
from app.services.events import ShipmentConfirmed, emit
from app.services.numbering import next_number
from app.services.stock import MoveSpec, post_moves, virtual_location
from app.services.tracking.policy import policy_for
from app.services.workflow import transition

#: order states a shipment may leave from (credit holds, cancelled and drafts never ship)
SHIPPABLE_ORDER = ("allocated", "picking", "packed", "backordered", "open")


@dataclass
class ConfirmResult:
    shipment: str
    order: str
    tracking_number: str
    lines: int
    units: int
    order_status: str
    notes: list[str] = field(default_factory=list)

    def sentence(self) -> str:
        return (f"{self.shipment} confirmed: {self.units} units on {self.lines} line{'' if self.lines == 1 else 's'}, tracking "
                f"{self.tracking_number}; order {self.order} is {self.order_status.replace('_', ' ')}")


def find_shipment(session: Session, ref: str | uuid.UUID) -> Shipment:
    """By id, number or tracking / label number (what the CLI and the scan field take)."""
    if isinstance(ref, uuid.UUID):
        s = session.get(Shipment, ref)
    else:
        key = str(ref).strip()
        s = session.scalar(select(Shipment).where(Shipment.deleted_at.is_(None), Shipment.number == key.upper()))
        if s is None and key:
            s = session.scalar(select(Shipment).where(Shipment.deleted_at.is_(None), (Shipment.tracking_number == key)
                                                      | (Shipment.label_number == key)))
    if s is None or s.deleted_at is not None:
        raise NotFound("shipment", ref)
    return s


def pack_location(session: Session, warehouse_id: uuid.UUID) -> Location:
    """The warehouse's packing location (picks bring stock there; shipping takes it out)."""
    loc = session.scalar(select(Location).where(Location.warehouse_id == warehouse_id, Location.kind == "pack",
                                                Location.deleted_at.is_(None)).limit(1))
    if loc is None:
        raise Conflict("the warehouse has no packing location (kind 'pack'): run depot db upgrade or add one")
    return loc


@dataclass
class _Plan:
    moves: list[MoveSpec]
    #: (order line id, lot id) -> qty, serials
    shipped: dict[tuple[uuid.UUID, uuid.UUID | None], int]
    serials: dict[tuple[uuid.UUID, uuid.UUID | None], list[str]]
    lines: dict[uuid.UUID, SalesOrderLine]


def _validate(session: Session, actor: Actor, s: Shipment) -> tuple[SalesOrder | None, ShipmentLabel, list[CartonLine]]:
    actor.require("dispatch.ship")
    if s.status != "packed":
        if s.status == "packing":
            raise Conflict(f"shipment {s.number} is still being packed: close every carton first")
        raise Conflict(f"shipment {s.number} is {s.status.replace('_', ' ')}: it was confirmed already")
    label = session.get(ShipmentLabel, s.label_id) if s.label_id else None
    if label is None or label.status != "active" or not s.label_number:
        raise Conflict(f"shipment {s.number} has no label yet: buy one first (depot label {s.number})")
    order = session.get(SalesOrder, s.sales_order_id) if s.sales_order_id else None
    if order is not None and order.status not in SHIPPABLE_ORDER:
        why = {"credit_hold": "is on credit hold", "cancelled": "was cancelled"}.get(order.status, f"is {order.status}")
        raise Conflict(f"order {order.number} {why}: shipment {s.number} cannot go")
    cartons = list(session.scalars(select(Carton).where(Carton.shipment_id == s.id, Carton.deleted_at.is_(None),
                                                        Carton.status != "cancelled")))
    if not cartons:
        raise Conflict(f"shipment {s.number} has no cartons")
    open_ = [c.seq for c in cartons if c.status != "closed"]
    if open_:
        raise Conflict(f"shipment {s.number}: carton {open_[0]} is still open")
    lines = list(session.scalars(select(CartonLine).where(CartonLine.carton_id.in_([c.id for c in cartons]),
                                                          CartonLine.deleted_at.is_(None))))
    if not lines:
        raise Conflict(f"shipment {s.number}: its cartons are empty")
    return order, label, lines


def _plan(session: Session, s: Shipment, carton_lines: list[CartonLine]) -> _Plan:
    pack = pack_location(session, s.warehouse_id)
    customer = virtual_location(session, s.warehouse_id, "customer")
    ids = {cl.order_line_id for cl in carton_lines}
    lines = {ln.id: ln for ln in session.scalars(select(SalesOrderLine).where(SalesOrderLine.id.in_(ids)))}
    shipped: dict[tuple[uuid.UUID, uuid.UUID | None], int] = defaultdict(int)
    serials: dict[tuple[uuid.UUID, uuid.UUID | None], list[str]] = defaultdict(list)
    moves: list[MoveSpec] = []
    for cl in sorted(carton_lines, key=lambda c: (str(c.order_line_id), c.serial_no)):
        ln = lines.get(cl.order_line_id)
        if ln is None or ln.deleted_at is not None or (s.sales_order_id and ln.order_id != s.sales_order_id):
            raise Conflict(f"shipment {s.number}: a carton holds a line that is not on its order")
        shipped[(ln.id, cl.lot_id)] += cl.qty
        if cl.serial_no:
            serials[(ln.id, cl.lot_id)].append(cl.serial_no)
        moves.append(MoveSpec(cl.item_id, cl.qty, pack.id, customer.id, "sale", lot_id=cl.lot_id,
                              serial_no=cl.serial_no or None, doc_type="shipment", doc_id=s.id, doc_line_id=ln.id))
    per_line: dict[uuid.UUID, int] = defaultdict(int)
    for (lid, _lot), q in shipped.items():
        per_line[lid] += q
    skus = dict(session.execute(select(Item.id, Item.sku).where(Item.id.in_({ln.item_id for ln in lines.values()}))).all())
    for lid, q in per_line.items():
        ln = lines[lid]
        if ln.status == "cancelled":
            raise Conflict(f"line {ln.line_no} ({skus.get(ln.item_id)}) was cancelled: unpack it before shipping")
        left = ln.qty_ordered - ln.qty_shipped
        if q > left:
            raise Conflict(f"line {ln.line_no} ({skus.get(ln.item_id)}): {q} packed, only {left} still to ship")
    return _Plan(moves, dict(shipped), dict(serials), lines)


def _consume_allocation(session: Session, actor: Actor, s: Shipment, order_id: uuid.UUID, plan: _Plan,
                        now: dt.datetime) -> None:
    """Shipping uses up the line's reservation: negative allocation rows (the shipped lot first)
    in a ``ship`` run, and ``qty_allocated`` follows."""
    held: dict[tuple[uuid.UUID, uuid.UUID | None], int] = {
        (lid, lot): int(q) for lid, lot, q in session.execute(
            select(Allocation.order_line_id, Allocation.lot_id, func.sum(Allocation.qty))
            .where(Allocation.order_line_id.in_(list(plan.lines))).group_by(Allocation.order_line_id, Allocation.lot_id))}
    rows: list[tuple[uuid.UUID, uuid.UUID | None, int]] = []
    for (lid, lot), qty in sorted(plan.shipped.items(), key=lambda kv: (str(kv[0][0]), str(kv[0][1]))):
        want = qty
        lots = [lot] + [k[1] for k in held if k[0] == lid and k[1] != lot]
        for lt in lots:
            have = held.get((lid, lt), 0)
            take = min(have, want)
            if take > 0:
                rows.append((lid, lt, -take))
                held[(lid, lt)] = have - take
                want -= take
            if want == 0:
                break
    if not rows:
        return
    run = AllocationRun(number=next_number(session, s.owner_branch_id, "AL"), kind="ship", warehouse_id=s.warehouse_id,
                        trigger=f"shipment {s.number}"[:120], started_at=now, finished_at=now,
                        user_id=actor.user_id, username=actor.username, lines_considered=len(plan.lines),
                        lines_changed=len({r[0] for r in rows}), units_released=-sum(r[2] for r in rows),
                        owner_branch_id=s.owner_branch_id)
    session.add(run)
    session.flush()
    for lid, lot, q in rows:
        ln = plan.lines[lid]
        session.add(Allocation(run_id=run.id, order_id=order_id, order_line_id=lid, item_id=ln.item_id,
                               warehouse_id=s.warehouse_id, lot_id=lot, qty=q, rule="ship",
                               reason=f"shipped on {s.number}"[:200], owner_branch_id=s.owner_branch_id))
        ln.qty_allocated += q


def _settle_order(actor: Actor, order: SalesOrder, lines: list[SalesOrderLine], s: Shipment,
                  shipped_on_pickup: bool) -> None:
    """The order follows its lines: everything gone -> packed (shipped at the carrier's pickup, or at
    once when the branch does not wait for it); something left -> allocated or backordered."""
    live = [ln for ln in lines if ln.status != "cancelled" and ln.deleted_at is None]
    for ln in live:
        if ln.qty_shipped >= ln.qty_ordered and ln.status in ("open", "picking"):
            transition(ln, "shipped", actor)
    if all(ln.status in ("shipped", "closed") for ln in live):
        path = {"open": ("allocated", "picking", "packed"), "backordered": ("allocated", "picking", "packed"),
                "allocated": ("picking", "packed"), "picking": ("packed",), "packed": ()}[order.status]
        for st in path:
            transition(order, st, actor, f"shipment {s.number}", shipment=s.number)
        if not shipped_on_pickup:
            transition(order, "shipped", actor, f"shipment {s.number} confirmed", shipment=s.number)
        return
    if any(ln.status == "picking" for ln in live):
        return  # the rest is still being picked: the order stays where the wave has it
    short = sum(max(ln.qty_ordered - ln.qty_shipped - ln.qty_allocated, 0) for ln in live if ln.status == "open")
    want = "backordered" if short else "allocated"
    if order.status == want:
        return
    if order.status in ("picking", "packed") and want == "backordered":
        if order.status == "picking":
            transition(order, "allocated", actor, f"shipment {s.number} (part)", shipment=s.number)
        else:
            return
    if order.status != want and want in WORKFLOWS["sales_order"].get(order.status, frozenset()):
        transition(order, want, actor, f"shipment {s.number} (part)", shipment=s.number)


def _serials_shipped(session: Session, actor: Actor, s: Shipment, carton_lines: list[CartonLine]) -> None:
    """The serial registry follows the stock: each serial that went is ``shipped``."""
    wanted = {(cl.item_id, cl.serial_no) for cl in carton_lines if cl.serial_no}
    if not wanted:
        return
    for sn in session.scalars(select(SerialNumber).where(SerialNumber.item_id.in_({i for i, _s in wanted}),
                                                         SerialNumber.serial.in_({x for _i, x in wanted}))):
        if (sn.item_id, sn.serial) in wanted and sn.status == "in_stock":
            transition(sn, "shipped", actor, shipment=s.number)


def confirm_shipment(session: Session, actor: Actor, ref: str | uuid.UUID, *,
                     now: dt.datetime | None = None) -> ConfirmResult:
    """Confirm a packed, labelled shipment (see the module docstring); the caller commits."""
    now = now or utcnow()
    s = find_shipment(session, ref)
    order, label, carton_lines = _validate(session, actor, s)
    plan = _plan(session, s, carton_lines)
    # apply
    post_moves(session, actor, plan.moves, owner_branch_id=s.owner_branch_id, at=now)
    written: list[ShipmentLine] = []
    for (lid, lot), qty in sorted(plan.shipped.items(), key=lambda kv: plan.lines[kv[0][0]].line_no):
        ln = plan.lines[lid]
        row = ShipmentLine(shipment_id=s.id, order_id=ln.order_id, order_line_id=lid, item_id=ln.item_id, lot_id=lot,
                           qty=qty, unit_price=ln.unit_price, serials=",".join(sorted(plan.serials.get((lid, lot), []))),
                           owner_branch_id=s.owner_branch_id)
        session.add(row)
        written.append(row)
        ln.qty_shipped += qty
    if order is not None:
        _consume_allocation(session, actor, s, order.id, plan, now)
    _serials_shipped(session, actor, s, carton_lines)
    session.flush()
    s.tracking_number = s.label_number
    s.account_id = label.account_id or s.account_id
    if s.freight_billed is None and label.amount is not None:
        s.freight_billed = label.amount
        s.freight_currency = label.currency
    s.moved_at = now
    s.next_poll_at = now + dt.timedelta(minutes=policy_for(session, s.owner_branch_id).label_minutes)
    transition(s, "label_created", actor, at=now, order=order.number if order else "", lines=len(written),
               units=sum(plan.shipped.values()), tracking=s.tracking_number,
               freight_quoted=str(s.freight_quoted) if s.freight_quoted is not None else "",
               freight_billed=str(s.freight_billed) if s.freight_billed is not None else "")
    if order is not None:
        all_lines = list(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id)))
        _settle_order(actor, order, all_lines, s, policy_for(session, s.owner_branch_id).order_shipped_on_pickup)
    session.flush()
    event = emit(session, ShipmentConfirmed(actor, shipment=s, order=order, lines=written))
    return ConfirmResult(s.number, order.number if order else "", s.tracking_number, len(written),
                         sum(plan.shipped.values()), order.status if order else "", list(event.notes))


