"""Users and roles: adding, disabling, roles, passwords; a company can never lock itself out."""

from __future__ import annotations

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.users import ROLES, User
from app.services.auth import PERMISSIONS, actor_for, can, login
from app.services.errors import AuthError, Conflict, NotFound, PermissionDenied, ValidationError
from app.services.users import add_user, list_users, permission_table, reset_password, set_active, set_roles
from tests.factories import World


def test_an_admin_adds_a_user_who_signs_in_with_the_roles_given(session: Session, world: World) -> None:
    root = world.actors["root"]
    info = add_user(session, root, "Bea", "correct-horse", ["buyer", "approver", "buyer"], branch="dal",
                    full_name="Bea Buyer", email="bea@example.com")
    assert (info.username, info.branch, info.roles, info.active) == ("bea", "DAL", ("buyer", "approver"), True)
    bea = login(session, "bea", "correct-horse")
    assert bea.roles == frozenset({"buyer", "approver"}) and bea.branch_id == world.dal.id
    stored = session.scalar(select(User.password_hash).where(User.username == "bea"))
    assert stored and stored.startswith("scrypt$") and "correct-horse" not in stored
    assert session.scalar(text("SELECT count(*) FROM audit_entry WHERE action = 'user.create'")) == 1


@pytest.mark.parametrize(("username", "password", "roles", "branch", "message"), [
    ("bea", "correct-horse", ["buyer", "wizard"], None, "unknown role wizard"),
    ("bea", "correct-horse", [], None, "give at least one role"),
    ("bea", "short", ["buyer"], None, "password: must have at least 8 characters"),
    ("bea", "correct-horse", ["buyer"], "XX", "unknown branch XX"),
    ("alice", "correct-horse", ["buyer"], None, "username: alice already exists"),
    ("b e a", "correct-horse", ["buyer"], None, "use 1 to 40 letters"),
])
def test_bad_users_are_refused_with_the_field_and_rule(session: Session, world: World, username: str, password: str,
                                                       roles: list[str], branch: str | None, message: str) -> None:
    before = session.scalar(text("SELECT count(*) FROM app_user"))
    with pytest.raises((ValidationError, NotFound), match=message):
        add_user(session, world.actors["root"], username, password, roles, branch=branch)
    assert session.scalar(text("SELECT count(*) FROM app_user")) == before


def test_only_an_admin_manages_users(session: Session, world: World) -> None:
    with pytest.raises(PermissionDenied, match="mike may not change settings"):
        add_user(session, world.actors["mike"], "bea", "correct-horse", ["buyer"])
    with pytest.raises(PermissionDenied):
        set_active(session, world.actors["alice"], "bob", False)


def test_the_last_active_admin_can_neither_be_disabled_nor_lose_the_admin_role(session: Session, world: World) -> None:
    root = world.actors["root"]
    with pytest.raises(Conflict, match="root is the last active admin"):
        set_active(session, root, "root", False)
    with pytest.raises(Conflict, match="root is the last active admin"):
        set_roles(session, root, "root", ["manager"])
    assert login(session, "root", "secret-root").roles == frozenset({"admin"})
    # with a second admin it works, and the disabled one cannot sign in any more
    add_user(session, root, "ada", "correct-horse", ["admin"])
    set_active(session, root, "root", False)
    with pytest.raises(AuthError, match="user root is disabled"):
        login(session, "root", "secret-root")
    ada = login(session, "ada", "correct-horse")
    with pytest.raises(Conflict, match="ada is the last active admin"):
        set_active(session, ada, "ada", False)
    assert set_active(session, ada, "root", True).active


def test_roles_are_replaced_and_a_role_given_back_revives_its_row(session: Session, world: World) -> None:
    root = world.actors["root"]
    assert set_roles(session, root, "alice", ["approver", "receiver"]).roles == ("approver", "receiver")
    assert login(session, "alice", "secret-alice").roles == frozenset({"approver", "receiver"})
    assert set_roles(session, root, "alice", ["buyer"]).roles == ("buyer",)
    rows = session.execute(text("SELECT r.role, r.deleted_at IS NULL FROM user_role r JOIN app_user u ON u.id = r.user_id "
                                "WHERE u.username = 'alice' ORDER BY role")).all()
    assert [tuple(r) for r in rows] == [("approver", 0), ("buyer", 1), ("receiver", 0)]
    with pytest.raises(ValidationError, match="unknown role boss"):
        set_roles(session, root, "alice", ["boss"])


def test_passwords_are_reset_by_an_admin_or_changed_by_their_user(session: Session, world: World) -> None:
    reset_password(session, world.actors["root"], "alice", "new-password-1")
    with pytest.raises(AuthError):
        login(session, "alice", "secret-alice")
    alice = login(session, "alice", "new-password-1")
    reset_password(session, alice, "alice", "mine-only-2")
    assert login(session, "alice", "mine-only-2").username == "alice"
    with pytest.raises(PermissionDenied):
        reset_password(session, alice, "bob", "not-yours-3")
    with pytest.raises(ValidationError, match="at least 8 characters"):
        reset_password(session, world.actors["root"], "bob", "short")


def test_the_permission_table_is_the_one_the_services_enforce(session: Session, world: World) -> None:
    table = {p.action: p.roles for p in permission_table()}
    assert set(table) == set(PERMISSIONS)
    for action, roles in table.items():
        assert "admin" in roles
        for role in ROLES:
            assert (role in roles) == can({role}, action), (action, role)
    assert [u.username for u in list_users(session)] == sorted(u.username for u in list_users(session))
    actor_for(session, session.scalars(select(User).where(User.username == "alice")).one())
