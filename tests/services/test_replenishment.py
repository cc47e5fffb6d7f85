"""The replenishment maths and engine against hand-computed figures.

Worked example used throughout (today = Thursday 2026-11-26; history = the 4 full
Monday-based weeks before the current one, 2026-10-26 .. 2026-11-22):
weekly sales 56, 84, 56, 84 -> mean 70/week, d = 10/day; sample variance of the weeks
784/3 = 261.33 -> sigma_d^2 = 261.33 / 7 = 37.333; LT = 7 days, sigma_LT = 1 day.
sqrt(LT*sigma_d^2 + d^2*sigma_LT^2) = sqrt(261.333 + 100) = 19.00877.
BOLT (class B, 95 %, z = 1.644854): SS = 31.2667, ROP = 70 + SS = 101.2667,
OUL = ROP + 10 * 7 = 171.2667; on hand 20 -> raw ceil(151.27) = 152.
WIDGET (class A, 98 %, z = 2.053749, pack 12): SS = 39.0393, ROP = 109.0393,
OUL = 179.0393 -> raw 160 -> 168 (14 packs).
"""

from __future__ import annotations

import datetime as dt
import math
from decimal import Decimal

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Warehouse
from app.models.parties import ItemSupplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.models.sales import SalesOrder, SalesOrderLine
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.replenishment import figures as fg
from app.services.replenishment import run
from app.services.stock import MoveSpec, post_moves, virtual_location
from tests.factories import World

TODAY = dt.date(2026, 11, 26)
START = TODAY - dt.timedelta(days=28)
SERIES = (56, 84, 56, 84)


def at(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(10, 0), dt.UTC)


def stock_and_sales(session: Session, w: World, sku: str, wh: Warehouse, *, on_hand_after: int,
                    weekly: tuple[int, ...] = SERIES, start: dt.date = START) -> None:
    """Receive enough stock before ``start``, sell ``weekly`` (one sale on day 2 of each week),
    leaving ``on_hand_after`` in the warehouse's first bin."""
    item = w.items[sku]
    bin_ = w.bins[f"{wh.code}-A-01"]
    sup = virtual_location(session, wh.id, "supplier")
    cust = virtual_location(session, wh.id, "customer")
    total = sum(weekly) + on_hand_after
    owner = wh.branch_id
    if total:
        post_moves(session, None, [MoveSpec(item.id, total, sup.id, bin_.id, "receipt")], owner_branch_id=owner,
                   at=at(start - dt.timedelta(days=30)))
    for k, q in enumerate(weekly):
        if q:
            post_moves(session, None, [MoveSpec(item.id, q, bin_.id, cust.id, "sale")], owner_branch_id=owner,
                       at=at(start + dt.timedelta(days=7 * k + 2)))
    session.flush()


def recs_by_key(session: Session, w: World, **kw: object) -> dict[tuple[str, str], object]:
    res = run(session, None, today=TODAY, history_weeks=4, **kw)  # type: ignore[arg-type]
    return {(r.sku, r.warehouse_code): r for r in res.recommendations}


def test_z_values_and_rounding_rules() -> None:
    assert fg.z_for(Decimal("95")) == pytest.approx(1.644854, abs=1e-6)
    assert fg.z_for(Decimal("98")) == pytest.approx(2.053749, abs=1e-6)
    assert fg.z_for(Decimal("90")) == pytest.approx(1.281552, abs=1e-6)
    with pytest.raises(ValueError, match="between 0 and 100"):
        fg.z_for(Decimal("100"))
    assert fg.round_order(37, 12, 1).qty == 48
    assert fg.round_order(48, 12, 1).qty == 48
    assert fg.round_order(5, 1, 100).qty == 100
    r = fg.round_order(5, 12, 100)  # MOQ 100 in packs of 12 -> 108
    assert r.qty == 108 and "minimum order 100" in r.note
    assert fg.round_order(0, 12, 100).qty == 0
    assert fg.need_qty(102, 101.27, 171.27) == 0  # above ROP: nothing
    assert fg.need_qty(101, 101.27, 171.27) == 71


