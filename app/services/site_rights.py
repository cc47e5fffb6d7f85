"""What this site may change, asked before a write instead of learnt from the guard's refusal.

Head-office data (items, suppliers, replenishment classes and lanes, ...) may be written only on
a head-office site or a standalone file; a branch workstation's write would be refused by the
ownership guard after the user has filled the form. Services call ``require_head_office`` first
so the user reads one plain sentence; screens call ``edits_master`` with their data to disable
the controls.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.services.masterdata import branch_code
from app.services.ownership import ForeignWrite, ownership


def edits_master(session: Session) -> bool:
    """May this site write head-office master data? (standalone file or head-office site)"""
    own = ownership(session)
    return not own.enforced or own.head_office


def site_branch_code(session: Session) -> str:
    """This site's branch code ('' when not set)."""
    bid = ownership(session).branch_id
    return branch_code(session, bid, "") if bid else ""


def require_head_office(session: Session, what: str, do: str = "change them at head office") -> None:
    """Raise ``ForeignWrite`` "<what> are head-office data: <do>" on a branch workstation."""
    if not edits_master(session):
        raise ForeignWrite(f"{what} are head-office data: {do} "
                           f"(this workstation replicates as branch {site_branch_code(session)})")


def other_branches(session: Session, branch_ids: Iterable[uuid.UUID]) -> list[str]:
    """Codes of the branches among ``branch_ids`` that are not this site's (none on a standalone
    file): whose sites learn of this site's rows only after their next sync."""
    own = ownership(session)
    ids = {b for b in branch_ids if b != own.branch_id} if own.enforced else set()
    return sorted(session.scalars(select(Branch.code).where(Branch.id.in_(ids)))) if ids else []


def followup_for(session: Session, branch_ids: Iterable[uuid.UUID]) -> str:
    """The tail of a message about rows concerning ``branch_ids``: '; DAL sees it after its next sync'."""
    return after_their_sync(other_branches(session, branch_ids))


def after_their_sync(codes: list[str]) -> str:
    """"; DAL sees it after its next sync" (or '' when no other branch is concerned)."""
    if not codes:
        return ""
    if len(codes) == 1:
        return f"; {codes[0]} sees it after its next sync"
    return f"; {', '.join(codes)} see it after their next sync"
