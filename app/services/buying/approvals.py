"""Approval rules and decisions for purchase orders.

Why this shape:

* Rules are rows (``ApprovalRule``), edited in Settings, so thresholds are not hard-coded;
  ``ensure_default_rules`` seeds sensible ones when a company has none.
* When a PO is submitted, every rule that fires stamps one line on
  ``purchase_order.approval_reasons`` as ``L<level>/<role>: <why>``. The stamped lines are
  the requirement of that revision: changing a rule later does not move the goal posts of a
  PO already in the queue, and the buyer sees why it needs approval.
* Every level that fired must be approved, lowest level first, each by a different person
  holding that level's role (other ERPs let orders through after the first approver).
  The requester never approves their own PO; ``approvers_of`` lets Receiving refuse to let
  an approver receive it.
* A revision starts a new set of decisions (decisions are per revision, an insert-only ledger).
* Across branches a decision is a row of the *acting* branch (an approver at head office approves
  Dallas's PO with a head-office row); the PO's status follows from the decisions of its current
  revision (``apply_decisions``), at once when this site owns the PO, else in the owner's settler
  after its next pull. The inbox and ``why_not`` read the ledger, so the next level is actionable
  everywhere as soon as the decision has replicated.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.approvals import DECISIONS, RULE_KINDS, VARIANCE_BASES, ApprovalDecision, ApprovalRule
from app.models.parties import ItemSupplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.models.types import DomainValueError, to_money
from app.models.users import ROLES
from app.services import audit
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import Conflict, PermissionDenied, ValidationError
from app.services.ownership import acting_branch, ownership, owns, settler

#: roles that may stand in for a level's role (a manager may approve an approver level)
ROLE_COVERS: dict[str, frozenset[str]] = {
    "approver": frozenset({"approver", "manager"}),
    "manager": frozenset({"manager"}),
}

_REASON_RE = re.compile(r"^L(\d+)/([a-z_]+): (.*)$")


# --------------------------------------------------------------------------- queries used by others


def approvers_of(session: Session, po_id: uuid.UUID) -> set[uuid.UUID]:
    """Users who approved any level of any revision of the PO (segregation of duties:
    Receiving refuses to let them receive it)."""
    return set(
        session.scalars(
            select(ApprovalDecision.approver_id).where(
                ApprovalDecision.po_id == po_id, ApprovalDecision.decision == "approve"
            )
        )
    )


# --------------------------------------------------------------------------- rules CRUD


DEFAULT_RULES: list[dict[str, Any]] = [
    {"name": "Orders above 5,000", "kind": "value_threshold", "level": 1, "amount": "5000", "approver_role": "approver"},
    {"name": "Orders above 25,000", "kind": "value_threshold", "level": 2, "amount": "25000", "approver_role": "manager"},
    {"name": "Non-contracted supplier", "kind": "non_contracted", "level": 1, "approver_role": "approver"},
    {"name": "Rush order", "kind": "rush", "level": 1, "approver_role": "approver"},
    {"name": "Price 10% above contract", "kind": "price_variance", "level": 1, "percent": "10",
     "basis": "contract", "approver_role": "approver"},
]


def list_rules(session: Session, *, include_inactive: bool = True) -> list[ApprovalRule]:
    q = select(ApprovalRule).where(ApprovalRule.deleted_at.is_(None))
    if not include_inactive:
        q = q.where(ApprovalRule.active.is_(True))
    return list(session.scalars(q.order_by(ApprovalRule.level, ApprovalRule.kind, ApprovalRule.name)))


def ensure_default_rules(session: Session, owner_branch_id: uuid.UUID, actor: Actor | None = None) -> int:
    """Seed the default rules when none exist (deleted ones count as existing: the company
    chose to remove them). Returns how many were created."""
    if session.scalars(select(ApprovalRule.id).limit(1)).first() is not None:
        return 0
    for spec in DEFAULT_RULES:
        rule = _build_rule(ApprovalRule(owner_branch_id=owner_branch_id), spec)
        session.add(rule)
    session.flush()
    audit.record(session, actor, "approval_rules.seed", "approval_rule", None, owner_branch_id, count=len(DEFAULT_RULES))
    return len(DEFAULT_RULES)


def _money(value: Any, fld: str) -> Decimal:
    try:
        d = to_money(value, fld)
    except DomainValueError as e:
        raise ValidationError(fld, str(e).split(": ", 1)[-1]) from None
    if d < 0:
        raise ValidationError(fld, "must not be negative")
    return d


def _build_rule(rule: ApprovalRule, spec: dict[str, Any]) -> ApprovalRule:
    """Validate ``spec`` fully before touching ``rule`` (nothing half-written)."""
    known = {"name", "kind", "level", "amount", "percent", "basis", "approver_role", "active"}
    unknown = set(spec) - known
    if unknown:
        raise ValidationError("rule", f"unknown field(s) {', '.join(sorted(unknown))}")
    kind = spec.get("kind", rule.kind)
    if kind not in RULE_KINDS:
        raise ValidationError("kind", f"must be one of {', '.join(RULE_KINDS)}")
    name = str(spec.get("name", rule.name) or "").strip()
    if not name:
        raise ValidationError("name", "is required")
    try:
        level = int(spec.get("level", rule.level if rule.level is not None else 1))
    except (TypeError, ValueError):
        raise ValidationError("level", "must be a whole number") from None
    if not 1 <= level <= 9:
        raise ValidationError("level", "must be between 1 and 9")
    amount = _money(spec.get("amount", rule.amount if rule.amount is not None else "0"), "amount")
    percent = _money(spec.get("percent", rule.percent if rule.percent is not None else "0"), "percent")
    if percent > 1000:
        raise ValidationError("percent", "must not be above 1000")
    basis = spec.get("basis", rule.basis or "contract")
    if basis not in VARIANCE_BASES:
        raise ValidationError("basis", f"must be one of {', '.join(VARIANCE_BASES)}")
    role = spec.get("approver_role", rule.approver_role or "approver")
    if role not in ROLES or role not in ROLE_COVERS:
        raise ValidationError("approver role", f"must be one of {', '.join(ROLE_COVERS)}")
    if kind == "value_threshold" and amount <= 0:
        raise ValidationError("amount", "a value threshold needs an amount above zero")
    active = spec.get("active", rule.active if rule.active is not None else True)
    rule.name, rule.kind, rule.level, rule.amount, rule.percent = name, kind, level, amount, percent
    rule.basis, rule.approver_role, rule.active = basis, role, bool(active)
    return rule


def create_rule(session: Session, actor: Actor, owner_branch_id: uuid.UUID, **spec: Any) -> ApprovalRule:
    actor.require("settings.edit")
    rule = _build_rule(ApprovalRule(owner_branch_id=owner_branch_id), spec)
    session.add(rule)
    session.flush()
    audit.record(session, actor, "approval_rule.create", "approval_rule", rule.id, owner_branch_id, **_rule_detail(rule))
    return rule


def update_rule(session: Session, actor: Actor, rule_id: uuid.UUID, **spec: Any) -> ApprovalRule:
    actor.require("settings.edit")
    rule = get_live(session, ApprovalRule, rule_id, "approval rule")
    before = _rule_detail(rule)
    # validate on a scratch copy so a bad field leaves the row untouched
    scratch = ApprovalRule(**{k: getattr(rule, k) for k in ("name", "kind", "level", "amount", "percent",
                                                            "basis", "approver_role", "active")})
    _build_rule(scratch, spec)
    for k in ("name", "kind", "level", "amount", "percent", "basis", "approver_role", "active"):
        setattr(rule, k, getattr(scratch, k))
    session.flush()
    audit.record(session, actor, "approval_rule.update", "approval_rule", rule.id, rule.owner_branch_id,
                 before=before, after=_rule_detail(rule))
    return rule


def delete_rule(session: Session, actor: Actor, rule_id: uuid.UUID) -> None:
    actor.require("settings.edit")
    rule = get_live(session, ApprovalRule, rule_id, "approval rule")
    from app.models.types import utcnow

    rule.deleted_at = utcnow()
    session.flush()
    audit.record(session, actor, "approval_rule.delete", "approval_rule", rule.id, rule.owner_branch_id,
                 **_rule_detail(rule))


def _rule_detail(rule: ApprovalRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "level": rule.level, "amount": rule.amount,
            "percent": rule.percent, "basis": rule.basis, "approver_role": rule.approver_role,
            "active": rule.active}


# --------------------------------------------------------------------------- evaluation


@dataclass(frozen=True)
class Reason:
    level: int
    role: str
    text: str

    def stamp(self) -> str:
        return f"L{self.level}/{self.role}: {self.text}"


def po_total(session: Session, po_id: uuid.UUID) -> Decimal:
    total = Decimal(0)
    for qty, price in session.execute(
        select(PurchaseOrderLine.qty_ordered, PurchaseOrderLine.unit_price).where(
            PurchaseOrderLine.po_id == po_id, PurchaseOrderLine.deleted_at.is_(None)
        )
    ):
        total += Decimal(qty) * price
    return total.quantize(Decimal("0.0001"))


def evaluate(session: Session, po: PurchaseOrder) -> list[Reason]:
    """The reasons every active rule that fires gives for ``po`` (no writes)."""
    rules = list_rules(session, include_inactive=False)
    if not rules and session.scalars(select(ApprovalRule.id).limit(1)).first() is None:
        # a branch site whose head office never seeded rules (only head office writes them):
        # the defaults still apply, unsaved, so approval is never silently off
        rules = [_build_rule(ApprovalRule(), spec) for spec in DEFAULT_RULES]
    if not rules:
        return []
    lines = list(session.scalars(select(PurchaseOrderLine).where(
        PurchaseOrderLine.po_id == po.id, PurchaseOrderLine.deleted_at.is_(None)).order_by(PurchaseOrderLine.line_no)))
    terms = {r.item_id: r for r in session.scalars(select(ItemSupplier).where(
        ItemSupplier.supplier_id == po.supplier_id, ItemSupplier.deleted_at.is_(None),
        ItemSupplier.item_id.in_([ln.item_id for ln in lines])))}
    from app.models.catalog import Item

    skus = {r[0]: r[1] for r in session.execute(select(Item.id, Item.sku).where(Item.id.in_([ln.item_id for ln in lines])))}
    total = sum((Decimal(ln.qty_ordered) * ln.unit_price for ln in lines), Decimal(0))
    out: list[Reason] = []
    for rule in rules:
        text = ""
        if rule.kind == "value_threshold" and total > rule.amount:
            text = f"{rule.name}: total {total:,.2f} {po.currency} is above {rule.amount:,.2f}"
        elif rule.kind == "rush" and po.rush:
            text = f"{rule.name}: marked rush"
        elif rule.kind == "non_contracted":
            missing = [skus.get(ln.item_id, "?") for ln in lines
                       if ln.item_id not in terms or not terms[ln.item_id].contracted]
            if missing:
                text = f"{rule.name}: no supplier contract for {', '.join(sorted(set(missing)))}"
        elif rule.kind == "price_variance":
            over = []
            for ln in lines:
                t = terms.get(ln.item_id)
                base = (t.contract_price if rule.basis == "contract" else t.last_price) if t else Decimal(0)
                if base > 0:
                    pct = (ln.unit_price - base) / base * 100
                    if pct > rule.percent:
                        over.append(f"{skus.get(ln.item_id, '?')} {ln.unit_price:.2f} vs {base:.2f} (+{pct:.1f}%)")
            if over:
                text = f"{rule.name}: price above {rule.basis} price by more than {rule.percent.normalize():f}%: {'; '.join(over)}"
        if text:
            out.append(Reason(rule.level, rule.approver_role, text))
    out.sort(key=lambda r: (r.level, r.role, r.text))
    return out


def stamped_reasons(po: PurchaseOrder) -> list[Reason]:
    out = []
    for line in (po.approval_reasons or "").splitlines():
        m = _REASON_RE.match(line.strip())
        if m:
            out.append(Reason(int(m.group(1)), m.group(2), m.group(3)))
    return out


def required_levels(po: PurchaseOrder) -> dict[int, frozenset[str]]:
    """level -> roles that may approve it, from the reasons stamped on this revision."""
    levels: dict[int, set[str]] = {}
    for r in stamped_reasons(po):
        levels.setdefault(r.level, set()).add(r.role)
    return {lv: frozenset(roles) for lv, roles in sorted(levels.items())}


def decisions_for(session: Session, po_id: uuid.UUID, revision: int | None = None) -> list[ApprovalDecision]:
    q = select(ApprovalDecision).where(ApprovalDecision.po_id == po_id)
    if revision is not None:
        q = q.where(ApprovalDecision.revision == revision)
    return list(session.scalars(q.order_by(ApprovalDecision.created_at, ApprovalDecision.id)))


@dataclass
class LevelState:
    level: int
    roles: frozenset[str]
    reasons: list[str] = field(default_factory=list)
    approved_by: str = ""
    rejected_by: str = ""


def approval_state(session: Session, po: PurchaseOrder) -> list[LevelState]:
    """For the detail screen: each required level, why, and who decided it (this revision)."""
    states = {lv: LevelState(lv, roles) for lv, roles in required_levels(po).items()}
    for r in stamped_reasons(po):
        states[r.level].reasons.append(r.text)
    for d in decisions_for(session, po.id, po.revision):
        st = states.get(d.level)
        if st is None:
            continue
        if d.decision == "approve":
            st.approved_by = d.approver_name
        else:
            st.rejected_by = d.approver_name
    return list(states.values())


def _covers(actor: Actor, roles: frozenset[str]) -> bool:
    if "admin" in actor.roles:
        return True
    return any(actor.roles & ROLE_COVERS.get(r, frozenset({r})) for r in roles)


def next_level(session: Session, po: PurchaseOrder) -> int | None:
    """The lowest required level of this revision not yet approved (None when all are)."""
    done = {d.level for d in decisions_for(session, po.id, po.revision) if d.decision == "approve"}
    for lv in required_levels(po):
        if lv not in done:
            return lv
    return None


def _requisition_requesters(session: Session, po_id: uuid.UUID) -> set[uuid.UUID]:
    """Who asked for the requisitions behind the PO (also another branch's, not yet marked
    converted by its owner): they requested it too."""
    from app.services.buying.requisitions import requisitions_on_po

    return {r.requested_by_id for r in requisitions_on_po(session, po_id) if r.requested_by_id}


def why_not(session: Session, actor: Actor, po: PurchaseOrder) -> str:
    """'' when ``actor`` may approve ``po`` now, else the reason (the GUI shows it on the button)."""
    if po.status != "pending_approval":
        return f"purchase order {po.number} is {po.status}, not pending approval"
    if not actor.can("po.approve"):
        return f"{actor.username} may not approve purchase orders (roles: {', '.join(sorted(actor.roles)) or 'none'})"
    if po.requested_by_id == actor.user_id or actor.user_id in _requisition_requesters(session, po.id):
        return f"{actor.username} requested {po.number} and may not approve it (segregation of duties)"
    decisions = decisions_for(session, po.id, po.revision)
    mine = [d for d in decisions if d.approver_id == actor.user_id]
    if mine:
        return f"{actor.username} already decided level {mine[0].level} of {po.number}; another person must approve the next level"
    rejected = next((d for d in decisions if d.decision == "reject"), None)
    if rejected is not None:  # recorded on another site; the owner has not settled it yet
        note = follows_note(session, po)
        return f"{po.number} was rejected by {rejected.approver_name}" + (f"; {note}" if note else "")
    lv = next_level(session, po)
    if lv is None:
        if owns(session, po.owner_branch_id):
            return f"{po.number} needs no further approval"
        return f"every level of {po.number} is approved; {follows_note(session, po)}"
    roles = required_levels(po)[lv]
    if not _covers(actor, roles):
        return f"level {lv} of {po.number} needs the role {' or '.join(sorted(roles))}; {actor.username} does not have it"
    return ""


def follows_note(session: Session, po: PurchaseOrder) -> str:
    """'' when this site owns ``po`` (its status is already up to date), else what the user should
    expect: "DAL's PO follows when DAL syncs" (shown after an approval by another branch)."""
    if owns(session, po.owner_branch_id):
        return ""
    from app.models.org import Branch

    code = session.scalar(select(Branch.code).where(Branch.id == po.owner_branch_id)) or "its branch"
    return f"{code}'s PO follows when {code} syncs"


def _decide(session: Session, actor: Actor, po_id: uuid.UUID, decision: str, comment: str) -> PurchaseOrder:
    if decision not in DECISIONS:
        raise ValidationError("decision", f"must be one of {', '.join(DECISIONS)}")
    po = get_live(session, PurchaseOrder, po_id, "purchase order")
    reason = why_not(session, actor, po)
    if reason:
        if po.status != "pending_approval":
            raise Conflict(reason)
        raise PermissionDenied(reason)
    lv = next_level(session, po)
    assert lv is not None
    # the decision is the acting branch's row (the server lets a branch insert only its own rows)
    session.add(ApprovalDecision(
        po_id=po.id, revision=po.revision, level=lv, approver_id=actor.user_id, approver_name=actor.username,
        decision=decision, comment=comment.strip(), owner_branch_id=acting_branch(session, po.owner_branch_id),
    ))
    session.flush()
    audit.record(session, actor, f"po.{decision}", "purchase_order", po.id, po.owner_branch_id,
                 number=po.number, revision=po.revision, level=lv, comment=comment.strip())
    if owns(session, po.owner_branch_id):
        apply_decisions(session, po, actor)
    return po


def _distinct_approvers(levels: list[int], approvers: dict[int, set[uuid.UUID]]) -> bool:
    """Can every level be given its own approver, no person twice? (Decisions made on two sites
    before either saw the other's may approve one level twice; a person still counts once.)"""
    def fill(i: int, used: frozenset[uuid.UUID]) -> bool:
        if i == len(levels):
            return True
        return any(fill(i + 1, used | {u}) for u in approvers.get(levels[i], set()) - used)

    return fill(0, frozenset())


def apply_decisions(session: Session, po: PurchaseOrder, actor: Actor | None = None) -> bool:
    """The owner brings a pending PO in line with the decisions of its current revision: a reject
    makes it rejected, every level approved (by distinct people) makes it approved. Idempotent;
    True when the status changed."""
    if po.status != "pending_approval":
        return False
    from app.services.buying.purchasing import mark_approved, set_status

    decisions = decisions_for(session, po.id, po.revision)
    rejected = next((d for d in decisions if d.decision == "reject"), None)
    if rejected is not None:
        set_status(session, actor, po, "rejected", by=rejected.approver_name, comment=rejected.comment)
        return True
    levels = list(required_levels(po))
    approvers: dict[int, set[uuid.UUID]] = {}
    for d in decisions:
        approvers.setdefault(d.level, set()).add(d.approver_id)
    if not levels or not _distinct_approvers(levels, approvers):
        return False
    mark_approved(session, actor, po)
    return True


@settler("approvals")
def settle_approvals(session: Session) -> int:
    """After a pull: this branch's pending POs follow the decisions other sites recorded."""
    own = ownership(session)
    q = select(PurchaseOrder).where(
        PurchaseOrder.status == "pending_approval", PurchaseOrder.deleted_at.is_(None),
        select(ApprovalDecision.id).where(ApprovalDecision.po_id == PurchaseOrder.id,
                                          ApprovalDecision.revision == PurchaseOrder.revision).exists())
    if own.enforced:
        q = q.where(PurchaseOrder.owner_branch_id == own.branch_id)
    return sum(apply_decisions(session, po) for po in session.scalars(q.order_by(PurchaseOrder.number)))


#: PO states a late rejection can no longer stop by itself
_PAST_APPROVAL = ("approved", "sent", "confirmed", "partially_received", "received", "closed")


@settler("approvals.late_rejects")
def settle_late_rejects(session: Session) -> int:
    """A rejection recorded on another site before it saw the PO approved here (both offline):
    the PO has gone on, so its buyer is told once, with who rejected and why, to decide whether to
    cancel or revise it. Never raised twice for one revision, even after it was resolved."""
    from app.services.exceptions import raise_once

    own = ownership(session)
    q = (select(PurchaseOrder, ApprovalDecision)
         .join(ApprovalDecision, (ApprovalDecision.po_id == PurchaseOrder.id)
               & (ApprovalDecision.revision == PurchaseOrder.revision))
         .where(ApprovalDecision.decision == "reject", PurchaseOrder.status.in_(_PAST_APPROVAL),
                PurchaseOrder.deleted_at.is_(None)))
    if own.enforced:
        q = q.where(PurchaseOrder.owner_branch_id == own.branch_id)
    raised = 0
    for po, d in session.execute(q.order_by(PurchaseOrder.number)):
        item = raise_once(
            session, None, kind="po.rejected_after_approval", severity="warning", role="buyer",
            owner_branch_id=po.owner_branch_id, entity="purchase_order", entity_id=po.id,
            entity_ref=po.number, key=f"po.late_reject:{po.id.hex}:{po.revision}",
            title=f"{po.number} was rejected at level {d.level} by {d.approver_name} after it was approved",
            detail=(f"{d.approver_name} rejected revision {po.revision} ({d.comment or 'no comment'}) on a "
                    f"workstation that had not yet seen the approval. The PO is {po.status}: cancel or "
                    "revise it if the rejection stands."))
        raised += item is not None
    return raised


def decision_note(session: Session, po: PurchaseOrder) -> str:
    """What a decision led to, for the approver: ' (approved)' on this branch's PO; on another
    branch's, what follows there ('; DAL's PO follows when DAL syncs'), since its status here
    changes only when its owner has settled and this site pulls again."""
    from app.services.buying.po_receipts import followup_note

    follow = followup_note(session, po)
    return f" ({po.status.replace('_', ' ')}){follow}" if owns(session, po.owner_branch_id) else follow


def approve(session: Session, actor: Actor, po_id: uuid.UUID, comment: str = "") -> PurchaseOrder:
    """Approve the next pending level; when it was the last one the PO becomes approved and
    its expected receipts are created (on another branch's PO: when its owner next syncs)."""
    return _decide(session, actor, po_id, "approve", comment)


def reject(session: Session, actor: Actor, po_id: uuid.UUID, comment: str) -> PurchaseOrder:
    if not comment.strip():
        raise ValidationError("comment", "a rejection needs a reason for the buyer")
    return _decide(session, actor, po_id, "reject", comment)


def inbox(session: Session, actor: Actor) -> list[PurchaseOrder]:
    """Purchase orders ``actor`` may approve now (oldest first)."""
    if not actor.can("po.approve"):
        return []
    pos = session.scalars(select(PurchaseOrder).where(
        PurchaseOrder.status == "pending_approval", PurchaseOrder.deleted_at.is_(None)).order_by(PurchaseOrder.order_date,
                                                                                                PurchaseOrder.number))
    return [po for po in pos if not why_not(session, actor, po)]


@dataclass(frozen=True)
class InboxRow:
    """One line of the approvals inbox: what the approver needs to decide, and why."""

    id: uuid.UUID
    number: str
    revision: int
    supplier: str
    total: Decimal
    currency: str
    level: int
    reasons: str


def inbox_rows(session: Session, actor: Actor) -> list[InboxRow]:
    """``inbox`` with supplier, total, the level to decide and the reasons that fired for it."""
    from app.models.parties import Supplier
    from app.services.buying.purchasing import po_total_of

    pos = inbox(session, actor)
    codes: dict[uuid.UUID, str] = {}
    if pos:
        rows = session.execute(select(Supplier.id, Supplier.code).where(Supplier.id.in_({po.supplier_id for po in pos})))
        codes = {sid: code for sid, code in rows}
    out = []
    for po in pos:
        level = next_level(session, po) or 0
        reasons = "; ".join(r.text for r in stamped_reasons(po) if r.level == level)
        out.append(InboxRow(po.id, po.number, po.revision, codes.get(po.supplier_id, "?"),
                            po_total_of(session, po.id), po.currency, level, reasons))
    return out
