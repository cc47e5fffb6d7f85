"""Purchase orders: create, submit, revise, cancel, close; the one writer of a PO's status.

Why it is built this way:

* Every line is validated before anything is added to the session, so a bad line (unknown
  SKU, zero/fractional/absurd quantity, negative price) changes nothing.
* Status changes go through ``set_status`` (``workflow.transition``), also those others cause:
  approvals, EDI confirmations, the receipt roll-up.
* Approval: the rules (``approval_rules``, below this module) say which levels a submitted PO
  needs; the decisions (``approvals``, above it) call ``mark_approved`` when the last level
  approves. Approval creates one ``ExpectedReceipt`` per ship-to warehouse, so Receiving sees
  what is due. POs from requisitions are ``conversion``'s (above this module).
* A revision bumps ``revision``, cancels the receipts that were expected for the old one
  and sends the PO back through approval: an approval never covers changed figures.
* Which expected receipts exist (one per ship-to warehouse, each made by its own branch, also
  across branches) is ``po_receipts``' business; this module says when.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import ExpectedReceipt, PurchaseOrder, PurchaseOrderLine
from app.models.types import MONEY_MAX, DomainValueError, to_money, to_qty, utcnow
from app.models.workflow import CLOSED_STATES
from app.services import audit, numbering
from app.services.auth import Actor
from app.services.buying import approval_rules
from app.services.buying.approval_rules import po_total
from app.services.buying.po_receipts import WAITING, cancel_receipt, cancel_receipts, create_expected_receipts
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.masterdata import branch_code, head_office_id
from app.services.money import line_total
from app.services.ownership import ownership, owns
from app.services.workflow import transition

#: states in which a PO may still be revised (goods not yet arriving against it)
REVISABLE = frozenset({"draft", "pending_approval", "rejected", "approved", "sent", "confirmed"})


@dataclass(frozen=True)
class LineInput:
    """One requested line. ``sku`` or ``item_id``; ``price`` None = the contract (or last) price."""

    sku: str = ""
    qty: Any = 0
    price: Any = None
    item_id: uuid.UUID | None = None
    ship_to_warehouse_id: uuid.UUID | None = None
    uom: str = ""
    expected_date: dt.date | None = None


@dataclass(frozen=True)
class _Line:
    item: Item
    qty: int
    price: Decimal
    ship_to: uuid.UUID
    uom: str
    expected_date: dt.date | None


def _find_supplier(session: Session, supplier: str | uuid.UUID) -> Supplier:
    if isinstance(supplier, uuid.UUID):
        found = session.get(Supplier, supplier)
    else:
        found = session.scalars(select(Supplier).where(Supplier.code == str(supplier).strip().upper())).one_or_none()
    if found is None or found.deleted_at is not None:
        raise NotFound("supplier", supplier)
    if not found.active:
        raise ValidationError("supplier", f"{found.code} is inactive")
    return found


def _find_warehouse(session: Session, wh: str | uuid.UUID) -> Warehouse:
    if isinstance(wh, uuid.UUID):
        found = session.get(Warehouse, wh)
    else:
        found = session.scalars(select(Warehouse).where(Warehouse.code == str(wh).strip().upper())).one_or_none()
    if found is None or found.deleted_at is not None:
        raise NotFound("warehouse", wh)
    return found


def _validate_lines(session: Session, supplier: Supplier, warehouse: Warehouse, lines: list[LineInput]) -> list[_Line]:
    if not lines:
        raise ValidationError("lines", "a purchase order needs at least one line")
    if len(lines) > 5000:
        raise ValidationError("lines", f"{len(lines)} lines is more than the 5,000 a PO may carry")
    skus = {ln.sku.strip().upper() for ln in lines if ln.sku and ln.item_id is None}
    by_sku = {i.sku: i for i in session.scalars(select(Item).where(Item.sku.in_(skus)))} if skus else {}
    ids = {ln.item_id for ln in lines if ln.item_id is not None}
    by_id = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_(ids)))} if ids else {}
    items: list[Item] = []
    for n, ln in enumerate(lines, 1):
        item = by_id.get(ln.item_id) if ln.item_id is not None else by_sku.get(ln.sku.strip().upper())
        if item is None or item.deleted_at is not None:
            raise NotFound(f"item on line {n}:", ln.sku or ln.item_id)
        if not item.active:
            raise ValidationError(f"line {n} sku", f"{item.sku} is inactive")
        items.append(item)
    terms = {t.item_id: t for t in session.scalars(select(ItemSupplier).where(
        ItemSupplier.supplier_id == supplier.id, ItemSupplier.item_id.in_([i.id for i in items])))}
    wh_ids = {ln.ship_to_warehouse_id for ln in lines if ln.ship_to_warehouse_id is not None} - {warehouse.id}
    known_wh = set(session.scalars(select(Warehouse.id).where(Warehouse.id.in_(wh_ids)))) if wh_ids else set()
    if wh_ids - known_wh:
        raise NotFound("ship-to warehouse", ", ".join(str(w) for w in wh_ids - known_wh))
    if wh_ids and not supplier.allows_consolidation:
        raise ValidationError("ship-to", f"supplier {supplier.code} does not accept one PO for several ship-to addresses")
    out: list[_Line] = []
    total = Decimal(0)
    for n, (ln, item) in enumerate(zip(lines, items, strict=True), 1):
        try:
            qty = to_qty(ln.qty, f"line {n} quantity")
            if ln.price is None or str(ln.price).strip() == "":
                t = terms.get(item.id)
                price = (t.contract_price or t.last_price) if t else Decimal(0)
                if price <= 0:
                    raise ValidationError(f"line {n} price", f"no contract or last price for {item.sku}: give a price")
            else:
                price = to_money(ln.price, f"line {n} price")
        except DomainValueError as e:
            raise ValidationError(*str(e).split(": ", 1)) from None
        if price < 0:
            raise ValidationError(f"line {n} price", f"{price} is negative")
        ext = Decimal(qty) * price
        total += ext
        if total > MONEY_MAX / 10:
            raise ValidationError(f"line {n}", "the order value is absurdly large")
        out.append(_Line(item, qty, price, ln.ship_to_warehouse_id or warehouse.id,
                         (ln.uom or item.base_uom).strip().upper()[:8], ln.expected_date))
    return out


def _add_lines(session: Session, po: PurchaseOrder, lines: list[_Line]) -> None:
    for n, ln in enumerate(lines, 1):
        session.add(PurchaseOrderLine(
            po_id=po.id, line_no=n, item_id=ln.item.id, ship_to_warehouse_id=ln.ship_to, qty_ordered=ln.qty,
            uom=ln.uom, unit_price=ln.price, expected_date=ln.expected_date or po.expected_date,
            owner_branch_id=po.owner_branch_id,
        ))


def create_po(
    session: Session, actor: Actor, supplier: str | uuid.UUID, warehouse: str | uuid.UUID, lines: list[LineInput], *,
    rush: bool = False, expected_date: dt.date | None = None, notes: str = "",
    requested_by_id: uuid.UUID | None = None, order_date: dt.date | None = None, submit_now: bool = False,
    number: str | None = None,
) -> PurchaseOrder:
    """A draft PO (numbered from the ship-to warehouse's branch series, e.g. DAL-PO-000123, or
    ``number`` when a legacy PO keeps its own); with ``submit_now`` it goes on to approval (or
    straight to approved) in the same transaction."""
    actor.require("po.create")
    sup = _find_supplier(session, supplier)
    wh = _find_warehouse(session, warehouse)
    _own_warehouse(session, wh)
    _check_expected(expected_date, order_date or dt.date.today())
    valid = _validate_lines(session, sup, wh, lines)
    for n, ln in enumerate(valid, 1):
        _check_expected(ln.expected_date, order_date or dt.date.today(), f"line {n} expected date")
    if number is not None:
        number = number.strip().upper()
        if not number or len(number) > 24:
            raise ValidationError("PO number", f"{number!r} must have 1 to 24 characters")
        if session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == number)) is not None:
            raise Conflict(f"purchase order {number} already exists")
    po = PurchaseOrder(
        number=number or numbering.next_number(session, wh.branch_id, "PO"),
        supplier_id=sup.id, warehouse_id=wh.id, status="draft", order_date=order_date or dt.date.today(),
        expected_date=expected_date, currency=sup.currency, payment_terms=sup.payment_terms, rush=rush,
        requested_by_id=requested_by_id or actor.user_id, notes=notes, owner_branch_id=wh.branch_id, revision=0,
    )
    session.add(po)
    session.flush()
    _add_lines(session, po, valid)
    session.flush()
    audit.record(session, actor, "po.create", "purchase_order", po.id, po.owner_branch_id, number=po.number,
                 supplier=sup.code, lines=len(valid), total=sum((Decimal(ln.qty) * ln.price for ln in valid), Decimal(0)))
    return submit(session, actor, po.id) if submit_now else po


def _check_expected(when: dt.date | None, order_date: dt.date, field: str = "expected date") -> None:
    """A delivery date before the order date cannot be met: refuse it rather than print it."""
    if when is not None and when < order_date:
        raise ValidationError(field, f"{when.isoformat()} is before the order date {order_date.isoformat()}: "
                              "a delivery cannot be expected in the past")


def _own_warehouse(session: Session, wh: Warehouse) -> None:
    """A PO belongs to (and is numbered by) its header warehouse's branch: a replicating site
    raises POs only for its own branch's warehouses (lines may still ship elsewhere)."""
    if not owns(session, wh.branch_id):
        raise PermissionDenied(
            f"warehouse {wh.code} belongs to another branch: this workstation raises purchase orders only for "
            f"its own branch's warehouses (a line of one may ship to {wh.code}); raise it at that branch")


