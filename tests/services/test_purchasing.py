"""Purchase orders: creation by hand and from requisitions, bad input, revise/cancel/close."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.buying import Requisition
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.services.buying import approvals, conversion, purchasing
from app.services.buying.purchasing import LineInput
from app.services.errors import Conflict, DomainError, NotFound, PermissionDenied, ValidationError
from tests.factories import World


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_create_by_hand_numbers_prices_and_totals(session: Session, bw: World) -> None:
    po = purchasing.create_po(session, bw.actors["alice"], "acme", "DAL1", [
        LineInput(sku="WIDGET", qty=120), LineInput(sku="bolt", qty="500", price="0.0950"),
    ])
    assert po.number == "DAL-PO-000001" and po.status == "draft" and po.revision == 0
    lines = purchasing.lines_of(session, po.id)
    assert [(ln.line_no, ln.qty_ordered, ln.unit_price) for ln in lines] == [
        (1, 120, Decimal("1.2500")), (2, 500, Decimal("0.0950"))]  # WIDGET priced from the contract
    assert purchasing.po_total_of(session, po.id) == Decimal("197.5000")
    po2 = purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=1)])
    assert po2.number == "DAL-PO-000002"
    rows = purchasing.list_pos(session, supplier="ACME")
    assert [r.number for r in rows][:2] == ["DAL-PO-000002", "DAL-PO-000001"]
    assert purchasing.count_pos(session, status="draft") == 2


@pytest.mark.parametrize(("line", "match"), [
    (LineInput(sku="WIDGET", qty=0), "quantity: must be more than zero"),
    (LineInput(sku="WIDGET", qty=-5), "quantity: -5 is negative"),
    (LineInput(sku="WIDGET", qty="2.5"), "not a whole number"),
    (LineInput(sku="WIDGET", qty=10**13), "larger than"),
    (LineInput(sku="WIDGET", qty=5, price="-1"), "price: -1.0000 is negative"),
    (LineInput(sku="WIDGET", qty=5, price="abc"), "not a number"),
    (LineInput(sku="NOPE", qty=5), "unknown item on line 1"),
    (LineInput(sku="WIDGET", qty=10**12, price="900000000"), "absurdly large"),
])
def test_bad_lines_are_refused_and_nothing_is_written(session: Session, bw: World, line: LineInput, match: str) -> None:
    good = LineInput(sku="BOLT", qty=10)
    with pytest.raises(DomainError, match=match):
        purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [good, line] if "line 1" not in match else [line])
    session.rollback()
    assert _count(session, PurchaseOrder) == 0 and _count(session, PurchaseOrderLine) == 0


def test_unknown_supplier_warehouse_and_permission(session: Session, bw: World) -> None:
    with pytest.raises(NotFound, match="unknown supplier NOBODY"):
        purchasing.create_po(session, bw.actors["alice"], "NOBODY", "DAL1", [LineInput(sku="BOLT", qty=1)])
    with pytest.raises(NotFound, match="warehouse"):
        purchasing.create_po(session, bw.actors["alice"], "ACME", "XX9", [LineInput(sku="BOLT", qty=1)])
    with pytest.raises(PermissionDenied):
        purchasing.create_po(session, bw.actors["rita"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=1)])
    with pytest.raises(ValidationError, match="at least one line"):
        purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [])


def test_ship_to_other_branch_needs_a_consolidating_supplier(session: Session, bw: World) -> None:
    line = LineInput(sku="BOLT", qty=10, ship_to_warehouse_id=bw.wh_hou.id)
    with pytest.raises(ValidationError, match="does not accept one PO for several ship-to"):
        purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [line])
    bw.supplier.allows_consolidation = True
    po = purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [LineInput(sku="WIDGET", qty=12), line])
    purchasing.submit(session, bw.actors["alice"], po.id)
    assert po.status == "approved"
    receipts = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).all()
    assert {r.warehouse_id for r in receipts} == {bw.wh_dal.id, bw.wh_hou.id}
    hou = next(r for r in receipts if r.warehouse_id == bw.wh_hou.id)
    assert hou.owner_branch_id == bw.hou.id and hou.number.startswith("HOU-ER-")
    (ln,) = session.scalars(select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == hou.id)).all()
    assert ln.qty_expected == 10 and ln.item_id == bw.items["BOLT"].id


def _req(session: Session, w: World, sku: str, wh: uuid.UUID, qty: int, n: int, requester: str = "alice") -> Requisition:
    r = Requisition(number=f"DAL-RQ-{n:06d}", kind="purchase", item_id=w.items[sku].id, warehouse_id=wh, qty=qty,
                    supplier_id=w.supplier.id, requested_by_id=w.actors[requester].user_id, owner_branch_id=w.dal.id)
    session.add(r)
    session.flush()
    return r


def test_from_requisitions_consolidates_with_ship_to_per_line(session: Session, bw: World) -> None:
    bw.supplier.allows_consolidation = True
    r1 = _req(session, bw, "BOLT", bw.wh_dal.id, 100, 1)
    r2 = _req(session, bw, "BOLT", bw.wh_dal.id, 50, 2)
    r3 = _req(session, bw, "BOLT", bw.wh_hou.id, 70, 3)
    (po,) = conversion.convert(session, bw.actors["alice"], [r1.id, r2.id, r3.id])
    lines = purchasing.lines_of(session, po.id)
    assert sorted((ln.ship_to_warehouse_id == bw.wh_hou.id, ln.qty_ordered) for ln in lines) == [(False, 150), (True, 70)]
    assert {r.status for r in (r1, r2, r3)} == {"converted"} and r1.po_id == po.id
    with pytest.raises(Conflict, match="converted"):
        conversion.convert(session, bw.actors["alice"], [r1.id])


def test_from_requisitions_splits_per_warehouse_without_consolidation(session: Session, bw: World) -> None:
    r1 = _req(session, bw, "BOLT", bw.wh_dal.id, 100, 1)
    r2 = _req(session, bw, "BOLT", bw.wh_hou.id, 70, 2)
    pos = conversion.convert(session, bw.actors["alice"], [r1.id, r2.id])
    assert sorted(p.number for p in pos) == ["DAL-PO-000001", "HOU-PO-000001"]


def test_requisition_requester_may_not_approve(session: Session, bw: World) -> None:
    r1 = _req(session, bw, "DRILL", bw.wh_dal.id, 200, 1, requester="bob")  # 9,000 -> level 1
    (po,) = conversion.convert(session, bw.actors["alice"], [r1.id], submit_now=True)
    assert po.status == "pending_approval"
    with pytest.raises(PermissionDenied, match="segregation of duties"):
        approvals.approve(session, bw.actors["bob"], po.id)


def test_cancel_and_close_and_acting_on_final_pos(session: Session, bw: World) -> None:
    po = purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    purchasing.submit(session, bw.actors["alice"], po.id)
    purchasing.cancel(session, bw.actors["alice"], po.id, "not needed")
    assert po.status == "cancelled"
    assert session.scalars(select(ExpectedReceipt.status).where(ExpectedReceipt.po_id == po.id)).all() == ["cancelled"]
    for action in (purchasing.cancel, purchasing.close):
        with pytest.raises(Conflict, match="is cancelled"):
            action(session, bw.actors["alice"], po.id)
    with pytest.raises(Conflict, match="is cancelled"):
        purchasing.revise(session, bw.actors["alice"], po.id, lines=[LineInput(sku="BOLT", qty=5)])

    po2 = purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    with pytest.raises(Conflict, match="draft; it cannot become closed"):
        purchasing.close(session, bw.actors["alice"], po2.id)


def test_revise_a_draft_edits_in_place(session: Session, bw: World) -> None:
    po = purchasing.create_po(session, bw.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    purchasing.revise(session, bw.actors["alice"], po.id, lines=[LineInput(sku="WIDGET", qty=24)])
    assert po.revision == 0 and po.status == "draft"
    assert [(ln.line_no, ln.qty_ordered) for ln in purchasing.lines_of(session, po.id)] == [(1, 24)]
    with pytest.raises(ValidationError, match="quantity"):
        purchasing.revise(session, bw.actors["alice"], po.id, lines=[LineInput(sku="WIDGET", qty=0)])
    assert [ln.qty_ordered for ln in purchasing.lines_of(session, po.id)] == [24]
