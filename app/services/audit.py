"""The append-only audit log: every state change calls ``record`` in its own transaction."""

from __future__ import annotations

import json
import uuid
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
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
