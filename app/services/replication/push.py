"""Push: the outbox to the server in batches, one server transaction per batch.

A batch is keyed (site, first outbox seq); its receipt is written in the same server
transaction as its rows, so a batch resent after a crash (server committed, outbox not yet
cleared) is recognised and skipped. Outbox rows are deleted only after the server commit.
Rows travel as their *current* local state, so pushing twice, or in another order, gives
the same server rows: ledgers insert ``ON CONFLICT DO NOTHING``; versioned rows overwrite
only an older HLC. A versioned row that loses (a newer version is on the server) and a row
the server refuses (RLS, a posted document, a skewed clock) go to the conflict log in full
and the server's version is applied locally, so every site converges and nothing is lost.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, text

from app.models.base import LEDGER, MASTER
from app.services.replication.conn import dumps, set_state_sql
from app.services.replication.faults import fault
from app.services.replication.tables import BOOKKEEPING, SyncTable, storage_rows, sync_tables, wire_rows

Row = tuple[Any, ...]
CHUNK = 5000  # ids per SQLite IN (...) query


@dataclass
class PushStats:
    rows: int = 0
    batches: int = 0
    skipped_batches: int = 0  # already received (resent after a crash)
    lost: int = 0
    rejected: int = 0
    tables: set[str] = field(default_factory=set)  # tables whose local rows changed (server version applied)


def read_local_rows(conn: Connection, t: SyncTable, ids: Sequence[str]) -> list[Row]:
    """Current local rows of ``ids`` (32-hex) as wire tuples (raw sqlite3 cursor: no result objects)."""
    cols = ", ".join(c.sqlite_expr for c in t.columns)
    raw: Any = conn.connection.driver_connection
    out: list[Row] = []
    for i in range(0, len(ids), CHUNK):
        part = [bytes.fromhex(x) for x in ids[i:i + CHUNK]]
        marks = ", ".join("?" * len(part))
        out.extend(raw.execute(f'SELECT {cols} FROM "{t.name}" WHERE id IN ({marks})', tuple(part)).fetchall())
    return out


def _upsert_sql(t: SyncTable, source: sql.Composable, head_office: bool) -> sql.Composed:
    cols = sql.SQL(", ").join(sql.Identifier(c) for c in t.names)
    ins = sql.SQL("INSERT INTO {} AS t ({}) SELECT {} FROM {} ").format(sql.Identifier(t.name), cols, cols, source)
    if t.sync == LEDGER:  # nothing to learn from the ids: a ledger row never loses
        return ins + sql.SQL("ON CONFLICT (id) DO NOTHING")
    if t.sync == MASTER and not head_office:
        # RLS checks an upsert's INSERT policy even when the row exists, and only head office
        # may insert master rows: a branch sends its editable fields as a plain UPDATE.
        upd = [c for c in t.names if c in t.branch_editable or c in BOOKKEEPING]
        sets = sql.SQL(", ").join(sql.SQL("{} = s.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in upd)
        return sql.SQL("UPDATE {} AS t SET {} FROM {} WHERE t.id = s.id "
                       "AND (t.hlc, t.hlc_site) < (s.hlc, s.hlc_site) RETURNING t.id").format(
            sql.Identifier(t.name), sets, source)
    upd = [c for c in t.names if c != "id"]
    sets = sql.SQL(", ").join(sql.SQL("{} = EXCLUDED.{}").format(sql.Identifier(c), sql.Identifier(c)) for c in upd)
    return ins + sql.SQL("ON CONFLICT (id) DO UPDATE SET {} "
                         "WHERE (t.hlc, t.hlc_site) < (EXCLUDED.hlc, EXCLUDED.hlc_site) RETURNING id").format(sets)


#: up to this many rows of one table in a batch travel as one JSON parameter; more go by COPY
JSON_MAX_ROWS = 500


def _source(t: SyncTable) -> sql.Composed:
    """A batch as a row set read from one JSON parameter: no temporary table, so a routine push
    leaves no catalog rows behind (a temp table per table per connection, and every sync opens
    a connection, cost 89 system-catalog rows and ~20 kB of WAL per push of six stock moves).
    UUID hex, 0/1 and ISO text are read by the column types' own input functions."""
    return sql.SQL("json_populate_recordset(NULL::{}, %s::json) AS s").format(sql.Identifier(t.name))


