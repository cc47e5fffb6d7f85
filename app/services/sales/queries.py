"""Reading orders for the Allocation screen and the CLI: paged lists, one order in full, credit holds.

Lists are keyset-paged (newest number first, ``after`` = the last number shown), so the screen's
table model asks for a page at a time and never loads 20,000 orders.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, String, and_, case, func, or_, select, type_coerce
from sqlalchemy.orm import Session

from app.models.allocation import Allocation
from app.models.catalog import Item
from app.models.org import Warehouse
from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.types import MONEY_SCALE
from app.services.errors import NotFound

#: the order book a dispatcher works on
OPEN_BOOK = ("open", "credit_hold", "backordered", "allocated", "picking", "packed")


@dataclass(frozen=True)
class OrderRow:
    id: uuid.UUID
    number: str
    customer: str
    customer_name: str
    warehouse: str
    status: str
    order_date: dt.date
    requested_date: dt.date | None
    promised_date: dt.date | None
    lines: int
    ordered: int
    allocated: int
    value: Decimal
    currency: str
    rush: bool
    credit_reason: str
    source: str

    @property
    def short(self) -> int:
        return max(0, self.ordered - self.allocated)


def _value(stored: Any) -> Decimal:
    return (Decimal(int(stored or 0)) / MONEY_SCALE).quantize(Decimal("0.01"))


def list_orders(session: Session, query: dict[str, Any] | None = None, after: str | None = None,
                limit: int = 200) -> tuple[list[OrderRow], str | None]:
    """A page of orders, newest number first. ``query``: status (one or a tuple; default the open
    book), warehouse (code), customer (code), text (number, customer PO, customer code or name)."""
    q = query or {}
    status = q.get("status") or OPEN_BOOK
    statuses = (status,) if isinstance(status, str) else tuple(status)
    live_line = and_(SalesOrderLine.status != "cancelled", SalesOrderLine.deleted_at.is_(None))
    stmt = (select(SalesOrder.id, SalesOrder.number, Customer.code, Customer.name, Warehouse.code, SalesOrder.status,
                   SalesOrder.order_date, SalesOrder.requested_date, SalesOrder.promised_date,
                   func.count(SalesOrderLine.id),
                   func.sum(case((live_line, SalesOrderLine.qty_ordered - SalesOrderLine.qty_shipped), else_=0)),
                   func.sum(case((live_line, SalesOrderLine.qty_allocated), else_=0)),
                   func.sum(case((live_line, SalesOrderLine.qty_ordered
                                  * type_coerce(SalesOrderLine.unit_price, BigInteger)), else_=0)),
                   SalesOrder.currency, SalesOrder.rush, SalesOrder.credit_reason, SalesOrder.source)
            .join(Customer, Customer.id == SalesOrder.customer_id)
            .join(Warehouse, Warehouse.id == SalesOrder.warehouse_id)
            .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
            .where(SalesOrder.status.in_(statuses), SalesOrder.deleted_at.is_(None))
            .group_by(SalesOrder.id).order_by(SalesOrder.number.desc()).limit(max(1, min(limit, 2000)) + 1))
    if q.get("warehouse"):
        stmt = stmt.where(Warehouse.code == str(q["warehouse"]).upper())
    if q.get("customer"):
        stmt = stmt.where(Customer.code == str(q["customer"]).upper())
    text = str(q.get("text") or "").strip()
    if text:
        like = f"%{text}%"
        stmt = stmt.where(or_(SalesOrder.number.ilike(like), SalesOrder.customer_po.ilike(like),
                              Customer.code.ilike(like), Customer.name.ilike(like)))
    if after:
        stmt = stmt.where(SalesOrder.number < after)
    rows = [OrderRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], int(r[9]), int(r[10] or 0), int(r[11] or 0),
                     _value(r[12]), r[13], bool(r[14]), r[15], r[16]) for r in session.execute(stmt)]
    more = len(rows) > limit
    rows = rows[:limit]
    return rows, (rows[-1].number if more and rows else None)


@dataclass(frozen=True)
class LineView:
    id: uuid.UUID
    line_no: int
    sku: str
    description: str
    uom: str
    uom_factor: int
    qty_ordered: int
    qty_allocated: int
    qty_shipped: int
    unit_price: Decimal
    price_source: str
    promise: str
    promised_date: dt.date | None
    status: str
    #: the rule and sentence of the last allocation row that touched the line
    rule: str = ""
    reason: str = ""

    @property
    def short(self) -> int:
        return max(0, self.qty_ordered - self.qty_shipped - self.qty_allocated) if self.status == "open" else 0

    @property
    def qty_entered(self) -> str:
        if self.uom and self.uom_factor > 1 and self.qty_ordered % self.uom_factor == 0:
            return f"{self.qty_ordered // self.uom_factor} {self.uom}"
        return str(self.qty_ordered)


@dataclass
class OrderDetail:
    id: uuid.UUID
    number: str
    status: str
    customer: str
    customer_name: str
    warehouse: str
    order_date: dt.date
    requested_date: dt.date | None
    promised_date: dt.date | None
    customer_po: str
    ship_to: str
    rush: bool
    ship_complete: bool
    currency: str
    source: str
    entered_by: str
    credit_reason: str
    credit_held_at: dt.datetime | None
    credit_released_by: str
    cancel_reason: str
    hlc: int
    lines: list[LineView] = field(default_factory=list)

    @property
    def value(self) -> Decimal:
        return sum((Decimal(ln.qty_ordered) * ln.unit_price for ln in self.lines if ln.status != "cancelled"),
                   Decimal(0))


#: the why of an open line no allocation run has reserved anything for (no ledger row names it)
NOTHING_RESERVED = "nothing reserved yet: no allocation run has had free stock for it"


def order_detail(session: Session, ref: str | uuid.UUID) -> OrderDetail:
    if isinstance(ref, uuid.UUID):
        o = session.get(SalesOrder, ref)
    else:
        o = session.scalar(select(SalesOrder).where(SalesOrder.number == str(ref).strip().upper()))
    if o is None or o.deleted_at is not None:
        raise NotFound("sales order", ref)
    cust = session.get(Customer, o.customer_id)
    wh = session.get(Warehouse, o.warehouse_id)
    assert cust is not None and wh is not None
    last = (select(Allocation.order_line_id, func.max(Allocation.created_at).label("at"))
            .where(Allocation.order_id == o.id).group_by(Allocation.order_line_id).subquery())
    reasons = {lid: (rule, reason) for lid, rule, reason in session.execute(
        select(Allocation.order_line_id, Allocation.rule, Allocation.reason)
        .join(last, and_(last.c.order_line_id == Allocation.order_line_id, last.c.at == Allocation.created_at)))}
    lines = []
    for ln, sku, desc in session.execute(select(SalesOrderLine, Item.sku, Item.description)
                                         .join(Item, Item.id == SalesOrderLine.item_id)
                                         .where(SalesOrderLine.order_id == o.id, SalesOrderLine.deleted_at.is_(None))
                                         .order_by(SalesOrderLine.line_no)):
        rule, reason = reasons.get(ln.id, ("", ""))
        if not reason and ln.status == "open" and ln.qty_allocated == 0 and ln.qty_ordered > ln.qty_shipped:
            # a run that gives a line nothing writes no ledger row: say so rather than nothing
            reason = NOTHING_RESERVED
        lines.append(LineView(ln.id, ln.line_no, sku, desc, ln.uom, ln.uom_factor, ln.qty_ordered, ln.qty_allocated,
                              ln.qty_shipped, ln.unit_price, ln.price_source, ln.promise, ln.promised_date, ln.status,
                              rule, reason))
    return OrderDetail(o.id, o.number, o.status, cust.code, cust.name, wh.code, o.order_date, o.requested_date,
                       o.promised_date, o.customer_po, o.ship_to, o.rush, o.ship_complete, o.currency, o.source,
                       o.entered_by, o.credit_reason, o.credit_held_at, o.credit_released_by, o.cancel_reason,
                       o.hlc, lines)


@dataclass(frozen=True)
class HoldRow:
    id: uuid.UUID
    number: str
    customer: str
    customer_name: str
    warehouse: str
    reason: str
    held_at: dt.datetime | None
    value: Decimal
    currency: str


def credit_holds(session: Session, warehouse: str | None = None) -> list[HoldRow]:
    """Orders on credit hold, oldest hold first, with the reason and value."""
    stmt = (select(SalesOrder.id, SalesOrder.number, Customer.code, Customer.name, Warehouse.code,
                   SalesOrder.credit_reason, SalesOrder.credit_held_at,
                   func.sum(case((SalesOrderLine.status != "cancelled",
                                  SalesOrderLine.qty_ordered * type_coerce(SalesOrderLine.unit_price, BigInteger)),
                                 else_=0)), SalesOrder.currency)
            .join(Customer, Customer.id == SalesOrder.customer_id)
            .join(Warehouse, Warehouse.id == SalesOrder.warehouse_id)
            .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
            .where(SalesOrder.status == "credit_hold", SalesOrder.deleted_at.is_(None))
            .group_by(SalesOrder.id).order_by(type_coerce(SalesOrder.credit_held_at, String), SalesOrder.number))
    if warehouse:
        stmt = stmt.where(Warehouse.code == warehouse.upper())
    return [HoldRow(r[0], r[1], r[2], r[3], r[4], r[5], r[6], _value(r[7]), r[8]) for r in session.execute(stmt)]
