"""Rebuild one table with some of its times and dates stored as numbers (issue 19, storage), for
the migrations after ``0023_numeric_times`` (which wrote the same steps for ``stock_move`` alone).

A number needs INTEGER affinity (a ``VARCHAR`` column turns it back into text), so the table is
rebuilt by SQLite's procedure for other schema changes (new table from the stored SQL with the
columns' declared types changed and a CHECK ``typeof(col) = 'integer'`` per column, rows copied
through a registered function, old table dropped, new one renamed, indexes rebuilt from their
stored SQL; foreign keys are off during ``schema.upgrade``). Every trigger is set aside and
recreated from its stored SQL through the migration's rewrites (text form <-> numeric form); a
trigger that still names a converted column in a form the migration does not know stops it: it
would answer wrong silently with numbers. The reverse (``numeric=False``) is the downgrade.

Kinds of column:

* ``MICROS``: ISO text (``VARCHAR(32)``) <-> microseconds since 1970-01-01 UTC (``BIGINT``).
* ``DAYS``: 'YYYY-MM-DD' (``DATE``) <-> days since 1970-01-01 (``INTEGER``).

Frozen: these forms are what the migrations using them wrote; a later change is a new helper.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_US = dt.timedelta(microseconds=1)
_ORDINAL_EPOCH = 719_163


@dataclass(frozen=True)
class Kind:
    text_type: str
    number_type: str


MICROS = Kind("VARCHAR(32)", "BIGINT")
DAYS = Kind("DATE", "INTEGER")


def _digits(v: str) -> bool:
    return v.lstrip("-").isdigit()


def to_micros(v: Any) -> Any:
    if isinstance(v, str):
        if _digits(v):  # a number a newer writer left as text (the column's TEXT affinity)
            return int(v)
        return (dt.datetime.fromisoformat(v) - _EPOCH) // _US
    return v


def from_micros(v: Any) -> Any:
    if isinstance(v, int):
        return (_EPOCH + dt.timedelta(microseconds=v)).isoformat(timespec="microseconds")
    return v


def to_days(v: Any) -> Any:
    if isinstance(v, str):
        if _digits(v):
            return int(v)
        return dt.date.fromisoformat(v[:10]).toordinal() - _ORDINAL_EPOCH
    return v


def from_days(v: Any) -> Any:
    if isinstance(v, int):
        return dt.date.fromordinal(v + _ORDINAL_EPOCH).isoformat()
    return v


_FORMS = {(MICROS, True): to_micros, (MICROS, False): from_micros, (DAYS, True): to_days, (DAYS, False): from_days}


@dataclass(frozen=True)
class Plan:
    """One table's conversion: its columns and kinds, the trigger rewrites (text form, numeric form),
    and the patterns that must not remain in a trigger after them (``watch``: regexes)."""

    table: str
    columns: dict[str, Kind]
    rewrites: Sequence[tuple[str, str]] = ()
    watch: Sequence[str] = ()
    revision: str = ""
    #: the triggers ``watch`` applies to (a regex their SQL matches; every trigger by default)
    watch_in: str = ""


def _check(table: str, col: str, nullable: bool) -> str:
    test = "IN ('integer', 'null')" if nullable else "= 'integer'"
    return f"CONSTRAINT ck_{table}_{col}_number CHECK (typeof({col}) {test})"


def table_sql(plan: Plan, sql: str, numeric: bool, nullable: frozenset[str] = frozenset()) -> str:
    for col, kind in plan.columns.items():
        src, dst = (kind.text_type, kind.number_type) if numeric else (kind.number_type, kind.text_type)
        sql, n = re.subn(rf"(\b{col}\s+){re.escape(src)}(?![\w(])", rf"\g<1>{dst}", sql)
        if n != 1:
            raise RuntimeError(f"{plan.revision}: {plan.table}.{col} is not declared {src}")
    if numeric:  # a raw write of text would be kept as text and compare wrong: refused at the database
        sql = re.sub(r"\n\)\s*$", "".join(f", \n\t{_check(plan.table, c, c in nullable)}" for c in plan.columns)
                     + "\n)", sql)
    else:
        for c in plan.columns:
            sql = sql.replace(f", \n\t{_check(plan.table, c, c in nullable)}", "")
    return re.sub(rf'^CREATE TABLE\s+"?{plan.table}"?\s*\(', f"CREATE TABLE {plan.table}__new (", sql)


def trigger_sql(plan: Plan, sql: str, numeric: bool) -> str:
    out = sql
    for text, num in plan.rewrites:
        out = out.replace(text, num) if numeric else out.replace(num, text)
    if numeric:
        rest = out
        for _text, num in plan.rewrites:
            rest = rest.replace(num, "")
        for pattern in plan.watch:
            if (not plan.watch_in or re.search(plan.watch_in, sql)) and re.search(pattern, rest):
                raise RuntimeError(f"{plan.revision}: a trigger reads {plan.table}'s times in a form this migration "
                                   f"does not know, it would answer wrong with numbers:\n{sql}")
    return out


def convert(conn: Any, plans: Sequence[Plan], numeric: bool) -> None:
    """Rebuild every table of ``plans`` (numbers, or back to text), triggers set aside around it."""
    raw = conn.connection.driver_connection
    for kind in (MICROS, DAYS):
        raw.create_function(f"depot_{'micros' if kind is MICROS else 'days'}_form", 1, _FORMS[(kind, numeric)],
                            deterministic=True)
    conn.exec_driver_sql("PRAGMA defer_foreign_keys = ON")
    triggers = conn.exec_driver_sql(
        "SELECT name, sql FROM sqlite_master WHERE type = 'trigger' ORDER BY name").fetchall()
    new_sql = [str(sql) for _n, sql in triggers]
    for plan in plans:  # every rewrite checked before anything changes
        new_sql = [trigger_sql(plan, s, numeric) for s in new_sql]
    for name, _sql in triggers:
        conn.exec_driver_sql(f'DROP TRIGGER "{name}"')
    for plan in plans:
        _rebuild(conn, plan, numeric)
    for sql in new_sql:
        conn.exec_driver_sql(sql)


def _rebuild(conn: Any, plan: Plan, numeric: bool) -> None:
    t = plan.table
    stored = conn.exec_driver_sql("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = ?", (t,)).scalar_one()
    indexes = conn.exec_driver_sql(
        "SELECT sql FROM sqlite_master WHERE type = 'index' AND tbl_name = ? AND sql IS NOT NULL ORDER BY name",
        (t,)).fetchall()
    info = conn.exec_driver_sql(f'PRAGMA table_info("{t}")').fetchall()
    cols = [str(r[1]) for r in info]
    nullable = frozenset(str(r[1]) for r in info if not r[3])
    conn.exec_driver_sql(table_sql(plan, str(stored), numeric, nullable))
    picks = ", ".join(
        f'depot_{"micros" if plan.columns[c] is MICROS else "days"}_form("{c}")' if c in plan.columns else f'"{c}"'
        for c in cols)
    names = ", ".join(f'"{c}"' for c in cols)
    rowid = "" if re.search(r"WITHOUT\s+ROWID", str(stored), re.I) else " ORDER BY rowid"
    conn.exec_driver_sql(f'INSERT INTO {t}__new ({names}) SELECT {picks} FROM "{t}"{rowid}')
    conn.exec_driver_sql(f'DROP TABLE "{t}"')
    conn.exec_driver_sql(f'ALTER TABLE {t}__new RENAME TO "{t}"')
    for (sql,) in indexes:
        conn.exec_driver_sql(str(sql))
