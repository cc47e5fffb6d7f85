"""Loading the history: its blocks simulated on forked worker processes, their rows written to
scratch SQLite files (chunks) and copied into the branch file by the load's connection.

``seed.history`` says what happens to an item in a warehouse over a year (one block of items at a
time, each with its own random stream); this module runs the blocks (in this process for a small
seed, on ``WORKERS`` forked processes for a big one), hands their rows to the writer, merges the
blocks' POs and SOs, and sums the workers' shares of the ledger digests (``digests_from_chunks``).
The rows go in in the same order with the same values either way.
"""

from __future__ import annotations

import multiprocessing
import os
import shutil
import sqlite3
import sys
import tempfile
from collections.abc import Callable
from typing import Any

from app.models.kpi import kpi_po_line_rebuild_sql
from app.models.stamps import sql_day_week
from app.services.seed.history import (
    BALANCE_COLUMNS,
    LOT_COLUMNS,
    MOVE_COLUMNS,
    Block,
    History,
    _curves,
    _Days,
    _simulate,
    _tasks,
)
from app.services.seed.spec import Ctx

#: worker processes for the history of big seeds (1 = in this process)
WORKERS = 2

# The context a forked worker reads (set just before the pool starts; never pickled).
_SHARED: tuple[Ctx, _Days, dict[tuple[str, float], list[float]], int, str] | None = None

#: free space shared memory needs before the chunk files go there (large writes about 0.7 GB)
SCRATCH_ROOM = 2_000_000_000
#: relative sizes of the chunks of blocks a worker simulates and writes to one scratch file:
#: at most 8 (SQLite attaches at most 10 databases: the chunks, the legacy history's and the early
#: forecasts' weeks), smaller at the end so both workers finish together
CHUNK_WEIGHTS = (2, 2, 3, 3, 3, 3, 2, 1)
#: tables of a chunk file: (name, columns); rows in the order the writer inserts them
_CHUNK_TABLES = (("m", MOVE_COLUMNS), ("l", LOT_COLUMNS), ("b", BALANCE_COLUMNS),
                 ("w", ("item_id", "warehouse_id", "week", "qty")), ("d", ("warehouse_id", "day", "inflow", "cogs")),
                 ("p", ("doc_line_id", "first_at", "last_at", "qty", "put_at")))

def _write_chunk(path: str, blocks: list[Block]) -> None:
    """Write the blocks' moves, lots and balances to a scratch SQLite file, in order.

    The writer copies them with ``INSERT ... SELECT`` (C speed) instead of receiving 2 million
    pickled tuples and binding them one value at a time; the workers pay for this file on the
    other core. The tables are untyped, so values keep exactly the form the worker made (ids as
    16 bytes: the tables they are copied to store them so).
    """
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA journal_mode = OFF")
        conn.execute("PRAGMA synchronous = OFF")
        conn.execute("BEGIN")
        for name, cols in _CHUNK_TABLES:
            conn.execute(f"CREATE TABLE {name} ({', '.join(cols)})")
        marks = {name: ",".join("?" * len(cols)) for name, cols in _CHUNK_TABLES}
        for block in blocks:  # ids already in stored form (bytearray: bound as they are)
            conn.executemany(f"INSERT INTO m VALUES ({marks['m']})", block.moves)
            conn.executemany(f"INSERT INTO l VALUES ({marks['l']})", block.lots)
            conn.executemany(f"INSERT INTO b VALUES ({marks['b']})", block.balances)
            conn.executemany(f"INSERT INTO w VALUES ({marks['w']})", block.sales_week)
            conn.executemany(f"INSERT INTO d VALUES ({marks['d']})", block.stock_day)
            conn.executemany(f"INSERT INTO p VALUES ({marks['p']})", block.po_lines)
            block.moves, block.lots, block.balances = [], [], []
            block.sales_week, block.stock_day, block.po_lines = [], [], []
        conn.execute("COMMIT")
    finally:
        conn.close()


