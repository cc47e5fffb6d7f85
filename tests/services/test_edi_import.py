"""Importing supplier confirmations and ship notices against real POs in a real database."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.exceptions import ExceptionItem
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.services import masterdata as md
from app.services.edi.inbound import EdiImportError, import_bytes, import_file
from tests.factories import World

FIXTURES = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "edi"
pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason=f"shared EDI fixtures not found at {FIXTURES}")


def fixture(rel: str) -> bytes:
    return (FIXTURES / rel).read_bytes()


def make_po(session: Session, w: World, number: str, lines: list[tuple[int, Item, int, str]], *,
            supplier: Supplier | None = None, status: str = "sent", expected: dt.date | None = None) -> PurchaseOrder:
    """A PO as PO sending leaves it (lines: line no, item, qty, unit price)."""
    po = PurchaseOrder(number=number, supplier_id=(supplier or w.supplier).id, warehouse_id=w.wh_dal.id,
                       status=status, order_date=dt.date(2026, 11, 1), expected_date=expected,
                       owner_branch_id=w.dal.id)
    session.add(po)
    session.flush()
    for no, item, qty, price in lines:
        session.add(PurchaseOrderLine(po_id=po.id, line_no=no, item_id=item.id, ship_to_warehouse_id=w.wh_dal.id,
                                      qty_ordered=qty, unit_price=Decimal(price), expected_date=expected,
                                      owner_branch_id=w.dal.id))
    session.flush()
    return po


def set_edi(w: World, edi_id: str, qualifier: str = "ZZ") -> None:
    w.supplier.edi_id, w.supplier.edi_qualifier, w.supplier.edi_format = edi_id, qualifier, "x12"


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def open_exceptions(session: Session, po: PurchaseOrder) -> list[ExceptionItem]:
    return list(session.scalars(select(ExceptionItem).where(ExceptionItem.entity_id == po.id).order_by(ExceptionItem.kind)))


def test_855_fixture_confirms_the_po_and_a_second_import_changes_nothing(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 1, "369")])
    res = import_bytes(session, world.actors["alice"], fixture("x12/855_4010_adobe.txt"), "855.txt")
    session.commit()
    assert not res.duplicate and [m.status for m in res.messages] == ["processed"]
    assert session.get(PurchaseOrder, po.id).status == "confirmed"  # type: ignore[union-attr]
    (line,) = session.scalars(select(SupplierMessageLine)).all()
    assert (line.line_status, line.qty_ordered, line.qty_confirmed, line.price_confirmed) == ("accepted", 1, 1, Decimal("369"))
    assert open_exceptions(session, po) == []
    again = import_bytes(session, world.actors["alice"], fixture("x12/855_4010_adobe.txt"), "855-resent.txt")
    session.commit()
    assert again.duplicate and "imported before" in again.summary()
    assert count(session, SupplierMessage) == 1 and count(session, SupplierMessageLine) == 1


def test_855_differences_become_buyer_exceptions_and_are_stored_on_the_line(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 2, "350")], expected=dt.date(2009, 6, 20))
    text = fixture("x12/855_4010_adobe.txt").decode()
    # the supplier confirms 1 (not 2) at 369 (not 350), shipping on 2009-06-25, and says so in an ACK
    text = text.replace("PID*F****APRO", "ACK*IQ*1*EA*068*20090625\r\n        PID*F****APRO").replace("SE*43*", "SE*44*")
    res = import_bytes(session, world.actors["alice"], text.encode(), "855-changed.txt")
    session.commit()
    assert res.messages[0].status == "differences"
    assert res.messages[0].differences == [
        "line 10 T05249: quantity changed 2 -> 1",
        "line 10 T05249: price changed 350.0000 -> 369.0000",
        "line 10 T05249: date moved 2009-06-20 -> 2009-06-25",
    ]
    line = session.scalars(select(SupplierMessageLine)).one()
    assert line.line_status == "changed" and "quantity changed 2 -> 1" in line.difference
    exc = open_exceptions(session, po)
    assert [(e.kind, e.role, e.status) for e in exc] == [
        ("edi.date_moved", "buyer", "open"), ("edi.price_changed", "buyer", "open"), ("edi.qty_changed", "buyer", "open")]
    pol = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po.id)).one()
    assert pol.expected_date == dt.date(2009, 6, 25)


def test_rejected_line(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 1, "369")])
    text = fixture("x12/855_4010_adobe.txt").decode().replace("BAK*00*AD*", "BAK*00*RD*")
    text = text.replace("PID*F****APRO", "ACK*IR*1*EA\r\n        PID*F****APRO").replace("SE*43*", "SE*44*")
    res = import_bytes(session, world.actors["alice"], text.encode(), "855-rejected.txt")
    assert res.messages[0].differences == ["line 10 T05249: rejected by the supplier"]
    assert session.scalars(select(SupplierMessageLine.line_status)).one() == "rejected"
    assert [e.kind for e in open_exceptions(session, po)] == ["edi.line_rejected"]
    assert po.status == "sent"  # a rejection does not confirm the PO


ORDRSP = (
    "UNA:+.? '\n"
    "UNB+UNOA:2+ACMEEDI:ZZ+DEPOTDAL:ZZ+261126:1200+5501'\n"
    "UNH+1+ORDRSP:D:96A:UN:EAN005'\nBGM+231+AC-778+4'\nDTM+137:20261126:102'\nRFF+ON:{po}'\n"
    "LIN+1+5+00012345678905:EN'\nQTY+21:24'\nPRI+AAA:1.25'\nDTM+2:20261210:102'\n"
    "LIN+2+3'\nPIA+5+BOLT:BP'\nQTY+113:80'\nPRI+AAA:0.11'\nDTM+2:20261215:102'\n"
    "LIN+3+7'\nPIA+5+MILK:BP'\nQTY+21:0'\n"
    "UNS+S'\nUNT+18+1'\nUNZ+1+5501'\n"
)


def test_ordrsp_accepted_changed_and_rejected_lines(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000101", [(1, world.items["WIDGET"], 24, "1.25"),
                                                  (2, world.items["BOLT"], 100, "0.10"),
                                                  (3, world.items["MILK"], 50, "0.80")], expected=dt.date(2026, 12, 10))
    res = import_bytes(session, world.actors["alice"], ORDRSP.format(po=po.number).encode(), "ordrsp.edi")
    assert res.messages[0].differences == [
        "line 2 BOLT: quantity changed 100 -> 80",
        "line 2 BOLT: price changed 0.1000 -> 0.1100",
        "line 2 BOLT: date moved 2026-12-10 -> 2026-12-15",
        "line 3 MILK: rejected by the supplier",
    ]
    statuses = session.execute(select(SupplierMessageLine.line_no, SupplierMessageLine.line_status)
                               .order_by(SupplierMessageLine.line_no)).all()
    assert [tuple(r) for r in statuses] == [(1, "accepted"), (2, "changed"), (3, "rejected")]
    assert po.status == "confirmed" and po.expected_date == dt.date(2026, 12, 15)
    assert len(open_exceptions(session, po)) == 4


def _asn4(number: str) -> bytes:
    return fixture("x12/856_4010_example4.txt").replace(b"PRF*PO NUMBER~", f"PRF*{number}~".encode())


def test_856_becomes_an_expected_receipt_receiving_can_scan(session: Session, world: World) -> None:
    set_edi(world, "787347434", "01")
    skus = ["100014544", "100014545", "100019109", "100019110", "100019111", "100019112", "100014546"]
    items = [md.create_item(session, s, f"Item {s}") for s in skus]
    ordered = [10, 5, 10, 20, 5, 3, 10]  # the ASN ships 12 of the last one
    po = make_po(session, world, "DAL-PO-000777", [(n + 1, it, q, "2.00") for n, (it, q) in enumerate(zip(items, ordered, strict=True))])
    res = import_file_via_tmp(session, world, _asn4(po.number))
    er = session.scalars(select(ExpectedReceipt)).one()
    assert (er.source, er.po_id, er.asn_ref, er.carrier, er.pro_number) == ("asn", po.id, "DELIVERYNUMBER", "CHR", "620940")
    assert er.expected_at == dt.datetime(2011, 9, 13, tzinfo=dt.UTC) and er.warehouse_id == world.wh_dal.id
    assert er.number.startswith("DAL-ASN-") and res.messages[0].expected_receipt == er.number
    lines = session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == er.id)).all()
    assert sorted(ln.qty_expected for ln in lines) == sorted([10, 5, 10, 20, 5, 3, 12])
    assert all(ln.po_line_id is not None for ln in lines)
    assert res.messages[0].differences == ["line 7 100014546: 12 shipped but only 10 open on the PO"]
    assert [e.kind for e in open_exceptions(session, po)] == ["edi.qty_over"]


def import_file_via_tmp(session: Session, world: World, data: bytes, name: str = "asn.x12"):  # type: ignore[no-untyped-def]
    path = Path(session.get_bind().url.database or ".").parent / name  # type: ignore[union-attr]
    path.write_bytes(data)
    return import_file(session, world.actors["alice"], path)


def _desadv_world(session: Session, world: World) -> PurchaseOrder:
    world.supplier.edi_id = "SENDER1"
    gtins = ["5410738000152", "5410738000169", "5410738000176", "5410738000183"]
    items = [md.create_item(session, f"G{g[-4:]}", f"GTIN {g}", gtin=g) for g in gtins]
    return make_po(session, world, "12332", [(n + 1, it, 20, "3.00") for n, it in enumerate(items)])


def test_real_desadv_is_refused_for_its_wrong_unz_count_and_a_fixed_copy_imports(session: Session, world: World) -> None:
    po = _desadv_world(session, world)
    data = fixture("edifact/desadv_d01b_ean007_emagiz.edi")
    with pytest.raises(EdiImportError, match="UNZ01 says 2 messages but the interchange holds 1"):
        import_bytes(session, world.actors["alice"], data, "desadv.edi")
    assert count(session, SupplierMessage) == 0 and count(session, ExpectedReceipt) == 0
    res = import_bytes(session, world.actors["alice"], data.replace(b"UNZ+2+131", b"UNZ+1+131"), "desadv.edi")
    er = session.scalars(select(ExpectedReceipt)).one()
    assert (er.po_id, er.asn_ref, er.expected_at) == (po.id, "DES587441", dt.datetime(2002, 4, 3, tzinfo=dt.UTC))
    got = session.execute(select(ExpectedReceiptLine.qty_expected, ExpectedReceiptLine.sscc)
                          .order_by(ExpectedReceiptLine.qty_expected)).all()
    assert [tuple(r) for r in got] == [(3, "354107380000001068"), (5, "354107380000001068"),
                                       (12, "354107380000001068"), (20, "354107380000001051")]
    assert res.messages[0].differences == []


BAD_855 = [
    (lambda b: b.replace(b"BAK*00*AD*0132710645", b"BAK*00*AD*9999999999"), "unknown purchase order 9999999999"),
    (lambda b: b.replace(b"BP*T05249", b"BP*NOSUCH"), "unknown item MG:00065008880AD01A00, BP:NOSUCH"),
    (lambda b: b.replace(b"102096559PROD  *01", b"OTHERSENDER    *01"), "sender 'OTHERSENDER' is not the EDI id"),
    (lambda b: b.replace(b"SE*43*852281220", b"SE*42*852281220"), "SE01 says 42 segments but transaction 855 852281220 has 43"),
    (lambda b: b[: b.index(b"CTT")], "truncated X12 file: transaction 855 852281220 has no SE"),
    (lambda b: b.replace(b"PO1*000010*1*EA", b"PO1*000010*1.5*EA"), "quantity '1.5' is not a whole number"),
    (lambda b: b.replace(b"PO1*000010*1*EA*369", b"PO1*000010*1*EA*-369"), "price '-369' is negative"),
]


def test_bad_files_are_refused_and_nothing_is_written(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 1, "369")])
    session.commit()
    for mutate, message in BAD_855:
        with pytest.raises(EdiImportError) as info:
            import_bytes(session, world.actors["alice"], mutate(fixture("x12/855_4010_adobe.txt")), "bad.txt")
        assert message in str(info.value)
        # checked before writing: not even pending rows in the session
        assert not session.new and not session.dirty
        assert count(session, SupplierMessage) == 0 and count(session, ExceptionItem) == 0
        assert po.status == "sent"


def test_wrong_partner_is_refused(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    other = md.create_supplier(session, "OTHER", "Other Supply Co")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    make_po(session, world, "0132710645", [(10, item, 1, "369")], supplier=other)
    with pytest.raises(EdiImportError, match="0132710645 is not for supplier ACME.*wrong partner"):
        import_bytes(session, world.actors["alice"], fixture("x12/855_4010_adobe.txt"), "855.txt")


def test_po_not_sent_is_refused(session: Session, world: World) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    make_po(session, world, "0132710645", [(10, item, 1, "369")], status="draft")
    with pytest.raises(EdiImportError, match="is draft"):
        import_bytes(session, world.actors["alice"], fixture("x12/855_4010_adobe.txt"), "855.txt")


def test_extra_line_is_an_exception_not_an_error(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000102", [(1, world.items["WIDGET"], 24, "1.25")])
    text = ORDRSP.format(po=po.number)
    res = import_bytes(session, world.actors["alice"], text.encode(), "o.edi")
    diffs = res.messages[0].differences
    assert "extra line: BOLT x 80 is not on the PO" in diffs and "extra line: MILK x 0 is not on the PO" in diffs
    assert uuid.UUID(str(res.messages[0].message_id))
