"""The Allocation screen on real threads: an order typed by keyboard with its live promise, a credit
hold released by the credit manager, a simulation diff accepted, backorders with expected dates."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.models.sales import SalesOrder
from app.views.allocation import holds_tab, orders_tab
from app.views.allocation.screen import AllocationScreen
from tests.factories import World
from tests.services.sales_helpers import customer, order, people, put
from tests.views.conftest import MakeCtx


def _screen(qtbot: QtBot, ctx: object) -> AllocationScreen:
    s = AllocationScreen(ctx)  # type: ignore[arg-type]
    qtbot.addWidget(s)
    qtbot.waitUntil(lambda: s.entry.warehouse.count() >= 2 and s.run.warehouse.count() >= 2, timeout=10000)
    return s


def test_keyboard_entry_shows_the_promise_and_saves(qtbot: QtBot, session: Session, world: World,
                                                    make_ctx: MakeCtx) -> None:
    p = people(session, world)
    put(session, world, "WIDGET", 100)
    session.commit()
    s = _screen(qtbot, make_ctx(p["clara"]))
    s.new_order()
    e = s.entry
    assert s.tabs.currentWidget() is e
    assert e.warehouse.currentText() == "DAL1"  # clara works in Dallas
    assert not e.price.isEnabled()  # no price.override
    qtbot.keyClicks(e.customer, "buildco")
    with qtbot.waitSignal(e.hits_shown, timeout=10000):
        pass
    qtbot.keyClick(e.customer, Qt.Key.Key_Return)
    assert e.customer.text() == "BUILDCO" and "BuildCo Contractors" in e.customer_name.text()
    qtbot.keyClicks(e.item, "steel wid")
    qtbot.waitUntil(lambda: e.hits.count() > 0, timeout=10000)
    assert e.hits.item(0).text().startswith("WIDGET")
    qtbot.keyClick(e.item, Qt.Key.Key_Return)
    assert e.item.text() == "WIDGET"
    with qtbot.waitSignal(e.quoted, timeout=10000, check_params_cb=lambda q: q is not None and q.qty == 24):
        qtbot.keyClicks(e.qty, "24")
    assert "available now" in e.quote.text() and "2.99 per EA (list price)" in e.quote.text()
    qtbot.keyClick(e.qty, Qt.Key.Key_Return)
    assert [ln.item for ln in e.pending] == ["WIDGET"]
    qtbot.keyClicks(e.item, "BOLT")
    qtbot.keyClicks(e.qty, "5")
    qtbot.keyClick(e.qty, Qt.Key.Key_Return)
    with qtbot.waitSignal(e.saved, timeout=10000) as got:
        e.save_btn.click()
    res = got.args[0]
    assert res.order.number == "DAL-SO-000001" and res.order.status == "open"
    assert "DAL-SO-000001: open, 2 line(s), promised" in e.result.text()
    qtbot.waitUntil(lambda: s.orders.model.rowCount() == 1, timeout=10000)


def test_credit_hold_released_by_the_credit_manager(qtbot: QtBot, session: Session, world: World,
                                                     make_ctx: MakeCtx, monkeypatch: object) -> None:
    p = people(session, world)
    stop = customer(session, "STOPCO", credit_hold=True, credit_note="cheque returned")
    held = order(session, world, p["clara"], stop, {"BOLT": 3}).order
    session.commit()
    clerk = _screen(qtbot, make_ctx(p["clara"]))
    qtbot.waitUntil(lambda: clerk.holds.model.rowCount() == 1, timeout=10000)
    assert clerk.holds.model.row(0).reason == "customer STOPCO is on credit stop: cheque returned"
    assert not clerk.holds.release_btn.isEnabled()
    assert clerk.tabs.tabText(2) == "Credit &holds (1)"
    boss = _screen(qtbot, make_ctx(p["mike"]))
    qtbot.waitUntil(lambda: boss.holds.model.rowCount() == 1, timeout=10000)
    monkeypatch.setattr(holds_tab.NoteQuestion, "ask", staticmethod(lambda *_a: "paid by card"))  # type: ignore[attr-defined]
    boss.holds.view.selectRow(0)
    with qtbot.waitSignal(boss.holds.released, timeout=10000) as got:
        boss.holds.release_btn.click()
    assert got.args == [f"{held.number} released from credit hold"]
    qtbot.waitUntil(lambda: boss.holds.model.rowCount() == 0, timeout=10000)
    session.expire_all()
    assert session.get(SalesOrder, held.id).credit_released_by == "mike"  # type: ignore[union-attr]


def test_simulation_diff_accepted_and_backorders_listed(qtbot: QtBot, session: Session, world: World,
                                                        make_ctx: MakeCtx, monkeypatch: object) -> None:
    p = people(session, world)
    gold, silver = customer(session, "GOLDCO", "gold"), customer(session, "SILVERCO", "silver")
    put(session, world, "WIDGET", 40)
    first = order(session, world, p["clara"], silver, {"WIDGET": 40}).order
    later = order(session, world, p["clara"], gold, {"WIDGET": 30}).order
    session.commit()
    s = _screen(qtbot, make_ctx(p["dan"]))
    r = s.run
    s.tabs.setCurrentWidget(r)
    r.set_keys(["order_date"])
    with qtbot.waitSignal(r.simulated, timeout=10000) as got:
        r.simulate_btn.click()
    plan = got.args[0]
    assert {ln.order_number: ln.target for ln in plan.lines} == {first.number: 40, later.number: 0}
    ModelTester(None).check(r.model)
    # tier first instead: the diff moves 30 units to the gold customer
    r.set_keys(["tier", "order_date"])
    with qtbot.waitSignal(r.simulated, timeout=10000) as got:
        r.simulate_btn.click()
    rows = {(ln.order_number, ln.delta, ln.rule) for ln in r.model.rows()}
    assert rows == {(later.number, 30, "covered"), (first.number, 10, "tier")}
    assert "Nothing written yet" in r.figures.text()
    r.view.selectRow(0)
    assert r.why.text().startswith(f"<b>{later.number}/1</b> WIDGET for GOLDCO: ")
    with qtbot.waitSignal(r.accepted, timeout=10000) as done:
        r.accept_btn.click()
    assert done.args[0].units_allocated == 40 and not done.args[0].failures
    assert r.why.text() == ""  # the accepted plan's line is gone from the table: so is its sentence
    qtbot.waitUntil(lambda: s.backorders.model.rowCount() == 1, timeout=10000)
    b = s.backorders.model.row(0)
    lead = dt.date.today() + dt.timedelta(days=7)  # Acme's lead time: no receipt is expected
    assert (b.customer, b.sku, b.short, b.expected_text) == ("SILVERCO", "WIDGET", 30, f"not before {lead}")
    # the order list shows the statuses
    qtbot.waitUntil(lambda: {r_.number: r_.status for r_ in s.orders.model.rows()}.get(later.number) == "allocated",
                    timeout=10000)


def test_orders_tab_cancels_a_line_with_a_reason(qtbot: QtBot, session: Session, world: World,
                                                 make_ctx: MakeCtx, monkeypatch: object) -> None:
    p = people(session, world)
    so = order(session, world, p["clara"], "BUILDCO", {"WIDGET": 2, "BOLT": 3}).order
    session.commit()
    s = _screen(qtbot, make_ctx(p["clara"]))
    o = s.orders
    qtbot.waitUntil(lambda: o.model.rowCount() == 1, timeout=10000)
    ModelTester(None).check(o.model)
    with qtbot.waitSignal(o.detail_shown, timeout=10000):
        o.view.selectRow(0)
    assert so.number in o.head.text() and o.lines.rowCount() == 2
    monkeypatch.setattr(orders_tab.ReasonQuestion, "ask", staticmethod(lambda *_a: "out of range"))  # type: ignore[attr-defined]
    o.line_view.selectRow(1)
    with qtbot.waitSignal(o.done, timeout=10000) as got:
        o.cancel_line_btn.click()
    assert got.args == [f"{so.number} line 2 cancelled (cancelled)"]
    qtbot.waitUntil(lambda: o.lines.rowCount() == 2 and o.lines.row(1).status == "cancelled", timeout=10000)
