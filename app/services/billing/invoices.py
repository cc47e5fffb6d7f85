"""Invoices from shipped lines: made (pending) when a shipment leaves, released on proof of
delivery or on shipment (per customer), and only then in the receivables ledger.

``invoice_shipment`` is validate -> plan -> apply: it refuses a shipment with nothing left to bill
(unshipped, or every line already on a live invoice) before a number is taken, then takes the
number from the branch's series in the same transaction that writes the invoice, its lines and
its tax lines, so a number is never lost nor used twice (a refused or failed call rolls the
series back with everything else). Release dates the invoice, sets the due date from the terms,
writes the ledger row, and hands EDI customers their 810 / INVOIC (``edi_out``).
"""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.catalog import Item
from app.models.ids import uuid7
from app.models.parties import Carrier, Customer
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.billing import tax
from app.services.billing.profile import billing_of
from app.services.billing.shipped import (
    Billable,
    billable_lines,
    invoiced_qty,
    invoiced_shipment_lines,
    shipped_qty,
)
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.money import line_total
from app.services.numbering import next_number
from app.services.ownership import owns
from app.services.workflow import transition

_NS = uuid.UUID("0b9e1c4a-6d2f-4e8a-b51c-16a7e3f0d916")


def terms_days(terms: str) -> int:
    """Days to pay from the terms code: NET30 -> 30, 'NET 45' -> 45, COD / DUE -> 0."""
    m = re.search(r"(\d+)", terms or "")
    return int(m.group(1)) if m else 0


def get_invoice(session: Session, ref: str | uuid.UUID) -> Invoice:
    """An invoice or credit note by number or id."""
    if isinstance(ref, uuid.UUID):
        inv = session.get(Invoice, ref)
    else:
        inv = session.scalars(select(Invoice).where(Invoice.number == ref.strip().upper())).first()
    if inv is None or inv.deleted_at is not None:
        raise NotFound("invoice", ref)
    return inv


def get_shipment(session: Session, ref: str | uuid.UUID) -> Shipment:
    if isinstance(ref, uuid.UUID):
        sh = session.get(Shipment, ref)
    else:
        sh = session.scalars(select(Shipment).where(Shipment.number == ref.strip().upper())).first()
    if sh is None or sh.deleted_at is not None:
        raise NotFound("shipment", ref)
    return sh


def pod_reference(sh: Shipment) -> str:
    """The proof of delivery as the carrier gave it, in one line ('' before delivery)."""
    if sh.status != "delivered" and sh.pod_at is None:
        return ""
    parts = []
    if sh.pod_signed_by:
        parts.append(f"signed by {sh.pod_signed_by}")
    at = sh.pod_at or sh.delivered_at
    if at is not None:
        parts.append(f"delivered {at.strftime('%Y-%m-%d %H:%M')} UTC")
    if sh.pod_image:
        parts.append(f"ref {sh.pod_image}")
    return "; ".join(parts)[:200] or "delivered"


@dataclass(frozen=True)
class _Plan:
    order: SalesOrder
    customer: Customer
    lines: list[tuple[Billable, SalesOrderLine, Item, str, str, Decimal]]


def _plan(session: Session, sh: Shipment, billables: list[Billable]) -> _Plan:
    if sh.status == "cancelled":
        raise Conflict(f"shipment {sh.number} is cancelled: there is nothing to invoice")
    if sh.status in ("packing", "packed"):
        raise Conflict(f"shipment {sh.number} is {sh.status}, not shipped yet: it is invoiced once confirmed")
    if sh.sales_order_id is None:
        raise Conflict(f"shipment {sh.number} carries no sales order: there is nothing to invoice")
    order = session.get(SalesOrder, sh.sales_order_id)
    if order is None:
        raise NotFound("sales order of shipment", sh.number)
    if not billables:
        raise Conflict(f"shipment {sh.number} has nothing left to invoice: no shipped line of {order.number} "
                       "is left unbilled")
    cust = session.get(Customer, order.customer_id)
    if cust is None:
        raise NotFound("customer of order", order.number)
    ol = {ln.id: ln for ln in session.scalars(select(SalesOrderLine).where(
        SalesOrderLine.id.in_([b.order_line_id for b in billables])))}
    shipped = shipped_qty(session, ol)
    done = invoiced_qty(session, ol)
    billed_lines = invoiced_shipment_lines(session, [b.shipment_line_id for b in billables if b.shipment_line_id])
    for b in billables:
        ln = ol.get(b.order_line_id)
        if ln is None or ln.order_id != order.id:
            raise ValidationError("line", f"an order line billed on {sh.number} is not on {order.number}")
        if b.qty <= 0:
            raise ValidationError(f"line {ln.line_no}", "the quantity to invoice must be more than zero")
        if shipped.get(ln.id, 0) == 0:
            raise Conflict(f"line {ln.line_no} of {order.number} has not shipped: it cannot be invoiced")
        if b.shipment_line_id is not None and b.shipment_line_id in billed_lines:
            raise Conflict(f"line {ln.line_no} of {order.number} is already invoiced (shipment {sh.number})")
        if done.get(ln.id, 0) + b.qty > shipped.get(ln.id, 0):
            raise Conflict(f"line {ln.line_no} of {order.number} is already invoiced "
                           f"({done.get(ln.id, 0)} of {shipped[ln.id]} shipped units billed; {b.qty} more asked)")
    bill = billing_of(session, cust)
    rates = tax.rates_of(session, bill.tax_zone)
    classes = tax.tax_classes(session, [ln.item_id for ln in ol.values()])
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(classes)))}
    planned = []
    for b in billables:
        ln = ol[b.order_line_id]
        klass = classes[ln.item_id]
        name, rate = tax.rate_for(rates, bill.tax_zone, klass, cust.code)
        planned.append((b, ln, items[ln.item_id], klass, name, rate))
    return _Plan(order, cust, planned)


