"""A first sync's digests summed by the server on a second connection while the rows stream in.

The balances a first sync takes from the server (``pull.balances_query``, ``Applier.given_balances``)
were read by the reader after the last table, so the SQLite writer, done with the moves, waited for
the server's aggregate (a selective branch of the large set: ~12 s of wall at load 5, for a query of
~4 s of server CPU). Here a second connection imports the pull's snapshot
(``pg_export_snapshot`` / ``SET TRANSACTION SNAPSHOT``: the same rows, the same role and so the same
row security) and, on a thread, opens a server-side cursor and fetches its first rows: the server
has then hashed and sorted every group, on the other core, while the writer loads the tables. The
writer streams the rest when it gets there.

Nothing here is needed for correctness: a failure (no connection to spare, a pooler that refuses)
yields no rows, and the client, whose check then fails, recomputes the digest from its ledger.
The same connection then sums the manager KPIs' stock days (``pull.stock_days_query``: a few
hundred rows for ~2.9 s of the writer's CPU on the large set's selective branch).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

import psycopg
from psycopg import sql

from app.services.replication.apply import Row

log = logging.getLogger(__name__)

#: rows fetched on the thread (the server's whole aggregate is done before the first comes back)
FIRST_ROWS = 5_000


class Ahead:
    """Queries run one after another on a second connection in an exported snapshot, started at once.

    Use as a context manager; ``chunks(name)`` yields a query's rows (none if it failed)."""

    def __init__(self, connect: Callable[[], psycopg.Connection[Any]], snapshot: str,
                 jobs: list[tuple[str, sql.Composed]], chunk_rows: int, *, work_mem: str = "256MB") -> None:
        self._connect = connect
        self._snapshot = snapshot
        self._jobs = jobs
        self._chunk = chunk_rows
        self._work_mem = work_mem
        self._conn: psycopg.Connection[Any] | None = None
        #: job name -> (its server-side cursor, the rows fetched on the thread)
        self._open: dict[str, tuple[psycopg.Cursor[Any], list[Row]]] = {}
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="depot-first-sync-digest", daemon=True)

    def __enter__(self) -> Ahead:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        if self._thread.is_alive() and self._conn is not None:
            with contextlib.suppress(psycopg.Error):
                self._conn.cancel()  # the writer stopped early: do not wait for the aggregate
        self._thread.join()
        self._close()

    def _run(self) -> None:
        try:
            conn = self._conn = self._connect()
            conn.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
            conn.execute(sql.SQL("SET TRANSACTION SNAPSHOT {}").format(sql.Literal(self._snapshot)))
            conn.execute(sql.SQL("SET LOCAL work_mem = {}").format(sql.Literal(self._work_mem)))
            conn.execute("SET LOCAL cursor_tuple_fraction = 1")
            for n, (name, query) in enumerate(self._jobs, 1):
                cur = conn.cursor(name=f"depot_digest_{n}")
                cur.execute(query)
                self._open[name] = (cur, cur.fetchmany(FIRST_ROWS))
        except BaseException as e:  # noqa: BLE001 - reported by chunks(), which then yields nothing
            self._error = e

    def chunks(self, name: str) -> Iterator[list[Row]]:
        """The rows of job ``name`` in chunks, once the thread has them; nothing if it failed."""
        self._thread.join()
        if self._error is not None or name not in self._open:
            log.warning("first sync: the server's %s was not read (%s); recomputed here", name, self._error)
            return
        cur, first = self._open.pop(name)
        rows = first + cur.fetchmany(self._chunk - len(first)) if len(first) == FIRST_ROWS else first
        while rows:
            yield rows
            rows = cur.fetchmany(self._chunk)
        cur.close()
        if not self._open:
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        self._open.clear()
        if conn is not None and not conn.closed:
            with contextlib.suppress(psycopg.Error):
                conn.rollback()
            conn.close()
