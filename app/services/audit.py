"""The append-only audit log: every state change calls ``record`` in its own transaction."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.models.ids import uuid7
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.ownership import acting_branch


def _default(o: Any) -> Any:
    if isinstance(o, Decimal | uuid.UUID):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(type(o).__name__)


def record(
    session: Session, actor: Actor | None, action: str, entity: str, entity_id: uuid.UUID | None,
    owner_branch_id: uuid.UUID, **detail: Any,
) -> AuditEntry:
    """``owner_branch_id`` is the branch of the entity acted on."""
    if acting_branch(session, owner_branch_id) != owner_branch_id:
        detail.setdefault("entity_branch_id", owner_branch_id)
    entry = AuditEntry(
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else "system",
        action=action,
        entity=entity,
        entity_id=entity_id,
        # the writer's branch owns the entry (the server lets a branch insert only its own rows);
        # the entity's branch, when it is another, goes into the detail
        owner_branch_id=acting_branch(session, owner_branch_id),
        detail=json.dumps(detail, default=_default, sort_keys=True),
    )
    session.add(entry)
    return entry


def record_many(session: Session, actor: Actor | None, action: str, entity: str,
                items: list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]]) -> None:
    """``record`` for many entities at once, (entity id, owner branch, detail) each: one multi-row
    insert instead of an ORM object per entry (a poll cycle queues thousands of notices)."""
    if not items:
        return
    now = utcnow()
    rows = []
    for entity_id, owner_branch_id, detail in items:
        branch = acting_branch(session, owner_branch_id)
        if branch != owner_branch_id:
            detail.setdefault("entity_branch_id", owner_branch_id)
        rows.append({"id": uuid7(), "created_at": now, "user_id": actor.user_id if actor else None,
                     "username": actor.username if actor else "system", "action": action, "entity": entity,
                     "entity_id": entity_id, "owner_branch_id": branch,
                     "detail": json.dumps(detail, default=_default, sort_keys=True)})
    session.execute(insert(AuditEntry), rows)
