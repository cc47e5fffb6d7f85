"""Raw bulk writing for the seed: deterministic ids, stored value forms, fast inserts.

The seed writes hundreds of thousands of rows; the ORM would spend minutes building
objects. Rows here are plain tuples in their stored form (money as integer 1/10,000, times as
the fixed-width ISO text ``UTCDateTime`` stores), written with ``sqlite3.executemany``, but for
ids: the seed makes and joins them as 32-hex text in Python, and ``Bulk`` writes them as the 16
bytes SQLite stores (``stored_ids``: every column declared ``CHAR(32)``, and the balance's lot key).
The history's millions of rows are made with their ids stored from the start, as ``bytearray``
(``IdGen.stored_at_ms``, ``Ctx.stored``): nothing formats, parses or converts them, and sqlite3
binds a bytearray directly (a ``bytes`` value costs it an adapter look-up, see ``stored_ids``).
SQL of the seed that reads ids back for Python reads ``lower(hex(col))``. Columns the seed does not set get the model's
Python-side default, so a column another area adds later (with a default) is still filled.
"""

from __future__ import annotations

import datetime as dt
import functools
import random
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from sqlalchemy import Table
from sqlalchemy.sql.schema import ColumnDefault

import app.models  # noqa: F401  (registers every table with Base.metadata)
from app.models import stamps
from app.models.base import Base
from app.models.stamps import EpochDays, UTCMicros
from app.models.types import MONEY_SCALE, Money, UTCDateTime
from app.services.id_storage import EXTRA_ID_COLUMNS

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


class IdGen:
    """uuid7-shaped ids from the seed's rng and the row's own (historical) time.

    Same seed, same timestamps -> same ids, so two runs give byte-identical content, and
    ids still sort by the time the row was born, as real uuid7 keys do.
    """

    def __init__(self, rng: random.Random) -> None:
        self._rng = rng
        self._bits = rng.getrandbits

    def getstate(self) -> object:
        """Where the id stream stands (a worker that drew ids hands it back to the writer)."""
        return self._rng.getstate()

    def setstate(self, state: object) -> None:
        self._rng.setstate(state)  # type: ignore[arg-type]

    def at_ms(self, ms: int) -> str:
        r = self._bits(74)
        value = (ms << 80) | 0x7 << 76 | (r >> 62) << 64 | 0b10 << 62 | (r & 0x3FFFFFFFFFFFFFFF)
        return f"{value:032x}"

    def stored_at_ms(self, ms: int) -> bytearray:
        """``at_ms`` as the 16 bytes SQLite stores (the same draw, so the same id), as the bytearray
        sqlite3 binds directly (``stored_ids``): the history makes millions and writes them as they are."""
        r = self._bits(74)
        value = (ms << 80) | 0x7 << 76 | (r >> 62) << 64 | 0b10 << 62 | (r & 0x3FFFFFFFFFFFFFFF)
        return bytearray(value.to_bytes(16, "big"))

    def at(self, when: dt.datetime) -> str:
        return self.at_ms(ms_of(when))


def ms_of(when: dt.datetime) -> int:
    return int((when - EPOCH).total_seconds() * 1000)


def iso(when: dt.datetime) -> str:
    """The stored text of an aware UTC datetime (same as ``UTCDateTime``)."""
    return when.astimezone(dt.UTC).isoformat(timespec="microseconds")


_DAY_PREFIX: dict[int, str] = {}
#: "HH:MM:SS" of every second of a day and ".mmm000+00:00" of every millisecond, made on first use
_CLOCK: list[str] = []
_MILLIS: list[str] = []


def iso_ms(ms: int) -> str:
    """``iso()`` of a unix millisecond, without building a datetime (the seed makes millions):
    the day's prefix, the second's and the millisecond's text are each made once."""
    day, rem = divmod(ms, 86_400_000)
    prefix = _DAY_PREFIX.get(day)
    if prefix is None:
        prefix = _DAY_PREFIX[day] = (EPOCH + dt.timedelta(days=day)).strftime("%Y-%m-%dT")
    if not _CLOCK:
        _CLOCK.extend(f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}" for s in range(86_400))
        _MILLIS.extend(f".{m:03d}000+00:00" for m in range(1000))
    sec, milli = divmod(rem, 1000)
    return prefix + _CLOCK[sec] + _MILLIS[milli]


def money(value: Decimal | str | int) -> int:
    """Stored form of a money amount (integer 1/10,000)."""
    return int(Decimal(value) * MONEY_SCALE)


def hexid(u: uuid.UUID) -> str:
    return u.hex




