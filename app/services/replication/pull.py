"""Pull: server rows changed since the cursor, applied with the cursor in one SQLite transaction.

A pull reads every visible row with ``txid >= cursor`` in one REPEATABLE READ snapshot and
then sets the cursor to that snapshot's ``xmin = pg_snapshot_xmin(pg_current_snapshot())``:
every transaction below xmin had finished, so a transaction that commits late (it started
before a pull but committed after it) has a txid at or above the stored cursor and is read
by a later pull; nothing is skipped. Rows at or above xmin that were already visible are
applied now and read again next time (applying is idempotent), so one long transaction
elsewhere on the cluster (xids are cluster-wide) delays nothing. The new cursor is stored
in the same SQLite transaction as the rows. Up to ``READ_AHEAD_ROWS`` rows are read before that
transaction (and so SQLite's write lock) is opened: workstation writers never wait on the server
for a routine pull. A first sync is
the same pull from cursor 0: one server-side cursor per table inside one snapshot, with progress
per table. Each table is applied while it streams in (chunks of ``CHUNK_ROWS``), so memory stays
bounded however big the window is; see ``apply.Applier`` for the bulk shape of a first sync.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from itertools import chain, islice
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, text

from app.models.base import MASTER
from app.models.hlc import ClockSkewError, clock
from app.models.kpi import KPI_INSIDE, KPI_INTERNAL
from app.models.types import id_bytes
from app.services.replication import digests as server_digests
from app.services.replication.ahead import Ahead
from app.services.replication.apply import Applier, Row, parents_checked_here, rollback_journal
from app.services.replication.conn import set_state_sql
from app.services.replication.faults import fault
from app.services.replication.probe import HAS_FUNCTION_SQL, changed_tables
from app.services.replication.reader import Prefetch, Reader
from app.services.replication.scope import BranchScope
from app.services.replication.tables import SyncTable, sync_tables

#: progress(table, tables_done, tables_total, rows_so_far)
PullProgress = Callable[[str, int, int, int], None]


@dataclass
class PullStats:
    rows: int = 0
    cursor: int = 0
    tables: set[str] = field(default_factory=set)
    skew_warning: str = ""
    #: server rows kept out of this site (a local unique key clash; in the conflict log)
    unapplied: int = 0
    #: local rows made tombstones because the server purged them while this site was away
    purged: int = 0


#: rows read from one COPY before they are applied (bounds a pull's memory)
CHUNK_ROWS = 50_000
#: rows per fetch of a digest the server summed (``reader.Prefetch`` fetches them on a thread, and
#: psycopg holds the GIL while it builds a fetch's rows: smaller fetches let the writer bind sooner)
SERVED_ROWS = 10_000
#: a pull of at most this many rows is read whole before the local write lock is taken, so local
#: writers never wait on the network for a routine pull
READ_AHEAD_ROWS = 50_000
#: a pull that brought nothing reports the site's cursor to the server at most this often
REPORT_EVERY_S = 300


def _copy(cur: psycopg.Cursor[Any], query: sql.Composed) -> Iterator[list[Row]]:
    """A routine pull's window of a table in chunks: one COPY, one round trip."""
    with cur.copy(sql.SQL("COPY ({}) TO STDOUT").format(query)) as cp:
        rows = cp.rows()
        while chunk := list(islice(rows, CHUNK_ROWS)):
            yield chunk


def _fetch(pg: psycopg.Connection[Any], query: sql.Composed, n: int) -> Iterator[list[Row]]:
    """A first sync's table in chunks of ``CHUNK_ROWS`` rows, from a server-side cursor.

    psycopg builds a fetched chunk's rows in C, where a COPY's ``rows()`` runs five Python calls
    per row (twice the client CPU for reading); the cursor's two extra round trips (DECLARE, CLOSE)
    are nothing beside millions of rows, but a routine pull of a few rows keeps its one COPY.
    Integers arrive as int, everything else as text in its storage form
    (``tables.Column.select_expr``), which SQLite stores alike."""
    with pg.cursor(name=f"depot_pull_{n}") as cur:
        cur.execute(query)
        while rows := cur.fetchmany(CHUNK_ROWS):
            yield rows


