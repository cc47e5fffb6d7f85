"""Invoices and credit notes as lists and details (what `depot invoice list|show` and the print
centre read), with what is still open on each from the receivables ledger."""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import BigInteger, func, select, type_coerce
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.parties import Customer
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.billing.invoices import get_invoice
from app.services.billing.receivables import customer_by, money_of


@dataclass(frozen=True)
class InvoiceRow:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    customer: str
    invoice_date: dt.date
    due_date: dt.date
    total: Decimal
    open: Decimal
    currency: str
    shipment: str
    tracking_number: str

    @property
    def state(self) -> str:
        """What a clerk asks: pending, open, overdue, paid, credited, cancelled."""
        if self.status != "released":
            return self.status
        if self.kind == "credit":
            return "credit"
        if self.open <= 0:
            return "paid"
        return "overdue" if self.due_date < dt.date.today() else "open"


def _open_of(session: Session, numbers: list[str]) -> dict[str, Decimal]:
    out: dict[str, Decimal] = {}
    for i in range(0, len(numbers), 500):
        for doc, amount in session.execute(select(ReceivableEntry.doc_number,
                                                  func.sum(type_coerce(ReceivableEntry.amount, BigInteger)))
                                           .where(ReceivableEntry.doc_number.in_(numbers[i:i + 500]))
                                           .group_by(ReceivableEntry.doc_number)):
            out[doc] = money_of(amount)
    return out


def list_invoices(session: Session, *, customer: str | None = None, status: str | None = None,
                  kind: str | None = None, since: dt.date | None = None, until: dt.date | None = None,
                  limit: int = 200) -> list[InvoiceRow]:
    """Newest first. ``status`` is a stored status (pending, released, cancelled) or paid / open / overdue."""
    q = (select(Invoice, Customer.code, Shipment.number)
         .join(Customer, Customer.id == Invoice.customer_id)
         .outerjoin(Shipment, Shipment.id == Invoice.shipment_id)
         .where(Invoice.deleted_at.is_(None)))
    if customer:
        q = q.where(Invoice.customer_id == customer_by(session, customer).id)
    if kind:
        q = q.where(Invoice.kind == kind)
    if since:
        q = q.where(Invoice.invoice_date >= since)
    if until:
        q = q.where(Invoice.invoice_date <= until)
    derived = status in ("paid", "open", "overdue", "credit")
    if status and not derived:
        q = q.where(Invoice.status == status)
    rows = session.execute(q.order_by(Invoice.invoice_date.desc(), Invoice.number.desc())
                           .limit(limit * (5 if derived else 1))).all()
    opened = _open_of(session, [inv.number for inv, _c, _s in rows])
    out = [InvoiceRow(inv.id, inv.number, inv.kind, inv.status, code, inv.invoice_date, inv.due_date, inv.total,
                      opened.get(inv.number, Decimal(0)) if inv.status == "released" else Decimal(0), inv.currency,
                      sh or "", inv.tracking_number) for inv, code, sh in rows]
    if derived:
        out = [r for r in out if r.state == status]
    return out[:limit]


def invoice_detail(session: Session, ref: str | uuid.UUID) -> dict[str, Any]:
    """Everything `invoice show` prints."""
    inv = get_invoice(session, ref)
    cust = session.get(Customer, inv.customer_id)
    order = session.get(SalesOrder, inv.sales_order_id) if inv.sales_order_id else None
    sh = session.get(Shipment, inv.shipment_id) if inv.shipment_id else None
    lines = session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.line_no))
    taxes = session.scalars(select(InvoiceTax).where(InvoiceTax.invoice_id == inv.id))
    ledger = session.scalars(select(ReceivableEntry).where(ReceivableEntry.doc_number == inv.number)
                             .order_by(ReceivableEntry.created_at))
    open_ = _open_of(session, [inv.number]).get(inv.number, Decimal(0)) if inv.status == "released" else Decimal(0)
    state = InvoiceRow(inv.id, inv.number, inv.kind, inv.status, "", inv.invoice_date, inv.due_date, inv.total, open_,
                       inv.currency, "", "").state
    return {
        "number": inv.number, "kind": inv.kind, "status": inv.status, "state": state,
        "customer": cust.code if cust else "", "customer_name": cust.name if cust else "",
        "invoice_date": inv.invoice_date, "due_date": inv.due_date, "terms": inv.terms, "currency": inv.currency,
        "order": order.number if order else "", "customer_po": inv.customer_po, "shipment": sh.number if sh else "",
        "carrier": inv.carrier, "tracking_number": inv.tracking_number, "pod_ref": inv.pod_ref,
        "invoice_on": inv.invoice_on, "tax_rounding": inv.tax_rounding, "bill_to": inv.bill_to, "ship_to": inv.ship_to,
        "credits": inv.credits_number, "reason": inv.reason, "subtotal": inv.subtotal, "tax": inv.tax_total,
        "total": inv.total, "open": open_,
        "lines": [{"line": ln.line_no, "sku": ln.sku, "description": ln.description, "qty": ln.qty, "uom": ln.uom,
                   "price": ln.unit_price, "amount": ln.extension, "tax_class": ln.tax_class,
                   "tax_pct": ln.tax_rate_pct, "tax": ln.tax_amount} for ln in lines],
        "taxes": [{"name": t.name, "rate_pct": t.rate_pct, "base": t.base, "amount": t.amount,
                   "rounding_diff": t.rounding_diff} for t in taxes],
        "ledger": [{"kind": e.kind, "date": e.doc_date, "amount": e.amount, "ref": e.ref} for e in ledger],
    }
