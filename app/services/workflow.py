"""``transition``: the one way a document's status changes.

It checks the move against the declared workflow (``app.models.workflow``), stamps the time (and
the acting user) the workflow names for the new state, writes the audit entry and emits
``StatusChanged`` so handlers registered elsewhere can follow up in the same transaction. A
service still checks its own preconditions first when it can say something more useful than
"cannot become X" ("only a draft can be shipped"); ``transition`` is the rule nobody can skip.
``tests/services/test_workflow.py`` fails on any other ``.status =`` write in app/services.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import object_session

from app.models.types import utcnow
from app.models.workflow import WORKFLOW, Workflow
from app.services import audit
from app.services.auth import Actor
from app.services.errors import Conflict
from app.services.events import StatusChanged, emit


def states(table: str) -> tuple[str, ...]:
    """Every state of a document type, in declaration order (for a status filter)."""
    return tuple(WORKFLOW[table].transitions)


def workflow_of(doc: Any) -> Workflow:
    table = getattr(type(doc), "__tablename__", type(doc).__name__)
    wf = WORKFLOW.get(table)
    if wf is None:
        raise TypeError(f"{table} declares no workflow (add it to app.models.workflow)")
    return wf


def reference(doc: Any, wf: Workflow | None = None) -> str:
    """How a message names the document: its number (or the workflow's first audit field)."""
    wf = wf or workflow_of(doc)
    for attr in ("number", *wf.audit_fields, "title"):
        value = getattr(doc, attr, None)
        if value not in (None, ""):
            return str(value)
    return str(getattr(doc, "id", ""))


def transition(doc: Any, new_status: str, actor: Actor | None, reason: str | None = None, *,
               at: dt.datetime | None = None, action: str | None = None, **detail: Any) -> str:
    """Move ``doc`` to ``new_status``; returns the old status.

    Raises ``Conflict`` ("purchase order DAL-PO-000001 is sent; it cannot become draft") when the
    workflow forbids the move. ``at`` is the time stamped (default now); ``action`` overrides the
    audit action the workflow derives ("po.approved"); ``detail`` goes into the audit entry.
    """
    session = object_session(doc)
    if session is None:
        raise RuntimeError(f"transition of {type(doc).__name__} outside a session")
    wf = workflow_of(doc)
    old: str = doc.status
    if new_status not in wf.transitions.get(old, frozenset()):
        raise Conflict(f"{wf.label} {reference(doc, wf)} is {old}; it cannot become {new_status}")
    when = at or utcnow()
    doc.status = new_status
    if new_status in wf.stamps:
        setattr(doc, wf.stamps[new_status], when)
    if new_status in wf.stamp_user and actor is not None:
        setattr(doc, wf.stamp_user[new_status], actor.user_id)
    if wf.audited:
        if getattr(doc, "id", None) is None:
            session.flush()
        fields = {f: getattr(doc, f) for f in wf.audit_fields}
        extra = {"reason": reason} if reason is not None else {}
        audit.record(session, actor, action or wf.action(new_status), wf.table, doc.id, doc.owner_branch_id,
                     **{**fields, "old": old, "new": new_status, **extra, **detail})
    emit(session, StatusChanged(actor, table=wf.table, doc=doc, old=old, new=new_status, reason=reason))
    return old


def transition_all(docs: Any, new_status: str, actor: Actor | None, reason: str | None = None, *,
                   at: dt.datetime | None = None, **detail: Any) -> int:
    """``transition`` each of ``docs`` (all checked first, so one refusal changes none). Returns how many."""
    rows = list(docs)
    for doc in rows:
        wf = workflow_of(doc)
        if new_status not in wf.transitions.get(doc.status, frozenset()):
            raise Conflict(f"{wf.label} {reference(doc, wf)} is {doc.status}; it cannot become {new_status}")
    when = at or utcnow()
    for doc in rows:
        transition(doc, new_status, actor, reason, at=when, **detail)
    return len(rows)

