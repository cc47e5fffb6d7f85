"""Ids in SQLite are 16 bytes; these helpers serve raw SQL that keeps ids as 32-hex text in Python.

``id_columns`` names a file's id columns as migration ``0022_binary_ids`` finds them (that migration
keeps its own frozen copy of the conversion); ``stored_params``, ``hex_row`` and ``HexIds`` bind hex
ids as their bytes and read stored ids back as hex, for the modules whose raw SQL works in hex
(dispatch, allocation, promise, the KPI layer, the bulk writer's ``run_many``). The seed writes
bytes at its write points (``seed.bulk.stored_ids``).
"""

from __future__ import annotations

import re
import sqlite3
from collections.abc import Sequence
from typing import Any

#: id columns not declared CHAR(32): the balance key holds a lot id, or '' for stock without a lot
EXTRA_ID_COLUMNS = {"stock_balance": ("lot_key",)}
_HEX = re.compile(r"[0-9a-f]{32}")


def id_columns(conn: sqlite3.Connection) -> dict[str, list[str]]:
    """Every table's id columns: declared CHAR(32) (SQLAlchemy's ``Uuid`` on SQLite), plus the extras."""
    out: dict[str, list[str]] = {}
    for (table,) in conn.execute(
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' "
            "AND name <> 'alembic_version' AND sql NOT LIKE 'CREATE VIRTUAL%' ORDER BY name").fetchall():
        cols = [str(r[1]) for r in conn.execute(f'PRAGMA table_info("{table}")')
                if str(r[2]).upper().replace(" ", "") == "CHAR(32)" or str(r[1]) in EXTRA_ID_COLUMNS.get(table, ())]
        if cols:
            out[str(table)] = cols
    return out


def _param(v: Any) -> Any:
    if type(v) is str and len(v) == 32 and _HEX.fullmatch(v):
        return bytes.fromhex(v)
    return v


def stored_params(params: Any) -> Any:
    """Parameters of raw SQL written with 32-hex ids (the dispatch, allocation and promise modules
    keep ids as hex in Python), with every 32-hex text as the 16 bytes the columns hold."""
    if isinstance(params, dict):
        return {k: _param(v) for k, v in params.items()}
    return tuple(_param(v) for v in params)


def hex_row(row: Sequence[Any]) -> tuple[Any, ...]:
    """A raw row with every 16-byte value (a stored id) as 32-hex text, for the same modules."""
    return tuple(v.hex() if type(v) is bytes and len(v) == 16 else v for v in row)


class HexIds:
    """A raw sqlite3 connection seen with ids as 32-hex text both ways (``stored_params`` in,
    ``hex_row`` out): for modules whose raw SQL keeps ids as hex in Python."""

    def __init__(self, raw: Any) -> None:
        self.raw = raw

    def execute(self, sql: str, params: Any = ()) -> _Rows:
        return _Rows([hex_row(r) for r in self.raw.execute(sql, stored_params(params)).fetchall()])


class _Rows(list[tuple[Any, ...]]):
    def fetchall(self) -> list[tuple[Any, ...]]:
        return list(self)

    def fetchone(self) -> tuple[Any, ...] | None:
        return self[0] if self else None
