"""Receiving and ship notices of a consolidated PO across branches, on one SQLite file that is made a
replicating site of one branch after the other (``become_branch_site``: the ownership guard is on).

A DAL purchase order has a line shipping to DAL1 and one to HOU1. Houston receives its part writing
only its own rows; Dallas's settler rolls the received quantities up onto its PO. An ASN for both
warehouses becomes one ASN receipt per warehouse, each made by its own branch. A short receipt
leaves a follow-up expected receipt for what is still owed.
"""

from __future__ import annotations

import datetime as dt
import json

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.approvals import ApprovalDecision
from app.models.docs_common import AuditEntry
from app.models.edi import SupplierMessageLine
from app.models.org import Branch
from app.models.parties import ItemSupplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.models.receiving import Receipt
from app.services.auth import actor_for, create_user
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.buying.rollup import settle_received
from app.services.edi.asn_receipts import asn_receipt_id, settle_ship_notices
from app.services.edi.inbound import EdiImportError, import_bytes
from app.services.errors import PermissionDenied, ValidationError
from app.services.ownership import settle_all
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.queries import mark_arrived
from app.services.receiving.scan import gs1_check_digit
from tests.factories import World, become_branch_site


@pytest.fixture
def cw(session: Session, world: World) -> World:
    """The small world with contracted prices (a small PO approves itself on submit), an EDI partner
    and a Houston receiver."""
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    approvals.ensure_default_rules(session, world.ho.id)
    world.supplier.edi_id, world.supplier.edi_qualifier, world.supplier.edi_format = "ACMEEDI", "ZZ", "edifact"
    world.supplier.allows_consolidation = True
    for name in ("hugo", "hank"):
        u = create_user(session, name, f"secret-{name}", ["receiver"], owner_branch_id=world.ho.id, branch_id=world.hou.id)
        session.flush()
        world.actors[name] = actor_for(session, u)
    session.commit()
    return world


def consolidated_po(session: Session, w: World, bolt: int = 100, widget: int = 24, milk: int = 0) -> PurchaseOrder:
    """Raised, approved (below the threshold) and sent by Dallas: BOLT to DAL1, WIDGET (and MILK) to HOU1."""
    lines = [LineInput(sku="BOLT", qty=bolt), LineInput(sku="WIDGET", qty=widget, ship_to_warehouse_id=w.wh_hou.id)]
    if milk:
        lines.append(LineInput(sku="MILK", qty=milk, ship_to_warehouse_id=w.wh_hou.id))
    po = purchasing.create_po(session, w.actors["alice"], "ACME", "DAL1", lines)
    purchasing.submit(session, w.actors["alice"], po.id)
    assert po.status == "approved"
    purchasing.set_status(session, w.actors["alice"], po, "sent")
    session.commit()
    return po


def receipt_at(session: Session, po: PurchaseOrder, wh_id: object, source: str = "po") -> ExpectedReceipt:
    """The one open expected receipt of ``po`` at a warehouse (what Receiving lists)."""
    return session.scalars(select(ExpectedReceipt).where(
        ExpectedReceipt.po_id == po.id, ExpectedReceipt.warehouse_id == wh_id, ExpectedReceipt.source == source,
        ExpectedReceipt.status.in_(("expected", "arrived")))).one()


def po_lines(session: Session, po: PurchaseOrder) -> dict[str, tuple[int, str]]:
    from app.models.catalog import Item

    return {sku: (int(q), st) for sku, q, st in session.execute(
        select(Item.sku, PurchaseOrderLine.qty_received, PurchaseOrderLine.status)
        .join(Item, Item.id == PurchaseOrderLine.item_id).where(PurchaseOrderLine.po_id == po.id))}


def lines_of(session: Session, er: ExpectedReceipt) -> dict[str, tuple[int, int]]:
    from app.models.catalog import Item

    return {sku: (int(q), int(r)) for sku, q, r in session.execute(
        select(Item.sku, ExpectedReceiptLine.qty_expected, ExpectedReceiptLine.qty_received)
        .join(Item, Item.id == ExpectedReceiptLine.item_id)
        .where(ExpectedReceiptLine.receipt_id == er.id, ExpectedReceiptLine.deleted_at.is_(None)))}


def as_site(session: Session, engine: Engine, branch: Branch) -> None:
    """From now on this file is ``branch``'s workstation (the next transaction reads it)."""
    session.commit()
    become_branch_site(engine, branch)