def pull(engine: Engine, pg: psycopg.Connection[Any], site_id: str, branch_id: str | None,
         progress: PullProgress | None = None, *,
         second: Callable[[], psycopg.Connection[Any]] | None = None) -> PullStats:
    """Read the window table by table in one server snapshot, applying each table as it arrives.

    The SQLite transaction that applies the rows also stores the new cursor, so a crash (or a
    lost connection mid-COPY) leaves neither; only one chunk of rows is in memory at a time.
    ``second`` opens another server connection: a first sync's server-summed balances are then
    computed on it while the rows stream in (``replication.ahead``), else read after the tables.
    """
    local = _local_state(engine)
    cursor = int(local.get("cursor") or 0)
    own = [x for x in (local.get("own_txids") or "").split(",") if x]
    tables = sync_tables()
    pg.rollback()
    old = pg.isolation_level
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    stats = PullStats(cursor=cursor)
    try:
        with pg.cursor() as cur:
            w = open_window(cur, local, site_id, branch_id)
            xmin, snapshot, purged, changed, scope = w.xmin, w.snapshot, w.purged, w.changed, w.scope
            stats.cursor = xmin
            if w.empty:
                pg.rollback()  # nothing at all since the last pull; the heartbeat below may still be due
                _report(engine, pg, local, site_id, branch_id, xmin, snapshot, due=bool(own))
                return stats
            with contextlib.ExitStack() as stack:
                held: list[tuple[str, list[Row]]] = []  # read before the local write lock is taken
                ahead: Ahead | None = None
                pre: Prefetch | None = None  # fetches the second connection's rows a chunk ahead
                rebuilt = False  # the KPI PO lines asked of the server too (below)
                state: dict[str, Any] = {}

                def locked() -> Applier:
                    """Open the SQLite write transaction (once) and apply what was read ahead."""
                    if "ap" not in state:
                        c = stack.enter_context(engine.connect())
                        if not w.cursor and (back := rollback_journal(c)):
                            stack.callback(back)  # after the commit (or rollback) below
                        if keys_on := (parents_checked_here(c) if not w.cursor else None):
                            stack.callback(keys_on)  # likewise
                        stack.enter_context(c.begin())
                        state["c"] = c
                        state["ap"] = stack.enter_context(Applier(state["c"], check_parents=keys_on is not None))
                        for name, rows in held:
                            state["ap"].table(name, [rows])
                        held.clear()
                    ap: Applier = state["ap"]
                    return ap

                # a first sync reads the next chunk on a thread while SQLite writes this one
                # (replication.reader); a routine pull's few rows come in one COPY per table
                jobs = [(t.name, w.query(t)) for t in tables.values() if t.name in changed]
                # a first sync into an empty ledger: the server also sums the moves it sends (a branch's
                # scope of them, selectively) into balances (below); a re-sync of a file that has moves
                # (a server restored from a backup) recomputes them here, so the server is not asked
                sums = not w.cursor and "stock_move" in changed and _no_moves(engine)
                if sums:
                    cur.execute("SET LOCAL work_mem = '256MB'")  # a hash aggregate, not a sort on disk
                    moves = tables["stock_move"]
                    where = scope.where(moves, probe=False) if scope else None
                    history = tables["sales_history"]
                    hwhere = scope.where(history, probe=False) if scope else None
                    digests = [(BALANCES, balances_query(moves, where)), (STOCK_DAYS, stock_days_query(moves, where)),
                               (HISTORY_ROWS, sql.SQL("SELECT count(*) FROM sales_history WHERE {}").format(
                                   hwhere if hwhere is not None else sql.SQL("true"))),
                               (SALES_WEEKS, sales_weeks_query(where, hwhere))]
                    # into a file without their inputs: the KPI PO lines too (a branch's: over its scope)
                    rebuilt = second is not None and _digest_inputs_empty(engine)
                    if rebuilt:
                        digests += server_digests.jobs({"stock_move": where, "receipt_line": scope.where(
                            tables["receipt_line"], probe=False) if scope else None})
                    if second is not None:  # summed on another connection in this snapshot, meanwhile
                        cur.execute("SELECT pg_export_snapshot()")
                        exported = cur.fetchone()
                        assert exported is not None
                        ahead = stack.enter_context(Ahead(second, str(exported[0]), digests, SERVED_ROWS))
                        pre = stack.enter_context(Prefetch())  # left before the Ahead: its threads joined first
                    else:
                        jobs += digests
                reader = stack.enter_context(Reader(pg, jobs, CHUNK_ROWS)) if not w.cursor else None
                room = READ_AHEAD_ROWS
                for n, t in enumerate(tables.values(), 1):  # parents first
                    if t.name in changed:
                        chunks = reader.table(t.name) if reader else w.read(cur, t, n)
                        if scope:
                            chunks = (list(scope.tap(t.name, c)) for c in chunks)
                        if "ap" in state:
                            state["ap"].table(t.name, chunks)
                        else:
                            # A routine pull is read whole before local writers are blocked; a big
                            # one (first sync, long offline) streams under the lock, chunk by chunk.
                            first: list[Row] = []
                            for c in chunks:
                                first += c
                                if len(first) > room:
                                    break
                            if len(first) <= room:
                                if first:
                                    held.append((t.name, first))
                                room -= len(first)
                            else:
                                locked().table(t.name, chain([first], chunks))
                    if progress:
                        progress(t.name, n, len(tables), state["ap"].rows if "ap" in state else READ_AHEAD_ROWS - room)

                def served(name: str) -> Iterator[Sequence[Row]]:
                    """A digest the server summed: from the second connection, a chunk ahead of the
                    writer (``reader.Prefetch``), else from the reader after the last table."""
                    if ahead is not None and pre is not None:
                        return pre.chunks(ahead.chunks(name))
                    assert reader is not None
                    return reader.table(name)

                if reader and sums:
                    ap = locked()
                    ap.given_balances(served(BALANCES))
                    ap.given_stock_days(served(STOCK_DAYS))
                    counted = [r for c in served(HISTORY_ROWS) for r in c]
                    ap.given_sales_weeks(served(SALES_WEEKS), int(counted[0][0]) if counted else -1)
                if reader:
                    reader.close()  # done: the server connection is the caller's again
                ap = locked()
                if scope is not None:
                    scope.complete(cur, ap)
                if ahead and rebuilt:  # after the parents a branch fetches: the PO lines its local join would find
                    counts = list(chain.from_iterable(served(server_digests.COUNTS)))
                    ap.given_digests(counts, ((n, served(n)) for n in server_digests.NAMES),
                                     held_only=scope is not None)
                ap.finish()
                stats.purged = _mark_purged(state["c"], purged)
                stats.rows = ap.rows
                stats.tables = ap.touched | ({t for t, _i, _at in purged} if stats.purged else set())
                stats.unapplied = ap.unapplied
                # advance our HLC past every pulled clock (so our next write orders after them)
                stats.skew_warning = _merge_clock(ap.top_hlc)
                fault("during-apply")
                # this pull's snapshot covers every push before it: nothing of ours is left to skip
                done = {"cursor": str(xmin), "snapshot": snapshot, "own_txids": ""}
                if scope is not None:
                    done["scope"] = ",".join(scope.warehouses)
                set_state_sql(state["c"], done)
        pg.rollback()
    finally:
        if not pg.closed and pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            with contextlib.suppress(psycopg.Error):
                pg.rollback()
        with contextlib.suppress(psycopg.Error):
            pg.isolation_level = old
    _report(engine, pg, local, site_id, branch_id, xmin, snapshot, due=bool(stats.rows or purged or own))
    return stats