def id_positions(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> tuple[int, ...]:
    """Positions in ``columns`` of ``table``'s id columns (declared ``CHAR(32)``, as migration
    ``0022_binary_ids`` finds them, plus ``EXTRA_ID_COLUMNS``): stored as 16 bytes."""
    declared = {str(r[1]): str(r[2]).upper().replace(" ", "") for r in conn.execute(f"PRAGMA table_info({table})")}
    extra = EXTRA_ID_COLUMNS.get(table, ())
    return tuple(i for i, c in enumerate(columns) if declared.get(c) == "CHAR(32)" or c in extra)


def micros_positions(table: str, columns: Sequence[str]) -> tuple[int, ...]:
    """Positions in ``columns`` of ``table``'s times stored as numbers (``stamps.UTCMicros``)."""
    meta: Table | None = Base.metadata.tables.get(table)
    if meta is None:
        return ()
    return tuple(i for i, c in enumerate(columns) if c in meta.c and isinstance(meta.c[c].type, UTCMicros))


def days_positions(table: str, columns: Sequence[str]) -> tuple[int, ...]:
    """Positions in ``columns`` of ``table``'s dates stored as day numbers (``stamps.EpochDays``)."""
    meta: Table | None = Base.metadata.tables.get(table)
    if meta is None:
        return ()
    return tuple(i for i, c in enumerate(columns) if c in meta.c and isinstance(meta.c[c].type, EpochDays))


def stored_times(rows: Iterable[Sequence[Any]], positions: Sequence[int],
                 days: Sequence[int] = ()) -> list[tuple[Any, ...]]:
    """``rows`` with the ISO times at ``positions`` and the ISO dates (or ``date`` objects) at ``days``
    as the numbers SQLite stores (numbers as they are: the history makes them so, ``ms * 1000``;
    other writers give ISO text)."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows or not (positions or days):
        return [tuple(r) for r in rows]
    return list(map(_time_converter(len(rows[0]), tuple(positions), tuple(days)), rows))


def _stored_day(v: Any) -> Any:
    return stamps.iso_days(v) if isinstance(v, str) else stamps.days(v) if isinstance(v, dt.date) else v


@functools.cache
def _time_converter(width: int, positions: tuple[int, ...],
                    days: tuple[int, ...] = ()) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    parts = [f"(t(r[{i}]) if r[{i}].__class__ is s else r[{i}])" if i in positions else
             f"(r[{i}] if r[{i}] is None or r[{i}].__class__ is n else d(r[{i}]))" if i in days else f"r[{i}]"
             for i in range(width)]
    made: Callable[[Sequence[Any]], tuple[Any, ...]] = eval(  # noqa: S307 (built from integers only)
        f"lambda r: ({', '.join(parts)},)",
        {"t": stamps.iso_micros, "s": str, "d": _stored_day, "n": int, "__builtins__": {}})
    return made


def stored_ids(rows: Iterable[Sequence[Any]], positions: Sequence[int]) -> list[tuple[Any, ...]]:
    """``rows`` with the id at ``positions`` (32-hex text or 16 bytes) as a ``bytearray`` of its 16
    bytes, the form SQLite stores and the form sqlite3 binds fastest (None and '' as they are).

    sqlite3 binds ``bytes`` through its adapter look-up (not ``bytearray``, ``str``, ``int``,
    ``float``): ~0.45 us per value, 3x a row's whole insert (300,000 rows of nine ids: 2.06 s as
    bytes, 0.70 s as bytearray, 0.74 s as hex text). Only for binding: a bytearray is no dict key."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows or not positions:
        return [tuple(r) for r in rows]
    return list(map(_row_converter(len(rows[0]), tuple(positions)), rows))


@functools.cache
def _row_converter(width: int, positions: tuple[int, ...]) -> Callable[[Sequence[Any]], tuple[Any, ...]]:
    """A function of one row made for its shape (``lambda r: (f(r[0]) if ..., r[1], ...)``): a third
    of the CPU of converting a column at a time (2 million moves of nine ids on large)."""
    parts = [f"(h(r[{i}]) if r[{i}].__class__ is s and r[{i}] else a(r[{i}]) if r[{i}].__class__ is b else r[{i}])"
             if i in positions else f"r[{i}]" for i in range(width)]
    made: Callable[[Sequence[Any]], tuple[Any, ...]] = eval(  # noqa: S307 (built from integers only)
        f"lambda r: ({', '.join(parts)},)",
        {"h": bytearray.fromhex, "a": bytearray, "s": str, "b": bytes, "__builtins__": {}})
    return made


def _stored(col_type: Any, value: Any) -> Any:
    """A Python default value in the form SQLite stores it."""
    if value is None:
        return None
    if isinstance(col_type, Money):
        return money(value)
    if isinstance(col_type, UTCMicros):
        return stamps.micros(value)
    if isinstance(col_type, EpochDays):
        return stamps.days(value)
    if isinstance(col_type, UTCDateTime):
        return iso(value)
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


