"""Compute KPIs over a scope: the figure, its trend per bucket, its split by a dimension, and the
rows behind any point (drill-down). The screen, ``depot kpi`` and the tests all call this.

Never a NaN, an infinity or a rate above 100 %: a figure with nothing to divide by is "no data"
with a reason, a rate is capped at 100 % (it cannot pass it by construction, the cap is a guard),
a period that has not started says so, and a KPI whose capability is not in use says which.
"""

from __future__ import annotations

import datetime as dt
import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from typing import Any

from sqlalchemy.orm import Session

from app.services.errors import ValidationError
from app.services.kpi import catalog
from app.services.kpi.core import (
    DIMENSIONS,
    REGISTRY,
    Fact,
    Kpi,
    Scope,
    bucket_bounds,
    bucket_sql,
    buckets,
    sql_rows,
)

#: the rows column each dimension groups and filters by
DIM_COLUMN = {"branch": "br", "warehouse": "wh", "supplier": "supplier", "customer": "customer",
              "carrier": "carrier"}
DRILL_LIMIT = 500
#: beyond this many days a period covers most of a digest: a plain scan beats its date index
SCAN_DAYS = 120


def sql_for(text: str, scope: Scope) -> str:
    """``{plus}`` before a dated column turns its index off for long periods (SQLite's unary +)."""
    return text.replace("{plus}", "+" if scope.days > SCAN_DAYS else "")

ProgressFn = Callable[[int, int, str], None]


@dataclass
class Point:
    bucket: str
    value: float | None
    num: float
    den: float


@dataclass
class Group:
    key: str
    label: str
    value: float | None
    num: float
    den: float
    series: list[Point]


@dataclass
class Figure:
    """One KPI over the scope. ``state``: 'ok', 'no_data' (nothing to count in the period) or
    'not_in_use' (the capability it needs is not used here); ``note`` says it in words."""

    key: str
    title: str
    area: str
    unit: str
    better: str
    definition: str
    value: float | None
    num: float
    den: float
    state: str
    note: str
    series: list[Point]
    groups: list[Group] = field(default_factory=list)
    target: float | None = None

    @property
    def meets_target(self) -> bool | None:
        if self.value is None or self.target is None:
            return None
        return self.value >= self.target if self.better == "higher" else self.value <= self.target

    def as_dict(self) -> dict[str, Any]:
        return {
            "key": self.key, "title": self.title, "area": self.area, "unit": self.unit, "better": self.better,
            "value": _round(self.value), "numerator": _round(self.num), "denominator": _round(self.den),
            "state": self.state, "note": self.note, "target": self.target, "meets_target": self.meets_target,
            "series": [{"bucket": p.bucket, "value": _round(p.value)} for p in self.series],
            "groups": [{"key": g.key, "label": g.label, "value": _round(g.value),
                        "series": [{"bucket": p.bucket, "value": _round(p.value)} for p in g.series]}
                       for g in self.groups],
        }


def _round(v: float | None) -> float | None:
    return None if v is None else round(v, 4)


def value_of(kpi: Kpi, num: float, den: float) -> float | None:
    """The figure from its sums; None (no data) when there is nothing to divide by."""
    if kpi.kind == "sum":
        v = num * kpi.scale
    else:
        if den <= 0:
            return None
        v = num / den * kpi.scale
        if kpi.unit == "%":
            v = min(v * 100.0, 100.0)
    if math.isnan(v) or math.isinf(v):
        return None
    return max(v, 0.0) if kpi.unit in ("%", "days", "hours", "count", "x") else v


def kpis_for(roles: Iterable[str] | None = None, keys: Iterable[str] | None = None) -> list[Kpi]:
    """The registered KPIs (in catalog order) the roles may see; ``keys`` picks some by key."""
    catalog.load()
    allowed = set(roles) if roles is not None else None
    order = {a: i for i, a in enumerate(catalog.AREAS)}
    out = [k for k in sorted(REGISTRY.values(), key=lambda k: order.get(k.area, len(order)))
           if allowed is None or not k.roles or allowed & k.roles or "admin" in allowed]
    if keys:
        wanted = list(keys)
        unknown = [k for k in wanted if k not in REGISTRY]
        if unknown:
            raise ValidationError("kpi", f"unknown KPI {', '.join(unknown)} (known: {', '.join(REGISTRY)})")
        out = [k for k in out if k.key in wanted]
        if not out:
            raise ValidationError("kpi", "your role may not see these KPIs")
    return out