@dataclass
class Window:
    """What one pull reads: the server snapshot it reads in, and which rows of which tables."""

    cursor: int  # the site's stored cursor (0: a first sync)
    prev: str | None  # the snapshot of the site's previous pull
    own: list[str]  # the site's push transactions since that pull
    xmin: int  # this snapshot's xmin: the next cursor
    snapshot: str
    purged: list[tuple[str, str, str]]
    changed: set[str]
    scope: BranchScope | None

    @property
    def empty(self) -> bool:
        """Nothing at all since the last pull."""
        return not self.changed and not self.purged and self.xmin == self.cursor

    def query(self, t: SyncTable) -> sql.Composed:
        """The SELECT of table ``t``'s rows in the window (storage form)."""
        exprs = sql.SQL(", ").join(sql.SQL(col.select_expr) for col in t.columns)
        # no upper bound: rows of transactions that already committed above xmin are visible in
        # this snapshot, so take them now (low latency even while some unrelated long transaction
        # holds xmin back) and again next time (idempotent)
        window = _window(self.cursor, self.prev, [] if t.sync == MASTER else self.own,
                         self.scope.where(t, probe=bool(self.cursor)) if self.scope else None)
        return sql.SQL("SELECT {} FROM {} WHERE {}").format(exprs, sql.Identifier(t.name), window)

    def read(self, cur: psycopg.Cursor[Any], t: SyncTable, n: int) -> Iterator[list[Row]]:
        """Table ``t``'s rows in chunks: a first sync through a server-side cursor, else one COPY
        (``pull`` reads a first sync through ``replication.reader`` instead, on a thread)."""
        q = self.query(t)
        return _fetch(cur.connection, q, n) if not self.cursor else _copy(cur, q)


