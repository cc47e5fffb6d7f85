"""Pending changes and sync history as a person reads them: the document and its number, what
happened, who did it, and when in the workstation's local time (not a table name, a 32-character
id and a UTC stamp).

Reads only: the outbox row names (table, id, operation, time); the row itself gives its number or
code; the newest audit entry about that row gives who and what (``po.approved``, ``receipt.post``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import text

from app.models.types import id_bytes

#: table -> what a person calls one of its rows
NOUNS = {
    "purchase_order": "purchase order", "purchase_order_line": "PO line", "requisition": "requisition",
    "expected_receipt": "expected receipt", "expected_receipt_line": "expected receipt line", "receipt": "receipt",
    "receipt_line": "receipt line", "putaway_task": "putaway task", "stock_move": "stock move", "lot": "lot",
    "serial_number": "serial number", "quality_hold": "quality hold", "approval_decision": "approval decision",
    "audit_entry": "audit entry", "email_outbox": "e-mail", "supplier_message": "supplier message",
    "exception_item": "exception", "item": "item", "supplier": "supplier", "customer": "customer",
    "transfer_order": "transfer", "count_sheet": "count sheet", "rma": "return", "number_series": "number series",
    "recommendation_decision": "replenishment decision", "approval_rule": "approval rule", "sales_order": "sales order",
    "warehouse": "warehouse", "location": "bin", "branch": "branch", "app_user": "user",
}
#: the column that names a row, tried in order
NAME_COLUMNS = ("number", "code", "sku", "username", "lot_code", "serial", "subject", "name", "key", "prefix")
OPS = {"I": "created", "U": "changed", "D": "deleted"}


def local_time(value: Any) -> str:
    """A stored UTC time as the workstation's local time ('2026-12-05 14:03'); '' when unreadable."""
    if value is None or value == "":
        return ""
    if isinstance(value, dt.datetime):
        when = value
    else:
        try:
            when = dt.datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        except ValueError:
            return str(value)
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone().strftime("%Y-%m-%d %H:%M")


def _columns(session: Any, table: str, cache: dict[str, list[str]]) -> list[str]:
    if table not in cache:
        cache[table] = [r[1] for r in session.execute(text(f'PRAGMA table_info("{table}")'))] if table.isidentifier() else []
    return cache[table]


def _key(row_id: str) -> bytes | str:
    """An outbox row id (32 hex) as the tables store it (16 bytes)."""
    try:
        return id_bytes(row_id)
    except ValueError:
        return row_id


def _name(session: Any, table: str, row_id: str, cache: dict[str, list[str]]) -> str:
    cols = _columns(session, table, cache)
    col = next((c for c in NAME_COLUMNS if c in cols), None)
    if col is None:
        return ""
    value = session.execute(text(f'SELECT "{col}" FROM "{table}" WHERE id = :i'), {"i": _key(row_id)}).scalar()
    return str(value) if value not in (None, "") else ""


def describe_pending(session: Any, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``engine.pending_changes`` rows with ``what``, ``change``, ``who`` and ``when`` added."""
    cache: dict[str, list[str]] = {}
    out = []
    for r in rows:
        table, row_id = str(r.get("tbl", "")), str(r.get("row_id", ""))
        noun = NOUNS.get(table, table.replace("_", " "))
        name = _name(session, table, row_id, cache) if r.get("op") != "D" else ""
        who, action = "", ""
        audit = session.execute(text(
            "SELECT username, action FROM audit_entry WHERE entity_id = :i ORDER BY created_at DESC, id DESC LIMIT 1"),
            {"i": _key(row_id)}).first()
        if table == "audit_entry":
            audit = session.execute(text("SELECT username, action FROM audit_entry WHERE id = :i"), {"i": _key(row_id)}).first()
        if audit is not None:
            who, action = audit[0] or "", audit[1] or ""
        change = OPS.get(str(r.get("op")), str(r.get("op")))
        if action:
            change += f" ({action.replace('.', ' ').replace('_', ' ')})"
        out.append({**r, "what": f"{noun} {name}".strip(), "change": change, "who": who or "(system)",
                    "when": local_time(r.get("changed_at"))})
    return out