def compute(session: Session, scope: Scope, *, roles: Iterable[str] | None = None,
            keys: Iterable[str] | None = None, targets: dict[str, float] | None = None,
            progress: ProgressFn | None = None) -> list[Figure]:
    """Every KPI the roles may see (or ``keys``) over ``scope``."""
    if scope.by and scope.by not in DIMENSIONS:
        raise ValidationError("by", f"cannot split by {scope.by!r} (choose {', '.join(DIMENSIONS)})")
    chosen = kpis_for(roles, keys)
    out: list[Figure] = []
    for i, kpi in enumerate(chosen):
        if progress:
            progress(i, len(chosen), kpi.title)
        fig = compute_one(session, kpi, scope)
        t = (targets or {}).get(kpi.key, kpi.target)
        fig.target = t
        out.append(fig)
    if progress:
        progress(len(chosen), len(chosen), "done")
    return out


def _unsupported(kpi: Kpi, scope: Scope) -> tuple[str, str, Scope]:
    """(why the figure cannot be given for this slice, a note for a figure given for a wider one,
    the scope to compute it over)."""
    for dim, val in (("supplier", scope.supplier), ("customer", scope.customer), ("carrier", scope.carrier)):
        if val and dim not in kpi.dims:
            return f"not kept per {dim}", "", scope
    note = ""
    if scope.by and scope.by not in kpi.dims:
        note = f"not split by {scope.by}"
        scope = replace(scope, by="")
    if (scope.branches is not None or scope.warehouses is not None) and not kpi.dims & {"branch", "warehouse"}:
        note = "for every branch of this database (not kept per branch)"
        scope = replace(scope, branches=None, warehouses=None)
    return "", note, scope


def compute_one(session: Session, kpi: Kpi, scope: Scope) -> Figure:
    fig = Figure(kpi.key, kpi.title, kpi.area, kpi.unit, kpi.better, kpi.definition, None, 0.0, 0.0,
                 "no_data", "", [])
    if kpi.in_use is not None and not kpi.in_use(session):
        fig.state, fig.note = "not_in_use", f"no data: {kpi.needs} not in use"
        return fig
    if scope.start > scope.today:
        fig.note = "no data: the period has not started"
        return fig
    why, wider, scope = _unsupported(kpi, scope)
    if why:
        fig.note = f"no data: {why}"
        return fig
    facts = kpi.facts(session, scope) if kpi.facts is not None else _sql_facts(session, kpi, scope)
    all_buckets = buckets(scope)
    per_bucket: dict[str, list[float]] = {b: [0.0, 0.0] for b in all_buckets}
    per_group: dict[str, dict[str, list[float]]] = {}
    for b, g, num, den in facts:
        if b not in per_bucket:
            continue
        per_bucket[b][0] += num
        per_bucket[b][1] += den
        if scope.by:
            cell = per_group.setdefault(g or "", {}).setdefault(b, [0.0, 0.0])
            cell[0] += num
            cell[1] += den
    fig.series = [_point(kpi, b, per_bucket[b][0], per_bucket[b][1], scope) for b in all_buckets]
    fig.num, fig.den = _total(kpi, fig.series, per_bucket)
    fig.value = value_of(kpi, fig.num, fig.den) if _has_rows(kpi, fig.series) else None
    if scope.by:
        labels = dimension_labels(session, scope.by, [g for g in per_group if g])
        for g, cells in sorted(per_group.items(), key=lambda kv: labels.get(kv[0], kv[0] or "~")):
            series = [_point(kpi, b, cells.get(b, [0.0, 0.0])[0], cells.get(b, [0.0, 0.0])[1], scope)
                      for b in all_buckets]
            num, den = _total(kpi, series, {b: cells.get(b, [0.0, 0.0]) for b in all_buckets})
            fig.groups.append(Group(g, labels.get(g, g or "(none)"), value_of(kpi, num, den)
                                    if _has_rows(kpi, series) else None, num, den, series))
    if fig.value is None:
        fig.note = "no data in this period"
    else:
        fig.state, fig.note = "ok", wider
    return fig


