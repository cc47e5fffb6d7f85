"""Who may set up a file: nobody has to sign in to a file that has no users yet.

A new database (``depot db upgrade``) has no users, so nobody could sign in to create the
company, its branches and its first admin. While a file has no live user it is *in setup*:
organisation services accept ``actor=None`` (recorded as "setup" in the audit log), exactly as
whoever holds a fresh install may configure it. The first user must be an admin; from then on
every change needs a signed-in user with the right (``settings.edit``).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.org import Branch, Company, Location, Warehouse
from app.models.users import User
from app.services.auth import Actor
from app.services.db import local_branch_id
from app.services.errors import PermissionDenied


def in_setup(session: Session) -> bool:
    """True while the file has no live user (nobody could sign in yet)."""
    return session.scalar(select(User.id).where(User.deleted_at.is_(None)).limit(1)) is None


def authorize(session: Session, actor: Actor | None, action: str = "settings.edit") -> None:
    """``actor`` needs ``action``; ``None`` is accepted only while the file is in setup."""
    if actor is not None:
        actor.require(action)
        return
    if not in_setup(session):
        from app.services.auth import ACTION_PHRASES

        raise PermissionDenied("this file has users: sign in (or name one with --user) as a user allowed to "
                               f"{ACTION_PHRASES.get(action, action.replace('.', ' '))}")


@dataclass(frozen=True)
class SetupState:
    """What a file already holds, for the setup assistant and `depot company show`."""

    company: bool
    head_office: str  # code, '' when none
    branches: int
    warehouses: int
    bins: int
    users: int
    this_branch: str  # code of the branch this file works for ('' = not set)

    @property
    def needs_setup(self) -> bool:
        return self.users == 0


def setup_state(session: Session) -> SetupState:
    def count(q: object) -> int:
        return int(session.scalar(q) or 0)  # type: ignore[call-overload]

    ho = session.scalar(select(Branch.code).where(Branch.is_head_office.is_(True), Branch.deleted_at.is_(None)))
    here = local_branch_id(session)
    return SetupState(
        company=session.scalar(select(Company.id).where(Company.deleted_at.is_(None))) is not None,
        head_office=ho or "",
        branches=count(select(func.count()).select_from(Branch).where(Branch.deleted_at.is_(None))),
        warehouses=count(select(func.count()).select_from(Warehouse).where(Warehouse.deleted_at.is_(None))),
        bins=count(select(func.count()).select_from(Location).where(Location.kind == "storage",
                                                                     Location.deleted_at.is_(None))),
        users=count(select(func.count()).select_from(User).where(User.deleted_at.is_(None))),
        this_branch=(session.scalar(select(Branch.code).where(Branch.id == here)) or "") if here else "",
    )
