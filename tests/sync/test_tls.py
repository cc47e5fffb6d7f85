"""Sync against a real server that requires TLS and passwords (tests/sync/tls_cluster.py).

A branch must sync over ``sslmode=verify-full``; every way of getting the connection wrong gives
one sentence naming the cause, keeps the outbox, and the branch keeps working.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import pytest

from app.services.db import session_scope
from app.services.replication.engine import status, sync_once
from app.services.replication.server import add_branch, drop_roles, init_server
from tests.factories import World, build_world
from tests.sync.conftest import Site
from tests.sync.helpers import receive
from tests.sync.tls_cluster import TlsCluster

BRANCH_PASSWORD = "dal-branch-secret"


@dataclass
class TlsNet:
    cluster: TlsCluster
    dal: Site
    world: World
    role: str

    def dal_dsn(self, **kw: object) -> str:
        return self.cluster.dsn(self.role, str(kw.pop("password", BRANCH_PASSWORD)), **kw)  # type: ignore[arg-type]


@pytest.fixture(scope="module")
def tls_net(tls_cluster: TlsCluster, template_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TlsNet]:
    """Head office publishes over TLS as the owner; Dallas gets a password login and first-syncs."""
    with psycopg.connect(tls_cluster.owner_dsn("postgres"), autocommit=True) as c:
        c.execute("CREATE DATABASE depot")
    owner = tls_cluster.owner_dsn()
    init_server(owner, role_prefix="tls_")
    root = tmp_path_factory.mktemp("tlsnet")
    shutil.copy(template_db, root / "hq.db")
    shutil.copy(template_db, root / "dal.db")
    hq = Site(root / "hq.db", owner)
    with session_scope(hq.engine) as s:
        world = build_world(s)
    hq.sync()
    hq.close()
    role = add_branch(owner, "DAL", password=BRANCH_PASSWORD).role
    dal = Site(root / "dal.db", tls_cluster.dsn(role, BRANCH_PASSWORD))
    dal.sync()
    try:
        yield TlsNet(tls_cluster, dal, world, role)
    finally:
        dal.close()
        drop_roles(owner)


def test_a_branch_syncs_over_verify_full_tls(tls_net: TlsNet) -> None:
    receive(tls_net.dal, tls_net.world, "DAL", "BOLT", 7)
    res = tls_net.dal.sync()
    assert res.pushed >= 1 and res.pending == 0
    with psycopg.connect(tls_net.dal_dsn()) as c:
        assert c.execute("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()").fetchone() == (True,)
        assert c.execute("SELECT sum(qty) FROM stock_move WHERE reason = 'receipt'").fetchone() == (7,)


@pytest.mark.parametrize(("change", "says", "kind"), [
    ({"password": "not-the-password"}, "server login refused: wrong password", "auth"),
    ({"sslmode": "disable"}, "server requires TLS", "error"),
    ({"ca": "other"}, "server certificate is not trusted", "tls"),
    ({"host": "127.0.0.1"}, "server certificate names another host", "tls"),
])
def test_a_wrong_connection_is_named_and_loses_nothing(tls_net: TlsNet, change: dict[str, str], says: str,
                                                       kind: str) -> None:
    site = tls_net.dal
    receive(site, tls_net.world, "DAL", "WIDGET", 12)
    before = site.scalar("SELECT count(*) FROM sync_outbox")
    assert before > 0
    kw: dict[str, object] = dict(change)
    if kw.get("ca") == "other":
        kw["ca"] = tls_net.cluster.other_ca
    res = sync_once(site.engine, tls_net.dal_dsn(**kw))
    assert not res.ok and res.state == "offline" and res.error_kind == kind
    assert says in res.error and BRANCH_PASSWORD not in res.error and "not-the-password" not in res.error
    assert site.scalar("SELECT count(*) FROM sync_outbox") == before == res.pending
    assert says in status(site.engine).line()
    assert site.sync().pending == 0  # the right address again: everything goes
