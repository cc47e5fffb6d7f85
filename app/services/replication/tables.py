"""What replication needs to know about each replicated table, derived from the registry.

Columns are moved in their wire form (UUID as 32 hex chars, booleans as 0/1, dates and UTC
times as ISO text), so push and pull never build ORM objects: a row is a tuple, and the same
tuple shape is used by COPY into PostgreSQL and executemany into SQLite. SQLite stores ids as
16 bytes: ``Column.sqlite_expr`` reads them out as hex, ``to_sqlite`` turns a row's hex ids
back into bytes just before it is written.
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
from app.models.workflow import LOCKED_STATES

Row = tuple[Any, ...]

#: columns every versioned row carries; never "branch editable", always written by sync
BOOKKEEPING = ("updated_at", "hlc", "hlc_site")


@dataclass(frozen=True)
class Column:
    name: str
    pg_type: str  # uuid | bigint | boolean | date | bytea | text
    nullable: bool

    @property
    def sqlite_expr(self) -> str:
        """A SQLite expression giving the wire form of the column (ids: 16 bytes -> 32 hex)."""
        q = f'"{self.name}"'
        if self.pg_type == "uuid":
            return f"CASE WHEN typeof({q}) = 'blob' THEN lower(hex({q})) ELSE {q} END"
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

    def to_sqlite(self, rows: Sequence[Row]) -> list[Row]:
        """Wire-form rows with their ids as the 16 bytes SQLite stores, as ``bytearray``: sqlite3
        binds a ``bytes`` value through its adapter look-up, ~0.45 us each (a first sync's 2 million
        moves have ten ids), a bytearray directly (``seed.bulk.stored_ids``).

        A function made once per row shape converts a row (``_id_converter``): a first sync converts
        millions (stock_move's ten id columns: 3.1 s CPU per million rows in a loop, 1.7 s so). Ids
        in another text form than 32 hex (a UUID's dashed text) take the slow path."""
        try:
            return list(map(_id_converter(len(self.columns), self.id_positions), rows))
        except ValueError:
            pass
        ids = self.id_positions
        out = []
        for r in rows:
            v = list(r)
            for i in ids:
                x = v[i]
                if x is not None:
                    v[i] = bytearray.fromhex(x) if len(x) == 32 else bytearray(uuid.UUID(str(x)).bytes)
            out.append(tuple(v))
        return out


@cache
def _id_converter(width: int, positions: tuple[int, ...]) -> Callable[[Row], Row]:
    """``lambda r: (f(r[0]), r[1], (f(r[2]) if r[2] is not None else None), ...)`` for one row shape."""
    parts = [f"(f(r[{i}]) if r[{i}] is not None else None)" if i in positions else f"r[{i}]" for i in range(width)]
    made: Callable[[Row], Row] = eval(  # noqa: S307 (built from integers only)
        f"lambda r: ({', '.join(parts)},)", {"f": bytearray.fromhex, "__builtins__": {}})
    return made


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
        cols = tuple(Column(c.name, _pg_type(c.type), bool(c.nullable) and not c.primary_key) for c in ordered)
        out[name] = SyncTable(
            name=name,
            sync=spec.sync,
            columns=cols,
            branch_editable=spec.branch_editable,
            final_states=LOCKED_STATES.get(name, frozenset()) if spec.sync == DOCUMENT else frozenset(),
            derived_ids=spec.derived_ids,
        )
    return out