def get_po(session: Session, ref: str | uuid.UUID) -> PurchaseOrder:
    if isinstance(ref, uuid.UUID):
        po = session.get(PurchaseOrder, ref)
    else:
        po = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == ref.strip().upper())).one_or_none()
    if po is None or po.deleted_at is not None:
        raise NotFound("purchase order", ref)
    return po


def lines_of(session: Session, po_id: uuid.UUID) -> list[PurchaseOrderLine]:
    return list(session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.po_id == po_id, PurchaseOrderLine.deleted_at.is_(None)).order_by(PurchaseOrderLine.line_no)))


def set_status(session: Session, actor: Actor | None, po: PurchaseOrder, new: str, **detail: Any) -> None:
    """The one writer of a PO's status: moves ``po`` to ``new`` if the workflow allows it, with an
    audit entry (``transition``). Approval, sending, confirmations (EDI), receipts (the roll-up),
    revision, cancel and close all come through here."""
    transition(po, new, actor, **detail)


def _require_owner(session: Session, po: PurchaseOrder, action: str) -> None:
    """Only the PO's own branch changes it; say so before the write guard would."""
    if not owns(session, po.owner_branch_id):
        code = branch_code(session, po.owner_branch_id, "its branch")
        raise PermissionDenied(f"purchase order {po.number} belongs to {code}: it can be {action} only at {code} "
                               "(this workstation changes only its own branch's purchase orders)")