def test_figures_match_the_hand_computed_example(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    session.commit()
    recs = recs_by_key(session, world)
    bolt = recs[("BOLT", "DAL1")]
    w = bolt.why  # type: ignore[attr-defined]
    assert w.d == pytest.approx(10.0)
    assert w.sigma_d ** 2 == pytest.approx(784 / 3 / 7)
    assert (w.lt_days, w.sigma_lt, w.service_level_pct) == (7.0, 1.0, 95.0)
    assert w.ss == pytest.approx(31.2667, abs=1e-4)
    assert w.rop == pytest.approx(101.2667, abs=1e-4)
    assert w.oul == pytest.approx(171.2667, abs=1e-4)
    assert (w.on_hand, w.position, w.raw_qty) == (20, 20, 152)
    assert bolt.qty == 152 and bolt.preferred == "purchase"  # type: ignore[attr-defined]
    assert bolt.purchase.total_cost == Decimal("15.2000")  # type: ignore[attr-defined]
    assert bolt.purchase.arrival == TODAY + dt.timedelta(days=7)  # type: ignore[attr-defined]
    widget = recs[("WIDGET", "DAL1")]
    assert widget.why.ss == pytest.approx(39.0393, abs=1e-4)  # type: ignore[attr-defined]
    assert widget.why.raw_qty == 160  # type: ignore[attr-defined]
    assert widget.qty == 168 and "pack of 12" in widget.why.rounding  # type: ignore[attr-defined]
    # nothing for the other branch: the run is for all branches but HOU1 has no demand and no stock
    assert not any(k[1] == "HOU1" for k in recs)


def test_minimum_order_and_service_level_setting(session: Session, world: World) -> None:
    from app.models.buying import ReplenishmentClass

    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    link = session.scalars(select(ItemSupplier).where(ItemSupplier.item_id == world.items["BOLT"].id)).one()
    link.min_order_qty = 300
    session.add(ReplenishmentClass(velocity_class="B", service_level_pct=Decimal("99"), review_days=14,
                                   owner_branch_id=world.ho.id))
    session.commit()
    w = recs_by_key(session, world)[("BOLT", "DAL1")]
    assert w.why.z == pytest.approx(2.326348, abs=1e-6)  # type: ignore[attr-defined]
    assert w.why.oul == pytest.approx(70 + 2.326348 * 19.008771 + 140, abs=1e-3)  # type: ignore[attr-defined]
    assert w.why.raw_qty == 235 and w.qty == 300  # type: ignore[attr-defined]
    assert "minimum order 300" in w.why.rounding  # type: ignore[attr-defined]


def test_no_recommendation_when_position_is_above_rop(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=102)
    session.commit()
    assert ("BOLT", "DAL1") not in recs_by_key(session, world)


def test_on_order_and_allocations_count_in_the_position(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    po = PurchaseOrder(number="DAL-PO-000001", supplier_id=world.supplier.id, warehouse_id=world.wh_dal.id,
                       status="sent", order_date=TODAY, owner_branch_id=world.dal.id)
    session.add(po)
    session.flush()
    session.add(PurchaseOrderLine(po_id=po.id, line_no=1, item_id=world.items["BOLT"].id,
                                  ship_to_warehouse_id=world.wh_dal.id, qty_ordered=100, qty_received=10,
                                  expected_date=TODAY + dt.timedelta(days=4), unit_price=Decimal("0.1"),
                                  owner_branch_id=world.dal.id))
    session.commit()
    assert ("BOLT", "DAL1") not in recs_by_key(session, world)  # 20 + 90 = 110 > ROP 101.27
    so = SalesOrder(number="DAL-SO-000001", customer_id=world.customer.id, warehouse_id=world.wh_dal.id,
                    order_date=TODAY, owner_branch_id=world.dal.id)
    session.add(so)
    session.flush()
    session.add(SalesOrderLine(order_id=so.id, line_no=1, item_id=world.items["BOLT"].id, qty_ordered=15,
                               qty_allocated=15, unit_price=Decimal("0.35"), owner_branch_id=world.dal.id))
    session.commit()
    w = recs_by_key(session, world)[("BOLT", "DAL1")].why  # type: ignore[attr-defined]
    assert (w.on_hand, w.on_order, w.allocated, w.position) == (20, 90, 15, 95)
    assert w.raw_qty == 77  # ceil(171.27 - 95)
    assert w.next_expected == TODAY + dt.timedelta(days=4)


def test_scope_by_branch_and_warehouse_and_bad_codes(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=20)
    session.commit()
    assert {k[1] for k in recs_by_key(session, world)} == {"DAL1", "HOU1"}
    assert {k[1] for k in recs_by_key(session, world, branch_code="hou")} == {"HOU1"}
    assert {k[1] for k in recs_by_key(session, world, warehouse_code="DAL1")} == {"DAL1"}
    alice = world.actors["alice"]  # a Dallas buyer sees Dallas only
    res = run(session, alice, today=TODAY, history_weeks=4)
    assert {r.warehouse_code for r in res.recommendations} == {"DAL1"}
    with pytest.raises(NotFound, match="unknown branch NOPE"):
        run(session, None, branch_code="NOPE", today=TODAY)
    with pytest.raises(NotFound, match="unknown warehouse XX9"):
        run(session, None, warehouse_code="XX9", today=TODAY)
    with pytest.raises(ValidationError, match="HOU1 does not belong"):
        run(session, None, branch_code="DAL", warehouse_code="HOU1", today=TODAY)
    with pytest.raises(ValidationError, match="history weeks"):
        run(session, None, today=TODAY, history_weeks=0)
    with pytest.raises(PermissionDenied, match="rita may not run replenishment"):
        run(session, world.actors["rita"], today=TODAY)


def test_sales_outside_the_window_and_other_reasons_do_not_count(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    bin_ = world.bins["DAL1-A-01"]
    adj = virtual_location(session, world.wh_dal.id, "adjust")
    cust = virtual_location(session, world.wh_dal.id, "customer")
    post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 5, bin_.id, adj.id, "adjust")],
               owner_branch_id=world.dal.id, at=at(START + dt.timedelta(days=3)))
    post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 3, bin_.id, cust.id, "sale")],
               owner_branch_id=world.dal.id, at=at(TODAY))  # today: not a full week yet
    session.commit()
    w = recs_by_key(session, world)[("BOLT", "DAL1")].why  # type: ignore[attr-defined]
    assert w.d == pytest.approx(10.0) and w.on_hand == 12