#: the names of the digests the server sums for a first sync into an empty ledger
BALANCES = "stock_balance (summed by the server)"
STOCK_DAYS = "kpi_stock_day (summed by the server)"
SALES_WEEKS = "sales_week (summed by the server)"
HISTORY_ROWS = "sales_history (counted by the server)"


def balances_query(moves: SyncTable, where: sql.Composable | None = None) -> sql.Composed:
    """``stock.REBUILD_BALANCES_SQL`` computed by the server over the moves it sends in this
    snapshot (the same rows: same transaction, same row security, and ``where``, the branch's
    scope of a selective first sync, the condition of the moves' own query), in storage form and in
    the local table's key order (byte order, as SQLite compares), with the number of move sides in
    each balance so the client can prove it summed the rows it loaded (``Applier.given_balances``).
    Grouped and ordered on the uuid columns (NULL lots form one group, as '' does locally; uuids
    compare by their bytes, so their order is their hex text's); only the result rows are turned
    into storage form. Each move is read once (its scope tested once) and summed per (to, from,
    item, lot) first: a branch's 765,586 moves are 215,769 such groups, whose two sides are then
    summed per location (the sides of each move, made by ``LATERAL (VALUES ...)`` and hashed one by
    one, cost ~4 s of server CPU on the large set, this ~2.5 s), and sorted before its ids are
    turned into text (a sort of the narrow rows: ~0.8 s less). The table is not aliased, since the
    scope's condition names its columns by the table's name."""
    col = {c.name: c for c in moves.columns}
    out = [sql.SQL(col[c].select_expr.replace(f'"{c}"', f'"{k}"')) for c, k in
           (("to_location_id", "loc"), ("item_id", "item_id"), ("lot_id", "lot_id"))]
    return sql.SQL(
        "WITH pairs AS MATERIALIZED (SELECT to_location_id, from_location_id, item_id, lot_id, "
        "sum(qty)::bigint AS q, count(*) AS n FROM stock_move WHERE {where} GROUP BY 1, 2, 3, 4) "
        "SELECT {loc} AS loc, {item} AS item_id, COALESCE({lot}, '') AS lot_key, q, n FROM ("
        "SELECT loc, item_id, lot_id, sum(q)::bigint AS q, sum(n)::bigint AS n FROM ("
        "SELECT to_location_id AS loc, item_id, lot_id, q, n FROM pairs "
        "UNION ALL SELECT from_location_id, item_id, lot_id, -q, n FROM pairs) s "
        "GROUP BY loc, item_id, lot_id ORDER BY loc, item_id, lot_id NULLS FIRST) g").format(
            loc=out[0], item=out[1], lot=out[2], where=where if where is not None else sql.SQL("true"))


