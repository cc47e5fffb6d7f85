"""A workstation keeps its server connection from one sync to the next (issue 20).

A new backend per sync cost the server most of an idle sync's CPU. These tests hold what makes
keeping it safe: the next sync reuses the same backend, a backend the server closed meanwhile is
replaced without the sync failing, nothing is kept when the server is short of connections or
after an error, and an unused or disposed site lets its backend go.
"""

from __future__ import annotations

import time

import psycopg
import pytest

from app.services.replication import link
from app.services.replication.engine import sync_once
from bench._cluster import private_cluster
from tests.sync.conftest import ADMIN_DSN, Net
from tests.sync.helpers import receive


def _backend(net: Net) -> int:
    conn = link.kept(net.dal.engine)
    assert conn is not None, "the site kept no connection"
    return int(conn.info.backend_pid)


def _server_backends(net: Net) -> int:
    with psycopg.connect(ADMIN_DSN) as c:
        row = c.execute("SELECT count(*) FROM pg_stat_activity WHERE datname = %s AND usename = %s",
                        (net.server.dbname, net.server.roles["DAL"])).fetchone()
    return int(row[0]) if row else 0


def test_the_next_sync_reuses_the_same_server_backend(net: Net) -> None:
    assert net.dal.sync().ok
    pid = _backend(net)
    receive(net.dal, net.world, "DAL", "BOLT", 3)
    res = net.dal.sync()
    assert res.ok and res.pushed == 1
    assert _backend(net) == pid
    assert net.dal.sync().ok
    assert _backend(net) == pid and _server_backends(net) == 1
    # the kept connection is idle between syncs, never inside a transaction (it would hold xmin back)
    with psycopg.connect(ADMIN_DSN) as c:
        assert c.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", (pid,)).fetchone() == ("idle",)


def test_a_backend_the_server_closed_meanwhile_is_replaced_and_the_sync_succeeds(net: Net) -> None:
    assert net.dal.sync().ok
    pid = _backend(net)
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
        c.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))
    receive(net.dal, net.world, "DAL", "BOLT", 2)
    res = net.dal.sync()
    assert res.ok, res.error
    assert res.pushed == 1 and res.pending == 0
    assert _backend(net) != pid
    assert net.server.query("SELECT count(*) FROM stock_move") == [(1,)]


def test_no_connection_is_kept_when_the_server_is_short_of_connections(net: Net,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(link, "KEEP_SHARE", 0.0)  # the server counts as full
    assert net.dal.sync().ok
    assert link.kept(net.dal.engine) is None
    assert _server_backends(net) == 0


def test_other_branches_connections_count_against_the_room() -> None:
    """A branch login sees the type of its own backends only; the other logins' connections must
    count too, or each branch keeps 3/4 of the server and together they fill it (new syncs refused)."""
    with private_cluster({"max_connections": "20"}) as cluster:  # 17 for clients: 12.75 may be kept
        with psycopg.connect(cluster.dsn, autocommit=True) as admin:
            admin.execute("CREATE ROLE branch_a LOGIN; CREATE ROLE branch_b LOGIN")
        others = [psycopg.connect(cluster.dsn.replace("user=postgres", "user=branch_b")) for _ in range(12)]
        try:
            with psycopg.connect(cluster.dsn.replace("user=postgres", "user=branch_a")) as mine:
                assert not link.server_has_room(mine)  # 13 connected: no room to keep one more
                for c in others[:6]:
                    c.close()
                assert link.server_has_room(mine)
        finally:
            for c in others:
                c.close()


def test_nothing_is_kept_after_a_failed_sync(net: Net) -> None:
    assert net.dal.sync().ok
    bad = net.dal.dsn.replace(f"dbname={net.server.dbname}", "dbname=depot_no_such_db")
    res = sync_once(net.dal.engine, bad)
    assert not res.ok and "does not exist" in res.error
    assert link.kept(net.dal.engine) is None and _server_backends(net) == 0


def test_an_unused_connection_expires_and_a_disposed_site_lets_go(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    assert net.dal.sync().ok
    pid = _backend(net)
    monkeypatch.setattr(link, "KEEP_IDLE_S", 0.2)
    time.sleep(0.3)
    assert net.dal.sync().ok  # past the idle lifetime: a new backend
    assert _backend(net) != pid
    monkeypatch.setattr(link, "KEEP_IDLE_S", 120.0)
    net.dal.engine.dispose()
    assert link.kept(net.dal.engine) is None
    deadline = time.monotonic() + 5
    while _server_backends(net) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert _server_backends(net) == 0


def test_the_changed_tables_question_is_answered_by_the_server_function(net: Net) -> None:
    """Pulls ask ``depot_changed_tables`` (its plans stay in a kept backend); it names exactly the
    tables with rows at or above a cursor."""
    assert net.dal.sync().ok
    cursor = int(net.dal.scalar("SELECT value FROM sync_state WHERE key = 'cursor'"))
    receive(net.dal, net.world, "DAL", "BOLT", 3)
    assert net.dal.sync().pushed == 1
    rows = net.server.query("SELECT depot_changed_tables(%s::text::xid8)", str(cursor))
    assert {r[0] for r in rows} == {"stock_move"}
    assert net.hou.sync().pulled == 1


def test_a_server_without_the_function_is_asked_the_inline_way(net: Net) -> None:
    """A server initialised before the function existed still serves pulls."""
    assert net.hou.sync().ok
    with psycopg.connect(net.server.dsn, autocommit=True) as c:
        c.execute("DROP FUNCTION depot_changed_tables(xid8)")
    receive(net.dal, net.world, "DAL", "BOLT", 3)
    assert net.dal.sync().pushed == 1
    res = net.hou.sync()
    assert res.pulled == 1 and "stock_move" in res.tables