def test_settings_service_validates_and_the_engine_uses_them(session: Session, world: World) -> None:
    from app.services.replenishment import config

    root = world.actors["root"]
    with pytest.raises(PermissionDenied):
        config.set_class(session, world.actors["alice"], "A", service_level_pct="99")
    for kwargs, msg in [({"service_level_pct": "100"}, "below 100"), ({"service_level_pct": "0.5"}, "at least 50"),
                        ({"service_level_pct": 99.5}, "not float"), ({"review_days": "0"}, "between 1 and 90"),
                        ({"review_days": "2.5"}, "whole number")]:
        with pytest.raises(ValidationError, match=msg):
            config.set_class(session, root, "B", **kwargs)  # type: ignore[arg-type]
    with pytest.raises(ValidationError, match="velocity class"):
        config.set_class(session, root, "Z", service_level_pct="90")
    config.set_class(session, root, "b", service_level_pct="99")
    assert config.class_settings(session)["B"] == (Decimal("99"), 7)
    with pytest.raises(NotFound, match="unknown from warehouse NOPE"):
        config.set_lane(session, root, "NOPE", "DAL1", transit_days=1, cost_per_unit="0", cost_per_shipment="0")
    with pytest.raises(ValidationError, match="must not be negative"):
        config.set_lane(session, root, "HOU1", "DAL1", transit_days=1, cost_per_unit="-1", cost_per_shipment="0")
    with pytest.raises(ValidationError, match="must differ"):
        config.set_lane(session, root, "DAL1", "DAL1", transit_days=1, cost_per_unit="0", cost_per_shipment="0")
    config.set_lane(session, root, "HOU1", "DAL1", transit_days=1, cost_per_unit="0.01", cost_per_shipment="2")
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    session.commit()
    rec = recs_by_key(session, world)[("BOLT", "DAL1")]
    assert rec.why.z == pytest.approx(2.326348, abs=1e-6)  # type: ignore[attr-defined]
    assert rec.transfer.days == 1  # type: ignore[attr-defined]
    assert rec.transfer.total_cost == Decimal(2) + Decimal("0.01") * rec.transfer.qty  # type: ignore[attr-defined]


