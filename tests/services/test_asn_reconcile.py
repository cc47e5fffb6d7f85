"""A ship notice takes what it announces off the PO's own expected receipts (no double listing).

Real flow: a PO is created and approved through ``purchasing`` (which creates the PO-sourced
expected receipt), marked sent, and a DESADV built here is imported through ``import_bytes``.
"""

from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.models.exceptions import ExceptionItem
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder
from app.services.buying import purchasing
from app.services.buying.purchasing import LineInput
from app.services.edi.inbound import ImportResult, import_bytes
from app.services.errors import ValidationError
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.receiving.queries import find_expected, list_expected
from app.services.receiving.scan import gs1_check_digit
from app.services.receiving.session import ReceivingSession, load_context
from tests.factories import World


@pytest.fixture
def bw(bw: World, session: Session) -> World:
    """The buying world (tests/conftest.py) whose supplier is an EDI partner."""
    bw.supplier.edi_id, bw.supplier.edi_qualifier, bw.supplier.edi_format = "ACMEEDI", "ZZ", "edifact"
    session.commit()
    return bw


def sscc(n: int) -> str:
    body = f"03541073{n:09d}"
    return body + str(gs1_check_digit(body))


def desadv(po: str, cartons: list[tuple[int, str, int, str]], *, ref: str = "ASN-1", icn: str = "5601") -> bytes:
    """A DESADV for ``po``; cartons: (PO line no, SKU, quantity, SSCC)."""
    segs = ["UNH+1+DESADV:D:96A:UN:EAN005", f"BGM+351+{ref}+9", "DTM+137:20261126:102", "DTM+17:20261128:102",
            f"RFF+ON:{po}", "CPS+1"]
    for n, (line_no, sku, qty, code) in enumerate(cartons, 2):
        segs += [f"CPS+{n}+1", "PAC+1++201", f"GIN+BJ+{code}", f"LIN+{line_no}", f"PIA+5+{sku}:BP", f"QTY+12:{qty}"]
    segs.append(f"UNT+{len(segs) + 1}+1")
    text = f"UNA:+.? '\nUNB+UNOA:2+ACMEEDI:ZZ+DEPOTDAL:ZZ+261126:1200+{icn}'\n" + "'\n".join(segs) + f"'\nUNZ+1+{icn}'\n"
    return text.encode()


def approved_sent_po(session: Session, w: World, lines: list[LineInput]) -> PurchaseOrder:
    po = purchasing.create_po(session, w.actors["alice"], "ACME", "DAL1", lines)
    purchasing.submit(session, w.actors["alice"], po.id)
    assert po.status == "approved"
    purchasing.set_status(session, w.actors["alice"], po, "sent")
    session.commit()
    return po


def receipts(session: Session, po: PurchaseOrder, source: str) -> list[ExpectedReceipt]:
    return list(session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id, ExpectedReceipt.source == source)
                                .order_by(ExpectedReceipt.number)))


def open_lines(session: Session, er: ExpectedReceipt) -> dict[str, tuple[int, int]]:
    """SKU -> (qty_expected, qty_received) of the rows that are still on the receipt."""
    from app.models.catalog import Item

    rows = session.execute(select(Item.sku, ExpectedReceiptLine.qty_expected, ExpectedReceiptLine.qty_received)
                           .join(Item, Item.id == ExpectedReceiptLine.item_id)
                           .where(ExpectedReceiptLine.receipt_id == er.id, ExpectedReceiptLine.deleted_at.is_(None)))
    return {sku: (int(q), int(r)) for sku, q, r in rows}


def audits(session: Session, action: str) -> list[dict[str, object]]:
    return [json.loads(d) for d in session.scalars(select(AuditEntry.detail).where(AuditEntry.action == action)
                                                   .order_by(AuditEntry.created_at))]


def do_import(session: Session, w: World, data: bytes) -> ImportResult:
    res = import_bytes(session, w.actors["alice"], data, "desadv.edi")
    session.commit()
    return res


def listed(session: Session, w: World) -> list[tuple[str, str, int, int]]:
    """What the Receiving screen lists for DAL1: (source, status, lines, units)."""
    return sorted((r.source, r.status, r.lines, r.units) for r in list_expected(session, warehouse_id=w.wh_dal.id))