class Bulk:
    """Inserts rows into tables of one sqlite3 connection and counts them."""

    def __init__(self, conn: sqlite3.Connection | None) -> None:
        self._conn = conn  # None until the file is ready (the large seed makes its master data meanwhile)
        self.counts: Counter[str] = Counter()
        self._sql: dict[tuple[str, tuple[str, ...]], tuple[str, tuple[Any, ...], tuple[int, ...]]] = {}
        #: (micros positions, day positions) per statement (``stored_times``)
        self._times: dict[tuple[str, tuple[str, ...]], tuple[tuple[int, ...], tuple[int, ...]]] = {}
        #: inserts held back by ``defer()`` (while another thread uses the connection), in order
        self._held: list[tuple[str, tuple[str, ...], list[Sequence[Any]]]] | None = None

    @property
    def conn(self) -> sqlite3.Connection:
        if self._conn is None:
            raise RuntimeError("seed: rows written before the bulk writer has its connection")
        return self._conn

    @conn.setter
    def conn(self, conn: sqlite3.Connection) -> None:
        self._conn = conn

    def defer(self) -> None:
        """Hold ``insert`` calls in memory (counted, not written) until ``flush()``.

        The seed builds the documents in Python while a thread builds the ledger's indexes on
        the connection; the held rows go in afterwards, in the order they were made.
        """
        self._held = []

    def held_tables(self) -> set[str]:
        return {table for table, _c, _r in self._held or ()}

    def flush(self) -> None:
        held, self._held = self._held or [], None
        for table, columns, kept in held:
            sql, extra, ids = self._statement(table, columns)
            times, days = self._times[(table, columns)]
            rows: Sequence[Sequence[Any]] = stored_times(kept, times, days) if times or days else kept
            rows = stored_ids(rows, ids) if ids else rows
            self.conn.executemany(sql, rows if not extra else (tuple(r) + extra for r in rows))

    def _statement(self, table: str, columns: tuple[str, ...]) -> tuple[str, tuple[Any, ...], tuple[int, ...]]:
        key = (table, columns)
        found = self._sql.get(key)
        if found is not None:
            return found
        live = {r[1] for r in self.conn.execute(f"PRAGMA table_info({table})")}
        missing = [c for c in columns if c not in live]
        if missing:
            raise RuntimeError(f"seed: table {table} has no column {', '.join(missing)}")
        extra_cols: list[str] = []
        extra_vals: list[Any] = []
        meta: Table | None = Base.metadata.tables.get(table)
        if meta is not None:
            for col in meta.columns:
                if col.name in columns or col.name not in live:
                    continue
                default = col.default
                if isinstance(default, ColumnDefault):
                    arg = default.arg
                    value = arg(None) if callable(arg) else arg
                    extra_cols.append(col.name)
                    extra_vals.append(_stored(col.type, value))
        cols = list(columns) + extra_cols
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({', '.join('?' * len(cols))})"
        found = (sql, tuple(extra_vals), id_positions(self.conn, table, columns))
        self._sql[key] = found
        self._times[key] = (micros_positions(table, columns), days_positions(table, columns))
        return found

    def insert(self, table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        if self._held is not None:
            kept = list(rows)
            self._held.append((table, tuple(columns), kept))
            self.counts[table] += len(kept)
            return len(kept)
        sql, extra, ids = self._statement(table, tuple(columns))
        times, days = self._times[(table, tuple(columns))]
        if times or days:  # times and dates as numbers (``stamps``)
            rows = stored_times(rows, times, days)
        if ids:  # ids as the 16 bytes SQLite stores
            rows = stored_ids(rows, ids)
        data = rows if not extra else (tuple(r) + extra for r in rows)
        n = max(self.conn.executemany(sql, data).rowcount, 0)
        self.counts[table] += n
        return n

    def copy(self, table: str, columns: Sequence[str], source: str, order_by: str = "") -> int:
        """``INSERT INTO table SELECT * FROM source``: rows another process wrote, copied at C speed.

        ``source`` (an attached database's table, or a sub-select) holds ``columns`` in that
        order, in their stored form (ids as 16 bytes: ``stored_ids``), as ``insert`` writes them.
        """
        sql, extra, _ids = self._statement(table, tuple(columns))
        head = sql[:sql.index(" VALUES ")]
        picks = ", ".join(["*", *("?" * len(extra))])
        n = max(self.conn.execute(f"{head} SELECT {picks} FROM {source}{order_by}", extra).rowcount, 0)
        self.counts[table] += n
        return n


#: columns every replicated, versioned row carries (in this order in the seed's tuples)
VERSIONED = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site")
LEDGER = ("id", "owner_branch_id", "created_at")


def hlc_of(ms: int) -> int:
    """The HLC a row written at ``ms`` would carry (counter 0)."""
    return ms << 16
