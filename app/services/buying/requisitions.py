"""The buyer's decisions on recommendations, and requisitions (accepted needs).

Accepting turns worklist lines into requisitions (purchase or transfer). An open
requisition counts in the stock position of the next replenishment run, and a converted
one is represented by its PO line or transfer order, so a need is never recommended twice.
Snoozes and rejections suppress a pair's recommendation until a date. Each decision (and a lift,
which withdraws one) is a new row owned by the deciding site's branch; the newest decision of a
pair counts, so head office can snooze a branch's recommendation without editing its rows.

Every function validates the whole batch first and writes nothing on the first bad line;
each write appends an audit entry. The caller owns the transaction.

Across branches: converting is recorded by the converter as its own insert-only row, the audit
entry ``requisition.convert`` (entity = the requisition, detail = po_id / transfer_id), which every
site pulls. The requisition itself is changed only by its owner: at once when the converter owns
it, else by ``settle_conversions`` after the owner's next pull. Until then a requisition with a
conversion record counts as covered (``conversions_of``): it cannot be converted again, and the
replenishment run counts its PO line (on order), not the requisition.
"""

from __future__ import annotations

import datetime as dt
import json
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import REQUISITION_KINDS, RecommendationDecision, Requisition
from app.models.catalog import Item
from app.models.docs_common import AuditEntry
from app.models.exceptions import ExceptionItem
from app.models.inventory import TransferOrder
from app.models.org import Branch, Warehouse
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import PurchaseOrder
from app.models.types import DomainValueError, to_money, to_qty, utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.exception_inbox import raise_exception
from app.services.numbering import next_number
from app.services.ownership import acting_branch, ownership, owns, settler
from app.services.replenishment.engine import Recommendation
from app.services.workflow import transition

#: rejection reasons and how many days each keeps the recommendation away
REJECT_REASONS: dict[str, int] = {
    "overstock": 30, "discontinued": 365, "seasonal": 90, "supplier_problem": 14, "forecast_wrong": 30, "other": 30,
}
MAX_SNOOZE_DAYS = 366
#: the audit action that records a conversion (the converter's row; the owner settles from it)
CONVERT_ACTION = "requisition.convert"

Pair = tuple[uuid.UUID, uuid.UUID]


@dataclass(frozen=True)
class AcceptLine:
    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    kind: str  # purchase | transfer
    qty: Any  # validated to a whole positive quantity
    supplier_id: uuid.UUID | None = None
    source_warehouse_id: uuid.UUID | None = None
    recommended_qty: int = 0
    unit_price: Any = None  # default: the item-supplier price
    need_by: dt.date | None = None
    why: Mapping[str, Any] = field(default_factory=dict)


def lines_from_recommendations(recs: Sequence[Recommendation], qty: Mapping[Pair, Any] | None = None,
                               choice: Mapping[Pair, str] | None = None) -> list[AcceptLine]:
    """Worklist lines -> accept lines, with the buyer's edited quantity and option choice."""
    out = []
    for r in recs:
        kind = (choice or {}).get(r.key, r.preferred)
        opt = r.transfer if kind == "transfer" else r.purchase
        if opt is None:
            raise ValidationError(f"{r.sku} at {r.warehouse_code}", f"has no {kind} option")
        out.append(AcceptLine(
            item_id=r.item_id, warehouse_id=r.warehouse_id, kind=kind, qty=(qty or {}).get(r.key, opt.qty),
            supplier_id=opt.source_id if kind == "purchase" else None,
            source_warehouse_id=opt.source_id if kind == "transfer" else None, recommended_qty=opt.qty,
            unit_price=opt.unit_cost if kind == "purchase" else Decimal(0), need_by=opt.arrival,
            why={**r.why.as_dict(), "option": opt.as_dict()}))
    return out


def _qty(value: Any, field_name: str) -> int:
    try:
        return to_qty(value, field_name)
    except DomainValueError as e:
        raise ValidationError(field_name, str(e).split(": ", 1)[-1]) from None


