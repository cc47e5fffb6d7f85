"""Credit control at order entry and again at release to the warehouse (the first allocation).

Exposure of a customer = open receivables (the ledger's sum: invoices less payments and credits)
+ open orders not yet invoiced (every live order from open to delivered, at line value, less what
released invoices bill of them: that is in the ledger already). An order
goes on **credit hold** with the reason when:

* the customer is on credit stop (``Customer.credit_hold``, with its note);
* an open invoice is more than ``Customer.overdue_days`` past due (None: no such rule);
* exposure + the order's value is above ``Customer.credit_limit`` (0: no limit set).

The hold raises an exception for the credit controllers (role manager: ``credit.release``). Only
``credit.release`` releases, with a note, audited; the released order is not re-checked (a person
took the risk for it). At release to the warehouse (an allocation run about to give an order its
first units) the same rules are asked again, so a customer who went over the limit or overdue
since entry is caught before stock is committed (ERPNext users complain it only bites at invoice).

Across branches, releasing another branch's order (head office releasing a Dallas order) writes a
``CreditRelease`` row of the releasing branch; the order's branch applies it after its next pull
(settler ``sales.credit_releases``), as every action on another branch's document does.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine
from app.models.exceptions import ExceptionItem
from app.models.parties import Customer
from app.models.receivables import ReceivableEntry
from app.models.sales import CreditRelease, SalesOrder, SalesOrderLine
from app.models.types import MONEY_SCALE, utcnow
from app.services import audit, exception_inbox
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import Conflict, ValidationError
from app.services.money import fmt_money
from app.services.ownership import acting_branch, ownership, settler
from app.services.workflow import transition

#: order states whose value counts as open (not yet invoiced)
EXPOSURE_STATES = ("open", "credit_hold", "backordered", "allocated", "picking", "packed", "shipped", "delivered")


@dataclass
class Exposure:
    customer_id: uuid.UUID
    receivables: Decimal = Decimal(0)
    open_orders: Decimal = Decimal(0)
    limit: Decimal = Decimal(0)
    #: (invoice, due date, days past due, amount open), worst first
    overdue: list[tuple[str, dt.date, int, Decimal]] = field(default_factory=list)

    @property
    def total(self) -> Decimal:
        return self.receivables + self.open_orders

    @property
    def headroom(self) -> Decimal | None:
        return self.limit - self.total if self.limit > 0 else None


def _money(stored: int | None) -> Decimal:
    return (Decimal(int(stored or 0)) / MONEY_SCALE).quantize(Decimal("0.0001"))


def exposures(session: Session, customer_ids: Iterable[uuid.UUID], *, today: dt.date,
              exclude_orders: Iterable[uuid.UUID] = ()) -> dict[uuid.UUID, Exposure]:
    """Exposure of many customers in three grouped queries (the allocation run asks for hundreds)."""
    ids = list(dict.fromkeys(customer_ids))
    out = {c: Exposure(c) for c in ids}
    if not ids:
        return out
    skip = list(exclude_orders)
    for i in range(0, len(ids), 500):
        part = ids[i:i + 500]
        for cid, limit in session.execute(select(Customer.id, Customer.credit_limit).where(Customer.id.in_(part))):
            out[cid].limit = limit or Decimal(0)
        docs = session.execute(
            select(ReceivableEntry.customer_id, ReceivableEntry.doc_number, func.min(ReceivableEntry.due_date),
                   func.sum(type_coerce(ReceivableEntry.amount, BigInteger)))  # stored 1/10,000: summed as integers
            .where(ReceivableEntry.customer_id.in_(part))
            .group_by(ReceivableEntry.customer_id, ReceivableEntry.doc_number)).all()
        for cid, doc, due, amount in docs:
            open_amount = _money(amount)
            out[cid].receivables += open_amount
            if open_amount > 0 and due is not None and due < today:
                out[cid].overdue.append((doc, due, (today - due).days, open_amount))
        q = (select(SalesOrder.customer_id, func.sum(SalesOrderLine.qty_ordered * type_coerce(SalesOrderLine.unit_price, BigInteger)))
             .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
             .where(SalesOrder.customer_id.in_(part), SalesOrder.status.in_(EXPOSURE_STATES),
                    SalesOrder.deleted_at.is_(None), SalesOrderLine.status != "cancelled",
                    SalesOrderLine.deleted_at.is_(None)))
        if skip:
            q = q.where(SalesOrder.id.not_in(skip))
        for cid, value in session.execute(q.group_by(SalesOrder.customer_id)):
            out[cid].open_orders += _money(value)
        # what a released invoice bills is in the ledger already: not counted twice as an open order
        billed = (select(SalesOrder.customer_id,
                         func.sum(InvoiceLine.qty * type_coerce(SalesOrderLine.unit_price, BigInteger)))
                  .join(SalesOrderLine, SalesOrderLine.id == InvoiceLine.order_line_id)
                  .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
                  .join(Invoice, Invoice.id == InvoiceLine.invoice_id)
                  .where(SalesOrder.customer_id.in_(part), SalesOrder.status.in_(EXPOSURE_STATES),
                         SalesOrder.deleted_at.is_(None), SalesOrderLine.status != "cancelled",
                         SalesOrderLine.deleted_at.is_(None), Invoice.kind == "invoice",
                         Invoice.status == "released"))
        if skip:
            billed = billed.where(SalesOrder.id.not_in(skip))
        for cid, value in session.execute(billed.group_by(SalesOrder.customer_id)):
            out[cid].open_orders -= min(_money(value), out[cid].open_orders)
    for e in out.values():
        e.overdue.sort(key=lambda o: -o[2])
    return out


def exposure(session: Session, customer_id: uuid.UUID, *, today: dt.date | None = None,
             exclude_order: uuid.UUID | None = None) -> Exposure:
    return exposures(session, [customer_id], today=today or dt.date.today(),
                     exclude_orders=[exclude_order] if exclude_order else ())[customer_id]


def _m(amount: Decimal, currency: str) -> str:
    return fmt_money(amount, currency or "USD", code=True)


def reason_to_hold(customer: Customer, exp: Exposure, order_value: Decimal) -> str | None:
    """Why an order of ``order_value`` for ``customer`` must wait for a credit decision, or None."""
    if customer.credit_hold:
        return f"customer {customer.code} is on credit stop" + (f": {customer.credit_note}" if customer.credit_note else "")
    if customer.overdue_days is not None and exp.overdue and exp.overdue[0][2] > customer.overdue_days:
        doc, due, days, amount = exp.overdue[0]
        return (f"invoice {doc} is {days} days past due ({_m(amount, customer.currency)} open since "
                f"{due.isoformat()}; rule: {customer.overdue_days} days)")
    if exp.limit > 0 and exp.total + order_value > exp.limit:
        cur = customer.currency
        return (f"credit limit {_m(exp.limit, cur)} exceeded: exposure {_m(exp.total, cur)} "
                f"(open items {_m(exp.receivables, cur)} + open orders {_m(exp.open_orders, cur)})"
                + (f" + this order {_m(order_value, cur)}" if order_value else ""))
    return None


def order_value(session: Session, order_id: uuid.UUID) -> Decimal:
    value = session.scalar(select(func.sum(SalesOrderLine.qty_ordered * type_coerce(SalesOrderLine.unit_price, BigInteger)))
                           .where(SalesOrderLine.order_id == order_id, SalesOrderLine.status != "cancelled",
                                  SalesOrderLine.deleted_at.is_(None)))
    return _money(value)


def hold(session: Session, actor: Actor | None, order: SalesOrder, reason: str) -> None:
    """Put ``order`` on credit hold with ``reason`` (its reservations go back: the allocation
    area's handler on the status change) and raise it in the exception inbox."""
    order.credit_reason = reason[:300]
    order.credit_held_at = utcnow()
    order.credit_released_at = None
    order.credit_released_by = ""
    session.flush()
    transition(order, "credit_hold", actor, reason)
    exception_inbox.raise_exception(
        session, actor, kind="credit.hold", title=f"{order.number} on credit hold", detail=reason, severity="warning",
        role="manager", entity="sales_order", entity_id=order.id, entity_ref=order.number,
        key=f"credit_hold:{order.id.hex}:{order.credit_held_at.isoformat()}", owner_branch_id=order.owner_branch_id)


@dataclass(frozen=True)
class Released:
    number: str
    #: True: applied here; False: recorded for the order's branch, applied after its next pull
    applied: bool
    message: str


def release(session: Session, actor: Actor, order_id: uuid.UUID, note: str = "") -> Released:
    """Release an order from credit hold (``credit.release``), audited with the note."""
    actor.require("credit.release")
    order = get_live(session, SalesOrder, order_id, "sales order")
    if order.status != "credit_hold":
        raise Conflict(f"sales order {order.number} is {order.status}, not on credit hold")
    note = (note or "").strip()
    if len(note) > 300:
        raise ValidationError("note", "is longer than 300 characters")
    now = utcnow()
    row = CreditRelease(order_id=order.id, order_branch_id=order.owner_branch_id, user_id=actor.user_id,
                        username=actor.username, note=note, hold_at=order.credit_held_at, decided_at=now,
                        owner_branch_id=acting_branch(session, order.owner_branch_id))
    session.add(row)
    session.flush()
    if ownership(session).owns(order.owner_branch_id):
        _apply_release(session, actor, order, row)
        return Released(order.number, True, f"{order.number} released from credit hold")
    audit.record(session, actor, "order.credit_release_requested", "sales_order", order.id, order.owner_branch_id,
                 number=order.number, note=note)
    from app.services.masterdata import branch_code

    code = branch_code(session, order.owner_branch_id)
    return Released(order.number, False, f"{order.number} released; {code} applies it at its next sync")


def _apply_release(session: Session, actor: Actor | None, order: SalesOrder, row: CreditRelease) -> None:
    # stamped first: the follow-ups of the status change (allocation) must see a released order,
    # not ask credit control again
    order.credit_released_at = row.decided_at
    order.credit_released_by = row.username
    session.flush()
    transition(order, "open", actor, row.note or None, action="order.credit_release", released_by=row.username,
               reason_held=order.credit_reason)
    for it in session.scalars(select(ExceptionItem).where(
            ExceptionItem.entity_id == order.id, ExceptionItem.kind == "credit.hold",
            ExceptionItem.status != "resolved", ExceptionItem.owner_branch_id == order.owner_branch_id)):
        it.resolution = f"released by {row.username}" + (f": {row.note}" if row.note else "")
        transition(it, "resolved", actor, at=row.decided_at, note=it.resolution)
    session.flush()


@settler("sales.credit_releases")
def settle_credit_releases(session: Session) -> int:
    """This branch's orders on hold that another branch released (a ``CreditRelease`` answering
    the current hold): released here. Cheap: few orders are ever on hold."""
    own = ownership(session)
    if not own.enforced:
        return 0
    held = list(session.scalars(select(SalesOrder).where(SalesOrder.status == "credit_hold",
                                                         SalesOrder.owner_branch_id == own.branch_id,
                                                         SalesOrder.deleted_at.is_(None))))
    done = 0
    for order in held:
        row = session.scalars(select(CreditRelease).where(CreditRelease.order_id == order.id)
                              .order_by(CreditRelease.decided_at.desc())).first()
        if row is None or (order.credit_held_at and row.decided_at < order.credit_held_at):
            continue  # none, or it answered an earlier hold
        _apply_release(session, None, order, row)
        done += 1
    return done


def blocked(session: Session, orders: list[tuple[uuid.UUID, uuid.UUID, Decimal]], *,
            today: dt.date) -> dict[uuid.UUID, str]:
    """Credit at release: for (order, customer, order value) about to get their first units, the
    orders that must go on hold instead, with the reason. Orders a person released are not asked."""
    if not orders:
        return {}
    custs = {c.id: c for c in session.scalars(select(Customer).where(Customer.id.in_(list({c for _o, c, _v in orders}))))}
    exp = exposures(session, list(custs), today=today)
    out: dict[uuid.UUID, str] = {}
    for oid, cid, _value in orders:
        customer = custs.get(cid)
        if customer is None:
            continue
        # exposure already counts this order among the open ones: ask with a zero increment
        why = reason_to_hold(customer, exp[cid], Decimal(0))
        if why:
            out[oid] = why
    return out
