"""The partner-shaped files of tests/fixtures/edi_shapes imported into a real database: each
line on its own PO, partial confirmations as partial, several interchanges each acknowledged,
acknowledgements recorded and never acknowledged back."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.exceptions import ExceptionItem
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.services.db import session_factory
from app.services.edi import x12
from app.services.edi.folder import process_inbound
from app.services.edi.inbound import EdiImportError, import_bytes
from app.services.edi.outbound import export_po
from tests.factories import World
from tests.services.test_edi_import import make_po, set_edi

SHAPES = Path(__file__).resolve().parents[1] / "fixtures" / "edi_shapes"


def shape(name: str) -> bytes:
    return (SHAPES / name).read_bytes()


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def receipt_lines(session: Session, po: PurchaseOrder) -> list[tuple[int, str, int]]:
    """(PO line number, SKU, quantity) the PO's ASN receipts expect."""
    rows = session.execute(
        select(PurchaseOrderLine.line_no, PurchaseOrderLine.item_id, ExpectedReceiptLine.qty_expected)
        .join(ExpectedReceiptLine, ExpectedReceiptLine.po_line_id == PurchaseOrderLine.id)
        .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
        .where(ExpectedReceipt.po_id == po.id, ExpectedReceipt.source == "asn")
        .order_by(PurchaseOrderLine.line_no)).all()
    return [(no, skus[item_id], q) for no, item_id, q in rows]


skus: dict[object, str] = {}


@pytest.fixture
def two_pos(session: Session, world: World) -> tuple[PurchaseOrder, PurchaseOrder]:
    set_edi(world, "ACMEEDI")
    skus.update({it.id: sku for sku, it in world.items.items()})
    i = world.items
    p1 = make_po(session, world, "DAL-PO-000501", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 60, "0.10"),
                                                   (3, i["MILK"], 50, "0.80")])
    p2 = make_po(session, world, "DAL-PO-000502", [(1, i["BOLT"], 30, "0.10"), (2, i["MILK"], 12, "0.80")])
    session.commit()
    return p1, p2


def test_856_with_prf_inside_each_item_books_each_line_to_its_own_po(
        session: Session, world: World, two_pos: tuple[PurchaseOrder, PurchaseOrder]) -> None:
    p1, p2 = two_pos
    res = import_bytes(session, world.actors["alice"], shape("x12_856_prf_inside_each_item_two_pos.x12"), "asn.x12")
    session.commit()
    assert [(m.po_number, m.status, m.differences) for m in res.messages] == [
        ("DAL-PO-000501", "processed", []), ("DAL-PO-000502", "processed", [])]
    assert receipt_lines(session, p1) == [(1, "WIDGET", 24), (2, "BOLT", 60)]
    assert receipt_lines(session, p2) == [(1, "BOLT", 30), (2, "MILK", 12)]  # the second PO gets its quantities
    assert session.scalars(select(ExceptionItem.kind)).all() == []  # no "extra line" against the first PO


def test_856_item_without_po_among_two_is_refused_and_nothing_is_written(
        session: Session, world: World, two_pos: tuple[PurchaseOrder, PurchaseOrder]) -> None:
    with pytest.raises(EdiImportError, match="names no purchase order"):
        import_bytes(session, world.actors["alice"], shape("x12_856_item_without_po_among_two.x12"), "asn.x12")
    assert not session.new and count(session, SupplierMessage) == 0 and count(session, ExpectedReceipt) == 0


def test_ordrsp_action_24_partial_confirmation_and_backorder_read_as_such(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    i = world.items
    po = make_po(session, world, "DAL-PO-000601", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 100, "0.10"),
                                                   (3, i["MILK"], 50, "0.80")])
    res = import_bytes(session, world.actors["alice"], shape("edifact_ordrsp_action24_partial_backorder.edi"), "o.edi")
    session.commit()
    assert res.messages[0].differences == ["line 2 BOLT: 40 backordered, 60 confirmed now",
                                           "line 3 MILK: rejected by the supplier"]
    rows = session.execute(select(SupplierMessageLine.line_no, SupplierMessageLine.line_status,
                                  SupplierMessageLine.qty_confirmed).order_by(SupplierMessageLine.line_no)).all()
    assert [tuple(r) for r in rows] == [(1, "accepted", 24), (2, "backordered", 60), (3, "rejected", 0)]
    kinds = sorted(session.scalars(select(ExceptionItem.kind).where(ExceptionItem.entity_id == po.id)))
    assert kinds == ["edi.backordered", "edi.line_rejected"]
    assert po.status == "confirmed"


def test_ordrsp_that_names_the_po_only_in_rff_li_confirms_it(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000602", [(1, world.items["WIDGET"], 24, "1.25"),
                                                   (2, world.items["BOLT"], 100, "0.10")])
    res = import_bytes(session, world.actors["alice"], shape("edifact_ordrsp_po_only_in_rff_li.edi"), "o.edi")
    assert [(m.po_number, m.differences) for m in res.messages] == [
        ("DAL-PO-000602", ["line 2 BOLT: quantity changed 100 -> 80"])]
    assert po.status == "confirmed"


