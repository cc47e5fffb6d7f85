"""Cycle counts: blind entry, tolerance, recount, approval by another manager, ABC schedule."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from sqlalchemy.orm import Session

from app.models.inventory import ReplenishTask
from app.services.errors import Conflict, PermissionDenied, ValidationError
from app.services.inventory.counts import (
    CountEntry,
    approve_count,
    count_review,
    count_sheet,
    create_count_tasks,
    enter_counts,
    schedule_counts,
    start_counts,
)
from app.services.stock import balance_mismatches, virtual_location
from tests.factories import World
from tests.services.inventory_helpers import audit_actions, bal, lot, move_count, stock


def _started(session: Session, w: World, bin_key: str) -> object:
    (task,) = create_count_tasks(session, w.actors["wes"], [w.bins[bin_key].id], abc_class="B")
    start_counts(session, w.actors["wes"], [task.id])
    return task


def test_blind_count_within_tolerance_posts_the_adjustment_at_once(session: Session, world: World) -> None:
    stock(session, world, "BOLT", 100, "DAL1-A-02")
    task = _started(session, world, "DAL1-A-02")
    sheet = count_sheet(session, world.actors["wes"], task.id)  # type: ignore[attr-defined]
    # the counter's sheet names the item but carries no expected quantity anywhere
    assert [ln.sku for ln in sheet.lines] == ["BOLT"]
    assert all("expected" not in f.name for f in dataclasses.fields(sheet.lines[0]))
    assert "100" not in repr(sheet)
    with pytest.raises(PermissionDenied):
        count_review(session, world.actors["wes"], task.id)  # type: ignore[attr-defined]
    enter_counts(session, world.actors["wes"], task.id, [CountEntry(world.items["BOLT"].id, 99)])  # type: ignore[attr-defined]
    session.commit()
    assert task.status == "posted"  # type: ignore[attr-defined]
    assert bal(session, world.bins["DAL1-A-02"], world.items["BOLT"].id) == 99
    assert bal(session, virtual_location(session, world.wh_dal.id, "adjust"), world.items["BOLT"].id) == 1
    assert balance_mismatches(session) == []
    assert "count.post" in audit_actions(session)


def test_over_tolerance_needs_recount_then_approval_by_a_manager_who_did_not_count(session: Session, world: World) -> None:
    stock(session, world, "BOLT", 100, "DAL1-A-02")
    stock(session, world, "WIDGET", 50, "DAL1-A-02")
    task = _started(session, world, "DAL1-A-02")
    bolt, widget = world.items["BOLT"].id, world.items["WIDGET"].id
    enter_counts(session, world.actors["wes"], task.id, [CountEntry(bolt, 80), CountEntry(widget, 50)])  # type: ignore[attr-defined]
    assert task.status == "recount"  # type: ignore[attr-defined]
    sheet = count_sheet(session, world.actors["wes"], task.id)  # type: ignore[attr-defined]
    assert {ln.sku: ln.to_count for ln in sheet.lines} == {"BOLT": True, "WIDGET": False}
    moves_before = move_count(session)
    enter_counts(session, world.actors["rita"], task.id, [CountEntry(bolt, 85)])  # type: ignore[attr-defined]
    assert task.status == "pending_approval"  # type: ignore[attr-defined]
    assert move_count(session) == moves_before  # nothing posted before approval
    review = {r.sku: r for r in count_review(session, world.actors["mike"], task.id)}  # type: ignore[attr-defined]
    assert (review["BOLT"].expected_qty, review["BOLT"].counted_qty, review["BOLT"].recount_qty) == (100, 80, 85)
    assert review["BOLT"].variance == -15 and not review["BOLT"].within_tolerance
    assert review["WIDGET"].within_tolerance
    with pytest.raises(PermissionDenied, match="may not approve counts"):
        approve_count(session, world.actors["wes"], task.id)  # type: ignore[attr-defined]
    approve_count(session, world.actors["mike"], task.id)  # type: ignore[attr-defined]
    session.commit()
    assert task.status == "posted"  # type: ignore[attr-defined]
    assert bal(session, world.bins["DAL1-A-02"], bolt) == 85
    assert bal(session, world.bins["DAL1-A-02"], widget) == 50


def test_the_counter_may_not_approve_their_own_count(session: Session, world: World) -> None:
    stock(session, world, "BOLT", 10, "DAL1-A-03")
    root = world.actors["root"]  # admin: may count and approve, but not both on one task
    (task,) = create_count_tasks(session, root, [world.bins["DAL1-A-03"].id])
    start_counts(session, root, [task.id])
    enter_counts(session, root, task.id, [CountEntry(world.items["BOLT"].id, 3)])
    enter_counts(session, root, task.id, [CountEntry(world.items["BOLT"].id, 3)])
    with pytest.raises(PermissionDenied, match="another manager must approve"):
        approve_count(session, root, task.id)
    assert bal(session, world.bins["DAL1-A-03"], world.items["BOLT"].id) == 10


def test_recount_within_tolerance_posts_without_approval_and_found_items_get_a_line(
        session: Session, world: World) -> None:
    stock(session, world, "BOLT", 100, "DAL1-A-02")
    task = _started(session, world, "DAL1-A-02")
    bolt, widget = world.items["BOLT"].id, world.items["WIDGET"].id
    enter_counts(session, world.actors["wes"], task.id, [CountEntry(bolt, 70), CountEntry(widget, 4)])  # type: ignore[attr-defined]
    assert task.status == "recount"  # type: ignore[attr-defined]
    enter_counts(session, world.actors["wes"], task.id, [CountEntry(bolt, 100), CountEntry(widget, 0)])  # type: ignore[attr-defined]
    assert task.status == "posted"  # type: ignore[attr-defined]
    assert bal(session, world.bins["DAL1-A-02"], bolt) == 100
    assert bal(session, world.bins["DAL1-A-02"], widget) == 0


def test_lots_are_counted_per_lot(session: Session, world: World) -> None:
    l1 = lot(session, world, "MILK", "L1", dt.date(2027, 1, 1))
    l2 = lot(session, world, "MILK", "L2", dt.date(2027, 2, 1))
    stock(session, world, "MILK", 10, "DAL1-C-01", lot_id=l1)
    stock(session, world, "MILK", 20, "DAL1-C-01", lot_id=l2)
    task = _started(session, world, "DAL1-C-01")
    milk = world.items["MILK"].id
    with pytest.raises(ValidationError, match="lot-tracked: count it per lot"):
        enter_counts(session, world.actors["wes"], task.id, [CountEntry(milk, 30)])  # type: ignore[attr-defined]
    enter_counts(session, world.actors["wes"], task.id, [CountEntry(milk, 10, l1), CountEntry(milk, 20, l2)])  # type: ignore[attr-defined]
    assert task.status == "posted"  # type: ignore[attr-defined]
    assert sorted(ln.lot_code for ln in count_sheet(session, world.actors["wes"], task.id).lines) == ["L1", "L2"]  # type: ignore[attr-defined]


def test_a_bin_being_replenished_cannot_be_counted_and_nothing_changes(session: Session, world: World) -> None:
    stock(session, world, "WIDGET", 40, "DAL1-A-02")
    session.add(ReplenishTask(warehouse_id=world.wh_dal.id, item_id=world.items["WIDGET"].id,
                              pick_location_id=world.bins["DAL1-A-01"].id, from_location_id=world.bins["DAL1-A-02"].id,
                              qty=10, owner_branch_id=world.dal.id))
    (task,) = create_count_tasks(session, world.actors["wes"], [world.bins["DAL1-A-02"].id])
    session.commit()
    with pytest.raises(Conflict, match="bin A-02 is being worked .*replenishment"):
        start_counts(session, world.actors["wes"], [task.id])
    session.rollback()
    assert task.status == "scheduled"
    assert count_sheet(session, world.actors["wes"], task.id).lines == []


@pytest.mark.parametrize("bad, rule", [(-1, "negative"), (1.5, "whole number"), ("x", "whole number")])
def test_bad_counted_quantities_are_refused(session: Session, world: World, bad: object, rule: str) -> None:
    stock(session, world, "BOLT", 5, "DAL1-A-02")
    task = _started(session, world, "DAL1-A-02")
    with pytest.raises(ValidationError, match=f"BOLT.*quantity.*{rule}"):
        enter_counts(session, world.actors["wes"], task.id, [CountEntry(world.items["BOLT"].id, bad)])  # type: ignore[attr-defined, arg-type]
    assert task.status == "counting"  # type: ignore[attr-defined]


def test_abc_schedule_counts_a_bins_by_class_interval(session: Session, world: World) -> None:
    stock(session, world, "WIDGET", 10, "DAL1-A-02")  # class A item -> every 30 days
    stock(session, world, "BOLT", 10, "DAL1-A-03")    # class B -> every 90 days
    day0 = dt.date(2026, 1, 1)
    tasks = schedule_counts(session, world.actors["wes"], world.wh_dal.id, on=day0)
    assert sorted((t.abc_class, t.location_id) for t in tasks) == sorted(
        [("A", world.bins["DAL1-A-02"].id), ("B", world.bins["DAL1-A-03"].id)])
    assert schedule_counts(session, world.actors["wes"], world.wh_dal.id, on=day0) == []  # open tasks not duplicated
    for t in tasks:
        start_counts(session, world.actors["wes"], [t.id])
        enter_counts(session, world.actors["wes"], t.id, [CountEntry(world.items["WIDGET" if t.abc_class == "A" else "BOLT"].id, 10)])
    assert schedule_counts(session, world.actors["wes"], world.wh_dal.id, on=day0 + dt.timedelta(days=29)) == []
    again = schedule_counts(session, world.actors["wes"], world.wh_dal.id, on=day0 + dt.timedelta(days=30))
    assert [t.abc_class for t in again] == ["A"]


def test_a_bin_with_an_open_putaway_task_cannot_be_counted(session: Session, world: World) -> None:
    from app.models.receiving import PutawayTask

    dock = virtual_location(session, world.wh_dal.id, "dock")
    session.add(PutawayTask(warehouse_id=world.wh_dal.id, item_id=world.items["BOLT"].id, qty=5,
                            from_location_id=dock.id, proposed_location_id=world.bins["DAL1-A-03"].id,
                            status="open", owner_branch_id=world.dal.id))
    (task,) = create_count_tasks(session, world.actors["wes"], [world.bins["DAL1-A-03"].id])
    with pytest.raises(Conflict, match="bin A-03 is being worked .*putaway"):
        start_counts(session, world.actors["wes"], [task.id])
