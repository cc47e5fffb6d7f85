"""Audit aid for numeric times (issue 19): log every SQLite statement that reads times or dates
stored as numbers (``stock_move.moved_at`` / ``created_at`` since 0023_numeric_times,
``sales_history.sale_date`` / ``created_at`` since 0025_history_times, ``kpi_po_line``'s dates and
times since 0026_kpi_times: ``_WATCHED``) beside a quoted ISO date or time.

In SQLite any text is greater than any number: ``moved_at >= '2026-01-01'`` raises nothing and
matches every row. Writes of text are refused by the table's CHECK constraints; reads are not.
Put this folder on PYTHONPATH (subprocesses inherit it) and run the tests:

    PYTHONPATH=scripts/time_trace TIME_TRACE_DIR=/tmp/hits scripts/test.sh -q

Every ``sqlite3.connect`` gets a trace callback (it sees the statement with its parameters
expanded); a statement on a watched table naming one of its watched columns with a
``'YYYY-MM-DD...'`` literal is written once per shape (numbers and other strings blanked) to
TIME_TRACE_DIR/<pid>.txt, beside the test that ran it. Expected: none but the tests that write
text on purpose to see it refused (and statements that merely mention a watched table in a text).
"""

import os
import re
import sqlite3
from typing import Any

_ISO = re.compile(r"'\d{4}-\d{2}-\d{2}[^']*'")
#: the tables whose times or dates are numbers, and those columns (0023_numeric_times and after)
_WATCHED = {
    "stock_move": re.compile(r"\b(moved_at|created_at)\b"),
    "sales_history": re.compile(r"\b(sale_date|created_at)\b"),
    "kpi_po_line": re.compile(r"\b(order_date|expected_date|first_at|last_at|put_at)\b"),
}
_NUM = re.compile(r"\b\d+\b")
_STR = re.compile(r"'(?:[^']|'')*'")
_seen: set[str] = set()
_out = os.environ.get("TIME_TRACE_DIR", "/tmp/time_trace")
_connect = sqlite3.connect


def _shape(sql: str) -> str:
    marked = _ISO.sub("'ISO'", sql)
    return _NUM.sub("N", _STR.sub(lambda m: m.group(0) if m.group(0) == "'ISO'" else "'S'", marked))[:400]


def _trace(sql: str) -> None:
    if "'" not in sql or not _ISO.search(sql):
        return
    if not any(table in sql and col.search(sql) for table, col in _WATCHED.items()):
        return
    shape = _shape(sql)
    if shape in _seen or len(_seen) > 20000:
        return
    _seen.add(shape)
    try:
        os.makedirs(_out, exist_ok=True)
        with open(os.path.join(_out, f"{os.getpid()}.txt"), "a", encoding="utf-8") as f:
            f.write(f"{os.environ.get('PYTEST_CURRENT_TEST', '')}\t{shape!r}\n")
    except OSError:
        pass


def _traced(*args: Any, **kwargs: Any) -> sqlite3.Connection:
    conn = _connect(*args, **kwargs)
    conn.set_trace_callback(_trace)
    return conn


sqlite3.connect = _traced  # type: ignore[assignment]