def stock_days_query(moves: SyncTable, where: sql.Composable | None = None) -> sql.Composed:
    """``kpi.KPI_STOCK_DAY_REBUILD_SQL`` computed by the server over the moves it sends in this
    snapshot (``where`` as for ``balances_query``), with the trigger's own arithmetic on the same
    integers (quantities, costs in 1/10,000) and the same day (the first 10 characters of the stored
    UTC time, which the server keeps as the same text); ``Applier.given_stock_days`` takes it only
    with the balances proven over the same moves."""
    wh = next(c for c in sync_tables()["location"].columns if c.name == "warehouse_id")
    internal = sql.SQL(KPI_INTERNAL)
    return sql.SQL(
        "SELECT {wh}, day, inflow::bigint, cogs::bigint FROM ("
        "SELECT CASE WHEN lt.kind IN {i} THEN lt.warehouse_id ELSE lf.warehouse_id END AS warehouse_id, "
        "substr(stock_move.moved_at, 1, 10) AS day, "
        "sum(stock_move.qty * i.standard_cost * ((lt.kind IN {i})::int - (lf.kind IN {i})::int)) AS inflow, "
        "sum(CASE WHEN lt.kind = 'customer' THEN stock_move.qty * i.standard_cost ELSE 0 END) AS cogs "
        "FROM stock_move JOIN location lt ON lt.id = stock_move.to_location_id "
        "JOIN location lf ON lf.id = stock_move.from_location_id JOIN item i ON i.id = stock_move.item_id "
        "WHERE stock_move.reason NOT IN {inside} AND {where} GROUP BY 1, 2) g ORDER BY 1, 2").format(
            wh=sql.SQL(wh.select_expr), i=internal, inside=sql.SQL(KPI_INSIDE),
            where=where if where is not None else sql.SQL("true"))


def _week(day: str) -> str:
    """``buying.SQL_WEEK`` on the server: julianday(d) + 0.5 is the Julian day number, the day's
    distance from 2000-01-01 plus 2,451,545; whole weeks of it (positive: division truncates alike)."""
    return f"(({day} - date '2000-01-01') + 2451545) / 7"


def sales_weeks_query(moves: sql.Composable | None, history: sql.Composable | None) -> sql.Composed:
    """``buying.SALES_WEEK_REBUILD_SQL`` computed by the server over the moves and the sales history it
    sends in this snapshot (``moves`` and ``history``: the scope's conditions, as for
    ``balances_query``), in the local key order: sales into a customer location, less reversals of
    sales (the reversed sale among the moves sent too, as the local join finds it only then), plus
    the legacy days. ``Applier.given_sales_weeks`` takes it only with the moves and history proven
    the ones loaded."""
    true = sql.SQL("true")
    m, h = moves if moves is not None else true, history if history is not None else true
    moved = _week("substr({}.moved_at, 1, 10)::date")
    return sql.SQL(
        "SELECT encode(uuid_send(item_id), 'hex'), encode(uuid_send(warehouse_id), 'hex'), week, sum(q)::bigint FROM ("
        "SELECT stock_move.item_id, l.warehouse_id, " + moved.format("stock_move") + " AS week, stock_move.qty AS q "
        "FROM stock_move JOIN location l ON l.id = stock_move.to_location_id "
        "WHERE stock_move.reason = 'sale' AND l.kind = 'customer' AND {m} "
        "UNION ALL SELECT o.item_id, l.warehouse_id, " + moved.format("o") + ", -stock_move.qty "
        "FROM stock_move JOIN stock_move o ON o.id = stock_move.reverses_move_id JOIN location l ON l.id = o.to_location_id "
        "WHERE stock_move.reason = 'reversal' AND o.reason = 'sale' AND l.kind = 'customer' AND {m} "
        "AND o.id IN (SELECT stock_move.id FROM stock_move WHERE {m}) "
        "UNION ALL SELECT item_id, warehouse_id, " + _week("sale_date") + ", qty FROM sales_history WHERE {h}"
        ") s GROUP BY item_id, warehouse_id, week ORDER BY item_id, warehouse_id, week").format(m=m, h=h)