def _refuse_final(po: PurchaseOrder, action: str) -> None:
    if po.status in CLOSED_STATES["purchase_order"]:
        raise Conflict(f"purchase order {po.number} is {po.status}; it cannot be {action}")


def submit(session: Session, actor: Actor, po_id: uuid.UUID) -> PurchaseOrder:
    """Run the approval rules: stamp their reasons; pending approval if any fired, else approved."""
    actor.require("po.create")
    po = get_po(session, po_id)
    _require_owner(session, po, "submitted")
    _refuse_final(po, "submitted")
    if po.status != "draft":
        raise Conflict(f"purchase order {po.number} is {po.status}; only a draft can be submitted")
    _seed_rules_once(session, actor)
    reasons = approval_rules.evaluate(session, po)
    po.approval_reasons = "\n".join(r.stamp() for r in reasons)
    if reasons:
        set_status(session, actor, po, "pending_approval", reasons=[r.stamp() for r in reasons])
    else:
        mark_approved(session, actor, po, auto=True)
    return po


def _seed_rules_once(session: Session, actor: Actor) -> None:
    """A company that never configured rules gets the sensible defaults on its first submit
    (approval must never be silently off because nobody opened Settings)."""
    own = ownership(session)
    if own.enforced and not own.head_office:  # rules are master data: a branch site has head office's
        return
    with contextlib.suppress(NotFound):  # no head office yet (a bare database): nothing owns rules
        approval_rules.ensure_default_rules(session, head_office_id(session), actor)


