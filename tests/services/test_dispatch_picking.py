"""Pick confirmation on real rows: wrong bin and item refused with the reason and nothing written,
picks posted bin -> packing location through the ledger, short picks given back to allocation
(covered from another bin, or an exception), the scan sequence, and what packing reads."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.allocation import Allocation
from app.models.exceptions import ExceptionItem
from app.models.org import pack_location_id
from app.models.stock import StockMove
from app.services.allocation.runs import reallocate
from app.services.dispatch import picking, queries, waves
from app.services.dispatch.scanflow import ScanFlow
from app.services.errors import Conflict, PermissionDenied, ValidationError
from tests.factories import World
from tests.services.dispatch_helpers import NOW, allocated_orders, desk
from tests.services.inventory_helpers import bal, stock
from tests.services.sales_helpers import lines_of


def _released(session: Session, world: World, books: list[dict[str, int]], stock: dict) -> tuple[dict, list, str]:
    p = desk(session, world)
    orders = allocated_orders(session, world, p, books, stock)
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    waves.release(session, p["dan"], [number])
    return p, orders, number


def _moves(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StockMove)) or 0)


def test_wrong_bin_and_item_are_refused_and_a_pick_moves_stock_to_packing(session: Session, world: World) -> None:
    p, (o1,), number = _released(session, world, [{"WIDGET": 6, "BOLT": 3}],
                                 {"WIDGET": [("DAL1-A-01", 10)], "BOLT": [("DAL1-A-02", 10)]})
    widget, bolt = world.items["WIDGET"], world.items["BOLT"]
    before = _moves(session)
    with pytest.raises(Conflict, match=f"wrong bin: nothing to pick in C-01 on wave {number} \\(next stop: A-01\\)"):
        picking.confirm(session, p["wes"], number, bin="C-01", item="WIDGET")
    with pytest.raises(Conflict, match="wrong item: BOLT is picked from A-02 on this wave; A-01 holds WIDGET"):
        picking.confirm(session, p["wes"], number, bin="A-01", item="BOLT")
    with pytest.raises(Conflict, match=f"wrong item: MILK is not on wave {number}"):
        picking.confirm(session, p["wes"], number, bin="A-01", item="MILK")
    with pytest.raises(Conflict, match="only 6 WIDGET to pick in A-01"):
        picking.confirm(session, p["wes"], number, bin="A-01", item="WIDGET", qty=7)
    with pytest.raises(ValidationError, match="4 of 6 WIDGET: say why the rest is missing"):
        picking.confirm(session, p["wes"], number, bin="A-01", item="WIDGET", qty=4)
    with pytest.raises(PermissionDenied):
        picking.confirm(session, p["clara"], number, bin="A-01", item="WIDGET")
    assert _moves(session) == before
    # the item's GTIN is as good as its SKU
    out = picking.confirm(session, p["wes"], number, bin="A-01", item="00012345678905")
    assert (out.qty, out.sku, out.wave_status) == (6, "WIDGET", "picking")
    pack = pack_location_id(world.wh_dal.id)
    assert (bal(session, world.bins["DAL1-A-01"], widget.id), bal(session, pack, widget.id)) == (4, 6)
    move = session.scalars(select(StockMove).order_by(StockMove.moved_at.desc())).first()
    assert move is not None and (move.reason, move.doc_type, move.to_location_id) == ("pick", "wave", pack)
    lines = lines_of(session, o1)
    assert picking.picked_unpacked(session, o1.id) == {lines[0].id: 6}
    # a reallocation after the pick takes nothing from the picked order (the stock in packing is its own)
    reallocate(session, None, world.wh_dal.id, items=[widget.id])
    session.expire_all()
    assert [ln.qty_allocated for ln in lines_of(session, o1)] == [6, 3]
    out = picking.confirm(session, p["wes"], number, bin="A-02", item="BOLT", qty=3)
    assert out.wave_status == "picked"
    assert picking.picked_unpacked(session, o1.id) == {lines[0].id: 6, lines[1].id: 3}
    assert bal(session, pack, bolt.id) == 3
    with pytest.raises(Conflict, match=f"wave {number} is picked: nothing is left to pick"):
        picking.confirm(session, p["wes"], number, bin="A-02", item="BOLT")
    row = queries.list_waves(session, warehouse="DAL1")[0]
    assert (row.status, row.lines_done, row.units_picked) == ("picked", 2, 9)


def test_short_pick_is_covered_from_another_bin(session: Session, world: World) -> None:
    p, (o1,), number = _released(session, world, [{"WIDGET": 10}],
                                 {"WIDGET": [("DAL1-A-01", 10), ("DAL1-A-03", 5)]})
    out = picking.confirm(session, p["wes"], number, bin="A-01", item="WIDGET", qty=6, short_reason="not_found")
    assert (out.qty, out.short, out.covered, out.exception) == (6, 4, 4, "")
    assert "4 re-reserved from another bin" in out.message
    # the bin that came up short gets a count task (wes may enter counts)
    assert out.count.startswith("DAL-CC-") and f"count {out.count} scheduled for A-01" in out.message
    rows = queries.wave_lines(session, number)
    assert [(r.bin, r.qty, r.qty_picked, r.status) for r in rows] == [("A-01", 10, 6, "short"), ("A-03", 4, 0, "open")]
    assert rows[0].short_reason == "not_found"
    # the ledger: -4 given back, +4 reserved again; the line holds 10
    assert sorted(session.scalars(select(Allocation.qty).where(Allocation.rule.in_(("short_pick", "short_cover"))))) \
        == [-4, 4]
    session.expire_all()
    assert lines_of(session, o1)[0].qty_allocated == 10
    out = picking.confirm(session, p["wes"], number, bin="A-03", item="WIDGET")
    assert (out.qty, out.wave_status) == (4, "picked")


def test_short_pick_nothing_covers_raises_an_exception(session: Session, world: World) -> None:
    p, (o1,), number = _released(session, world, [{"WIDGET": 10}], {"WIDGET": [("DAL1-A-01", 10)]})
    out = picking.confirm(session, p["wes"], number, bin="A-01", item="WIDGET", qty=7, short_reason="damaged box")
    assert (out.short, out.covered, out.wave_status) == (3, 0, "picked")
    exc = session.scalars(select(ExceptionItem).where(ExceptionItem.kind == "dispatch.short_pick")).one()
    assert exc.title == f"short pick {o1.number}/1 WIDGET: 3 not covered"
    assert exc.role == "dispatcher" and "damaged box" in exc.detail
    session.expire_all()
    assert lines_of(session, o1)[0].qty_allocated == 7
    assert picking.picked_unpacked(session, o1.id) == {lines_of(session, o1)[0].id: 7}


def test_scan_sequence_as_a_scanner_sends_it(session: Session, world: World) -> None:
    p, _orders, number = _released(session, world, [{"WIDGET": 5, "BOLT": 2}],
                                   {"WIDGET": [("DAL1-A-01", 10)], "BOLT": [("DAL1-A-02", 10)]})
    flow = ScanFlow(number)
    assert flow.prompt(session) == "scan bin A-01"
    fb = flow.scan(session, p["wes"], "WIDGET")
    assert not fb.ok and fb.message == "scan the bin first (next stop: A-01)" and fb.expect == "bin"
    fb = flow.scan(session, p["wes"], "C-01")
    assert not fb.ok and "wrong bin" in fb.message
    assert flow.scan(session, p["wes"], "a-01").ok and flow.expect == "item"
    fb = flow.scan(session, p["wes"], "BOLT")
    assert not fb.ok and "wrong item" in fb.message and flow.expect == "item"
    fb = flow.scan(session, p["wes"], "WIDGET")
    assert fb.ok and fb.message.startswith("5 to pick") and flow.expect == "qty"
    fb = flow.scan(session, p["wes"], "3")
    assert not fb.ok and "say why the rest is missing" in fb.message and flow.expect == "qty"
    fb = flow.scan(session, p["wes"], "")
    assert fb.ok and fb.outcome is not None and fb.outcome.qty == 5 and flow.expect == "bin"
    assert flow.scan(session, p["wes"], "A-02").ok
    assert flow.scan(session, p["wes"], "BOLT").ok
    fb = flow.scan(session, p["wes"], "SHORT 1 not_found")
    assert fb.ok and fb.expect == "done" and fb.outcome is not None and fb.outcome.short == 1
    assert "wave" in fb.message and "is picked" in fb.message


def test_planned_wave_cannot_be_picked(session: Session, world: World) -> None:
    p = desk(session, world)
    allocated_orders(session, world, p, [{"WIDGET": 1}], {"WIDGET": [("DAL1-A-01", 2)]})
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    with pytest.raises(Conflict, match="is planned, not released: release it before picking"):
        picking.confirm(session, p["wes"], number, bin="A-01", item="WIDGET")


def test_serial_tracked_items_are_picked_serial_by_serial(session: Session, world: World) -> None:
    p = desk(session, world)
    for sn in ("SN-1", "SN-2", "SN-3"):
        stock(session, world, "DRILL", 1, "DAL1-A-03", serial=sn)
    (so,) = allocated_orders(session, world, p, [{"DRILL": 2}])
    number = waves.plan_waves(session, p["dan"], warehouse="DAL1", now=NOW).waves[0].number
    waves.release(session, p["dan"], [number])
    with pytest.raises(ValidationError, match="DRILL is serial-tracked: scan the serial of each unit \\(0 of 2\\)"):
        picking.confirm(session, p["wes"], number, bin="A-03", item="DRILL")
    flow = ScanFlow(number)
    assert flow.scan(session, p["wes"], "A-03").ok
    fb = flow.scan(session, p["wes"], "DRILL")
    assert fb.ok and fb.expect == "serial" and "scan the serial of each unit" in fb.message
    assert flow.scan(session, p["wes"], "sn-1").ok
    fb = flow.scan(session, p["wes"], "SN-1")
    assert not fb.ok and fb.message == "serial: serial SN-1 was scanned already"
    fb = flow.scan(session, p["wes"], "SN-3")
    assert fb.ok and fb.outcome is not None and fb.outcome.qty == 2 and fb.expect == "done"
    moved = sorted(session.scalars(select(StockMove.serial_no).where(StockMove.reason == "pick")))
    assert moved == ["SN-1", "SN-3"]
    assert bal(session, pack_location_id(world.wh_dal.id), world.items["DRILL"].id) == 2
    assert picking.picked_unpacked(session, so.id) == {lines_of(session, so)[0].id: 2}
