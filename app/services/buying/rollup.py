"""A purchase order's received quantities, recomputed from what every branch received against it.

Why: a consolidated PO belongs to the buying branch, but its lines may ship to other branches'
warehouses. The receiving branch writes only its own rows (receipt, receipt lines, moves and the
``qty_received`` of its own expected-receipt lines); it may not touch the PO. So the PO's lines are
*derived*: ``qty_received`` of a PO line = the sum of ``qty_received`` of every expected-receipt line
that points at it (PO, ASN and follow-up receipts, whichever branch owns them). Those expected lines
carry the per-PO-line split that posting made, in the same transaction as the receipt lines.

``roll_up`` applies it to one PO: a follow-up of every posted receipt (``GoodsReceived``, at once when
this site owns the PO), and the PO owner's settler (``settle_received``) after every pull for the
others. The PO's status goes through ``purchasing.set_status``, its one writer. Recomputing (not
adding deltas) makes it idempotent; a line's figure is never lowered, so quantities that came in
without expected lines (the seed's history) stay as they are.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.models.workflow import allowed
from app.services import audit
from app.services.auth import Actor
from app.services.buying.purchasing import set_status
from app.services.events import GoodsReceived, on
from app.services.ownership import ownership, owns, settler
from app.services.workflow import transition

#: PO states in which goods are still being received (the roll-up's scope)
RECEIVING_PO = ("sent", "confirmed", "partially_received")


def received_by_line(session: Session, po_ids: Iterable[uuid.UUID]) -> dict[uuid.UUID, int]:
    """PO line id -> units received on the expected-receipt lines of ``po_ids`` (every branch's)."""
    ids = list(po_ids)
    out: dict[uuid.UUID, int] = {}
    for n in range(0, len(ids), 900):
        q = (select(ExpectedReceiptLine.po_line_id, func.sum(ExpectedReceiptLine.qty_received))
             .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
             .where(ExpectedReceipt.po_id.in_(ids[n:n + 900]), ExpectedReceiptLine.po_line_id.is_not(None))
             .group_by(ExpectedReceiptLine.po_line_id))
        for pl_id, qty in session.execute(q):
            if pl_id is not None:
                out[pl_id] = int(qty or 0)
    return out


def roll_up(session: Session, actor: Actor | None, po: PurchaseOrder) -> bool:
    """Bring ``po``'s line quantities, line statuses and status in line with the receipts. Returns
    whether anything changed. Only the PO's owner calls it (the ownership guard makes sure)."""
    got = received_by_line(session, [po.id])
    lines = list(session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.deleted_at.is_(None))))
    changed: list[str] = []
    for pl in lines:
        before = (pl.qty_received, pl.status)
        n = got.get(pl.id, 0)
        if n > pl.qty_received:
            pl.qty_received = n
        status = ("received" if pl.qty_received >= pl.qty_ordered else
                  "partially_received" if pl.qty_received else pl.status)
        if pl.status in ("open", "partially_received") and status != pl.status:
            transition(pl, status, actor)
        if (pl.qty_received, pl.status) != before:
            changed.append(f"line {pl.line_no}: {pl.qty_received} of {pl.qty_ordered}")
    if any(pl.qty_received for pl in lines):
        new = "received" if all(pl.qty_received >= pl.qty_ordered for pl in lines) else "partially_received"
        if po.status != new and allowed("purchase_order", po.status, new):
            old = po.status
            set_status(session, actor, po, new)
            changed.append(f"status {old} -> {new}")
    if changed:
        session.flush()
    return bool(changed)


@on(GoodsReceived, name="buying.roll_up", order=10)
def _roll_up_on_receipt(session: Session, event: GoodsReceived) -> None:
    po = event.po
    if po is None:
        return
    if owns(session, po.owner_branch_id):
        roll_up(session, event.actor, po)
    else:
        owner = session.scalar(select(Branch.code).where(Branch.id == po.owner_branch_id)) or "its branch"
        event.notes.append(f"{po.number} is {owner}'s: its received quantities are updated when {owner} next syncs")


@settler("receiving.po_received")
def settle_received(session: Session) -> int:
    """The PO owner's side: roll up every PO of this branch whose expected lines (written by any
    branch) show more received than its lines do. One grouped query over the open POs' expected lines
    that received anything finds them (usually none; ~10 ms on the large seed's 2,567 open POs)."""
    own = ownership(session)
    erl, er, po, pol = ExpectedReceiptLine, ExpectedReceipt, PurchaseOrder, PurchaseOrderLine
    q = (select(po.id)
         .join(er, er.po_id == po.id).join(erl, erl.receipt_id == er.id).join(pol, pol.id == erl.po_line_id)
         .where(po.status.in_(RECEIVING_PO), po.deleted_at.is_(None), pol.deleted_at.is_(None), erl.qty_received > 0)
         .group_by(po.id, pol.id)
         .having(func.sum(erl.qty_received) > func.max(pol.qty_received)))
    if own.enforced:
        q = q.where(po.owner_branch_id == own.branch_id)
    done = 0
    for po_id in sorted(set(session.scalars(q))):
        row = session.get(PurchaseOrder, po_id)
        if row is not None and roll_up(session, None, row):
            audit.record(session, None, "po.received_rolled_up", "purchase_order", row.id, row.owner_branch_id,
                         number=row.number, status=row.status)
            done += 1
    return done
