"""Expected receipts of purchase orders: one per ship-to warehouse, owned by that warehouse's branch.

Split from ``purchasing`` (which decides *when*: approval, revision, cancel, close); this module
decides *which* receipts exist. Across branches (docs/purchasing.md): an expected receipt belongs to
its warehouse's branch and is numbered from that branch's series, so a site creates and cancels
only its own branch's; every other ship-to branch's settler (``settle_expected_receipts``) creates
the missing ones for approved POs and cancels those a revision, cancel or close left behind. The
receipt's id is derived from (PO, revision, warehouse), so "is it there yet" is one lookup and a
second run, or a second workstation of the branch, never makes a second one.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from app.models.org import Branch, Warehouse
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.models.workflow import open_states
from app.services import audit, numbering
from app.services.auth import Actor
from app.services.errors import Conflict
from app.services.exception_inbox import raise_once
from app.services.ownership import ownership, owns, settler
from app.services.workflow import transition

#: states in which goods are due against the PO (its expected receipts should exist)
RECEIVABLE = ("approved", "sent", "confirmed", "partially_received")
#: states in which nothing is due (receipts still only expected are cancelled)
NOT_DUE = ("draft", "pending_approval", "rejected", "cancelled", "closed")
_REVISED_OR_CANCELLED = ("draft", "pending_approval", "rejected", "cancelled")
#: an expected receipt still waiting for goods (expected, arrived)
WAITING = open_states("expected_receipt")
_ER_NAMESPACE = uuid.UUID("6f1c1f4e-2b52-4a55-9a43-0d1f3c7e6a01")


def _lines(session: Session, po_id: uuid.UUID) -> list[PurchaseOrderLine]:
    return list(session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.po_id == po_id, PurchaseOrderLine.deleted_at.is_(None)).order_by(PurchaseOrderLine.line_no)))


def expected_receipt_id(po_id: uuid.UUID, revision: int, warehouse_id: uuid.UUID) -> uuid.UUID:
    """The id of the PO-sourced expected receipt of one revision at one warehouse (the same on
    every site, so creating it is idempotent)."""
    return uuid.uuid5(_ER_NAMESPACE, f"{po_id.hex}:{revision}:{warehouse_id.hex}")


def create_expected_receipts(session: Session, actor: Actor | None, po: PurchaseOrder) -> int:
    """One expected receipt per ship-to warehouse of this site's branch, owned by that branch and
    numbered from its series; those already there are skipped. Returns how many were made."""
    by_wh: dict[uuid.UUID, list[PurchaseOrderLine]] = {}
    for ln in _lines(session, po.id):
        by_wh.setdefault(ln.ship_to_warehouse_id, []).append(ln)
    made = 0
    for wh_id, lns in by_wh.items():
        wh = session.get(Warehouse, wh_id)
        assert wh is not None
        er_id = expected_receipt_id(po.id, po.revision, wh_id)
        if not owns(session, wh.branch_id) or session.get(ExpectedReceipt, er_id) is not None:
            continue
        # The receiving branch owns its expected receipt: it is the one that updates it.
        er = ExpectedReceipt(
            id=er_id, number=numbering.next_number(session, wh.branch_id, "ER"), source="po", po_id=po.id,
            supplier_id=po.supplier_id, warehouse_id=wh_id, status="expected", owner_branch_id=wh.branch_id,
            expected_at=(dt.datetime.combine(po.expected_date, dt.time(12), dt.UTC) if po.expected_date else None),
        )
        session.add(er)
        session.flush()
        for ln in lns:
            session.add(ExpectedReceiptLine(receipt_id=er.id, po_line_id=ln.id, item_id=ln.item_id,
                                            qty_expected=ln.qty_ordered, owner_branch_id=wh.branch_id))
        audit.record(session, actor, "expected_receipt.create", "expected_receipt", er.id, er.owner_branch_id,
                     number=er.number, po=po.number, revision=po.revision, lines=len(lns))
        made += 1
    session.flush()
    return made


def record_received_before(session: Session, actor: Actor | None, po: PurchaseOrder,
                           received: dict[uuid.UUID, int]) -> list[ExpectedReceipt]:
    """Units a legacy system had already received on PO lines (PO line id -> units) before the PO
    came to Depot, recorded as a delivery: on this site's expected lines of those PO lines, and
    those expected receipts received. Returns them: the caller makes the follow-up receipts for
    what is still owed (``receiving.followup``) and rolls the PO up, as posting a short receipt does."""
    from app.services.workflow import transition

    q = (select(ExpectedReceiptLine).join(ExpectedReceipt, ExpectedReceipt.id == ExpectedReceiptLine.receipt_id)
         .where(ExpectedReceipt.po_id == po.id, ExpectedReceiptLine.po_line_id.in_(list(received))))
    touched: dict[uuid.UUID, ExpectedReceipt] = {}
    for el in session.scalars(q):
        got = received.get(el.po_line_id) if el.po_line_id is not None else None
        if got and owns(session, el.owner_branch_id) and el.qty_received != got:
            el.qty_received = min(got, el.qty_expected)
            er = session.get(ExpectedReceipt, el.receipt_id)
            if er is not None and er.status == "expected":
                touched[er.id] = er
    session.flush()
    for er in touched.values():
        transition(er, "received", actor, reason="received in the previous system")
    session.flush()
    return list(touched.values())


def open_receipts(session: Session, po: PurchaseOrder) -> list[ExpectedReceipt]:
    """The PO's receipts still waiting for goods; refuses when any already has goods (received)."""
    out = []
    for er in session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id,
                                                            ExpectedReceipt.source == "po")):
        if er.status == "cancelled":
            continue
        if er.status not in WAITING:
            raise Conflict(f"purchase order {po.number}: receipt {er.number} is {er.status}; goods have already been received")
        out.append(er)
    return out