def invoice_shipment(session: Session, actor: Actor | None, ref: str | uuid.UUID, *,
                     billables: list[Billable] | None = None, today: dt.date | None = None,
                     derived_id: bool = False) -> Invoice:
    """Make the (pending) invoice of a shipment's unbilled lines. ``derived_id``: the id comes from
    the shipment (a follow-up that two workstations may run for the same carrier event)."""
    if actor is not None:
        actor.require("invoice.release")
    sh = get_shipment(session, ref)
    if not owns(session, sh.owner_branch_id):
        raise Conflict(f"shipment {sh.number} is another branch's: it is invoiced there")
    plan = _plan(session, sh, billable_lines(session, sh) if billables is None else billables)
    order, cust = plan.order, plan.customer
    bill = billing_of(session, cust)
    cur = order.currency or cust.currency
    today = today or dt.date.today()
    carrier = session.get(Carrier, sh.carrier_id)
    number = next_number(session, sh.owner_branch_id, "INV")
    inv = Invoice(
        id=uuid.uuid5(_NS, f"shipment:{sh.id.hex}") if derived_id else uuid7(),
        number=number, kind="invoice", status="pending", customer_id=cust.id, sales_order_id=order.id,
        shipment_id=sh.id, invoice_date=today, due_date=today + dt.timedelta(days=terms_days(cust.payment_terms)),
        terms=cust.payment_terms, currency=cur, customer_po=order.customer_po, bill_to=bill.bill_to,
        ship_to=order.ship_to or cust.ship_to, carrier=carrier.name if carrier else "",
        tracking_number=sh.tracking_number, pod_ref=pod_reference(sh), invoice_on=bill.invoice_on,
        tax_rounding=bill.tax_rounding, owner_branch_id=sh.owner_branch_id)
    session.add(inv)
    session.flush()
    _write_lines(session, inv, [(b.order_line_id, b.shipment_line_id, item, b.qty, item.base_uom,
                                 ln.unit_price if b.unit_price is None else b.unit_price, klass, name, rate)
                                for b, ln, item, klass, name, rate in plan.lines])
    return inv


def totals(lines: list[tuple], rounding: str, cur: str) -> tuple[Decimal, Decimal]:  # type: ignore[type-arg]
    """(subtotal, tax) that ``_write_lines`` will write for these lines (checked before writing)."""
    taxed = [(name, rate, line_total(qty, price, cur)) for _o, _s, _i, qty, _u, price, _k, name, rate in lines]
    return (sum((e for _n, _r, e in taxed), Decimal(0)),
            sum((t.amount for t in tax.tax_lines(taxed, rounding, cur)), Decimal(0)))


@dataclass(frozen=True)
class Priced:
    """An invoice's lines and tax lines as written (plain values), and its totals."""

    lines: list[dict[str, Any]]
    taxes: list[tax.TaxLine]
    subtotal: Decimal
    tax_total: Decimal