def _has_rows(kpi: Kpi, series: list[Point]) -> bool:
    return any(p.value is not None for p in series) if kpi.kind != "sum" else True


def _point(kpi: Kpi, b: str, num: float, den: float, scope: Scope) -> Point:  # noqa: D401
    start, _end = bucket_bounds(scope, b)
    if start > scope.today or (kpi.snapshot and bucket_bounds(scope, b)[1] <= scope.today):
        return Point(b, None, num, den)
    if kpi.kind == "sum":
        return Point(b, value_of(kpi, num, den), num, den)
    return Point(b, value_of(kpi, num, den) if den > 0 else None, num, den)


def _total(kpi: Kpi, series: list[Point], cells: dict[str, list[float]]) -> tuple[float, float]:
    if kpi.total == "last":
        for p in reversed(series):
            if p.value is not None:
                return p.num, p.den
        return 0.0, 0.0
    return sum(c[0] for c in cells.values()), sum(c[1] for c in cells.values())


# --- the generic row statement ----------------------------------------------------------------

def filter_sql(scope: Scope, *, wh: str = "wh", br: str = "br", supplier: str = "supplier",
               customer: str = "customer", carrier: str = "carrier") -> tuple[str, dict[str, Any]]:
    """`` AND ...`` limiting rows to the scope's branches/warehouses and party, with its params."""
    parts: list[str] = []
    params: dict[str, Any] = {}
    if scope.warehouses is not None or scope.branches is not None:
        whs = list(scope.warehouses or ())
        brs = list(scope.branches or ())
        ph_w = ", ".join(f":w{i}" for i in range(len(whs))) or "NULL"
        ph_b = ", ".join(f":b{i}" for i in range(len(brs))) or "NULL"
        parts.append(f"({wh} IN ({ph_w}) OR ({wh} IS NULL AND {br} IN ({ph_b})))")
        params.update({f"w{i}": w for i, w in enumerate(whs)})
        params.update({f"b{i}": b for i, b in enumerate(brs)})
    for col, val in ((supplier, scope.supplier), (customer, scope.customer), (carrier, scope.carrier)):
        if val:
            name = f"p_{col.replace('.', '_')}"
            parts.append(f"{col} = :{name}")
            params[name] = val
    return "".join(f" AND {p}" for p in parts), params


def _sql_facts(session: Session, kpi: Kpi, scope: Scope) -> list[Fact]:
    where, params = filter_sql(scope)
    group = DIM_COLUMN[scope.by] if scope.by else "''"
    if kpi.share is not None:
        return _shared_facts(session, kpi, scope, where, params, group)
    sql = (f"SELECT {bucket_sql(scope.bucket)} AS b, {group} AS g, SUM(num), SUM(den) "
           f"FROM ({sql_for(kpi.facts_sql or kpi.rows_sql, scope)}) WHERE at >= :start AND at < :end{where} GROUP BY b, g")
    rows = sql_rows(session, sql, {**scope.params(), **params})
    return [(r[0], r[1] or "", float(r[2] or 0), float(r[3] or 0)) for r in rows]


def _shared_facts(session: Session, kpi: Kpi, scope: Scope, where: str, params: dict[str, Any],
                  group: str) -> list[Fact]:
    """One pass over a statement several KPIs share; every KPI's sums kept for the same scope."""
    assert kpi.share is not None
    name, sql_text = kpi.share[0], sql_for(kpi.facts_sql, scope)
    memo = session.info.setdefault("kpi.shared", {})
    key = (name, scope)
    if key not in memo:
        peers = [k for k in REGISTRY.values() if k.share is not None and k.share[0] == name]
        sums = ", ".join(f"SUM({k.share[1]}), SUM({k.share[2]})" for k in peers if k.share)
        sql = (f"SELECT {bucket_sql(scope.bucket)} AS b, {group} AS g, {sums} "
               f"FROM ({sql_text}) WHERE at >= :start AND at < :end{where} GROUP BY b, g")
        rows = sql_rows(session, sql, {**scope.params(), **params})
        memo.clear()
        memo[key] = {k.key: [(r[0], r[1] or "", float(r[2 + 2 * i] or 0), float(r[3 + 2 * i] or 0)) for r in rows]
                     for i, k in enumerate(peers)}
    return list(memo[key][kpi.key])


