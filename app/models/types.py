"""Column types that carry Depot's data rules into the database.

Money is an integer count of 1/10,000 of the currency unit; quantities are integers
in the item's base unit; timestamps are aware UTC. Services see Decimal and aware
datetimes and never a float.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
import uuid
from decimal import Decimal, DecimalException
from typing import Any

from sqlalchemy import CHAR, BigInteger, Dialect, String, Uuid
from sqlalchemy.sql.type_api import TypeEngine
from sqlalchemy.types import TypeDecorator

MONEY_SCALE = 10_000
MONEY_QUANT = Decimal("0.0001")
#: Largest money value we accept (about 922 trillion units): keeps int64 safe.
MONEY_MAX = Decimal(2**63 - 1) / MONEY_SCALE
#: Largest quantity a single line may carry, in base units (a sanity bound, not a limit of SQL).
QTY_MAX = 10**12


class DomainValueError(ValueError):
    """A value that breaks a data rule (float money, too many decimals, out of range)."""


def _show(value: Any) -> str:
    """A value as a message quotes it: a 10,000-digit cell is not worth printing whole."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _decimal(value: Any, field: str, what: str) -> Decimal:
    """Text to a finite Decimal of a sane size, checked before any arithmetic on it
    ('1e999999999' is a valid Decimal that overflows the moment it is rounded)."""
    try:
        d = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except (DecimalException, ValueError):
        raise DomainValueError(f"{field}: {_show(value)} is not {what}") from None
    if not d.is_finite():
        raise DomainValueError(f"{field}: {_show(value)} is not a finite number")
    if d and d.adjusted() > 20:
        raise DomainValueError(f"{field}: {_show(value)} is out of range")
    return d


def to_money(value: Any, field: str = "amount") -> Decimal:
    """Coerce user input to an exact money Decimal with at most 4 decimals.

    Floats are refused: 0.1 + 0.2 is not money.
    """
    if isinstance(value, bool | float):
        raise DomainValueError(f"{field}: money must be given as text or Decimal, not {type(value).__name__}")
    d = _decimal(value, field, "a number")
    if abs(d) > MONEY_MAX:
        raise DomainValueError(f"{field}: {_show(value)} is out of range")
    if (d and d.adjusted() < -4) or d != d.quantize(MONEY_QUANT):
        raise DomainValueError(f"{field}: {_show(value)} has more than 4 decimal places")
    return d.quantize(MONEY_QUANT)


def to_qty(value: Any, field: str = "quantity", *, allow_zero: bool = False, allow_negative: bool = False) -> int:
    """Coerce user input to an integer quantity in base units, refusing fractions and absurd sizes."""
    if isinstance(value, bool):
        raise DomainValueError(f"{field}: {value!r} is not a quantity")
    if isinstance(value, int):
        q = value
    else:
        d = _decimal(value, field, "a whole number")
        if abs(d) > QTY_MAX:
            raise DomainValueError(f"{field}: {_show(value)} is larger than {QTY_MAX:,}")
        if d != d.to_integral_value():
            raise DomainValueError(f"{field}: {_show(value)} is not a whole number of base units")
        q = int(d)
    if q < 0 and not allow_negative:
        raise DomainValueError(f"{field}: {q} is negative")
    if q == 0 and not allow_zero:
        raise DomainValueError(f"{field}: must be more than zero")
    if abs(q) > QTY_MAX:
        raise DomainValueError(f"{field}: {q} is larger than {QTY_MAX:,}")
    return q


