"""Receiving by scan and posting: what a receiver at the dock sees, and what lands in the ledger."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.approvals import ApprovalDecision
from app.models.purchasing import ExpectedReceipt, PurchaseOrder, PurchaseOrderLine
from app.models.receiving import PutawayTask, QualityHold, Receipt, ReceiptLine, SerialNumber
from app.services.errors import Conflict, PermissionDenied, ValidationError
from app.services.receiving.holds import reject_holds, release_holds
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.queries import list_expected, list_holds, mark_arrived, receive_scans
from app.services.receiving.session import ReceivingSession, load_context
from app.services.stock import balance_mismatches, on_hand, virtual_location
from tests.factories import World
from tests.services._receiving_world import make_expected

T0 = dt.datetime(2026, 11, 26, 8, 0, tzinfo=dt.UTC)


def _qty_at(session: Session, loc_id: object, item_id: object) -> int:
    return int(session.scalar(text("SELECT coalesce(sum(qty),0) FROM stock_balance WHERE location_id=:l AND item_id=:i"),
                              {"l": loc_id, "i": item_id}) or 0)  # type: ignore[attr-defined]


def _moves(session: Session) -> int:
    return int(session.scalar(text("SELECT count(*) FROM stock_move")) or 0)


def test_scan_pack_gtin_with_quantity_key_and_post_updates_stock_po_and_times(session: Session, world: World) -> None:
    er = make_expected(session, world, [("WIDGET", 120), ("BOLT", 50)])
    session.commit()
    mark_arrived(session, world.actors["rita"], er.id, at=T0)
    rs = ReceivingSession(load_context(session, er.id))
    assert rs.scan("*10").ok
    case_gtin = "10012345678902"  # WIDGET case of 12 (set below)
    from app.models.catalog import ItemUom
    uom = session.scalars(select(ItemUom).where(ItemUom.item_id == world.items["WIDGET"].id)).one()
    uom.gtin = case_gtin
    session.flush()
    rs = ReceivingSession(load_context(session, er.id))
    rs.scan("*10")
    r = rs.scan(case_gtin)
    assert r.ok and r.message == "WIDGET +120 (10 x 12) = 120 of 120"
    assert rs.scan("bolt").ok and rs.scan("*49").ok and rs.scan("BOLT").ok
    view = {v.sku: (v.expected, v.scanned) for v in rs.view()}
    assert view == {"BOLT": (50, 50), "WIDGET": (120, 120)}
    posted = post_receipt(session, world.actors["rita"], er.id, rs.post_lines(), at=T0 + dt.timedelta(minutes=25))
    session.commit()
    assert posted.number == "DAL-GR-000001" and posted.units == 170
    dock = session.scalars(select(Receipt)).one()
    assert dock.arrived_at == T0 and dock.posted_at == T0 + dt.timedelta(minutes=25)
    assert on_hand(session, world.items["WIDGET"].id, world.wh_dal.id) == 120
    po = session.get(PurchaseOrder, er.po_id)
    assert po is not None and po.status == "received"
    assert {pl.qty_received for pl in session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po.id))} == {120, 50}
    assert session.get(ExpectedReceipt, er.id).status == "received"  # type: ignore[union-attr]
    assert len(posted.putaway_task_ids) == 2
    assert balance_mismatches(session) == []
    assert session.scalar(text("SELECT count(*) FROM audit_entry WHERE action='receipt.post'")) == 1


def test_unknown_scan_other_item_and_lot_on_non_lot_item_are_refused_with_nothing_changed(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)])
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    r = rs.scan("NOPE-123")
    assert not r.ok and "matches no item" in r.message
    r = rs.scan("WIDGET")
    assert not r.ok and "item WIDGET is not on" in r.message
    r = rs.scan("LOT:L1")
    assert not r.ok and "no item is waiting" in r.message
    rs.scan("BOLT")
    r = rs.scan("LOT:L1")
    assert not r.ok and "BOLT is not lot-tracked" in r.message
    assert rs.scanned_qty(world.items["BOLT"].id) == 1


def test_over_receipt_tolerance_per_supplier(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 100)])
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    rs.scan("*100")
    rs.scan("BOLT")
    r = rs.scan("BOLT")
    assert not r.ok and "101 would be above the expected 100" in r.message and "0% of ACME" in r.message
    with pytest.raises(ValidationError, match="above the expected 100"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 101)])
    session.rollback()
    world.supplier.over_receipt_pct = Decimal("10")
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    assert rs.scan("*110").ok and rs.scan("BOLT").ok
    assert not rs.scan("BOLT").ok
    post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    assert on_hand(session, world.items["BOLT"].id) == 110


def test_under_receipt_beyond_tolerance_needs_a_shortage_reason(session: Session, world: World) -> None:
    world.supplier.under_receipt_pct = Decimal("5")
    er = make_expected(session, world, [("BOLT", 100), ("WIDGET", 24)])
    session.commit()
    lines = [ReceiveLine(world.items["BOLT"].id, 96), ReceiveLine(world.items["WIDGET"].id, 12)]
    with pytest.raises(ValidationError, match="WIDGET quantity: 12 received is below the expected 24"):
        post_receipt(session, world.actors["rita"], er.id, lines)
    session.rollback()
    rs = ReceivingSession(load_context(session, er.id))
    for s in ("*96", "BOLT", "*12", "WIDGET", "R:SHORT", "WIDGET"):
        assert rs.scan(s).ok, s
    posted = post_receipt(session, world.actors["rita"], er.id, rs.post_lines(), shortages=rs.shortages)
    po = session.get(PurchaseOrder, er.po_id)
    assert posted.units == 108 and po is not None and po.status == "partially_received"


def test_lot_and_expiry_capture_in_one_gs1_scan_or_step_by_step(session: Session, world: World) -> None:
    er = make_expected(session, world, [("MILK", 30)])
    milk = world.items["MILK"]
    milk.gtin = "04006381333931"
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    r = rs.scan("(01)04006381333931(10)m-1(17)270115(37)10")
    assert r.ok and "= 10 of 30" in r.message
    assert rs.scan("*20").ok
    r = rs.scan("MILK")
    assert r.ok and r.waiting_for == "lot"
    assert not rs.scan("BOLT").ok  # still waiting: nothing else accepted
    assert rs.scan("M-2").waiting_for == "expiry"
    with pytest.raises(ValidationError, match="still wait"):
        rs.post_lines()
    r = rs.scan("270228")
    assert r.ok and "= 30 of 30" in r.message
    post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    lines = {ln.lot_code: ln.qty for ln in session.scalars(select(ReceiptLine))}
    assert lines == {"M-1": 10, "M-2": 20}
    from app.models.catalog import Lot
    assert {lot.lot_code: lot.expiry_date for lot in session.scalars(select(Lot))} == {
        "M-1": dt.date(2027, 1, 15), "M-2": dt.date(2027, 2, 28)}


def test_lot_item_posted_without_lot_is_refused(session: Session, world: World) -> None:
    er = make_expected(session, world, [("MILK", 5)])
    session.commit()
    with pytest.raises(ValidationError, match="MILK is lot-tracked"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["MILK"].id, 5)])
    with pytest.raises(ValidationError, match="BOLT is not on"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])


def test_serials_captured_and_never_received_twice(session: Session, world: World) -> None:
    er = make_expected(session, world, [("DRILL", 3)])
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    assert rs.scan("*2").ok
    assert rs.scan("DRILL").waiting_for == "serial"
    assert rs.scan("SN-1").ok
    r = rs.scan("sn-1")
    assert not r.ok and "already scanned in this receipt" in r.message
    assert rs.scan("SN:SN-2").ok
    post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    session.commit()
    assert {s.serial for s in session.scalars(select(SerialNumber))} == {"SN-1", "SN-2"}
    er2 = make_expected(session, world, [("DRILL", 1)])
    session.commit()
    rs2 = ReceivingSession(load_context(session, er2.id))
    rs2.scan("DRILL")
    r = rs2.scan("SN-2")
    assert not r.ok and "already in stock" in r.message
    with pytest.raises(ValidationError, match="serial SN-2 of DRILL is already in stock"):
        post_receipt(session, world.actors["rita"], er2.id, [ReceiveLine(world.items["DRILL"].id, 1, serials=("SN-2",))])


def test_inspection_item_goes_to_qa_then_release_or_reject(session: Session, world: World) -> None:
    world.items["BOLT"].needs_inspection = True
    er = make_expected(session, world, [("BOLT", 10), ("WIDGET", 12)])
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    for s in ("*6", "BOLT", "*4", "R:DAMAGED", "BOLT", "R:DAMAGED", "WIDGET", "*11", "WIDGET"):
        assert rs.scan(s).ok, s
    posted = post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    session.commit()
    qa = virtual_location(session, world.wh_dal.id, "qa")
    bolt, widget = world.items["BOLT"], world.items["WIDGET"]
    assert _qty_at(session, qa.id, bolt.id) == 10 and _qty_at(session, qa.id, widget.id) == 1
    assert posted.held_units == 11 and len(posted.putaway_task_ids) == 1
    holds = {(h.sku, h.qty, h.reason): h.id for h in list_holds(session, world.wh_dal.id)}
    assert set(holds) == {("BOLT", 6, "inspection"), ("BOLT", 4, "damaged"), ("WIDGET", 1, "damaged")}
    tasks = release_holds(session, world.actors["rita"], [holds[("BOLT", 6, "inspection")]])
    assert len(tasks) == 1
    with pytest.raises(ValidationError, match="say why"):
        reject_holds(session, world.actors["rita"], [holds[("BOLT", 4, "damaged")]], note=" ")
    assert reject_holds(session, world.actors["rita"], [holds[("BOLT", 4, "damaged")]], note="crushed") == 4
    session.commit()
    dock = virtual_location(session, world.wh_dal.id, "dock")
    sup = virtual_location(session, world.wh_dal.id, "supplier")
    assert _qty_at(session, dock.id, bolt.id) == 6 and _qty_at(session, qa.id, bolt.id) == 0
    assert session.scalar(text("SELECT count(*) FROM stock_move WHERE reason='rtv'")) == 1
    assert _qty_at(session, sup.id, bolt.id) == -6  # 10 in from the supplier, 4 back
    with pytest.raises(Conflict, match="already rejected"):
        release_holds(session, world.actors["rita"], [holds[("BOLT", 4, "damaged")]])
    assert [h.sku for h in list_holds(session, world.wh_dal.id)] == ["WIDGET"]
    assert session.scalar(select(func.count()).select_from(QualityHold)) == 3


def test_approver_of_the_po_may_not_receive_it(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)])
    session.add(ApprovalDecision(po_id=er.po_id, revision=0, level=1, approver_id=world.actors["wes"].user_id,
                                 decision="approve", owner_branch_id=world.dal.id))
    session.commit()
    before = _moves(session)
    with pytest.raises(PermissionDenied, match="wes approved DAL-PO-.* and may not receive it"):
        post_receipt(session, world.actors["wes"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])
    session.rollback()
    assert _moves(session) == before
    post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])


def test_posting_twice_and_without_permission_is_refused(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)])
    session.commit()
    with pytest.raises(PermissionDenied):
        post_receipt(session, world.actors["alice"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])
    post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])
    session.commit()
    before = _moves(session)
    with pytest.raises(Conflict, match=r"already received \(DAL-GR-000001\)"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])
    assert _moves(session) == before
    rs = ReceivingSession(load_context(session, er.id))
    r = rs.scan("BOLT")
    assert not r.ok and "is received" in r.message


def test_po_not_sent_cannot_be_received(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)], po_status="approved")
    session.commit()
    with pytest.raises(Conflict, match="only a sent or confirmed PO"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 5)])


def test_sscc_carton_expands_to_its_asn_lines_once(session: Session, world: World) -> None:
    sscc = "003456789012345670"
    er = make_expected(session, world, [("MILK", 24, sscc, "ASNLOT", dt.date(2027, 5, 1)), ("BOLT", 10, sscc, "", None),
                                        ("BOLT", 5)], source="asn")
    session.commit()
    rs = ReceivingSession(load_context(session, er.id))
    r = rs.scan(sscc)
    assert r.ok and "MILK +24" in r.message and "BOLT +10" in r.message
    r = rs.scan("(00)" + sscc)
    assert not r.ok and "already scanned" in r.message
    assert not rs.scan("003456789012345687").ok  # a valid SSCC that is not on this receipt
    rs.scan("*5")
    rs.scan("BOLT")
    post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    session.commit()
    assert {(ln.lot_code, ln.qty, ln.sscc) for ln in session.scalars(select(ReceiptLine))} == {
        ("ASNLOT", 24, sscc), ("", 10, sscc), ("", 5, "")}


def test_batch_scan_file_posts_or_posts_nothing(session: Session, world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)])
    session.commit()
    before = _moves(session)
    out = receive_scans(session, world.actors["rita"], er.number, ["*5", "", "BOLT", "GARBAGE"])
    assert out.posted is None and out.refused == [(4, False, f"GARBAGE: matches no item, pack or carton of {er.number}")]
    assert _moves(session) == before
    out = receive_scans(session, world.actors["rita"], er.number, ["*5", "BOLT"])
    assert out.posted is not None and out.posted.units == 5


def test_expected_list_by_date_and_dock(session: Session, world: World) -> None:
    make_expected(session, world, [("BOLT", 5)], dock="D1", expected_at=dt.datetime(2026, 11, 26, 9, tzinfo=dt.UTC))
    make_expected(session, world, [("BOLT", 5), ("WIDGET", 12)], dock="D2", expected_at=dt.datetime(2026, 11, 27, 9, tzinfo=dt.UTC))
    session.commit()
    rows = list_expected(session, warehouse_id=world.wh_dal.id, day=dt.date(2026, 11, 27))
    assert [(r.dock, r.lines, r.units) for r in rows] == [("D2", 2, 17)]
    assert [r.dock for r in list_expected(session, dock="D1")] == ["D1"]
    assert session.scalar(select(func.count()).select_from(PutawayTask)) == 0


def test_inbound_transfer_is_received_out_of_transit_with_putaway_tasks(session: Session, world: World) -> None:
    from app.services.inventory.transfers import TransferLineSpec, create_transfer, ship_transfer
    from app.services.stock import MoveSpec, post_moves

    sup = virtual_location(session, world.wh_hou.id, "supplier")
    post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 30, sup.id, world.bins["HOU1-A-02"].id, "opening")],
               owner_branch_id=world.hou.id)
    t = create_transfer(session, world.actors["mike"], world.wh_hou.id, world.wh_dal.id,
                        [TransferLineSpec(world.items["BOLT"].id, 20)])
    ship_transfer(session, world.actors["mike"], t.id)
    session.commit()
    er = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.source == "transfer")).one()
    rs = ReceivingSession(load_context(session, er.id))
    rs.scan("*18")
    rs.scan("BOLT")
    rs.scan("*3")
    r = rs.scan("BOLT")
    assert not r.ok and "21 would be above the expected 20" in r.message
    posted = post_receipt(session, world.actors["rita"], er.id, rs.post_lines())
    session.commit()
    assert posted.number == t.number and posted.units == 18 and len(posted.putaway_task_ids) == 1
    assert on_hand(session, world.items["BOLT"].id, world.wh_dal.id) == 18
    assert session.get(ExpectedReceipt, er.id).status == "received"  # type: ignore[union-attr]
    with pytest.raises(Conflict, match="already received"):
        post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["BOLT"].id, 1)])
    assert balance_mismatches(session) == []
