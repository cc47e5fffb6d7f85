"""Bulk writes for imports: stored-form rows, one ``executemany`` per chunk, on the session's
own connection and transaction.

Why not ``session.execute(insert(Model), dicts)``: SQLAlchemy's bulk path builds parameter
dicts and runs every value through its type processors, which cost four times the insert
itself (50,000 items took 8 s). Here rows are plain tuples already in the form SQLite
stores (ids as 32 hex characters, money as integer 1/10,000, dates and times as ISO text,
booleans as 0/1: ``stored``), written with the DB-API ``executemany`` on the connection the
session is using, so they belong to the caller's transaction like any other write.

The rules still hold: ``ownership.check_insert`` refuses rows this site may not write (the
flush guard never sees these statements), versioned rows carry this site's HLC (``Stamp``),
and the change-capture triggers fire for every row, because an import is a local change the
server must receive. Columns a caller does not give get the model's Python-side default.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Boolean, Date
from sqlalchemy.orm import Session
from sqlalchemy.sql.schema import ColumnDefault

from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.types import MONEY_SCALE, Money, UTCDateTime, iso_utc, utcnow
from app.services.db import site_id
from app.services.ownership import check_insert

CHUNK = 5000


def stored(col_type: Any, value: Any) -> Any:
    """``value`` in the form SQLite stores for a column of ``col_type``."""
    if value is None:
        return None
    if isinstance(col_type, Money):
        return int(Decimal(value) * MONEY_SCALE)
    if isinstance(col_type, UTCDateTime):
        return iso_utc(value)
    if isinstance(value, bool) or isinstance(col_type, Boolean):
        return int(bool(value))
    if isinstance(value, uuid.UUID):
        return value.hex
    if isinstance(value, dt.date) or isinstance(col_type, Date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    return value


def new_id() -> str:
    """A new uuid7 in stored form."""
    return uuid7().hex


@dataclass(frozen=True)
class Stamp:
    """What every row written in one go shares: creation time, and for versioned rows the HLC
    and site (one HLC per write: the rows are new, so no version of them competes)."""

    now: str
    hlc: int
    site: str

    @classmethod
    def take(cls, session: Session) -> Stamp:
        return cls(iso_utc(utcnow()), clock.now(), site_id(session))


class BulkInsert:
    """INSERTs of one model's rows given as stored-form tuples in ``columns`` order."""

    def __init__(self, session: Session, model: Any, columns: Sequence[str]) -> None:
        self.session = session
        self.model = model
        table = model.__table__
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
        self.count = 0

    def write(self, rows: Iterable[Sequence[Any]]) -> int:
        """Insert ``rows`` in chunks; returns how many were written."""
        self.session.flush()  # ORM rows these may refer to (a zone made a moment ago) go first
        batch: list[Sequence[Any]] = []
        n = 0
        for r in rows:
            batch.append(r)
            if len(batch) >= CHUNK:
                n += self._flush(batch)
                batch = []
        if batch:
            n += self._flush(batch)
        return n

    def _flush(self, batch: list[Sequence[Any]]) -> int:
        owners = {r[self._owner_ix] for r in batch} if self._owner_ix >= 0 else set()
        check_insert(self.session, self.model, owners)
        data = batch if not self.extra else [(*r, *self.extra) for r in batch]
        cursor(self.session).executemany(self.sql, data)
        self.count += len(batch)
        return len(batch)


def cursor(session: Session) -> Any:
    """A DB-API cursor on the connection (and transaction) the session uses."""
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    return dbapi.cursor()


def run_many(session: Session, sql: str, rows: Sequence[Sequence[Any]]) -> None:
    """``executemany`` of raw SQL (UPDATEs of rows the caller has checked it may write)."""
    for i in range(0, len(rows), CHUNK):
        cursor(session).executemany(sql, rows[i:i + CHUNK])