def test_approval_makes_one_po_receipt_and_a_partial_asn_reduces_it(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    assert po_er.status == "expected" and open_lines(session, po_er) == {"BOLT": (100, 0), "WIDGET": (24, 0)}
    assert listed(session, bw) == [("po", "expected", 2, 124)]

    res = do_import(session, bw, desadv(po.number, [(1, "BOLT", 40, sscc(1)), (1, "BOLT", 20, sscc(2))]))
    assert res.messages[0].differences == []
    (asn_er,) = receipts(session, po, "asn")
    assert res.messages[0].expected_receipt == asn_er.number
    # the ASN receipt holds the cartons ...
    cartons = session.execute(select(ExpectedReceiptLine.sscc, ExpectedReceiptLine.qty_expected)
                              .where(ExpectedReceiptLine.receipt_id == asn_er.id).order_by(ExpectedReceiptLine.sscc)).all()
    assert [tuple(c) for c in cartons] == [(sscc(1), 40), (sscc(2), 20)]
    # ... and the PO receipt keeps only the rest
    assert po_er.status == "expected" and open_lines(session, po_er) == {"BOLT": (40, 0), "WIDGET": (24, 0)}
    (entry,) = audits(session, "expected_receipt.reduce")
    assert (entry["number"], entry["asn"], entry["asn_receipt"], entry["taken"]) == (po_er.number, "ASN-1", asn_er.number, 60)
    assert entry["lines"] == [{"po_line_id": str(purchasing.lines_of(session, po.id)[0].id), "from": 100, "to": 40}]
    # Receiving lists each unit once: 40 + 24 still on the PO receipt, 60 in cartons
    assert listed(session, bw) == [("asn", "expected", 2, 60), ("po", "expected", 2, 64)]
    # and a receiver scanning the PO receipt may take only the rest of the bolts
    ctx = load_context(session, po_er.id)
    assert sorted((ln.qty_expected, ln.qty_received) for ln in ctx.lines) == [(24, 0), (40, 0)]
    with pytest.raises(ValidationError, match="above the expected 40"):
        post_receipt(session, bw.actors["rita"], po_er.id, [ReceiveLine(bw.items["BOLT"].id, 41)])
    session.rollback()


def test_asn_for_everything_cancels_the_po_receipt(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    do_import(session, bw, desadv(po.number, [(1, "BOLT", 100, sscc(1)), (2, "WIDGET", 24, sscc(2))]))
    (asn_er,) = receipts(session, po, "asn")
    assert po_er.status == "cancelled"
    assert open_lines(session, po_er) == {"BOLT": (100, 0), "WIDGET": (24, 0)}  # a cancelled document keeps its rows
    (entry,) = audits(session, "expected_receipt.cancel")
    assert (entry["number"], entry["reason"], entry["asn"], entry["taken"]) == (po_er.number, "asn", "ASN-1", 124)
    assert listed(session, bw) == [("asn", "expected", 2, 124)]
    assert find_expected(session, po.number).id == asn_er.id  # the PO number now opens the ASN
    # the ASN receipt is received by scanning its cartons
    rs = ReceivingSession(load_context(session, asn_er.id))
    assert rs.scan(sscc(1)).ok and rs.scan(sscc(2)).ok
    post_receipt(session, bw.actors["rita"], asn_er.id, rs.post_lines())
    session.commit()
    assert (asn_er.status, po.status) == ("received", "received")
    assert listed(session, bw) == []


def test_asn_covering_one_line_drops_that_row_and_a_second_asn_cancels_the_rest(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    do_import(session, bw, desadv(po.number, [(2, "WIDGET", 24, sscc(1))]))
    assert po_er.status == "expected" and open_lines(session, po_er) == {"BOLT": (100, 0)}
    dropped = session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == po_er.id,
                                                                ExpectedReceiptLine.deleted_at.is_not(None))).one()
    assert dropped.qty_expected == 24  # a tombstone, as replication wants, not a hard delete
    assert [ln.item_id for ln in load_context(session, po_er.id).lines] == [bw.items["BOLT"].id]
    with pytest.raises(ValidationError, match="WIDGET is not on"):
        post_receipt(session, bw.actors["rita"], po_er.id, [ReceiveLine(bw.items["WIDGET"].id, 24)])
    session.rollback()

    # the second shipment (a new ASN, new control numbers) covers the rest: the PO receipt is cancelled
    do_import(session, bw, desadv(po.number, [(1, "BOLT", 100, sscc(2))], ref="ASN-2", icn="5602"))
    assert po_er.status == "cancelled"
    assert [e["taken"] for e in audits(session, "expected_receipt.reduce")] == [24]
    assert [e["asn"] for e in audits(session, "expected_receipt.cancel")] == ["ASN-2"]
    assert sorted(r.status for r in receipts(session, po, "asn")) == ["expected", "expected"]
    assert [r.number for r in list_expected(session, warehouse_id=bw.wh_dal.id)] == [r.number for r in receipts(session, po, "asn")]


def test_received_part_is_untouched(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    # a partial receipt against the PO receipt (the rest comes later, announced by an ASN)
    post_receipt(session, bw.actors["rita"], po_er.id, [ReceiveLine(bw.items["BOLT"].id, 40)])
    session.commit()
    assert (po_er.status, po.status) == ("received", "partially_received")
    before = open_lines(session, po_er)
    assert before == {"BOLT": (100, 40), "WIDGET": (24, 0)}
    # the short receipt left the rest expected on a follow-up receipt; the ASN now announces exactly that
    (_po_er, follow) = receipts(session, po, "po")
    assert open_lines(session, follow) == {"BOLT": (60, 0), "WIDGET": (24, 0)}
    do_import(session, bw, desadv(po.number, [(1, "BOLT", 60, sscc(1)), (2, "WIDGET", 24, sscc(2))]))
    assert po_er.status == "received" and open_lines(session, po_er) == before
    # the received receipt is never touched; the follow-up is cancelled (the ASN covers all of it)
    assert audits(session, "expected_receipt.reduce") == []
    assert [a["number"] for a in audits(session, "expected_receipt.cancel")] == [follow.number]
    assert follow.status == "cancelled"
    assert listed(session, bw) == [("asn", "expected", 2, 84)]


def test_a_row_never_drops_below_what_was_received(session: Session, bw: World) -> None:
    """Goods partly received when an ASN announcing more than is still open comes: only what is
    open is taken (the received receipt keeps its figures; the follow-up for the rest is covered)."""
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    post_receipt(session, bw.actors["rita"], po_er.id, [ReceiveLine(bw.items["BOLT"].id, 40)], shortages=[
        bw.items["BOLT"].id, bw.items["WIDGET"].id])
    session.commit()
    assert purchasing.lines_of(session, po.id)[0].qty_received == 40  # rolled up at once
    (_po_er, follow) = receipts(session, po, "po")
    res = do_import(session, bw, desadv(po.number, [(1, "BOLT", 70, sscc(1)), (2, "WIDGET", 24, sscc(2))]))
    # 70 announced, 60 open: 60 taken (the 10 over are the supplier's problem: an exception for the buyer)
    assert res.messages[0].differences == ["line 1 BOLT: 70 shipped but only 60 open on the PO"]
    assert po_er.status == "received" and open_lines(session, po_er) == {"BOLT": (100, 40), "WIDGET": (24, 0)}
    assert follow.status == "cancelled"  # goods were received on po_er: only the rest owed is taken off
    (entry,) = audits(session, "expected_receipt.cancel")
    assert entry["number"] == follow.number and entry["taken"] == 84
    assert audits(session, "expected_receipt.reduce") == []


def test_reimporting_the_same_asn_changes_nothing(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    (po_er,) = receipts(session, po, "po")
    data = desadv(po.number, [(1, "BOLT", 60, sscc(1))])
    do_import(session, bw, data)

    def state() -> tuple[object, ...]:
        return (po_er.status, open_lines(session, po_er), listed(session, bw),
                session.scalar(select(func.count()).select_from(ExpectedReceipt)),
                session.scalar(select(func.count()).select_from(ExpectedReceiptLine)),
                session.scalar(select(func.count()).select_from(AuditEntry)),
                session.scalar(select(func.count()).select_from(ExceptionItem)))

    first = state()
    assert first[1] == {"BOLT": (40, 0), "WIDGET": (24, 0)}
    again = do_import(session, bw, data)
    assert again.duplicate and state() == first


def test_only_the_asn_warehouse_is_reduced(session: Session, bw: World) -> None:
    """A consolidated PO: the ASN (for the PO's warehouse) leaves the other branch's receipt alone."""
    bw.supplier.allows_consolidation = True
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100),
                                        LineInput(sku="BOLT", qty=30, ship_to_warehouse_id=bw.wh_hou.id)])
    dal, hou = (next(r for r in receipts(session, po, "po") if r.warehouse_id == wh.id) for wh in (bw.wh_dal, bw.wh_hou))
    do_import(session, bw, desadv(po.number, [(1, "BOLT", 100, sscc(1))]))
    assert (dal.status, hou.status) == ("cancelled", "expected")
    assert open_lines(session, hou) == {"BOLT": (30, 0)}


def test_nothing_is_written_when_the_asn_is_refused(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100)])
    (po_er,) = receipts(session, po, "po")
    from app.services.edi.inbound import EdiImportError

    with pytest.raises(EdiImportError, match="unknown item"):
        import_bytes(session, bw.actors["alice"], desadv(po.number, [(1, "NOSUCH", 100, sscc(1))]), "bad.edi")
    assert not session.new and not session.dirty
    assert po_er.status == "expected" and open_lines(session, po_er) == {"BOLT": (100, 0)}


def test_the_list_counts_only_rows_still_on_the_receipt(session: Session, bw: World) -> None:
    po = approved_sent_po(session, bw, [LineInput(sku="BOLT", qty=100), LineInput(sku="WIDGET", qty=24)])
    do_import(session, bw, desadv(po.number, [(2, "WIDGET", 24, sscc(1))]))
    assert listed(session, bw) == [("asn", "expected", 1, 24), ("po", "expected", 1, 100)]
