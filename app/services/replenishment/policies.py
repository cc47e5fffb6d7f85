"""Replenishment policies per item x warehouse: today the fixed min/max many ERPs use.

A pair with a ``fixed_minmax`` policy is not computed from demand: when its position (on hand
+ on order + inbound + requisitioned - allocated) falls *below* ``min_qty``, the run orders up
to ``max_qty`` (then rounds to packs and the minimum order as always), and the worklist's why
says "fixed min/max". Pairs without a policy row keep the computed reorder point. The policy is
the warehouse's branch's document (``app.models.demand.ReplenishmentPolicy``); issue 18 adds a
forecast policy beside it.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.demand import POLICIES, ReplenishmentPolicy, policy_id_for
from app.models.org import Warehouse
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.masterdata import branch_code
from app.services.ownership import owns

#: the worklist's name of each policy
POLICY_LABELS = {"forecast": "forecast (the pair's demand forecast, its error as safety stock)",
                 "computed": "computed (sales history x lead time, service level)", "fixed_minmax": "fixed min/max"}


def check_min_max(min_qty: int, max_qty: int) -> None:
    """The rule every path (screen, command, import) applies to one pair's min and max."""
    if min_qty < 0:
        raise ValidationError("min_qty", f"{min_qty} is negative")
    if max_qty <= 0:
        raise ValidationError("max_qty", "must be more than zero")
    if min_qty > max_qty:
        raise ValidationError("min_qty", f"{min_qty} is above max_qty {max_qty}")


def check_policy(policy: str) -> str:
    p = (policy or "fixed_minmax").strip().lower()
    if p not in POLICIES:
        raise ValidationError("policy", f"{p!r} is not one of {', '.join(POLICIES)}")
    return p


@dataclass(frozen=True)
class PolicyRow:
    sku: str
    warehouse: str
    policy: str
    min_qty: int
    max_qty: int


def _pair(session: Session, warehouse: str, sku: str) -> tuple[Warehouse, Item]:
    wh = session.scalar(select(Warehouse).where(Warehouse.code == warehouse.strip().upper(),
                                                Warehouse.deleted_at.is_(None)))
    if wh is None:
        raise NotFound("warehouse", warehouse.strip().upper())
    item = session.scalar(select(Item).where(Item.sku == sku.strip().upper(), Item.deleted_at.is_(None)))
    if item is None:
        raise NotFound("item", sku.strip().upper())
    if not owns(session, wh.branch_id):
        code = branch_code(session, wh.branch_id)
        raise PermissionDenied(f"warehouse {wh.code} belongs to {code}: its min/max is set at a {code} workstation")
    return wh, item


def set_policy(session: Session, actor: Actor, warehouse: str, sku: str, min_qty: int, max_qty: int,
               policy: str = "fixed_minmax") -> PolicyRow:
    """Set (or replace) the fixed min/max of one item at one warehouse."""
    actor.require("replenish.policy")
    p = check_policy(policy)
    check_min_max(min_qty, max_qty)
    wh, item = _pair(session, warehouse, sku)
    row = session.get(ReplenishmentPolicy, policy_id_for(item.id, wh.id))
    if row is None:
        row = ReplenishmentPolicy(id=policy_id_for(item.id, wh.id), item_id=item.id, warehouse_id=wh.id,
                                  owner_branch_id=wh.branch_id)
        session.add(row)
    row.policy, row.min_qty, row.max_qty, row.deleted_at = p, min_qty, max_qty, None
    session.flush()
    audit.record(session, actor, "policy.set", "replenishment_policy", row.id, row.owner_branch_id, sku=item.sku,
                 warehouse=wh.code, policy=p, min_qty=min_qty, max_qty=max_qty)
    return PolicyRow(item.sku, wh.code, p, min_qty, max_qty)


