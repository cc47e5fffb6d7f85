"""The exception inbox: raise, acknowledge, resolve, list (named so, not `exceptions`, which reads
like Python errors).

Any area that finds something a person must decide (an EDI difference, a rejected file,
a late shipment) calls ``raise_exception``; the Exceptions screen lists them by role.
A ``key`` keeps one open exception per problem, so a poller that sees the same problem
again does not flood the inbox.

An exception belongs to the branch it was raised for and replicates everywhere. On a branch
workstation (ownership enforced) it is handled only by that branch: other branches may list it
(read-only) but acknowledging or resolving it is refused with a sentence naming the owner.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.exceptions import SEVERITIES, ExceptionItem
from app.models.ids import uuid7
from app.models.org import Branch
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.ownership import ForeignWrite, ownership
from app.services.workflow import transition

#: roles that may handle any exception, whatever its role
SUPERVISOR_ROLES = frozenset({"manager", "admin"})


def raise_exception(
    session: Session, actor: Actor | None, *, kind: str, title: str, owner_branch_id: uuid.UUID,
    detail: str = "", severity: str = "warning", role: str = "manager", entity: str = "",
    entity_id: uuid.UUID | None = None, entity_ref: str = "", key: str = "", item_id: uuid.UUID | None = None,
) -> ExceptionItem:
    """Open an exception (or return the open one with the same ``key``). ``item_id`` lets settlers
    that run on every workstation of a branch raise the same row everywhere (it converges)."""
    if severity not in SEVERITIES:
        raise ValidationError("severity", f"must be one of {', '.join(SEVERITIES)}")
    if not kind.strip():
        raise ValidationError("kind", "must not be empty")
    if not title.strip():
        raise ValidationError("title", "must not be empty")
    raised = _raised(session)
    if key:
        found = raised.get((key[:160], owner_branch_id)) or session.scalars(
            select(ExceptionItem).where(ExceptionItem.key == key, ExceptionItem.status != "resolved",
                                        ExceptionItem.owner_branch_id == owner_branch_id)
        ).first()
        if found is not None:
            return found
    item = ExceptionItem(
        id=item_id if item_id is not None else uuid7(),
        kind=kind, title=title[:200], detail=detail, severity=severity, role=role, entity=entity,
        entity_id=entity_id, entity_ref=entity_ref[:255], key=key[:160], owner_branch_id=owner_branch_id,
    )
    # not flushed here: a caller raising many in one transaction (the carrier poller, with autoflush
    # off) would flush all its pending work once per case; its later raises see this one in ``raised``
    session.add(item)
    if key:
        raised[(key[:160], owner_branch_id)] = item
    audit.record(session, actor, "exception.raise", "exception_item", item.id, owner_branch_id,
                 kind=kind, title=title, role=role)
    return item


def _raised(session: Session) -> dict[tuple[str, uuid.UUID], ExceptionItem]:
    """The exceptions raised in the session's current transaction, by (key, branch)."""
    tx = session.get_transaction()
    memo: tuple[object, dict[tuple[str, uuid.UUID], ExceptionItem]] | None = session.info.get("exceptions_raised")
    if memo is None or memo[0] is not tx:
        memo = session.info["exceptions_raised"] = (tx, {})
    return memo[1]


def raise_once(session: Session, actor: Actor | None, *, key: str, owner_branch_id: uuid.UUID,
               **fields: Any) -> ExceptionItem | None:
    """Raise an exception unless one with ``key`` was ever raised for the branch (even if resolved):
    for settlers, which find the same condition after every pull. None when it already was."""
    if (key[:160], owner_branch_id) in _raised(session) or session.scalar(select(ExceptionItem.id).where(
            ExceptionItem.key == key, ExceptionItem.owner_branch_id == owner_branch_id).limit(1)):
        return None
    return raise_exception(session, actor, key=key, owner_branch_id=owner_branch_id, **fields)


def _may_handle(actor: Actor, item: ExceptionItem) -> bool:
    return item.role in actor.roles or bool(SUPERVISOR_ROLES & actor.roles)