def test_poll_acknowledges_each_interchange_of_a_file_and_imports_all_of_them(
        session: Session, world: World, engine: Engine, tmp_path: Path,
        two_pos: tuple[PurchaseOrder, PurchaseOrder]) -> None:
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "batch.x12").write_bytes(shape("x12_856_two_interchanges.x12"))
    (inbound / "bom.x12").write_bytes(shape("x12_856_sopi_sscc_bom.x12").replace(b"ASN-7001", b"ASN-7003")
                                      .replace(b"000002001", b"000002021").replace(b"*2001*", b"*2021*")
                                      .replace(b"GE*1*2001", b"GE*1*2021"))
    report = process_inbound(session_factory(engine), inbound, actor=world.actors["alice"])
    assert [(o.file_name, o.ok) for o in report.outcomes] == [("batch.x12", True), ("bom.x12", True)], \
        [o.message for o in report.outcomes]
    batch = report.outcomes[0]
    assert "(2 interchanges)" in batch.message and batch.result is not None and len(batch.result.messages) == 3
    acks = sorted((tmp_path / "outbound").iterdir())
    assert len(acks) == 3  # one per interchange: two for the batch, one for the BOM file
    answered = sorted(x12.parse(p.read_bytes()).transactions[0].body[0][2] for p in acks)
    assert answered == ["2008", "2009", "2021"]  # AK1 names each interchange's own group
    assert batch.ack_file.count("997-") == 2


def test_a_partners_997_is_recorded_against_our_850_and_never_acknowledged(
        session: Session, world: World, engine: Engine, tmp_path: Path) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000701", [(1, world.items["WIDGET"], 24, "1.25")], status="approved")
    _, data = export_po(session, po.id, "x12", actor=world.actors["alice"])
    control = int(x12.parse(data).control)
    session.commit()
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    for name in ("x12_997_accepting_our_850.x12", "x12_997_rejecting_our_850.x12"):
        text = shape(name).decode()
        text = re.sub(r"AK1\*PO\*\d+", f"AK1*PO*{control}", text)
        (inbound / name).write_text(text)
    (inbound / "x12_ta1_alone.x12").write_bytes(shape("x12_ta1_alone.x12"))
    report = process_inbound(session_factory(engine), inbound, actor=world.actors["alice"])
    assert all(o.ok for o in report.outcomes), [o.message for o in report.outcomes]
    assert [o.ack_file for o in report.outcomes] == ["", "", ""]  # acknowledgements are not acknowledged
    assert not (tmp_path / "outbound").exists() or list((tmp_path / "outbound").iterdir()) == []
    assert "our 850 for PO DAL-PO-000701 accepted" in report.outcomes[0].message
    assert "Depot sent no file with control 000000041" in report.outcomes[2].message
    session.expire_all()
    got = session.execute(select(SupplierMessage.msg_type, SupplierMessage.status)
                          .where(SupplierMessage.direction == "in").order_by(SupplierMessage.status)).all()
    assert [tuple(r) for r in got] == [("997", "differences"), ("997", "processed")]
    (exc,) = session.scalars(select(ExceptionItem).where(ExceptionItem.kind == "edi.ack_rejected")).all()
    assert exc.entity_ref == "DAL-PO-000701" and "rejected" in exc.detail
    # the same 997 again changes nothing
    (inbound / "again.x12").write_bytes((inbound / "processed" / "x12_997_accepting_our_850.x12").read_bytes())
    again = process_inbound(session_factory(engine), inbound, actor=world.actors["alice"])
    assert "recorded before" in again.outcomes[0].message


def test_edifact_file_with_two_interchanges_makes_both_ship_notices(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000601", [(1, world.items["WIDGET"], 48, "1.25"),
                                                   (2, world.items["BOLT"], 120, "0.10")])
    res = import_bytes(session, world.actors["alice"], shape("edifact_desadv_two_interchanges.edi"), "d.edi")
    assert res.interchanges == 2 and len(res.messages) == 2
    assert sorted(session.scalars(select(ExpectedReceipt.asn_ref).where(ExpectedReceipt.po_id == po.id))) == [
        "DES-9001", "DES-9002"]
    again = import_bytes(session, world.actors["alice"], shape("edifact_desadv_two_interchanges.edi"), "d.edi")
    assert again.duplicate


def test_855_part_now_part_backordered_keeps_both_dates(session: Session, world: World) -> None:
    """ACK IA 60 for the 15th + ACK IB 40 for January: the line is due when the 60 come, and the
    backorder says when the rest comes; 60 + 40 = the 100 ordered, so no quantity cut."""
    import datetime as dt

    set_edi(world, "ACMEEDI")
    i = world.items
    po = make_po(session, world, "DAL-PO-000501", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 100, "0.10"),
                                                   (3, i["MILK"], 50, "0.80")], expected=dt.date(2026, 12, 15))
    res = import_bytes(session, world.actors["alice"], shape("x12_855_bom_crlf_newline_terminator.x12"), "855.x12")
    assert res.messages[0].differences == ["line 2 BOLT: 40 backordered (due 2027-01-10), 60 confirmed now",
                                           "line 3 MILK: rejected by the supplier"]
    lines = {pl.line_no: pl.expected_date for pl in session.scalars(
        select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po.id))}
    assert lines[2] == dt.date(2026, 12, 15)
