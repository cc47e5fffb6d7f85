"""Forward-pick replenishment: a pick face below its minimum gets topped up from reserve, FEFO."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy.orm import Session

from app.services.errors import Conflict, ValidationError
from app.services.inventory.pick_replenish import check_pick_faces, confirm_replenish, open_tasks
from app.services.stock import balance_mismatches
from tests.factories import World
from tests.services.inventory_helpers import bal, lot, move_count, stock


def _face(w: World, key: str, sku: str, lo: int, hi: int) -> None:
    face = w.bins[key]
    face.fixed_item_id, face.min_qty, face.max_qty = w.items[sku].id, lo, hi


def test_pick_face_below_minimum_is_topped_up_to_maximum_from_reserve(session: Session, world: World) -> None:
    _face(world, "DAL1-A-01", "WIDGET", 10, 50)
    widget = world.items["WIDGET"].id
    stock(session, world, "WIDGET", 5, "DAL1-A-01")
    stock(session, world, "WIDGET", 30, "DAL1-A-02")
    stock(session, world, "WIDGET", 30, "DAL1-A-03")
    res = check_pick_faces(session, world.actors["wes"], world.wh_dal.id)
    assert sum(t.qty for t in res.tasks) == 45 and res.shortfalls == []
    assert {t.from_location_id for t in res.tasks} == {world.bins["DAL1-A-02"].id, world.bins["DAL1-A-03"].id}
    # open tasks count as coming: a second check does not duplicate them
    assert check_pick_faces(session, world.actors["wes"], world.wh_dal.id).tasks == []
    confirm_replenish(session, world.actors["wes"], [t.id for t in res.tasks])
    session.commit()
    assert bal(session, world.bins["DAL1-A-01"], widget) == 50
    assert bal(session, world.bins["DAL1-A-02"], widget) + bal(session, world.bins["DAL1-A-03"], widget) == 15
    assert open_tasks(session, world.wh_dal.id) == []
    assert balance_mismatches(session) == []


def test_face_at_or_above_minimum_is_left_alone_and_missing_reserve_is_reported(session: Session, world: World) -> None:
    _face(world, "DAL1-A-01", "BOLT", 10, 40)
    stock(session, world, "BOLT", 10, "DAL1-A-01")
    assert check_pick_faces(session, world.actors["wes"], world.wh_dal.id).tasks == []
    _face(world, "DAL1-A-01", "BOLT", 20, 40)
    stock(session, world, "BOLT", 12, "DAL1-A-02")
    res = check_pick_faces(session, world.actors["wes"], world.wh_dal.id)
    assert [t.qty for t in res.tasks] == [12]
    assert [(s.bin_code, s.sku, s.missing) for s in res.shortfalls] == [("A-01", "BOLT", 18)]


def test_lots_replenish_first_expiring_first(session: Session, world: World) -> None:
    _face(world, "DAL1-A-01", "MILK", 5, 8)
    late = lot(session, world, "MILK", "LATE", dt.date(2027, 5, 1))
    soon = lot(session, world, "MILK", "SOON", dt.date(2027, 1, 1))
    stock(session, world, "MILK", 10, "DAL1-A-02", lot_id=late)
    stock(session, world, "MILK", 6, "DAL1-A-03", lot_id=soon)
    res = check_pick_faces(session, world.actors["wes"], world.wh_dal.id)
    assert [(t.lot_id, t.qty) for t in res.tasks] == [(soon, 6), (late, 2)]


def test_confirming_twice_or_more_than_asked_is_refused(session: Session, world: World) -> None:
    _face(world, "DAL1-A-01", "BOLT", 5, 10)
    stock(session, world, "BOLT", 20, "DAL1-A-02")
    (task,) = check_pick_faces(session, world.actors["wes"], world.wh_dal.id).tasks
    session.commit()
    before = move_count(session)
    with pytest.raises(ValidationError, match="11 is more than the 10 asked"):
        confirm_replenish(session, world.actors["wes"], [task.id], {task.id: 11})
    session.rollback()
    assert move_count(session) == before
    confirm_replenish(session, world.actors["wes"], [task.id], {task.id: 7})
    assert bal(session, world.bins["DAL1-A-01"], world.items["BOLT"].id) == 7
    with pytest.raises(Conflict, match="is done"):
        confirm_replenish(session, world.actors["wes"], [task.id])
