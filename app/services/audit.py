"""The append-only audit log: every state change calls ``record`` in its own transaction."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.models.ids import uuid7
from app.models.types import iso_utc, utcnow
from app.services.auth import Actor
from app.services.ownership import acting_branch


def _default(o: Any) -> Any:
    if isinstance(o, Decimal | uuid.UUID):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    raise TypeError(type(o).__name__)


def _stored(value: Any) -> Any:
    """An id's stored form in SQLite (its 16 bytes; the bulk writer passes bytes through as they are)."""
    return value.bytes if isinstance(value, uuid.UUID) else value


def record(
    session: Session, actor: Actor | None, action: str, entity: str, entity_id: uuid.UUID | None,
    owner_branch_id: uuid.UUID, **detail: Any,
) -> AuditEntry | None:
    """``owner_branch_id`` is the branch of the entity acted on. Inside ``batched`` the entry is
    kept as a stored-form row and written with the others at its end (returns None: an ORM object
    per entry cost more than the status change it records)."""
    # the writer's branch owns the entry (the server lets a branch insert only its own rows);
    # the entity's branch, when it is another, goes into the detail
    branch = acting_branch(session, owner_branch_id)
    if branch != owner_branch_id:
        detail.setdefault("entity_branch_id", owner_branch_id)
    pending: list[tuple[Any, ...]] | None = session.info.get(_BATCH)
    if pending is not None:
        pending.append(_row(actor, iso_utc(utcnow()), action, entity, entity_id, branch, detail))
        return None
    entry = AuditEntry(
        user_id=actor.user_id if actor else None,
        username=actor.username if actor else "system",
        action=action,
        entity=entity,
        entity_id=entity_id,
        owner_branch_id=branch,
        detail=json.dumps(detail, default=_default, sort_keys=True),
    )
    session.add(entry)
    return entry


_BATCH = "audit_batch"
#: the columns of the rows ``batched`` hands its writer, in this order, each in the form SQLite
#: stores (ids as their 16 bytes, times as ISO text, the detail as JSON text)
COLUMNS = ("id", "created_at", "user_id", "username", "action", "entity", "entity_id", "owner_branch_id", "detail")
#: writes stored-form rows in ``COLUMNS`` order (the bulk writer's ``BulkInsert(...).write``)
RowWriter = Callable[[list[tuple[Any, ...]]], object]


@contextmanager
def batched(session: Session, write: RowWriter) -> Iterator[None]:
    """Entries ``record`` makes inside are written together at the end by ``write``, as stored-form
    rows in ``COLUMNS`` order (a poll cycle's thousands of status changes: an ORM object and a
    flushed INSERT each cost more than the change itself; the caller, above the bulk writer, passes
    ``BulkInsert(session, AuditEntry, audit.COLUMNS).write``). Nested: the outermost one writes. On
    an exception nothing is written (the caller's transaction is rolled back anyway)."""
    if session.info.get(_BATCH) is not None:
        yield
        return
    rows: list[tuple[Any, ...]] = []
    session.info[_BATCH] = rows
    try:
        yield
    finally:
        session.info.pop(_BATCH, None)
    if rows:
        write(rows)


def record_many(session: Session, actor: Actor | None, action: str, entity: str,
                items: list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]], write: RowWriter) -> None:
    """``record`` for many entities at once, (entity id, owner branch, detail) each, written by
    ``write`` as stored-form rows in ``COLUMNS`` order (``batched``'s writer): one insert instead of
    an ORM object per entry (a poll cycle queues thousands of notices)."""
    if not items:
        return
    now = iso_utc(utcnow())
    rows = []
    for entity_id, owner_branch_id, detail in items:
        branch = acting_branch(session, owner_branch_id)
        if branch != owner_branch_id:
            detail.setdefault("entity_branch_id", owner_branch_id)
        rows.append(_row(actor, now, action, entity, entity_id, branch, detail))
    write(rows)


def _row(actor: Actor | None, at: str, action: str, entity: str, entity_id: uuid.UUID | None,
         branch: uuid.UUID, detail: dict[str, Any]) -> tuple[Any, ...]:
    """One entry as a stored-form row in ``COLUMNS`` order (``batched`` and ``record_many``)."""
    return (uuid7().bytes, at, actor.user_id.bytes if actor else None, actor.username if actor else "system", action,
            entity, _stored(entity_id), _stored(branch), json.dumps(detail, default=_default, sort_keys=True))
