"""Build a ``Scope`` from what a person types or picks: a period, branch and warehouse codes, a
supplier, customer or carrier code, a dimension to split by. Bad input is one clear message."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy.orm import Session

from app.services.auth import Actor
from app.services.errors import ValidationError
from app.services.kpi.core import DIMENSIONS, Scope, auto_bucket, hexid, parse_period, sql_rows
from app.services.ownership import working_branch


def _ids(session: Session, table: str, codes: Sequence[str], what: str) -> list[str]:
    out = []
    for code in codes:
        rows = sql_rows(session, f"SELECT id FROM {table} WHERE upper(code) = upper(?) AND deleted_at IS NULL",
                        (code.strip(),))
        if not rows:
            raise ValidationError(what, f"no {what} with code {code.strip()!r}")
        out.append(rows[0][0])
    return out


def default_branches(session: Session, actor: Actor | None) -> list[str] | None:
    """A branch user sees the branch they work for here (``working_branch``: a branch workstation's
    own); head office (or a user of no branch) sees every branch."""
    branch = working_branch(session, actor.branch_id) if actor is not None else None
    if branch is None:
        return None
    rows = sql_rows(session, "SELECT code, is_head_office FROM branch WHERE id = ?", (hexid(branch),))
    if not rows or rows[0][1]:
        return None
    return [rows[0][0]]


def make_scope(session: Session, *, period: str = "12m", today: dt.date | None = None,
               branches: Sequence[str] | None = None, warehouses: Sequence[str] | None = None,
               supplier: str = "", customer: str = "", carrier: str = "", by: str = "",
               bucket: str = "") -> Scope:
    """``branches`` None = every branch; codes otherwise. The branches' warehouses are the
    warehouses unless ``warehouses`` names some."""
    today = today or dt.datetime.now(dt.UTC).date()
    start, end = parse_period(period, today)
    if by and by not in DIMENSIONS:
        raise ValidationError("by", f"cannot split by {by!r} (choose {', '.join(DIMENSIONS)})")
    if bucket and bucket not in ("month", "week"):
        raise ValidationError("bucket", f"{bucket!r}: choose month or week")
    br_ids = _ids(session, "branch", branches, "branch") if branches else None
    wh_ids: list[str] | None = None
    if warehouses:
        wh_ids = _ids(session, "warehouse", warehouses, "warehouse")
    elif br_ids is not None:
        ph = ", ".join("?" for _ in br_ids)
        wh_ids = [r[0] for r in sql_rows(session,
            f"SELECT id FROM warehouse WHERE branch_id IN ({ph})", tuple(br_ids))]
    one = {}
    for dim, code, table in (("supplier", supplier, "supplier"), ("customer", customer, "customer"),
                             ("carrier", carrier, "carrier")):
        one[dim] = _ids(session, table, [code], dim)[0] if code else None
    return Scope(start=start, end=end, bucket=bucket or auto_bucket(start, end),
                 warehouses=tuple(wh_ids) if wh_ids is not None else None,
                 branches=tuple(br_ids) if br_ids is not None else None,
                 supplier=one["supplier"], customer=one["customer"], carrier=one["carrier"], by=by, today=today)
