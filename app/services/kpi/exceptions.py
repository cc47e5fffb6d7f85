"""Exception inbox KPIs: how many exceptions were raised, and how old the open ones are.

An exception belongs to the branch that raised it (``owner_branch_id``); it has no warehouse.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.models.stamps import day_micros, sql_iso
from app.services.kpi.core import Fact, Kpi, Scope, bucket_bounds, buckets, register, sql_rows

register(Kpi(
    key="exception_volume", title="Exceptions raised", area="exceptions", unit="count", kind="sum",
    better="lower",
    definition="Exceptions raised in the period (every kind: EDI differences, late carriers, credit holds ...)",
    dims=frozenset({"branch"}),
    rows_sql=f"""
SELECT {sql_iso('e.created_at')} AS at, NULL AS wh, e.owner_branch_id AS br, NULL AS supplier, NULL AS customer,
       NULL AS carrier, 1 AS num, 0 AS den, COALESCE(NULLIF(e.entity_ref, ''), e.kind) AS doc, e.role AS party,
       e.kind || ': ' || e.title AS detail, CASE WHEN e.status = 'resolved' THEN 0 ELSE 1 END AS bad
FROM exception_item e WHERE e.deleted_at IS NULL AND e.created_at >= :start_us AND e.created_at < :end_us
""",
))


def _open_rows(session: Session, scope: Scope) -> list[tuple[Any, ...]]:
    # created_at is microseconds (``stamps``, 0027_replicated_times), resolved_at ISO text
    sql = (f"SELECT {sql_iso('created_at')}, resolved_at, owner_branch_id, COALESCE(NULLIF(entity_ref, ''), kind), "
           "role, kind || ': ' || title FROM exception_item WHERE deleted_at IS NULL AND created_at < :end")
    params: dict[str, Any] = {"end": day_micros(scope.end)}
    if scope.branches is not None:
        ph = ", ".join(f":b{i}" for i in range(len(scope.branches))) or "NULL"
        sql += f" AND owner_branch_id IN ({ph})"
        params.update({f"b{i}": b for i, b in enumerate(scope.branches)})
    return list(sql_rows(session, sql, params))


def _ts(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text[:19]).replace(tzinfo=dt.UTC)


def _end_of(scope: Scope, b: str) -> dt.datetime | None:
    _s, e = bucket_bounds(scope, b)
    e = min(e, scope.today + dt.timedelta(days=1))
    if e <= _s:
        return None
    return dt.datetime.combine(e, dt.time(), dt.UTC)


def _age_facts(session: Session, scope: Scope) -> list[Fact]:
    rows = _open_rows(session, scope)
    out: list[Fact] = []
    for b in buckets(scope):
        end = _end_of(scope, b)
        if end is None:
            continue
        for created, resolved, br, *_ in rows:
            c = _ts(created)
            if c < end and (resolved is None or _ts(resolved) >= end):
                out.append((b, (br or "") if scope.by == "branch" else "", (end - c).total_seconds() / 86400, 1.0))
    return out


def _age_drill(session: Session, scope: Scope, bucket: str, group: str) -> list[dict[str, Any]]:
    end = dt.datetime.combine(min(scope.end, scope.today + dt.timedelta(days=1)), dt.time(), dt.UTC)
    out = []
    for created, resolved, br, doc, role, detail in _open_rows(session, scope):
        c = _ts(created)
        if c < end and (resolved is None or _ts(resolved) >= end) and (not group or br == group):
            age = (end - c).total_seconds() / 86400
            out.append({"doc": doc, "at": created[:16].replace("T", " "), "party": role, "detail": detail,
                        "warehouse": "", "value": round(age, 2), "bad": age > 7})
    out.sort(key=lambda r: -float(r["value"]))
    return out


register(Kpi(
    key="exception_age", title="Open exception age", area="exceptions", unit="days", kind="mean",
    better="lower", target=3.0, total="last",
    definition="Mean age in days of the exceptions still open at the end of each bucket (acknowledged "
               "ones count until resolved); the period's figure is at its end",
    dims=frozenset({"branch"}), facts=_age_facts, drill=_age_drill,
))
