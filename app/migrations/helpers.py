"""Helpers migrations call to install change capture and ledger guards on their tables.

Each migration names its own tables explicitly (never reads the live registry), so an
old migration keeps doing what it did when later issues add tables.
"""

from __future__ import annotations

from alembic import op

from app.models.stock import ledger_guard_sql
from app.models.sync import capture_trigger_sql, drop_capture_trigger_sql


def install_capture(tables: list[str]) -> None:
    for t in tables:
        for sql in capture_trigger_sql(t):
            op.execute(sql)


def drop_capture(tables: list[str]) -> None:
    for t in tables:
        for sql in drop_capture_trigger_sql(t):
            op.execute(sql)


def install_ledger_guard(tables: list[str]) -> None:
    for t in tables:
        for stmt in ledger_guard_sql(t):
            op.execute(stmt)
