"""Applying server rows to the branch SQLite database (pull, first sync, lost pushes).

Rows come as tuples in wire form (ids as 32 hex), written with their ids as 16 bytes. Capture is switched off while they are written
(they are not local changes), foreign keys are checked at commit (a window of rows may
hold children before parents of another table), ledgers insert ``ON CONFLICT DO NOTHING``
(the balance trigger fires only for rows really inserted), and a versioned row replaces the
local one only if its HLC is not older — unless ``force`` (the server refused our version,
so its version is the truth). Rows whose key still has pending outbox entries are never
overwritten: the local change is pushed first and the server decides.

``Applier`` takes the rows table by table (parents first) and chunk by chunk as they arrive,
so a pull never holds more than one chunk. Bulk shape, all inside the caller's transaction
(SQLite DDL is transactional: a crash or an error undoes every step with the rows):

* a big batch into a table that is **empty** here (a first sync): the table's non-unique
  secondary indexes and its insert-capture trigger are dropped before the first row and
  recreated from their saved ``sqlite_master`` SQL after the last one (one sort instead of a
  b-tree insert per row); unique indexes stay, so conflicts behave exactly as before;
* a big batch of ledger moves (a first sync, a long offline spell): the triggers that keep
  ``stock_balance`` and ``sales_week`` in step are set aside and both tables are recomputed
  once from the ledger, then the triggers are recreated. So are the manager KPIs' digests
  (``app/models/kpi.py``, per-row triggers that cost six times the move's own insert):
  ``kpi_stock_day`` gets the new moves added set-based with the trigger's own arithmetic (or, in a
  first sync whose balances the server summed, the server's sums of the same moves), and
  ``kpi_po_line``, which keeps each line's values as of its last move, is rebuilt whole only
  when this site had no ledger yet (a first sync); otherwise its triggers simply fire.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Callable, Iterable, Mapping, Sequence
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, exc

from app.models.buying import SALES_WEEK_REBUILD_SQL
from app.models.kpi import KPI_PO_LINE_REBUILD_SQL, kpi_stock_day_add_sql
from app.services.replication.faults import fault
from app.services.replication.given import BALANCE_TRIGGER, ServerSums
from app.services.replication.tables import SyncTable, storage_rows, sync_tables
from app.services.stock import REBUILD_BALANCES_SQL

Row = tuple[Any, ...]


def _plain_insert_sql(t: SyncTable) -> str:
    """The insert of rows made by ``t.to_sqlite`` (its NULL marks turned back into NULL)."""
    cols = ", ".join(f'"{c}"' for c in t.names)
    return f'INSERT INTO "{t.name}" ({cols}) VALUES {t.values_sql} '


def _upserts(t: SyncTable) -> bool:
    """Whether ``_insert_sql`` is an upsert (``DO UPDATE``) for this table."""
    return t.versioned or t.derived_ids


def _insert_sql(t: SyncTable, force: bool) -> str:
    base = _plain_insert_sql(t)
    sets = ", ".join(f'"{c}" = excluded."{c}"' for c in t.names if c != "id")
    if not t.versioned and not t.derived_ids:
        # insert-only rows never change: a row already here is the same row. (DO NOTHING is
        # SQLite's fast path; an upsert with a conflict target costs an extra index probe per row,
        # which made a first sync of 2M moves 30% slower.)
        return base + "ON CONFLICT DO NOTHING"
    if not t.versioned:
        # Rows whose id is derived from a natural key (a lot: item + lot code) can be born at two
        # branches before either pulls; the server keeps the first, and so does every site: the
        # local copy (owned by this branch) gives way to the server's.
        return (base + f'ON CONFLICT (id) DO UPDATE SET {sets} '
                f'WHERE "{t.name}".owner_branch_id IS NOT excluded.owner_branch_id')
    sql = base + f"ON CONFLICT (id) DO UPDATE SET {sets}"
    if not force:
        newer = (f'CAST(excluded.hlc AS INTEGER) > "{t.name}".hlc OR (CAST(excluded.hlc AS INTEGER) = "{t.name}".hlc '
                 f'AND excluded.hlc_site >= "{t.name}".hlc_site)')
        sql += f" WHERE {newer}"
    return sql


#: from this many pulled moves on (a first sync, a long offline spell) the balance and
#: sales-week triggers are set aside and their tables recomputed once from the ledger: one
#: aggregate instead of trigger work per row. Also the size from which a batch into an empty
#: table is loaded without its secondary indexes.
BULK_MOVES = 20_000
#: from this many rows on, a smaller batch into a table that is empty here still sets its insert-capture
#: trigger aside (capture is off: it would only test that). Its presence makes every row's INSERT keep
#: a statement journal of the pages it touches: replenishment_policy's 15,000 rows 0.32 against
#: 0.09 s of CPU, allocation's 11,321 0.27 against 0.07 s (the large set has eight such tables)
CAPTURE_ASIDE_ROWS = 1_000
#: page cache (KiB, as a negative PRAGMA value) while applying a big pull
BIG_CACHE_KIB = -512 * 1024

def derived_digests() -> dict[str, tuple[str, str]]:
    """Triggers on ``stock_move`` that keep a digest of the ledger: name -> (digest table, rebuild SQL).

    A trigger not listed here is left in place and simply fires (correct, only slower).
    """
    out = {BALANCE_TRIGGER: ("stock_balance", REBUILD_BALANCES_SQL)}
    for name in ("trg_stock_move_sales_week", "trg_stock_move_sales_week_rev",
                 "trg_sales_history_sales_week"):  # imported history sums into the same digest
        out[name] = ("sales_week", SALES_WEEK_REBUILD_SQL)
    return out


#: per-row KPI digest triggers (app/models/kpi.py) set aside by a big batch of moves
KPI_STOCK_DAY_TRIGGER = "trg_stock_move_kpi_stock_day"
KPI_PO_LINE_TRIGGERS = ("trg_stock_move_kpi_po_line", "trg_receipt_line_kpi_po_line")
#: keyed temp copies of the columns the KPI stock days read (``Applier._keyed_lookups``)
KPI_LOCATIONS, KPI_ITEMS = "depot_kpi_location", "depot_kpi_item"


#: full-text search indexes (external content) kept by a per-row insert trigger: table -> (trigger, the
#: statement that rebuilds the index from the table). A first sync loads the table without the trigger
#: and rebuilds once (50,000 items: 2.3 s of CPU with the trigger, 0.8 s so)
SEARCH_INDEXES = {"item": ("item_ai", "INSERT INTO item_fts (item_fts) VALUES ('rebuild')")}
#: the index's other triggers, set aside with it: a clash makes the load go on row by row with the
#: upsert, whose update of a row in already (not yet indexed) made the index delete an entry it never
#: had, leaving the search index 'malformed'; the rebuild covers whatever they would have done
SEARCH_INDEX_TRIGGERS = {"item": ("item_au", "item_ad")}


def pending_ids(conn: Connection, table: str) -> set[str]:
    return {str(r[0]) for r in conn.exec_driver_sql("SELECT row_id FROM sync_outbox WHERE tbl = ?", (table,))}


def capture(conn: Connection, on: bool) -> None:
    conn.exec_driver_sql("UPDATE sync_capture SET enabled = ? WHERE id = 1", (1 if on else 0,))


def rollback_journal(conn: Connection) -> Callable[[], None] | None:
    """Switch an EMPTY file (a first sync) from WAL to a rollback journal for the apply; returns
    the call that switches it back to WAL (after commit or rollback), or None when it stayed in WAL.

    In WAL mode every page of the load is written twice (into the WAL, then by the checkpoint at
    commit), and with millions of WAL frames each page read misses through hundreds of WAL-index
    hash tables: the large set's first sync spent ~16 s of CPU more (the commit alone 6.0 against
    1.1 s, the digests after the load ~5 s more). A rollback journal holds only the original
    content of pages that existed before the transaction, which for an empty file is its few
    schema pages; a killed process leaves a hot journal that the next open rolls back (the file is
    exactly as before, as with WAL), and the next connection puts the file back in WAL
    (``db._on_connect``). SQLite refuses the switch while any other connection has the file open
    (it fails at once: busy_timeout is 0 for the attempt); the sync then simply stays in WAL.
    Must be called outside a transaction, on the connection that then runs the apply.
    """
    raw = conn.connection.dbapi_connection
    assert raw is not None
    tables = sync_tables()
    if any(raw.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0] for t in tables):
        return None  # not an empty file: journaling the pages it rewrites would cost, not save
    busy = raw.execute("PRAGMA busy_timeout").fetchone()[0]
    try:
        raw.execute("PRAGMA busy_timeout = 0")
        mode = str(raw.execute("PRAGMA journal_mode = DELETE").fetchone()[0]).lower()
    except sqlite3.OperationalError:  # another connection has the file open: stay in WAL
        mode = ""
    finally:
        raw.execute(f"PRAGMA busy_timeout = {int(busy)}")
    if mode != "delete":
        return None

    def back_to_wal() -> None:
        with contextlib.suppress(sqlite3.Error):  # if refused, the next connection switches it
            raw.execute("PRAGMA journal_mode = WAL")

    return back_to_wal


def parents_checked_here(conn: Connection) -> Callable[[], None] | None:
    """Switch foreign keys off for the apply of an EMPTY file (a first sync) and return the call that
    switches them back on (after commit or rollback); None when the file has rows (then SQLite checks
    them as usual). The ``Applier`` made with ``check_parents`` checks instead: it notes the distinct
    parent ids of the rows it inserts, per parent table, and ``finish`` looks each one up once.

    SQLite checks a row's every foreign key as it goes in, even deferred: for a branch's 765,586
    moves (item and two locations each) that was ~3 us of a move's ~9 us insert, though they name
    only ~50,000 items and locations; a check at the end finds the same orphans (the pull fails and
    rolls back, as at commit before). Must be called outside a transaction (the pragma is a no-op
    inside one), on the connection that runs the apply."""
    raw = conn.connection.dbapi_connection
    assert raw is not None
    if any(raw.execute(f'SELECT EXISTS (SELECT 1 FROM "{t}")').fetchone()[0] for t in sync_tables()):
        return None
    raw.execute("PRAGMA foreign_keys = OFF")

    def back_on() -> None:
        raw.execute("PRAGMA foreign_keys = ON")

    return back_on


#: ids per parent look-up of ``Applier.check_parents`` (SQLite's default limit of bound values is
#: far above; a few hundred keep each statement's plan a short list of index probes)
_IDS_PER_LOOKUP = 900


class Applier(ServerSums):
    """Writes server rows inside the caller's SQLite transaction, table by table, chunk by chunk.

    Use as a context manager: entering switches capture off and defers foreign keys; ``table``
    applies one table's chunks (tables must come parents first); ``finish`` recomputes the
    digests and recreates what was set aside; leaving switches capture back on (also on error:
    the caller's transaction then rolls everything back anyway).
    """

    def __init__(self, conn: Connection, *, force: bool = False, big: bool = False,
                 check_parents: bool = False) -> None:
        self.conn = conn
        #: foreign keys are off on ``conn`` (``parents_checked_here``): parent table -> the ids the
        #: inserted rows name, looked up by finish()
        self._parents: dict[str, set[Any]] | None = {} if check_parents else None
        #: table -> (column index, parent table) of its foreign keys
        self._fks: dict[str, list[tuple[int, str]]] = {}
        self.force = force
        self.tables = sync_tables()
        self.touched: set[str] = set()
        self.rows = 0
        #: server rows kept out because they clash with a local unique key (see ``_insert``)
        self.unapplied = 0
        #: highest HLC among the versioned rows applied (merged into the clock by the caller)
        self.top_hlc = 0
        self._big = False
        self._old_cache: Any = None
        #: the ledger was empty when its digests were set aside (``given_balances``)
        self._ledger_empty = False
        #: and so was the legacy sales history (``given_sales_weeks``)
        self._history_empty = False
        #: the balances were taken as the server summed them: its moves are the ones loaded here
        self._balances_given = False
        #: the statement in ``_add`` that adds the loaded moves to the KPI stock days
        self._stock_days = ""
        #: dropped triggers (name -> CREATE sql), recreated by finish()
        self._triggers: dict[str, str] = {}
        #: digest tables to recompute from the ledger in finish(): table -> rebuild SQL
        self._rebuild: dict[str, str] = {}
        #: statements that add the rows written while a digest trigger was aside, run by finish()
        self._add: list[str] = []
        #: table -> its idempotent statement, where rows go in by a plain INSERT (the table was empty)
        self._regular: dict[str, str] = {}
        #: tables applied so far (their rows are in: parents of the tables still to come)
        self._seen: set[str] = set()
        if big:
            self._go_big()

    def __enter__(self) -> Applier:
        self.conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
        capture(self.conn, False)
        return self

    def __exit__(self, *exc: object) -> None:
        capture(self.conn, True)
        if self._big:
            self.conn.exec_driver_sql(f"PRAGMA cache_size = {int(self._old_cache or -2000)}")

    def _go_big(self) -> None:
        """Index pages of big tables must stay in memory, not thrash a 2 MB cache."""
        if not self._big:
            self._big = True
            self._old_cache = self.conn.exec_driver_sql("PRAGMA cache_size").scalar()
            self.conn.exec_driver_sql(f"PRAGMA cache_size = {BIG_CACHE_KIB}")

    def _drop_trigger(self, name: str) -> None:
        if name in self._triggers:
            return
        sql = self.conn.exec_driver_sql(
            "SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).scalar()
        if sql:
            self._triggers[name] = str(sql)
            self.conn.exec_driver_sql(f'DROP TRIGGER "{name}"')

    def _set_digests_aside(self) -> None:
        if BALANCE_TRIGGER not in self._triggers:  # every move here from now on comes from this apply
            self._ledger_empty = self._empty("stock_move")
            self._history_empty = self._empty("sales_history")
        for name, (table, rebuild) in derived_digests().items():
            if name in self._triggers:
                continue
            before = len(self._triggers)
            self._drop_trigger(name)
            if len(self._triggers) > before:
                self._rebuild[table] = rebuild
        if KPI_STOCK_DAY_TRIGGER not in self._triggers:
            # the moves written from here on (rowids above today's last: the ledger is insert-only)
            # are added by finish(), with the item costs the trigger would have read (items come
            # before moves)
            last = int(self.conn.exec_driver_sql("SELECT coalesce(max(rowid), 0) FROM stock_move").scalar() or 0)
            self._drop_trigger(KPI_STOCK_DAY_TRIGGER)
            if KPI_STOCK_DAY_TRIGGER in self._triggers:
                self._stock_days = kpi_stock_day_add_sql(f"m.rowid > {last}", location=f"temp.{KPI_LOCATIONS}",
                                                         item=f"temp.{KPI_ITEMS}")
                self._add.append(self._stock_days)
        if "kpi_po_line" not in self._rebuild and self._empty("stock_move") and self._empty("kpi_po_line"):
            # no ledger here yet: the digest rebuilt from everything equals what the triggers give
            before = len(self._triggers)
            for name in KPI_PO_LINE_TRIGGERS:
                self._drop_trigger(name)
            if len(self._triggers) > before:
                self._rebuild["kpi_po_line"] = KPI_PO_LINE_REBUILD_SQL

    def _drop_indexes(self, table: str) -> list[str]:
        """Drop ``table``'s non-unique secondary indexes; returns their CREATE statements.

        Kept: unique indexes (conflicts must behave as in a normal apply) and indexes led by a
        foreign-key column whose parent is this table or a table still to come: while a
        deferred violation is outstanding, SQLite looks up children on every parent insert,
        and without the index that lookup would be a scan of the whole table.
        """
        conn = self.conn
        risky = {str(fk[3]) for fk in conn.exec_driver_sql(f'PRAGMA foreign_key_list("{table}")')
                 if str(fk[2]) == table or (str(fk[2]) in self.tables and str(fk[2]) not in self._seen)}
        out: list[str] = []
        for name, sql in [(str(n), str(s)) for n, s in conn.exec_driver_sql(
                "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL "
                "ORDER BY name", (table,))]:
            if sql.lstrip().upper().startswith("CREATE UNIQUE"):
                continue
            first = conn.exec_driver_sql(f'PRAGMA index_info("{name}")').first()
            if first is not None and str(first[2]) in risky:
                continue
            conn.exec_driver_sql(f'DROP INDEX "{name}"')
            out.append(sql)
        return out

    def _empty(self, table: str) -> bool:
        return self.conn.exec_driver_sql(f'SELECT NOT EXISTS (SELECT 1 FROM "{table}")').scalar() == 1

    def table(self, name: str, chunks: Iterable[Sequence[Row]]) -> int:
        """Apply one table's rows, chunk by chunk; returns how many rows were offered."""
        t = self.tables[name]
        conn = self.conn
        self._seen.add(name)
        insert = regular = _insert_sql(t, self.force)
        self._regular.pop(name, None)
        hlc = t.names.index("hlc") if t.versioned else -1
        pend: set[str] | None = None
        indexes: list[str] = []
        n = 0
        for i, chunk in enumerate(chunks):
            if not chunk:
                continue
            if t.binary:  # a label's PDF, a mail's attachment: hex on the wire, bytes here
                chunk = storage_rows(t, chunk)
            if pend is None:
                pend = pending_ids(conn, name)
                if _upserts(t) and self._empty(name):
                    # nothing here to update: a plain INSERT. An upsert's DO UPDATE (with its update
                    # triggers and foreign keys) makes every row's statement keep a statement journal
                    # of each page it touches (~3.5 pages a row), which once any statement of the
                    # apply has spilled it goes to a temp file: the large set's first sync wrote
                    # 16 GB for a 2.4 GB file (purchase_order_line: 2.45M writes for 345k rows). A
                    # clash (a unique key, an id sent twice) falls back to ``regular`` row by row.
                    insert = _plain_insert_sql(t)
                    self._regular[name] = regular
            if i == 0 and len(chunk) >= BULK_MOVES:
                self._go_big()
                if name in ("stock_move", "sales_history"):
                    self._set_digests_aside()
                if self._empty(name):  # nothing here to conflict with: load first, index once after
                    indexes = self._drop_indexes(name)
                    self._drop_trigger(f"trg_{name}_cap_i")  # capture is off: it would only test that
                    if name in SEARCH_INDEXES:  # an empty table's search index: rebuilt once by finish()
                        trigger, rebuild = SEARCH_INDEXES[name]
                        self._drop_trigger(trigger)
                        if trigger in self._triggers:
                            self._add.append(rebuild)
                            for other in SEARCH_INDEX_TRIGGERS.get(name, ()):
                                self._drop_trigger(other)
            elif i == 0 and len(chunk) >= CAPTURE_ASIDE_ROWS and self._empty(name):
                self._drop_trigger(f"trg_{name}_cap_i")  # see CAPTURE_ASIDE_ROWS; recreated by finish()
            n += len(chunk)
            if hlc >= 0:
                self.top_hlc = max(self.top_hlc, max(int(r[hlc]) for r in chunk))
            todo = [r for r in chunk if r[0] not in pend] if pend else chunk
            if todo:
                self._insert(t, insert, todo if isinstance(todo, list) else list(todo))
                self.touched.add(name)
            if indexes or self._triggers:
                fault("during-bulk-load")  # rows in, indexes and triggers still set aside
        for sql in indexes:
            conn.exec_driver_sql(sql)
        self.rows += n
        return n

    def _insert(self, t: SyncTable, insert: str, rows: list[Row]) -> None:
        """Apply a chunk; a row that breaks a local unique key (another site created the same
        natural key: an item SKU typed at two head-office desks, one supplier lot at two branches)
        is kept out, in full, in the conflict log as 'unapplied' instead of stopping every pull.

        No savepoint on the fast path (one per chunk made SQLite copy every index page it touched
        into a statement journal: a first sync ran 30% slower). SQLite aborts only the failing
        row's statement, and every statement here is idempotent, so on an error the chunk is
        simply applied again row by row (with the idempotent statement where ``insert`` is a plain
        INSERT into a table that was empty: ``_regular``).
        """
        conn = self.conn
        stored = t.to_sqlite(rows)  # ids as the 16 bytes SQLite stores; ``rows`` stay wire form for the log
        try:
            conn.exec_driver_sql(insert, stored)
            self._note_parents(t, rows)
            return
        except exc.IntegrityError:
            pass
        insert = self._regular.get(t.name, insert)
        for r, s in zip(rows, stored, strict=True):
            try:
                try:
                    conn.exec_driver_sql(insert, [s])
                except exc.IntegrityError as e:
                    if t.versioned or "insert-only ledger" not in str(e.orig):
                        raise
                    # the server's copy of a natural-key ledger row replaces ours (see _insert_sql):
                    # the insert-only guard steps aside for this apply; finish() puts it back
                    self._drop_trigger(f"trg_{t.name}_no_update")
                    conn.exec_driver_sql(insert, [s])
                self._note_parents(t, [r])
            except exc.IntegrityError as e:
                self.unapplied += 1
                why = str(e.orig).strip() if e.orig is not None else str(e)
                conn.exec_driver_sql(
                    "INSERT INTO sync_conflict (at, tbl, row_id, kind, reason, local_row) VALUES "
                    "(strftime('%Y-%m-%dT%H:%M:%f000+00:00', 'now'), ?, ?, 'unapplied', ?, ?)",
                    (t.name, str(r[0]), f"server row not applied here: {why}"[:1000],
                     json.dumps(dict(zip(t.names, r, strict=False)), default=str)))

    def _note_parents(self, t: SyncTable, rows: list[Row]) -> None:
        """With foreign keys off: note the parent ids ``rows`` (just inserted) name, a column at a time."""
        if self._parents is None:
            return
        fks = self._fks.get(t.name)
        if fks is None:
            fks = self._fks[t.name] = [
                (t.names.index(str(fk[3])), str(fk[2])) for fk in self.conn.exec_driver_sql(
                    f'PRAGMA foreign_key_list("{t.name}")') if fk[4] in (None, "id")]
        for i, parent in fks:
            self._parents.setdefault(parent, set()).update(map(itemgetter(i), rows))

    def _check_parents(self) -> None:
        """With foreign keys off: every parent id the inserted rows name is here (looked up once per
        distinct id), else the apply fails as SQLite's own check at commit made it fail."""
        if not self._parents:
            return
        for parent, ids in self._parents.items():
            ids.discard(None)
            want = list(ids)
            found = 0
            for k in range(0, len(want), _IDS_PER_LOOKUP):
                part = want[k:k + _IDS_PER_LOOKUP]
                found += int(self.conn.exec_driver_sql(  # the wire's hex ids as the 16 bytes SQLite stores
                    f'SELECT count(*) FROM "{parent}" WHERE id IN ({", ".join("?" * len(part))})',
                    tuple(bytes.fromhex(x) for x in part)).scalar() or 0)
            if found != len(want):
                why = f"FOREIGN KEY constraint failed: {len(want) - found} {parent} row(s) named by pulled rows are missing"
                raise exc.IntegrityError(f"check of {parent}", None, sqlite3.IntegrityError(why))
        self._parents.clear()

    def _keyed_lookups(self, make: bool) -> None:
        """The KPI stock days' three look-ups per move (two locations, one item) read keyed temp
        copies of just the columns they need: one b-tree search each, where the tables' own
        primary-key index then the row made two (large set: 13.1 -> 7.2 s of CPU for 2M moves).
        Temp tables are part of the transaction: an error or a crash leaves nothing behind."""
        for name in (KPI_LOCATIONS, KPI_ITEMS):
            self.conn.exec_driver_sql(f"DROP TABLE IF EXISTS temp.{name}")
        if make:
            self.conn.exec_driver_sql(f"CREATE TEMP TABLE {KPI_LOCATIONS} (id PRIMARY KEY, kind, warehouse_id) WITHOUT ROWID")
            self.conn.exec_driver_sql(f"INSERT INTO temp.{KPI_LOCATIONS} SELECT id, kind, warehouse_id FROM location")
            self.conn.exec_driver_sql(f"CREATE TEMP TABLE {KPI_ITEMS} (id PRIMARY KEY, standard_cost) WITHOUT ROWID")
            self.conn.exec_driver_sql(f"INSERT INTO temp.{KPI_ITEMS} SELECT id, standard_cost FROM item")

    def finish(self) -> None:
        """Check the parents of the rows inserted with foreign keys off, recompute the digests set
        aside from the ledger, then recreate the dropped triggers."""
        self._check_parents()
        for table, rebuild in self._rebuild.items():
            self.conn.exec_driver_sql(f'DELETE FROM "{table}"')
            indexes = self._drop_indexes(table)  # written in one pass, indexed once after
            self.conn.exec_driver_sql(rebuild)
            for sql in indexes:
                self.conn.exec_driver_sql(sql)
        self._rebuild.clear()
        keyed = any(f"temp.{KPI_LOCATIONS}" in sql for sql in self._add)
        if keyed:
            self._keyed_lookups(True)
        for sql in self._add:
            self.conn.exec_driver_sql(sql)
        self._add.clear()
        if keyed:
            self._keyed_lookups(False)
        for sql in self._triggers.values():
            self.conn.exec_driver_sql(sql)
        self._triggers.clear()


def apply_rows(conn: Connection, rows: Mapping[str, Sequence[Row]], *, force: bool = False) -> set[str]:
    """Write server rows inside the caller's SQLite transaction; returns the tables touched."""
    if not any(rows.values()):
        return set()
    big = sum(len(v) for v in rows.values()) >= BULK_MOVES
    with Applier(conn, force=force, big=big) as ap:
        for name in ap.tables:  # parents first
            batch = rows.get(name)
            if batch:
                ap.table(name, [batch])
        ap.finish()
    return ap.touched
