"""Sales order entry: create (by keyboard, CSV or EDI), copy an earlier order, cancel a line or an
order.

An order is written by the branch whose warehouse ships it (another branch's warehouse is refused
with a sentence: it is that branch's document). Each line: an item by SKU, GTIN (of the item or of
a pack unit, which also names the unit) or id; a quantity in any unit of the item, stored in base
units; the price from the customer's price list, else the list price, or a typed price (an
override: ``price.override`` only, audited with the price it replaced). The order gets a promise per
line (date-based ATP: ``inventory.promise``), and credit control decides whether it is open or on
credit hold (``sales.credit``). Allocation is the allocation area's: a run, not entry, reserves.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom
from app.models.org import Warehouse
from app.models.parties import Customer
from app.models.sales import ORDER_SOURCES, SalesOrder, SalesOrderLine
from app.models.types import QTY_MAX, DomainValueError, to_money, to_qty
from app.services import audit
from app.services.auth import Actor, refusal
from app.services.db import get_live
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.inventory.common import require_owner
from app.services.inventory.promise import Promise, promise_lines
from app.services.numbering import next_number
from app.services.ownership import working_branch
from app.services.sales import credit, pricing
from app.services.workflow import transition

MAX_LINES = 999
#: orders that may still be cancelled (nothing picked yet)
CANCELLABLE = ("draft", "open", "credit_hold", "backordered", "allocated")


@dataclass
class LineInput:
    #: SKU, GTIN (item or pack unit) or item id
    item: str
    qty: Any
    #: '' = the item's base unit (or the pack unit a GTIN named)
    uom: str = ""
    #: a typed price per ``uom`` (an override); None = the customer's price
    unit_price: Any = None
    customer_line: str = ""


@dataclass
class OrderResult:
    order: SalesOrder
    lines: list[SalesOrderLine]
    promises: list[Promise]
    held: str | None = None
    notes: list[str] = field(default_factory=list)

    def summary(self) -> str:
        o = self.order
        text = f"{o.number}: {o.status.replace('_', ' ')}, {len(self.lines)} line(s)"
        if o.promised_date:
            text += f", promised {o.promised_date.isoformat()}"
        if self.held:
            text += f"; on credit hold: {self.held}"
        return text


# --------------------------------------------------------------------------- lookups


def find_customer(session: Session, ref: Any) -> Customer:
    """A customer by code or id; unknown and inactive customers are refused."""
    if isinstance(ref, Customer):
        cust: Customer | None = ref
    elif isinstance(ref, uuid.UUID):
        cust = session.get(Customer, ref)
    else:
        text = str(ref or "").strip()
        if not text:
            raise ValidationError("customer", "is required")
        cust = session.scalar(select(Customer).where(Customer.code == text.upper()))
    if cust is None or cust.deleted_at is not None:
        raise NotFound("customer", ref)
    if not cust.active:
        raise ValidationError("customer", f"{cust.code} is inactive: orders are not taken for it")
    return cust


def find_warehouse(session: Session, ref: Any, actor: Actor, customer: Customer) -> Warehouse:
    """The named warehouse, else the one of the branch the user works for here (``working_branch``),
    else of the customer's home branch."""
    if ref:
        wh = session.get(Warehouse, ref) if isinstance(ref, uuid.UUID) else \
            session.scalar(select(Warehouse).where(Warehouse.code == str(ref).strip().upper()))
        if wh is None or wh.deleted_at is not None:
            raise NotFound("warehouse", ref)
        return wh
    for branch in (working_branch(session, actor.branch_id), customer.home_branch_id):
        if branch is not None:
            wh = session.scalar(select(Warehouse).where(Warehouse.branch_id == branch, Warehouse.deleted_at.is_(None))
                                .order_by(Warehouse.code))
            if wh is not None:
                return wh
    raise ValidationError("warehouse", "name the warehouse that ships the order")


def _field(where: str, name: str) -> str:
    """The field a refusal names: "line 2: quantity" on an order, "quantity" alone where there is one line."""
    return f"{where}: {name}" if where else name