# --- drill-down ---------------------------------------------------------------------------------

DRILL_COLUMNS = ("doc", "at", "party", "detail", "warehouse", "value", "bad")


def drill(session: Session, key: str, scope: Scope, bucket: str = "", group: str = "", *,
          limit: int = DRILL_LIMIT) -> tuple[list[dict[str, Any]], int]:
    """The rows behind one point: ``bucket`` ('' = the whole period), ``group`` (a key of
    ``scope.by``, '' = all). Rows that hurt the figure first. Returns (rows, how many in all)."""
    kpi = kpis_for(keys=[key])[0]
    if kpi.in_use is not None and not kpi.in_use(session):
        return [], 0
    if bucket:
        if bucket not in buckets(scope):
            raise ValidationError("bucket", f"{bucket!r} is not a {scope.bucket} of the period")
        start, end = bucket_bounds(scope, bucket)
        scope = Scope(start, end, scope.bucket, scope.warehouses, scope.branches, scope.supplier,
                      scope.customer, scope.carrier, scope.by, scope.today)
    if kpi.drill is not None:
        rows = kpi.drill(session, scope, bucket, group)
        return rows[:limit], len(rows)
    where, params = filter_sql(scope)
    if scope.by and group:
        where += f" AND {DIM_COLUMN[scope.by]} = :grp"
        params["grp"] = group
    base = f"FROM ({sql_for(kpi.rows_sql, scope)}) WHERE at >= :start AND at < :end{where}"
    allp = {**scope.params(), **params}
    total = int(sql_rows(session, f"SELECT COUNT(*) {base}", allp)[0][0] or 0)
    sql = (f"SELECT doc, at, party, detail, wh, num, den, bad {base} "
           f"ORDER BY bad DESC, at DESC LIMIT {int(limit)}")
    names = dimension_labels(session, "warehouse", [])
    out = []
    for doc, at, party, detail, wh, num, den, bad in sql_rows(session, sql, allp):
        out.append({"doc": doc or "", "at": str(at or "")[:16].replace("T", " "), "party": party or "",
                    "detail": detail or "", "warehouse": names.get(wh or "", ""),
                    "value": _row_value(kpi, float(num or 0), float(den or 0)), "bad": bool(bad)})
    return out, total


def _row_value(kpi: Kpi, num: float, den: float) -> float | None:
    if kpi.kind == "sum":
        return round(num * kpi.scale, 4)
    if den <= 0:
        return None
    v = num / den * kpi.scale
    return round(min(v * 100, 100.0) if kpi.unit == "%" else v, 4)


# --- names -----------------------------------------------------------------------------------

_LABEL_SQL = {
    "branch": "SELECT id, code FROM branch",
    "warehouse": "SELECT id, code FROM warehouse",
    "supplier": "SELECT id, code || ' ' || name FROM supplier",
    "customer": "SELECT id, code || ' ' || name FROM customer",
    "carrier": "SELECT id, code FROM carrier",
}


def dimension_labels(session: Session, dim: str, ids: list[str]) -> dict[str, str]:
    """Id (hex) -> what people call it, for the ids asked (all of them for branches, warehouses
    and carriers)."""
    sql = _LABEL_SQL[dim]
    if dim in ("branch", "warehouse", "carrier") or not ids:
        if dim in ("supplier", "customer"):
            return {}
        return {r[0]: r[1] for r in sql_rows(session, sql)}
    out: dict[str, str] = {}
    for i in range(0, len(ids), 500):
        chunk = ids[i:i + 500]
        ph = ", ".join("?" for _ in chunk)
        out.update({r[0]: r[1] for r in sql_rows(session, f"{sql} WHERE id IN ({ph})", tuple(chunk))})
    return out


def today_utc() -> dt.date:
    return dt.datetime.now(dt.UTC).date()
