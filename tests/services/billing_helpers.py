"""Helpers the billing tests share: tax rates, a shipped order with its shipment, a delivery."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.shipping import Shipment
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.billing import tax
from app.services.billing.profile import set_billing
from app.services.billing.settle import Settled, due_shipments, settle
from tests.factories import World
from tests.services.sales_helpers import TODAY, customer, order, people

__all__ = ["TODAY", "customer", "people", "rates", "ship", "deliver", "billed_customer", "settled"]


def rates(session: Session) -> None:
    """Zone STD: standard 8.25 %, reduced 5 %, exempt 0 %."""
    tax.set_tax_rate(session, None, "STD", "standard", "8.25", "Sales tax 8.25%")
    tax.set_tax_rate(session, None, "STD", "reduced", "5", "Reduced 5%")
    tax.set_tax_rate(session, None, "STD", "exempt", "0", "Exempt")


def billed_customer(session: Session, code: str, *, on: str = "delivery", rounding: str = "line",
                    terms: str = "NET30", email: str = "") -> Customer:
    c = customer(session, code, payment_terms=terms)
    set_billing(session, None, c, bill_to=f"{code.title()} Ltd\nAccounts payable\n1 Main St", invoice_on=on,
                tax_rounding=rounding, invoice_email=email or f"ap@{code.lower()}.example", tax_id="US-99-1234567")
    return c


def _carrier(session: Session, w: World) -> Carrier:
    c = session.scalars(select(Carrier).where(Carrier.code == "SANDBOX")).first()
    if c is None:
        c = Carrier(code="SANDBOX", name="Sandbox Express", api="sandbox", owner_branch_id=w.ho.id)
        session.add(c)
        session.flush()
    return c


def ship(session: Session, w: World, clerk: Actor, cust: Customer, lines: dict[str, int], *,
         shipped: dict[str, int] | None = None, tracking: str = "1Z999") -> Shipment:
    """An order for ``lines`` (entered by ``clerk``), ``shipped`` units of it shipped (all by default),
    and the shipment that carried them (label created)."""
    so = order(session, w, clerk, cust, lines).order
    qty = shipped if shipped is not None else lines
    for ln in session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == so.id)):
        sku = next(k for k, it in w.items.items() if it.id == ln.item_id)
        ln.qty_shipped = qty.get(sku, 0)
    sh = Shipment(number=f"DAL-SH-{so.number[-6:]}", sales_order_id=so.id, warehouse_id=w.wh_dal.id,
                  carrier_id=_carrier(session, w).id, tracking_number=tracking, status="label_created",
                  shipped_at=utcnow(), owner_branch_id=w.dal.id)
    session.add(sh)
    session.flush()
    return sh


def deliver(session: Session, sh: Shipment, signed_by: str = "J. SMITH") -> None:
    from app.services.workflow import transition

    sh.pod_signed_by = signed_by
    sh.pod_at = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)
    sh.pod_image = "POD-7781"
    session.flush()
    transition(sh, "delivered", None, at=sh.pod_at)


def order_of(session: Session, sh: Shipment) -> SalesOrder:
    so = session.get(SalesOrder, sh.sales_order_id)
    assert so is not None
    return so


def money(v: str) -> Decimal:
    return Decimal(v)


def settled(session: Session) -> Settled:
    """What the billing job does with the follow-ups the carrier events queued, in this session's
    transaction (the poll cycle and the job run it in their own: tests/services/test_billing_queue.py)."""
    return settle(session, due_shipments(session))
