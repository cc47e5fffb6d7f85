"""The packing station on real rows: scans into cartons with SSCCs, the wrong item, an over-pack,
a missing item caught before the last carton closes, serials, weights from a scale, the box
suggested by cartonization and lines that need several boxes; then the shipment ships."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.packing import Carton, CartonLine, ShipmentLabel
from app.models.receiving import SerialNumber
from app.services.dispatch import cartonize, packing
from app.services.dispatch.cartonize import Box, Unit, save_carton_type
from app.services.dispatch.confirm import confirm_shipment
from app.services.dispatch.sscc import check_digit, is_valid
from app.services.errors import Conflict, ValidationError
from app.services.stock import MoveSpec, post_moves, virtual_location
from tests.factories import World
from tests.services.sales_helpers import lines_of
from tests.services.ship_helpers import ShipWorld, picked_order, ship_world


def _boxes(session: Session, sw: ShipWorld) -> None:
    root = sw.w.actors["root"]
    save_carton_type(session, root, "S", length_mm=200, width_mm=150, height_mm=100, max_weight_g=5000, tare_g=150)
    save_carton_type(session, root, "M", length_mm=400, width_mm=300, height_mm=250, max_weight_g=15000, tare_g=400)
    save_carton_type(session, root, "L", length_mm=600, width_mm=400, height_mm=400, max_weight_g=25000, tare_g=800)


def test_gs1_check_digit_and_sscc() -> None:
    # GS1's own worked example: SSCC 106141412345678908
    assert check_digit("10614141234567890") == "8"
    assert is_valid("106141412345678908") and is_valid("(00)106141412345678908")
    assert not is_valid("106141412345678907")


def test_scan_pack_close_and_ship(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    _boxes(session, sw)
    so = picked_order(session, sw, {"WIDGET": 10, "BOLT": 4})
    s = packing.start(session, sw.dan, so.number)
    assert s.status == "packing" and packing.start(session, sw.dan, so.number).id == s.id  # one at a time
    # bolts without figures count as 10 cm cubes of 500 g: a medium box, and it says it estimated
    assert packing.state(session, s.number).suggestion == "1 x M (estimated: some items have no dimensions or weight)"
    bolt = world.items["BOLT"]
    bolt.length_mm, bolt.width_mm, bolt.height_mm, bolt.weight_g = 60, 10, 10, 30
    assert packing.state(session, s.number).suggestion == "1 x S"  # 10 small widgets and 4 bolts
    out = packing.pack(session, sw.dan, s.number, "WIDGET", qty=6)
    assert out.carton == 1 and "4 left to pack" in out.message
    carton = session.scalars(select(Carton).where(Carton.shipment_id == s.id)).one()
    assert is_valid(carton.sscc) and carton.sscc.startswith("00614141")
    # the GTIN on the item scans as the item
    packing.pack(session, sw.dan, s.number, "00012345678905", qty=4)
    # wrong item, over-pack: refused, nothing written
    before = int(session.scalar(select(func.sum(CartonLine.qty))) or 0)
    with pytest.raises(ValidationError, match="MILK is not on order"):
        packing.pack(session, sw.dan, s.number, "MILK")
    with pytest.raises(ValidationError, match="more than was picked"):
        packing.pack(session, sw.dan, s.number, "WIDGET")
    with pytest.raises(ValidationError, match="no item we know"):
        packing.pack(session, sw.dan, s.number, "NOPE-123")
    assert int(session.scalar(select(func.sum(CartonLine.qty))) or 0) == before
    # the bolts are missing: closing the last carton is refused, naming them
    with pytest.raises(Conflict, match="BOLT 4 of 4 still to pack"):
        packing.close_carton(session, sw.dan, s.number, packing.scale_reading("1.35 kg"), last=True)
    assert carton.status == "open"
    packing.pack(session, sw.dan, s.number, "BOLT", qty=4)
    with pytest.raises(ValidationError, match="weigh it"):
        packing.close_carton(session, sw.dan, s.number, 0, last=True)
    out = packing.close_carton(session, sw.dan, s.number, packing.scale_reading("ST,GS,+  1.350kg"), last=True)
    assert carton.status == "closed" and carton.weight_g == 1350 and s.status == "packed"
    assert (carton.length_mm, carton.width_mm, carton.height_mm) == (200, 150, 100)  # the suggested box
    # it ships like any other packed shipment (a label stands in for the carrier's)
    lab = ShipmentLabel(shipment_id=s.id, tracking_number="SBX0000000042", data=b"%PDF", owner_branch_id=s.owner_branch_id)
    session.add(lab)
    session.flush()
    s.label_id, s.label_number = lab.id, lab.tracking_number
    res = confirm_shipment(session, sw.dan, s.number)
    assert res.units == 14 and s.status == "label_created"


def test_over_the_box_limit_and_reopen(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    _boxes(session, sw)
    so = picked_order(session, sw, {"WIDGET": 2})
    s = packing.start(session, sw.dan, so.number)
    packing.open_carton(session, sw.dan, s.number, "S")
    packing.pack(session, sw.dan, s.number, "WIDGET", qty=2)
    with pytest.raises(Conflict, match="over the S box's limit of 5.0 kg"):
        packing.close_carton(session, sw.dan, s.number, 6000, last=True)
    packing.close_carton(session, sw.dan, s.number, 400, last=True)
    packing.reopen(session, sw.dan, s.number)
    assert s.status == "packing"
    packing.unpack(session, sw.dan, s.number, "WIDGET")
    packing.close_carton(session, sw.dan, s.number, 300, last=True, short_reason="one dented, sent later")
    assert s.status == "packed"


def test_serials_are_scanned_where_tracked(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    drill = world.items["DRILL"]
    sup = virtual_location(session, world.wh_dal.id, "supplier")
    bin_ = world.bins["DAL1-A-02"]
    for sn in ("D-1", "D-2"):
        post_moves(session, world.actors["rita"], [MoveSpec(drill.id, 1, sup.id, bin_.id, "receipt", serial_no=sn)],
                   owner_branch_id=world.dal.id)
        session.add(SerialNumber(item_id=drill.id, serial=sn, status="in_stock", location_id=bin_.id,
                                 owner_branch_id=world.dal.id))
    session.flush()
    so = picked_order(session, sw, {"DRILL": 2}, stock={}, pick={})
    post_moves(session, sw.dan, [MoveSpec(drill.id, 1, bin_.id, sw.pack.id, "pick", serial_no=sn) for sn in ("D-1", "D-2")],
               owner_branch_id=world.dal.id)
    s = packing.start(session, sw.dan, so.number)
    with pytest.raises(packing.NeedSerial, match="scan its serial"):
        packing.pack(session, sw.dan, s.number, "DRILL")
    with pytest.raises(ValidationError, match="D-9 of DRILL is not in stock"):
        packing.pack(session, sw.dan, s.number, "DRILL", serial="D-9")
    packing.pack(session, sw.dan, s.number, "DRILL", serial="D-1")
    with pytest.raises(ValidationError, match="packed already"):
        packing.pack(session, sw.dan, s.number, "DRILL", serial="D-1")
    packing.pack(session, sw.dan, s.number, "DRILL", serial="D-2")
    packing.close_carton(session, sw.dan, s.number, 3200, last=True)
    lab = ShipmentLabel(shipment_id=s.id, tracking_number="SBX0000000043", data=b"%PDF", owner_branch_id=s.owner_branch_id)
    session.add(lab)
    session.flush()
    s.label_id, s.label_number = lab.id, lab.tracking_number
    confirm_shipment(session, sw.dan, s.number)
    assert set(session.scalars(select(SerialNumber.status).where(SerialNumber.item_id == drill.id))) == {"shipped"}


def test_cartonization_one_box_or_several() -> None:
    small, big = Box("S", (200, 150, 100), 5000, 150), Box("L", (600, 400, 400), 25000, 800)
    a, b = uuid.uuid4(), uuid.uuid4()
    one = cartonize.suggest([Unit(a, "WIDGET", 10, (40, 40, 20), 120)], [big, small])
    assert [c.box for c in one.cartons] == ["S"] and not one.split_lines
    # 300 bricks of 2 kg: too heavy for one box, so the line needs several
    many = cartonize.suggest([Unit(a, "BRICK", 30, (200, 100, 60), 2000), Unit(b, "WIDGET", 5, (40, 40, 20), 120)],
                             [big, small])
    assert len(many.cartons) >= 3 and many.split_lines.get(a, 0) >= 3
    assert all(c.weight_g <= 25000 for c in many.cartons)
    assert sum(c.lines.get(a, 0) for c in many.cartons) == 30
    assert "needs several cartons: BRICK" in many.sentence({a: "BRICK", b: "WIDGET"})
    # an item no box takes is named
    odd = cartonize.suggest([Unit(a, "PIPE", 1, (3000, 50, 50), 4000)], [big, small])
    assert odd.unfit == ["PIPE"] and "fits no configured carton: PIPE" in odd.note


def test_what_may_be_packed_is_what_was_picked(session: Session, world: World) -> None:
    """An order on a wave: only what the picker brought to the packing location is packed; a short
    pick leaves the rest unpackable, and picking tells packing's units apart (picked_unpacked)."""
    from app.services.dispatch import picking, queries, waves
    from app.services.dispatch.setup import set_cutoff

    sw = ship_world(session, world)
    set_cutoff(session, sw.dan, "DAL1", "SANDBOX", "16:00", default=True)
    so = picked_order(session, sw, {"WIDGET": 10, "BOLT": 4}, pick={})  # allocated, nothing moved yet
    now = dt.datetime(2026, 12, 1, 14, 0, tzinfo=dt.UTC)
    wave = waves.plan_waves(session, sw.dan, warehouse="DAL1", orders=[so.number], now=now).waves[0].number
    waves.release(session, sw.dan, [wave], now=now)
    with pytest.raises(Conflict, match="nothing picked or reserved to pack"):
        packing.start(session, sw.dan, so.number)  # released, nothing picked yet
    for r in queries.wave_lines(session, wave):
        short = r.sku == "WIDGET"
        picking.confirm(session, world.actors["wes"], wave, bin=r.bin, item=r.sku, qty=r.qty - 3 if short else None,
                        short_reason="damaged: crushed" if short else "")
    assert picking.picked_unpacked(session, so.id) == {ln.id: q for ln, q in zip(
        sorted(lines_of(session, so), key=lambda x: x.line_no), (7, 4), strict=True)}
    s = packing.start(session, sw.dan, so.number)
    packing.pack(session, sw.dan, s.number, "WIDGET", qty=7)
    with pytest.raises(ValidationError, match="7 packed of 7 picked"):
        packing.pack(session, sw.dan, s.number, "WIDGET")
    packing.pack(session, sw.dan, s.number, "BOLT", qty=4)
    assert picking.picked_unpacked(session, so.id) == {}  # everything picked is in a carton
