"""Login and roles: scrypt hashes, one vague message for bad credentials, roles gate actions."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.users import User
from app.services.auth import PERMISSIONS, can, hash_password, login, verify_password
from app.services.errors import AuthError, PermissionDenied, ValidationError
from tests.factories import World


def test_password_hash_is_salted_scrypt_and_verifies() -> None:
    h1, h2 = hash_password("correct horse"), hash_password("correct horse")
    assert h1.startswith("scrypt$") and h1 != h2
    assert verify_password("correct horse", h1) and not verify_password("wrong", h1)
    assert not verify_password("x", "md5$abc")
    with pytest.raises(ValidationError, match="password"):
        hash_password("")


def test_login_ok_wrong_password_unknown_and_disabled(session: Session, world: World) -> None:
    actor = login(session, "Alice", "secret-alice")
    assert actor.username == "alice" and actor.roles == {"buyer"}
    for user, pw in (("alice", "nope"), ("mallory", "x")):
        with pytest.raises(AuthError, match="unknown user or wrong password"):
            login(session, user, pw)
    session.scalars(select(User).where(User.username == "bob")).one().active = False
    session.flush()
    with pytest.raises(AuthError, match="disabled"):
        login(session, "bob", "secret-bob")


def test_roles_decide_actions(world: World) -> None:
    buyer, approver, root = world.actors["alice"], world.actors["bob"], world.actors["root"]
    assert buyer.can("po.create") and not buyer.can("po.approve")
    assert approver.can("po.approve") and not approver.can("receipt.post")
    assert all(root.can(a) for a in PERMISSIONS)
    with pytest.raises(PermissionDenied, match=r"alice may not approve purchase orders: that needs the approver, manager or admin role \(alice has: buyer\)"):
        buyer.require("po.approve")
    with pytest.raises(KeyError):
        can({"buyer"}, "no.such.action")
