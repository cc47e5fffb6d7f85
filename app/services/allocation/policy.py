"""The allocation policy of a warehouse: an ordered list of keys, most important first.

Why keys and not a formula: a dispatcher can say "platinum first, then whoever asked for the
earliest date, then first come first served" and read back exactly that on every line's reason.
Ship-complete versus ship-partial is the customer's own setting (``Customer.ship_complete``),
applied whatever the keys: a ship-complete order gets all its lines or none. Ties left after the
keys go to the oldest order (order date, then number, then line).

``fair_share`` is a marker: lines equal on every key before it share a shortage pro rata instead
of first come first served (keys after it only order the leftover units of the split).
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.allocation import AllocationPolicy, policy_id_for
from app.services import audit
from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.inventory.common import get_warehouse, require_owner

#: key -> what it means (shown in the policy editor and `depot allocate --help`)
KEYS: dict[str, str] = {
    "rush": "rush orders first",
    "tier": "customer priority tier first (platinum, gold, silver, bronze)",
    "requested_date": "earliest requested date first (service level)",
    "order_date": "oldest order first",
    "margin": "highest margin per unit first",
    "fair_share": "lines equal on the keys before it share a shortage pro rata",
}
DEFAULT_KEYS: tuple[str, ...] = ("rush", "tier", "requested_date", "order_date")


@dataclass(frozen=True)
class Policy:
    keys: tuple[str, ...] = DEFAULT_KEYS
    #: True: a run may take stock back from lines already allocated to serve better-ranked ones;
    #: False: what is allocated stays, only free stock is handed out
    rerank: bool = True

    def as_json(self) -> str:
        return json.dumps({"keys": list(self.keys), "rerank": self.rerank})

    def describe(self) -> str:
        return " > ".join(self.keys) + ("" if self.rerank else " (keep existing allocations)")


def parse_keys(value: str | Iterable[str]) -> tuple[str, ...]:
    """'tier, requested_date, fair_share' -> a checked tuple (unknown or repeated keys refused)."""
    raw = value.split(",") if isinstance(value, str) else list(value)
    keys = tuple(k.strip().lower().replace("-", "_").replace(" ", "_") for k in raw if k and k.strip())
    if not keys:
        raise ValidationError("policy", "name at least one key (" + ", ".join(KEYS) + ")")
    bad = [k for k in keys if k not in KEYS]
    if bad:
        raise ValidationError("policy", f"unknown key {bad[0]!r} (known: {', '.join(KEYS)})")
    seen: set[str] = set()
    for k in keys:
        if k in seen:
            raise ValidationError("policy", f"key {k!r} is named twice")
        seen.add(k)
    return keys


def policy_for(session: Session, warehouse_id: uuid.UUID) -> Policy:
    row = session.scalar(select(AllocationPolicy).where(AllocationPolicy.warehouse_id == warehouse_id,
                                                        AllocationPolicy.deleted_at.is_(None)))
    if row is None or not row.keys:
        return Policy()
    return Policy(parse_keys(row.keys), bool(row.rerank))


def set_policy(session: Session, actor: Actor, warehouse_id: uuid.UUID, keys: str | Iterable[str],
               rerank: bool = True) -> Policy:
    """Store a warehouse's policy (``order.allocate``; on the warehouse's own branch)."""
    actor.require("order.allocate")
    wh = get_warehouse(session, warehouse_id)
    require_owner(session, wh.branch_id, f"the allocation policy of {wh.code} is set")
    parsed = parse_keys(keys)
    row = session.get(AllocationPolicy, policy_id_for(wh.id))
    if row is None:
        row = AllocationPolicy(id=policy_id_for(wh.id), warehouse_id=wh.id, owner_branch_id=wh.branch_id)
        session.add(row)
    old = (row.keys, row.rerank)
    row.keys, row.rerank, row.updated_by, row.deleted_at = ",".join(parsed), bool(rerank), actor.username, None
    session.flush()
    audit.record(session, actor, "allocation.policy", "allocation_policy", row.id, row.owner_branch_id,
                 warehouse=wh.code, keys=row.keys, rerank=row.rerank, old_keys=old[0], old_rerank=old[1])
    return Policy(parsed, bool(rerank))
