"""Invoicing on proof of delivery through the real poll cycle against the carrier sandbox: the first
scan makes the invoice (pending), the delivery with its signature releases it with the POD, each
within the cycle that saw the event (queued in its tracking transaction, settled at its end)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.billing import BillingDue, Invoice
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrderLine
from app.services.billing.profile import set_billing
from app.services.tracking import poller
from tests.factories import World
from tests.services.billing_helpers import rates
from tests.tracking_world import TrackWorld, find_numbers


def test_the_carriers_proof_of_delivery_releases_the_invoice(tw: TrackWorld, session: Session, world: World) -> None:
    rates(session)
    set_billing(session, None, tw.customer, invoice_on="delivery")
    [number] = find_numbers("SBX{:012d}", {"delivered"}, {"attempt", "delay", "exception"})
    s = tw.ship(session, number, promised=dt.date(2030, 1, 1))
    session.add(SalesOrderLine(order_id=s.sales_order_id, line_no=1, item_id=world.items["WIDGET"].id, qty_ordered=5,
                               qty_shipped=5, unit_price=Decimal("2.9900"), status="shipped", owner_branch_id=world.dal.id))
    session.commit()
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    story = tw.at_step(number, "depart")
    poller.run_cycle(tw.engine, tw.settings, clock=lambda: now)
    session.commit()  # a new read of what the poller committed in its own transactions
    session.expire_all()
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == s.id)).one()
    assert (inv.status, inv.total, inv.tracking_number) == ("pending", Decimal("16.18"), number)  # 14.95 + 1.23 (8.25 %)
    tw.at_step(number, "out")
    poller.run_cycle(tw.engine, tw.settings, clock=lambda: now + dt.timedelta(hours=7))
    tw.at_step(number, "delivered")
    rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: now + dt.timedelta(hours=7, minutes=20))
    # the delivery queued its invoice in the tracking transaction; the billing job that ends the cycle settled it
    assert any(n.startswith("invoice delivered shipments: 1 shipment settled") for n in rep.notes), rep.notes
    assert session.scalar(select(func.count()).select_from(BillingDue)) == 0
    session.commit()  # a new read of what the poller committed in its own transactions
    session.expire_all()
    inv = session.scalars(select(Invoice).where(Invoice.shipment_id == s.id)).one()
    assert inv.status == "released" and f"signed by {story.signer}" in inv.pod_ref
    assert [(e.kind, e.amount) for e in session.scalars(select(ReceivableEntry).where(
        ReceivableEntry.doc_number == inv.number))] == [("invoice", Decimal("16.18"))]
