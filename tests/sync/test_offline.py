"""Bad input and faults: a clear status, the outbox kept, and the branch keeps working."""

from __future__ import annotations

import json
import socket
import struct
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest

from app.services.replication import push as push_mod
from app.services.replication.engine import status, sync_once
from tests.sync.conftest import PG_HOST, PG_PORT, Net, quiesce, server_hashes, site_hashes
from tests.sync.helpers import new_order, receive


def _offline(net: Net, dsn: str, match: str) -> None:
    before = net.dal.scalar("SELECT count(*) FROM sync_outbox")
    assert before > 0
    res = sync_once(net.dal.engine, dsn)
    assert not res.ok and res.state == "offline"
    assert match in res.error
    assert res.pending == before == net.dal.scalar("SELECT count(*) FROM sync_outbox")
    st = status(net.dal.engine)
    assert st.state == "offline" and match in st.line() and f"{before} pending" in st.line()
    assert net.dal.scalar("SELECT error FROM sync_history ORDER BY seq DESC LIMIT 1") == res.error


def _read_exactly(conn: socket.socket, n: int) -> bytes:
    """TCP is a stream: one recv() may return fewer bytes than a message has; read until n."""
    buf = b""
    while len(buf) < n:
        chunk = conn.recv(n - len(buf))
        if not chunk:
            raise ConnectionError(f"client closed after {len(buf)} of {n} bytes")
        buf += chunk
    return buf


@pytest.fixture
def refusing_server() -> Iterator[int]:
    """A real loopback server that speaks just enough of the PostgreSQL protocol to refuse a password."""
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(8)
    stop = threading.Event()

    def serve() -> None:
        srv.settimeout(0.2)
        while not stop.is_set():
            try:
                conn, _ = srv.accept()
            except TimeoutError:
                continue
            with conn:
                conn.settimeout(5)
                try:
                    length, code = struct.unpack("!ii", _read_exactly(conn, 8))
                    if code == 80877103:  # SSLRequest: no TLS here
                        conn.sendall(b"N")
                        length, code = struct.unpack("!ii", _read_exactly(conn, 8))
                    _read_exactly(conn, length - 8)
                    fields = b"SFATAL\0C28P01\0Mpassword authentication failed for user \"dt_dal\"\0\0"
                    conn.sendall(b"E" + struct.pack("!i", len(fields) + 4) + fields)
                except OSError:
                    continue  # that client went away (or stalled): serve the next one

    t = threading.Thread(target=serve, daemon=True)
    t.start()
    yield srv.getsockname()[1]
    stop.set()
    t.join()
    srv.close()


def test_server_unreachable_keeps_the_outbox_and_retries_later(net: Net) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    _offline(net, f"host=127.0.0.1 port=1 user={net.server.roles['DAL']} dbname=x", "server unreachable")
    res = net.dal.sync()  # back online: everything goes
    assert res.pushed == 1 and res.pending == 0
    assert "online · 0 pending" in status(net.dal.engine).line()


def test_wrong_password_is_named(net: Net, refusing_server: int) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    _offline(net, f"host=127.0.0.1 port={refusing_server} user=dt_dal password=nope dbname=x", "wrong password")


def test_tls_required_is_named(net: Net) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    _offline(net, net.server.role_dsn("DAL") + " sslmode=require", "requires TLS")


def test_schema_too_old_or_too_new_keeps_changes_queued(net: Net) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    with psycopg.connect(net.server.dsn) as c:
        c.execute("UPDATE depot_meta SET value = '[\"9999_future\"]' WHERE key = 'min_client_revisions'")
    _offline(net, net.server.role_dsn("DAL"), "too old")
    with psycopg.connect(net.server.dsn) as c:
        c.execute("UPDATE depot_meta SET value = '[]' WHERE key = 'min_client_revisions'")
        c.execute("UPDATE depot_meta SET value = '[\"0001\"]' WHERE key = 'revisions'")
        # built by a Depot whose replicated tables differed (a table or a column fewer)
        c.execute("UPDATE depot_meta SET value = 'an-older-shape' WHERE key = 'fingerprint'")
    _offline(net, net.server.role_dsn("DAL"), "server schema is older")
    with psycopg.connect(net.server.dsn) as c:  # a server set up before the fingerprint existed
        c.execute("DELETE FROM depot_meta WHERE key = 'fingerprint'")
    _offline(net, net.server.role_dsn("DAL"), "server schema is older")


def test_a_workstation_ahead_by_sqlite_only_migrations_keeps_syncing(net: Net) -> None:
    """Walking the upgrade (2026-12-06): migrations 0024-0026 change only SQLite (indexes, how times
    are stored), yet a branch that installed them before head office ran `server init` stopped
    syncing ('0024_structure ... unknown there'). The server's tables are what the fingerprint
    says; when they are the same as this version's, revisions the server never saw pass."""
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    with psycopg.connect(net.server.dsn) as c:  # the server was set up before this version's migrations
        revs = c.execute("SELECT value FROM depot_meta WHERE key = 'revisions'").fetchone()[0]
        c.execute("UPDATE depot_meta SET value = %s WHERE key = 'revisions'",
                  (json.dumps([r for r in json.loads(revs) if r < "0024"]),))
    res = net.dal.sync()
    assert res.pushed > 0 and res.pending == 0
    assert net.server.query("SELECT count(*) FROM stock_move") == [(1,)]


def test_connection_dropped_mid_batch_loses_nothing(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    new_order(net.dal, net.world, "DAL", "DAL-SO-000100")
    real = push_mod.upsert_rows
    calls = {"n": 0}

    def drop_after_first(cur: Any, t: Any, rows: Any, head_office: bool) -> set[str]:
        calls["n"] += 1
        if calls["n"] == 2:  # kill our own server session half way through the batch
            with psycopg.connect(net.server.dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(%s)", (cur.connection.info.backend_pid,))
        return real(cur, t, rows, head_office)

    monkeypatch.setattr(push_mod, "upsert_rows", drop_after_first)
    _offline(net, net.server.role_dsn("DAL"), "server unreachable")
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 0  # the batch was all-or-nothing
    monkeypatch.undo()
    quiesce(net.dal, net.hou)
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1


def test_unconfigured_site_says_how_to_connect(net: Net) -> None:
    res = sync_once(net.dal.engine)
    assert not res.ok and "no server configured" in res.error


_ = (PG_HOST, PG_PORT)


def test_a_file_of_one_branch_refuses_another_branchs_login(net: Net) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    _offline(net, net.server.role_dsn("HOU"), "this file works for branch DAL but the server login is HOU's")
