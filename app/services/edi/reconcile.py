"""A ship notice takes its quantities off the PO's own expected receipts.

Approving a PO creates PO-sourced expected receipts (``source='po'``); a ship notice for the
same PO creates an ASN-sourced one with the cartons. Without this step Receiving would list
the same goods twice. So, in the ASN import's transaction, for every PO line the ASN announces:

* the announced quantity is taken off the **open** part (``qty_expected - qty_received``) of
  the PO line's rows on open PO-sourced expected receipts (``expected``/``arrived``/``receiving``)
  of the ASN's warehouse (owned by the ASN receipt's branch, the one site that may change them;
  see ``asn_receipts``: for another branch's warehouse it is that branch's settler), oldest
  receipt first; more than is open there is not taken (the import
  already raises ``edi.qty_over`` for it);
* what was received is never touched: a row never drops below its ``qty_received``;
* a PO-sourced receipt with nothing left open and nothing received is cancelled (through the
  ``expected_receipt`` workflow) and keeps its rows as they were, as a cancelled document does;
* otherwise a row that is fully covered and has nothing received is soft-deleted (a tombstone,
  as replication wants), a partly covered one keeps the remainder;
* each touched receipt gets one audit entry (``expected_receipt.cancel`` or
  ``expected_receipt.reduce``) naming the ASN and the quantities.

A file imported again is a duplicate and never reaches this code, so it changes nothing.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder
from app.models.types import utcnow
from app.models.workflow import allowed, open_states
from app.services import audit
from app.services.auth import Actor
from app.services.workflow import transition

#: PO-sourced expected receipts that may still be reduced (those still waiting for goods)
OPEN_STATES = open_states("expected_receipt")


@dataclass
class Reconciled:
    """What one ship notice did to one PO-sourced expected receipt."""

    number: str
    cancelled: bool
    #: (po_line_id, qty_expected before, qty_expected after; 0 = the row dropped out)
    changes: list[tuple[uuid.UUID, int, int]] = field(default_factory=list)

    @property
    def taken(self) -> int:
        return sum(before - after for _, before, after in self.changes)


def take_off_po_receipts(session: Session, actor: Actor | None, po: PurchaseOrder, asn: ExpectedReceipt,
                         announced: Mapping[uuid.UUID, int]) -> list[Reconciled]:
    """Take ``announced`` (PO line id -> units on the ship notice ``asn``) off the PO's open PO receipts."""
    remaining = {pl: q for pl, q in announced.items() if q > 0}
    if not remaining:
        return []
    rows = session.execute(
        select(ExpectedReceiptLine, ExpectedReceipt)
        .join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
        .where(ExpectedReceipt.po_id == po.id, ExpectedReceipt.source == "po",
               ExpectedReceipt.warehouse_id == asn.warehouse_id, ExpectedReceipt.owner_branch_id == asn.owner_branch_id,
               ExpectedReceipt.status.in_(OPEN_STATES),
               ExpectedReceipt.deleted_at.is_(None), ExpectedReceiptLine.deleted_at.is_(None))
        .order_by(ExpectedReceipt.created_at, ExpectedReceipt.number, ExpectedReceiptLine.created_at,
                  ExpectedReceiptLine.id)).all()
    receipts: dict[uuid.UUID, ExpectedReceipt] = {}
    lines: dict[uuid.UUID, list[ExpectedReceiptLine]] = {}
    for ln, er in rows:
        receipts[er.id] = er
        lines.setdefault(er.id, []).append(ln)
    # plan: new qty_expected per row (never below what was received)
    new_qty: dict[uuid.UUID, int] = {}
    for ln, _er in rows:
        pl_id = ln.po_line_id
        left = remaining.get(pl_id, 0) if pl_id is not None else 0
        take = min(left, ln.qty_expected - ln.qty_received)
        if pl_id is None or take <= 0:
            continue
        new_qty[ln.id] = ln.qty_expected - take
        remaining[pl_id] = left - take
    out: list[Reconciled] = []
    now = utcnow()
    for er_id, er in receipts.items():
        er_lines = lines[er_id]
        touched = [ln for ln in er_lines if ln.id in new_qty]
        if not touched:
            continue
        res = Reconciled(er.number, cancelled=False,
                         changes=[(ln.po_line_id, ln.qty_expected, new_qty[ln.id]) for ln in touched
                                  if ln.po_line_id is not None])
        nothing_open = all(new_qty.get(ln.id, ln.qty_expected) <= ln.qty_received for ln in er_lines)
        nothing_received = all(ln.qty_received == 0 for ln in er_lines)
        detail: dict[str, Any] = {"po": po.number, "asn": asn.asn_ref, "asn_receipt": asn.number, "taken": res.taken,
                  "lines": [{"po_line_id": str(pl), "from": before, "to": after} for pl, before, after in res.changes]}
        if nothing_open and nothing_received and allowed("expected_receipt", er.status, "cancelled"):
            transition(er, "cancelled", actor, "asn", **detail)  # a cancelled document keeps its rows as they were
            res.cancelled = True
        else:
            for ln in touched:
                if new_qty[ln.id] == 0:
                    ln.deleted_at = now  # fully covered, nothing received: the row drops out
                else:
                    ln.qty_expected = new_qty[ln.id]
            audit.record(session, actor, "expected_receipt.reduce", "expected_receipt", er.id, er.owner_branch_id,
                         number=er.number, reason="asn", **detail)
        out.append(res)
    session.flush()
    return out
