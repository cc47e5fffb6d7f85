"""Inventory KPIs: accuracy (from cycle counts), turns and days of supply (from the ledger).

Stock value is at each item's standard cost on the day it moved. The value on hand at any past moment is today's
value minus what came in since, both read from ``kpi_stock_day`` (per warehouse and day: net value
in at the cost of the day the stock moved, and the cost of what went to customers; app/models/kpi.py).
Internal locations are bins, docks and QA; moves between them do not change the value.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.services.kpi.core import (
    Fact,
    Kpi,
    Scope,
    any_row,
    bucket_bounds,
    bucket_sql,
    buckets,
    register,
    sql_rows,
)

register(Kpi(
    key="inventory_accuracy", title="Inventory accuracy", area="inventory", unit="%", kind="ratio",
    better="higher", target=98.0, needs="cycle counting",
    in_use=lambda s: any_row(s, "SELECT 1 FROM count_task WHERE status = 'posted' LIMIT 1"),
    definition="Count lines whose counted quantity matched the book quantity exactly, of the lines of "
               "counts posted in the period",
    dims=frozenset({"branch", "warehouse"}),
    rows_sql="""
SELECT t.posted_at AS at, t.warehouse_id AS wh, w.branch_id AS br, NULL AS supplier, NULL AS customer,
       NULL AS carrier, CASE WHEN l.variance = 0 THEN 1 ELSE 0 END AS num, 1 AS den,
       t.number || ' ' || loc.code AS doc, i.sku AS party,
       'book ' || l.expected_qty || ', counted ' || COALESCE(l.recount_qty, l.counted_qty, 0) AS detail,
       CASE WHEN l.variance <> 0 THEN 1 ELSE 0 END AS bad
