"""Pull: server rows changed since the cursor, applied with the cursor in one SQLite transaction.

A pull reads every visible row with ``txid >= cursor`` in one REPEATABLE READ snapshot and
then sets the cursor to that snapshot's ``xmin = pg_snapshot_xmin(pg_current_snapshot())``:
every transaction below xmin had finished, so a transaction that commits late (it started
before a pull but committed after it) has a txid at or above the stored cursor and is read
by a later pull; nothing is skipped. Rows at or above xmin that were already visible are
applied now and read again next time (applying is idempotent), so one long transaction
elsewhere on the cluster (xids are cluster-wide) delays nothing. The new cursor is stored
in the same SQLite transaction as the rows. A first sync is
the same pull from cursor 0: COPY per table inside one snapshot, with progress per table.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, text

from app.models.hlc import ClockSkewError, clock
from app.services.replication.apply import Row, apply_rows
from app.services.replication.conn import set_state_sql
from app.services.replication.faults import fault
from app.services.replication.tables import sync_tables

#: progress(table, tables_done, tables_total, rows_so_far)
PullProgress = Callable[[str, int, int, int], None]


@dataclass
class PullStats:
    rows: int = 0
    cursor: int = 0
    tables: set[str] = field(default_factory=set)
    skew_warning: str = ""


def read_window(pg: psycopg.Connection[Any], cursor: int,
                progress: PullProgress | None = None) -> tuple[int, dict[str, list[Row]]]:
    """All visible server rows with txid >= cursor, per table, in one snapshot; returns (xmin, rows)."""
    tables = sync_tables()
    pg.rollback()
    old = pg.isolation_level
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    out: dict[str, list[Row]] = {}
    try:
        with pg.cursor() as cur:
            cur.execute("SELECT pg_snapshot_xmin(pg_current_snapshot())::text::bigint")
            row = cur.fetchone()
            assert row is not None
            xmin = int(row[0])
            # one round trip to learn which tables changed (txid index), then COPY only those
            probe = sql.SQL(" UNION ALL ").join(
                sql.SQL("SELECT {} WHERE EXISTS (SELECT 1 FROM {} WHERE txid >= {}::xid8)").format(
                    sql.Literal(t.name), sql.Identifier(t.name), sql.Literal(str(cursor)))
                for t in tables.values())
            cur.execute(probe)
            changed = {str(r[0]) for r in cur.fetchall()}
            total = 0
            for n, t in enumerate(tables.values(), 1):
                if t.name not in changed:
                    if progress:
                        progress(t.name, n, len(tables), total)
                    continue
                exprs = sql.SQL(", ").join(sql.SQL(c.select_expr) for c in t.columns)
                # no upper bound: rows of transactions that already committed above xmin are
                # visible in this snapshot, so take them now (low latency even while some
                # unrelated long transaction holds xmin back) and again next time (idempotent)
                q = sql.SQL("COPY (SELECT {} FROM {} WHERE txid >= {}::xid8 ORDER BY id) TO STDOUT").format(
                    exprs, sql.Identifier(t.name), sql.Literal(str(cursor)))
                rows: list[Row] = []
                with cur.copy(q) as cp:
                    rows.extend(cp.rows())
                if rows:
                    out[t.name] = rows
                total += len(rows)
                if progress:
                    progress(t.name, n, len(tables), total)
        pg.rollback()
    finally:
        pg.isolation_level = old
    return xmin, out


def pull(engine: Engine, pg: psycopg.Connection[Any], site_id: str, branch_id: str | None,
         progress: PullProgress | None = None) -> PullStats:
    with engine.connect() as c:
        v = c.execute(text("SELECT value FROM sync_state WHERE key = 'cursor'")).scalar_one_or_none()
    cursor = int(v) if v else 0
    xmin, rows = read_window(pg, cursor, progress)
    stats = PullStats(cursor=xmin)
    if not rows and xmin == cursor:
        return stats
    stats.rows = sum(len(r) for r in rows.values())
    stats.skew_warning = _merge_clock(rows)
    with engine.begin() as c:
        stats.tables = apply_rows(c, rows)
        fault("during-apply")
        set_state_sql(c, {"cursor": str(xmin)})
    # tell the server how far this site has read (tombstone purge waits for the slowest site)
    with pg.cursor() as cur:
        # only branch logins report (an owner login bootstrapping a site is not a site of its own)
        cur.execute("INSERT INTO depot_site (site_id, branch_id, cursor, last_seen) "
                    "SELECT %s, %s, %s::text::xid8, now() WHERE depot_branch() IS NOT NULL "
                    "ON CONFLICT (site_id) DO UPDATE SET cursor = EXCLUDED.cursor, last_seen = now(), "
                    "branch_id = EXCLUDED.branch_id", (site_id, branch_id, str(xmin)))
    pg.commit()
    return stats


def _merge_clock(rows: dict[str, list[Row]]) -> str:
    """Advance our HLC past every pulled clock (so our next write orders after them)."""
    tables = sync_tables()
    top = 0
    for name, rs in rows.items():
        t = tables[name]
        if t.versioned and rs:
            i = t.names.index("hlc")
            top = max(top, max(int(r[i]) for r in rs))
    if not top:
        return ""
    try:
        clock.observe(top)
    except ClockSkewError as e:
        return f"ignored a server clock: {e}"
    return ""
