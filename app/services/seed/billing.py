"""Billing demo data (issue 16), made through the billing services on the seeded shipments.

Tax rates (zone STD: standard 8.25 %, reduced 5 %, exempt 0 %; zone EXEMPT: 0 %), some items in
the reduced class, how each customer is billed (a quarter on shipment, one tax-exempt reseller,
one rounding per invoice), then invoices: the delivered history's most recent shipments invoiced
and released on their delivery day with the proof of delivery, shipments on their way pending
(billed on delivery) or released (billed on shipment). Payments by hand and by bank on most of
the older ones, some part-paid, some left overdue; two price-correction credit notes and one for
a return; and a print history (printed, reprinted as COPY, e-mailed) by the clerk.
"""

from __future__ import annotations

import datetime as dt
import random
from decimal import Decimal

from sqlalchemy import Engine, select, text
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine
from app.models.catalog import Item
from app.models.ids import derived_ids
from app.models.inventory import CreditRequest
from app.models.parties import Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services import printing
from app.services.auth import actor_by_name
from app.services.billing import credits, invoices, printables, tax
from app.services.billing import receivables as ar
from app.services.billing.profile import set_billing_many
from app.services.billing.shipped import billable_lines
from app.services.db import session_scope
from app.services.errors import DomainError

#: delivered shipments invoiced (most recent first), per size: made through the services (about 0.1 s
#: each), so the large seed gets a demo's worth, not thousands (its bulk load has a time budget)
HISTORY = {"demo": 60, "large": 100}
#: the print registry must know billing's documents before records name them
_KINDS = printables
PENDING = {"demo": 25, "large": 50}


