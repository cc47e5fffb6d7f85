"""Users, passwords and what each role may do.

Passwords are hashed with scrypt (hashlib, RFC 7914): a standard memory-hard KDF with no
extra dependency. The permission table is the one place that says which role may do which
action; the GUI enables buttons from it and services enforce it.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import uuid
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.users import ROLES, User, UserRole
from app.services.errors import AuthError, PermissionDenied, ValidationError

_N, _R, _P = 2**14, 8, 1

#: action -> roles allowed. Admin may do everything.
PERMISSIONS: dict[str, frozenset[str]] = {
    "item.view": frozenset(ROLES),
    "item.edit": frozenset({"manager", "admin"}),
    "stock.view": frozenset(ROLES),
    "stock.adjust": frozenset({"manager", "warehouse"}),
    "replenish.run": frozenset({"buyer", "manager"}),
    "replenish.policy": frozenset({"buyer", "manager"}),
    "requisition.create": frozenset({"buyer", "manager"}),
    "po.create": frozenset({"buyer", "manager"}),
    "po.approve": frozenset({"approver", "manager"}),
    "po.send": frozenset({"buyer", "manager"}),
    "receipt.post": frozenset({"receiver", "warehouse"}),
    "putaway.confirm": frozenset({"receiver", "warehouse"}),
    "count.enter": frozenset({"warehouse", "receiver"}),
    "count.approve": frozenset({"manager"}),
    "transfer.create": frozenset({"buyer", "warehouse", "manager"}),
    "rma.manage": frozenset({"clerk", "receiver", "manager"}),
    "order.enter": frozenset({"clerk", "dispatcher", "manager"}),
    "order.allocate": frozenset({"clerk", "dispatcher", "manager"}),
    "credit.release": frozenset({"manager"}),
    "price.override": frozenset({"manager"}),
    "dispatch.ship": frozenset({"dispatcher", "warehouse"}),
    "dispatch.wave": frozenset({"dispatcher", "manager"}),
    "dispatch.pick": frozenset({"dispatcher", "warehouse"}),
    "invoice.release": frozenset({"clerk", "manager"}),
    "invoice.credit": frozenset({"clerk", "manager"}),
    "payment.apply": frozenset({"clerk", "manager"}),
    "print.documents": frozenset({"clerk", "manager", "dispatcher", "buyer", "warehouse", "receiver"}),
    "tracking.poll": frozenset({"dispatcher", "clerk", "manager"}),
    "tracking.configure": frozenset({"manager"}),
    "dashboard.view": frozenset({"manager", "admin", "buyer"}),
    "settings.edit": frozenset({"admin"}),
    "sync.run": frozenset(ROLES),
    "import.run": frozenset({"admin"}),
}


#: the screen a role works in most, in order of precedence: where a workstation opens for a user who
#: has not opened any screen on it yet (a dispatcher starts on Dispatch, not on Master data)
HOME_SCREENS: tuple[tuple[str, str], ...] = (
    ("manager", "dashboard"), ("dispatcher", "dispatch"), ("clerk", "receivables"), ("buyer", "buying"),
    ("approver", "buying"), ("receiver", "receiving"), ("warehouse", "dispatch"),
)


def home_screen(roles: frozenset[str] | set[str]) -> str:
    """The rail key a user with these roles starts on (``master``, where an admin sets up, when no role names one)."""
    return next((screen for role, screen in HOME_SCREENS if role in roles), "master")


#: what an action is called in a sentence ("rita may not approve purchase orders")
ACTION_PHRASES: dict[str, str] = {
    "item.view": "look up items", "item.edit": "change items", "stock.view": "look up stock",
    "stock.adjust": "adjust stock", "replenish.run": "run replenishment", "requisition.create": "make requisitions",
    "po.create": "create purchase orders", "po.approve": "approve purchase orders", "po.send": "send purchase orders",
    "receipt.post": "post receipts", "putaway.confirm": "confirm putaway", "count.enter": "enter counts",
    "count.approve": "approve counts", "transfer.create": "create transfers", "rma.manage": "handle customer returns",
    "order.enter": "enter orders", "order.allocate": "allocate orders",
    "credit.release": "release credit holds", "price.override": "override prices", "dispatch.ship": "ship orders",
    "dispatch.wave": "plan and release waves", "dispatch.pick": "confirm picks", "invoice.release": "release invoices",
    "invoice.credit": "issue credit notes", "payment.apply": "apply customer payments",
    "print.documents": "print documents",
    "tracking.poll": "ask the carriers now", "tracking.configure": "change the tracking settings",
    "dashboard.view": "open the dashboard", "settings.edit": "change settings", "sync.run": "sync",
    "import.run": "import data", "replenish.policy": "set order points (min/max)",
}


def refusal(username: str, roles: frozenset[str] | set[str], action: str) -> str:
    """'rita may not approve purchase orders: that needs the approver, manager or admin role (rita has: receiver)'."""
    noun, _, verb = action.partition(".")
    phrase = ACTION_PHRASES.get(action) or f"{verb} {noun.replace('_', ' ')}s".strip()
    allowed = [*sorted(PERMISSIONS.get(action, frozenset()) - {"admin"}), "admin"]
    need = allowed[0] if len(allowed) == 1 else ", ".join(allowed[:-1]) + " or " + allowed[-1]
    return f"{username} may not {phrase}: that needs the {need} role ({username} has: {', '.join(sorted(roles)) or 'none'})"


def hash_password(password: str) -> str:
    if not password or len(password) < 4:
        raise ValidationError("password", "must have at least 4 characters")
    salt = os.urandom(16)
    digest = hashlib.scrypt(password.encode(), salt=salt, n=_N, r=_R, p=_P, dklen=32)
    return f"scrypt${_N}${_R}${_P}${base64.b64encode(salt).decode()}${base64.b64encode(digest).decode()}"


def verify_password(password: str, stored: str) -> bool:
    try:
        algo, n, r, p, salt_b64, digest_b64 = stored.split("$")
    except ValueError:
        return False
    if algo != "scrypt":
        return False
    digest = hashlib.scrypt(
        password.encode(), salt=base64.b64decode(salt_b64), n=int(n), r=int(r), p=int(p), dklen=32
    )
    return hmac.compare_digest(digest, base64.b64decode(digest_b64))


@dataclass(frozen=True)
class Actor:
    """Who is acting: passed to every service that changes data (audit, permissions, SoD)."""

    user_id: uuid.UUID
    username: str
    roles: frozenset[str]
    branch_id: uuid.UUID | None = None
    full_name: str = ""
    extra: dict[str, str] = field(default_factory=dict, compare=False, hash=False)

    def can(self, action: str) -> bool:
        return can(self.roles, action)

    def require(self, action: str) -> None:
        if not self.can(action):
            raise PermissionDenied(refusal(self.username, self.roles, action))


def can(roles: frozenset[str] | set[str], action: str) -> bool:
    if "admin" in roles:
        return True
    if action not in PERMISSIONS:
        raise KeyError(f"unknown action {action!r}")
    return bool(PERMISSIONS[action] & set(roles))


def actor_for(session: Session, user: User) -> Actor:
    roles = frozenset(session.scalars(select(UserRole.role).where(UserRole.user_id == user.id, UserRole.deleted_at.is_(None))))
    return Actor(user_id=user.id, username=user.username, roles=roles, branch_id=user.branch_id, full_name=user.full_name)


def login(session: Session, username: str, password: str) -> Actor:
    """Check a username and password; the message does not say which of the two was wrong."""
    user = session.scalars(select(User).where(User.username == username.strip().lower())).one_or_none()
    if user is None or user.deleted_at is not None or not verify_password(password, user.password_hash):
        raise AuthError("unknown user or wrong password")
    if not user.active:
        raise AuthError(f"user {user.username} is disabled")
    return actor_for(session, user)


def actor_by_name(session: Session, username: str) -> Actor:
    """For the CLI's --user: the actor without a password (the shell user is trusted)."""
    user = session.scalars(select(User).where(User.username == username.strip().lower())).one_or_none()
    if user is None or not user.active:
        raise AuthError(f"unknown user {username}")
    return actor_for(session, user)


def create_user(
    session: Session, username: str, password: str, roles: list[str], *, owner_branch_id: uuid.UUID,
    branch_id: uuid.UUID | None = None, full_name: str = "", email: str = "",
) -> User:
    name = username.strip().lower()
    if not name or len(name) > 40:
        raise ValidationError("username", "must be 1 to 40 characters")
    bad = [r for r in roles if r not in ROLES]
    if bad:
        raise ValidationError("roles", f"unknown role {', '.join(bad)} (known: {', '.join(ROLES)})")
    if session.scalars(select(User).where(User.username == name)).first():
        raise ValidationError("username", f"{name} already exists")
    user = User(username=name, password_hash=hash_password(password), branch_id=branch_id,
                full_name=full_name, email=email, owner_branch_id=owner_branch_id)
    session.add(user)
    session.flush()
    for r in roles:
        session.add(UserRole(user_id=user.id, role=r, owner_branch_id=owner_branch_id))
    session.flush()
    return user