def test_weekly_sales_digest_follows_sales_and_reversals_and_rebuilds(session: Session, world: World) -> None:
    from sqlalchemy import text

    from app.services.replenishment.reads import rebuild_sales_weeks, week_of
    from app.services.stock import reverse_move

    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    bin_ = world.bins["DAL1-A-01"]
    cust = virtual_location(session, world.wh_dal.id, "customer")
    (extra,) = post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 14, bin_.id, cust.id, "sale")],
                          owner_branch_id=world.dal.id, at=at(START + dt.timedelta(days=3)))
    session.commit()
    sql = text("SELECT week, qty FROM sales_week ORDER BY week")
    first = week_of(START + dt.timedelta(days=2))
    assert session.execute(sql).all() == [(first, 70), (first + 1, 84), (first + 2, 56), (first + 3, 84)]
    reverse_move(session, None, extra.id, owner_branch_id=world.dal.id)
    session.commit()
    kept = session.execute(sql).all()
    assert kept[0] == (first, 56)
    session.execute(text("UPDATE sales_week SET qty = 999"))
    assert rebuild_sales_weeks(session) == 4
    assert session.execute(sql).all() == kept
    figures = recs_by_key(session, world)[("BOLT", "DAL1")].why  # type: ignore[attr-defined]
    # a database without the digest falls back to reading the ledger: same figures
    session.execute(text("DROP TABLE sales_week"))
    fallback = recs_by_key(session, world)[("BOLT", "DAL1")].why  # type: ignore[attr-defined]
    assert (fallback.d, fallback.sigma_d, fallback.raw_qty) == (figures.d, figures.sigma_d, figures.raw_qty)
    assert (figures.d, figures.on_hand, figures.raw_qty) == (10.0, 20, 152)  # the reversed sale is undone
    session.rollback()


def test_a_forecast_replaces_history_through_the_hook(session: Session, world: World) -> None:
    import numpy as np

    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    session.commit()
    calls = []

    def forecast(s: Session, items: list, whs: list, today: dt.date):  # type: ignore[no-untyped-def]
        calls.append((len(items), len(whs), today))
        d = np.zeros((len(items), len(whs)))
        d[[i.hex for i in items].index(world.items["BOLT"].id.hex), [w.hex for w in whs].index(world.wh_dal.id.hex)] = 20
        return d, np.zeros_like(d)

    res = run(session, None, today=TODAY, history_weeks=4, forecast=forecast)
    (rec,) = res.recommendations
    assert calls == [(4, 2, TODAY)]
    # d = 20/day, no deviation: SS = z * sqrt(0 + 400 * 1) = 1.6449 * 20; ROP = 140 + SS; OUL = ROP + 140
    assert rec.why.ss == pytest.approx(32.897, abs=1e-3) and rec.why.raw_qty == math.ceil(280 + 32.897 - 20)
    with pytest.raises(ValidationError, match="forecast: must give arrays of shape"):
        run(session, None, today=TODAY, forecast=lambda *a: (np.zeros(3), np.zeros(3)))


def test_a_run_reports_each_stage_as_it_starts(session: Session, world: World) -> None:
    from app.services.replenishment.engine import STAGES

    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    session.commit()
    heard: list[tuple[int, int, str]] = []
    res = run(session, world.actors["alice"], today=TODAY, history_weeks=4,
              progress=lambda done, total, what: heard.append((done, total, what)))
    assert [h[2] for h in heard[:-1]] == list(STAGES)
    assert [h[0] for h in heard] == list(range(len(STAGES) + 1)) and {h[1] for h in heard} == {len(STAGES)}
    assert heard[-1][2] == f"{len(res.recommendations)} recommendations"