def find_item(session: Session, ref: str, where: str) -> tuple[Item, str, int]:
    """(item, unit, base units per unit) for a SKU, a GTIN or an id; refuses unknown and inactive.

    ``where`` names the line in a refusal ("line 2"); '' when there is only one (a quote, a promise)."""
    text = str(ref or "").strip()
    if not text:
        raise ValidationError(_field(where, "item"), "is required")
    item = session.scalar(select(Item).where(Item.sku == text.upper()))
    uom, factor = "", 1
    if item is None and text.isdigit() and 8 <= len(text) <= 14:
        gtin = text.zfill(14)
        item = session.scalar(select(Item).where(Item.gtin == gtin))
        if item is None:
            pack = session.scalar(select(ItemUom).where(ItemUom.gtin == gtin, ItemUom.deleted_at.is_(None)))
            if pack is not None:
                item, uom, factor = session.get(Item, pack.item_id), pack.uom, int(pack.factor)
    if item is None:
        try:
            item = session.get(Item, uuid.UUID(text))
        except ValueError:
            item = None
    if item is None or item.deleted_at is not None:
        raise ValidationError(_field(where, "item"), f"unknown item {text}")
    if not item.active:
        raise ValidationError(_field(where, "item"), f"{item.sku} is inactive: it is not sold any more")
    return item, uom, factor


def unit_factor(session: Session, item: Item, uom: str, where: str) -> int:
    u = (uom or "").strip().upper()
    if not u or u == item.base_uom:
        return 1
    f = session.scalar(select(ItemUom.factor).where(ItemUom.item_id == item.id, ItemUom.uom == u,
                                                     ItemUom.deleted_at.is_(None)))
    if f is None:
        known = [item.base_uom, *session.scalars(select(ItemUom.uom).where(ItemUom.item_id == item.id))]
        raise ValidationError(_field(where, "unit"), f"{item.sku} is not sold in {u} (units: {', '.join(known)})")
    return int(f)


def _qty(value: Any, factor: int, where: str) -> int:
    name = _field(where, "quantity")
    try:
        q = to_qty(value, name)
    except DomainValueError as e:
        msg = str(e)
        raise ValidationError(name, msg[len(name) + 2:] if msg.startswith(name + ": ") else msg) from None
    if q * factor > QTY_MAX:
        raise ValidationError(name, f"{q} x {factor} is larger than {QTY_MAX:,} base units")
    return q * factor


def _price(value: Any, factor: int, where: str) -> Decimal:
    name = _field(where, "price")
    try:
        p = to_money(value, name)
    except DomainValueError as e:
        msg = str(e)
        raise ValidationError(name, msg[len(name) + 2:] if msg.startswith(name + ": ") else msg) from None
    if p < 0:
        raise ValidationError(name, f"{p} is negative")
    return (p / factor).quantize(Decimal("0.0001")) if factor > 1 else p


# --------------------------------------------------------------------------- entry


@dataclass
class _Prepared:
    item: Item
    uom: str
    factor: int
    qty: int
    override: Decimal | None
    customer_line: str


def prepare_lines(session: Session, lines: list[LineInput]) -> list[_Prepared]:
    """Check every line before anything is written (one bad line refuses the order)."""
    if not lines:
        raise ValidationError("lines", "an order needs at least one line")
    if len(lines) > MAX_LINES:
        raise ValidationError("lines", f"{len(lines)} lines: at most {MAX_LINES} on one order")
    out = []
    for n, ln in enumerate(lines, 1):
        where = f"line {n}"
        item, gtin_uom, gtin_factor = find_item(session, ln.item, where)
        if ln.uom:
            uom, factor = ln.uom.strip().upper(), unit_factor(session, item, ln.uom, where)
        else:
            uom, factor = gtin_uom, gtin_factor
        qty = _qty(ln.qty, factor, where)
        override = _price(ln.unit_price, factor, where) if ln.unit_price not in (None, "") else None
        out.append(_Prepared(item, uom if factor > 1 else "", factor, qty, override, str(ln.customer_line or "")[:20]))
    return out


