"""Directed putaway: the bin each rule picks, the reason shown, and bins that must be refused."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.org import Location
from app.models.receiving import PutawayTask, Receipt, SerialNumber
from app.services import masterdata as md
from app.services.errors import Conflict, ValidationError
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.putaway import confirm_putaway, dock_to_stock, list_tasks, propose_bins
from app.services.receiving.queries import dock_to_stock_summary
from app.services.stock import MoveSpec, balance_mismatches, post_moves, virtual_location
from tests.factories import World
from tests.services._receiving_world import make_expected

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def _receive(session: Session, w: World, lines: list[tuple[str, int]], **kw: object) -> list[PutawayTask]:
    er = make_expected(session, w, lines)
    er.arrived_at = T0
    posted = post_receipt(session, w.actors["rita"], er.id,
                          [ReceiveLine(w.items[s].id, q, **kw) for s, q in lines],  # type: ignore[arg-type]
                          at=T0 + dt.timedelta(minutes=10))
    session.flush()
    return [session.get(PutawayTask, t) for t in posted.putaway_task_ids]  # type: ignore[misc]


def test_velocity_and_temperature_choose_the_bin_with_the_reason(session: Session, world: World) -> None:
    it = world.items
    props = propose_bins(session, world.wh_dal.id, [(it["WIDGET"].id, 10), (it["MILK"].id, 5), (it["BOLT"].id, 3)])
    assert [p.location_code for p in props] == ["A-01", "C-01", "A-02"]
    assert "velocity A: fast mover near the pick face (pick, walk 1)" in props[0].reason
    assert "chilled matches" in props[1].reason
    it["BOLT"].velocity_class = "C"
    session.flush()
    (slow,) = propose_bins(session, world.wh_dal.id, [(it["BOLT"].id, 3)])
    assert slow.location_code == "A-03" and "slow mover" in slow.reason


def test_same_item_bin_with_room_is_preferred(session: Session, world: World) -> None:
    sup = virtual_location(session, world.wh_dal.id, "supplier")
    post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 7, sup.id, world.bins["DAL1-A-03"].id, "opening")],
               owner_branch_id=world.dal.id)
    (p,) = propose_bins(session, world.wh_dal.id, [(world.items["BOLT"].id, 5)])
    assert p.location_code == "A-03" and p.reason.startswith("BOLT already in this bin")


def test_capacity_by_volume_and_weight_and_reservation_of_earlier_proposals(session: Session, world: World) -> None:
    a01 = world.bins["DAL1-A-01"]
    a01.capacity_volume_cm3 = 1000  # WIDGET is 32 cm3 -> 31 fit
    world.bins["DAL1-A-02"].capacity_weight_g = 2400  # WIDGET is 120 g -> 20 fit
    session.flush()
    w = world.items["WIDGET"].id
    props = propose_bins(session, world.wh_dal.id, [(w, 30), (w, 5), (w, 20), (w, 21)])
    # each proposal reserves its room: 30 + 5 do not fit A-01's volume, 5 + 20 not A-02's weight
    assert [p.location_code for p in props] == ["A-01", "A-02", "A-03", "A-03"]
    assert props[2].reason.startswith("empty bin") and props[3].reason.startswith("WIDGET already in this bin")


def test_no_bin_fits_gives_a_reason_and_no_bin(session: Session, world: World) -> None:
    frozen = md.create_item(session, "ICE", "Ice cream", temperature_class="frozen")
    (p,) = propose_bins(session, world.wh_dal.id, [(frozen.id, 2)])
    assert p.location_id is None and "no bin fits 2 x ICE (frozen" in p.reason


def test_hazmat_needs_an_approved_compatible_bin(session: Session, world: World) -> None:
    hz = md.create_zone(session, world.wh_dal, "H", hazmat_class="3")
    h01 = md.create_bin(session, world.wh_dal, "H-01", zone=hz, walk_seq=20)
    solvent = md.create_item(session, "SOLV", "Solvent", hazmat_class="3", velocity_class="B")
    oxid = md.create_item(session, "OXID", "Oxidiser", hazmat_class="5.1")
    session.flush()
    a, b = propose_bins(session, world.wh_dal.id, [(solvent.id, 4), (oxid.id, 1)])
    assert a.location_code == "H-01" and "approved for hazmat 3" in a.reason
    assert b.location_id is None
    assert h01.code == "H-01"


def test_confirm_by_scanning_moves_stock_and_measures_dock_to_stock(session: Session, world: World) -> None:
    tasks = _receive(session, world, [("WIDGET", 24), ("BOLT", 10)])
    session.commit()
    rows = list_tasks(session, world.wh_dal.id)
    assert {(r.sku, r.qty, r.from_code, r.proposed_code) for r in rows} == {("WIDGET", 24, "DOCK", "A-01"), ("BOLT", 10, "DOCK", "A-02")}
    w_task = next(t for t in tasks if t.item_id == world.items["WIDGET"].id)
    b_task = next(t for t in tasks if t.item_id == world.items["BOLT"].id)
    confirm_putaway(session, world.actors["wes"], [(w_task.id, "a-01")], at=T0 + dt.timedelta(minutes=30))
    rec = session.scalars(select(Receipt)).one()
    assert rec.stocked_at is None  # one task still open
    confirm_putaway(session, world.actors["wes"], [(b_task.id, "A-03")], at=T0 + dt.timedelta(minutes=45))  # not the proposal, but allowed
    session.commit()
    assert dock_to_stock(session, rec.id) == {"arrival_to_receipt_min": 10.0, "dock_to_stock_min": 45.0}
    summary = dock_to_stock_summary(session, warehouse_id=world.wh_dal.id, since=T0)
    assert (summary.receipts, summary.stocked, summary.median_dock_to_stock_min) == (1, 1, 45.0)
    assert dock_to_stock_summary(session, since=T0 + dt.timedelta(days=1)).receipts == 0
    q = "SELECT l.code, b.qty FROM stock_balance b JOIN location l ON l.id=b.location_id WHERE b.item_id=:i AND b.qty<>0 AND l.kind='storage'"
    assert session.execute(text(q), {"i": world.items["BOLT"].id}).all() == [("A-03", 10)]
    assert list_tasks(session, world.wh_dal.id) == []
    with pytest.raises(Conflict, match="already confirmed"):
        confirm_putaway(session, world.actors["wes"], [(b_task.id, "A-03")])
    assert balance_mismatches(session) == []


def test_putaway_into_full_or_wrong_temperature_bin_is_refused_and_nothing_moves(session: Session, world: World) -> None:
    (task,) = _receive(session, world, [("WIDGET", 48)])
    world.bins["DAL1-A-02"].capacity_volume_cm3 = 100
    session.commit()
    moves = session.scalar(text("SELECT count(*) FROM stock_move"))
    with pytest.raises(ValidationError, match=r"bin: bin A-02 is full: 100 cm3 free, 1,536 cm3 needed"):
        confirm_putaway(session, world.actors["wes"], [(task.id, "A-02")])
    with pytest.raises(ValidationError, match="bin C-01 is chilled; WIDGET needs ambient"):
        confirm_putaway(session, world.actors["wes"], [(task.id, "C-01")])
    with pytest.raises(ValidationError, match="'DOCK' is not a storage bin"):
        confirm_putaway(session, world.actors["wes"], [(task.id, "DOCK")])
    session.rollback()
    assert session.scalar(text("SELECT count(*) FROM stock_move")) == moves


def test_serial_units_move_one_by_one_and_the_registry_follows(session: Session, world: World) -> None:
    (task,) = _receive(session, world, [("DRILL", 2)], serials=("D1", "d2"))  # serials are kept upper-case
    confirm_putaway(session, world.actors["wes"], [(task.id, "A-02")])
    a02 = world.bins["DAL1-A-02"].id
    assert {(s.serial, s.location_id) for s in session.scalars(select(SerialNumber))} == {("D1", a02), ("D2", a02)}
    assert session.scalar(text("SELECT count(*) FROM stock_move WHERE reason='putaway'")) == 2


def test_hazmat_clash_with_bin_contents_and_pick_face_of_another_item_are_refused(session: Session, world: World) -> None:
    hz = md.create_zone(session, world.wh_dal, "HX", hazmat_class="8")  # a corrosives store
    h = md.create_bin(session, world.wh_dal, "HX-01", zone=hz)
    oxid = md.create_item(session, "OXID", "Oxidiser", hazmat_class="5.1")
    solv = md.create_item(session, "SOLV", "Solvent", hazmat_class="3")
    react = md.create_item(session, "REACT", "Water-reactive", hazmat_class="4.3")
    world.bins["DAL1-A-02"].fixed_item_id = world.items["BOLT"].id
    session.flush()
    sup = virtual_location(session, world.wh_dal.id, "supplier")
    post_moves(session, None, [MoveSpec(oxid.id, 5, sup.id, h.id, "opening")], owner_branch_id=world.dal.id)
    from app.services.receiving.putaway import load_bins

    book = load_bins(session, world.wh_dal.id, [solv.id, react.id, world.items["WIDGET"].id], ["a-02"])
    hx = book.by_code["HX-01"]
    assert book.refusal(book.items[solv.id], 1, hx) == "bin HX-01 holds hazmat class 5.1, incompatible with 3"
    assert book.refusal(book.items[react.id], 1, hx) == "bin HX-01 (hazmat 8) may not hold class 4.3"
    assert book.refusal(book.items[oxid.id], 1, hx) is None
    assert book.refusal(book.items[world.items["WIDGET"].id], 1, book.by_code["A-02"]) == "bin A-02 is the pick face of another item"
    (p,) = propose_bins(session, world.wh_dal.id, [(world.items["BOLT"].id, 4)])
    assert p.location_code == "A-02"  # its own pick face is fine


def test_a_line_no_bin_can_take_is_split_over_bins_by_whole_cases(session: Session, world: World) -> None:
    for key in ("DAL1-A-01", "DAL1-A-02", "DAL1-A-03"):
        world.bins[key].capacity_volume_cm3 = 3200  # 100 WIDGETs of 32 cm3 each; a case is 12
    session.flush()
    tasks = _receive(session, world, [("WIDGET", 250)])  # 20 cases + 10 loose
    # 100 would break a case: 96 (8 cases) go to each bin; the last bin takes what is left, loose units too
    assert [(session.get(Location, t.proposed_location_id).code, t.qty) for t in tasks] == [  # type: ignore[union-attr]
        ("A-01", 96), ("A-02", 96), ("A-03", 58)]
    assert tasks[0].reason.startswith("split 250 (20 cases of 12 + 10): 96 (8 cases of 12) fit here")
    tasks = _receive(session, world, [("WIDGET", 60)])  # A-03 has room for 42 = 3 cases + 6
    assert [(t.proposed_location_id, t.qty) for t in tasks] == [(world.bins["DAL1-A-03"].id, 36), (None, 24)]
    assert tasks[1].reason.startswith("no bin fits 24 x WIDGET")


def test_seven_cases_become_tasks_of_whole_cases(session: Session, world: World) -> None:
    """The issue's case: 168 units (7 cases of 24) into bins that take 67 each."""
    widget = world.items["WIDGET"]
    session.execute(text("UPDATE item_uom SET factor = 24 WHERE item_id = :i"), {"i": widget.id})
    for key in ("DAL1-A-01", "DAL1-A-02", "DAL1-A-03"):
        world.bins[key].capacity_volume_cm3 = 67 * 32
    session.flush()
    tasks = _receive(session, world, [("WIDGET", 168)])
    assert [t.qty for t in tasks] == [48, 48, 48, 24]  # never 67, 67, 34
    assert all(t.qty % 24 == 0 for t in tasks)
    assert "(2 cases of 24) fit here" in tasks[0].reason


def test_a_case_is_broken_only_when_no_bin_has_room_for_a_whole_one(session: Session, world: World) -> None:
    for key in ("DAL1-A-01", "DAL1-A-02", "DAL1-A-03"):
        world.bins[key].capacity_volume_cm3 = 5 * 32  # 5 units: less than a case of 12
    session.flush()
    tasks = _receive(session, world, [("WIDGET", 12)])
    assert [t.qty for t in tasks if t.proposed_location_id] == [5, 5, 2]
    assert "no bin has room for a whole case of 12" in tasks[0].reason