def po_status(session: Session, po: PurchaseOrder) -> str:
    return str(session.scalar(select(PurchaseOrder.status).where(PurchaseOrder.id == po.id)))


# ------------------------------------------------------------------------ receiving another branch's PO


def test_houston_receives_its_line_of_a_dallas_po_and_dallas_rolls_it_up(session: Session, engine: Engine, cw: World) -> None:
    po = consolidated_po(session, cw)
    hou_er = receipt_at(session, po, cw.wh_hou.id)
    assert hou_er.owner_branch_id == cw.hou.id
    as_site(session, engine, cw.hou)
    posted = post_receipt(session, cw.actors["hugo"], hou_er.id, [ReceiveLine(cw.items["WIDGET"].id, 24)])
    session.commit()  # no ForeignWrite: Houston wrote only its own rows
    assert posted.number.startswith("HOU-GR-")
    assert f"{po.number} is DAL's: its received quantities are updated when DAL next syncs" in posted.notes
    rec = session.get(Receipt, posted.receipt_id)
    assert rec is not None and rec.owner_branch_id == cw.hou.id
    # Dallas's PO is untouched on Houston's workstation
    assert po_lines(session, po) == {"BOLT": (0, "open"), "WIDGET": (0, "open")}
    assert po_status(session, po) == "sent"
    assert settle_received(session) == 0  # Houston owns no PO to settle
    # Dallas pulls the receipt: its settler rolls the quantities up, once
    as_site(session, engine, cw.dal)
    done, errors = settle_all(session)
    assert errors == [] and done.get("receiving.po_received") == 1
    session.commit()
    assert po_lines(session, po) == {"BOLT": (0, "open"), "WIDGET": (24, "received")}
    assert po_status(session, po) == "partially_received"
    assert settle_received(session) == 0
    # Dallas receives its own line: the PO is updated at once, and is complete
    dal_er = receipt_at(session, po, cw.wh_dal.id)
    post_receipt(session, cw.actors["rita"], dal_er.id, [ReceiveLine(cw.items["BOLT"].id, 100)])
    session.commit()
    assert po_lines(session, po) == {"BOLT": (100, "received"), "WIDGET": (24, "received")}
    assert po_status(session, po) == "received"
    assert settle_received(session) == 0


def test_tolerance_and_separation_of_duties_hold_at_the_receiving_branch(session: Session, engine: Engine, cw: World) -> None:
    po = consolidated_po(session, cw)
    hou_er = receipt_at(session, po, cw.wh_hou.id)
    session.add(ApprovalDecision(po_id=po.id, revision=0, level=1, approver_id=cw.actors["hugo"].user_id,
                                 decision="approve", owner_branch_id=cw.dal.id))
    as_site(session, engine, cw.hou)
    with pytest.raises(PermissionDenied, match=f"hugo approved {po.number} and may not receive it"):
        post_receipt(session, cw.actors["hugo"], hou_er.id, [ReceiveLine(cw.items["WIDGET"].id, 24)])
    session.rollback()
    wes = cw.actors["hank"]
    with pytest.raises(ValidationError, match="25 received is above the expected 24"):
        post_receipt(session, wes, hou_er.id, [ReceiveLine(cw.items["WIDGET"].id, 25)])
    session.rollback()
    # Houston cannot receive Dallas's expected receipt (it is received on a Dallas workstation)
    dal_er = receipt_at(session, po, cw.wh_dal.id)
    with pytest.raises(PermissionDenied, match=f"{dal_er.number} is DAL's .DAL1.: it is received on a DAL workstation"):
        post_receipt(session, wes, dal_er.id, [ReceiveLine(cw.items["BOLT"].id, 100)])
    session.rollback()
    with pytest.raises(PermissionDenied, match=f"{dal_er.number} is DAL's: its arrival is recorded on a DAL workstation"):
        mark_arrived(session, wes, dal_er.id)
    session.rollback()
    assert session.scalar(select(func.count()).select_from(Receipt)) == 0


# ------------------------------------------------------------------------ remainder of a short receipt


