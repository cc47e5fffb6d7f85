"""Ship confirmation on real rows: stock leaves the packing location, shipment lines, shipped
quantities, reservations consumed, order status, freight, tracking hand-over, the event for
Billing; and every refusal leaves nothing half-done."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.allocation import Allocation, AllocationRun
from app.models.packing import ShipmentLine
from app.models.stock import StockMove
from app.services.dispatch.confirm import confirm_shipment
from app.services.errors import Conflict, PermissionDenied
from app.services.events import ShipmentConfirmed, on, unregister
from app.services.sales import credit
from tests.factories import World
from tests.services.inventory_helpers import bal
from tests.services.sales_helpers import allocated, lines_of
from tests.services.ship_helpers import packed_shipment, picked_order, ship_world

NOW = dt.datetime(2026, 12, 2, 15, 0, tzinfo=dt.UTC)


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_confirm_moves_stock_writes_lines_and_hands_to_tracking(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    so = picked_order(session, sw, {"WIDGET": 10, "BOLT": 5})
    assert so.status == "allocated"
    s = packed_shipment(session, sw, so, {"WIDGET": 10, "BOLT": 5}, amount="13.2500")
    widget = world.items["WIDGET"].id
    res = confirm_shipment(session, sw.dan, s.number, now=NOW)
    session.flush()
    # stock: out of PACK to the customer, through the ledger
    assert bal(session, sw.pack, widget) == 0
    out = session.scalars(select(StockMove).where(StockMove.doc_id == s.id)).all()
    assert sorted((m.qty, m.reason) for m in out) == [(5, "sale"), (10, "sale")]
    # shipment lines (Billing's source), shipped quantities, reservations used up
    rows = session.scalars(select(ShipmentLine).where(ShipmentLine.shipment_id == s.id)).all()
    assert sorted(r.qty for r in rows) == [5, 10] and all(r.order_id == so.id for r in rows)
    assert {r.unit_price for r in rows} == {ln.unit_price for ln in lines_of(session, so)}
    assert [ln.qty_shipped for ln in lines_of(session, so)] == [10, 5]
    assert allocated(session, so) == [0, 0]
    assert int(session.scalar(select(func.sum(Allocation.qty)).where(Allocation.order_id == so.id)) or 0) == 0
    assert session.scalar(select(AllocationRun.kind).where(AllocationRun.trigger == f"shipment {s.number}")) == "ship"
    # the shipment: confirmed for tracking, freight recorded
    session.refresh(s)
    assert (s.status, s.tracking_number, s.shipped_at) == ("label_created", s.label_number, NOW)
    assert s.next_poll_at is not None and s.next_poll_at > NOW
    assert (s.freight_quoted, s.freight_billed) == (Decimal("12.0000"), Decimal("13.2500"))
    # the order waits for the carrier's pickup (tracking makes it shipped), its lines went
    session.refresh(so)
    assert so.status == "packed" and {ln.status for ln in lines_of(session, so)} == {"shipped"}
    assert (res.lines, res.units, res.tracking_number) == (2, 15, s.label_number)


def test_the_event_carries_the_lines_for_billing(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    so = picked_order(session, sw, {"WIDGET": 4})
    s = packed_shipment(session, sw, so, {"WIDGET": 4})
    seen: list[tuple[str, int, str]] = []

    @on(ShipmentConfirmed, name="test.billing_probe", order=99)
    def probe(_session: Session, ev: ShipmentConfirmed) -> None:
        seen.append((ev.shipment.status, sum(ln.qty for ln in ev.lines), ev.order.number))
        ev.notes.append("probe saw it")

    try:
        res = confirm_shipment(session, sw.dan, s.id, now=NOW)
    finally:
        unregister("test.billing_probe")
    assert seen == [("label_created", 4, so.number)]
    assert "probe saw it" in res.notes


def test_part_shipment_leaves_the_rest_backordered(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    # 10 ordered, only 6 in stock: 6 allocated and picked, 4 short
    so = picked_order(session, sw, {"WIDGET": 10}, stock={"WIDGET": 6}, pick={"WIDGET": 6})
    assert so.status == "backordered"
    s = packed_shipment(session, sw, so, {"WIDGET": 6})
    confirm_shipment(session, sw.dan, s.number, now=NOW)
    session.refresh(so)
    ln = lines_of(session, so)[0]
    assert (ln.qty_shipped, ln.qty_allocated, ln.status) == (6, 0, "open")
    assert so.status == "backordered"


@pytest.mark.parametrize("case", ["no_label", "open_carton", "over_ordered", "credit_hold", "not_enough_in_pack",
                                  "no_right", "twice"])
def test_refusals_change_nothing(session: Session, world: World, case: str) -> None:
    sw = ship_world(session, world)
    so = picked_order(session, sw, {"WIDGET": 10}, pick={"WIDGET": 8 if case == "not_enough_in_pack" else 10})
    s = packed_shipment(session, sw, so, {"WIDGET": 12 if case == "over_ordered" else 10}, label=case != "no_label")
    actor = sw.dan
    if case == "open_carton":
        from app.models.packing import Carton

        session.scalars(select(Carton).where(Carton.shipment_id == s.id)).one().status = "open"
    elif case == "credit_hold":
        credit.hold(session, sw.people["mike"], so, "over the limit")
    elif case == "no_right":
        actor = sw.people["clara"]
    elif case == "twice":
        confirm_shipment(session, sw.dan, s.number, now=NOW)
    session.flush()
    before = (_count(session, StockMove), _count(session, ShipmentLine), _count(session, Allocation))
    status = s.status
    with pytest.raises((Conflict, PermissionDenied)) as e, session.begin_nested():  # the caller's rollback
        confirm_shipment(session, actor, s.number, now=NOW)
    message = str(e.value)
    expect = {"no_label": "has no label yet", "open_carton": "carton 1 is still open",
              "over_ordered": "12 packed, only 10 still to ship", "credit_hold": "is on credit hold",
              "not_enough_in_pack": "not enough stock of WIDGET in PACK", "no_right": "clara",
              "twice": "confirmed already"}[case]
    assert expect in message
    assert (_count(session, StockMove), _count(session, ShipmentLine), _count(session, Allocation)) == before
    session.refresh(s)
    assert s.status == status