def _owner(session: Session, actor: Actor, wh: Warehouse) -> uuid.UUID:
    """The branch a requisition or decision for ``wh`` belongs to: the acting site's branch
    (the server lets it write only its own rows), which on a standalone file is ``wh``'s branch.
    A branch user may act only for their own branch's warehouses."""
    if actor.branch_id is not None and actor.branch_id != wh.branch_id and "admin" not in actor.roles:
        own = session.get(Branch, actor.branch_id)
        if own is None or not own.is_head_office:
            raise PermissionDenied(f"{actor.username} may not requisition for warehouse {wh.code} of another branch")
    return acting_branch(session, wh.branch_id)


def accept(session: Session, actor: Actor, lines: Sequence[AcceptLine]) -> list[Requisition]:
    """Create one requisition per line; any bad line rejects the whole batch."""
    actor.require("requisition.create")
    if not lines:
        raise ValidationError("lines", "nothing to accept")
    items = {i.id: i for i in session.scalars(select(Item).where(Item.id.in_({ln.item_id for ln in lines})))}
    wh_ids = {ln.warehouse_id for ln in lines} | {ln.source_warehouse_id for ln in lines if ln.source_warehouse_id}
    whs = {w.id: w for w in session.scalars(select(Warehouse).where(Warehouse.id.in_(wh_ids)))}
    open_rows = {(r.item_id, r.warehouse_id): r for r in session.scalars(select(Requisition).where(
        Requisition.status == "open", Requisition.deleted_at.is_(None),
        Requisition.item_id.in_({ln.item_id for ln in lines})))}
    seen: set[Pair] = set()
    planned: list[tuple[AcceptLine, int, Decimal, str, uuid.UUID]] = []
    for n, ln in enumerate(lines, 1):
        where = f"line {n}"
        item = items.get(ln.item_id)
        if item is None or item.deleted_at is not None:
            raise NotFound("item", ln.item_id)
        wh = whs.get(ln.warehouse_id)
        if wh is None:
            raise NotFound("warehouse", ln.warehouse_id)
        if ln.kind not in REQUISITION_KINDS:
            raise ValidationError(f"{where} kind", f"must be one of {', '.join(REQUISITION_KINDS)}")
        qty = _qty(ln.qty, f"{where} quantity")
        key = (ln.item_id, ln.warehouse_id)
        if key in seen:
            raise ValidationError(where, f"{item.sku} at {wh.code} appears twice in this batch")
        seen.add(key)
        if key in open_rows:
            raise Conflict(f"{item.sku} at {wh.code} is already covered by open requisition {open_rows[key].number}")
        price, currency = Decimal(0), item.currency
        if ln.kind == "purchase":
            link = session.scalars(select(ItemSupplier).where(
                ItemSupplier.item_id == item.id, ItemSupplier.supplier_id == ln.supplier_id,
                ItemSupplier.deleted_at.is_(None))).first() if ln.supplier_id else None
            if link is None:
                raise ValidationError(f"{where} supplier", f"no supplier of {item.sku} given or linked")
            if qty % max(link.pack_size, 1):
                lo = qty // link.pack_size * link.pack_size
                raise ValidationError(f"{where} quantity", f"{qty} is not whole packs of {link.pack_size} "
                                      f"(use {lo or link.pack_size} or {lo + link.pack_size})")
            if qty < link.min_order_qty:
                raise ValidationError(f"{where} quantity", f"{qty} is below the minimum order of {link.min_order_qty}")
            try:
                price = to_money(ln.unit_price if ln.unit_price is not None else
                                 (link.contract_price if link.contracted or not link.last_price else link.last_price),
                                 f"{where} unit price")
            except DomainValueError as e:
                raise ValidationError(*str(e).split(": ", 1)) from None
            if price < 0:
                raise ValidationError(f"{where} unit price", "must not be negative")
            currency = link.currency
        else:
            src = whs.get(ln.source_warehouse_id) if ln.source_warehouse_id else None
            if src is None:
                raise NotFound("source warehouse", ln.source_warehouse_id or "(none given)")
            if src.id == wh.id:
                raise ValidationError(f"{where} source warehouse", "must differ from the receiving warehouse")
        planned.append((ln, qty, price, currency, _owner(session, actor, wh)))

    out = []
    for ln, qty, price, currency, owner in planned:
        req = Requisition(
            number=next_number(session, owner, "RQ"), kind=ln.kind, status="open", item_id=ln.item_id,
            warehouse_id=ln.warehouse_id, qty=qty, recommended_qty=int(ln.recommended_qty or 0),
            supplier_id=ln.supplier_id if ln.kind == "purchase" else None,
            source_warehouse_id=ln.source_warehouse_id if ln.kind == "transfer" else None,
            unit_price=price, currency=currency, need_by=ln.need_by, why=json.dumps(dict(ln.why), default=str),
            requested_by_id=actor.user_id, owner_branch_id=owner)
        session.add(req)
        session.flush()
        audit.record(session, actor, "requisition.create", "requisition", req.id, owner, number=req.number,
                     kind=req.kind, qty=qty, recommended_qty=req.recommended_qty,
                     edited=bool(req.recommended_qty and qty != req.recommended_qty))
        out.append(req)
    session.flush()
    return out


