"""Waves on real rows: the plan (carrier cut-off, totes, walking order, bins by pick face and lot,
the time it takes), release and un-release with the checks that the plan still holds, and the
orders that may not be planned."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.dispatch import PickLine, Wave
from app.models.org import pack_location_id
from app.services.dispatch import queries, waves
from app.services.dispatch.setup import set_settings
from app.services.errors import Conflict, NotFound, PermissionDenied
from app.services.sales import credit
from app.services.sales.orders import cancel_order
from tests.factories import World
from tests.services.dispatch_helpers import NOW, allocated_orders, desk


def _lines(session: Session, number: str) -> list[queries.PickRow]:
    return queries.wave_lines(session, number)


def test_plan_groups_orders_into_a_wave_in_walking_order_with_totes(session: Session, world: World) -> None:
    p = desk(session, world)
    o1, o2 = allocated_orders(session, world, p, [{"WIDGET": 10, "BOLT": 5}, {"BOLT": 7, "WIDGET": 2}],
                              {"WIDGET": [("DAL1-A-01", 20), ("DAL1-A-03", 30)], "BOLT": [("DAL1-A-02", 100)]})
    assert (o1.status, o2.status) == ("allocated", "allocated")
    res = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW)
    assert len(res.waves) == 1 and not res.notes
    w = res.waves[0]
    assert (w.carrier, w.pick_mode, sorted(w.orders), w.units) == ("UPS", "batch", sorted([o1.number, o2.number]), 24)
    assert w.cutoff_at == dt.datetime(2026, 12, 1, 16, 0, tzinfo=dt.UTC)
    # 4 lines at 60 lines an hour and 2 pickers: 2 minutes, well before 16:00 less 30 minutes packing
    assert (w.pick_minutes, w.in_time) == (2, True)
    rows = _lines(session, w.number)
    # pick face A-01 holds enough WIDGET: the reserve bin A-03 is not visited; bins in walking order
    assert [r.bin for r in rows] == ["A-01", "A-01", "A-02", "A-02"]
    assert [r.seq for r in rows] == [1, 2, 3, 4]
    assert {r.order: r.tote for r in rows} == {o1.number: 1, o2.number: 2}
    stored = session.scalar(select(Wave).where(Wave.number == w.number))
    assert stored is not None and stored.status == "planned" and stored.lines == 4
    # a second plan replaces the planned wave (never two plans of the same orders)
    again = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW)
    assert again.cancelled == [w.number] and len(again.waves) == 1
    session.refresh(stored)
    assert stored.status == "cancelled"
    assert {pl.status for pl in session.scalars(select(PickLine).where(PickLine.wave_id == stored.id))} == {"cancelled"}


def test_wave_that_cannot_be_picked_before_the_cutoff_says_so(session: Session, world: World) -> None:
    p = desk(session, world)
    allocated_orders(session, world, p, [{"WIDGET": 1, "BOLT": 1}], {"WIDGET": [("DAL1-A-01", 5)],
                                                                     "BOLT": [("DAL1-A-02", 5)]})
    set_settings(session, p["dan"], "DAL1", pick_rate=1, pickers=1)
    late = NOW.replace(hour=15, minute=0)
    w = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=late).waves[0]
    # 2 lines at 1 an hour: done 17:00, the 16:00 truck is missed
    assert (w.pick_minutes, w.in_time) == (120, False)
    assert "misses the 16:00 cut-off" in w.notes[0]
    assert queries.list_waves(session, warehouse="DAL1")[0].in_time is False


def test_release_freezes_orders_and_unrelease_gives_them_back(session: Session, world: World) -> None:
    p = desk(session, world)
    (o1,) = allocated_orders(session, world, p, [{"WIDGET": 4}], {"WIDGET": [("DAL1-A-01", 10)]})
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    with pytest.raises(PermissionDenied):
        waves.release(session, p["clara"], [number])
    res = waves.release(session, p["dan"], [number])
    assert (res.waves, res.orders, res.lines) == ([number], 1, 1)
    session.refresh(o1)
    assert o1.status == "picking"
    with pytest.raises(Conflict, match="only a planned wave is released"):
        waves.release(session, p["dan"], [number])
    # a new plan leaves released waves alone and finds nothing more to pick
    assert waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves == []
    waves.unrelease(session, p["dan"], number)
    session.refresh(o1)
    assert o1.status == "allocated"
    assert session.scalar(select(Wave.status).where(Wave.number == number)) == "planned"


def test_release_refuses_a_plan_that_no_longer_holds(session: Session, world: World) -> None:
    p = desk(session, world)
    o1, o2 = allocated_orders(session, world, p, [{"WIDGET": 4}, {"BOLT": 3}],
                              {"WIDGET": [("DAL1-A-01", 10)], "BOLT": [("DAL1-A-02", 10)]})
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    cancel_order(session, p["clara"], o2.id, "customer changed its mind")
    with pytest.raises(Conflict, match=f"{o2.number} is cancelled since wave {number} was planned: plan again"):
        waves.release(session, p["dan"], [number])
    session.refresh(o1)
    assert o1.status == "allocated"  # nothing released
    assert session.scalar(select(Wave.status).where(Wave.number == number)) == "planned"


def test_release_refuses_when_the_bin_lost_the_stock(session: Session, world: World) -> None:
    p = desk(session, world)
    allocated_orders(session, world, p, [{"WIDGET": 4}], {"WIDGET": [("DAL1-A-01", 4)]})
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    from app.services.stock import MoveSpec, post_moves, virtual_location
    adj = virtual_location(session, world.wh_dal.id, "adjust")
    post_moves(session, p["mike"], [MoveSpec(world.items["WIDGET"].id, 2, world.bins["DAL1-A-01"].id, adj.id,
                                             "adjust")], owner_branch_id=world.dal.id)
    with pytest.raises(Conflict, match=f"bin A-01 in DAL1 no longer holds the 4 unit\\(s\\) wave {number}"):
        waves.release(session, p["dan"], [number])


def test_orders_that_may_not_be_planned_are_refused_with_the_reason(session: Session, world: World) -> None:
    p = desk(session, world)
    ok, short = allocated_orders(session, world, p, [{"WIDGET": 2}, {"BOLT": 50}],
                                 {"WIDGET": [("DAL1-A-01", 5)], "BOLT": [("DAL1-A-02", 10)]})
    assert short.status == "backordered"
    with pytest.raises(Conflict, match=f"{short.number} is backordered, not allocated"):
        waves.plan_waves(session, p["dan"], orders=[ok.number, short.number], now=NOW)
    assert session.scalar(select(Wave.id)) is None  # nothing planned
    credit.hold(session, p["mike"], ok, "credit limit exceeded")
    with pytest.raises(Conflict, match=f"{ok.number} is on credit hold \\(credit limit exceeded\\)"):
        waves.plan_waves(session, p["dan"], orders=[ok.number], now=NOW)
    with pytest.raises(NotFound, match="unknown sales order DAL-SO-999999"):
        waves.plan_waves(session, p["dan"], orders=["DAL-SO-999999"], now=NOW)


def test_pack_location_is_made_with_every_warehouse(session: Session, world: World) -> None:
    from app.models.org import Location
    loc = session.get(Location, pack_location_id(world.wh_dal.id))
    assert loc is not None and (loc.kind, loc.code, loc.warehouse_id) == ("pack", "PACK", world.wh_dal.id)