def upsert_rows(cur: psycopg.Cursor[Any], t: SyncTable, rows: Sequence[Row], head_office: bool) -> set[str]:
    """Upsert rows in one statement; returns the ids written (versioned tables).

    A routine batch comes from one JSON parameter. A big one (publishing, a long offline spell)
    is COPYed into a temporary table first: COPY parses twice as fast for the client and the
    server, and one temp table's catalog rows are nothing beside thousands of data rows.
    """
    if not rows:
        return set()
    if len(rows) <= JSON_MAX_ROWS:
        payload = json.dumps([dict(zip(t.names, r, strict=True)) for r in wire_rows(t, rows)], separators=(",", ":"))
        cur.execute(_upsert_sql(t, _source(t), head_office), (payload,))
    else:
        tmp = sql.Identifier(f"_in_{t.name}")
        cols = sql.SQL(", ").join(sql.Identifier(c) for c in t.names)
        cur.execute(sql.SQL("CREATE TEMP TABLE IF NOT EXISTS {} ON COMMIT DELETE ROWS AS SELECT {} FROM {} WITH NO DATA")
                    .format(tmp, cols, sql.Identifier(t.name)))
        cur.execute(sql.SQL("TRUNCATE {}").format(tmp))
        with cur.copy(sql.SQL("COPY {} ({}) FROM STDIN").format(tmp, cols)) as cp:
            for r in rows:
                cp.write_row(r)
        cur.execute(_upsert_sql(t, sql.SQL("{} AS s").format(tmp), head_office))
    if t.sync == LEDGER:
        return set()
    return {r[0].hex for r in cur.fetchall()}


def fetch_server_rows(cur: psycopg.Cursor[Any], t: SyncTable, ids: Iterable[str]) -> list[Row]:
    idl = list(ids)
    if not idl:
        return []
    exprs = sql.SQL(", ").join(sql.SQL(c.select_expr) for c in t.columns)
    cur.execute(sql.SQL("SELECT {} FROM {} WHERE id = ANY(%s::uuid[])").format(exprs, sql.Identifier(t.name)), (idl,))
    return list(storage_rows(t, [tuple(r) for r in cur.fetchall()]))


@dataclass
class Batch:
    first: int
    last: int
    by_table: dict[str, list[Row]]


def read_batch(engine: Engine, size: int) -> tuple[Batch | None, list[tuple[str, str]]]:
    """The outbox's next ``size`` entries as rows in their current local state, and the entries of
    tables this version does not replicate."""
    tables = sync_tables()
    with engine.connect() as c:
        raw: Any = c.connection.driver_connection
        ob = raw.execute("SELECT seq, tbl, row_id FROM sync_outbox ORDER BY seq LIMIT ?", (size,)).fetchall()
        if not ob:
            return None, []
        ids: dict[str, list[str]] = defaultdict(list)
        seen: set[tuple[str, str]] = set()
        unknown: list[tuple[str, str]] = []
        for _seq, tbl, rid in ob:
            if (tbl, rid) in seen:
                continue
            seen.add((tbl, rid))
            if tbl in tables:
                ids[tbl].append(rid)
            else:
                unknown.append((tbl, rid))
        by_table = {name: read_local_rows(c, tables[name], ids[name]) for name in tables if ids.get(name)}
    return Batch(int(ob[0][0]), int(ob[-1][0]), by_table), unknown


def _conflict(c: Connection, tbl: str, rid: str, kind: str, reason: str, row: dict[str, Any]) -> None:
    c.execute(text("INSERT INTO sync_conflict (at, tbl, row_id, kind, reason, local_row) VALUES "
                   "(strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), :t, :r, :k, :why, :row)"),
              {"t": tbl, "r": rid, "k": kind, "why": reason[:1000], "row": dumps(row)})


