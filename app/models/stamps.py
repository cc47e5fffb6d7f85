"""Timestamps and dates stored as numbers in SQLite (issue 19, storage).

An ISO timestamp ('2026-11-26T15:21:00.000000+00:00') costs 33 bytes in a row and again in every
index that carries it; an INTEGER of microseconds since the Unix epoch (UTC) costs 9 and keeps
every microsecond PostgreSQL's timestamps can hold. ``UTCMicros`` columns are declared ``BIGINT``
in SQLite (INTEGER affinity: a TEXT column would turn the number back into text, migration
``0023_numeric_times``); PostgreSQL's column and the replication wire keep the ISO text, converted
at the same points as binary ids (``replication.tables``: ``Column.sqlite_expr`` reads a row out,
``SyncTable.to_sqlite`` writes one in).

Raw SQL over these columns binds ``micros(t)`` (never ``iso_utc(t)``: in SQLite any text is greater
than any number, so a text bound against a number compares without an error and answers wrong) and
turns them into days and ISO text with the expressions below (``sql_day``, ``sql_week``, ``sql_iso``).
Times before 1970 are negative numbers; every expression here floors, so they stay right.

Dates (``EpochDays``) are stored as the number of days since 1970-01-01 (1-3 bytes where
'YYYY-MM-DD' costs 11): ``days(d)`` to bind, ``sql_date`` for the 'YYYY-MM-DD' text, ``sql_days``
from it, ``sql_day_week`` for the sales week (the same integer as the Julian day number // 7).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import BigInteger, Date, Dialect, Integer, String
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

from app.models.types import DomainValueError, UTCDateTime

EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
US_PER_DAY = 86_400_000_000
#: Julian day number of 1970-01-01 (``CAST(julianday(date) + 0.5 AS INTEGER)`` of the epoch)
JDN_EPOCH = 2_440_588
_from_iso = dt.datetime.fromisoformat
_day_from_iso = dt.date.fromisoformat
#: ``date.toordinal()`` of 1970-01-01: a date's stored number is its ordinal less this
ORDINAL_EPOCH = 719_163


def micros(value: dt.datetime) -> int:
    """The stored number of an aware datetime: microseconds since 1970-01-01 UTC (exact)."""
    if value.tzinfo is None:
        raise DomainValueError("naive datetime refused: store aware UTC times only")
    return (value - EPOCH) // _US


def day_micros(day: dt.date) -> int:
    """The stored number of a UTC day's first microsecond (a bound for ``col >= ? AND col < ?``)."""
    return (day - EPOCH.date()).days * US_PER_DAY


def from_micros(value: int) -> dt.datetime:
    return EPOCH + dt.timedelta(microseconds=value)


def iso_micros(text: str) -> int:
    """Replication's wire form (ISO text with an offset) to the stored number."""
    return (_from_iso(text) - EPOCH) // _US


def micros_iso(value: int) -> str:
    """The stored number as the wire's ISO text (``types.iso_utc``'s form)."""
    return (EPOCH + dt.timedelta(microseconds=value)).isoformat(timespec="microseconds")


def _floor_seconds(col: str) -> str:
    return f"({col} / 1000000 - ({col} < 0 AND {col} % 1000000 <> 0))"


def sql_seconds(col: str) -> str:
    """SQL: whole seconds since the epoch of a stored number (floored: what ``julianday(substr(iso, 1, 19))``
    counted of the ISO text)."""
    return _floor_seconds(col)


def sql_day(col: str) -> str:
    """SQL: the UTC day of a stored number as 'YYYY-MM-DD' text (was ``substr(col, 1, 10)``)."""
    return f"date({_floor_seconds(col)}, 'unixepoch')"


def sql_epoch_day(col: str) -> str:
    """SQL: days since 1970-01-01 of a stored number (floored)."""
    return f"({col} / {US_PER_DAY} - ({col} < 0 AND {col} % {US_PER_DAY} <> 0))"


def sql_week(col: str) -> str:
    """SQL: the week number ``sales_week`` keys on, of a stored number: the same integer as
    ``(CAST(julianday(substr(col, 1, 10)) + 0.5 AS INTEGER) / 7)`` gave for the ISO text."""
    return f"(({sql_epoch_day(col)} + {JDN_EPOCH}) / 7)"


def sql_iso(col: str) -> str:
    """SQL: a stored number as the ISO text ``UTCDateTime`` stores (for text columns and the wire)."""
    frac = f"(({col} % 1000000 + 1000000) % 1000000)"
    return (f"CASE WHEN {col} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', {_floor_seconds(col)}, "
            f"'unixepoch') || printf('.%06d+00:00', {frac}) END")