def cancel_receipt(session: Session, actor: Actor | None, er: ExpectedReceipt, po: PurchaseOrder) -> None:
    transition(er, "cancelled", actor, po=po.number, revision=po.revision, po_status=po.status)


def cancel_receipts(session: Session, actor: Actor, po: PurchaseOrder) -> None:
    """Receipts still only expected for the old figures are cancelled; any with goods refuse.
    Another branch's receipt is cancelled by that branch's settler when it next syncs."""
    for er in open_receipts(session, po):
        if owns(session, er.owner_branch_id):
            cancel_receipt(session, actor, er, po)
    session.flush()


def _branch_codes(session: Session) -> dict[uuid.UUID, str]:
    return dict(session.execute(select(Branch.id, Branch.code)).all())


@settler("purchasing.expected_receipts")
def settle_expected_receipts(session: Session) -> int:
    """After a pull: this branch's expected receipts follow the POs of any branch shipping to its
    warehouses (create the missing ones, cancel those no longer due). Returns receipts changed."""
    own = ownership(session)
    q = select(Warehouse.id).where(Warehouse.deleted_at.is_(None))
    if own.enforced:
        q = q.where(Warehouse.branch_id == own.branch_id)
    mine = set(session.scalars(q))
    if not mine:
        return 0
    n = _cancel_stale_receipts(session, own.branch_id if own.enforced else None)
    missing = (select(PurchaseOrder).join(PurchaseOrderLine, PurchaseOrderLine.po_id == PurchaseOrder.id)
               .where(PurchaseOrder.status.in_(RECEIVABLE), PurchaseOrder.deleted_at.is_(None),
                      PurchaseOrderLine.deleted_at.is_(None), PurchaseOrderLine.ship_to_warehouse_id.in_(mine),
                      ~select(ExpectedReceipt.id).where(
                          ExpectedReceipt.po_id == PurchaseOrder.id, ExpectedReceipt.source == "po",
                          ExpectedReceipt.warehouse_id == PurchaseOrderLine.ship_to_warehouse_id,
                          ExpectedReceipt.status != "cancelled").exists())
               .distinct().order_by(PurchaseOrder.number))
    for po in session.scalars(missing).all():
        n += create_expected_receipts(session, None, po)
    return n