def test_a_short_receipt_leaves_a_follow_up_for_the_remainder(session: Session, engine: Engine, cw: World) -> None:
    po = consolidated_po(session, cw)
    hou_er = receipt_at(session, po, cw.wh_hou.id)
    as_site(session, engine, cw.hou)
    posted = post_receipt(session, cw.actors["hugo"], hou_er.id, [ReceiveLine(cw.items["WIDGET"].id, 10, reason="short")])
    session.commit()
    follow = receipt_at(session, po, cw.wh_hou.id)  # the received one is no longer open; the follow-up is
    assert follow.id != hou_er.id and follow.number.startswith("HOU-ER-") and follow.owner_branch_id == cw.hou.id
    assert (follow.warehouse_id, follow.status, follow.source) == (cw.wh_hou.id, "expected", "po")
    assert lines_of(session, follow) == {"WIDGET": (14, 0)}
    assert f"14 unit(s) still owed: expected on {follow.number}" in posted.notes
    # the rest comes, short again: a second follow-up for what is still owed
    post_receipt(session, cw.actors["hugo"], follow.id, [ReceiveLine(cw.items["WIDGET"].id, 9)])
    session.commit()
    second = receipt_at(session, po, cw.wh_hou.id)
    assert lines_of(session, second) == {"WIDGET": (5, 0)}
    # the last 5 arrive: nothing more is owed, no follow-up
    done = post_receipt(session, cw.actors["hugo"], second.id, [ReceiveLine(cw.items["WIDGET"].id, 5)])
    session.commit()
    assert not any("still owed" in n for n in done.notes)
    assert session.scalar(select(func.count()).select_from(ExpectedReceipt).where(
        ExpectedReceipt.po_id == po.id, ExpectedReceipt.warehouse_id == cw.wh_hou.id)) == 3
    as_site(session, engine, cw.dal)
    settle_all(session)
    session.commit()
    assert po_lines(session, po)["WIDGET"] == (24, "received")


def test_no_follow_up_when_the_po_is_closed_or_the_rest_is_expected_elsewhere(session: Session, cw: World) -> None:
    po = consolidated_po(session, cw)
    dal_er = receipt_at(session, po, cw.wh_dal.id)
    # an ASN already announces the missing 40: no second expectation for them
    session.add(ExpectedReceipt(number="DAL-ASN-X", source="asn", po_id=po.id, supplier_id=cw.supplier.id,
                                warehouse_id=cw.wh_dal.id, owner_branch_id=cw.dal.id))
    session.flush()
    asn = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.number == "DAL-ASN-X")).one()
    bolt_line = next(pl for pl in purchasing.lines_of(session, po.id) if pl.item_id == cw.items["BOLT"].id)
    session.add(ExpectedReceiptLine(receipt_id=asn.id, po_line_id=bolt_line.id, item_id=bolt_line.item_id,
                                    qty_expected=40, owner_branch_id=cw.dal.id))
    dal_er.status = "arrived"
    session.commit()
    posted = post_receipt(session, cw.actors["rita"], dal_er.id, [ReceiveLine(cw.items["BOLT"].id, 60)])
    session.commit()
    assert not any("still owed" in n for n in posted.notes)
    assert po_lines(session, po)["BOLT"] == (60, "partially_received")
    # a closed PO owes nothing: its short receipt leaves no follow-up
    po2 = consolidated_po(session, cw)
    er2 = receipt_at(session, po2, cw.wh_dal.id)
    post_receipt(session, cw.actors["rita"], er2.id, [ReceiveLine(cw.items["BOLT"].id, 50, reason="short")])
    session.commit()
    follow = receipt_at(session, po2, cw.wh_dal.id)
    assert lines_of(session, follow) == {"BOLT": (50, 0)}
    purchasing.close(session, cw.actors["alice"], po2.id, "supplier discontinued")
    session.commit()
    assert session.get(ExpectedReceipt, follow.id).status == "cancelled"  # type: ignore[union-attr]


# ------------------------------------------------------------------------ ASN for both warehouses


def sscc(n: int) -> str:
    body = f"03541073{n:09d}"
    return body + str(gs1_check_digit(body))