def push(engine: Engine, pg: psycopg.Connection[Any], site_id: str, *, head_office: bool,
         batch_size: int = 1000, max_batches: int | None = None) -> PushStats:
    """Push the outbox until it is empty (or ``max_batches``)."""
    from app.services.replication.apply import apply_rows

    stats = PushStats()
    pushed: dict[str, int] = {}  # rows per table over the whole push
    while max_batches is None or stats.batches + stats.skipped_batches < max_batches:
        batch, unknown = read_batch(engine, batch_size)
        if batch is None:
            break
        sent = send_batch(pg, site_id, batch, head_office)
        if sent.already is not None:  # this batch (or its prefix) is already on the server
            with engine.begin() as c:
                c.execute(text("DELETE FROM sync_outbox WHERE seq <= :l"), {"l": sent.already})
            stats.skipped_batches += 1
            continue
        lost, notes, txid, login = sent.lost, sent.notes, sent.txid, sent.login
        n = sum(len(v) for v in batch.by_table.values())
        fault("after-push-commit")
        # the server has committed: clear the outbox, log conflicts, take the server's versions
        with engine.begin() as c:
            c.execute(text("DELETE FROM sync_outbox WHERE seq <= :l"), {"l": batch.last})
            _remember_own(c, txid)
            # the newest receipt of this site stays on the server (server purge keeps it): if it is ever
            # missing, the server was restored from a backup older than this push (replication.restored);
            # receipts are per login (a file published by the owner and then run by its branch login
            # cannot see the owner's), so the login is kept with it
            set_state_sql(c, {"last_receipt": f"{login} {batch.first}"})
            for tbl, rid, kind, why, row in notes:
                _conflict(c, tbl, rid, kind, why, row)
            for tbl, rid in unknown:
                _conflict(c, tbl, rid, "rejected", f"{tbl} is not a replicated table of this version", {})
            changed = apply_rows(c, {k: v for k, v in lost.items() if v}, force=True)
        stats.tables |= changed
        stats.rows += n
        stats.batches += 1
        stats.lost += sum(1 for x in notes if x[2] == "lost")
        stats.rejected += sum(1 for x in notes if x[2] == "rejected")
        for name, rows in batch.by_table.items():
            pushed[name] = pushed.get(name, 0) + len(rows)
    analyze_after_push(pg, [name for name, k in pushed.items() if k >= ANALYZE_ROWS])
    return stats


Note = tuple[str, str, str, str, dict[str, Any]]  # table, id, lost | rejected, why, the local row


@dataclass
class Sent:
    """What the server made of one batch."""

    #: the last seq of a batch the server had already received (resent after a crash): nothing was sent
    already: int | None = None
    txid: str = ""  # the push transaction's (the next pull skips its rows)
    login: str = ""
    lost: dict[str, list[Row]] = field(default_factory=lambda: defaultdict(list))  # server rows to apply locally
    notes: list[Note] = field(default_factory=list)


def send_batch(pg: psycopg.Connection[Any], site_id: str, batch: Batch, head_office: bool) -> Sent:
    """One batch's server transaction: its rows and its receipt, committed together (or nothing, when
    the receipt shows the batch arrived before). Touches no local file: the bench's replay
    (``bench._replay``) pushes its simulated workstations' batches through it."""
    sent = Sent()
    tables = sync_tables()
    with pg.cursor() as cur:
        cur.execute("SELECT last_seq FROM depot_receipt WHERE site_id = %s AND first_seq = %s", (site_id, batch.first))
        got = cur.fetchone()
        pg.rollback()
        if got is not None:
            sent.already = int(got[0])
            return sent
        try:
            _apply_batch(cur, batch, tables, head_office, sent.lost, sent.notes)
        except psycopg.OperationalError:
            raise
        except psycopg.Error:
            pg.rollback()  # something refused: go row by row so the good rows still land
            sent.lost.clear()
            sent.notes.clear()
            _apply_rows_one_by_one(cur, batch, tables, head_office, sent.lost, sent.notes)
        n = sum(len(v) for v in batch.by_table.values())
        try:
            cur.execute("INSERT INTO depot_receipt (site_id, first_seq, last_seq, n_rows) VALUES (%s, %s, %s, %s) "
                        "RETURNING pg_current_xact_id()::text, login", (site_id, batch.first, batch.last, n))
        except psycopg.errors.UniqueViolation:
            # the same batch committed meanwhile by another push of this site's outbox (a second
            # program on the same file, or a push resent after a lost reply): its rows are there
            pg.rollback()
            cur.execute("SELECT last_seq FROM depot_receipt WHERE site_id = %s AND first_seq = %s",
                        (site_id, batch.first))
            got = cur.fetchone()
            pg.rollback()
            if got is None:
                raise
            sent.already = int(got[0])
            sent.lost.clear()
            sent.notes.clear()
            return sent
        sent.txid, sent.login = (str(v) for v in cur.fetchone())  # type: ignore[union-attr]
        pg.commit()
    return sent


