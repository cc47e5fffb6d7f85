"""Settings > Billing: a manager sets a tax rate and how a customer is billed; a clerk may only read."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.billing.profile import billing_of
from app.services.billing.receivables import customer_by
from app.views.settings.billing_page import BillingSettingsPage
from tests.factories import World
from tests.services.billing_helpers import people
from tests.views.conftest import MakeCtx


def test_a_manager_sets_a_rate_and_a_customers_billing_a_clerk_reads(qtbot: QtBot, make_ctx: MakeCtx,
                                                                      session: Session, world: World) -> None:
    p = people(session, world)
    session.commit()
    page = BillingSettingsPage(make_ctx(world.actors["mike"]))
    qtbot.addWidget(page)
    page.zone.setText("tx")
    page.klass.setText("Standard")
    page.percent.setText("8.25")
    page.save_tax_rate()
    qtbot.waitUntil(lambda: page.status.text() == "tax rate TX / standard: 8.25 % saved", timeout=10000)
    qtbot.waitUntil(lambda: page.rates.rowCount() == 1, timeout=10000)
    page.percent.setText("101")
    page.save_tax_rate()
    qtbot.waitUntil(lambda: "rate: 101" in page.status.text() and "more than 100" in page.status.text(), timeout=10000)
    page.customer.setText("buildco")
    page.load_customer()
    qtbot.waitUntil(lambda: page.status.text() == "BUILDCO loaded", timeout=10000)
    assert page.invoice_on.currentData() == "delivery" and page.tax_zone.text() == "STD"
    page.invoice_on.setCurrentIndex(page.invoice_on.findData("shipment"))
    page.tax_zone.setText("TX")
    page.email.setText("ap@buildco.example")
    page.save_customer_billing()
    qtbot.waitUntil(lambda: page.status.text() == "billing of BUILDCO saved", timeout=10000)
    session.commit()
    b = billing_of(session, customer_by(session, "BUILDCO"))
    assert (b.invoice_on, b.tax_zone, b.invoice_email) == ("shipment", "TX", "ap@buildco.example")
    clerk_page = BillingSettingsPage(make_ctx(p["clara"]))
    qtbot.addWidget(clerk_page)
    assert not clerk_page.save_rate.isEnabled() and "may read, not change" in clerk_page.status.text()