def _pairs_checked(session: Session, actor: Actor, pairs: Sequence[Pair]) -> list[tuple[Pair, uuid.UUID]]:
    if not pairs:
        raise ValidationError("recommendations", "none selected")
    out = []
    for item_id, wh_id in pairs:
        if session.get(Item, item_id) is None:
            raise NotFound("item", item_id)
        wh = session.get(Warehouse, wh_id)
        if wh is None:
            raise NotFound("warehouse", wh_id)
        out.append(((item_id, wh_id), _owner(session, actor, wh)))
    return out


def _decide(session: Session, actor: Actor, pairs: Sequence[Pair], kind: str, until: dt.date,
            reason: str, today: dt.date | None) -> list[RecommendationDecision]:
    """One new decision row per pair, owned by the acting branch; the newest decision of a pair
    is the one that counts (``reads.suppressed``), so an earlier one needs no edit."""
    checked = _pairs_checked(session, actor, pairs)
    out = []
    for (item_id, wh_id), owner in checked:
        for old in _active_decisions(session, [(item_id, wh_id)], today).get((item_id, wh_id), []):
            audit.record(session, actor, "recommendation.lift", "recommendation_decision", old.id,
                         old.owner_branch_id, replaced_by=kind)
        d = RecommendationDecision(item_id=item_id, warehouse_id=wh_id, kind=kind, until_date=until, reason=reason,
                                   decided_by_id=actor.user_id, owner_branch_id=owner)
        session.add(d)
        session.flush()
        audit.record(session, actor, f"recommendation.{kind}", "recommendation_decision", d.id, owner,
                     item_id=item_id, warehouse_id=wh_id, until=until, reason=reason)
        out.append(d)
    return out


def snooze(session: Session, actor: Actor, pairs: Sequence[Pair], until: dt.date, reason: str = "",
           *, today: dt.date | None = None) -> list[RecommendationDecision]:
    """Hide the recommendations of ``pairs`` until ``until`` (they return on that day)."""
    actor.require("replenish.run")
    today = today or dt.date.today()
    if not isinstance(until, dt.date) or until <= today:
        raise ValidationError("snooze until", f"{until} must be a date after today ({today})")
    if (until - today).days > MAX_SNOOZE_DAYS:
        raise ValidationError("snooze until", f"{until} is more than {MAX_SNOOZE_DAYS} days away")
    return _decide(session, actor, pairs, "snooze", until, reason.strip(), today)


def reject(session: Session, actor: Actor, pairs: Sequence[Pair], reason: str, note: str = "",
           *, today: dt.date | None = None) -> list[RecommendationDecision]:
    """Reject recommendations for a known reason; they stay away for that reason's period."""
    actor.require("replenish.run")
    code = (reason or "").strip().lower()
    if code not in REJECT_REASONS:
        raise ValidationError("reject reason", f"{reason!r} is not one of {', '.join(REJECT_REASONS)}")
    until = (today or dt.date.today()) + dt.timedelta(days=REJECT_REASONS[code])
    text = code + (f": {note.strip()}" if note.strip() else "")
    return _decide(session, actor, pairs, "reject", until, text, today)