def _load(session: Session, actor: Actor, ids: Sequence[uuid.UUID]) -> list[ExceptionItem]:
    if not ids:
        raise ValidationError("exceptions", "choose at least one exception")
    items = list(session.scalars(select(ExceptionItem).where(ExceptionItem.id.in_(list(ids)))))
    missing = set(ids) - {i.id for i in items}
    if missing:
        raise NotFound("exception", ", ".join(sorted(str(m) for m in missing)))
    own = ownership(session)
    for it in items:
        if not own.owns(it.owner_branch_id):
            code = _codes(session).get(it.owner_branch_id, "another branch")
            raise ForeignWrite(f"exception '{it.title}' belongs to {code}; {code} handles it")
        if not _may_handle(actor, it):
            raise PermissionDenied(f"{actor.username} may not handle exception '{it.title}' (it is for role {it.role})")
        if it.status == "resolved":
            raise Conflict(f"exception '{it.title}' is already resolved")
    return items


def acknowledge(session: Session, actor: Actor, ids: Sequence[uuid.UUID]) -> list[ExceptionItem]:
    """Mark exceptions as seen (someone is on it); they stay in the inbox until resolved."""
    items = _load(session, actor, ids)
    now = utcnow()
    for it in items:
        if it.status == "open":
            transition(it, "acknowledged", actor, at=now)
    session.flush()
    return items


def resolve(session: Session, actor: Actor, ids: Sequence[uuid.UUID], note: str = "") -> list[ExceptionItem]:
    """Close exceptions with an optional note saying what was done."""
    items = _load(session, actor, ids)
    now = utcnow()
    for it in items:
        it.resolution = note.strip()
        transition(it, "resolved", actor, at=now, note=note.strip())
    session.flush()
    return items


def _codes(session: Session) -> dict[uuid.UUID, str]:
    """Branch id -> code (a handful of rows)."""
    return {i: c for i, c in session.execute(select(Branch.id, Branch.code))}


@dataclass(frozen=True)
class ExceptionRow:
    id: uuid.UUID
    kind: str
    severity: str
    status: str
    role: str
    title: str
    detail: str
    entity: str
    entity_id: uuid.UUID | None
    entity_ref: str
    created_at: str
    #: the owning branch's code, and whether this site may acknowledge/resolve it
    branch: str = ""
    handled_here: bool = True


def list_open(
    session: Session, *, role: str | None = None, roles: Collection[str] | None = None, branch_id: uuid.UUID | None = None, kind_prefix: str = "",
    entity_id: uuid.UUID | None = None, include_acknowledged: bool = True, limit: int = 500, offset: int = 0,
) -> list[ExceptionRow]:
    """Open (and by default acknowledged) exceptions, newest first (``roles``: any of these roles;
    ``branch_id``: only that branch's, see ``own_branch_filter``)."""
    statuses = ["open", "acknowledged"] if include_acknowledged else ["open"]
    q = select(ExceptionItem).where(ExceptionItem.status.in_(statuses), ExceptionItem.deleted_at.is_(None))
    if role:
        q = q.where(ExceptionItem.role == role)
    if roles is not None:
        q = q.where(ExceptionItem.role.in_(list(roles)))
    if branch_id:
        q = q.where(ExceptionItem.owner_branch_id == branch_id)
    if kind_prefix:
        q = q.where(ExceptionItem.kind.startswith(kind_prefix))
    if entity_id:
        q = q.where(ExceptionItem.entity_id == entity_id)
    q = q.order_by(ExceptionItem.created_at.desc(), ExceptionItem.id.desc()).limit(limit).offset(offset)
    own, codes = ownership(session), _codes(session)
    return [
        ExceptionRow(i.id, i.kind, i.severity, i.status, i.role, i.title, i.detail, i.entity, i.entity_id,
                     i.entity_ref, i.created_at.isoformat(timespec="seconds"),
                     branch=codes.get(i.owner_branch_id, ""), handled_here=own.owns(i.owner_branch_id))
        for i in session.scalars(q)
    ]


def own_branch_filter(session: Session) -> uuid.UUID | None:
    """The branch a default listing shows: this site's on a branch workstation, else None (all)."""
    own = ownership(session)
    return own.branch_id if own.enforced else None
