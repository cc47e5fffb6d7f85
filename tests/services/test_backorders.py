"""Backorder release: arriving stock sends covered backorders back to 'open', best tier first."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.services import masterdata as md
from app.services.inventory.backorders import release_backorders
from tests.factories import World
from tests.services.inventory_helpers import audit_actions, stock


def _order(session: Session, w: World, number: str, customer: Customer, lines: dict[str, int],
           day: int, status: str = "backordered", allocated: int = 0) -> SalesOrder:
    so = SalesOrder(number=number, customer_id=customer.id, warehouse_id=w.wh_dal.id, status=status,
                    order_date=dt.date(2026, 11, day), owner_branch_id=w.dal.id)
    session.add(so)
    session.flush()
    for n, (sku, q) in enumerate(lines.items(), 1):
        session.add(SalesOrderLine(order_id=so.id, line_no=n, item_id=w.items[sku].id, qty_ordered=q,
                                   qty_allocated=allocated, unit_price=Decimal("1"), owner_branch_id=w.dal.id))
    session.flush()
    return so


def test_receipt_releases_covered_orders_by_tier_then_age(session: Session, world: World) -> None:
    gold = md.create_customer(session, "GOLDCO", "Gold Co", priority_tier="gold")
    silver = world.customer
    old_silver = _order(session, world, "SO-1", silver, {"WIDGET": 30}, day=1)
    new_gold = _order(session, world, "SO-2", gold, {"WIDGET": 30}, day=5)
    both = _order(session, world, "SO-3", gold, {"WIDGET": 1, "BOLT": 5}, day=6)  # BOLT not in stock
    _order(session, world, "SO-4", silver, {"WIDGET": 10}, day=1, status="allocated", allocated=10)
    stock(session, world, "WIDGET", 75, "DAL1-A-02")  # 10 of it is allocated to SO-4
    released = release_backorders(session, world.actors["rita"], [world.items["WIDGET"].id], world.wh_dal.id)
    # 65 free: gold first (30), then the oldest silver (30); SO-3 also needs BOLT, which is not there
    assert released == ["SO-2", "SO-1"]
    assert (new_gold.status, old_silver.status, both.status) == ("open", "open", "backordered")
    assert audit_actions(session).count("order.release_backorder") == 2


def test_nothing_is_released_when_stock_does_not_cover_the_whole_order(session: Session, world: World) -> None:
    so = _order(session, world, "SO-9", world.customer, {"WIDGET": 30}, day=1)
    stock(session, world, "WIDGET", 29, "DAL1-A-02")
    assert release_backorders(session, world.actors["rita"], [world.items["WIDGET"].id], world.wh_dal.id) == []
    assert so.status == "backordered"
    # stock in another warehouse does not count
    stock(session, world, "WIDGET", 100, "HOU1-A-02")
    assert release_backorders(session, world.actors["rita"], [world.items["WIDGET"].id], world.wh_dal.id) == []


def test_released_orders_keep_their_claim_so_a_second_call_releases_nothing_more(session: Session, world: World) -> None:
    first = _order(session, world, "SO-A", world.customer, {"BOLT": 10}, day=1)
    second = _order(session, world, "SO-B", world.customer, {"BOLT": 10}, day=2)
    stock(session, world, "BOLT", 15, "DAL1-A-02")
    bolt = world.items["BOLT"].id
    assert release_backorders(session, world.actors["rita"], [bolt], world.wh_dal.id) == ["SO-A"]
    assert release_backorders(session, world.actors["rita"], [bolt], world.wh_dal.id) == []
    stock(session, world, "BOLT", 5, "DAL1-A-02")
    assert release_backorders(session, world.actors["rita"], [bolt], world.wh_dal.id) == ["SO-B"]
    assert (first.status, second.status) == ("open", "open")
