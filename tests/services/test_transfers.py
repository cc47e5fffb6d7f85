"""Inter-branch transfers: stock in transit counted once, expected receipt at the destination,
received once, never over-received."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.inventory.queries import item_figures
from app.services.inventory.transfers import (
    TransferLineSpec,
    cancel_transfer,
    create_transfer,
    lines_of,
    list_transfers,
    receive_transfer,
    ship_transfer,
)
from app.services.stock import balance_mismatches, on_hand, virtual_location
from tests.factories import World
from tests.services.inventory_helpers import audit_actions, bal, lot, move_count, stock


def _figures(session: Session, w: World, sku: str) -> dict[str, tuple[int, int, int]]:
    return {f.warehouse: (f.on_hand, f.in_transit_out, f.in_transit_in)
            for f in item_figures(session, w.items[sku].id)}


def test_ship_puts_stock_in_transit_once_and_receipt_lands_it_at_the_destination(session: Session, world: World) -> None:
    stock(session, world, "WIDGET", 30, "DAL1-A-02")
    stock(session, world, "WIDGET", 30, "DAL1-A-03")
    widget = world.items["WIDGET"].id
    t = create_transfer(session, world.actors["alice"], world.wh_dal.id, world.wh_hou.id,
                        [TransferLineSpec(widget, 45)], requested_date=dt.date(2026, 12, 1))
    assert t.number.startswith("DAL-TR-") and t.status == "draft"
    ship_transfer(session, world.actors["wes"], t.id)
    session.commit()
    # 45 left DAL's bins, sit in DAL's transit location: in neither branch's on hand, counted once
    assert on_hand(session, widget, world.wh_dal.id) == 15
    assert on_hand(session, widget, world.wh_hou.id) == 0
    assert _figures(session, world, "WIDGET") == {"DAL1": (15, 45, 0), "HOU1": (0, 0, 45)}
    er = session.get(ExpectedReceipt, t.expected_receipt_id)
    assert er is not None and er.source == "transfer" and er.warehouse_id == world.wh_hou.id
    assert er.owner_branch_id == world.hou.id and er.expected_at is not None and er.expected_at.date() == dt.date(2026, 12, 1)
    (erl,) = session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == er.id))
    assert erl.qty_expected == 45
    receive_transfer(session, world.actors["rita"], t.id)
    session.commit()
    assert t.status == "received"
    assert bal(session, virtual_location(session, world.wh_hou.id, "dock"), widget) == 45
    assert _figures(session, world, "WIDGET") == {"DAL1": (15, 0, 0), "HOU1": (45, 0, 0)}
    assert er.status == "received" and erl.qty_received == 45
    assert balance_mismatches(session) == []
    assert {"transfer.create", "transfer.ship", "transfer.receive"} <= set(audit_actions(session))
    assert [s.number for s in list_transfers(session, warehouse_id=world.wh_hou.id)] == [t.number]


def test_a_transfer_received_twice_is_refused_and_nothing_posts(session: Session, world: World) -> None:
    stock(session, world, "BOLT", 10, "DAL1-A-02")
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id,
                        [TransferLineSpec(world.items["BOLT"].id, 10)])
    ship_transfer(session, world.actors["wes"], t.id)
    receive_transfer(session, world.actors["rita"], t.id)
    session.commit()
    before = move_count(session)
    with pytest.raises(Conflict, match=f"transfer {t.number} was already received"):
        receive_transfer(session, world.actors["rita"], t.id)
    assert move_count(session) == before


def test_over_receiving_is_refused_and_a_short_receipt_writes_off_the_rest(session: Session, world: World) -> None:
    stock(session, world, "BOLT", 10, "DAL1-A-02")
    bolt = world.items["BOLT"].id
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id, [TransferLineSpec(bolt, 10)])
    ship_transfer(session, world.actors["wes"], t.id)
    session.commit()
    (ln,) = lines_of(session, t.id)
    before = move_count(session)
    with pytest.raises(ValidationError, match="BOLT.*received quantity: 11 is more than the 10 shipped"):
        receive_transfer(session, world.actors["rita"], t.id, {ln.id: 11})
    session.rollback()
    assert move_count(session) == before and t.status == "shipped"
    receive_transfer(session, world.actors["rita"], t.id, {ln.id: 8}, to_location_id=world.bins["HOU1-A-02"].id)
    assert bal(session, world.bins["HOU1-A-02"], bolt) == 8
    assert ln.qty_short == 2
    assert bal(session, virtual_location(session, world.wh_dal.id, "transit"), bolt) == 0


def test_lots_ship_fefo_and_arrive_with_their_lot(session: Session, world: World) -> None:
    milk = world.items["MILK"].id
    late = lot(session, world, "MILK", "LATE", dt.date(2027, 6, 1))
    soon = lot(session, world, "MILK", "SOON", dt.date(2027, 1, 1))
    stock(session, world, "MILK", 5, "DAL1-C-01", lot_id=late)
    stock(session, world, "MILK", 5, "DAL1-C-01", lot_id=soon)
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id, [TransferLineSpec(milk, 7)])
    ship_transfer(session, world.actors["wes"], t.id)
    receive_transfer(session, world.actors["rita"], t.id, to_location_id=world.bins["HOU1-C-01"].id)
    assert bal(session, world.bins["HOU1-C-01"], milk, soon) == 5
    assert bal(session, world.bins["HOU1-C-01"], milk, late) == 2
    assert bal(session, world.bins["DAL1-C-01"], milk, late) == 3


def test_bad_transfers_are_refused_with_a_clear_message(session: Session, world: World) -> None:
    bolt = world.items["BOLT"].id
    wes = world.actors["wes"]
    with pytest.raises(ValidationError, match="to warehouse: must differ"):
        create_transfer(session, wes, world.wh_dal.id, world.wh_dal.id, [TransferLineSpec(bolt, 1)])
    with pytest.raises(ValidationError, match="BOLT.*quantity.*negative"):
        create_transfer(session, wes, world.wh_dal.id, world.wh_hou.id, [TransferLineSpec(bolt, -2)])
    with pytest.raises(ValidationError, match="BOLT.*quantity.*whole number"):
        create_transfer(session, wes, world.wh_dal.id, world.wh_hou.id, [TransferLineSpec(bolt, 1.5)])  # type: ignore[arg-type]
    with pytest.raises(NotFound, match="unknown warehouse"):
        create_transfer(session, wes, world.wh_dal.id, world.items["BOLT"].id, [TransferLineSpec(bolt, 1)])
    stock(session, world, "BOLT", 3, "DAL1-A-02")
    t = create_transfer(session, wes, world.wh_dal.id, world.wh_hou.id, [TransferLineSpec(bolt, 5)])
    session.commit()
    before = move_count(session)
    with pytest.raises(Conflict, match="not enough stock of BOLT to ship: 3 available, 5 to ship"):
        ship_transfer(session, wes, t.id)
    session.rollback()
    assert move_count(session) == before and t.status == "draft"
    cancel_transfer(session, wes, t.id)
    with pytest.raises(Conflict, match="only a draft can be shipped"):
        ship_transfer(session, wes, t.id)


def test_transfer_requisitions_become_one_transfer_per_warehouse_pair(session: Session, world: World) -> None:
    from app.services.buying.conversion import transfers_from_requisitions
    from app.services.buying.requisitions import AcceptLine, accept

    alice = world.actors["alice"]
    reqs = accept(session, alice, [
        AcceptLine(world.items["WIDGET"].id, world.wh_dal.id, "transfer", 20, source_warehouse_id=world.wh_hou.id,
                   need_by=dt.date(2026, 12, 5)),
        AcceptLine(world.items["BOLT"].id, world.wh_dal.id, "transfer", 7, source_warehouse_id=world.wh_hou.id,
                   need_by=dt.date(2026, 12, 3)),
    ])
    (t,) = transfers_from_requisitions(session, alice, [r.id for r in reqs])
    assert (t.from_warehouse_id, t.to_warehouse_id, t.requested_date) == (world.wh_hou.id, world.wh_dal.id, dt.date(2026, 12, 3))
    assert sorted((ln.item_id, ln.qty) for ln in lines_of(session, t.id)) == sorted(
        [(world.items["WIDGET"].id, 20), (world.items["BOLT"].id, 7)])
    assert {(r.status, r.transfer_id) for r in reqs} == {("converted", t.id)}
    with pytest.raises(Conflict, match="is converted"):
        transfers_from_requisitions(session, alice, [reqs[0].id])


def test_receiving_a_transfer_releases_backorders_it_covers(session: Session, world: World) -> None:
    from decimal import Decimal

    from app.models.sales import SalesOrder, SalesOrderLine

    so = SalesOrder(number="HOU-SO-1", customer_id=world.customer.id, warehouse_id=world.wh_hou.id,
                    status="backordered", order_date=dt.date(2026, 11, 20), owner_branch_id=world.hou.id)
    session.add(so)
    session.flush()
    session.add(SalesOrderLine(order_id=so.id, line_no=1, item_id=world.items["BOLT"].id, qty_ordered=6,
                               unit_price=Decimal("1"), owner_branch_id=world.hou.id))
    stock(session, world, "BOLT", 6, "DAL1-A-02")
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id,
                        [TransferLineSpec(world.items["BOLT"].id, 6)])
    ship_transfer(session, world.actors["wes"], t.id)
    assert so.status == "backordered"  # in transit does not count
    receive_transfer(session, world.actors["rita"], t.id)
    # released, and (the allocation follow-up on the arrival, issue 12) the 6 units reserved for it
    assert so.status == "allocated"
    session.refresh(so)
    assert [ln.qty_allocated for ln in session.scalars(select(SalesOrderLine).where(
        SalesOrderLine.order_id == so.id))] == [6]


def test_two_items_in_one_bin_ship_on_one_transfer(session: Session, world: World) -> None:
    stock(session, world, "WIDGET", 5, "DAL1-A-02")
    stock(session, world, "BOLT", 3, "DAL1-A-02")
    widget, bolt = world.items["WIDGET"].id, world.items["BOLT"].id
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id,
                        [TransferLineSpec(widget, 5), TransferLineSpec(bolt, 3)])
    ship_transfer(session, world.actors["wes"], t.id)  # the widgets taken do not use up the bolts' bin
    transit = virtual_location(session, world.wh_dal.id, "transit")
    assert (bal(session, transit, widget), bal(session, transit, bolt)) == (5, 3)
