"""Returns: authorise, receive into QA, inspect, dispose, and the credit request for invoicing."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy.orm import Session

from app.models.sales import SalesOrder, SalesOrderLine
from app.services.errors import Conflict, ValidationError
from app.services.inventory.rma import (
    Disposition,
    Inspection,
    RmaLineSpec,
    authorise_rma,
    credit_for,
    dispose_rma,
    inspect_rma,
    receive_rma,
    rma_lines,
)
from app.services.stock import balance_mismatches, virtual_location
from tests.factories import World
from tests.services.inventory_helpers import bal, move_count


def _shipped_order(session: Session, w: World) -> SalesOrder:
    so = SalesOrder(number="DAL-SO-000001", customer_id=w.customer.id, warehouse_id=w.wh_dal.id, status="shipped",
                    order_date=dt.date(2026, 11, 1), owner_branch_id=w.dal.id)
    session.add(so)
    session.flush()
    for n, (sku, q, price) in enumerate((("WIDGET", 10, "2.5000"), ("BOLT", 100, "0.3000")), 1):
        session.add(SalesOrderLine(order_id=so.id, line_no=n, item_id=w.items[sku].id, qty_ordered=q, qty_allocated=q,
                                   qty_shipped=q, unit_price=Decimal(price), status="shipped", owner_branch_id=w.dal.id))
    session.flush()
    return so


def test_full_return_flow_restocks_scraps_and_requests_the_credit(session: Session, world: World) -> None:
    so = _shipped_order(session, world)
    widget, bolt = world.items["WIDGET"].id, world.items["BOLT"].id
    clerk = world.actors["rita"]
    rma = authorise_rma(session, clerk, world.customer.id, world.wh_dal.id,
                        [RmaLineSpec(widget, 4), RmaLineSpec(bolt, 50)], sales_order_id=so.id, reason="wrong size")
    assert rma.number.startswith("DAL-RMA-") and rma.status == "authorised"
    w_line, b_line = rma_lines(session, rma.id)
    assert w_line.unit_credit == Decimal("2.5000")  # the order's price, not the list price
    receive_rma(session, clerk, rma.id, {b_line.id: 40})
    qa = virtual_location(session, world.wh_dal.id, "qa")
    assert (bal(session, qa, widget), bal(session, qa, bolt)) == (4, 40)
    with pytest.raises(Conflict, match="must be inspected before disposal"):
        dispose_rma(session, clerk, rma.id, {w_line.id: Disposition("scrap")})
    inspect_rma(session, clerk, rma.id, {w_line.id: Inspection("ok"), b_line.id: Inspection("customer_damage", "rusty")})
    assert rma.status == "inspected"
    with pytest.raises(ValidationError, match="only units inspected ok may be restocked"):
        dispose_rma(session, clerk, rma.id, {b_line.id: Disposition("restock", world.bins["DAL1-A-02"].id)})
    dispose_rma(session, clerk, rma.id, {w_line.id: Disposition("restock", world.bins["DAL1-A-02"].id),
                                         b_line.id: Disposition("scrap")})
    session.commit()
    assert rma.status == "closed"
    assert bal(session, world.bins["DAL1-A-02"], widget) == 4
    assert bal(session, virtual_location(session, world.wh_dal.id, "scrap"), bolt) == 40
    assert bal(session, qa, bolt) == 0
    credit = credit_for(session, rma.id)
    assert credit is not None and credit.amount == Decimal("10.0000")  # 4 x 2.50; customer damage earns nothing
    assert credit.status == "open" and credit.customer_id == world.customer.id and "WIDGET x 4" in credit.detail
    assert balance_mismatches(session) == []


def test_defective_goods_return_to_vendor_and_are_credited(session: Session, world: World) -> None:
    clerk = world.actors["rita"]
    rma = authorise_rma(session, clerk, world.customer.id, world.wh_dal.id,
                        [RmaLineSpec(world.items["BOLT"].id, 10, unit_credit="0.5000")])
    (ln,) = rma_lines(session, rma.id)
    receive_rma(session, clerk, rma.id)
    inspect_rma(session, clerk, rma.id, {ln.id: Inspection("defective")})
    dispose_rma(session, clerk, rma.id, {ln.id: Disposition("rtv")})
    assert bal(session, virtual_location(session, world.wh_dal.id, "supplier"), world.items["BOLT"].id) == 10
    assert credit_for(session, rma.id).amount == Decimal("5.0000")  # type: ignore[union-attr]


def test_bad_returns_are_refused_and_nothing_is_posted(session: Session, world: World) -> None:
    so = _shipped_order(session, world)
    clerk = world.actors["rita"]
    widget = world.items["WIDGET"].id
    with pytest.raises(ValidationError, match="WIDGET.*more than the 10 shipped"):
        authorise_rma(session, clerk, world.customer.id, world.wh_dal.id, [RmaLineSpec(widget, 11)], sales_order_id=so.id)
    with pytest.raises(ValidationError, match="DRILL is not on the sales order"):
        authorise_rma(session, clerk, world.customer.id, world.wh_dal.id,
                      [RmaLineSpec(world.items["DRILL"].id, 1, serial_no="S1")], sales_order_id=so.id)
    with pytest.raises(ValidationError, match="quantity.*whole number"):
        authorise_rma(session, clerk, world.customer.id, world.wh_dal.id, [RmaLineSpec(widget, "2.5")])  # type: ignore[arg-type]
    authorise_rma(session, clerk, world.customer.id, world.wh_dal.id, [RmaLineSpec(widget, 6)], sales_order_id=so.id)
    with pytest.raises(ValidationError, match="less earlier returns"):
        authorise_rma(session, clerk, world.customer.id, world.wh_dal.id, [RmaLineSpec(widget, 5)], sales_order_id=so.id)
    rma = authorise_rma(session, clerk, world.customer.id, world.wh_dal.id, [RmaLineSpec(widget, 2)])
    session.commit()
    (ln,) = rma_lines(session, rma.id)
    before = move_count(session)
    with pytest.raises(ValidationError, match="3 is more than the 2 authorised"):
        receive_rma(session, clerk, rma.id, {ln.id: 3})
    session.rollback()
    assert move_count(session) == before and rma.status == "authorised"
