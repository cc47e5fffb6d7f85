"""What replication needs to know about each replicated table, derived from the registry.

Columns are moved in their wire form (UUID as 32 hex chars, booleans as 0/1, dates and UTC
times as ISO text), so push and pull never build ORM objects: a row is a tuple, and the same
tuple shape is used by COPY into PostgreSQL and executemany into SQLite. SQLite stores ids as
16 bytes and some times and dates as numbers (``stamps.UTCMicros``, ``stamps.EpochDays``):
``Column.sqlite_expr`` reads them out as hex and ISO text, ``to_sqlite`` turns a row's hex ids back
into bytes and its ISO times and dates into numbers just before it is written.
The server column type and the SELECT expression that turns it back into storage form are
decided here, once, from the SQLAlchemy column type.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from sqlalchemy import Boolean, Date, Integer, LargeBinary, Uuid
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

from app.models.base import DOCUMENT, LEDGER, MASTER, Base
from app.models.registry import tables as registry_tables
from app.models.stamps import EpochDays, UTCMicros, iso_days, iso_micros, sql_date, sql_iso
from app.models.workflow import LOCKED_STATES

Row = tuple[Any, ...]

#: columns every versioned row carries; never "branch editable", always written by sync
BOOKKEEPING = ("updated_at", "hlc", "hlc_site")


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # uuid | bigint | boolean | date | bytea | text
    nullable: bool
    #: a time SQLite stores as a number (``stamps.UTCMicros``): text on the server and the wire
    micros: bool = False
    #: a date SQLite stores as a day number (``stamps.EpochDays``): a DATE on the server, text on the wire
    days: bool = False

    @property
    def sqlite_expr(self) -> str:
        """A SQLite expression giving the wire form of the column (ids: 16 bytes -> 32 hex)."""
        q = f'"{self.name}"'
        if self.pg_type == "uuid":
            return f"CASE WHEN typeof({q}) = 'blob' THEN lower(hex({q})) ELSE {q} END"
        if self.micros:
            return sql_iso(q)
        if self.days:
            return sql_date(q)
        return q

    @property
    def select_expr(self) -> str:
        """A PostgreSQL expression giving the SQLite storage form of the column."""
        q = f'"{self.name}"'
        if self.pg_type == "uuid":
            # the 16 bytes as hex, the same text as replace(x::text, '-', '') at half the server CPU
            # (10M values: 2.8-3.1 against 6.0-6.3 s on one core); a first sync reads millions
            return f"encode(uuid_send({q}), 'hex')"
        if self.pg_type == "boolean":
            return f"{q}::int"
        if self.pg_type == "date":
            return f"to_char({q}, 'YYYY-MM-DD')"
        if self.pg_type == "bytea":  # hex text by COPY and cursor alike; ``storage_rows`` makes it bytes
            return f"encode({q}, 'hex')"
        return q


@dataclass(frozen=True)
class SyncTable:
    name: str
    sync: str  # ledger | document | master
    columns: tuple[Column, ...]
    branch_editable: frozenset[str]
    #: document states after which the server refuses edits ('' = no status column)
    final_states: frozenset[str]
    #: ids derived from a natural key (``Base.__derived_ids__``)
    derived_ids: bool = False

    @property
    def names(self) -> list[str]:
        return [c.name for c in self.columns]

    @property
    def versioned(self) -> bool:
        return self.sync in (DOCUMENT, MASTER)

    @property
    def has_status(self) -> bool:
        return any(c.name == "status" for c in self.columns)

    @property
    def binary(self) -> tuple[int, ...]:
        """Positions of the bytes columns (a label's PDF, a mail's attachment)."""
        return tuple(i for i, c in enumerate(self.columns) if c.pg_type == "bytea")

    @property
    def id_positions(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.columns) if c.pg_type == "uuid")

    @property
    def micros_positions(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.columns) if c.micros)

    @property
    def days_positions(self) -> tuple[int, ...]:
        return tuple(i for i, c in enumerate(self.columns) if c.days)

    @property
    def null_marked(self) -> tuple[int, ...]:
        """Positions whose NULL is bound as ``NULL_MARK`` (``to_sqlite``, ``values_sql``): the nullable
        columns, but for bytes columns (whose empty value is a value)."""
        return tuple(i for i, c in enumerate(self.columns) if c.nullable and c.pg_type != "bytea")

    @property
    def values_sql(self) -> str:
        """The VALUES row of an insert of ``to_sqlite`` rows: ``?`` per column, ``nullif(?, x'')`` where
        ``to_sqlite`` binds ``NULL_MARK`` for NULL (never a stored value there: those columns hold
        text, numbers or 16-byte ids, and a text or number never equals a blob)."""
        marked = set(self.null_marked)
        return "(" + ", ".join("nullif(?, x'')" if i in marked else "?" for i in range(len(self.columns))) + ")"

    def stored(self, column: str, wire: Any) -> Any:
        """One wire value of ``column`` as SQLite stores it (a time as its number, a date as its day
        number), for raw SQL that binds it (tombstones, the purge's cut-off)."""
        c = next(c for c in self.columns if c.name == column)
        if wire is None:
            return None
        return iso_micros(wire) if c.micros else iso_days(wire) if c.days else wire

    def to_sqlite(self, rows: Sequence[Row]) -> list[Row]:
        """Wire-form rows with their ids as the 16 bytes SQLite stores, as ``bytearray``, their ``micros``
        times as numbers (``stamps.iso_micros``) and the NULLs of nullable columns as ``NULL_MARK``, for
        an insert by ``values_sql``. sqlite3 binds a ``bytes``
        value, and ``None``, through its adapter look-up, ~0.45 us each (a first sync's 2 million moves
        have ten ids and ~3.6 NULLs; the large set 10.7 million NULLs), a bytearray directly
        (``seed.bulk.stored_ids``), and ``nullif`` turns the mark back into NULL in ~0.05 us.

        A function made once per row shape converts a row (``_id_converter``): a first sync converts
        millions (stock_move's ten id columns: 3.1 s CPU per million rows in a loop, 1.7 s so). Ids
        in another text form than 32 hex (a UUID's dashed text) take the slow path."""
        try:
            return list(map(_id_converter(len(self.columns), self.id_positions, self.null_marked,
                                          self.micros_positions, self.days_positions), rows))
        except ValueError:
            pass
        ids, marked = set(self.id_positions), set(self.null_marked)
        out = []
        for r in map(_id_converter(len(self.columns), (), (), self.micros_positions, self.days_positions), rows):
            v = list(r)
            for i, x in enumerate(v):
                if x is None:
                    if i in marked:
                        v[i] = NULL_MARK
                elif i in ids:
                    v[i] = bytearray.fromhex(x) if len(x) == 32 else bytearray(uuid.UUID(str(x)).bytes)
            out.append(tuple(v))
        return out


#: what ``to_sqlite`` binds for the NULL of a nullable column (``values_sql`` turns it back): one
#: shared empty bytearray, which sqlite3 binds directly, where ``None`` goes through its adapters
NULL_MARK = bytearray()


@cache
def _id_converter(width: int, positions: tuple[int, ...], marked: tuple[int, ...] = (),
                  micros: tuple[int, ...] = (), days: tuple[int, ...] = ()) -> Callable[[Row], Row]:
    """``lambda r: (f(r[0]), r[1], (f(r[2]) if r[2] is not None else N), ...)`` for one row shape:
    ``f`` on the ids, ``t`` (ISO text to a number) on the ``micros`` times, ``d`` on the ``days``
    dates ('YYYY-MM-DD' to a day number), ``N`` (``NULL_MARK``)
    for the NULLs of the ``marked`` columns."""
    def part(i: int) -> str:
        none = "N" if i in marked else "None"
        fn = "f" if i in positions else "t" if i in micros else "d" if i in days else ""
        if fn:
            return f"({fn}(r[{i}]) if r[{i}] is not None else {none})"
        return f"(r[{i}] if r[{i}] is not None else N)" if i in marked else f"r[{i}]"

    made: Callable[[Row], Row] = eval(  # noqa: S307 (built from integers only)
        f"lambda r: ({', '.join(part(i) for i in range(width))},)",
        {"f": bytearray.fromhex, "t": iso_micros, "d": iso_days, "N": NULL_MARK, "__builtins__": {}})
    return made


def with_stored_ids(rows: Sequence[Row], positions: tuple[int, ...]) -> list[Row]:
    """Rows of a digest the server summed (``replication.given``) with the ids at ``positions`` as the
    16 bytes SQLite stores (a NULL stays None), by the per-shape function of ``to_sqlite``: a
    generator over each row's values cost the large set's 338,126 KPI PO lines ~3x as much."""
    return list(map(_id_converter(len(rows[0]), positions), rows)) if rows else []


def storage_rows(t: SyncTable, rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """Server rows in SQLite's storage form: bytes columns arrive as hex text (``select_expr``) and
    are stored as bytes. Tables without one (all but two) pass through untouched."""
    return _binary_columns(t, rows, str, bytes.fromhex)


def wire_rows(t: SyncTable, rows: Sequence[tuple[Any, ...]]) -> Sequence[tuple[Any, ...]]:
    """Local rows for a JSON parameter: bytes columns as bytea's hex input form ('\\x...')."""
    return _binary_columns(t, rows, bytes, lambda b: "\\x" + b.hex())


def _binary_columns(t: SyncTable, rows: Sequence[tuple[Any, ...]], kind: type,
                    convert: Callable[[Any], Any]) -> Sequence[tuple[Any, ...]]:
    """``rows`` with each bytes column's value of type ``kind`` converted (the rest as they are)."""
    cols = t.binary
    if not cols:
        return rows
    out = []
    for r in rows:
        v = list(r)
        for i in cols:
            if isinstance(v[i], kind):
                v[i] = convert(v[i])
        out.append(tuple(v))
    return out


def _pg_type(t: TypeEngine[object]) -> str:
    while isinstance(t, TypeDecorator):
        t = t.impl_instance
    if isinstance(t, Uuid):
        return "uuid"
    if isinstance(t, Boolean):
        return "boolean"
    if isinstance(t, Date):
        return "date"
    if isinstance(t, Integer):
        return "bigint"
    if isinstance(t, LargeBinary):
        return "bytea"
    return "text"


@cache
def sync_tables() -> dict[str, SyncTable]:
    """Every replicated table, parents first (the registry's dependency order)."""
    out: dict[str, SyncTable] = {}
    for name, spec in registry_tables().items():
        if not spec.replicated or spec.sync not in (LEDGER, DOCUMENT, MASTER):
            continue
        table = Base.metadata.tables[name]
        # id first: push, pull and apply address rows by r[0]
        ordered = sorted(table.columns, key=lambda c: c.name != "id")
        cols = tuple(Column(c.name, _pg_type(c.type), bool(c.nullable) and not c.primary_key,
                            isinstance(c.type, UTCMicros), isinstance(c.type, EpochDays)) for c in ordered)
        out[name] = SyncTable(
            name=name,
            sync=spec.sync,
            columns=cols,
            branch_editable=spec.branch_editable,
            final_states=LOCKED_STATES.get(name, frozenset()) if spec.sync == DOCUMENT else frozenset(),
            derived_ids=spec.derived_ids,
        )
    return out

