"""A connect that timed out is tried once more; a refused one is not (issue 20).

Under load a server's or pooler's queue of new connections fills up and a connect times out (60 of
2,000 syncs of ``bench sync_scale``'s 1,000 workstations through PgBouncer); a moment later it
would have gone through. A sync retries such a connect once, after a short pause, instead of going
offline until its next attempt; a port where nothing listens fails at once.
"""

from __future__ import annotations

import contextlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field

import psycopg
import pytest

from app.services.replication import conn
from app.services.replication.engine import sync_once
from tests.sync.conftest import PG_HOST, PG_PORT, Net


@dataclass
class LateListener:
    """A TCP listener in front of the PostgreSQL server that leaves its first ``silent`` connections
    unanswered (as a server or pooler whose queue is full) and forwards the later ones."""

    silent: int
    port: int = 0
    accepted: int = 0
    _socks: list[socket.socket] = field(default_factory=list)

    def serve(self, listener: socket.socket) -> None:
        while True:
            try:
                client, _addr = listener.accept()
            except OSError:
                return
            self._socks.append(client)
            self.accepted += 1
            if self.accepted <= self.silent:
                continue  # never answered: the client's connect times out
            upstream = socket.create_connection((PG_HOST, PG_PORT))
            self._socks.append(upstream)
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=_pipe, args=(a, b), daemon=True).start()

    def close(self) -> None:
        for s in self._socks:
            with contextlib.suppress(OSError):
                s.close()


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    with contextlib.suppress(OSError):
        while data := src.recv(65536):
            dst.sendall(data)
    with contextlib.suppress(OSError):
        dst.shutdown(socket.SHUT_WR)


@contextlib.contextmanager
def late_listener(silent: int) -> Iterator[LateListener]:
    ll = LateListener(silent)
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    ll.port = listener.getsockname()[1]
    threading.Thread(target=ll.serve, args=(listener,), daemon=True).start()
    try:
        yield ll
    finally:
        listener.close()
        ll.close()


def _via(dsn: str, port: int) -> str:
    return dsn.replace(f"host={PG_HOST} port={PG_PORT}", f"host=127.0.0.1 port={port}")


@pytest.fixture
def quick(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(conn, "CONNECT_TIMEOUT_S", 2)  # libpq's (and psycopg's) least
    monkeypatch.setattr(conn, "RETRY_AFTER_S", 0.1)


def test_a_connect_that_timed_out_is_tried_once_more_and_the_sync_goes_through(net: Net, quick: None) -> None:
    with late_listener(silent=1) as ll:
        t0 = time.monotonic()
        res = sync_once(net.dal.engine, _via(net.dal.dsn, ll.port))
        took = time.monotonic() - t0
    assert res.ok, res.error
    assert res.state == "online"
    assert ll.accepted == 2
    assert took >= 2.0  # the first attempt waited for its whole timeout


def test_a_second_timeout_leaves_the_sync_offline_with_a_sentence(net: Net, quick: None) -> None:
    with late_listener(silent=5) as ll:
        res = sync_once(net.dal.engine, _via(net.dal.dsn, ll.port))
    assert not res.ok and res.state == "offline"
    assert res.error_kind == "unreachable"
    assert "server unreachable" in res.error and "timeout" in res.error
    assert ll.accepted == 2  # one retry, not more


def test_a_closed_port_is_not_retried(net: Net, quick: None, monkeypatch: pytest.MonkeyPatch) -> None:
    with socket.socket() as s:  # a port nothing listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    attempts: list[str] = []
    real = psycopg.connect

    def counting(conninfo: str = "", **kw: object) -> psycopg.Connection[object]:
        attempts.append(conninfo)
        return real(conninfo, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(psycopg, "connect", counting)
    t0 = time.monotonic()
    res = sync_once(net.dal.engine, _via(net.dal.dsn, port))
    assert not res.ok and res.error_kind == "unreachable"
    assert len(attempts) == 1
    assert time.monotonic() - t0 < 2.0