def create_order(session: Session, actor: Actor, *, customer: Any, lines: list[LineInput], warehouse: Any = None,
                 requested_date: dt.date | None = None, ship_to: str | None = None, customer_po: str = "",
                 rush: bool = False, source: str = "entry", today: dt.date | None = None,
                 check_credit: bool = True) -> OrderResult:
    """Enter an order (see the module docstring); returns it with its promises and any hold."""
    actor.require("order.enter")
    if source not in ORDER_SOURCES:
        raise ValidationError("source", f"must be one of {', '.join(ORDER_SOURCES)}")
    today = today or dt.date.today()
    cust = find_customer(session, customer)
    wh = find_warehouse(session, warehouse, actor, cust)
    require_owner(session, wh.branch_id, f"orders shipped from {wh.code} are entered")
    if requested_date is not None and requested_date < today:
        raise ValidationError("requested date", f"{requested_date.isoformat()} is before the order date {today.isoformat()}")
    if len(customer_po or "") > 40:
        raise ValidationError("customer PO", "is longer than 40 characters")
    if ship_to is not None and len(ship_to) > 400:
        raise ValidationError("ship-to", "is longer than 400 characters")
    prepared = prepare_lines(session, lines)
    found = pricing.prices(session, cust, [(p.item, p.qty) for p in prepared], on=today, currency=cust.currency)
    overrides = [(n, p, f) for n, (p, f) in enumerate(zip(prepared, found, strict=True), 1)
                 if p.override is not None and p.override != f.unit_price]
    if overrides and not actor.can("price.override"):
        n = overrides[0][0]
        raise PermissionDenied(f"line {n}: {refusal(actor.username, actor.roles, 'price.override')}; the price is "
                               f"{found[n - 1].unit_price} from {found[n - 1].source}")
    order = SalesOrder(number=next_number(session, wh.branch_id, "SO"), customer_id=cust.id, warehouse_id=wh.id,
                       status="open", order_date=today, requested_date=requested_date, currency=cust.currency,
                       customer_po=(customer_po or "").strip(), ship_to=cust.ship_to if ship_to is None else ship_to,
                       rush=bool(rush), source=source, ship_complete=bool(cust.ship_complete),
                       entered_by=actor.username, owner_branch_id=wh.branch_id)
    session.add(order)
    session.flush()
    rows = []
    for n, (p, f) in enumerate(zip(prepared, found, strict=True), 1):
        price, source_text = f.unit_price, f.source
        if p.override is not None and p.override != f.unit_price:
            price, source_text = p.override, f"override by {actor.username}"
            audit.record(session, actor, "order.price_override", "sales_order", order.id, order.owner_branch_id,
                         number=order.number, line=n, sku=p.item.sku, price=p.override, replaced=f.unit_price,
                         replaced_source=f.source)
        rows.append(SalesOrderLine(order_id=order.id, line_no=n, item_id=p.item.id, qty_ordered=p.qty, unit_price=price,
                                   uom=p.uom, uom_factor=p.factor, price_source=source_text[:60],
                                   customer_line=p.customer_line, owner_branch_id=order.owner_branch_id))
    session.add_all(rows)
    session.flush()
    promises = promise_lines(session, wh.id, [(r.item_id, r.qty_ordered) for r in rows], today=today,
                             exclude_lines=[r.id for r in rows])
    for r, pr in zip(rows, promises, strict=True):
        r.promised_date, r.promise = pr.date, pr.text[:60]
    order.promised_date = max((pr.date for pr in promises), default=None)
    value = sum((Decimal(r.qty_ordered) * r.unit_price for r in rows), Decimal(0))
    audit.record(session, actor, "order.create", "sales_order", order.id, order.owner_branch_id, number=order.number,
                 customer=cust.code, warehouse=wh.code, lines=len(rows), value=value, source=source)
    held = None
    if check_credit:
        exp = credit.exposure(session, cust.id, today=today, exclude_order=order.id)
        held = credit.reason_to_hold(cust, exp, value)
        if held:
            credit.hold(session, actor, order, held)
    session.flush()
    return OrderResult(order, rows, promises, held)