def mark_approved(session: Session, actor: Actor | None, po: PurchaseOrder, *, auto: bool = False) -> None:
    """Approved: create the expected receipts (Receiving's worklist) this site's branch owns;
    other ship-to branches create theirs in their settler."""
    set_status(session, actor, po, "approved", auto=auto)
    create_expected_receipts(session, actor, po)


def revise(
    session: Session, actor: Actor, po_id: uuid.UUID, *, lines: list[LineInput] | None = None,
    rush: bool | None = None, expected_date: dt.date | None = None, notes: str | None = None,
    resubmit: bool = True,
) -> PurchaseOrder:
    """New revision: replace lines/header fields, drop expected receipts, back through approval.

    A draft never submitted is edited in place (revision stays 0): nobody has seen it yet.
    """
    actor.require("po.create")
    po = get_po(session, po_id)
    _require_owner(session, po, "revised")
    _refuse_final(po, "revised")
    if po.status not in REVISABLE:
        raise Conflict(f"purchase order {po.number} is {po.status}; goods have arrived, it cannot be revised")
    if lines is not None:
        sup = _find_supplier(session, po.supplier_id)
        wh = _find_warehouse(session, po.warehouse_id)
        valid = _validate_lines(session, sup, wh, lines)
    was_submitted = po.status != "draft" or po.revision > 0
    old_total = po_total_of(session, po.id)
    if po.status != "draft":
        cancel_receipts(session, actor, po)
        set_status(session, actor, po, "draft", reason="revision")
    if was_submitted:
        po.revision += 1
    if lines is not None:
        # Replaced lines are soft-deleted (replication carries tombstones, never hard deletes).
        now = utcnow()
        for old in lines_of(session, po.id):
            old.deleted_at = now
            old.line_no = -old.line_no - 1000 * po.revision  # free the (po, line_no) key
        session.flush()
        _add_lines(session, po, valid)
    if rush is not None:
        po.rush = rush
    if expected_date is not None:
        _check_expected(expected_date, dt.date.today())
        po.expected_date = expected_date
    if notes is not None:
        po.notes = notes
    po.approval_reasons = ""
    session.flush()
    audit.record(session, actor, "po.revise", "purchase_order", po.id, po.owner_branch_id, number=po.number,
                 revision=po.revision, old_total=old_total, new_total=po_total_of(session, po.id))
    if resubmit and was_submitted:
        submit(session, actor, po.id)
    return po


def cancel(session: Session, actor: Actor, po_id: uuid.UUID, reason: str = "") -> PurchaseOrder:
    actor.require("po.create")
    po = get_po(session, po_id)
    _require_owner(session, po, "cancelled")
    _refuse_final(po, "cancelled")
    cancel_receipts(session, actor, po)
    set_status(session, actor, po, "cancelled", reason=reason)
    return po


def close(session: Session, actor: Actor, po_id: uuid.UUID, reason: str = "") -> PurchaseOrder:
    """Close a sent/confirmed/received PO: nothing more is expected (other branches' receipts
    still only expected are cancelled by their settler)."""
    actor.require("po.create")
    po = get_po(session, po_id)
    _require_owner(session, po, "closed")
    _refuse_final(po, "closed")
    set_status(session, actor, po, "closed", reason=reason)
    for er in session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id,
                                                            ExpectedReceipt.status.in_(WAITING))):
        if owns(session, er.owner_branch_id):
            cancel_receipt(session, actor, er, po)
    session.flush()
    return po