def open_window(cur: psycopg.Cursor[Any], local: dict[str, str], site_id: str, branch_id: str | None) -> Window:
    """A pull's first statements, in its REPEATABLE READ transaction: the snapshot, the purges this
    site missed, which tables changed since ``local``'s cursor and the branch's scope. Touches no
    local file: the bench's replay (``bench._replay``) opens its simulated pulls with it."""
    cursor = int(local.get("cursor") or 0)
    cur.execute("SELECT pg_snapshot_xmin(s)::text::bigint, s::text, to_regclass('depot_purged') IS NOT NULL, "
                "depot_is_ho() OR depot_is_admin(), "
                "COALESCE((SELECT value FROM depot_meta WHERE key = 'selective'), '') = 'on', "
                f"{HAS_FUNCTION_SQL} FROM pg_current_snapshot() AS s")
    row = cur.fetchone()
    assert row is not None
    purged = _purged_since_last_report(cur, site_id) if cursor and row[2] else []
    selective = bool(row[4]) and not row[3] and branch_id is not None
    if not cursor:
        # a first sync's server-side cursors are read to their end: plan for all the rows, as
        # for a COPY (not for a cursor's first tenth)
        cur.execute("SET LOCAL cursor_tuple_fraction = 1")
    else:
        # A routine pull reads a thin slice of each table by its txid index. Without planner
        # statistics (autovacuum off, never analyzed) the planner may guess a full scan;
        # the index is always the right plan for a window that starts at a recent cursor.
        cur.execute("SET LOCAL enable_seqscan = off")
    # one round trip to learn which tables changed (replication.probe: max(txid) per table, one
    # step down the txid index whatever the statistics say, from plans the backend keeps)
    changed = changed_tables(cur, list(sync_tables().values()), cursor, function=bool(row[5]))
    scope = BranchScope.read(cur, local, branch_id, cursor, changed) if selective and branch_id else None
    return Window(cursor, local.get("snapshot") or None, [x for x in (local.get("own_txids") or "").split(",") if x],
                  int(row[0]), str(row[1]), purged, changed, scope)


def report_due(local: dict[str, str], due: bool, now: float) -> bool:
    """An older report only holds purge back a little, so a pull that brought nothing and followed
    no push of ours reports at most every REPORT_EVERY_S: idle syncs write nothing on the server."""
    return due or now - float(local.get("reported_at") or 0) >= REPORT_EVERY_S


def report_cursor(pg: psycopg.Connection[Any], site_id: str, branch_id: str | None, xmin: int, snapshot: str) -> bool:
    """Write this site's cursor and snapshot into ``depot_site`` (False for an owner login, which is
    not a site of its own). Touches no local file (the bench's replay reports through it too)."""
    with pg.cursor() as cur:
        # only branch logins report (an owner login bootstrapping a site is not a site of its own)
        # (and the snapshot itself: a tombstone visible in it has been pulled here, whatever xmin says)
        cur.execute("INSERT INTO depot_site (site_id, branch_id, cursor, snapshot, last_seen) "
                    "SELECT %s, %s, %s::text::xid8, %s::pg_snapshot, now() WHERE depot_branch() IS NOT NULL "
                    "ON CONFLICT (site_id) DO UPDATE SET cursor = EXCLUDED.cursor, snapshot = EXCLUDED.snapshot, "
                    "last_seen = now(), branch_id = EXCLUDED.branch_id", (site_id, branch_id, str(xmin), snapshot))
        reported = cur.rowcount > 0
    pg.commit()
    return reported


def _report(engine: Engine, pg: psycopg.Connection[Any], local: dict[str, str], site_id: str,
            branch_id: str | None, xmin: int, snapshot: str, *, due: bool) -> None:
    """Tell the server how far this site has read (tombstone purge waits for the slowest site, and
    a site unseen for long expires), when due (``report_due``)."""
    now = time.time()
    if not report_due(local, due, now):
        return
    reported = report_cursor(pg, site_id, branch_id, xmin, snapshot)
    with engine.begin() as c:
        # the cursor the server now holds for this site: a server that later shows an older one was
        # restored from a backup (replication.restored)
        set_state_sql(c, {"reported_at": str(int(now)), **({"reported_cursor": str(xmin)} if reported else {})})


