"""Approval rules of purchase orders: the rules (rows edited in Settings), and what they say about a PO.

Why its own module: submitting a PO (``purchasing``) evaluates the rules and stamps their reasons,
while the decisions (``approvals``) follow from those stamps and bring the PO's status along. So
the rules sit below purchasing and the decisions above it: imports point one way.

* Rules are rows (``ApprovalRule``), edited in Settings, so thresholds are not hard-coded;
  ``ensure_default_rules`` seeds sensible ones when a company has none.
* When a PO is submitted, every rule that fires stamps one line on
  ``purchase_order.approval_reasons`` as ``L<level>/<role>: <why>``. The stamped lines are the
  requirement of that revision: changing a rule later does not move the goal posts of a PO already
  in the queue, and the buyer sees why it needs approval.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.approvals import RULE_KINDS as RULE_KINDS  # what the Settings page offers
from app.models.approvals import VARIANCE_BASES as VARIANCE_BASES
from app.models.approvals import ApprovalRule
from app.models.catalog import Item
from app.models.parties import ItemSupplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.models.types import DomainValueError, to_money, utcnow
from app.models.users import ROLES
from app.services import audit
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import ValidationError

#: roles that may stand in for a level's role (a manager may approve an approver level)
ROLE_COVERS: dict[str, frozenset[str]] = {
    "approver": frozenset({"approver", "manager"}),
    "manager": frozenset({"manager"}),
}


_REASON_RE = re.compile(r"^L(\d+)/([a-z_]+): (.*)$")


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
    rule.deleted_at = utcnow()
    session.flush()
    audit.record(session, actor, "approval_rule.delete", "approval_rule", rule.id, rule.owner_branch_id,
                 **_rule_detail(rule))


def _rule_detail(rule: ApprovalRule) -> dict[str, Any]:
    return {"name": rule.name, "kind": rule.kind, "level": rule.level, "amount": rule.amount,
            "percent": rule.percent, "basis": rule.basis, "approver_role": rule.approver_role,
            "active": rule.active}


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
