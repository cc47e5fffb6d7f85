"""Two Depot server databases on one PostgreSQL cluster (a live one and a test one, or two
companies) keep their branch logins apart: roles are named per database, a second database
never takes over or resets the first one's logins, one database's login cannot even connect
to the other, and a copy made with CREATE DATABASE ... TEMPLATE gets logins of its own."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from app.services.db import session_scope
from app.services.errors import ValidationError
from app.services.replication.server import add_branch, default_prefix, drop_roles, init_server
from tests.factories import build_world
from tests.sync.conftest import ADMIN_DSN, PG_HOST, PG_PORT, _pg_available

pytestmark = pytest.mark.pg


def _dsn(db: str, user: str = "postgres") -> str:
    return f"host={PG_HOST} port={PG_PORT} user={user} dbname={db}"


def _hash(role: str) -> str:
    with psycopg.connect(ADMIN_DSN) as c:
        row = c.execute("SELECT rolpassword FROM pg_authid WHERE rolname = %s", (role,)).fetchone()
    assert row is not None
    return str(row[0])


@pytest.fixture
def cluster(make_site: Any) -> Iterator[dict[str, str]]:
    """Two fresh server databases with head office's master data published to each."""
    if not _pg_available():
        pytest.skip("PostgreSQL at 127.0.0.1:5432 is not running")
    tag = secrets.token_hex(3)
    names = {"live": f"depot_t_{tag}_live", "test": f"depot_t_{tag}_test", "copy": f"depot_t_{tag}_copy"}
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        for key in ("live", "test"):
            c.execute(f'CREATE DATABASE "{names[key]}"')
    try:
        for key in ("live", "test"):  # each company's head office publishes its master data (the branches)
            hq = make_site(f"hq_{key}", _dsn(names[key]))
            with session_scope(hq.engine) as s:
                build_world(s)
            init_server(_dsn(names[key]))  # default role prefix: the database's own name
            hq.sync()
            hq.close()  # and its kept server connection (CREATE DATABASE ... TEMPLATE wants none)
        yield names
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            exists = {r[0] for r in c.execute("SELECT datname FROM pg_database")}
        for key in ("copy", "test", "live"):  # the copy first: its roles are dropped before the original's
            if names[key] in exists:
                try:
                    drop_roles(_dsn(names[key]))
                finally:
                    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
                        c.execute(f'DROP DATABASE IF EXISTS "{names[key]}" WITH (FORCE)')


def test_two_databases_keep_their_branch_logins_apart(cluster: dict[str, str]) -> None:
    live, test = cluster["live"], cluster["test"]
    a = add_branch(_dsn(live), "DAL", password="live-secret")
    before = _hash(a.role)
    b = add_branch(_dsn(test), "DAL", password="test-secret")
    assert (a.role, b.role) == (f"{default_prefix(live)}dal", f"{default_prefix(test)}dal") and a.role != b.role
    assert _hash(a.role) == before, "adding DAL to the test database left the live login's password alone"
    # each login reaches its own database and is refused at the door of the other
    with psycopg.connect(_dsn(live, a.role)) as c:
        assert c.execute("SELECT depot_branch()").fetchone() is not None
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_dsn(test, a.role)).close()
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_dsn(live, b.role)).close()
    # re-running init and add-branch on one database changes nothing of the other's
    init_server(_dsn(test))
    add_branch(_dsn(test), "DAL", password="test-secret-2")
    assert _hash(a.role) == before


def test_a_second_database_may_not_take_the_first_ones_role_names(cluster: dict[str, str]) -> None:
    live = cluster["live"]
    other = cluster["live"].replace("_live", "_other")
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{other}"')
    try:
        with pytest.raises(ValidationError) as e:
            init_server(_dsn(other), role_prefix=default_prefix(live))
        assert f"role {default_prefix(live)}branch" in str(e.value) and f"Depot database '{live}'" in str(e.value)
        assert "--role-prefix" in str(e.value)
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{other}" WITH (FORCE)')


def test_a_database_dropped_and_created_again_takes_back_its_logins(cluster: dict[str, str], make_site: Any) -> None:
    """An administrator starts over (DROP DATABASE, CREATE DATABASE, 'depot server init'): the roles
    the dropped database made under that name are its again. Init used to refuse with "belongs to
    the Depot database 'x', not to 'x'", naming the same database twice."""
    live, test = cluster["live"], cluster["test"]
    a = add_branch(_dsn(live), "DAL", password="live-secret")
    before = _hash(a.role)
    add_branch(_dsn(test), "DAL", password="old-secret")
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'DROP DATABASE "{test}" WITH (FORCE)')
        c.execute(f'CREATE DATABASE "{test}"')
    info = init_server(_dsn(test))
    assert info.role_prefix == default_prefix(test)
    hq = make_site("hq_again", _dsn(test))  # head office publishes its branches to the new database
    with session_scope(hq.engine) as s:
        build_world(s)
    hq.sync()
    hq.close()
    b = add_branch(_dsn(test), "DAL", password="new-secret")
    with psycopg.connect(_dsn(test, b.role) + " password=new-secret") as c:
        assert c.execute("SELECT count(*) FROM depot_role").fetchone() == (1,)
    assert _hash(a.role) == before  # the other database's logins untouched


def test_a_copy_of_a_database_gets_logins_of_its_own(cluster: dict[str, str]) -> None:
    live, copy = cluster["live"], cluster["copy"]
    a = add_branch(_dsn(live), "DAL", password="live-secret")
    before = _hash(a.role)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{copy}" TEMPLATE "{live}"')
    with pytest.raises(ValidationError) as e:  # the copy still names the live database's roles
        add_branch(_dsn(copy), "DAL", password="copy-secret")
    assert f"belongs to the Depot database '{live}'" in str(e.value) and "not changed here" in str(e.value)
    assert _hash(a.role) == before
    with pytest.raises(ValidationError, match="--role-prefix"):
        init_server(_dsn(copy))
    info = init_server(_dsn(copy), role_prefix=default_prefix(copy))
    assert info.role_prefix == default_prefix(copy)
    c2 = add_branch(_dsn(copy), "DAL", password="copy-secret")
    assert c2.role == f"{default_prefix(copy)}dal" and _hash(a.role) == before
    with psycopg.connect(_dsn(copy, c2.role)) as c:
        assert c.execute("SELECT count(*) FROM depot_role").fetchone() == (1,)
    with pytest.raises(psycopg.OperationalError, match="permission denied for database"):
        psycopg.connect(_dsn(live, c2.role)).close()


def test_default_prefix_is_the_database_name() -> None:
    assert default_prefix("depot") == "depot_"
    assert default_prefix("Depot-Test 2") == "depot_test_2_"
    assert default_prefix("2026") == "d2026_"
    assert len(default_prefix("x" * 80)) <= 31
