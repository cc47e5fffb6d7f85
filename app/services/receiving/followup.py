"""The remainder of a short receipt stays expected: a follow-up expected receipt for it.

An expected receipt is posted once. When it is posted short and the PO line is still open, the
rest is still on order, so Receiving must be able to scan it when it comes: posting makes a new
expected receipt (source 'po') for the remainder, in the same warehouse, owned by the receiving
branch (numbered from its own series).

The rule: remainder of a PO line = the least of
  * what this receipt lacked of that line (expected - received on its lines),
  * what the PO line still lacks (ordered - received, counted over every branch's expected lines),
  * minus what other open expected receipts already expect of it (an ASN or an earlier follow-up).
None of the line reasons closes a line: ``short`` explains an under-receipt (the supplier shipped
less; the rest is still owed), ``damaged`` goods were received (into QA). No follow-up is made when
the PO or the PO line is closed or cancelled; a buyer who knows nothing more will come closes the PO,
which cancels the open expected receipts, this one included.
"""

from __future__ import annotations

import uuid
from collections import defaultdict

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.models.workflow import open_states
from app.services import audit
from app.services.auth import Actor
from app.services.buying.rollup import received_by_line
from app.services.events import GoodsReceived, on
from app.services.numbering import next_number

#: expected receipts that still wait for goods
OPEN_ER = open_states("expected_receipt")
_ENDED = ("closed", "cancelled")


def _open_elsewhere(session: Session, po_id: uuid.UUID, not_er: uuid.UUID) -> dict[uuid.UUID, int]:
    q = (select(ExpectedReceiptLine.po_line_id, ExpectedReceiptLine.qty_expected, ExpectedReceiptLine.qty_received)
         .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
         .where(ExpectedReceipt.po_id == po_id, ExpectedReceipt.id != not_er, ExpectedReceipt.status.in_(OPEN_ER),
                ExpectedReceipt.deleted_at.is_(None), ExpectedReceiptLine.deleted_at.is_(None),
                ExpectedReceiptLine.po_line_id.is_not(None)))
    out: dict[uuid.UUID, int] = defaultdict(int)
    for pl_id, exp, got in session.execute(q):
        if pl_id is not None:
            out[pl_id] += max(exp - got, 0)
    return out


@on(GoodsReceived, name="receiving.remainder", order=20)
def _remainder_on_receipt(session: Session, event: GoodsReceived) -> None:
    """A follow-up of every posted receipt: what is still owed stays expected."""
    new = follow_up(session, event.actor, event.expected_receipt, event.po)
    if new is not None:
        event.remainder = new
        left = session.scalar(select(func.sum(ExpectedReceiptLine.qty_expected)).where(
            ExpectedReceiptLine.receipt_id == new.id))
        event.notes.append(f"{left} unit(s) still owed: expected on {new.number}")


def follow_up(session: Session, actor: Actor | None, er: ExpectedReceipt, po: PurchaseOrder | None) -> ExpectedReceipt | None:
    """After ``er`` was posted: a new expected receipt for what is still owed (see the module doc)."""
    if po is None or er.source not in ("po", "asn") or po.status in _ENDED:
        return None
    short: dict[uuid.UUID, int] = defaultdict(int)
    for el in session.scalars(select(ExpectedReceiptLine).where(
            ExpectedReceiptLine.receipt_id == er.id, ExpectedReceiptLine.deleted_at.is_(None),
            ExpectedReceiptLine.po_line_id.is_not(None))):
        assert el.po_line_id is not None
        short[el.po_line_id] += max(el.qty_expected - el.qty_received, 0)
    lacked = {k: v for k, v in short.items() if v > 0}
    if not lacked:
        return None
    pols = list(session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.id.in_(lacked), PurchaseOrderLine.deleted_at.is_(None)).order_by(PurchaseOrderLine.line_no)))
    got = received_by_line(session, [po.id])
    elsewhere = _open_elsewhere(session, po.id, er.id)
    todo: list[tuple[PurchaseOrderLine, int]] = []
    for pl in pols:
        if pl.status in _ENDED:
            continue
        owed = pl.qty_ordered - max(got.get(pl.id, 0), pl.qty_received) - elsewhere.get(pl.id, 0)
        qty = min(lacked[pl.id], owed)
        if qty > 0:
            todo.append((pl, qty))
    if not todo:
        return None
    branch_id = er.owner_branch_id
    new = ExpectedReceipt(number=next_number(session, branch_id, "ER"), source="po", po_id=po.id,
                          supplier_id=er.supplier_id, warehouse_id=er.warehouse_id, dock=er.dock, status="expected",
                          owner_branch_id=branch_id)
    session.add(new)
    session.flush()
    for pl, qty in todo:
        session.add(ExpectedReceiptLine(receipt_id=new.id, po_line_id=pl.id, item_id=pl.item_id, qty_expected=qty,
                                        owner_branch_id=branch_id))
    audit.record(session, actor, "expected_receipt.create", "expected_receipt", new.id, branch_id, number=new.number,
                 po=po.number, reason="remainder", after=er.number, units=sum(q for _, q in todo))
    session.flush()
    return new