#: the decision kind that withdraws the snooze/rejection before it (a row of the lifter's own)
LIFT = "lift"


def _active_decisions(session: Session, pairs: Sequence[Pair],
                      today: dt.date | None = None) -> dict[Pair, list[RecommendationDecision]]:
    """The snooze/rejection currently in force per pair (its newest decision, unless a lift or
    expired), as a one-element list; pairs with none are absent."""
    today = today or dt.date.today()
    out: dict[Pair, list[RecommendationDecision]] = {}
    for item_id, wh_id in dict.fromkeys(pairs):
        newest = session.scalars(select(RecommendationDecision).where(
            RecommendationDecision.item_id == item_id, RecommendationDecision.warehouse_id == wh_id,
            RecommendationDecision.deleted_at.is_(None)).order_by(
            RecommendationDecision.hlc.desc(), RecommendationDecision.hlc_site.desc(),
            RecommendationDecision.id.desc()).limit(1)).first()
        if newest is not None and newest.kind != LIFT and newest.until_date > today:
            out[(item_id, wh_id)] = [newest]
    return out


def lift(session: Session, actor: Actor, pairs: Sequence[Pair], *, today: dt.date | None = None) -> int:
    """Withdraw active snoozes/rejections of ``pairs``; returns how many were lifted.

    Lifting writes a "lift" decision owned by the acting branch (the newest decision counts),
    never an edit of the decision it withdraws, which may be another branch's row."""
    actor.require("replenish.run")
    checked = _pairs_checked(session, actor, pairs)
    today = today or dt.date.today()
    active = _active_decisions(session, [p for p, _ in checked], today)
    n = 0
    for pair, owner in checked:
        for old in active.pop(pair, []):
            d = RecommendationDecision(item_id=pair[0], warehouse_id=pair[1], kind=LIFT, until_date=today,
                                       reason=f"lifts {old.kind}", decided_by_id=actor.user_id, owner_branch_id=owner)
            session.add(d)
            session.flush()
            audit.record(session, actor, "recommendation.lift", "recommendation_decision", old.id,
                         old.owner_branch_id, lift_id=d.id)
            n += 1
    session.flush()
    return n


@dataclass(frozen=True)
class RequisitionRow:
    id: uuid.UUID
    number: str
    kind: str
    status: str
    sku: str
    warehouse: str
    qty: int
    recommended_qty: int
    source: str  # supplier code or sending warehouse code
    unit_price: Decimal
    need_by: dt.date | None
    po_id: uuid.UUID | None
    transfer_id: uuid.UUID | None
    created_at: dt.datetime
    #: an open requisition another branch already put on a document ("purchase order DAL-PO-000001")
    covered_by: str = ""


def list_requisitions(session: Session, *, status: str | None = None, kind: str | None = None,
                      warehouse_id: uuid.UUID | None = None, limit: int = 5000) -> list[RequisitionRow]:
    q = (select(Requisition, Item.sku, Warehouse.code).join(Item, Item.id == Requisition.item_id)
         .join(Warehouse, Warehouse.id == Requisition.warehouse_id).where(Requisition.deleted_at.is_(None)))
    if status:
        q = q.where(Requisition.status == status)
    if kind:
        q = q.where(Requisition.kind == kind)
    if warehouse_id:
        q = q.where(Requisition.warehouse_id == warehouse_id)
    sups = {s.id: s.code for s in session.scalars(select(Supplier))}
    whs = {w.id: w.code for w in session.scalars(select(Warehouse))}
    out = []
    for r, sku, code in session.execute(q.order_by(Requisition.number.desc()).limit(limit)):
        src_id = r.supplier_id if r.kind == "purchase" else r.source_warehouse_id
        src = (sups.get(src_id) or whs.get(src_id) or "") if src_id else ""
        out.append(RequisitionRow(r.id, r.number, r.kind, r.status, sku, code, r.qty, r.recommended_qty, src,
                                  r.unit_price, r.need_by, r.po_id, r.transfer_id, r.created_at))
    covered = conversions_of(session, [r.id for r in out if r.status == "open"])
    if covered:
        out = [replace(r, po_id=covered[r.id].po_id, transfer_id=covered[r.id].transfer_id,
                       covered_by=covered[r.id].label(session)) if r.id in covered else r for r in out]
    return out


