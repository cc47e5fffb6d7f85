"""Receivables KPI: days sales outstanding (DSO).

Reads the receivables ledger (``receivable_entry``: invoices positive, payments and credits
negative). Until Depot issues invoices (or invoices are imported), there are no credit sales to
divide by, and the figure says so instead of showing zero.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from app.models.receivables import SALES_KINDS
from app.services.kpi.core import Fact, Kpi, Scope, any_row, bucket_bounds, buckets, register, sql_rows


def _filters(scope: Scope) -> tuple[str, dict[str, Any]]:
    sql, params = "", {}
    if scope.branches is not None:
        ph = ", ".join(f":b{i}" for i in range(len(scope.branches))) or "NULL"
        sql += f" AND owner_branch_id IN ({ph})"
        params.update({f"b{i}": b for i, b in enumerate(scope.branches)})
    if scope.customer:
        sql += " AND customer_id = :cust"
        params["cust"] = scope.customer
    return sql, params


def _dso(session: Session, scope: Scope) -> list[Fact]:
    """Per bucket: num = receivables open at its end x its days, den = invoiced in it; summed over
    buckets this is the average balance over the average day's sales (the count-back method's
    plain form). Imported open items (``opening``) are sales on their invoice date, as in
    ``billing.receivables.dso``: they are in the balance, so they must be in the sales too."""
    where, params = _filters(scope)
    group = {"branch": "owner_branch_id", "customer": "customer_id"}.get(scope.by, "''")
    opening = {r[0] or "": float(r[1] or 0) / 10000 for r in sql_rows(session,
        f"SELECT {group}, SUM(amount) FROM receivable_entry WHERE doc_date < :start{where} GROUP BY 1",
        {**scope.params(), **params})}
    moves: dict[tuple[str, str], list[float]] = {}
    for d, g, amount, sales in sql_rows(session,
            f"SELECT doc_date, {group}, SUM(amount), SUM(CASE WHEN kind IN {SALES_KINDS} THEN amount ELSE 0 END) "
            f"FROM receivable_entry WHERE doc_date >= :start AND doc_date < :end{where} GROUP BY 1, 2",
            {**scope.params(), **params}):
        moves.setdefault((d, g or ""), [0.0, 0.0])
        moves[(d, g or "")][0] += float(amount or 0) / 10000
        moves[(d, g or "")][1] += float(sales or 0) / 10000
    out: list[Fact] = []
    groups = set(opening) | {g for _d, g in moves}
    for g in groups:
        balance = opening.get(g, 0.0)
        for b in buckets(scope):
            s, e = bucket_bounds(scope, b)
            e = min(e, scope.today + dt.timedelta(days=1))
            if e <= s:
                continue
            inside = [v for (d, gg), v in moves.items() if gg == g and s.isoformat() <= d < e.isoformat()]
            balance += sum(v[0] for v in inside)
            sales = sum(v[1] for v in inside)
            out.append((b, g, max(balance, 0.0) * (e - s).days, sales))
    return out


def _drill(session: Session, scope: Scope, bucket: str, group: str) -> list[dict[str, Any]]:
    """Open documents at the end of the scope, oldest first."""
    where, params = _filters(scope)
    if group and scope.by in ("branch", "customer"):
        where += f" AND {'owner_branch_id' if scope.by == 'branch' else 'customer_id'} = :g"
        params["g"] = group
    sql = (f"SELECT r.doc_number, MIN(r.doc_date), c.name, SUM(r.amount) / 10000.0, MIN(r.due_date) "
           f"FROM receivable_entry r LEFT JOIN customer c ON c.id = r.customer_id "
           f"WHERE r.doc_date < :end{where.replace('owner_branch_id', 'r.owner_branch_id').replace('customer_id', 'r.customer_id')} "
           f"GROUP BY r.customer_id, r.doc_number HAVING SUM(r.amount) > 0 ORDER BY 2 LIMIT 2000")
    out = []
    for doc, d, name, amount, due in sql_rows(session, sql, {**scope.params(), **params}):
        late = bool(due and due < scope.end.isoformat())
        out.append({"doc": doc, "at": d, "party": name or "", "warehouse": "",
                    "detail": f"open {amount:,.2f}, due {due or '(no date)'}", "value": round(amount, 2),
                    "bad": late})
    return out


register(Kpi(
    key="dso", title="DSO", area="receivables", unit="days", kind="ratio", better="lower", target=45.0,
    needs="invoicing", roles=frozenset({"manager", "admin"}),
    in_use=lambda s: any_row(s, "SELECT 1 FROM receivable_entry WHERE kind = 'invoice' LIMIT 1"),
    definition="Days sales outstanding: receivables open at the end of each bucket times its days, over "
               "what was invoiced in it (summed over the period: the average balance over a day's sales)",
    dims=frozenset({"branch", "customer"}), facts=_dso, drill=_drill,
))
