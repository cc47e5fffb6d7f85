"""The receivables screen as a clerk works it: the ageing, a customer's open documents, a payment to
the selected invoice (too much is refused with the open amount), a bank file (a bad line named,
nothing paid), a statement saved as PDF."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.billing import invoices
from app.services.billing import receivables as ar
from app.views.receivables.screen import ReceivablesScreen
from tests.factories import World
from tests.services.billing_helpers import billed_customer, people, rates, settled, ship
from tests.views.conftest import MakeCtx


def test_ageing_open_items_payment_bank_file_and_statement(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                          world: World, tmp_path: Path) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "OWECO", terms="COD")
    numbers = []
    for n in range(2):
        inv = invoices.invoice_shipment(session, p["clara"], ship(session, world, p["clara"], cust, {"WIDGET": 3 + n}).number)
        invoices.release(session, p["clara"], inv.id, today=dt.date.today() - dt.timedelta(days=40 - n))
        numbers.append(inv.number)
    session.commit()
    ctx = make_ctx(p["clara"])
    screen = ReceivablesScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: screen.ageing_model.keys == ["OWECO"], timeout=10000)
    row = screen.ageing_model.rows[0]
    assert row[2] == "0.00" and row[4] != "0.00"  # nothing current, all 31-60 days overdue
    assert "1 customers owe" in screen.summary.text() and "DSO (90 days)" in screen.summary.text()
    screen.ageing.selectRow(0)
    qtbot.waitUntil(lambda: screen.items_model.keys == numbers, timeout=10000)
    assert screen.items_model.rows[0][5] == "40"
    screen.items.selectRow(1)
    screen.apply_payment("99999", "CHQ 1")
    qtbot.waitUntil(lambda: "larger than the open amount" in screen.message.text(), timeout=10000)
    screen.apply_payment("1.00", "CHQ 2")
    qtbot.waitUntil(lambda: "paid " + numbers[1] + " 1.00" in screen.message.text(), timeout=10000)
    bad = tmp_path / "bank.csv"
    bad.write_text("date,customer,amount,invoice,reference\n2026-12-01,GHOST,1,,X\n")
    screen.import_bank(bad)
    qtbot.waitUntil(lambda: "line 2: unknown customer GHOST; nothing paid" in screen.message.text(), timeout=10000)
    good = tmp_path / "bank2.csv"
    good.write_text(f"date,customer,amount,invoice,reference\n2026-12-01,OWECO,2.00,{numbers[0]},B-7\n")
    screen.import_bank(good)
    qtbot.waitUntil(lambda: "1 payments applied (2.00)" in screen.message.text(), timeout=10000)
    out = tmp_path / "stmt.pdf"
    screen.save_statement(out)
    qtbot.waitUntil(lambda: "saved to" in screen.message.text(), timeout=10000)
    assert "STATEMENT OF ACCOUNT" in PdfReader(str(out)).pages[0].extract_text()
    screen.save_statement(tmp_path / "missing" / "s.pdf")
    qtbot.waitUntil(lambda: "is not a folder" in screen.message.text(), timeout=10000)


def test_pending_invoices_are_released_with_a_paper_pod_or_cancelled_with_a_reason(
        qtbot: QtBot, make_ctx: MakeCtx, session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "PAPERCO")
    pending = [invoices.invoice_shipment(session, p["clara"], ship(session, world, p["clara"], cust, {"BOLT": 5 + n}).number)
               .number for n in range(2)]
    session.commit()
    screen = ReceivablesScreen(make_ctx(p["clara"]))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: screen.pending_model.keys == list(reversed(pending)), timeout=10000)
    assert screen.tabs.tabText(1) == "Pending invoices (2)" and not screen.release_button.isEnabled()
    screen.pending.selectRow(screen.pending_model.keys.index(pending[0]))
    assert screen.release_button.isEnabled()
    screen.release_selected("signed by A. PAPER 2026-12-04")
    qtbot.waitUntil(lambda: f"{pending[0]} released, due" in screen.message.text(), timeout=10000)
    qtbot.waitUntil(lambda: screen.pending_model.keys == [pending[1]], timeout=10000)
    screen.pending.selectRow(0)
    screen.cancel_selected("  ")
    qtbot.waitUntil(lambda: "reason: is required to cancel an invoice" in screen.message.text(), timeout=10000)
    screen.cancel_selected("customer refused the delivery")
    qtbot.waitUntil(lambda: screen.pending_model.keys == [], timeout=10000)
    session.commit()
    released = invoices.get_invoice(session, pending[0])
    assert released.status == "released" and released.pod_ref == "signed by A. PAPER 2026-12-04"
    assert invoices.get_invoice(session, pending[1]).status == "cancelled"


def test_a_returns_credit_is_issued_from_the_screen_once(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                         world: World) -> None:
    from app.services.events import ShipmentPickedUp, emit
    from app.services.inventory.rma import (
        Disposition,
        Inspection,
        RmaLineSpec,
        authorise_rma,
        dispose_rma,
        inspect_rma,
        receive_rma,
        rma_lines,
    )

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "RETURNCO", on="shipment")
    sh = ship(session, world, p["clara"], cust, {"BOLT": 50})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    settled(session)
    rita = world.actors["rita"]
    rma = authorise_rma(session, rita, cust.id, world.wh_dal.id, [RmaLineSpec(world.items["BOLT"].id, 5)],
                        sales_order_id=sh.sales_order_id)
    (ln,) = rma_lines(session, rma.id)
    receive_rma(session, rita, rma.id)
    inspect_rma(session, rita, rma.id, {ln.id: Inspection("defective")})
    dispose_rma(session, rita, rma.id, {ln.id: Disposition("rtv")})
    session.commit()
    screen = ReceivablesScreen(make_ctx(p["clara"]))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: len(screen.returns_model.keys) == 1, timeout=10000)
    assert screen.tabs.tabText(2) == "Returns to credit (1)" and screen.returns_model.rows[0][1] == rma.number
    screen.returns.selectRow(0)
    assert screen.credit_button.isEnabled()
    screen.credit_selected()
    qtbot.waitUntil(lambda: "credit note DAL-CN-000001 for" in screen.message.text(), timeout=10000)
    assert "against DAL-INV-000001" in screen.message.text()
    qtbot.waitUntil(lambda: screen.returns_model.keys == [], timeout=10000)


def test_a_price_correction_is_credited_from_the_screen(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                        world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    """The selected invoice's lines in the dialog, a lower price and a reason: a credit note for the
    difference with its tax, the invoice's open amount down by it; a price not below the billed one
    is refused with the service's sentence, nothing issued."""
    from app.views.receivables.price_correction import PriceCorrectionDialog

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "FIXCO")
    inv = invoices.invoice_shipment(session, p["clara"], ship(session, world, p["clara"], cust, {"WIDGET": 10}).number)
    invoices.release(session, p["clara"], inv.id)
    session.commit()
    ctx = make_ctx(p["clara"])
    screen = ReceivablesScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: screen.ageing_model.keys == ["FIXCO"], timeout=10000)
    screen.ageing.selectRow(0)
    qtbot.waitUntil(lambda: screen.items_model.keys == [inv.number], timeout=10000)
    screen.items.selectRow(0)
    assert screen.correct_button.isEnabled()
    seen: list[dict] = []

    def answer(parent: object, detail: dict) -> object:
        seen.append(detail)
        dialog = PriceCorrectionDialog(detail)  # the real dialog, filled as a clerk would
        qtbot.addWidget(dialog)
        assert dialog.table.rowCount() == 1 and dialog.table.item(0, 1).text() == "WIDGET"
        billed = detail["lines"][0]["price"]
        dialog.table.item(0, 5).setText(str(billed if len(seen) == 1 else billed - Decimal("0.50")))
        dialog.reason.setText("contract price agreed")
        return dialog.collected()

    monkeypatch.setattr(PriceCorrectionDialog, "ask", classmethod(lambda cls, parent, detail: answer(parent, detail)))
    screen.correct_prices()
    qtbot.waitUntil(lambda: "is not below the billed" in screen.message.text(), timeout=10000)
    screen.correct_prices()
    qtbot.waitUntil(lambda: "issued against " + inv.number in screen.message.text(), timeout=10000)
    assert screen.message.text().startswith("credit note DAL-CN-000001 for 5.41")  # 10 x 0.50 + 8.25 % tax
    session.expire_all()
    open_ = ar.open_items(session, cust.id, today=dt.date.today())
    assert [(o.doc_number, o.open) for o in open_] == [(inv.number, inv.total - Decimal("5.41"))]
