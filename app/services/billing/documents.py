"""The invoice and credit note as documents: plain data for the PDF, and the PDF.

Money as the customer reads it (``app.services.money``): unit prices with one number of decimals
for the whole invoice, extensions and taxes rounded to the currency's decimals, totals the sums of
what is printed. The stored invoice already holds those figures (written once at invoicing), so a
reprint years later shows the same numbers.
"""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.parties import Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.billing.invoices import get_invoice
from app.services.billing.profile import billing_of, paper, remit_to
from app.services.errors import NotFound
from app.services.money import decimals, fmt_money, fmt_price, price_places
from reports.invoice import InvoiceDocLine, InvoiceDocTax, InvoiceDocument, render_invoice

_STATUS_NOTE = {"pending": "PRO FORMA: not yet released (awaiting proof of delivery); do not pay",
                "cancelled": "CANCELLED: this invoice is void"}


def _pct(rate: Decimal) -> str:
    text = f"{rate.normalize():f}"
    return text


def invoice_data(session: Session, inv: Invoice, *, reprint: bool = False) -> InvoiceDocument:
    cust = session.get(Customer, inv.customer_id)
    if cust is None:
        raise NotFound("customer of invoice", inv.number)
    lines = list(session.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id)
                                 .order_by(InvoiceLine.line_no)))
    taxes = list(session.scalars(select(InvoiceTax).where(InvoiceTax.invoice_id == inv.id)
                                 .order_by(InvoiceTax.rate_pct.desc())))
    order = session.get(SalesOrder, inv.sales_order_id) if inv.sales_order_id else None
    sh = session.get(Shipment, inv.shipment_id) if inv.shipment_id else None
    head = paper(session, inv.owner_branch_id)
    cur = inv.currency
    places = price_places([ln.unit_price for ln in lines], cur)
    diff = sum((t.rounding_diff for t in taxes), Decimal(0))
    if inv.tax_rounding == "line":
        note = "Tax is rounded on each line and the lines' tax added up"
        alt = sum((t.amount for t in taxes), Decimal(0)) - diff
        other = "per invoice"
    else:
        note = "Tax is computed once per rate on the invoice's base and rounded"
        alt = sum((t.amount for t in taxes), Decimal(0)) + diff
        other = "per line"
    note += f"; rounded {other} it would be {fmt_money(alt, cur)}" + (
        f" (difference {fmt_money(abs(diff), cur)})." if diff else " (the same).")
    return InvoiceDocument(
        letterhead=head, kind=inv.kind, number=inv.number, invoice_date=inv.invoice_date, due_date=inv.due_date,
        terms=inv.terms, currency=cur, customer_code=cust.code, customer_name=cust.name, bill_to=inv.bill_to,
        ship_to=inv.ship_to,
        lines=[InvoiceDocLine(ln.line_no, ln.sku, ln.description, ln.qty, ln.uom, fmt_price(ln.unit_price, places),
                              _pct(ln.tax_rate_pct), ln.extension) for ln in lines],
        taxes=[InvoiceDocTax(t.name, f"{_pct(t.rate_pct)} %", t.base, t.amount) for t in taxes],
        subtotal=inv.subtotal, tax_total=inv.tax_total, total=inv.total, money_places=decimals(cur),
        order_number=order.number if order else "", customer_po=inv.customer_po,
        customer_tax_id=billing_of(session, cust).tax_id, shipment=sh.number if sh else "", carrier=inv.carrier,
        tracking_number=inv.tracking_number, shipped_on=sh.shipped_at.date() if sh and sh.shipped_at else None,
        pod_ref=inv.pod_ref, rounding_note=note if taxes else "", credits_number=inv.credits_number,
        reason=inv.reason if inv.kind == "credit" or inv.status == "cancelled" else "",
        status_note=_STATUS_NOTE.get(inv.status, ""), reprint=reprint, remit_to=remit_to(head))


def invoice_pdf(session: Session, ref: str | uuid.UUID, *, reprint: bool = False) -> tuple[str, bytes]:
    """(file name, PDF bytes) of an invoice or credit note by number or id."""
    inv = get_invoice(session, ref)
    return f"{inv.number}.pdf", render_invoice(invoice_data(session, inv, reprint=reprint))