class Money(TypeDecorator[Decimal]):
    """Decimal money stored as BIGINT of 1/10,000 units."""

    impl = BigInteger
    cache_ok = True

    def process_bind_param(self, value: Decimal | None, dialect: Dialect) -> int | None:
        if value is None:
            return None
        return int(to_money(value) * MONEY_SCALE)

    def process_result_value(self, value: Any, dialect: Dialect) -> Decimal | None:
        if value is None:
            return None
        return (Decimal(int(value)) / MONEY_SCALE).quantize(MONEY_QUANT)


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Aware UTC datetime stored as sortable ISO-8601 text ('2026-11-26T15:21:00.000000+00:00').

    Text (not SQLite's naive DATETIME) keeps the offset visible and sorts correctly because
    every value is normalised to UTC with a fixed width.
    """

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Dialect) -> str | None:
        if value is None:
            return None
        if not isinstance(value, dt.datetime):
            raise DomainValueError(f"expected a datetime, got {type(value).__name__}")
        if value.tzinfo is None:
            raise DomainValueError("naive datetime refused: store aware UTC times only")
        return value.astimezone(dt.UTC).isoformat(timespec="microseconds")

    def process_result_value(self, value: Any, dialect: Dialect) -> dt.datetime | None:
        if value is None:
            return None
        if isinstance(value, dt.datetime):
            return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return dt.datetime.fromisoformat(str(value)).astimezone(dt.UTC)


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def iso_utc(value: dt.datetime) -> str:
    """The stored text form of an aware datetime (for raw SQL and bulk loaders)."""
    return value.astimezone(dt.UTC).isoformat(timespec="microseconds")


#: a fixed-point 4-decimal number that is not money (percentages, day deviations); same storage.
Fixed4 = Money


class Id(TypeDecorator[uuid.UUID]):
    """A UUID key: 16 bytes (a BLOB) in SQLite, the native ``uuid`` in PostgreSQL.

    SQLite keeps the column's declared ``CHAR(32)`` (a BLOB is stored as is whatever the
    column's affinity), so existing schemas stay the same and only values change (migration
    ``0022_binary_ids``). Binary ids made the large file a third smaller (docs/data.md,
    "Storage"). Raw SQL passes ``uuid.UUID`` objects (``sqlite3`` adapts them to their bytes,
    see ``id_bytes``) or ``id_bytes(u)``, never ``u.hex``: a text id matches no BLOB.
    """

    impl = Uuid(as_uuid=True)
    cache_ok = True

    def load_dialect_impl(self, dialect: Dialect) -> TypeEngine[Any]:
        if dialect.name == "sqlite":
            return dialect.type_descriptor(CHAR(32))
        return dialect.type_descriptor(Uuid(as_uuid=True))

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or dialect.name != "sqlite":
            return value
        return id_bytes(value)

    def process_literal_param(self, value: Any, dialect: Dialect) -> str:
        if value is None:
            return "NULL"
        if dialect.name != "sqlite":
            return f"'{uuid.UUID(str(value))}'"
        return f"X'{id_bytes(value).hex()}'"

    def process_result_value(self, value: Any, dialect: Dialect) -> uuid.UUID | None:
        if value is None or isinstance(value, uuid.UUID):
            return value
        if isinstance(value, bytes):
            return uuid.UUID(bytes=value)
        # a text id in a binary-id file: something wrote around the type (raw SQL with u.hex)
        raise DomainValueError(f"id stored as text ({_show(value)}): expected 16 bytes")


def id_bytes(value: Any) -> bytes:
    """The SQLite storage form of an id given as a UUID, 32-hex text or 16 bytes."""
    if isinstance(value, uuid.UUID):
        return value.bytes
    if isinstance(value, bytes):
        if len(value) != 16:
            raise DomainValueError(f"an id is 16 bytes, got {len(value)}")
        return value
    if isinstance(value, str):
        return uuid.UUID(value).bytes
    raise DomainValueError(f"not an id: {_show(value)}")


def id_hex(value: Any) -> str | None:
    """32-hex text of a stored id (16 bytes) or a UUID; None stays None (replication's wire form)."""
    if value is None:
        return None
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, uuid.UUID):
        return value.hex
    return str(value)


# Raw sqlite3 statements may pass UUID objects: they bind as the same 16 bytes the Id type stores.
sqlite3.register_adapter(uuid.UUID, lambda u: u.bytes)
# None binds as NULL either way; registered, sqlite3 finds it in its adapter table at once instead of
# failing three look-ups per value (it binds only int, float, str and bytearray directly): 0.14 against
# 0.52 us a None. The seed's history binds 5 million of them (lot, serial, document of a move).
# An empty dict's ``get`` is a C-level callable that returns None for any argument (a lambda costs
# 0.04 us more).
_NOTHING: dict[object, None] = {}
sqlite3.register_adapter(type(None), _NOTHING.get)


def hex_of(v: Any) -> str:
    """A stored id read by raw SQL (16 bytes) as 32-hex text; text as it is."""
    return v.hex() if type(v) is bytes else str(v)


class LotKey(TypeDecorator[str]):
    """``stock_balance.lot_key``: a lot id, or '' for stock without a lot (a key cannot be NULL).

    Stored as the lot id itself (16 bytes, written by the balance trigger from ``stock_move.lot_id``);
    Python sees the 32-hex text it always did, so ``lot_key == lot_id.hex`` still compares.
    """

    impl = String(32)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None or value == "" or dialect.name != "sqlite":
            return value
        return id_bytes(value)

    def process_result_value(self, value: Any, dialect: Dialect) -> str | None:
        if value is None:
            return None
        return value.hex() if isinstance(value, bytes) else str(value)