#: a push that brings at least this many rows of one table (a long offline spell, an import) gives
#: that table fresh planner statistics at once (autovacuum may be off, or not get round for a while)
ANALYZE_ROWS = 10_000


def analyze_after_push(pg: psycopg.Connection[Any], tables: list[str]) -> None:
    """ANALYZE ``tables`` through the server's ``depot_analyze`` (a branch login owns no table; a
    server from before that function is simply left to autovacuum)."""
    if not tables:
        return
    try:
        with pg.cursor() as cur:
            cur.execute("SELECT depot_analyze(%s::text[])", (sorted(tables),))
        pg.commit()
    except psycopg.errors.UndefinedFunction:
        pg.rollback()


#: own push transactions remembered until the next pull (beyond this, own rows just come back)
OWN_TXIDS_MAX = 200


def _remember_own(c: Connection, txid: str) -> None:
    """The next pull skips the rows of this push transaction: the server holds what was sent."""
    c.execute(text("INSERT INTO sync_state (key, value) VALUES ('own_txids', :x) ON CONFLICT (key) DO UPDATE SET "
                   "value = CASE WHEN value = '' THEN excluded.value ELSE value || ',' || excluded.value END "
                   "WHERE length(value) - length(replace(value, ',', '')) < :most"), {"x": txid, "most": OWN_TXIDS_MAX - 1})


def _apply_batch(cur: psycopg.Cursor[Any], batch: Batch, tables: dict[str, SyncTable], head_office: bool,
                 lost: dict[str, list[Row]], notes: list[Note]) -> None:
    for name, rows in batch.by_table.items():
        t = tables[name]
        written = upsert_rows(cur, t, rows, head_office)
        if not t.versioned:
            continue
        missed = {r[0]: r for r in rows if r[0] not in written}
        if not missed:
            continue
        hlc_i, site_i = t.names.index("hlc"), t.names.index("hlc_site")
        found = fetch_server_rows(cur, t, missed)
        for rid in set(missed) - {r[0] for r in found}:  # only head office may create master data
            notes.append((name, rid, "rejected", f"server refused: {name} is head-office master data; a branch cannot create it",
                          dict(zip(t.names, missed[rid], strict=True))))
        for srow in found:
            local = missed[srow[0]]
            if (int(srow[hlc_i]), srow[site_i]) == (int(local[hlc_i]), local[site_i]):
                continue  # our own version, sent before
            lost[name].append(srow)  # the server's version comes back here either way
            if _same_content(t, srow, local):
                # Two workstations made the same change (e.g. both settled one document after a
                # pull): nothing was lost, so nothing for a person to read in the conflict log.
                continue
            notes.append((name, str(srow[0]), "lost", "a newer version from another workstation won",
                          dict(zip(t.names, local, strict=True))))


#: columns that differ between two workstations' copies of the same change (a row both created
#: under one derived id, such as a settler's exception, also differs in created_at)
_VERSION_COLUMNS = frozenset({"hlc", "hlc_site", "updated_at", "created_at"})


def _same_content(t: SyncTable, server_row: Row, local_row: Row) -> bool:
    return all(str(a) == str(b) for c, a, b in zip(t.names, server_row, local_row, strict=True)
               if c not in _VERSION_COLUMNS)


def _apply_rows_one_by_one(cur: psycopg.Cursor[Any], batch: Batch, tables: dict[str, SyncTable], head_office: bool,
                           lost: dict[str, list[Row]], notes: list[Note]) -> None:
    cur.execute("SELECT 1")  # open the transaction, so each row below gets a savepoint in it
    for name, rows in batch.by_table.items():
        t = tables[name]
        for row in rows:
            try:
                with cur.connection.transaction():
                    _apply_batch(cur, Batch(batch.first, batch.last, {name: [row]}), tables, head_office, lost, notes)
            except psycopg.OperationalError:
                raise
            except psycopg.Error as e:
                reason = (e.diag.message_primary or str(e)).removeprefix("depot: ")
                notes.append((name, str(row[0]), "rejected", f"server refused: {reason}", dict(zip(t.names, row, strict=True))))
                lost[name].extend(fetch_server_rows(cur, t, [row[0]]))
