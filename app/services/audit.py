"""The append-only audit log: every state change calls ``record`` in its own transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
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
    """``owner_branch_id`` is the branch of the entity acted on. Inside ``batched`` the entry is
    written with the others at its end (the returned object is then not in the session)."""
    if acting_branch(session, owner_branch_id) != owner_branch_id:
        detail.setdefault("entity_branch_id", owner_branch_id)
    pending: list[dict[str, Any]] | None = session.info.get(_BATCH)
    if pending is not None:
        row = {"id": uuid7(), "created_at": utcnow(), "user_id": actor.user_id if actor else None,
               "username": actor.username if actor else "system", "action": action, "entity": entity,
               "entity_id": entity_id, "owner_branch_id": acting_branch(session, owner_branch_id),
               "detail": json.dumps(detail, default=_default, sort_keys=True)}
        pending.append(row)
        return AuditEntry(**row)
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


_BATCH = "audit_batch"
#: writes audit rows (dicts of the entry's columns); None: SQLAlchemy's insert-many. Callers above
#: the bulk writer pass ``bulk.dict_writer(session, AuditEntry)``: its stored-form tuples cost a
#: fraction of the insert-many's per-value type processing (a poll cycle writes thousands)
Writer = Callable[[list[dict[str, Any]]], object]


@contextmanager
def batched(session: Session, write: Writer | None = None) -> Iterator[None]:
    """Entries ``record`` makes inside are written together at the end, by one multi-row insert
    (``record_many``'s; a poll cycle's thousands of status changes: an ORM object and a flushed
    INSERT each cost more than the change itself). Nested: the outermost one writes. On an
    exception nothing is written (the caller's transaction is rolled back anyway)."""
    if session.info.get(_BATCH) is not None:
        yield
        return
    rows: list[dict[str, Any]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if rows:
        _insert(session, rows, write)


def _insert(session: Session, rows: list[dict[str, Any]], write: Writer | None) -> None:
    if write is not None:
        write(rows)
    else:
        session.execute(insert(AuditEntry), rows)


def record_many(session: Session, actor: Actor | None, action: str, entity: str,
                items: list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]], write: Writer | None = None) -> None:
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
    _insert(session, rows, write)