def copy_order(session: Session, actor: Actor, order_id: uuid.UUID, *, requested_date: dt.date | None = None,
               customer_po: str = "", today: dt.date | None = None) -> OrderResult:
    """A new order with the lines of an earlier one (cancelled lines left out), priced today."""
    old = get_live(session, SalesOrder, order_id, "sales order")
    src = list(session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == old.id,
                                                            SalesOrderLine.status != "cancelled",
                                                            SalesOrderLine.deleted_at.is_(None))
                               .order_by(SalesOrderLine.line_no)))
    if not src:
        raise Conflict(f"sales order {old.number} has no lines to copy")
    lines = [LineInput(str(ln.item_id), ln.qty_ordered // (ln.uom_factor or 1) if ln.uom else ln.qty_ordered,
                       ln.uom if ln.uom and ln.qty_ordered % (ln.uom_factor or 1) == 0 else "") for ln in src]
    for li, ln in zip(lines, src, strict=True):
        if not li.uom:
            li.qty = ln.qty_ordered
    res = create_order(session, actor, customer=old.customer_id, warehouse=old.warehouse_id, lines=lines,
                       requested_date=requested_date, ship_to=old.ship_to, customer_po=customer_po, rush=old.rush,
                       source="copy", today=today)
    res.notes.append(f"copied from {old.number}")
    audit.record(session, actor, "order.copy", "sales_order", res.order.id, res.order.owner_branch_id,
                 number=res.order.number, copied_from=old.number)
    return res


def cancel_order(session: Session, actor: Actor, order_id: uuid.UUID, reason: str) -> SalesOrder:
    """Cancel an order that nothing was picked for yet; its reservations go back (allocation's
    follow-up on the status change) and go to the lines waiting for them."""
    actor.require("order.enter")
    order = get_live(session, SalesOrder, order_id, "sales order")
    require_owner(session, order.owner_branch_id, f"sales order {order.number} is changed")
    reason = _reason(reason)
    if order.status not in CANCELLABLE:
        raise Conflict(f"sales order {order.number} is {order.status}: only an order nothing was picked for is cancelled")
    order.cancel_reason = reason
    transition(order, "cancelled", actor, reason)
    for ln in session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == order.id,
                                                           SalesOrderLine.status == "open")):
        ln.cancel_reason = reason
        transition(ln, "cancelled", actor, reason)
    session.flush()
    return order


def cancel_line(session: Session, actor: Actor, line_id: uuid.UUID, reason: str) -> SalesOrderLine:
    """Cancel one open line (the whole order when it was the last one)."""
    actor.require("order.enter")
    line = get_live(session, SalesOrderLine, line_id, "sales order line")
    order = get_live(session, SalesOrder, line.order_id, "sales order")
    require_owner(session, order.owner_branch_id, f"sales order {order.number} is changed")
    reason = _reason(reason)
    if order.status not in CANCELLABLE:
        raise Conflict(f"sales order {order.number} is {order.status}: its lines are not cancelled any more")
    if line.status != "open":
        raise Conflict(f"line {line.line_no} of {order.number} is {line.status}")
    others = session.scalar(select(SalesOrderLine.id).where(SalesOrderLine.order_id == order.id,
                                                            SalesOrderLine.id != line.id,
                                                            SalesOrderLine.status == "open").limit(1))
    if others is None:
        cancel_order(session, actor, order.id, reason)
        return line
    line.cancel_reason = reason
    transition(line, "cancelled", actor, reason)
    audit.record(session, actor, "order.line_cancel", "sales_order", order.id, order.owner_branch_id,
                 number=order.number, line=line.line_no, reason=reason)
    session.flush()
    return line


def _reason(reason: str) -> str:
    text = (reason or "").strip()
    if not text:
        raise ValidationError("reason", "say why (the customer sees it on the acknowledgement)")
    if len(text) > 200:
        raise ValidationError("reason", "is longer than 200 characters")
    return text


def order_by_number(session: Session, number: str) -> SalesOrder:
    o = session.scalar(select(SalesOrder).where(SalesOrder.number == (number or "").strip().upper()))
    if o is None or o.deleted_at is not None:
        raise NotFound("sales order", number)
    return o