def priced(lines: list[tuple], rounding: str, cur: str) -> Priced:  # type: ignore[type-arg]
    """The invoice lines' columns, tax lines and totals of (order line, shipment line, item, qty, uom,
    price, tax class, rate name, rate) lines: the one place an invoice's figures are worked out."""
    out = []
    taxed = []
    for n, (order_line_id, shipment_line_id, item, qty, uom, price, klass, name, rate) in enumerate(lines, start=1):
        ext = line_total(qty, price, cur)
        out.append({"line_no": n, "order_line_id": order_line_id, "shipment_line_id": shipment_line_id,
                    "item_id": item.id if item else None, "sku": item.sku if item else "",
                    "description": (item.description if item else name)[:200], "qty": qty, "uom": (uom or "EA")[:8],
                    "unit_price": price, "extension": ext, "tax_class": klass, "tax_rate_pct": rate,
                    "tax_amount": tax.line_tax(ext, rate, cur)})
        taxed.append((name, rate, ext))
    taxes = tax.tax_lines(taxed, rounding, cur)
    return Priced(out, taxes, sum((e for _n, _r, e in taxed), Decimal(0)), sum((t.amount for t in taxes), Decimal(0)))


def _write_lines(session: Session, inv: Invoice, lines: list[tuple]) -> None:  # type: ignore[type-arg]
    """Lines, tax lines and totals of a new invoice or credit note (amounts positive)."""
    p = priced(lines, inv.tax_rounding, inv.currency)
    for ln in p.lines:
        session.add(InvoiceLine(invoice_id=inv.id, owner_branch_id=inv.owner_branch_id, **ln))
    for t in p.taxes:
        session.add(InvoiceTax(invoice_id=inv.id, name=t.name, rate_pct=t.rate_pct, base=t.base, amount=t.amount,
                               rounding_diff=t.per_line - t.per_invoice, owner_branch_id=inv.owner_branch_id))
    inv.subtotal = p.subtotal
    inv.tax_total = p.tax_total
    inv.total = inv.subtotal + inv.tax_total
    session.flush()


def release(session: Session, actor: Actor | None, ref: str | uuid.UUID, *, today: dt.date | None = None,
            pod_ref: str | None = None) -> Invoice:
    """Release a pending invoice: dated today, due by its terms, into the receivables ledger."""
    if actor is not None:
        actor.require("invoice.release")
    inv = get_invoice(session, ref)
    if inv.status != "pending":
        raise Conflict(f"invoice {inv.number} is {inv.status}; only a pending invoice can be released")
    if not owns(session, inv.owner_branch_id):
        raise Conflict(f"invoice {inv.number} is another branch's: release it there")
    session.flush()
    session.add(ReceivableEntry(**released(inv, actor, today or dt.date.today(), pod_ref)))
    session.flush()
    return inv


def released(inv: Invoice, actor: Actor | None, today: dt.date, pod_ref: str | None = None) -> dict[str, Any]:
    """Release a pending invoice the caller has checked (status, branch): dated ``today``, due by its
    terms, moved by the workflow; returns its receivables ledger row's columns for the caller to write."""
    if pod_ref is not None:
        inv.pod_ref = pod_ref[:200]
    inv.invoice_date = today
    inv.due_date = today + dt.timedelta(days=terms_days(inv.terms))
    transition(inv, "released", actor, total=str(inv.total), pod=inv.pod_ref)
    return ledger_row(inv.customer_id, inv.number, today, inv.due_date, inv.total, inv.currency, inv.sales_order_id,
                      inv.owner_branch_id)


def ledger_row(customer_id: uuid.UUID, number: str, day: dt.date, due: dt.date, total: Decimal, currency: str,
               order_id: uuid.UUID | None, branch_id: uuid.UUID) -> dict[str, Any]:
    """The receivables ledger row of a released invoice (what the customer owes on it)."""
    return {"customer_id": customer_id, "kind": "invoice", "doc_number": number, "doc_date": day, "due_date": due,
            "amount": total, "currency": currency, "source": "depot", "sales_order_id": order_id, "ref": number,
            "owner_branch_id": branch_id}


def cancel(session: Session, actor: Actor, ref: str | uuid.UUID, reason: str) -> Invoice:
    """Cancel a pending invoice (its lines may be invoiced again); its number stays, marked cancelled."""
    actor.require("invoice.release")
    inv = get_invoice(session, ref)
    if inv.status != "pending":
        raise Conflict(f"invoice {inv.number} is {inv.status}: only a pending invoice can be cancelled "
                       "(a released one is corrected by a credit note)")
    if not reason.strip():
        raise ValidationError("reason", "is required to cancel an invoice")
    inv.reason = reason.strip()[:200]
    session.flush()
    transition(inv, "cancelled", actor, reason.strip())
    return inv


def stamp_edi(inv: Invoice) -> None:
    inv.edi_sent = True
    inv.updated_at = utcnow()