def _cancel_stale_receipts(session: Session, branch_id: uuid.UUID | None) -> int:
    """Cancel this branch's receipts still waiting for goods whose PO no longer wants them
    (revised, cancelled, closed, or approved again as a newer revision). A receipt whose goods were
    already received when the owner revised or cancelled the PO (it did not know yet) cannot be
    cancelled: an exception tells the buyer (once)."""
    received_stale = and_(ExpectedReceipt.status == "received", or_(
        PurchaseOrder.status.in_(_REVISED_OR_CANCELLED),
        and_(PurchaseOrder.revision > 0, PurchaseOrder.status.in_(RECEIVABLE))))
    q = (select(ExpectedReceipt, PurchaseOrder).join(PurchaseOrder, PurchaseOrder.id == ExpectedReceipt.po_id)
         .where(ExpectedReceipt.deleted_at.is_(None),
                or_(ExpectedReceipt.status.in_(WAITING), received_stale),
                or_(PurchaseOrder.status.in_(NOT_DUE), PurchaseOrder.revision > 0)))  # else nothing can be stale
    if branch_id is not None:
        q = q.where(ExpectedReceipt.owner_branch_id == branch_id)
    n = 0
    for er, po in session.execute(q).all():
        stale = po.status == "closed" or (er.source == "po" and (
            po.status in NOT_DUE
            or (er.id.version == 5 and er.id != expected_receipt_id(po.id, po.revision, er.warehouse_id))))
        if not stale:
            continue
        if er.status == "received":
            if po.status != "closed":  # closing leaves received goods alone, as at the owner
                _report_goods(session, er, po)
            continue
        cancel_receipt(session, None, er, po)
        n += 1
    session.flush()
    return n


def _report_goods(session: Session, er: ExpectedReceipt, po: PurchaseOrder) -> None:
    """The PO's owner revised/cancelled it before it knew this branch had received goods on it."""
    what = po.status if po.status in ("cancelled", "closed") else "revised"
    raise_once(
        session, None, kind="po.receipt_has_goods", role="buyer", owner_branch_id=er.owner_branch_id,
        entity="purchase_order", entity_id=po.id, entity_ref=po.number,
        key=f"po.receipt_has_goods:{er.id}:{po.revision}:{po.status}",
        title=f"{po.number} was {what} but goods were already received on {er.number}",
        detail=(f"Purchase order {po.number} (rev {po.revision}) is now {po.status}; receipt {er.number} was not "
                "cancelled because goods were received against it. Agree with the receiving branch what "
                "happens to them (keep, or return), then resolve this."))


def branch_followups(session: Session, po: PurchaseOrder) -> list[str]:
    """What other branches still have to do about ``po`` after their next sync, for the user
    ("HOU creates its expected receipt when it syncs"); empty when this site did everything."""
    codes = _branch_codes(session)
    out = []
    if not owns(session, po.owner_branch_id):
        code = codes.get(po.owner_branch_id, "its branch")
        out.append(f"{code}'s PO follows when {code} syncs")
        return out
    if po.status in RECEIVABLE:
        whs = {ln.ship_to_warehouse_id for ln in _lines(session, po.id)}
        for wh in session.scalars(select(Warehouse).where(Warehouse.id.in_(whs)).order_by(Warehouse.code)):
            if not owns(session, wh.branch_id) and session.get(ExpectedReceipt, expected_receipt_id(
                    po.id, po.revision, wh.id)) is None:
                out.append(f"{codes.get(wh.branch_id, '?')} creates its expected receipt for {wh.code} when it syncs")
    if po.status in NOT_DUE:
        for er in session.scalars(select(ExpectedReceipt).where(
                ExpectedReceipt.po_id == po.id, ExpectedReceipt.status.in_(WAITING))
                .order_by(ExpectedReceipt.number)):
            if not owns(session, er.owner_branch_id):
                code = codes.get(er.owner_branch_id, "?")
                out.append(f"{code} cancels receipt {er.number} when it syncs")
    return out


def followup_note(session: Session, po: PurchaseOrder) -> str:
    """``branch_followups`` as the tail of a message: '; HOU creates its expected receipt ...'."""
    return "".join(f"; {f}" for f in branch_followups(session, po))


def followup_after(session: Session, result: object) -> str:
    """``followup_note`` of what an action returned when it is a PO (submit, approve, revise ...), else ''."""
    return followup_note(session, result) if isinstance(result, PurchaseOrder) else ""