def _load(session: Session, ids: Sequence[uuid.UUID]) -> list[Requisition]:
    if not ids:
        raise ValidationError("requisitions", "none selected")
    rows = {r.id: r for r in session.scalars(select(Requisition).where(Requisition.id.in_(list(ids))))}
    out = []
    for rid in dict.fromkeys(ids):
        r = rows.get(rid)
        if r is None or r.deleted_at is not None:
            raise NotFound("requisition", rid)
        out.append(r)
    return out


def open_requisitions(session: Session, kind: str | None = None) -> list[Requisition]:
    q = select(Requisition).where(Requisition.status == "open", Requisition.deleted_at.is_(None))
    if kind:
        q = q.where(Requisition.kind == kind)
    return list(session.scalars(q.order_by(Requisition.number)))


def update_qty(session: Session, actor: Actor, requisition_id: uuid.UUID, qty: Any) -> Requisition:
    """Change the quantity of an open requisition (pack and minimum rules apply to purchases)."""
    actor.require("requisition.create")
    (r,) = _load(session, [requisition_id])
    if r.status != "open":
        raise Conflict(f"requisition {r.number} is {r.status}: only an open requisition can be edited")
    _refuse_covered(session, [r])
    new = _qty(qty, "quantity")
    if r.kind == "purchase" and r.supplier_id:
        link = session.scalars(select(ItemSupplier).where(ItemSupplier.item_id == r.item_id,
                                                          ItemSupplier.supplier_id == r.supplier_id)).first()
        if link and new % max(link.pack_size, 1):
            raise ValidationError("quantity", f"{new} is not whole packs of {link.pack_size}")
        if link and new < link.min_order_qty:
            raise ValidationError("quantity", f"{new} is below the minimum order of {link.min_order_qty}")
    old, r.qty = r.qty, new
    session.flush()
    audit.record(session, actor, "requisition.edit", "requisition", r.id, r.owner_branch_id, old_qty=old, qty=new)
    return r


def update_price(session: Session, actor: Actor, requisition_id: uuid.UUID, price: Any) -> Requisition:
    """Set the unit price of an open purchase requisition (a supplier without a contract or last
    price: the buyer types the quoted price before it becomes a PO)."""
    actor.require("requisition.create")
    (r,) = _load(session, [requisition_id])
    if r.status != "open":
        raise Conflict(f"requisition {r.number} is {r.status}: only an open requisition can be edited")
    if r.kind != "purchase":
        raise ValidationError("unit price", f"{r.number} is a transfer: it has no price")
    _refuse_covered(session, [r])
    try:
        new = to_money(price, "unit price")
    except DomainValueError as e:
        raise ValidationError(*str(e).split(": ", 1)) from None
    if new <= 0:
        raise ValidationError("unit price", f"{new} must be more than zero")
    old, r.unit_price = r.unit_price, new
    session.flush()
    audit.record(session, actor, "requisition.edit", "requisition", r.id, r.owner_branch_id, old_price=old, price=new)
    return r


def cancel(session: Session, actor: Actor, requisition_ids: Sequence[uuid.UUID], reason: str) -> list[Requisition]:
    actor.require("requisition.create")
    if not (reason or "").strip():
        raise ValidationError("cancel reason", "is required")
    rows = _load(session, requisition_ids)
    for r in rows:
        if r.status != "open":
            raise Conflict(f"requisition {r.number} is {r.status}: only an open requisition can be cancelled")
    _refuse_covered(session, rows)
    for r in rows:
        r.cancel_reason = reason.strip()
        transition(r, "cancelled", actor, reason)
    session.flush()
    return rows


def _refuse_covered(session: Session, rows: Sequence[Requisition]) -> None:
    """An open requisition another branch already put on a document is no longer the buyer's to change."""
    recorded = conversions_of(session, [r.id for r in rows])
    for r in rows:
        if r.id in recorded:
            raise Conflict(f"requisition {r.number} is already on {recorded[r.id].label(session)}; "
                           "it becomes converted when this branch next syncs")


