"""Demo and scale data: ``seed_database`` makes a complete, believable branch database.

The seed is a bulk load, not a series of local edits: it writes in one transaction with change
capture switched off (``sync_capture.enabled = 0``, and the loaded tables' insert capture
triggers dropped for the load), so nothing lands in the replication outbox, and it drops the
balance trigger and the loaded tables' secondary indexes while loading, then recreates them and
writes ``stock_balance`` from the ledger (the simulation sums every move it writes; the tests
prove the result equals ``services.stock.rebuild_balances``). Master and document rows go in
with ``sqlite3.executemany``; for big seeds the history workers write their moves, lots and
balances to scratch SQLite files that this process attaches and copies with ``INSERT ... SELECT``.
The content is a function of (size, seed, today): same inputs, same rows and ids, in the same
order; seeded on its own day, what happens "today" is also stamped no later than the moment the
seed runs (``seed_clock``: a server refuses rows from the future). See docs/data.md for what is in it.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import gc
import json
import multiprocessing
import random
import shutil
import sqlite3
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from app.models.buying import SALES_WEEK_REBUILD_SQL
from app.models.ids import uuid7
from app.models.kpi import KPI_PO_LINE_REBUILD_SQL, KPI_STOCK_DAY_REBUILD_SQL
from app.services import schema
from app.services.db import check_file, make_engine, session_scope
from app.services.errors import Conflict, DatabaseProblem, ValidationError
from app.services.seed.adoption import (
    legacy_to_file,
    seed_company,
    seed_legacy_history,
    seed_policies,
)
from app.services.seed.after_load import after_load
from app.services.seed.bulk import LEDGER, Bulk, IdGen, iso
from app.services.seed.dispatch import seed_waves
from app.services.seed.documents import seed_documents
from app.services.seed.forecasts import Early, Standby, copy_weeks
from app.services.seed.forecasts import start as start_early_forecasts
from app.services.seed.forking import Forked, fork
from app.services.seed.history_load import digests_from_chunks, scratch_folder, seed_history
from app.services.seed.history_load import parallel as history_parallel
from app.services.seed.kpi import seed_kpi_history
from app.services.seed.master import DEMO_PASSWORD, seed_master
from app.services.seed.shipping import seed_shipping
from app.services.seed.spec import SIZES, Ctx, Progress, seed_clock

__all__ = ["DEMO_PASSWORD", "SIZES", "SeedReport", "seed_database"]


#: the tables ``seed_documents`` writes (their indexes are built after its rows go in)
DOCUMENT_TABLES = ("purchase_order", "purchase_order_line", "expected_receipt", "expected_receipt_line",
                   "sales_order", "sales_order_line", "shipment", "number_series", "receivable_entry", "price_list",
                   "price_list_line", "allocation_run", "allocation", "allocation_policy", "exception_item")

#: the tables ``seed_history`` writes
HISTORY_TABLES = ("stock_move", "lot", "stock_balance")

#: digests the load fills whose secondary indexes are set aside too (built with the documents', after their rows)
INDEXED_DIGESTS = ("kpi_po_line",)

#: every table the seed writes: their secondary indexes are dropped during the load and rebuilt after
LOADED_TABLES = (
    "branch", "warehouse", "zone", "location", "supplier", "customer", "item", "item_uom", "item_supplier",
    "carrier", "carrier_service", "app_user", "user_role", "stock_move", "lot", "stock_balance", "purchase_order",
    "purchase_order_line", "expected_receipt", "expected_receipt_line", "sales_order", "sales_order_line",
    "shipment", "number_series", "audit_entry", "receivable_entry", "price_list", "price_list_line",
    "allocation_run", "allocation", "allocation_policy", "exception_item", "sales_history",
)


@dataclass
class SeedReport:
    path: Path
    size: str
    seed: int
    branch: str
    seconds: float
    file_bytes: int
    counts: dict[str, int] = field(default_factory=dict)
    #: partner EDI files and an Excel-saved CSV made for the demo data (None for large)
    samples: Path | None = None

    def as_dict(self) -> dict[str, object]:
        return {"path": str(self.path), "size": self.size, "seed": self.seed, "branch": self.branch,
                "seconds": round(self.seconds, 2), "file_bytes": self.file_bytes, "counts": dict(self.counts),
                "samples": str(self.samples) if self.samples else None}


def derived_digests() -> dict[str, tuple[str, str]]:
    """Triggers by which other areas keep digests of the ledger, with the SQL that rebuilds each.

    Firing them once per row costs more than the insert itself; the seed drops them for the
    load and rebuilds their tables from the ledger in the same transaction. A trigger not
    listed here is left in place and simply fires (correct, only slower).
    """
    out: dict[str, tuple[str, str]] = {}
    for name in ("trg_stock_move_sales_week", "trg_stock_move_sales_week_rev",
                 "trg_sales_history_sales_week"):  # imported history sums into the same digest
        out[name] = ("sales_week", SALES_WEEK_REBUILD_SQL)
    out["trg_stock_move_kpi_stock_day"] = ("kpi_stock_day", KPI_STOCK_DAY_REBUILD_SQL)
    out["trg_stock_move_kpi_po_line"] = ("kpi_po_line", KPI_PO_LINE_REBUILD_SQL)
    out["trg_receipt_line_kpi_po_line"] = ("kpi_po_line", KPI_PO_LINE_REBUILD_SQL)
    return out


#: digests rebuilt after the documents are written: they read documents (kpi_stock_day is rebuilt
#: beside them; the count moves seed/kpi.py adds later are added to it there)
LATE_DIGESTS = frozenset({"kpi_po_line"})


def _quiet(_done: int, _total: int, _text: str) -> None:
    return None


def _refuse_non_empty(path: Path) -> None:
    if not path.exists() or path.stat().st_size == 0:
        return
    conn = sqlite3.connect(path)
    try:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        for t in ("branch", "item", "stock_move"):
            if t in tables and conn.execute(f"SELECT EXISTS (SELECT 1 FROM {t})").fetchone()[0]:
                raise Conflict(f"{path} already holds data (table {t} is not empty): seed only a new or empty "
                               "database")
    except sqlite3.DatabaseError as e:
        raise DatabaseProblem(f"{path} is corrupt or not a Depot database ({e})") from None
    finally:
        conn.close()


def seed_database(path: Path, size: str = "demo", seed: int = 1, branch: str | None = None,
                  progress: Progress | None = None, *, today: dt.date | None = None,
                  day_under_way: bool = False, now: dt.datetime | None = None) -> SeedReport:
    """Create (and migrate) ``path`` and fill it with the ``size`` data set made from ``seed``.

    ``branch`` is the branch this file works for (local_site.branch_id; default DAL).
    Refuses a file that already holds data. ``today`` pins the end of history (tests).
    ``day_under_way``: then today's dispatch by the real services (cut-offs, waves planned, released
    and part-picked: ``seed.dispatch``), as ``depot seed`` and the demo do; made with the services'
    own ids and clock, so it is left out of the reproducible bulk content the tests compare.
    ``now``: the moment the seed runs (tests pin one; default the clock): nothing is stamped later.
    """
    if size not in SIZES:
        raise ValidationError("size", f"must be one of {', '.join(SIZES)}, not {size!r}")
    path = Path(path)
    report = progress or _quiet
    started = time.perf_counter()
    now = now or dt.datetime.now(dt.UTC)
    today = today or dt.date.today()
    clock = seed_clock(today, now)
    check_file(path, must_exist=False)
    _refuse_non_empty(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    existed = path.exists()
    # large: a forked process makes the schema while this one makes the master data (Python only,
    # its rows held until the load writes them); it forks before this process opens the file
    upgrading = fork(lambda: _upgrade(path), "seed-schema") if _fork_after_load(size) else None
    if upgrading is None:
        _upgrade(path)
        report(1, 100, "schema")
    # The load makes millions of tuples and no reference cycles worth collecting: the cyclic
    # collector would only walk the ever-growing heap again and again (about 12 s of CPU on
    # large, workers included: they are forked with it off). Back on when the load ends.
    collecting = gc.isenabled()
    gc.disable()
    conn: sqlite3.Connection | None = None
    try:
        ctx, local_branch = _master(size, seed, branch, report, today, clock)
        if upgrading is not None:
            made, upgrading = upgrading, None
            made()
            report(1, 100, "schema")
        report(5, 100, "master data")
        conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)  # see _load
        counts, early = _load(conn, ctx, local_branch, size, seed, report, today)
    except BaseException:
        if upgrading is not None:
            upgrading.stop()
        if conn is not None:
            conn.close()
        if not existed:
            for suffix in ("", "-wal", "-shm"):
                Path(f"{path}{suffix}").unlink(missing_ok=True)
        raise
    finally:
        if collecting:
            gc.enable()
    conn.close()
    after_load(path, size, seed, today, clock, report, forking=_fork_after_load(size), early=early)
    if day_under_way:
        seed_day_under_way(path, today, now=now)
        _recount(path, counts, ("stock_move", "stock_balance"))  # the picks of the demo waves moved stock
    samples = None
    if size == "demo":  # partner files and a spreadsheet to try, made from this data (seed/samples.py)
        from app.services.seed.samples import write_samples

        samples = write_samples(path, today=today)
    report(100, 100, "done")
    return SeedReport(path, size, seed, (branch or "DAL").upper(), time.perf_counter() - started,
                      path.stat().st_size, counts, samples)


#: sizes whose steps after the load run on two processes (see seed.after_load)
FORK_AFTER_LOAD = frozenset({"large"})


def _fork_after_load(size: str) -> bool:
    return size in FORK_AFTER_LOAD and sys.platform != "win32" and "fork" in multiprocessing.get_all_start_methods()



def _recount(path: Path, counts: dict[str, int], tables: tuple[str, ...]) -> None:
    conn = sqlite3.connect(path)
    try:
        for t in tables:
            if t in counts:
                counts[t] = int(conn.execute(f"SELECT count(*) FROM {t}").fetchone()[0])
    finally:
        conn.close()


def seed_day_under_way(path: Path, today: dt.date, *, now: dt.datetime | None = None) -> None:
    """Cut-offs and the day's waves, planned, released and part-picked, then carton sizes and orders
    packed, labelled and shipped on yesterday's manifest, by the real services (issue 14).
    ``now``: the moment it happens (tests pin one; default the clock)."""

    now = now or dt.datetime.now(dt.UTC)
    if now.date() != today:  # a pinned day (tests): early afternoon of it, before the cut-offs
        now = dt.datetime.combine(today, dt.time(14, 0), tzinfo=dt.UTC)
    engine = make_engine(path)
    try:
        with session_scope(engine) as s:
            # like the bulk load, seeded work is not a local edit to push (capture off, in the same transaction)
            s.execute(text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
            seed_waves(s, now)
            seed_shipping(s, now)
            s.execute(text("UPDATE sync_capture SET enabled = 1 WHERE id = 1"))
    finally:
        engine.dispose()


class _Legacy:
    """The legacy history made by a forked process (see ``_fork_legacy``)."""

    def __init__(self, ctx: Ctx, seed: int) -> None:
        self.ctx = ctx
        self.path = str(Path(scratch_folder(ctx)[0]) / "legacy.db")
        self.ids_at_fork = ctx.ids.getstate()
        ddl = ctx.bulk.conn.execute("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = 'sales_history'"
                                    ).fetchone()[0]
        self.made = fork(lambda: legacy_to_file(ctx, seed, self.path, ddl), "seed-legacy-history")
        self.copied = False

    def ready(self) -> bool:
        return self.copied or self.made.ready()

    def copy(self) -> None:
        """Wait for the process, copy its rows and take over the id stream where it left it (once)."""
        if self.copied:
            return
        ctx = self.ctx
        _n, ids_after = self.made()
        if ctx.ids.getstate() != self.ids_at_fork:
            raise RuntimeError("seed: ids were drawn while the legacy history was made elsewhere")
        ctx.ids.setstate(ids_after)
        conn = ctx.bulk.conn
        conn.execute("ATTACH DATABASE ? AS seed_legacy", (self.path,))  # detached by _drop_scratch
        # table h has sales_history's definition: 'SELECT *' into the empty table is SQLite's transfer
        # (pages filled, no row decoded), which any trigger on the table turns off: set aside meanwhile
        triggers = conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger' "
                                "AND tbl_name = 'sales_history' ORDER BY name").fetchall()
        for name, _sql in triggers:
            conn.execute(f"DROP TRIGGER {name}")
        n = conn.execute("INSERT INTO sales_history SELECT * FROM seed_legacy.h").rowcount
        for _name, sql in triggers:
            conn.execute(sql)
        ctx.bulk.counts["sales_history"] += max(n, 0)
        self.copied = True


def _fork_legacy(ctx: Ctx, seed: int) -> _Legacy | None:
    """With history workers, the legacy sales history (a million rows from one random stream, 8 s
    of Python) is made by a forked process too, into a scratch file, with its share of
    ``sales_week`` summed; the writer copies its rows as soon as it is made (between the history's
    chunks) and takes over the id stream where the process left it. None: make it here (the demo).
    Nothing draws from ``ctx.ids`` meanwhile (checked), so the ids are the same."""
    return _Legacy(ctx, seed) if history_parallel(ctx) else None


def _marks(values: tuple[str, ...]) -> str:
    return ",".join("?" * len(values))


def _catching(fn: Callable[[], None], failed: list[BaseException]) -> None:
    try:
        fn()
    except BaseException as e:  # handed to the main thread, which re-raises it
        failed.append(e)


def _drop_scratch(conn: sqlite3.Connection, scratch: tuple[str, list[str]] | None) -> None:
    """Detach and delete the workers' scratch files (after the transaction that read them)."""
    if scratch is None:
        return
    folder, _chunks = scratch
    for name in [r[1] for r in conn.execute("PRAGMA database_list") if r[1] not in ("main", "temp")]:
        with contextlib.suppress(sqlite3.Error):  # the connection is closed next anyway
            conn.execute(f"DETACH DATABASE {name}")
    shutil.rmtree(folder, ignore_errors=True)