FROM count_task t
JOIN count_line l ON l.task_id = t.id
JOIN warehouse w ON w.id = t.warehouse_id
LEFT JOIN location loc ON loc.id = t.location_id
LEFT JOIN item i ON i.id = l.item_id
WHERE t.status = 'posted' AND t.posted_at >= :start AND t.posted_at < :end
""",
))

_INTERNAL = "('storage', 'dock', 'qa')"


def _where_wh(scope: Scope, col: str) -> tuple[str, dict[str, Any]]:
    if scope.warehouses is None:
        return "", {}
    ph = ", ".join(f":w{i}" for i in range(len(scope.warehouses))) or "NULL"
    return f" AND {col} IN ({ph})", {f"w{i}": w for i, w in enumerate(scope.warehouses)}


def value_flows(session: Session, scope: Scope) -> tuple[dict[str, float], dict[tuple[str, str], list[float]]]:
    """(value on hand now per warehouse, {(bucket, warehouse): [net value in, COGS]} from the
    period's start until now), in currency units. Turns and days of supply read the same pass:
    it is kept on the session for the scope."""
    memo = session.info.setdefault("kpi.value_flows", {})
    key = (scope.start, scope.end, scope.bucket, scope.warehouses, scope.today)
    if key not in memo:
        memo.clear()
        memo[key] = _value_flows(session, scope)
    return memo[key]  # type: ignore[no-any-return]


def _value_flows(session: Session, scope: Scope) -> tuple[dict[str, float], dict[tuple[str, str], list[float]]]:
    w2, p2 = _where_wh(scope, "warehouse_id")
    # the value on hand now: everything that ever came in, net (at the cost of the day it moved)
    now = {r[0]: float(r[1] or 0) / 10000 for r in sql_rows(session,
        f"SELECT warehouse_id, SUM(inflow) FROM kpi_stock_day WHERE 1 = 1{w2} GROUP BY warehouse_id", p2)}
    sql = (f"SELECT {bucket_sql(scope.bucket, 'day')} AS b, warehouse_id, SUM(inflow), SUM(cogs) FROM kpi_stock_day "
           f"WHERE day >= :start{w2} GROUP BY b, warehouse_id")
    flows = {(r[0], r[1]): [float(r[2] or 0) / 10000, float(r[3] or 0) / 10000]
             for r in sql_rows(session, sql, {**scope.params(), **p2})}
    return now, flows


def _per_bucket(session: Session, scope: Scope) -> list[tuple[str, str, float, float, int]]:
    """(bucket, warehouse, average value, COGS, days) for every bucket of the period up to today."""
    now, flows = value_flows(session, scope)
    whs = set(now) | {wh for _b, wh in flows}
    all_b = buckets(scope)
    later = sorted({b for b, _wh in flows if b not in all_b or b > all_b[-1]})
    out = []
    for wh in whs:
        value = now.get(wh, 0.0) - sum(flows.get((b, wh), [0, 0])[0] for b in later)
        rows = []
        for b in reversed(all_b):
            start, end = bucket_bounds(scope, b)
            end = min(end, scope.today + dt.timedelta(days=1))
            inflow, cogs = flows.get((b, wh), [0.0, 0.0])
            begin = value - inflow
            if end > start:
                rows.append((b, wh, max((begin + value) / 2, 0.0), cogs, (end - start).days))
            value = begin
        out += rows
    return out


def _group(scope: Scope, wh: str, branch_of: dict[str, str]) -> str:
    return wh if scope.by == "warehouse" else branch_of.get(wh, "") if scope.by == "branch" else ""


def _branches(session: Session) -> dict[str, str]:
    return {r[0]: r[1] for r in sql_rows(session, "SELECT id, branch_id FROM warehouse")}


def _turns(session: Session, scope: Scope) -> list[Fact]:
    br = _branches(session)
    return [(b, _group(scope, wh, br), cogs * 365, avg * days) for b, wh, avg, cogs, days in _per_bucket(session, scope)
            if _in_branches(scope, br.get(wh))]


def _days_of_supply(session: Session, scope: Scope) -> list[Fact]:
    br = _branches(session)
    return [(b, _group(scope, wh, br), avg * days, cogs) for b, wh, avg, cogs, days in _per_bucket(session, scope)
            if _in_branches(scope, br.get(wh))]


def _in_branches(scope: Scope, branch: str | None) -> bool:
    return scope.branches is None or branch in scope.branches


def _item_drill(session: Session, scope: Scope, bucket: str, group: str) -> list[dict[str, Any]]:
    """Items of the scope by value on hand, with what they sold in the period: slow movers first."""
    w, p = _where_wh(scope, "l.warehouse_id")
    if group and scope.by == "warehouse":
        w, p = " AND l.warehouse_id = :g", {"g": group}
    elif group and scope.by == "branch":
        w, p = " AND wa.branch_id = :g", {"g": group}
    sql = f"""
SELECT i.sku, i.description, wa.code, SUM(CASE WHEN l.kind IN {_INTERNAL} THEN b.qty ELSE 0 END) * i.standard_cost / 10000.0,
       (SELECT COALESCE(SUM(m.qty), 0) FROM stock_move m JOIN location lc ON lc.id = m.to_location_id
         WHERE m.item_id = i.id AND lc.kind = 'customer' AND lc.warehouse_id = wa.id
           AND m.moved_at >= :start_us AND m.moved_at < :end_us) * i.standard_cost / 10000.0
FROM stock_balance b JOIN location l ON l.id = b.location_id JOIN warehouse wa ON wa.id = l.warehouse_id
JOIN item i ON i.id = b.item_id
WHERE l.kind IN {_INTERNAL}{w}
GROUP BY i.id, wa.id HAVING SUM(b.qty) > 0
ORDER BY 4 DESC LIMIT 2000"""
    out = []
    for sku, desc, wh, value, cogs in sql_rows(session, sql, {**scope.params(), **p}):
        turns = (cogs * 365 / max(scope.days, 1)) / value if value else None
        out.append({"doc": sku, "at": "", "party": desc, "warehouse": wh,
                    "detail": f"on hand {value:,.2f}, sold at cost {cogs:,.2f} in the period",
                    "value": None if turns is None else round(turns, 2), "bad": not cogs})
    out.sort(key=lambda r: (not r["bad"], r["value"] if r["value"] is not None else 0.0))
    return out


register(Kpi(
    key="inventory_turns", title="Inventory turns", area="inventory", unit="x", kind="ratio", better="higher",
    target=6.0,
    definition="Cost of goods shipped to customers in the period, per year, divided by the average stock "
               "value on hand (standard cost) over the period",
    dims=frozenset({"branch", "warehouse"}), facts=_turns, drill=_item_drill,
))

register(Kpi(
    key="days_of_supply", title="Days of supply", area="inventory", unit="days", kind="ratio", better="lower",
    target=60.0,
    definition="Average stock value on hand over the period divided by the cost of goods shipped per day "
               "in it: how many days the stock lasts at the period's pace",
    dims=frozenset({"branch", "warehouse"}), facts=_days_of_supply, drill=_item_drill,
))