def _run_chunk(job: tuple[int, list[tuple[int, int]]]) -> tuple[str, list[Block]]:
    """Worker: simulate a chunk of blocks, write their rows to a chunk file, return the rest."""
    assert _SHARED is not None
    ctx, days, curves, seed, scratch = _SHARED
    n, tasks = job
    blocks = [_simulate(ctx, days, curves, seed, *t) for t in tasks]
    path = os.path.join(scratch, f"chunk{n}.db")
    _write_chunk(path, blocks)
    return path, blocks


def _scratch_base() -> str | None:
    """Where the chunk files go: shared memory when it has room (they are read once, and
    on disk their pages would compete with the database's for write-back), else the temp dir."""
    shm = "/dev/shm"
    try:
        if os.access(shm, os.W_OK) and shutil.disk_usage(shm).free > SCRATCH_ROOM:
            return shm
    except OSError:
        pass
    return None


def scratch_folder(ctx: Ctx) -> tuple[str, list[str]]:
    """The folder of the workers' scratch files and the names they are attached as (made on first
    use; the caller of the load removes it)."""
    if ctx.scratch is None:
        ctx.scratch = (tempfile.mkdtemp(prefix="depot-seed-", dir=_scratch_base()), [])
    return ctx.scratch


def parallel(ctx: Ctx) -> bool:
    """Whether this seed's history runs on worker processes (big seeds, where fork exists)."""
    return _parallel(_tasks(ctx))


def _parallel(tasks: list[tuple[int, int]]) -> bool:
    return not (len(tasks) <= 4 or WORKERS <= 1 or sys.platform == "win32"
                or "fork" not in multiprocessing.get_all_start_methods())


def _chunks(tasks: list[tuple[int, int]]) -> list[list[tuple[int, int]]]:
    out, start, acc, total = [], 0, 0, sum(CHUNK_WEIGHTS)
    for weight in CHUNK_WEIGHTS:
        acc += weight
        end = round(len(tasks) * acc / total)
        if end > start:
            out.append(tasks[start:end])
            start = end
    return out


def seed_history(ctx: Ctx, seed: int, *, meanwhile: Callable[[], None] | None = None,
                 between: Callable[[], None] | None = None) -> History:
    """Simulate every block, in order, and write its rows; forked workers for big seeds.

    With workers, each worker simulates a chunk of consecutive blocks and writes their moves,
    lots and balances to a scratch file; this process attaches the chunk files in order and
    copies their rows. Without, the blocks' rows are inserted here. Either way the rows go in
    in the same order with the same values, so the result does not depend on the workers.
    Balance keys never repeat across blocks (each block has its own items), so the blocks' sums
    are final: a chunk's balances go in with its moves (``stock_balance`` is clustered by its key,
    so the order they go in does not show; this process waits for the workers meanwhile, and the
    documents' phase that copied them all at once waits for this connection). ``meanwhile`` runs once the workers have started
    (before anything else is written here): the caller writes its held master rows then.
    ``between`` runs after each chunk is copied (the caller copies the legacy history as soon as
    its worker has made it, while this process would otherwise wait for the next chunk).
    """
    global _SHARED
    hist = History()
    days = _Days(ctx)
    curves = _curves(days)
    tasks = _tasks(ctx)
    _ = ctx.stored  # the master ids as bytes, made once here: the workers inherit them
    if not _parallel(tasks):
        if meanwhile is not None:
            meanwhile()
        balances: list[tuple[Any, ...]] = []
        for n, t in enumerate(tasks, 1):
            block = _simulate(ctx, days, curves, seed, *t)
            hist.moves += ctx.bulk.insert("stock_move", MOVE_COLUMNS, block.moves)
            ctx.bulk.insert("lot", LOT_COLUMNS, block.lots)
            balances.extend(block.balances)
            _merge(ctx, hist, block)
            ctx.progress(n, len(tasks), "history")
        _finish(hist)
        balances.sort(key=_balance_order)
        ctx.bulk.insert("stock_balance", BALANCE_COLUMNS, balances)
        return hist
    jobs = list(enumerate(_chunks(tasks)))
    conn = ctx.bulk.conn
    folder, attached = scratch_folder(ctx)
    done = 0
    try:
        _SHARED = (ctx, days, curves, seed, folder)
        with multiprocessing.get_context("fork").Pool(WORKERS) as pool:
            results = pool.imap(_run_chunk, jobs)
            if meanwhile is not None:
                meanwhile()
            for path, blocks in results:
                name = f"seed_chunk{len(attached)}"
                conn.execute(f"ATTACH DATABASE ? AS {name}", (path,))
                attached.append(name)
                hist.moves += ctx.bulk.copy("stock_move", MOVE_COLUMNS, f"{name}.m")
                ctx.bulk.copy("lot", LOT_COLUMNS, f"{name}.l")
                ctx.bulk.copy("stock_balance", BALANCE_COLUMNS, f"{name}.b", " ORDER BY 1, 2, 3")
                for block in blocks:
                    _merge(ctx, hist, block)
                    done += 1
                    ctx.progress(done, len(tasks), "history")
                if between is not None:
                    between()
    finally:
        _SHARED = None
    _finish(hist)
    return hist


