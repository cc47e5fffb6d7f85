"""Approval decisions on purchase orders: approve, reject, the inbox, and the PO's status following them.

Why this shape:

* The rules and the reasons they stamp on a PO at submit are ``approval_rules`` (below purchasing,
  which evaluates them); this module sits above purchasing: a decision's outcome is applied to
  the PO through ``purchasing.mark_approved`` / ``set_status`` (the one writer of a PO's status).
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

import uuid
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.approvals import DECISIONS, ApprovalDecision
from app.models.org import Branch
from app.models.parties import Supplier
from app.models.purchasing import PurchaseOrder
from app.services import audit
from app.services.auth import Actor

# the rules, re-exported for callers of approvals
from app.services.buying.approval_rules import (
    DEFAULT_RULES as DEFAULT_RULES,
)
from app.services.buying.approval_rules import (
    ROLE_COVERS as ROLE_COVERS,
)
from app.services.buying.approval_rules import (
    Reason as Reason,
)
from app.services.buying.approval_rules import (
    create_rule as create_rule,
)
from app.services.buying.approval_rules import (
    delete_rule as delete_rule,
)
from app.services.buying.approval_rules import (
    ensure_default_rules as ensure_default_rules,
)
from app.services.buying.approval_rules import (
    evaluate as evaluate,
)
from app.services.buying.approval_rules import (
    list_rules as list_rules,
)
from app.services.buying.approval_rules import (
    po_total as po_total,
)
from app.services.buying.approval_rules import (
    required_levels as required_levels,
)
from app.services.buying.approval_rules import (
    stamped_reasons as stamped_reasons,
)
from app.services.buying.approval_rules import (
    update_rule as update_rule,
)
from app.services.buying.po_receipts import followup_note
from app.services.buying.purchasing import mark_approved, po_total_of, set_status
from app.services.buying.requisitions import requisitions_on_po
from app.services.db import get_live
from app.services.errors import Conflict, PermissionDenied, ValidationError
from app.services.exception_inbox import raise_once
from app.services.ownership import acting_branch, ownership, owns, settler

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


# --------------------------------------------------------------------------- decisions


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
