"""Export any table to CSV: money as decimal text, ids as uuid text, times as ISO UTC.

The column types do the conversion (``Money`` gives Decimal, ``Uuid`` gives UUID,
``UTCDateTime`` gives aware datetimes), so the file says what the application means,
not how SQLite stores it. Rows stream in batches, so a 2-million-row ledger exports in
constant memory.
"""

from __future__ import annotations

import csv
import datetime as dt
import uuid
from decimal import Decimal
from typing import Any, TextIO

from sqlalchemy import Table, select
from sqlalchemy.orm import Session

import app.models  # noqa: F401  (registers every table)
from app.models.base import Base
from app.services.errors import ValidationError

BATCH = 5000


def table_names() -> list[str]:
    return sorted(Base.metadata.tables)


def check_table(name: str) -> Table:
    """The table called ``name``, or a ValidationError naming it."""
    t = Base.metadata.tables.get(name.strip().lower())
    if t is None:
        raise ValidationError("table", f"unknown table {name!r} (run 'depot export --list' for the tables)")
    return t


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, Decimal):
        return format(value, "f")
    if isinstance(value, uuid.UUID):
        return str(value)
    if isinstance(value, dt.datetime):
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")
    if isinstance(value, dt.date):
        return value.isoformat()
    return str(value)


def export_table(session: Session, name: str, out: TextIO) -> int:
    """Write table ``name`` as CSV (header + one line per row, in key order); returns the row count."""
    table = check_table(name)
    cols = list(table.columns)
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.name for c in cols])
    order = list(table.primary_key.columns) or cols[:1]
    result = session.execute(select(*cols).order_by(*order).execution_options(yield_per=BATCH))
    n = 0
    for part in result.partitions(BATCH):
        writer.writerows([cell(v) for v in row] for row in part)
        n += len(part)
    return n
