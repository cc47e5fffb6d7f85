"""Credit notes: from a return's credit request (the RMA flow) and from price corrections.

A credit note is born released: numbered from the branch's CN series, taxed at the rates the
credited invoice charged (else today's rates for the customer's zone), and written into the
receivables ledger as a negative row. It is set against the invoice it corrects when that
invoice still has at least as much open; otherwise it stands as its own open item (a credit the
customer may use). A credit request is credited once; an invoice is never credited beyond what it
billed (earlier credit notes count).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.catalog import Item
from app.models.inventory import CreditRequest, Rma, RmaLine
from app.models.parties import Customer
from app.models.receivables import ReceivableEntry
from app.models.types import DomainValueError, to_money, utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.billing import tax
from app.services.billing.invoices import _write_lines, get_invoice, totals
from app.services.billing.profile import billing_of
from app.services.billing.receivables import money_of
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.inventory.rma import CREDITED
from app.services.numbering import next_number
from app.services.ownership import acting_branch
from app.services.workflow import transition


def _credited_so_far(session: Session, invoice_number: str) -> Decimal:
    v = session.scalar(select(func.coalesce(func.sum(Invoice.total), 0)).where(
        Invoice.kind == "credit", Invoice.credits_number == invoice_number, Invoice.status != "cancelled"))
    return Decimal(v or 0)


def _open_on(session: Session, customer_id: uuid.UUID, doc: str) -> Decimal:
    v = session.scalar(select(func.sum(type_coerce(ReceivableEntry.amount, BigInteger))).where(
        ReceivableEntry.customer_id == customer_id, ReceivableEntry.doc_number == doc))
    return money_of(v)


def _issue(session: Session, actor: Actor, *, customer: Customer, branch_id: uuid.UUID, currency: str,
           lines: list[tuple], credits: Invoice | None, reason: str, today: dt.date,  # type: ignore[type-arg]
           credit_request: CreditRequest | None = None) -> Invoice:
    bill = billing_of(session, customer)
    rounding = credits.tax_rounding if credits else bill.tax_rounding
    subtotal, tax_total = totals(lines, rounding, currency)
    amount = subtotal + tax_total
    if amount <= 0:
        raise ValidationError("credit", "comes to nothing: no line credits any money")
    if credits is not None:
        left = credits.total - _credited_so_far(session, credits.number)
        if amount > left:
            raise Conflict(f"credit {amount:,.2f} is more than is left to credit on invoice {credits.number} "
                           f"({left:,.2f} of {credits.total:,.2f}); nothing was credited")
    against = credits.number if credits is not None and _open_on(session, customer.id, credits.number) >= amount \
        else None
    cn = Invoice(number=next_number(session, branch_id, "CN"), kind="credit", status="released",
                 customer_id=customer.id, sales_order_id=credits.sales_order_id if credits else None,
                 shipment_id=credits.shipment_id if credits else None, invoice_date=today, due_date=today,
                 terms=credits.terms if credits else customer.payment_terms, currency=currency,
                 customer_po=credits.customer_po if credits else "", bill_to=bill.bill_to,
                 ship_to=credits.ship_to if credits else customer.ship_to,
                 credits_number=credits.number if credits else "", reason=reason[:200],
                 credit_request_id=credit_request.id if credit_request else None,
                 tax_rounding=rounding, released_at=utcnow(), released_by_id=actor.user_id,
                 owner_branch_id=branch_id)
    session.add(cn)
    session.flush()
    _write_lines(session, cn, lines)
    against = against or cn.number
    session.add(ReceivableEntry(customer_id=customer.id, kind="credit", doc_number=against, doc_date=today,
                                due_date=today if against == cn.number else None, amount=-cn.total,
                                currency=currency, source="depot", sales_order_id=cn.sales_order_id, ref=cn.number,
                                owner_branch_id=branch_id))
    audit.record(session, actor, "invoice.credit", "invoice", cn.id, branch_id, number=cn.number,
                 credits=cn.credits_number, total=str(cn.total), against=against, reason=reason)
    session.flush()
    return cn


def _invoice_of_order(session: Session, order_id: uuid.UUID | None) -> Invoice | None:
    if order_id is None:
        return None
    return session.scalars(select(Invoice).where(Invoice.sales_order_id == order_id, Invoice.kind == "invoice",
                                                 Invoice.status == "released").order_by(Invoice.created_at)).first()


def credit_from_return(session: Session, actor: Actor, ref: str, *, today: dt.date | None = None) -> Invoice:
    """The credit note of a return's credit request (by its number, or the RMA's)."""
    actor.require("invoice.credit")
    key = ref.strip().upper()
    cr = session.scalars(select(CreditRequest).where(CreditRequest.number == key)).first()
    if cr is None:
        rma = session.scalars(select(Rma).where(Rma.number == key)).first()
        cr = session.scalars(select(CreditRequest).where(CreditRequest.rma_id == rma.id)).first() if rma else None
        if rma is not None and cr is None:
            raise Conflict(f"RMA {rma.number} has no credit request (it is {rma.status}; the credit is requested "
                           "when every line is disposed)")
    if cr is None:
        raise NotFound("credit request or RMA", ref)
    if cr.status != "open":
        done = session.scalars(select(Invoice.number).where(Invoice.credit_request_id == cr.id)).first()
        raise Conflict(f"credit request {cr.number} is already credited" + (f" by {done}" if done else ""))
    customer = session.get(Customer, cr.customer_id)
    if customer is None:
        raise NotFound("customer of credit request", cr.number)
    credits = _invoice_of_order(session, cr.sales_order_id)
    rates_by_item: dict[uuid.UUID, tuple[str, str, Decimal]] = {}
    if credits is not None:
        for ln in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == credits.id)):
            if ln.item_id is not None:
                rates_by_item[ln.item_id] = (ln.tax_class, _tax_name(session, credits, ln), ln.tax_rate_pct)
    bill = billing_of(session, customer)
    rates = tax.rates_of(session, bill.tax_zone)
    rma_lines = list(session.scalars(select(RmaLine).where(RmaLine.rma_id == cr.rma_id).order_by(RmaLine.line_no)))
    credited = [ln for ln in rma_lines if ln.qty_received and ln.inspection_result in CREDITED]
    classes = tax.tax_classes(session, [ln.item_id for ln in credited])
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(classes)))}
    lines = []
    for rl in credited:
        klass, name, rate = rates_by_item.get(rl.item_id) or (
            classes[rl.item_id], *tax.rate_for(rates, bill.tax_zone, classes[rl.item_id], customer.code))
        item = items[rl.item_id]
        lines.append((None, None, item, rl.qty_received, item.base_uom, rl.unit_credit, klass, name, rate))
    if not lines:
        raise Conflict(f"credit request {cr.number} has no credited line")
    cn = _issue(session, actor, customer=customer, branch_id=cr.owner_branch_id, currency=cr.currency, lines=lines,
                credits=credits, reason=f"Return {_rma_number(session, cr)}: {cr.number}", today=today or dt.date.today(),
                credit_request=cr)
    transition(cr, "credited", actor, credit_note=cn.number)
    return cn


def _rma_number(session: Session, cr: CreditRequest) -> str:
    rma = session.get(Rma, cr.rma_id)
    return rma.number if rma else ""


def _tax_name(session: Session, inv: Invoice, ln: InvoiceLine) -> str:
    name = session.scalars(select(InvoiceTax.name).where(InvoiceTax.invoice_id == inv.id,
                                                         InvoiceTax.rate_pct == ln.tax_rate_pct)).first()
    return name or f"{ln.tax_class} {ln.tax_rate_pct.normalize()}%"


def credit_price_correction(session: Session, actor: Actor, invoice_ref: str, prices: Mapping[int, str | Decimal],
                            reason: str, *, today: dt.date | None = None) -> Invoice:
    """Credit the difference when lines were billed too high: {line no: correct unit price}."""
    actor.require("invoice.credit")
    inv = get_invoice(session, invoice_ref)
    if inv.kind != "invoice" or inv.status != "released":
        raise Conflict(f"{inv.number} is {'a credit note' if inv.kind == 'credit' else inv.status}: "
                       "only a released invoice can be corrected")
    if not reason.strip():
        raise ValidationError("reason", "is required for a price correction")
    if not prices:
        raise ValidationError("lines", "name at least one line and its correct price (LINE=PRICE)")
    by_no = {ln.line_no: ln for ln in session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id))}
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(
        [ln.item_id for ln in by_no.values() if ln.item_id])))}
    lines = []
    for no, raw in sorted(prices.items()):
        ln = by_no.get(no)
        if ln is None:
            raise ValidationError("line", f"invoice {inv.number} has no line {no}")
        try:
            price = to_money(raw, f"line {no} price")
        except DomainValueError as e:
            raise ValidationError(f"line {no} price", str(e).split(": ", 1)[-1]) from None
        if price >= ln.unit_price:
            raise ValidationError(f"line {no} price", f"{price} is not below the billed {ln.unit_price}: "
                                  "a price correction credits only")
        name = _tax_name(session, inv, ln)
        lines.append((ln.order_line_id, None, items.get(ln.item_id) if ln.item_id else None, ln.qty, ln.uom,
                      ln.unit_price - price, ln.tax_class, name, ln.tax_rate_pct))
    customer = session.get(Customer, inv.customer_id)
    if customer is None:
        raise NotFound("customer of invoice", inv.number)
    return _issue(session, actor, customer=customer, branch_id=acting_branch(session, inv.owner_branch_id),
                  currency=inv.currency, lines=lines, credits=inv, reason=reason.strip(),
                  today=today or dt.date.today())


@dataclass(frozen=True)
class OpenCreditRequest:
    number: str
    rma: str
    customer: str
    amount: Decimal
    currency: str
    detail: str


def open_credit_requests(session: Session, limit: int = 500) -> list[OpenCreditRequest]:
    """Returns whose credit is owed and not yet issued as a credit note (oldest first)."""
    rows = session.execute(
        select(CreditRequest, Rma.number, Customer.code).join(Rma, Rma.id == CreditRequest.rma_id)
        .join(Customer, Customer.id == CreditRequest.customer_id)
        .where(CreditRequest.status == "open", CreditRequest.deleted_at.is_(None))
        .order_by(CreditRequest.created_at).limit(limit)).all()
    return [OpenCreditRequest(cr.number, rma, code, cr.amount, cr.currency, cr.detail) for cr, rma, code in rows]
