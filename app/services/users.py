"""Managing users: add, list, disable/enable, roles, passwords; and each role's permissions.

Users are head-office master data (``app_user``, ``user_role``): they are added at head office
and replicate to every branch; a branch may change only passwords and full names (the
registry's branch-editable fields). Two rules protect a company from locking itself out:
the first user of a file must be an admin, and the last active admin can be neither disabled
nor stripped of the admin role. Passwords are never arguments of a command (they would land in
shell history): the CLI reads them from a prompt or standard input.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Branch
from app.models.users import ROLES as _ROLES
from app.models.users import User, UserRole
from app.services import audit
from app.services.auth import PERMISSIONS, Actor, create_user, hash_password
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.org.setup import authorize, in_setup
from app.services.org.sites import find_branch
from app.services.site_rights import require_head_office

#: every role there is (screens read it here, not from the models)
ROLES: tuple[str, ...] = tuple(_ROLES)

#: a new or reset password has at least this many characters
MIN_PASSWORD = 8

#: one line per role: what it is for (the Users page and `depot user roles`)
ROLE_NOTES = {
    "buyer": "runs replenishment, raises requisitions and purchase orders, sends them",
    "approver": "approves or rejects purchase orders the approval rules stop",
    "receiver": "receives deliveries by scan, puts away, counts",
    "warehouse": "stock moves, counts, putaway, transfers, dispatch",
    "dispatcher": "ships orders and prints labels",
    "clerk": "sales orders, allocation, returns, invoices",
    "manager": "everything a branch does, approvals, counts, dashboards",
    "admin": "everything, including users, settings and imports",
}


@dataclass(frozen=True)
class UserInfo:
    id: uuid.UUID
    username: str
    full_name: str
    email: str
    branch: str
    roles: tuple[str, ...]
    active: bool

    def as_dict(self) -> dict[str, object]:
        return {"username": self.username, "full_name": self.full_name, "email": self.email, "branch": self.branch,
                "roles": list(self.roles), "active": self.active}


def check_password(password: str) -> str:
    if len(password or "") < MIN_PASSWORD:
        raise ValidationError("password", f"must have at least {MIN_PASSWORD} characters")
    if password != password.strip():
        raise ValidationError("password", "must not start or end with a space")
    return password


def check_roles(roles: Iterable[str]) -> list[str]:
    clean = list(dict.fromkeys(r.strip().lower() for r in roles if r.strip()))
    if not clean:
        raise ValidationError("roles", f"give at least one role (known: {', '.join(ROLES)})")
    bad = [r for r in clean if r not in ROLES]
    if bad:
        raise ValidationError("roles", f"unknown role {', '.join(bad)} (known: {', '.join(ROLES)})")
    return clean


def _roles_of(session: Session, user_ids: list[uuid.UUID]) -> dict[uuid.UUID, list[str]]:
    out: dict[uuid.UUID, list[str]] = {}
    for uid, role in session.execute(select(UserRole.user_id, UserRole.role).where(
            UserRole.user_id.in_(user_ids), UserRole.deleted_at.is_(None))):
        out.setdefault(uid, []).append(role)
    return out


def _info(session: Session, users: list[User]) -> list[UserInfo]:
    roles = _roles_of(session, [u.id for u in users])
    codes = dict(session.execute(select(Branch.id, Branch.code)).all())
    order = {r: i for i, r in enumerate(ROLES)}
    return [UserInfo(u.id, u.username, u.full_name, u.email, codes.get(u.branch_id, "") if u.branch_id else "",
                     tuple(sorted(roles.get(u.id, []), key=lambda r: order.get(r, 99))), u.active) for u in users]


def list_users(session: Session, *, include_disabled: bool = True) -> list[UserInfo]:
    q = select(User).where(User.deleted_at.is_(None)).order_by(User.username)
    if not include_disabled:
        q = q.where(User.active.is_(True))
    return _info(session, list(session.scalars(q)))


def find_user(session: Session, username: str) -> User:
    u = session.scalars(select(User).where(User.username == (username or "").strip().lower(),
                                           User.deleted_at.is_(None))).one_or_none()
    if u is None:
        raise NotFound("user", (username or "").strip().lower())
    return u


def add_user(session: Session, actor: Actor | None, username: str, password: str, roles: Iterable[str], *,
             branch: str | None = None, full_name: str = "", email: str = "") -> UserInfo:
    """A new user. The first user of a file (while it is in setup) must be an admin."""
    authorize(session, actor)
    require_head_office(session, "users", "add them at a head-office workstation")
    clean = check_roles(roles)
    setup = in_setup(session)
    if setup and "admin" not in clean:
        raise ValidationError("roles", "the first user of a file must be an admin (it signs in to set up the rest)")
    check_password(password)
    name = (username or "").strip().lower()
    if not name or len(name) > 40 or not name.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise ValidationError("username", f"{username!r}: use 1 to 40 letters, digits, '.', '-' or '_'")
    if len(full_name) > 120:
        raise ValidationError("full name", "is longer than 120 characters")
    if email and ("@" not in email or len(email) > 200):
        raise ValidationError("e-mail", f"{email!r} is not an e-mail address")
    from app.services.org.company import head_office_id_or_explain

    ho = head_office_id_or_explain(session)
    if branch:
        branch_id = find_branch(session, branch).id
    elif actor is not None and actor.branch_id is not None:
        branch_id = actor.branch_id
    else:
        branch_id = ho
    user = create_user(session, name, password, clean, owner_branch_id=ho, branch_id=branch_id,
                       full_name=full_name.strip(), email=email.strip())
    audit.record(session, actor, "user.create", "app_user", user.id, ho, username=user.username, roles=clean,
                 first=setup)
    return _info(session, [user])[0]


def _active_admins(session: Session) -> set[uuid.UUID]:
    return set(session.scalars(select(User.id).join(UserRole, UserRole.user_id == User.id).where(
        UserRole.role == "admin", UserRole.deleted_at.is_(None), User.active.is_(True), User.deleted_at.is_(None))))


def set_active(session: Session, actor: Actor, username: str, active: bool) -> UserInfo:
    """Disable (or enable again) a user; the last active admin cannot be disabled."""
    authorize(session, actor)
    require_head_office(session, "users", "disable or enable them at a head-office workstation")
    user = find_user(session, username)
    if not active and user.active and _active_admins(session) == {user.id}:
        raise Conflict(f"{user.username} is the last active admin: make another user admin before disabling "
                       f"{user.username}")
    if user.active != active:
        user.active = active
        session.flush()
        audit.record(session, actor, "user.enable" if active else "user.disable", "app_user", user.id,
                     user.owner_branch_id, username=user.username)
    return _info(session, [user])[0]


def set_roles(session: Session, actor: Actor, username: str, roles: Iterable[str]) -> UserInfo:
    """Replace a user's roles; the last active admin keeps the admin role."""
    authorize(session, actor)
    require_head_office(session, "user roles", "change them at a head-office workstation")
    user = find_user(session, username)
    clean = check_roles(roles)
    if "admin" not in clean and user.active and _active_admins(session) == {user.id}:
        raise Conflict(f"{user.username} is the last active admin: keep the admin role, or make another user admin "
                       "first")
    rows = {r.role: r for r in session.scalars(select(UserRole).where(UserRole.user_id == user.id))}
    before = sorted(r for r, row in rows.items() if row.deleted_at is None)
    from app.models.types import utcnow

    for role, row in rows.items():
        if role not in clean and row.deleted_at is None:
            row.deleted_at = utcnow()
    for role in clean:
        kept = rows.get(role)
        if kept is None:
            session.add(UserRole(user_id=user.id, role=role, owner_branch_id=user.owner_branch_id))
        elif kept.deleted_at is not None:
            kept.deleted_at = None  # (user, role) is unique: a role given back revives its row
    session.flush()
    audit.record(session, actor, "user.roles", "app_user", user.id, user.owner_branch_id, username=user.username,
                 before=before, after=sorted(clean))
    return _info(session, [user])[0]


def reset_password(session: Session, actor: Actor, username: str, password: str) -> UserInfo:
    """Set a new password: an admin for anyone, every user for themselves (allowed at a branch too)."""
    user = find_user(session, username)
    if actor.user_id != user.id:
        authorize(session, actor)
    check_password(password)
    user.password_hash = hash_password(password)
    session.flush()
    audit.record(session, actor, "user.password", "app_user", user.id, user.owner_branch_id, username=user.username,
                 own=actor.user_id == user.id)
    return _info(session, [user])[0]


@dataclass(frozen=True)
class PermissionRow:
    action: str
    roles: frozenset[str]

    @property
    def label(self) -> str:
        from app.services.auth import ACTION_PHRASES

        return ACTION_PHRASES.get(self.action, self.action.replace(".", " ").replace("_", " "))


def permission_table() -> list[PermissionRow]:
    """Every action and the roles that may do it (admin may do everything)."""
    return [PermissionRow(action, frozenset(roles) | {"admin"}) for action, roles in sorted(PERMISSIONS.items())]