def desadv(po: str, cartons: list[tuple[int, str, int, str, str, str]], *, ref: str = "ASN-7", icn: str = "7001") -> bytes:
    """cartons: (PO line no, SKU, qty, SSCC, lot, expiry YYYYMMDD)."""
    segs = ["UNH+1+DESADV:D:96A:UN:EAN005", f"BGM+351+{ref}+9", "DTM+137:20261126:102", "DTM+17:20261128:102",
            f"RFF+ON:{po}", "RFF+CN:PRO4711", "TDT+20++30+31+ODFL", "CPS+1"]
    for n, (line_no, sku, qty, code, lot, exp) in enumerate(cartons, 2):
        segs += [f"CPS+{n}+1", "PAC+1++201", f"GIN+BJ+{code}", f"LIN+{line_no}", f"PIA+5+{sku}:BP", f"QTY+12:{qty}"]
        if lot:
            segs += [f"GIN+BX+{lot}", f"DTM+361:{exp}:102"]
    segs.append(f"UNT+{len(segs) + 1}+1")
    text = f"UNA:+.? '\nUNB+UNOA:2+ACMEEDI:ZZ+DEPOTDAL:ZZ+261126:1200+{icn}'\n" + "'\n".join(segs) + f"'\nUNZ+1+{icn}'\n"
    return text.encode()


def test_an_asn_for_both_warehouses_is_expected_where_each_line_ships(session: Session, engine: Engine, cw: World) -> None:
    po = consolidated_po(session, cw, milk=30)
    data = desadv(po.number, [(1, "BOLT", 100, sscc(1), "", ""), (2, "WIDGET", 24, sscc(2), "", ""),
                              (3, "MILK", 30, sscc(3), "L7", "20270115")])
    as_site(session, engine, cw.dal)
    res = import_bytes(session, cw.actors["alice"], data, "desadv.edi")
    session.commit()
    (m,) = res.messages
    assert m.expected_receipt.startswith("DAL-ASN-") and "HOU1: expected when HOU next syncs" in m.expected_receipt
    dal_asn = receipt_at(session, po, cw.wh_dal.id, "asn")
    assert dal_asn.owner_branch_id == cw.dal.id and lines_of(session, dal_asn) == {"BOLT": (100, 0)}
    assert (dal_asn.carrier, dal_asn.pro_number, dal_asn.asn_ref) == ("ODFL", "PRO4711", "ASN-7")
    # Dallas's PO receipt is fully announced: cancelled; Houston's is not Dallas's to touch
    assert session.scalars(select(ExpectedReceipt.status).where(
        ExpectedReceipt.po_id == po.id, ExpectedReceipt.warehouse_id == cw.wh_dal.id,
        ExpectedReceipt.source == "po")).all() == ["cancelled"]
    assert session.scalar(select(func.count()).select_from(SupplierMessageLine)) == 3
    hou_po_er = receipt_at(session, po, cw.wh_hou.id)
    assert lines_of(session, hou_po_er) == {"WIDGET": (24, 0), "MILK": (30, 0)}
    # Houston's settler makes its own ASN receipt from the message lines (and the hand-off), once
    as_site(session, engine, cw.hou)
    assert settle_all(session)[0].get("receiving.asn_receipts") == 1
    session.commit()
    assert settle_ship_notices(session) == 0
    hou_asn = receipt_at(session, po, cw.wh_hou.id, "asn")
    assert hou_asn.owner_branch_id == cw.hou.id and hou_asn.number.startswith("HOU-ASN-")
    # the same id on any Houston workstation that settles this message: never two receipts
    assert (hou_asn.id, dal_asn.id) == (asn_receipt_id(m.message_id, cw.wh_hou.id), asn_receipt_id(m.message_id, cw.wh_dal.id))
    assert lines_of(session, hou_asn) == {"WIDGET": (24, 0), "MILK": (30, 0)}
    assert (hou_asn.carrier, hou_asn.pro_number, hou_asn.asn_ref) == ("ODFL", "PRO4711", "ASN-7")
    assert hou_asn.expected_at == dt.datetime(2026, 11, 28, tzinfo=dt.UTC)
    milk = session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == hou_asn.id,
                                                             ExpectedReceiptLine.item_id == cw.items["MILK"].id)).one()
    assert (milk.sscc, milk.lot_code, milk.expiry_date) == (sscc(3), "L7", dt.date(2027, 1, 15))
    # goods are not expected twice: Houston's PO receipt was cancelled by its own settler
    assert session.scalar(select(ExpectedReceipt.status).where(ExpectedReceipt.id == hou_po_er.id)) == "cancelled"
    # and no line is expected in the wrong warehouse
    wrong = session.scalar(select(func.count()).select_from(ExpectedReceiptLine)
                           .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
                           .join(PurchaseOrderLine, PurchaseOrderLine.id == ExpectedReceiptLine.po_line_id)
                           .where(ExpectedReceipt.po_id == po.id,
                                  ExpectedReceipt.warehouse_id != PurchaseOrderLine.ship_to_warehouse_id))
    assert wrong == 0


