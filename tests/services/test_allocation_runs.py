"""Allocation runs on real rows: policy order, simulation vs run, the ledger, FEFO lots, fair share,
ship-complete, never more than available, re-ranking, and lines changed while the run computed."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.allocation import Allocation, AllocationRun
from app.models.sales import SalesOrder
from app.services.allocation import runs
from app.services.allocation.policy import set_policy
from app.services.errors import PermissionDenied, ValidationError
from app.services.sales.orders import LineInput, cancel_line
from tests.factories import World
from tests.services.inventory_helpers import lot
from tests.services.sales_helpers import TODAY, allocated, customer, ledger_sum, lines_of, order, people, put


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def _world(session: Session, world: World) -> dict:
    p = people(session, world)
    p["gold"] = customer(session, "GOLDCO", "gold")
    p["silver"] = customer(session, "SILVERCO", "silver")
    return p


def test_scarce_stock_goes_by_the_policy_and_simulation_writes_nothing(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "WIDGET", 50)
    early = order(session, world, p["clara"], p["silver"], {"WIDGET": 40}, today=TODAY).order
    late = order(session, world, p["clara"], p["gold"], {"WIDGET": 30}, today=TODAY + dt.timedelta(days=1)).order
    before = (_count(session, Allocation), _count(session, AllocationRun), early.status, late.status)
    plan = runs.simulate(session, p["dan"], warehouse="DAL1", today=TODAY)
    assert (_count(session, Allocation), _count(session, AllocationRun), early.status, late.status) == before
    by = {ln.order_number: ln for ln in plan.lines}
    g, s = by[late.number], by[early.number]
    assert (g.target, g.rule, g.rank, g.queue, g.reason) == (30, "covered", 1, 2, "rank 1 of 2: covered")
    assert (s.target, s.rule, s.rank) == (20, "tier", 2)
    assert s.reason == f"rank 2 of 2: 20 of 40; behind {late.number} (tier gold goes before silver)"
    # the same book under first come, first served
    fcfs = runs.simulate(session, p["dan"], warehouse="DAL1", keys="order_date", today=TODAY)
    assert {ln.order_number: ln.target for ln in fcfs.lines} == {early.number: 40, late.number: 10}
    # the run writes the plan: ledger rows naming the run, reservations, statuses
    res = runs.run(session, p["dan"], plan)
    assert res.numbers == ["DAL-AL-000001"] and res.units_allocated == 50 and not res.failures
    assert (late.status, early.status) == ("allocated", "backordered")
    assert allocated(session, late) == [30] and allocated(session, early) == [20]
    rows = list(session.scalars(select(Allocation)))
    run = session.scalars(select(AllocationRun)).one()
    assert {r.run_id for r in rows} == {run.id} and run.kind == "run" and run.username == "dan"
    assert sorted((r.qty, r.rule) for r in rows) == [(20, "tier"), (30, "covered")]
    assert ledger_sum(session, late) == 30
    # nothing changed: a second run writes nothing
    assert runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY)).numbers == []


def test_rerank_takes_stock_back_for_a_better_customer_but_keep_mode_does_not(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "WIDGET", 30)
    silver = order(session, world, p["clara"], p["silver"], {"WIDGET": 30}).order
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert silver.status == "allocated"
    gold = order(session, world, p["clara"], p["gold"], {"WIDGET": 20}).order
    kept = runs.simulate(session, p["dan"], rerank=False, today=TODAY)
    assert {ln.order_number: (ln.target, ln.rule) for ln in kept.lines} == {
        silver.number: (30, "kept"), gold.number: (0, "kept")}
    plan = runs.simulate(session, p["dan"], today=TODAY)
    assert [(ln.order_number, ln.delta) for ln in plan.changes] == [(silver.number, -20), (gold.number, 20)]
    res = runs.run(session, p["dan"], plan)
    assert (res.units_allocated, res.units_released) == (20, 20)
    assert (silver.status, gold.status) == ("backordered", "allocated")
    assert ledger_sum(session, silver) == 10
    assert [r.qty for r in session.scalars(select(Allocation).where(Allocation.order_id == silver.id)
                                           .order_by(Allocation.created_at))] == [30, -20]


def test_fair_share_splits_a_shortage_pro_rata(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "BOLT", 90)
    a = order(session, world, p["clara"], p["silver"], {"BOLT": 60}).order
    b = order(session, world, p["clara"], "BUILDCO", {"BOLT": 40}).order
    c = order(session, world, p["clara"], p["gold"], {"BOLT": 20}).order
    plan = runs.simulate(session, p["dan"], keys="fair_share", today=TODAY)
    got = {ln.order_number: (ln.target, ln.rule) for ln in plan.lines}
    assert got == {a.number: (45, "fair_share"), b.number: (30, "fair_share"), c.number: (15, "fair_share")}
    # tier first, then fair share among equals: gold is served in full, the two silvers share the rest
    plan = runs.simulate(session, p["dan"], keys="tier,fair_share", today=TODAY)
    assert {ln.order_number: ln.target for ln in plan.lines} == {c.number: 20, a.number: 42, b.number: 28}


def test_a_ship_complete_order_gets_all_lines_or_none(session: Session, world: World) -> None:
    p = _world(session, world)
    whole = customer(session, "WHOLECO", "platinum", ship_complete=True)
    put(session, world, "WIDGET", 50)
    put(session, world, "BOLT", 5)
    first = order(session, world, p["clara"], whole, {"WIDGET": 40, "BOLT": 10}).order
    other = order(session, world, p["clara"], p["silver"], {"WIDGET": 30}).order
    plan = runs.simulate(session, p["dan"], today=TODAY)
    by = {(ln.order_number, ln.sku): ln for ln in plan.lines}
    assert by[(first.number, "WIDGET")].target == 0 and by[(first.number, "BOLT")].target == 0
    assert by[(first.number, "WIDGET")].rule == "ship_complete"
    assert "nothing reserved while BOLT is short" in by[(first.number, "WIDGET")].reason
    assert by[(other.number, "WIDGET")].target == 30
    runs.run(session, p["dan"], plan)
    assert (first.status, other.status) == ("backordered", "allocated")
    # enough of both arrives: the whole order is served
    put(session, world, "BOLT", 5)
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert first.status == "allocated" and allocated(session, first) == [40, 10]
    # the silver order keeps its 30? no: platinum ranks first and 50 - 40 = 10 are left for it
    assert allocated(session, other) == [10]


def test_fefo_lots_skip_expired_and_quality_held_stock(session: Session, world: World) -> None:
    p = _world(session, world)
    late = lot(session, world, "MILK", "L-LATE", TODAY + dt.timedelta(days=60))
    soon = lot(session, world, "MILK", "L-SOON", TODAY + dt.timedelta(days=5))
    gone = lot(session, world, "MILK", "L-GONE", TODAY - dt.timedelta(days=1))
    put(session, world, "MILK", 10, "DAL1-C-01", lot_id=late)
    put(session, world, "MILK", 6, "DAL1-C-01", lot_id=soon)
    put(session, world, "MILK", 50, "DAL1-C-01", lot_id=gone)  # expired: never allocated
    from app.services.stock import virtual_location
    from tests.services.inventory_helpers import stock
    qa = virtual_location(session, world.wh_dal.id, "qa")
    world.bins["DAL1-QA"] = qa
    stock(session, world, "MILK", 40, "DAL1-QA", lot_id=late)  # in quality hold: not available
    put(session, world, "MILK", 40, "HOU1-C-01", lot_id=late)  # another warehouse: not available here
    so = order(session, world, p["clara"], p["gold"], {"MILK": 20}).order
    plan = runs.simulate(session, p["dan"], today=TODAY)
    (ln,) = plan.lines
    assert (ln.target, ln.short) == (16, 4)
    assert ln.target_lots == {soon.hex: 6, late.hex: 10}
    runs.run(session, p["dan"], plan)
    rows = {r.lot_id: r.qty for r in session.scalars(select(Allocation).where(Allocation.order_id == so.id))}
    assert rows == {soon: 6, late: 10}


def test_a_line_changed_while_the_run_computed_is_failed_not_overwritten(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "WIDGET", 100)
    put(session, world, "BOLT", 100)
    a = order(session, world, p["clara"], p["gold"], {"WIDGET": 10, "BOLT": 5}).order
    b = order(session, world, p["clara"], p["silver"], {"WIDGET": 10}).order
    plan = runs.simulate(session, p["dan"], today=TODAY)
    # meanwhile, at another desk: a line of order a is cancelled
    cancel_line(session, p["clara"], lines_of(session, a)[1].id, "customer phoned")
    res = runs.run(session, p["dan"], plan)
    reasons = {(f.order, f.line_no): f.reason for f in res.failures}
    assert set(reasons) == {(a.number, 2)}
    assert "changed while the run computed" in reasons[(a.number, 2)]
    assert allocated(session, a) == [10, 0] and allocated(session, b) == [10]
    run = session.scalars(select(AllocationRun)).one()
    assert run.lines_failed == 1 and "changed while the run computed" in run.failures
    # stock that moved meanwhile: a line that would take more of it is failed too
    c = order(session, world, p["clara"], p["silver"], {"WIDGET": 5}).order
    plan = runs.simulate(session, p["dan"], today=TODAY)
    put(session, world, "WIDGET", 1)
    res = runs.run(session, p["dan"], plan)
    assert [(f.order, f.reason) for f in res.failures] == [
        (c.number, "stock of WIDGET moved while the run computed: not taken, run again")]
    assert allocated(session, c) == [0]
    assert runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY)).units_allocated == 5


def test_cancel_and_credit_hold_give_stock_back_to_waiting_lines(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "WIDGET", 30)
    first = order(session, world, p["clara"], p["gold"], {"WIDGET": 30}).order
    waiting = order(session, world, p["clara"], p["silver"], {"WIDGET": 25}).order
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert (allocated(session, first), allocated(session, waiting)) == ([30], [0])
    from app.services.sales.orders import cancel_order
    cancel_order(session, p["clara"], first.id, "duplicate order")
    assert allocated(session, first) == [0] and allocated(session, waiting) == [25]
    kinds = [r.kind for r in session.scalars(select(AllocationRun).order_by(AllocationRun.created_at))]
    assert kinds == ["run", "release"]
    assert waiting.status == "allocated"
    # a credit hold gives back too
    from app.services.sales import credit
    credit.hold(session, p["dan"], waiting, "customer on stop for the test")
    assert allocated(session, waiting) == [0] and ledger_sum(session, waiting) == 0


def test_stock_arrival_allocates_waiting_lines(session: Session, world: World) -> None:
    from app.services.events import StockArrived, emit

    p = _world(session, world)
    so = order(session, world, p["clara"], p["gold"], {"BOLT": 12}).order
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert so.status == "backordered"
    put(session, world, "BOLT", 20)
    ev = emit(session, StockArrived(world.actors["rita"], warehouse_id=world.wh_dal.id,
                                    item_ids=(world.items["BOLT"].id,), source="receipt DAL-GR-000001"))
    assert so.status == "allocated" and allocated(session, so) == [12]
    run = session.scalars(select(AllocationRun).where(AllocationRun.kind == "arrival")).one()
    assert run.trigger == "receipt DAL-GR-000001" and run.username == "rita"
    assert ev.notes == ["12 unit(s) allocated to waiting orders (DAL-AL-000001)"]


def test_policy_is_stored_per_warehouse_and_checked(session: Session, world: World) -> None:
    p = _world(session, world)
    with pytest.raises(ValidationError, match="unknown key 'price'"):
        set_policy(session, p["dan"], world.wh_dal.id, "tier, price")
    with pytest.raises(ValidationError, match="key 'tier' is named twice"):
        set_policy(session, p["dan"], world.wh_dal.id, "tier,tier")
    with pytest.raises(PermissionDenied):
        set_policy(session, world.actors["wes"], world.wh_dal.id, "tier")
    set_policy(session, p["dan"], world.wh_dal.id, "requested_date, tier", rerank=False)
    put(session, world, "WIDGET", 10)
    order(session, world, p["clara"], p["gold"], {"WIDGET": 10})
    plan = runs.simulate(session, p["dan"], warehouse="DAL1", today=TODAY)
    assert plan.policy.keys == ("requested_date", "tier") and not plan.policy.rerank
    with pytest.raises(PermissionDenied):
        runs.simulate(session, world.actors["wes"], today=TODAY)


def test_allocated_never_exceeds_pickable_stock_after_many_runs(session: Session, world: World) -> None:
    p = _world(session, world)
    put(session, world, "WIDGET", 37)
    put(session, world, "WIDGET", 11, "DAL1-A-03")
    for n, cust in enumerate(["GOLDCO", "SILVERCO", "BUILDCO"] * 4):
        order(session, world, p["clara"], cust, [LineInput("WIDGET", 3 + n * 2)])
    for keys in ("tier", "fair_share", "order_date,fair_share", "margin,tier", "requested_date"):
        runs.run(session, p["dan"], runs.simulate(session, p["dan"], keys=keys, today=TODAY))
        held = session.execute(text("SELECT SUM(qty_allocated) FROM sales_order_line")).scalar()
        assert held == 48
        assert session.execute(text("SELECT SUM(qty) FROM allocation")).scalar() == 48
    statuses = set(session.scalars(select(SalesOrder.status)))
    assert statuses == {"allocated", "backordered"}


def test_customers_are_told_once_of_their_backorders(session: Session, world: World) -> None:
    from app.models.messaging import EmailOutbox
    from app.services.allocation.backorders import NOTICE, notify_backorders

    p = _world(session, world)
    p["silver"].contact_email = "buyer@silverco.example"
    put(session, world, "WIDGET", 10)
    so = order(session, world, p["clara"], p["silver"], {"WIDGET": 30}, customer_po="SC-1").order
    runs.run(session, p["dan"], runs.simulate(session, p["dan"], today=TODAY))
    assert so.status == "backordered"
    rep = notify_backorders(session, today=TODAY)
    assert (rep.queued, rep.skipped) == (1, 0)
    mail = session.scalars(select(EmailOutbox).where(EmailOutbox.entity == NOTICE)).one()
    assert (mail.to_addr, mail.subject, mail.entity_ref) == ("buyer@silverco.example", f"Backorder notice: {so.number}",
                                                            so.number)
    lead = TODAY + dt.timedelta(days=7)
    assert f"line 1: WIDGET Steel widget 40 mm: 20 of 30, expected not before {lead}" in mail.body
    assert "(your PO SC-1)" in mail.body
    assert notify_backorders(session, today=TODAY).queued == 0  # told once
