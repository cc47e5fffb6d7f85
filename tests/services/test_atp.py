"""Available to promise: on hand - allocated + expected receipts due by the date."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.sales import SalesOrder, SalesOrderLine
from app.services.inventory.atp import atp, atp_profile
from tests.factories import World
from tests.services.inventory_helpers import stock


def _expected(session: Session, w: World, number: str, sku: str, q: int, day: dt.date | None, status: str = "expected") -> None:
    er = ExpectedReceipt(number=number, source="po", warehouse_id=w.wh_dal.id, status=status, owner_branch_id=w.dal.id,
                         expected_at=dt.datetime.combine(day, dt.time(9), dt.UTC) if day else None)
    session.add(er)
    session.flush()
    session.add(ExpectedReceiptLine(receipt_id=er.id, item_id=w.items[sku].id, qty_expected=q, owner_branch_id=w.dal.id))
    session.flush()


def test_atp_by_date(session: Session, world: World) -> None:
    today = dt.date(2026, 11, 26)
    widget = world.items["WIDGET"].id
    stock(session, world, "WIDGET", 100, "DAL1-A-02")
    stock(session, world, "WIDGET", 500, "HOU1-A-02")  # another warehouse: not promised here
    so = SalesOrder(number="SO-1", customer_id=world.customer.id, warehouse_id=world.wh_dal.id, status="allocated",
                    order_date=today, owner_branch_id=world.dal.id)
    session.add(so)
    session.flush()
    # qty_allocated is what is reserved and not yet shipped (shipping consumes it): 10 of 40 went
    session.add(SalesOrderLine(order_id=so.id, line_no=1, item_id=widget, qty_ordered=40, qty_allocated=30,
                               qty_shipped=10, unit_price=Decimal("1"), owner_branch_id=world.dal.id))
    _expected(session, world, "ER-1", "WIDGET", 50, today + dt.timedelta(days=3))
    _expected(session, world, "ER-2", "WIDGET", 25, today + dt.timedelta(days=10))
    _expected(session, world, "ER-3", "WIDGET", 999, today + dt.timedelta(days=1), status="cancelled")
    _expected(session, world, "ER-4", "WIDGET", 7, None)
    session.flush()
    # 100 on hand - 30 allocated and not shipped
    assert atp(session, [widget], world.wh_dal.id, on=today) == {widget: 70}
    assert atp(session, [widget], world.wh_dal.id, on=today + dt.timedelta(days=3)) == {widget: 120}
    assert atp(session, [widget], world.wh_dal.id, on=today + dt.timedelta(days=30)) == {widget: 145}
    prof = atp_profile(session, widget, world.wh_dal.id, today=today)
    assert [(p.date, p.atp) for p in prof[:3]] == [(today, 70), (today + dt.timedelta(days=3), 120),
                                                    (today + dt.timedelta(days=10), 145)]
    assert "without a date" in prof[-1].note
