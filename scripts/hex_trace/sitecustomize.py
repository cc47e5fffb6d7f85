"""Audit aid for binary ids (issue 19): log every SQLite statement that carries a quoted 32-hex text.

Ids are 16-byte BLOBs in the file; a text id compared with one matches nothing and raises nothing.
Put this folder on PYTHONPATH (subprocesses inherit it) and run the tests:

    PYTHONPATH=scripts/hex_trace HEX_TRACE_DIR=/tmp/hits scripts/test.sh -q

Every ``sqlite3.connect`` gets a trace callback (it sees the statement with its parameters
expanded); a statement with a ``'<32 hex>'`` literal is written once per shape (numbers and other
strings blanked) to HEX_TRACE_DIR/<pid>.txt, beside the test that ran it. Expected there: only the text
columns that hold hex on purpose
(``sync_outbox.row_id``, the conflict log, ``count_line.lot_key``). Anything else binds an id as text.
"""

import os
import re
import sqlite3
from typing import Any

_HEX = re.compile(r"(?<![xX])'[0-9a-f]{32}'")
_NUM = re.compile(r"\b\d+\b")
_STR = re.compile(r"'(?:[^']|'')*'")
_seen: set[str] = set()
_out = os.environ.get("HEX_TRACE_DIR", "/tmp/hex_trace")
_connect = sqlite3.connect


def _shape(sql: str) -> str:
    marked = _HEX.sub("'HEX'", sql)
    return _NUM.sub("N", _STR.sub(lambda m: m.group(0) if m.group(0) == "'HEX'" else "'S'", marked))[:400]


def _trace(sql: str) -> None:
    if "'" not in sql or not _HEX.search(sql):
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
