"""Bulk writes for imports: stored-form rows, one ``executemany`` per chunk, on the session's
own connection and transaction.

Why not ``session.execute(insert(Model), dicts)``: SQLAlchemy's bulk path builds parameter
dicts and runs every value through its type processors, which cost four times the insert
itself (50,000 items took 8 s). Here rows are plain tuples already in the form SQLite
stores (ids as 32 hex characters, turned into their 16 stored bytes by ``BulkInsert`` itself, money as integer 1/10,000, dates and times as ISO text
(the columns SQLite keeps as numbers, ``stamps``, turned into them by ``BulkInsert`` too),
booleans as 0/1: ``stored``/``converters``), written with the DB-API ``executemany`` on the
connection the session is using, so they belong to the caller's transaction like any other write.

The rules still hold: ``ownership.check_insert`` refuses rows this site may not write (the
flush guard never sees these statements), versioned rows carry this site's HLC (``Stamp``),
and every row is captured for replication, because an import is a local change the server
must receive. For a big batch the per-row triggers are set aside and their work done once, set
based, in the same transaction (the pattern of the seed and of replication's bulk apply): the
capture trigger's outbox rows are written by one ``INSERT INTO sync_outbox SELECT`` over the new
rowids (the same rows the trigger would write: about ten times cheaper), and a digest trigger
listed in ``BATCH_SQL`` is replaced by its batch statement. The triggers are recreated before
``write`` returns; on an error the caller's rollback restores them anyway (DDL is transactional).
Columns a caller does not give get the model's Python-side default.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal
from operator import itemgetter
from typing import Any

from sqlalchemy import Boolean, Date
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ColumnDefault

from app.models import stamps
from app.models.demand import SALES_HISTORY_WEEK_BATCH_SQL
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.stamps import EpochDays, UTCMicros
from app.models.types import MONEY_SCALE, Id, Money, UTCDateTime, id_bytes, iso_utc, utcnow
from app.services.changes import note_written
from app.services.db import site_id
from app.services.id_storage import stored_params
from app.services.ownership import check_insert

CHUNK = 5000
#: from this many rows in one ``write`` the per-row triggers are set aside (see the module doc):
#: the billing job's batches (500 invoices, their lines, taxes, ledger and audit rows) wrote in a
#: third of the time set aside (1.1 -> 0.4 s CPU for 4,700 invoices) despite the DDL; below ~200
#: rows the trigger is cheaper
BATCH_MIN = 300
#: page cache while a big batch goes in (KiB, negative as SQLite wants it): index pages stay in memory
BATCH_CACHE_KIB = -256 * 1024

#: table -> {trigger name: the statement that does its work for the rows after rowid ?}
BATCH_SQL: dict[str, dict[str, str]] = {
    "sales_history": {"trg_sales_history_sales_week": SALES_HISTORY_WEEK_BATCH_SQL},
}
_CAPTURE_SQL = ("INSERT INTO sync_outbox (tbl, row_id, op, changed_at) SELECT '{table}', lower(hex(id)), 'I', "
                "strftime('%Y-%m-%dT%H:%M:%fZ', 'now') FROM {table} WHERE rowid > ? ORDER BY rowid")


def stored(col_type: Any, value: Any) -> Any:
    """``value`` in the form SQLite stores for a column of ``col_type``."""
    if value is None:
        return None
    if isinstance(col_type, Money):
        return int(Decimal(value) * MONEY_SCALE)
    if isinstance(col_type, UTCDateTime):
        return iso_utc(value)
    if isinstance(col_type, UTCMicros):  # times and dates SQLite stores as numbers (``stamps``)
        return stamps.iso_micros(value) if isinstance(value, str) else stamps.micros(value)
    if isinstance(col_type, EpochDays):
        return stamps.iso_days(value) if isinstance(value, str) else stamps.days(value)
    if isinstance(value, bool) or isinstance(col_type, Boolean):
        return int(bool(value))
    if isinstance(value, uuid.UUID) or isinstance(col_type, Id):
        return id_bytes(value)
    if isinstance(value, dt.date) or isinstance(col_type, Date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def converter(col_type: Any) -> Callable[[Any], Any] | None:
    """A fast function to the stored form for values of one column (None: store as it is)."""
    if isinstance(col_type, Money):
        return lambda v: None if v is None else int(Decimal(v) * MONEY_SCALE)
    if isinstance(col_type, Boolean):
        return lambda v: None if v is None else int(bool(v))
    if isinstance(col_type, Id):
        return lambda v: None if v is None else id_bytes(v)
    if isinstance(col_type, UTCMicros | EpochDays):
        return lambda v: v if v is None or type(v) is int else stored(col_type, v)
    if isinstance(col_type, UTCDateTime | Date):
        return lambda v: v if v is None or isinstance(v, str) else stored(col_type, v)
    return None


def new_id() -> str:
    """A new uuid7 as 32-hex text (``BulkInsert`` stores it as its 16 bytes)."""
    return uuid7().hex


def id_column(v: Any) -> Any:
    """An id as a bulk row may give it (32-hex text, a UUID, 16 bytes, None) in stored form."""
    if type(v) is str:
        return bytes.fromhex(v) if len(v) == 32 else id_bytes(v)
    if v is None or type(v) is bytes:
        return v
    return id_bytes(v)


@dataclass(frozen=True)
class Stamp:
    """What every row written in one go shares: creation time, and for versioned rows the HLC
    and site (one HLC per write: the rows are new, so no version of them competes)."""

    now: str
    hlc: int
    site: str
    #: ``now`` as raw SQL binds it into a replicated time (microseconds, ``stamps.UTCMicros``); made
    #: once here, not per row
    now_us: int

    @classmethod
    def take(cls, session: Session) -> Stamp:
        now = utcnow()
        return cls(iso_utc(now), clock.now(), site_id(session), stamps.micros(now))


class BulkInsert:
    """INSERTs of one model's rows given as stored-form tuples in ``columns`` order."""

    def __init__(self, session: Session, model: Any, columns: Sequence[str]) -> None:
        self.session = session
        self.model = model
        table = model.__table__
        self.table = str(table.name)
        self.columns = tuple(columns)
        unknown = [c for c in self.columns if c not in table.columns]
        if unknown:
            raise KeyError(f"{table.name} has no column {', '.join(unknown)}")
        extra_cols: list[str] = []
        extra_vals: list[Any] = []
        for col in table.columns:
            if col.name in self.columns:
                continue
            default = col.default
            if isinstance(default, ColumnDefault):
                arg = default.arg
                value = arg(None) if callable(arg) else arg
                extra_cols.append(col.name)
                extra_vals.append(stored(col.type, value))
        self.extra = tuple(extra_vals)
        cols = [*self.columns, *extra_cols]
        self.sql = f"INSERT INTO {table.name} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        self._owner_ix = self.columns.index("owner_branch_id") if "owner_branch_id" in self.columns else -1
        #: positions of id columns: callers give ids as 32-hex text (or UUIDs); SQLite stores 16 bytes
        self._ids = [i for i, c in enumerate(self.columns) if isinstance(table.columns[c].type, Id)]
        #: times and dates SQLite stores as numbers (``stamps``): ISO text or Python values given turned into them
        self._numbers = [(i, conv) for i, c in enumerate(self.columns)
                         if isinstance(table.columns[c].type, UTCMicros | EpochDays)
                         and (conv := converter(table.columns[c].type)) is not None]
        self.count = 0
        self._loading = False

    @classmethod
    def for_dicts(cls, session: Session, model: Any, rows: list[dict[str, Any]]) -> tuple[BulkInsert, list[tuple[Any, ...]]]:
        """A writer for rows given as dicts of Python values (any keys), and the rows as stored tuples."""
        keys: list[str] = []
        for r in rows:
            for k in r:
                if k not in keys:
                    keys.append(k)
        table = model.__table__
        convs = [(i, c) for i, k in enumerate(keys) if (c := converter(table.columns[k].type)) is not None]
        # a key some rows lack takes the column's default there (executemany needs every column)
        base: dict[str, Any] = {}
        for k in keys:
            d = table.columns[k].default
            base[k] = d.arg if isinstance(d, ColumnDefault) and not callable(d.arg) else None
        pick = itemgetter(*keys)
        whole = len(keys)
        out = []
        for r in rows:
            src = r if len(r) == whole else {**base, **r}  # rows with every key (the usual case) as they are
            vals = list(pick(src)) if whole > 1 else [pick(src)]
            for i, c in convs:
                vals[i] = c(vals[i])
            out.append(tuple(vals))
        return cls(session, model, keys), out

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows``; returns how many were written."""
        self.session.flush()  # ORM rows these may refer to (a zone made a moment ago) go first
        batch = rows if isinstance(rows, list) else list(rows)
        if not batch:
            return 0
        owners = {r[self._owner_ix] for r in batch} if self._owner_ix >= 0 else set()
        check_insert(self.session, self.model, owners)
        note_written(self.session, [self.table])  # screens learn of these rows like of any write
        cur = cursor(self.session)
        if self._loading or len(batch) < BATCH_MIN:
            self._insert(cur, batch)
            return len(batch)
        with self.load():
            self._insert(cur, batch)
        return len(batch)

    @contextmanager
    def load(self, *, drop_indexes: bool = False) -> Iterator[BulkInsert]:
        """Many ``write`` calls as one bulk load: the per-row triggers set aside once and their work
        done set-based at the end (the module doc); with ``drop_indexes`` (a table empty before the
        load) its non-unique indexes too, built once at the end by one sort instead of millions of
        scattered b-tree inserts. Whatever happens, the schema is as it was when this returns."""
        cur = cursor(self.session)
        old_cache = cur.execute("PRAGMA cache_size").fetchone()[0]
        cur.execute(f"PRAGMA cache_size = {BATCH_CACHE_KIB}")
        last = cur.execute(f"SELECT coalesce(max(rowid), 0) FROM {self.table}").fetchone()[0]
        aside = self._set_aside(cur)
        indexes = self._drop_indexes(cur) if drop_indexes else []
        self._loading = True
        ok = False
        try:
            yield self
            ok = True
        finally:
            self._loading = False
            for sql in indexes:
                cur.execute(sql)
            if ok:
                for _name, _create, batch_sql in aside:
                    if batch_sql:
                        cur.execute(batch_sql, (last,))
            for _name, create, _batch_sql in aside:
                cur.execute(create)
            cur.execute(f"PRAGMA cache_size = {int(old_cache)}")

    def _drop_indexes(self, cur: Any) -> list[str]:
        """Drop the table's non-unique secondary indexes; their CREATE statements, to rebuild them."""
        out = []
        for name, sql in cur.execute("SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? "
                                     "AND sql IS NOT NULL ORDER BY name", (self.table,)).fetchall():
            if str(sql).lstrip().upper().startswith("CREATE UNIQUE"):
                continue
            cur.execute(f'DROP INDEX "{name}"')
            out.append(str(sql))
        return out

    def _insert(self, cur: Any, batch: list[Sequence[Any]]) -> None:
        for i in range(0, len(batch), CHUNK):
            part = batch[i:i + CHUNK]
            if self._ids or self._numbers:
                part = [self._stored_ids(r) for r in part]
            cur.executemany(self.sql, part if not self.extra else [(*r, *self.extra) for r in part])
        self.count += len(batch)

    def _stored_ids(self, row: Sequence[Any]) -> tuple[Any, ...]:
        out = list(row)
        for i in self._ids:
            out[i] = id_column(out[i])
        for i, conv in self._numbers:
            out[i] = conv(out[i])
        return tuple(out)

    def _set_aside(self, cur: Any) -> list[tuple[str, str, str]]:
        """Drop the per-row triggers this batch replaces; (name, CREATE sql, batch sql) of each."""
        capture_on = cur.execute("SELECT enabled FROM sync_capture WHERE id = 1").fetchone()
        wanted = {f"trg_{self.table}_cap_i": _CAPTURE_SQL.format(table=self.table)
                  if capture_on and capture_on[0] == 1 else ""}
        wanted |= BATCH_SQL.get(self.table, {})
        out = []
        for name, batch_sql in wanted.items():
            found = cur.execute("SELECT sql FROM sqlite_master WHERE type = 'trigger' AND name = ?", (name,)).fetchone()
            if found is None or not found[0]:
                continue
            cur.execute(f'DROP TRIGGER "{name}"')
            out.append((name, str(found[0]), batch_sql))
        return out


def cursor(session: Session) -> Any:
    """A DB-API cursor on the connection (and transaction) the session uses."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


def run_many(session: Session, table: str, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` of raw SQL on ``table`` (UPDATEs of rows the caller has checked it may write)."""
    note_written(session, [table])
    for i in range(0, len(rows), CHUNK):  # ids given as 32-hex text go in as their 16 stored bytes
        cursor(session).executemany(sql, [stored_params(r) for r in rows[i:i + CHUNK]])
