"""The seed's steps after the bulk load, each in transactions of its own, in two chains that neither
read nor write what the other writes: the delivered history, then the ETA model trained on it and
billing on it; the demand forecasts and the sister figures made from them (and the loaded stock and
orders).

With ``forking`` (large) the second chain runs in a forked process beside the first, and the ETA
model (it writes no row) in a third beside billing: the main process is the seed's critical path
and these steps used one core of two. Their rows do not depend on it
(``test_steps_after_the_load_on_two_processes_give_what_one_gives``); the demo runs them here, in
turn (it is seeded inside the window's process too, where nothing forks). Every process forks
with no connection to the file open (SQLite's locks are per process). The delivered history is
read and made before it takes the write lock, so the other chain's writes go in meanwhile.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine, event, text

from app.services.db import make_engine, session_scope
from app.services.replenishment.engine import all_arrays
from app.services.replenishment.figures_publish import publish as publish_sister_figures
from app.services.seed.billing import seed_billing
from app.services.seed.forecasts import Early
from app.services.seed.forking import Forked, fork
from app.services.seed.spec import Progress

#: the tables ``_deliveries`` writes (their secondary indexes are built after its rows go in)
DELIVERY_TABLES = ("shipment", "wave", "pick_line")

#: how long the seed's own connections wait for each other's writes
SEED_BUSY_MS = 600_000


def after_load(path: Path, size: str, seed: int, today: dt.date, clock: dt.datetime, report: Progress, *,
               forking: bool, early: Forked[Early] | None = None) -> None:
    """Run the steps after the load (see the module). ``early``: the forecasts computed beside the
    load (``seed.forecasts``), which the second process only stores."""
    second = [("forecasts", lambda: _forecasts(path, today, early)),
              ("sister figures", lambda: _sister_figures(path, today))]
    waiting = fork(lambda: _steps(second), "seed-forecasts") if forking else None
    if early is not None:
        early.close()  # the second process reads its answer
    _steps([("deliveries", lambda: _deliveries(path, size, seed, today, clock))], report)
    eta = fork(lambda: _eta_model(path), "seed-eta-model") if forking else None
    if eta is None:
        _steps([("ETA model", lambda: _eta_model(path))], report)
    _steps([("billing", lambda: _billing(path, size, seed, today))], report)
    if eta is not None:
        eta()
        report(99, 100, "ETA model (third process)")
    if waiting is None:
        _steps(second, report)
    else:
        waiting()
        report(99, 100, "forecasts and sister figures (second process)")
    if early is not None:
        early.reap()


def _steps(steps: list[tuple[str, Callable[[], None]]], report: Progress | None = None) -> None:
    for name, step in steps:
        step()
        if report is not None:
            report(99, 100, name)


def _engine(path: Path) -> Engine:
    """An engine whose connections wait as long as it takes for the other chain's write transaction
    (a delivered history holds the lock for seconds; the app's busy timeout is 5 s)."""
    engine = make_engine(path)
    event.listen(engine, "connect", _patient)
    return engine


def _patient(dbapi_conn: sqlite3.Connection, _record: object) -> None:
    dbapi_conn.execute(f"PRAGMA busy_timeout = {SEED_BUSY_MS}")


def _deliveries(path: Path, size: str, seed: int, today: dt.date, clock: dt.datetime) -> None:
    """Delivered shipments for predictive ETA and freight alerts to learn from, and the picks of the
    last weeks for pick-error alerts (issue 18): read and made in a read transaction, written in a
    transaction of their own (neither reads what the other writes)."""
    from app.services.seed.deliveries import delivery_rows, insert_deliveries
    from app.services.seed.pick_history import insert_picks, pick_rows

    conn = sqlite3.connect(path, isolation_level=None, timeout=SEED_BUSY_MS / 1000)
    try:
        conn.execute("PRAGMA cache_size = -400000")  # the indexes of the big tables these read stay in memory
        conn.execute("BEGIN")
        shipments = delivery_rows(conn, size, today, seed, clock=clock)
        picks = pick_rows(conn, size, today, seed)
        conn.execute("COMMIT")
        conn.execute("BEGIN IMMEDIATE")
        # 100,000 shipments on large: their secondary indexes built once after, by a sort (as in the load)
        aside = conn.execute(
            f"SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN "
            f"({','.join('?' * len(DELIVERY_TABLES))})", DELIVERY_TABLES).fetchall()
        for name, _sql in aside:
            conn.execute(f"DROP INDEX {name}")
        insert_deliveries(conn, shipments)
        insert_picks(conn, picks)
        for _name, sql in aside:
            conn.execute(sql)
        conn.execute("COMMIT")
    finally:
        conn.close()


def _forecasts(path: Path, today: dt.date, early: Forked[Early] | None = None) -> None:
    """Demand forecasts from the seeded history, so the worklist opens with forecast-driven lines
    (issue 18; ``depot forecast run`` does the same on a user's data). ``early``: read and computed
    beside the load already (its answer is read here, in a process forked after it)."""
    from app.services.forecast.demand import DEFAULT_HORIZON, DEFAULT_WEEKS, compute, store, weekly_history

    engine = _engine(path)
    try:
        # what run_forecasts does, but the read and the numpy part hold no write lock (the other chain writes)
        if early is not None:
            made = early.answer()
            hist, res, seconds_read, seconds_forecast = made.hist, made.res, made.seconds_read, made.seconds_forecast
        else:
            t0 = time.perf_counter()
            with session_scope(engine, write=False) as s:
                hist = weekly_history(s, today, DEFAULT_WEEKS)
            t1 = time.perf_counter()
            res = compute(hist, DEFAULT_HORIZON)
            seconds_read, seconds_forecast = t1 - t0, time.perf_counter() - t1
        with session_scope(engine) as s:
            store(s, hist, res, DEFAULT_HORIZON, seconds_read=seconds_read, seconds_forecast=seconds_forecast)
    finally:
        engine.dispose()


def _eta_model(path: Path) -> None:
    """The ETA model trained on the seeded deliveries, so the Tracking screen opens with predicted
    arrivals (the daily intelligence job trains it again; ``depot eta train`` by hand). A read
    transaction: it writes the model's file, no row."""
    from app.services.eta.service import model_path, train

    engine = _engine(path)
    try:
        with session_scope(engine, write=False) as s:
            train(s, None, model_path(path))
    finally:
        engine.dispose()


def _billing(path: Path, size: str, seed: int, today: dt.date) -> None:
    """Invoices, payments, credit notes and print history on the seeded shipments (issue 16)."""

    engine = _engine(path)
    try:
        seed_billing(engine, size, today, seed)
    finally:
        engine.dispose()


def _sister_figures(path: Path, today: dt.date) -> None:
    """Every warehouse's figures for its sisters' transfer-vs-buy, as each branch publishes them
    (issue 20: under selective replication a branch pulls these instead of the sisters' ledgers)."""
    engine = _engine(path)
    try:
        # the arrays are read without the write lock (the other chain writes meanwhile, nothing they read)
        with session_scope(engine, write=False) as s:
            arrays = all_arrays(s, today)
        with session_scope(engine) as s:
            # demo rows are the seed's, not local edits: nothing for replication to push (as the bulk load)
            s.execute(text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
            publish_sister_figures(s, None, today=today, arrays=arrays)
            s.execute(text("UPDATE sync_capture SET enabled = 1 WHERE id = 1"))
    finally:
        engine.dispose()
