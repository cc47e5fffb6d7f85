"""numeric times: stock_move's moved_at and created_at stored as INTEGER microseconds (issue 19)

Revision ID: 0023_numeric_times
Revises: 0022_binary_ids

An ISO timestamp costs 33 bytes in a row and again in ``ix_stock_move_item_moved``; an 8-byte
integer of microseconds since 1970-01-01 UTC (``app.models.stamps``) costs 9 and keeps every
microsecond. A number needs INTEGER affinity (a ``VARCHAR`` column turns it back into text), so the
table is rebuilt with the two columns declared ``BIGINT`` (SQLite's procedure for other schema
changes: new table, copy, drop, rename; foreign keys are off during ``schema.upgrade``), its
indexes are rebuilt from their stored SQL, and the triggers that read ``moved_at`` are recreated
from their stored SQL with the numeric forms of what they did with the text (the day, the sales
week, the ISO text kpi_po_line keeps). A trigger that reads ``moved_at`` in any other way stops the
migration: it would answer wrong silently. ``ix_stock_move_doc`` leaves out the moves without a
document (WHERE doc_id IS NOT NULL). Downgrade does the reverse.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from alembic import op

revision = "0023_numeric_times"
down_revision = "0022_binary_ids"
branch_labels = None
depends_on = None

TABLE = "stock_move"
COLUMNS = ("moved_at", "created_at")
_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)


def _floor_s(c: str) -> str:
    return f"({c} / 1000000 - ({c} < 0 AND {c} % 1000000 <> 0))"


# the numeric forms as this migration writes them (frozen here: app.models.stamps may change later)
def _day(c: str) -> str:
    return f"date({_floor_s(c)}, 'unixepoch')"


def _week(c: str) -> str:
    return f"((({c} / 86400000000 - ({c} < 0 AND {c} % 86400000000 <> 0)) + 2440588) / 7)"


def _iso(c: str) -> str:
    return (f"CASE WHEN {c} IS NULL THEN NULL ELSE strftime('%Y-%m-%dT%H:%M:%S', {_floor_s(c)}, "
            f"'unixepoch') || printf('.%06d+00:00', (({c} % 1000000 + 1000000) % 1000000)) END")


def _text_week(c: str) -> str:
    return f"(CAST(julianday(substr({c}, 1, 10)) + 0.5 AS INTEGER) / 7)"


#: (text form, numeric form) of every way a trigger reads moved_at
REWRITES = [
    *[(_text_week(f"{a}.moved_at"), _week(f"{a}.moved_at")) for a in ("NEW", "o", "m")],
    ("substr(NEW.moved_at, 1, 10)", _day("NEW.moved_at")),
    ("THEN NEW.moved_at END", f"THEN {_iso('NEW.moved_at')} END"),
]


def _micros(v: Any) -> Any:
    if isinstance(v, str):
        if v.lstrip("-").isdigit():  # a number a newer writer left as text (the column's TEXT affinity)
            return int(v)
        return (dt.datetime.fromisoformat(v) - _EPOCH) // _US
    return v


def _iso_text(v: Any) -> Any:
    if isinstance(v, int):
        return (_EPOCH + dt.timedelta(microseconds=v)).isoformat(timespec="microseconds")
    return v


def _trigger_sql(sql: str, numeric: bool) -> str:
    out = sql
    for text, num in REWRITES:
        out = out.replace(text, num) if numeric else out.replace(num, text)
    if numeric:
        rest = out
        for _text, num in REWRITES:
            rest = rest.replace(num, "")
        if re.search(r"\bmoved_at\b", rest):
            raise RuntimeError(f"0023_numeric_times: a trigger reads stock_move.moved_at in a form this "
                               f"migration does not know, it would answer wrong with numbers:\n{sql}")
    return out


def _table_sql(sql: str, numeric: bool) -> str:
    src, dst = ("VARCHAR(32)", "BIGINT") if numeric else ("BIGINT", "VARCHAR(32)")
    for col in COLUMNS:
        sql, n = re.subn(rf"(\b{col}\s+){re.escape(src)}", rf"\g<1>{dst}", sql)
        if n != 1:
            raise RuntimeError(f"0023_numeric_times: {TABLE}.{col} is not declared {src}")
    if numeric:  # a raw write of ISO text would be kept as text and compare wrong: refused at the database
        sql = re.sub(r"\n\)\s*$", "".join(f", \n\t{_check(c)}" for c in COLUMNS) + "\n)", sql)
    else:
        for c in COLUMNS:
            sql = sql.replace(f", \n\t{_check(c)}", "")
    return re.sub(r'^CREATE TABLE\s+"?stock_move"?\s*\(', f"CREATE TABLE {TABLE}__new (", sql)


def _check(col: str) -> str:
    return f"CONSTRAINT ck_{TABLE}_{col}_number CHECK (typeof({col}) = 'integer')"


#: the document index without the moves that have no document (half the large set's ledger: its
#: history); every look-up names a doc_id (``doc_id = ?`` implies the condition)
DOC_INDEX = "CREATE INDEX ix_stock_move_doc ON stock_move (doc_type, doc_id)"
DOC_WHERE = " WHERE doc_id IS NOT NULL"


def _index_sql(sql: str, numeric: bool) -> str:
    if numeric and sql == DOC_INDEX:
        return sql + DOC_WHERE
    if not numeric and sql == DOC_INDEX + DOC_WHERE:
        return DOC_INDEX
    return sql


def _convert(numeric: bool) -> None:
    conn = op.get_bind()
    raw = conn.connection.driver_connection
    raw.create_function("depot_time_form", 1, _micros if numeric else _iso_text, deterministic=True)
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    table_sql = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (TABLE,)).scalar_one()
    indexes = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
        (TABLE,)).fetchall()
    cols = [str(r[1]) for r in conn.exec_driver_sql(f'PRAGMA table_info("{TABLE}")')]
    conn.exec_driver_sql(_table_sql(str(table_sql), numeric))
    picks = ", ".join(f'depot_time_form("{c}")' if c in COLUMNS else f'"{c}"' for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    conn.exec_driver_sql(f'INSERT INTO {TABLE}__new ({names}) SELECT {picks} FROM "{TABLE}" ORDER BY rowid')
    conn.exec_driver_sql(f'DROP TABLE "{TABLE}"')
    conn.exec_driver_sql(f'ALTER TABLE {TABLE}__new RENAME TO "{TABLE}"')
    for (sql,) in indexes:
        conn.exec_driver_sql(_index_sql(str(sql), numeric))
    for _name, sql in triggers:
        conn.exec_driver_sql(_trigger_sql(str(sql), numeric))


def upgrade() -> None:
    _convert(numeric=True)


def downgrade() -> None:
    _convert(numeric=False)