def sql_micros(col: str) -> str:
    """SQL: ISO text as ``UTCDateTime`` stores it (UTC, six decimals) to the stored number."""
    return (f"CASE WHEN {col} IS NULL THEN NULL ELSE CAST(strftime('%s', substr({col}, 1, 19)) AS INTEGER) * 1000000 "
            f"+ CAST(substr({col}, 21, 6) AS INTEGER) END")


def days(value: dt.date) -> int:
    """The stored number of a date: days since 1970-01-01 (a datetime counts as its date)."""
    if isinstance(value, dt.datetime):
        value = value.date()
    return value.toordinal() - ORDINAL_EPOCH


def from_days(value: int) -> dt.date:
    return dt.date.fromordinal(value + ORDINAL_EPOCH)


def iso_days(text: str) -> int:
    """Replication's wire form of a date ('YYYY-MM-DD') to the stored number."""
    return _day_from_iso(text).toordinal() - ORDINAL_EPOCH


def days_iso(value: int) -> str:
    return dt.date.fromordinal(value + ORDINAL_EPOCH).isoformat()


def sql_date(col: str) -> str:
    """SQL: a stored day number as 'YYYY-MM-DD' text (NULL stays NULL)."""
    return f"date({col} * 86400, 'unixepoch')"


def sql_days(col: str) -> str:
    """SQL: 'YYYY-MM-DD' text (or an ISO time: its date) to the stored day number (NULL stays NULL)."""
    return f"CAST(julianday(substr({col}, 1, 10)) - 2440587.5 AS INTEGER)"


def sql_day_week(col: str) -> str:
    """SQL: the ``sales_week`` week of a stored day number: the same integer as
    ``(CAST(julianday(date) + 0.5 AS INTEGER) / 7)`` gave for the text."""
    return f"(({col} + {JDN_EPOCH}) / 7)"


class _NumberInSQLite:
    """A literal of a type stored as a number in SQLite and as text or a date elsewhere: the bound
    number as it is, anything else quoted (``str`` of a date is its ISO form)."""

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        if value is None:
            return "NULL"
        bound = self.process_bind_param(value, dialect)  # type: ignore[attr-defined]
        return str(bound) if isinstance(bound, int) else f"'{bound}'"


class EpochDays(_NumberInSQLite, TypeDecorator[dt.date]):
    """A date: an INTEGER of days since 1970-01-01 in SQLite (declared ``INTEGER``), a ``DATE``
    elsewhere (the server's column; the wire's 'YYYY-MM-DD': replication's type map reads ``impl``).
    Reading text where a number belongs raises: a write went around the type."""

    impl = Date
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(Integer())
        return dialect.type_descriptor(Date())

    def process_bind_param(self, value: dt.date | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.date):
            raise DomainValueError(f"expected a date, got {type(value).__name__}")
        if dialect.name != "sqlite":
            return value
        return days(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.date | None:
        if value is None:
            return None
        if isinstance(value, int):
            return dt.date.fromordinal(value + ORDINAL_EPOCH)
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if dialect.name == "sqlite":
            raise DomainValueError(f"date stored as text ({str(value)[:40]!r}): expected a number")
        return dt.date.fromisoformat(str(value))


class UTCMicros(_NumberInSQLite, TypeDecorator[dt.datetime]):
    """Aware UTC datetime: an INTEGER of microseconds since the epoch in SQLite (declared ``BIGINT``),
    ISO text like ``UTCDateTime`` elsewhere (the server's column is text; replication's type map
    reads ``impl``). Reading text where a number belongs raises: a write went around the type."""

    impl = String(32)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(BigInteger())
        return dialect.type_descriptor(String(32))

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> Any:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise DomainValueError(f"expected a datetime, got {type(value).__name__}")
        if dialect.name != "sqlite":
            return UTCDateTime().process_bind_param(value, dialect)
        return micros(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, int):
            return EPOCH + dt.timedelta(microseconds=value)
        if dialect.name == "sqlite":
            if isinstance(value, str) and value.lstrip("-").isdigit():
                # the number's digits in a column of an older schema (text affinity) that a newer
                # writer filled: the same number (what the migration converts; ISO text still raises)
                return EPOCH + dt.timedelta(microseconds=int(value))
            raise DomainValueError(f"timestamp stored as text ({str(value)[:40]!r}): expected a number")
        return UTCDateTime().process_result_value(value, dialect)