def _balance_order(row: tuple[Any, ...]) -> tuple[Any, Any, Any]:
    """A balance's key as SQLite orders it ('' = no lot, text, before every lot's bytes)."""
    return row[0], row[1], row[2] or b""


def _merge(ctx: Ctx, hist: History, block: Block) -> None:
    for key, po in block.pos.items():
        mine = hist.pos.setdefault(key, po)
        if mine is not po:
            mine.lines.extend(po.lines)
    for skey, so in block.sos.items():
        have = hist.sos.setdefault(skey, so)
        if have is not so:
            have.lines.extend(so.lines)
    ctx.on_hand.update(block.on_hand)


def _finish(hist: History) -> None:
    for po in hist.pos.values():
        po.lines.sort(key=lambda ln: (ln.item, ln.id))
    for so in hist.sos.values():
        so.lines.sort(key=lambda ln: (ln[1], ln[0]))


def digests_from_chunks(ctx: Ctx, legacy_weeks: str | None = None) -> dict[str, str]:
    """Statements that fill ``sales_week``, ``kpi_stock_day`` and ``kpi_po_line`` from the workers'
    chunk files (their blocks' shares summed, plus the imported sales history and posted receipts),
    for the rebuild SQL to give way to; empty without workers (then the rebuild SQL runs: the tests
    prove both give the same rows). Every PO line's moves are in one block (its item, its warehouse).
    ``legacy_weeks``: a table that holds the imported sales history's share of ``sales_week`` already
    summed (the legacy worker's), read instead of grouping ``sales_history``."""
    attached = ctx.scratch[1] if ctx.scratch else []
    if not attached:
        return {}
    weeks = " UNION ALL ".join(f"SELECT * FROM {a}.w" for a in attached)
    days = " UNION ALL ".join(f"SELECT * FROM {a}.d" for a in attached)
    lines = " UNION ALL ".join(f"SELECT * FROM {a}.p" for a in attached)
    imported = (f"SELECT * FROM {legacy_weeks}" if legacy_weeks else
                f"SELECT item_id, warehouse_id, {sql_day_week('sale_date')}, qty FROM sales_history")
    return {
        "sales_week": "INSERT INTO sales_week (item_id, warehouse_id, week, qty) SELECT item_id, warehouse_id, week, "
                      f"SUM(qty) FROM ({weeks} UNION ALL {imported}) GROUP BY item_id, warehouse_id, week",
        "kpi_stock_day": "INSERT INTO kpi_stock_day (warehouse_id, day, inflow, cogs) SELECT warehouse_id, day, "
                         f"SUM(inflow), SUM(cogs) FROM ({days}) GROUP BY warehouse_id, day",
        "kpi_po_line": kpi_po_line_rebuild_sql(lines),
    }
