"""Audit aid for what SQLite stores as bytes or numbers (issue 19): log every statement that compares
such a column with text, which raises nothing and matches wrongly.

* ``hex``: a quoted 32-hex text. Ids are 16-byte BLOBs (0022_binary_ids); a text id matches nothing.
  Expected hits: only the text columns that hold hex on purpose (``sync_outbox.row_id``, the conflict
  log, ``count_line.lot_key``).
* ``time``: a quoted ``'YYYY-MM-DD...'`` in a statement on a table whose times or dates are numbers
  (``_WATCHED``: 0023_numeric_times, 0025_history_times, 0026_kpi_times), or a replicated
  ``created_at``/``updated_at``/``deleted_at`` compared with one (``_REPLICATED``: 0027_replicated_times). Any text is greater than any
  number: ``moved_at >= '2026-01-01'`` matches every row. Writes of text are refused by CHECKs;
  reads are not. Expected hits: the tests that write text on purpose to see it refused.

Put this folder on PYTHONPATH (subprocesses inherit it) and run the tests:

    PYTHONPATH=scripts/sql_trace SQL_TRACE=hex,time SQL_TRACE_DIR=/tmp/hits scripts/test.sh -q

Every ``sqlite3.connect`` gets a trace callback (it sees the statement with its parameters
expanded); a hit is written once per shape (numbers and other strings blanked) to
SQL_TRACE_DIR/<pid>.txt with the check's name, beside the test that ran it.
"""

import os
import re
import sqlite3
from typing import Any

_LITERALS = {"hex": re.compile(r"(?<![xX])'[0-9a-f]{32}'"), "time": re.compile(r"'\d{4}-\d{2}-\d{2}[^']*'")}
#: the tables whose times or dates are numbers, and those columns
_WATCHED = {
    "stock_move": re.compile(r"\b(moved_at|created_at)\b"),
    "sales_history": re.compile(r"\b(sale_date|created_at)\b"),
    "kpi_po_line": re.compile(r"\b(order_date|expected_date|first_at|last_at|put_at)\b"),
}
#: every replicated table's created_at, updated_at, deleted_at (0027_replicated_times), compared with a
#: quoted date or time (in any table: the local ones whose created_at is text are few; writes are refused
#: by CHECKs, so only comparisons are looked for)
_REPLICATED = re.compile(
    r"\b(created_at|updated_at|deleted_at)\s*(?:[<>=!]=?|<>|BETWEEN)\s*'\d{4}-\d{2}-\d{2}"
    r"|'\d{4}-\d{2}-\d{2}[^']*'\s*(?:[<>=!]=?|<>)\s*(?:\w+\.)?(created_at|updated_at|deleted_at)\b")
_CHECKS = [c for c in os.environ.get("SQL_TRACE", "hex,time").split(",") if c in _LITERALS]
_NUM = re.compile(r"\b\d+\b")
_STR = re.compile(r"'(?:[^']|'')*'")
_seen: set[str] = set()
_out = os.environ.get("SQL_TRACE_DIR", "/tmp/sql_trace")
_connect = sqlite3.connect


def _shape(sql: str, literal: re.Pattern[str]) -> str:
    marked = literal.sub("'LIT'", sql)
    return _NUM.sub("N", _STR.sub(lambda m: m.group(0) if m.group(0) == "'LIT'" else "'S'", marked))[:400]


def _hit(check: str, sql: str) -> bool:
    if not _LITERALS[check].search(sql):
        return False
    return check != "time" or any(table in sql and col.search(sql) for table, col in _WATCHED.items()) \
        or bool(_REPLICATED.search(sql))


def _trace(sql: str) -> None:
    if "'" not in sql:
        return
    for check in _CHECKS:
        if not _hit(check, sql):
            continue
        shape = f"{check}\t{_shape(sql, _LITERALS[check])!r}"
        if shape in _seen or len(_seen) > 20000:
            continue
        _seen.add(shape)
        try:
            os.makedirs(_out, exist_ok=True)
            with open(os.path.join(_out, f"{os.getpid()}.txt"), "a", encoding="utf-8") as f:
                f.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '')}\t{shape}\n")
        except OSError:
            pass


def _traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(_trace)
    return conn


sqlite3.connect = _traced  # type: ignore[assignment]