def _purged_since_last_report(cur: psycopg.Cursor[Any], site_id: str) -> list[tuple[str, str, str]]:
    """Tombstones the server purged that this site may never have seen: those purged by a
    transaction not visible in the snapshot this site last reported. Empty for a site that
    reports (purge waits for it); a site that was away longer than the expiry (purge went on
    without it) gets the deletes it missed here."""
    cur.execute("SELECT p.tbl, replace(p.id::text, '-', ''), "
                "to_char(p.purged_at AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.US\"+00:00\"') "
                "FROM depot_purged p JOIN depot_site s ON s.site_id = %s "
                "WHERE s.snapshot IS NOT NULL AND p.purge_xid >= pg_snapshot_xmin(s.snapshot) "
                "AND NOT pg_visible_in_snapshot(p.purge_xid, s.snapshot)", (site_id,))
    return [(str(t), str(i), str(at)) for t, i, at in cur.fetchall()]


def _mark_purged(c: Connection, purged: list[tuple[str, str, str]]) -> int:
    """Make the purged rows tombstones here (deleted when they were purged, as if this site had pulled
    the deletes in time), unless
    they wait in the outbox: ``purge_local_tombstones`` removes them later like any other. Capture is
    off (inside the apply)."""
    tables = sync_tables()
    n = 0
    for tbl, rid, at in purged:
        t = tables.get(tbl)
        if t is None or not t.versioned:
            continue
        r = c.exec_driver_sql(
            f'UPDATE "{tbl}" SET deleted_at = ? '
            "WHERE id = ? AND deleted_at IS NULL AND lower(hex(id)) NOT IN (SELECT row_id FROM sync_outbox WHERE tbl = ?)",
            (t.stored("deleted_at", at), id_bytes(rid), tbl))
        n += r.rowcount or 0
    return n


def _digest_inputs_empty(engine: Engine) -> bool:
    """The file holds none of the KPI PO lines' inputs, nor the digest, nor anything waiting to be
    pushed: the server's digest of what it sends is then what finish() would compute here
    (``replication.digests``)."""
    names = ("stock_move", *server_digests.COUNTED, *server_digests.NAMES, "sync_outbox")
    with engine.connect() as c:
        return not any(c.exec_driver_sql(f'SELECT EXISTS (SELECT 1 FROM "{n}")').scalar() for n in names)


def _no_moves(engine: Engine) -> bool:
    with engine.connect() as c:
        return bool(c.exec_driver_sql("SELECT NOT EXISTS (SELECT 1 FROM stock_move)").scalar())


def _local_state(engine: Engine) -> dict[str, str]:
    with engine.connect() as c:
        rows = c.execute(text("SELECT key, value FROM sync_state WHERE key IN "
                              "('cursor', 'snapshot', 'own_txids', 'reported_at', 'scope', 'workstation')")).all()
    return {str(k): str(v) for k, v in rows}


def _window(cursor: int, prev: str | None, own: list[str], scope: sql.Composable | None = None) -> sql.Composed:
    """Which rows of a table this pull reads.

    A first sync (cursor 0) reads everything, in id order (appends to the local b-trees). After
    that: rows at or above the cursor, less those already visible in the previous pull's snapshot
    (that pull read them: an open transaction elsewhere on the cluster holds xmin back, but no
    longer makes every pull re-read everything since it began) and less the rows of this site's
    own pushes since that pull, in txid order (the index). The server holds exactly what this site
    sent, except for master data, where a branch's push updates only its editable fields (the
    caller passes no ``own`` for master tables, so the merged row comes back).
    """
    if not cursor:
        return sql.Composed([scope or sql.SQL("true"), sql.SQL(" ORDER BY id")])
    cond = sql.SQL("txid >= {}::xid8").format(sql.Literal(str(cursor)))
    if scope is not None:
        cond = cond + sql.SQL(" AND ") + scope
    if prev:
        cond = cond + sql.SQL(" AND NOT pg_visible_in_snapshot(txid, {}::pg_snapshot)").format(sql.Literal(prev))
    if own:
        cond = cond + sql.SQL(" AND txid <> ALL({}::xid8[])").format(sql.Literal("{" + ",".join(own) + "}"))
    return cond + sql.SQL(" ORDER BY txid")


def _merge_clock(top: int) -> str:
    """Advance our HLC past the highest pulled clock (so our next write orders after them)."""
    if not top:
        return ""
    try:
        clock.observe(top)
    except ClockSkewError as e:
        return f"ignored a server clock: {e}"
    return ""