def seed_billing(engine: Engine, size: str, today: dt.date, seed: int = 1) -> int:
    """Invoices, payments, credit notes and print records; returns how many invoices.

    Written through the real services, with ids derived from the seed (``derived_ids``, from
    ``today``'s midnight on): the same seed gives the same rows, like the bulk load."""
    rng = random.Random(seed * 7919 + 16)
    start_ms = int(dt.datetime.combine(today, dt.time(), dt.UTC).timestamp() * 1000)
    with derived_ids(seed * 7919 + 16, start_ms), session_scope(engine) as s:
        # demo rows are the seed's, not local edits: nothing for replication to push (as the bulk load)
        s.execute(text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
        clerk = actor_by_name(s, "clerk")
        _master(s, rng)
        s.flush()
        s.expunge_all()  # 6,000 customers and billing rows done with: each later flush would walk them all again
        made = _history(s, clerk, size, today, rng)
        made += _on_their_way(s, clerk, size, today)
        _credits(s, clerk, today)
        _prints(s, clerk)
        s.execute(text("UPDATE sync_capture SET enabled = 1 WHERE id = 1"))
    return made


def _master(s: Session, rng: random.Random) -> None:
    tax.set_tax_rate(s, None, "STD", "standard", "8.25", "Sales tax 8.25%")
    tax.set_tax_rate(s, None, "STD", "reduced", "5", "Reduced rate 5%")
    tax.set_tax_rate(s, None, "STD", "exempt", "0", "Exempt")
    for klass in ("standard", "reduced", "exempt"):
        tax.set_tax_rate(s, None, "EXEMPT", klass, "0", "Resale exempt")
    items = list(s.scalars(select(Item.id).order_by(Item.sku).limit(400)))
    for item_id in items[::7]:
        tax.set_item_tax_class(s, item_id, "reduced")
    customers = list(s.scalars(select(Customer).where(Customer.deleted_at.is_(None)).order_by(Customer.code)))
    changes = []
    for n, c in enumerate(customers):
        on = "shipment" if n % 4 == 1 else "delivery"
        values = {"invoice_on": on, "bill_to": f"Accounts payable\n{c.ship_to}".strip(),
                  "tax_id": f"US-{rng.randint(10, 99)}-{rng.randint(1000000, 9999999)}"}
        if n == 2:
            values["tax_zone"] = "EXEMPT"
        if n == 3:
            values["tax_rounding"] = "invoice"
        changes.append((c, values))
    set_billing_many(s, None, changes)


def _history(s: Session, clerk: object, size: str, today: dt.date, rng: random.Random) -> int:
    # the delivered history's lateness can put a recent parcel's delivery after today: never bill on
    # a proof of delivery from the future
    now = dt.datetime.combine(today, dt.time.max, dt.UTC)
    delivered = list(s.scalars(select(Shipment).where(Shipment.status == "delivered", Shipment.sales_order_id.is_not(None),
                                                      Shipment.delivered_at <= now)
                               .order_by(Shipment.delivered_at.desc()).limit(HISTORY.get(size, 0) * 2)))
    made = 0
    for sh in delivered:
        if made >= HISTORY.get(size, 0):
            break
        if not billable_lines(s, sh):
            continue
        day = min(today, (sh.delivered_at or sh.shipped_at or dt.datetime.now(dt.UTC)).date())
        try:
            with s.begin_nested():
                inv = invoices.invoice_shipment(s, clerk, sh.id, today=day)  # type: ignore[arg-type]
                invoices.release(s, clerk, inv.id, today=day, pod_ref=invoices.pod_reference(sh)  # type: ignore[arg-type]
                                 or f"delivered {day.isoformat()}")
        except DomainError:
            continue
        made += 1
        cust = s.get(Customer, inv.customer_id)
        assert cust is not None
        roll = rng.random()
        paid_on = min(today, inv.invoice_date + dt.timedelta(days=rng.randint(2, 20)))
        if roll < 0.5:
            _pay(s, clerk, cust.code, inv.total, paid_on, inv.number, "bank", f"BANK {rng.randint(100000, 999999)}")
        elif roll < 0.65:
            _pay(s, clerk, cust.code, (inv.total / 2).quantize(Decimal("0.01")), paid_on, inv.number, "cheque",
                 f"CHQ {rng.randint(1000, 9999)}")
    return made


def _pay(s: Session, clerk: object, cust: str, amount: Decimal, day: dt.date, doc: str, method: str, ref: str) -> None:
    try:
        with s.begin_nested():
            ar.apply_payment(s, clerk, ar.PaymentSpec(cust, amount, day, invoices=(doc,), method=method,  # type: ignore[arg-type]
                                                      reference=ref), today=day)
    except DomainError:
        pass


def _on_their_way(s: Session, clerk: object, size: str, today: dt.date) -> int:
    moving = list(s.scalars(select(Shipment).where(Shipment.status != "delivered", Shipment.status != "cancelled",
                                                   Shipment.sales_order_id.is_not(None))
                            .order_by(Shipment.shipped_at.desc()).limit(PENDING.get(size, 0))))
    made = 0
    for sh in moving:
        order = s.get(SalesOrder, sh.sales_order_id)
        if order is None or not billable_lines(s, sh):
            continue
        day = min(today, (sh.shipped_at or dt.datetime.now(dt.UTC)).date())
        try:
            with s.begin_nested():
                inv = invoices.invoice_shipment(s, clerk, sh.id, today=day)  # type: ignore[arg-type]
                if inv.invoice_on == "shipment":
                    invoices.release(s, clerk, inv.id, today=min(day, today))  # type: ignore[arg-type]
        except DomainError:
            continue
        made += 1
    return made


def _credits(s: Session, clerk: object, today: dt.date) -> None:
    released = list(s.scalars(select(Invoice).where(Invoice.kind == "invoice", Invoice.status == "released")
                              .order_by(Invoice.invoice_date.desc()).limit(10)))
    for inv in released[1:3]:
        first = s.scalars(select(InvoiceLine).where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.line_no)).first()
        if first is None or first.unit_price < Decimal("1"):
            continue
        new = (first.unit_price * Decimal("0.9")).quantize(Decimal("0.01"))
        try:
            with s.begin_nested():
                credits.credit_price_correction(s, clerk, inv.number, {first.line_no: new},  # type: ignore[arg-type]
                                                "10% contract discount not applied", today=today)
        except DomainError:
            pass
    for cr in s.scalars(select(CreditRequest).where(CreditRequest.status == "open").limit(1)):
        try:
            with s.begin_nested():
                credits.credit_from_return(s, clerk, cr.number, today=today)  # type: ignore[arg-type]
        except DomainError:
            pass


def _prints(s: Session, clerk: object) -> None:
    docs = list(s.scalars(select(Invoice).where(Invoice.status == "released").order_by(Invoice.number).limit(30)))
    for n, inv in enumerate(docs[:15]):
        kind = "credit" if inv.kind == "credit" else "invoice"
        printing.record(s, clerk, kind, inv.number, channel="printer", target="Office laser (HP M404)",  # type: ignore[arg-type]
                        pages=1, branch_id=inv.owner_branch_id)
        if n % 5 == 0:
            printing.record(s, clerk, kind, inv.number, channel="printer", target="Office laser (HP M404)",  # type: ignore[arg-type]
                            pages=1, reprint=True, branch_id=inv.owner_branch_id)
        if n % 4 == 1:
            printing.record(s, clerk, kind, inv.number, channel="email", target="ap@customer.example",  # type: ignore[arg-type]
                            pages=1, branch_id=inv.owner_branch_id)
