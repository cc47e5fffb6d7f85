"""The large seed's demand forecasts, computed beside the load (issue 19: after the load, the
forecasts chain was the longest).

The forecasts read ``sales_week``, which the load sums from the history workers' chunk files and
the legacy worker's weeks (``history_load.digests_from_chunks``). A process forked before the load
writes anything (``Standby``) waits until those are written, then sums the same rows into a scratch file (``weeks.db``, the table's own DDL), tells the load,
whose ledger thread copies them (already in key order) instead of summing them itself, then reads
them as ``weekly_history`` reads the branch file and computes the forecasts while the load writes
the documents. It never opens the branch file: it was forked while this process holds it open, and
SQLite's locks are per process. The process forked after the load stores its answer (``early()``
there, in place of reading and computing).
"""

from __future__ import annotations

import datetime as dt
import multiprocessing
import os
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from app.services.forecast import demand
from app.services.forecast import selection as sel
from app.services.seed.forking import Forked, fork

#: the scratch file the early process writes the weekly history to (in the chunk files' folder)
WEEKS_FILE = "weeks.db"


@dataclass
class Early:
    """What the early process answers: the history it read and the forecasts made from it."""

    hist: demand.WeeklyHistory
    res: sel.Result
    seconds_read: float
    seconds_forecast: float


class Standby:
    """The early process, forked before the load writes anything (``start``): it waits for its job.

    Forked after the history (as it was), it shared the writer's ~1.5 GB, 800 MB of it SQLite's page
    cache, and every page the writer wrote while it lived was copied: the documents' phase faulted
    ~460,000 pages (a prototype forked here: ~160,000, and the early process's peak 0.85 instead of
    1.85 GB). It needs nothing of the writer's memory: the job comes through a pipe."""

    def __init__(self, folder: str, today: dt.date) -> None:
        receive, self._send = multiprocessing.get_context("fork").Pipe(duplex=False)
        path = os.path.join(folder, WEEKS_FILE)
        send = self._send

        def job(tell: Callable[[str], None]) -> Early:
            send.close()
            ddl, attached, weeks_sql = receive.recv()
            return _early(tell, path, ddl, attached, weeks_sql, today)

        self.forked: Forked[Early] = fork(job, "seed-forecasts-early", telling=True)
        receive.close()

    def go(self, conn: sqlite3.Connection, weeks_sql: str) -> Forked[Early]:
        """Hand the process its job: ``weeks_sql`` fills ``sales_week`` from the databases attached to
        ``conn`` (the chunk files, the legacy history's), which it attaches under the same names."""
        ddl = conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sales_week'").fetchone()[0]
        attached = [(name, file) for _n, name, file in conn.execute("PRAGMA database_list")
                    if name not in ("main", "temp")]
        self._send.send((ddl, attached, weeks_sql))
        self._send.close()
        return self.forked

    def stop(self) -> None:
        """Not wanted after all (the load failed, or there are no chunk files): end the process."""
        self._send.close()
        self.forked.stop()


def start(folder: str, today: dt.date) -> Standby:
    """Fork the early process now, to wait for its job (``Standby.go``) or be stopped."""
    return Standby(folder, today)


def _early(tell: Callable[[str], None], path: str, ddl: str, attached: list[tuple[str, str]], weeks_sql: str,
           today: dt.date) -> Early:
    t0 = time.perf_counter()
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("PRAGMA cache_size = -400000")
        conn.execute("PRAGMA temp_store = MEMORY")
        for name, file in attached:
            conn.execute(f"ATTACH DATABASE ? AS {name}", (file,))
        conn.execute("BEGIN")
        conn.execute(ddl)
        conn.execute(weeks_sql)
        conn.execute("COMMIT")
    finally:
        conn.close()
    engine = create_engine(f"sqlite:///{path}")
    try:
        with Session(engine) as s:
            hist = demand.weekly_history(s, today, demand.DEFAULT_WEEKS)
    finally:
        engine.dispose()
    tell(path)  # read: the load copies the rows and removes the file after its commit
    t1 = time.perf_counter()
    res = demand.compute(hist, demand.DEFAULT_HORIZON)
    return Early(hist, res, t1 - t0, time.perf_counter() - t1)


def copy_weeks(conn: sqlite3.Connection, early: Forked[Early]) -> None:
    """``sales_week`` from the early process's file (waits until it is written)."""
    path = early.told()
    conn.execute("ATTACH DATABASE ? AS seed_weeks", (path,))  # detached with the chunk files after the commit
    # ``SELECT *`` of a table made with the same DDL, into an empty one: SQLite copies it as VACUUM
    # does (the "transfer optimization": records as they are, b-tree pages filled), 65 MB instead
    # of the 74 MB row-by-row inserts leave (~12 % of every page free)
    conn.execute("INSERT INTO sales_week SELECT * FROM seed_weeks.sales_week")