def test_the_asn_waits_for_the_branchs_own_po_receipt(session: Session, engine: Engine, cw: World) -> None:
    """Until Houston's PO receipt exists its ASN receipt waits, so the take-off happens exactly once."""
    po = consolidated_po(session, cw)
    hou_po_er = receipt_at(session, po, cw.wh_hou.id)
    hou_po_er.status = "cancelled"  # as if not made yet: hide it
    hou_po_er.source = "xfer"
    as_site(session, engine, cw.dal)
    import_bytes(session, cw.actors["alice"], desadv(po.number, [(2, "WIDGET", 24, sscc(5), "", "")]), "a.edi")
    session.commit()
    as_site(session, engine, cw.hou)
    assert settle_ship_notices(session) == 0
    h = session.get(ExpectedReceipt, hou_po_er.id)
    assert h is not None
    h.status, h.source = "expected", "po"
    session.commit()
    assert settle_ship_notices(session) == 1
    session.commit()
    assert lines_of(session, receipt_at(session, po, cw.wh_hou.id, "asn")) == {"WIDGET": (24, 0)}


def test_a_standalone_file_makes_every_asn_receipt_at_import_and_another_branch_cannot_import(
        session: Session, engine: Engine, cw: World) -> None:
    po = consolidated_po(session, cw)
    res = import_bytes(session, cw.actors["alice"], desadv(po.number, [(1, "BOLT", 100, sscc(8), "", ""),
                                                                        (2, "WIDGET", 24, sscc(9), "", "")]), "s.edi")
    session.commit()
    numbers = res.messages[0].expected_receipt.split("; ")
    assert [n.split("-")[0] for n in numbers] == ["DAL", "HOU"]
    assert lines_of(session, receipt_at(session, po, cw.wh_hou.id, "asn")) == {"WIDGET": (24, 0)}
    assert not session.scalars(select(AuditEntry).where(AuditEntry.action == "asn.handoff")).all()
    po2 = consolidated_po(session, cw)
    as_site(session, engine, cw.hou)
    with pytest.raises(EdiImportError, match=f"purchase order {po2.number} belongs to another branch"):
        import_bytes(session, cw.actors["hugo"], desadv(po2.number, [(2, "WIDGET", 24, sscc(10), "", "")], icn="7002"),
                     "h.edi")
    session.rollback()
    detail = [json.loads(d) for d in session.scalars(select(AuditEntry.detail).where(AuditEntry.action == "edi.import"))]
    assert len(detail) == 1


def test_a_unit_registered_by_another_branch_is_received_back_only_there(session: Session, engine: Engine,
                                                                         cw: World) -> None:
    """The serial registry row of a unit Dallas once had (now shipped) is Dallas's: Houston is told so."""
    from app.models.receiving import SerialNumber

    po = purchasing.create_po(session, cw.actors["alice"], "ACME", "DAL1", [
        LineInput(sku="DRILL", qty=2, ship_to_warehouse_id=cw.wh_hou.id)])
    purchasing.submit(session, cw.actors["alice"], po.id)
    purchasing.set_status(session, cw.actors["alice"], po, "sent")
    session.add(SerialNumber(item_id=cw.items["DRILL"].id, serial="SN-OLD", status="shipped", owner_branch_id=cw.dal.id))
    hou_er = receipt_at(session, po, cw.wh_hou.id)
    as_site(session, engine, cw.hou)
    drill = cw.items["DRILL"].id
    with pytest.raises(ValidationError, match="serial SN-OLD of DRILL is registered by DAL: it can be received back "
                                              "only on a DAL workstation"):
        post_receipt(session, cw.actors["hugo"], hou_er.id, [ReceiveLine(drill, 2, serials=("SN-OLD", "SN-NEW"))])
    session.rollback()
    posted = post_receipt(session, cw.actors["hugo"], hou_er.id, [ReceiveLine(drill, 2, serials=("SN-A", "SN-B"))])
    session.commit()
    assert posted.units == 2
    assert {(s.serial, s.owner_branch_id == cw.hou.id) for s in session.scalars(
        select(SerialNumber).where(SerialNumber.receipt_id == posted.receipt_id))} == {("SN-A", True), ("SN-B", True)}