def _upgrade(path: Path) -> None:
    engine = make_engine(path)
    try:
        schema.upgrade(engine)
    finally:
        engine.dispose()


def _master(size: str, seed: int, branch: str | None, report: Progress, today: dt.date,
            clock: dt.datetime) -> tuple[Ctx, str]:
    """The seed's context and its master data, held (no file needed: the load writes them once the
    history workers run); returns it with the local branch's id."""
    rng = random.Random(seed)
    # the load gives the bulk writer its connection (no row is written before)
    ctx = Ctx(spec=SIZES[size], rng=rng, ids=IdGen(random.Random(seed * 7919 + 17)), bulk=Bulk(None),
              today=today, clock=clock, seed=seed, progress=lambda d, t, s: report(5 + 75 * d // max(t, 1), 100, s))
    ctx.bulk.defer()
    local_branch = seed_master(ctx, branch)
    seed_company(ctx)
    return ctx, local_branch


def _load(conn: sqlite3.Connection, ctx: Ctx, local_branch: str, size: str, seed: int, report: Progress,
          today: dt.date) -> tuple[dict[str, int], Forked[Early] | None]:
    conn.execute("PRAGMA journal_mode = MEMORY")  # one big transaction; no WAL copy of every page
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("PRAGMA foreign_keys = OFF")  # rows go in parent-first anyway; checked by the tests
    conn.execute("PRAGMA cache_size = -800000")
    conn.execute("PRAGMA temp_store = MEMORY")
    conn.execute("BEGIN IMMEDIATE")
    ctx.bulk.conn = conn
    early: Forked[Early] | None = None
    standby: Standby | None = None
    try:
        conn.execute("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
        # Bulk-load shape: indexes are built once at the end (a sort, not 2 million b-tree
        # inserts) and balances are written from the simulation instead of by the trigger.
        derived = derived_digests()
        # the capture triggers would only look up sync_capture.enabled (0) for every row
        capture = tuple(f"trg_{t}_cap_i" for t in LOADED_TABLES)
        triggers = ("trg_stock_move_balance", *derived, *capture)
        saved = conn.execute(
            f"SELECT type, name, sql, tbl_name FROM sqlite_master WHERE sql IS NOT NULL AND ((type = 'index' AND tbl_name IN "
            f"({_marks((*LOADED_TABLES, *INDEXED_DIGESTS))})) OR (type = 'trigger' AND name IN ({_marks(triggers)})))",
            (*LOADED_TABLES, *INDEXED_DIGESTS, *triggers)).fetchall()
        for kind, name, _sql, _table in saved:
            conn.execute(f"DROP {kind.upper()} {name}")
        # master rows are held and written once the history workers run (they need only ctx)
        master_tables = {t for t in ctx.bulk.held_tables() if t not in HISTORY_TABLES}

        def write_master() -> None:
            ctx.bulk.flush()
            for kind, _n, sql, table in saved:  # no more rows come to these: index them now
                if kind == "index" and table in master_tables:
                    conn.execute(sql)
            report(6, 100, "master data written")

        if _fork_after_load(size) and history_parallel(ctx):  # large: see seed.forecasts.Standby
            standby = start_early_forecasts(scratch_folder(ctx)[0], today)  # before this process grows
        legacy = _fork_legacy(ctx, seed)  # large: made beside the history's workers
        # with the legacy rows copied no more rows come to sales_history: indexed then, in the history's
        # phase (this connection waits for the workers then; the documents' phase waits for it)
        legacy_indexes = [] if legacy is None else [
            sql for kind, _n, sql, table in saved if kind == "index" and table == "sales_history"]

        def copy_legacy_when_made(wait: bool = False) -> None:
            if legacy is not None and not legacy.copied and (wait or legacy.ready()):
                legacy.copy()
                for sql in legacy_indexes:
                    conn.execute(sql)

        hist = seed_history(ctx, seed, meanwhile=write_master, between=copy_legacy_when_made)
        # before sales_week is rebuilt below, so it counts there
        if legacy is None:
            seed_legacy_history(ctx, seed)
        else:
            copy_legacy_when_made(wait=True)
        report(80, 100, "history written")
        # The ledger's side of the load is SQL only (the indexes of every table the documents do
        # not write, the digests): a thread runs it, releasing the GIL inside SQLite, while this
        # thread builds the documents in Python and holds their rows.
        doc_tables = {*DOCUMENT_TABLES, *INDEXED_DIGESTS}
        derived_tables = {derived[n] for _k, n, _s, _t in saved if n in derived}
        ledger_indexes = [sql for kind, _n, sql, table in saved if kind == "index" and table not in doc_tables
                          and table not in master_tables and sql not in legacy_indexes]

        from_chunks = digests_from_chunks(ctx, None if legacy is None else "seed_legacy.w")
        if standby is not None:  # the forecasts' weeks summed beside (large)
            waiting, standby = standby, None
            if "sales_week" in from_chunks:
                early = waiting.go(conn, from_chunks["sales_week"])
            else:
                waiting.stop()

        def ledger_side() -> None:
            for sql in ledger_indexes:
                conn.execute(sql)
            # sales_week last: the early forecasts' process sums it meanwhile
            for table, rebuild in sorted(derived_tables, key=lambda d: d[0] == "sales_week"):
                if table not in LATE_DIGESTS:
                    conn.execute(f"DELETE FROM {table}")
                    if table == "sales_week" and early is not None:
                        copy_weeks(conn, early)
                    else:
                        conn.execute(from_chunks.get(table, rebuild))

        failed: list[BaseException] = []
        worker = threading.Thread(target=_catching, args=(ledger_side, failed), name="seed-ledger-indexes")
        ctx.bulk.defer()
        worker.start()
        try:
            seed_documents(ctx, hist)
        finally:
            worker.join()
        if failed:
            raise failed[0]
        ctx.bulk.flush()
        seed_kpi_history(ctx, conn)
        for table, rebuild in derived_tables:
            if table in LATE_DIGESTS:
                conn.execute(f"DELETE FROM {table}")
                conn.execute(from_chunks.get(table, rebuild))
        report(85, 100, "documents")
        for kind, _name, sql, table in saved:
            if kind == "index" and table in doc_tables:
                conn.execute(sql)
        report(92, 100, "indexes")
        for kind, _name, sql, _table in saved:
            if kind == "trigger":
                conn.execute(sql)
        report(94, 100, "triggers")
        now = dt.datetime.now(dt.UTC)
        conn.execute(
            "INSERT INTO local_site (id, site_id, branch_id, created_at) VALUES (1, ?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET branch_id = excluded.branch_id",
            (uuid7().bytes, bytes.fromhex(local_branch), iso(now)))  # ids as SQLite stores them
        seed_policies(ctx, conn)  # from the rebuilt sales_week
        counts = dict(ctx.bulk.counts)
        counts["stock_balance"] = conn.execute("SELECT count(*) FROM stock_balance").fetchone()[0]
        ms = int(dt.datetime.combine(today, dt.time(0), dt.UTC).timestamp() * 1000)
        ctx.bulk.insert("audit_entry", (*LEDGER, "username", "action", "entity", "detail"), [
            (ctx.ids.at_ms(ms), ctx.ho, iso(dt.datetime.fromtimestamp(ms / 1000, dt.UTC)), "system", "seed",
             "database", json.dumps({"size": size, "seed": seed, "counts": counts}, sort_keys=True))])
        conn.execute("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        if standby is not None:
            standby.stop()
        if early is not None:
            early.stop()
        raise
    finally:
        _drop_scratch(conn, ctx.scratch)
    conn.execute("PRAGMA analysis_limit = 1000")
    report(96, 100, "commit")
    conn.execute("ANALYZE")
    report(98, 100, "analyze")
    conn.execute("PRAGMA journal_mode = WAL")
    report(98, 100, "load done")
    return counts, early