@dataclass(frozen=True)
class Conversion:
    """What a requisition was converted into, as recorded by whoever converted it."""

    po_id: uuid.UUID | None
    transfer_id: uuid.UUID | None

    def label(self, session: Session) -> str:

        if self.po_id is not None:
            number = session.scalar(select(PurchaseOrder.number).where(PurchaseOrder.id == self.po_id))
            return f"purchase order {number or self.po_id}"

        number = session.scalar(select(TransferOrder.number).where(TransferOrder.id == self.transfer_id))
        return f"transfer {number or self.transfer_id}"


def conversions_of(session: Session, requisition_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Conversion]:
    """Conversion records (any branch's) of these requisitions; the first one recorded counts."""
    out: dict[uuid.UUID, Conversion] = {}
    ids = list(dict.fromkeys(requisition_ids))
    for i in range(0, len(ids), 500):
        rows = session.execute(select(AuditEntry.entity_id, AuditEntry.detail).where(
            AuditEntry.entity == "requisition", AuditEntry.entity_id.in_(ids[i:i + 500]),
            AuditEntry.action == CONVERT_ACTION).order_by(AuditEntry.created_at, AuditEntry.id))
        for rid, detail in rows:
            if rid is None or rid in out:
                continue
            d = json.loads(detail or "{}")
            po, tr = d.get("po_id"), d.get("transfer_id")
            out[rid] = Conversion(uuid.UUID(po) if po else None, uuid.UUID(tr) if tr else None)
    return out


def requisitions_on_po(session: Session, po_id: uuid.UUID) -> list[Requisition]:
    """The requisitions behind a PO: converted into it, or recorded as converted by the PO's
    branch and not yet settled by the requisition's owner."""

    rows = {r.id: r for r in session.scalars(select(Requisition).where(Requisition.po_id == po_id))}
    owner = session.scalar(select(PurchaseOrder.owner_branch_id).where(PurchaseOrder.id == po_id))
    detail = session.scalar(select(AuditEntry.detail).where(
        AuditEntry.entity == "purchase_order", AuditEntry.entity_id == po_id,
        AuditEntry.action == "po.from_requisitions", AuditEntry.owner_branch_id == owner))
    listed = [uuid.UUID(x) for x in json.loads(detail or "{}").get("requisition_ids", [])]
    if listed:
        rows.update({r.id: r for r in session.scalars(select(Requisition).where(Requisition.id.in_(listed)))})
    return list(rows.values())


def mark_converted(session: Session, actor: Actor, requisition_ids: Sequence[uuid.UUID],
                   po_id: uuid.UUID | None = None, transfer_id: uuid.UUID | None = None) -> list[Requisition]:
    """Record that requisitions became a PO (purchase) or a transfer order (transfer).

    Called by the purchasing and transfer services inside their own transaction. Calling it
    again with the same document is a no-op; a different document is a conflict. A requisition
    of another branch is not edited here: the conversion record (this site's audit entry) is
    what its owner's settler marks it converted from.
    """
    if not any(actor.can(a) for a in ("requisition.create", "po.create", "transfer.create")):
        raise PermissionDenied(f"{actor.username} may not convert requisitions")
    if (po_id is None) == (transfer_id is None):
        raise ValidationError("converted to", "give exactly one of po_id or transfer_id")
    want = "purchase" if po_id else "transfer"
    rows = _load(session, requisition_ids)
    recorded = conversions_of(session, [r.id for r in rows if r.status == "open"])
    todo = []
    for r in rows:
        if r.kind != want:
            raise ValidationError(f"requisition {r.number}", f"is a {r.kind} requisition, not a {want}")
        if r.status == "converted" and (r.po_id, r.transfer_id) == (po_id, transfer_id):
            continue
        if r.status != "open":
            raise Conflict(f"requisition {r.number} is {r.status}: it cannot be converted")
        rec = recorded.get(r.id)
        if rec is not None and (rec.po_id, rec.transfer_id) == (po_id, transfer_id):
            continue
        if rec is not None:
            raise Conflict(f"requisition {r.number} is already on {rec.label(session)}; "
                           "its branch marks it converted when it next syncs")
        todo.append(r)
    for r in todo:
        if owns(session, r.owner_branch_id):
            r.po_id, r.transfer_id = po_id, transfer_id
            transition(r, "converted", actor, action=CONVERT_ACTION, po_id=po_id, transfer_id=transfer_id)
        else:  # the conversion record alone: the owner's settler marks it converted from this entry
            audit.record(session, actor, CONVERT_ACTION, "requisition", r.id, r.owner_branch_id,
                         po_id=po_id, transfer_id=transfer_id, number=r.number)
    if po_id is not None and todo:

        po_owner = session.scalar(select(PurchaseOrder.owner_branch_id).where(PurchaseOrder.id == po_id))
        if po_owner is not None:
            audit.record(session, actor, "po.from_requisitions", "purchase_order", po_id, po_owner,
                         requisition_ids=[str(r.id) for r in todo])
    session.flush()
    return rows