def clear_policy(session: Session, actor: Actor, warehouse: str, sku: str) -> bool:
    """Back to the computed reorder point for this pair; False when it had no policy."""
    actor.require("replenish.policy")
    wh, item = _pair(session, warehouse, sku)
    row = session.get(ReplenishmentPolicy, policy_id_for(item.id, wh.id))
    if row is None or row.deleted_at is not None:
        return False
    row.deleted_at = utcnow()
    session.flush()
    audit.record(session, actor, "policy.clear", "replenishment_policy", row.id, row.owner_branch_id, sku=item.sku,
                 warehouse=wh.code)
    return True


def list_policies(session: Session, warehouse: str | None = None, limit: int = 500) -> list[PolicyRow]:
    q = (select(Item.sku, Warehouse.code, ReplenishmentPolicy.policy, ReplenishmentPolicy.min_qty,
                ReplenishmentPolicy.max_qty)
         .join(Item, Item.id == ReplenishmentPolicy.item_id).join(Warehouse, Warehouse.id == ReplenishmentPolicy.warehouse_id)
         .where(ReplenishmentPolicy.deleted_at.is_(None)).order_by(Warehouse.code, Item.sku).limit(limit))
    if warehouse:
        q = q.where(Warehouse.code == warehouse.strip().upper())
    return [PolicyRow(*r) for r in session.execute(q)]


def choose_policy(session: Session, actor: Actor, warehouse: str, sku: str, policy: str,
                  min_qty: int | None = None, max_qty: int | None = None) -> PolicyRow:
    """The buyer's choice for one pair (issue 18): ``forecast``, ``computed`` or ``fixed_minmax``.

    A fixed min/max needs ``min_qty`` and ``max_qty`` unless the pair already has them (switching
    back); the other two keep the pair's min/max for that."""
    actor.require("replenish.policy")
    p = check_policy(policy)
    wh, item = _pair(session, warehouse, sku)
    row = session.get(ReplenishmentPolicy, policy_id_for(item.id, wh.id))
    # a min/max to switch back to (0/1 on a non-fixed row is the placeholder of a pair that never had one)
    had = row is not None and row.deleted_at is None and (row.policy == "fixed_minmax"
                                                          or (row.min_qty, row.max_qty) != (0, 1))
    if p == "fixed_minmax":
        if min_qty is None or max_qty is None:
            if not had:
                raise ValidationError("min_qty", f"{item.sku} at {wh.code} has no min/max yet: give both")
            assert row is not None
            min_qty, max_qty = row.min_qty if min_qty is None else min_qty, row.max_qty if max_qty is None else max_qty
        return set_policy(session, actor, warehouse, sku, int(min_qty), int(max_qty), p)
    if min_qty is not None or max_qty is not None:
        raise ValidationError("min_qty", f"only a fixed min/max policy takes a min and max, not {p}")
    lo, hi = (row.min_qty, row.max_qty) if row is not None and had else (0, 1)
    return set_policy(session, actor, warehouse, sku, lo, hi, p)


def policy_of(session: Session, warehouse: str, sku: str) -> PolicyRow | None:
    """The pair's chosen policy (None: the default, forecast where one exists)."""
    wh, item = _pair_read(session, warehouse, sku)
    row = session.get(ReplenishmentPolicy, policy_id_for(item.id, wh.id))
    if row is None or row.deleted_at is not None:
        return None
    return PolicyRow(item.sku, wh.code, row.policy, row.min_qty, row.max_qty)


def _pair_read(session: Session, warehouse: str, sku: str) -> tuple[Warehouse, Item]:
    wh = session.scalar(select(Warehouse).where(Warehouse.code == warehouse.strip().upper(),
                                                Warehouse.deleted_at.is_(None)))
    if wh is None:
        raise NotFound("warehouse", warehouse.strip().upper())
    item = session.scalar(select(Item).where(Item.sku == sku.strip().upper(), Item.deleted_at.is_(None)))
    if item is None:
        raise NotFound("item", sku.strip().upper())
    return wh, item