def po_total_of(session: Session, po_id: uuid.UUID) -> Decimal:
    return po_total(session, po_id)


# --------------------------------------------------------------------------- listing


@dataclass(frozen=True)
class PoRow:
    id: uuid.UUID
    number: str
    revision: int
    status: str
    supplier_code: str
    supplier_name: str
    order_date: dt.date
    total: Decimal
    currency: str
    lines: int
    rush: bool


def _filtered(status: str | None, supplier: str | None, search: str | None) -> Any:
    q = (select(PurchaseOrder, Supplier.code, Supplier.name).join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
         .where(PurchaseOrder.deleted_at.is_(None)))
    if status:
        q = q.where(PurchaseOrder.status == status)
    if supplier:
        q = q.where(Supplier.code == supplier.strip().upper())
    if search:
        q = q.where(PurchaseOrder.number.contains(search.strip().upper()))
    return q


def count_pos(session: Session, *, status: str | None = None, supplier: str | None = None, search: str | None = None) -> int:
    q = _filtered(status, supplier, search).subquery()
    return int(session.scalar(select(func.count()).select_from(q)) or 0)


def page_pos(session: Session, query: dict[str, str] | None, after: Any, limit: int) -> tuple[list[PoRow], Any]:
    """One page for the paged PO list: ``query`` holds the filter fields, ``after`` the offset."""
    q = query or {}
    offset = int(after or 0)
    rows = list_pos(session, status=q.get("status") or None, supplier=q.get("supplier") or None,
                    search=q.get("search") or None, offset=offset, limit=limit)
    return rows, (offset + len(rows) if len(rows) == limit else None)


def list_pos(session: Session, *, status: str | None = None, supplier: str | None = None, search: str | None = None,
             offset: int = 0, limit: int = 200) -> list[PoRow]:
    """One page of POs, newest first, with totals computed in SQL (fast on big lists)."""
    rows = session.execute(_filtered(status, supplier, search)
                           .order_by(PurchaseOrder.order_date.desc(), PurchaseOrder.number.desc())
                           .offset(offset).limit(limit)).all()
    ids = [r[0].id for r in rows]
    currency = {r[0].id: r[0].currency for r in rows}
    agg: dict[uuid.UUID, tuple[Decimal, int]] = {}
    if ids:
        for po_id, qty, price in session.execute(select(
                PurchaseOrderLine.po_id, PurchaseOrderLine.qty_ordered, PurchaseOrderLine.unit_price).where(
                PurchaseOrderLine.po_id.in_(ids), PurchaseOrderLine.deleted_at.is_(None))):
            t, n = agg.get(po_id, (Decimal(0), 0))
            agg[po_id] = (t + line_total(qty, price, currency[po_id]), n + 1)  # the total as the PDF prints it
    return [PoRow(po.id, po.number, po.revision, po.status, code, name, po.order_date,
                  agg.get(po.id, (Decimal(0), 0))[0], po.currency,
                  agg.get(po.id, (Decimal(0), 0))[1], po.rush) for po, code, name in rows]


# --------------------------------------------------------------------------- from requisitions


def home_warehouse(actor: Actor, wh_ids: list[uuid.UUID], session: Session, consolidates: bool = False) -> uuid.UUID:
    """The PO's own warehouse: one of this site's (else the actor's) branch if any line ships
    there, else the first. On a replicating site the PO must be its own branch's: a supplier that
    takes one PO for several ship-tos gets one of the site's warehouses as the header."""
    own = ownership(session)
    mine = own.branch_id if own.enforced else actor.branch_id
    for wid in wh_ids:
        wh = session.get(Warehouse, wid)
        if wh is not None and wh.branch_id == mine:
            return wid
    if own.enforced and consolidates:
        home = session.scalar(select(Warehouse.id).where(Warehouse.branch_id == mine, Warehouse.deleted_at.is_(None))
                              .order_by(Warehouse.code).limit(1))
        if home is not None:
            return home
    return wh_ids[0]