def _document_here(session: Session, conv: Conversion) -> bool:
    """Has the document the requisition was converted into replicated to this site yet?"""
    if conv.po_id is not None:

        return session.get(PurchaseOrder, conv.po_id) is not None

    return conv.transfer_id is not None and session.get(TransferOrder, conv.transfer_id) is not None


@settler("requisitions")
def settle_conversions(session: Session) -> int:
    """After a pull: this branch's open requisitions that another branch put on a PO or transfer
    become converted (once the document itself has arrived). Returns how many."""
    own = ownership(session)
    q = select(Requisition).where(Requisition.status == "open", Requisition.deleted_at.is_(None))
    if own.enforced:
        q = q.where(Requisition.owner_branch_id == own.branch_id)
    reqs = list(session.scalars(q))
    recorded = conversions_of(session, [r.id for r in reqs]) if reqs else {}
    n = 0
    for r in reqs:
        conv = recorded.get(r.id)
        if conv is None or not _document_here(session, conv):
            continue
        if (conv.po_id is not None) != (r.kind == "purchase"):
            continue  # a record that does not fit the requisition: leave it open for a person
        r.po_id, r.transfer_id = conv.po_id, conv.transfer_id
        transition(r, "converted", None, action="requisition.converted", po_id=conv.po_id,
                   transfer_id=conv.transfer_id)
        n += 1
    session.flush()
    return n + _report_cancelled_on_po(session, own.branch_id if own.enforced else None)


#: how far back a cancelled requisition is checked against conversions that arrived later
_CANCEL_RACE_DAYS = 30


def _report_cancelled_on_po(session: Session, branch_id: uuid.UUID | None) -> int:
    """A requisition this branch cancelled before it pulled another branch's PO for it: the PO
    still orders the goods. One exception item (owned here, for the buyer) says so."""

    q = select(Requisition).where(Requisition.status == "cancelled", Requisition.kind == "purchase",
                                  Requisition.updated_at >= utcnow() - dt.timedelta(days=_CANCEL_RACE_DAYS))
    if branch_id is not None:
        q = q.where(Requisition.owner_branch_id == branch_id)
    reqs = list(session.scalars(q))
    if not reqs:
        return 0
    n = 0
    for rid, conv in conversions_of(session, [r.id for r in reqs]).items():
        r = next(x for x in reqs if x.id == rid)
        key = f"requisition.cancelled_on_po:{rid}"
        po = session.get(PurchaseOrder, conv.po_id) if conv.po_id else None
        if po is None or session.scalar(select(ExceptionItem.id).where(
                ExceptionItem.key == key, ExceptionItem.owner_branch_id == r.owner_branch_id)):
            continue
        raise_exception(
            session, None, kind="requisition.cancelled_on_po", role="buyer", owner_branch_id=r.owner_branch_id,
            entity="purchase_order", entity_id=po.id, entity_ref=po.number, key=key,
            title=f"{r.number} was cancelled, but purchase order {po.number} orders it",
            detail=(f"Requisition {r.number} ({r.qty} units) was cancelled by its branch before it learnt that "
                    f"{po.number} had been raised for it. Revise the PO or keep the goods, then resolve this."))
        n += 1
    return n
