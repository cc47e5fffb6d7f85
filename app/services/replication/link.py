"""A workstation's server connection, kept open from one sync to the next.

Why: a new PostgreSQL backend costs the server several milliseconds of CPU before the sync's
first statement runs (fork, authentication, and the catalog look-ups a fresh backend makes while
it plans its first queries), which was most of what an idle sync cost the server when every
sync connected anew (issue 20). A workstation syncs every 30 s, so its connection is kept:

* only while it is used: closed after ``KEEP_IDLE_S`` without a sync (a reaper thread closes it;
  a workstation whose sync stopped does not hold a backend) and replaced after ``KEEP_MAX_S``
  (a backend's caches only grow);
* only while the server has room: a new connection is kept when the server's backends (every login's) are
  at most ``KEEP_SHARE`` of what ``max_connections`` leaves to clients, else it is closed after
  its sync as before (``depot server check`` says when the workstations seen today do not fit);
  through a pooler the pooler's few server connections are what counts, so all are kept;
* never after an error (the sync engine discards it), nor with a transaction open;
* replaced once when the server closed it meanwhile (restart, ``idle_session_timeout``, a
  pooler's recycling): the sync's first statement fails and is retried on a new connection.

One connection per site database (``Engine``): the bench runs many sites in one process, the
application one. ``Engine.dispose()`` closes it.
"""

from __future__ import annotations

import contextlib
import threading
import time
import weakref
from dataclasses import dataclass
from typing import Any

import psycopg
from sqlalchemy import Engine, event

from app.services.replication.conn import open_server

#: a kept connection unused this long is closed (the sync interval is 30 s)
KEEP_IDLE_S = 120.0
#: a kept connection older than this is replaced at the next sync
KEEP_MAX_S = 3600.0
#: keep a new connection only while the server's backends (every login's) are at most this share of the
#: connections left to clients (``max_connections - superuser_reserved_connections``)
KEEP_SHARE = 0.75

# Every backend connected to a database counts: a branch login sees the type of its own backends only
# (other roles' come with their pid, database and role, the rest NULL), so counting 'client backend's
# let each branch keep 3/4 of the server and 1,000 workstations of 10 branches filled it (bench
# sync_scale --replay: 805 of 1,000 refused). Autovacuum workers count too: a little caution.
_CLIENTS_SQL = "SELECT count(*) FROM pg_stat_get_activity(NULL) WHERE datid IS NOT NULL"
_ROOM_SQL = (f"SELECT ({_CLIENTS_SQL}) <= %s * (current_setting('max_connections')::int "
             "- current_setting('superuser_reserved_connections')::int)")


@dataclass
class Link:
    """A connection checked out for one sync."""

    conn: psycopg.Connection[Any]
    dsn: str
    opened: float
    #: opened earlier and kept: its first statement may find that the server closed it meanwhile
    reused: bool
    keep: bool = True


_kept: weakref.WeakKeyDictionary[Engine, tuple[Link, float]] = weakref.WeakKeyDictionary()
_lock = threading.Lock()
_reaper: list[threading.Thread] = []


def checkout(engine: Engine, dsn: str) -> Link:
    """This site's kept connection to ``dsn`` if it is still good, else a new one."""
    now = time.monotonic()
    with _lock:
        kept = _kept.pop(engine, None)
    if kept is not None:
        link, used = kept
        if (link.dsn == dsn and not link.conn.closed and now - used < KEEP_IDLE_S
                and now - link.opened < KEEP_MAX_S):
            link.reused = True
            return link
        _close(link.conn)
    return Link(open_server(dsn), dsn, now, reused=False)


def reopen(link: Link) -> Link:
    """A new connection in place of a kept one the server closed meanwhile."""
    _close(link.conn)
    return Link(open_server(link.dsn), link.dsn, time.monotonic(), reused=False)


def checkin(engine: Engine, link: Link, *, ok: bool) -> None:
    """Keep the connection for the next sync, or close it (an error, no room on the server)."""
    conn = link.conn
    if not ok or conn.closed or conn.broken or conn.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
        _close(conn)
        return
    if not link.reused:
        link.keep = server_has_room(conn)
    if not link.keep:
        _close(conn)
        return
    with _lock:
        old = _kept.pop(engine, None)
        _kept[engine] = (link, time.monotonic())
        if engine not in _watched:
            _watched[engine] = True
            event.listen(engine, "engine_disposed", _forget)
        _start_reaper()
    if old is not None:  # a second sync of the same site ran at once: keep one connection
        _close(old[0].conn)


def close_all() -> None:
    """Close every kept connection (tests, shutting down)."""
    with _lock:
        links = [lk for lk, _u in _kept.values()]
        _kept.clear()
    for lk in links:
        _close(lk.conn)


def kept(engine: Engine) -> psycopg.Connection[Any] | None:
    """The connection kept for this site, if any (for ``depot sync --json`` and tests)."""
    with _lock:
        k = _kept.get(engine)
    return k[0].conn if k else None


_watched: weakref.WeakKeyDictionary[Engine, bool] = weakref.WeakKeyDictionary()


def _forget(engine: Engine) -> None:
    with _lock:
        k = _kept.pop(engine, None)
    if k is not None:
        _close(k[0].conn)


def server_has_room(conn: psycopg.Connection[Any]) -> bool:
    """May a new connection be kept (see ``KEEP_SHARE``)? Asked once per new connection."""
    try:
        with conn.cursor() as cur:
            cur.execute(_ROOM_SQL, (KEEP_SHARE,))
            row = cur.fetchone()
        conn.rollback()
    except psycopg.Error:
        return False
    return bool(row and row[0])


def _close(conn: psycopg.Connection[Any]) -> None:
    with contextlib.suppress(Exception):
        conn.close()


def _start_reaper() -> None:
    """One daemon thread per process closes connections unused for ``KEEP_IDLE_S`` (called under _lock)."""
    if _reaper and _reaper[0].is_alive():
        return
    t = threading.Thread(target=_reap, name="sync-link-reaper", daemon=True)
    _reaper[:] = [t]
    t.start()


def _reap() -> None:
    while True:
        time.sleep(min(10.0, KEEP_IDLE_S / 4))
        now = time.monotonic()
        with _lock:
            stale = [e for e, (_lk, used) in _kept.items() if now - used >= KEEP_IDLE_S]
            links = [_kept.pop(e)[0] for e in stale]
        for lk in links:
            _close(lk.conn)
