"""What a KPI is, the registry of them, and the scope they are computed over.

A KPI is declared once, as data (``Kpi``), in the module of its area (``purchasing``, ``sales``
...), and registered with ``register``. Most are one SQL statement that yields one row per document
behind the figure (a PO line, an order, a shipment) with a numerator and a denominator: the figure
of any slice is ``SUM(num) / SUM(den)``, so the same statement gives the trend per month, the split
by warehouse or supplier, and the drill-down rows, and a rate can never pass 100 % (``num <= den``
on every row). A KPI whose figure is not a sum of rows gives a ``facts`` function instead.

The row statement selects these columns (NULL where it does not apply): ``at`` (ISO date or time of
the event the row is counted at), ``wh`` (warehouse id), ``br`` (branch id), ``supplier``,
``customer``, ``carrier`` (ids), ``num``, ``den``; and for people: ``doc`` (the document's number),
``party`` (who), ``detail`` (why it counts as it does) and ``bad`` (1 when the row hurts the figure:
the late PO line, the short line). ``:start`` and ``:end`` are bound to the period.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.models.stamps import day_micros
from app.services.errors import ValidationError
from app.services.id_storage import hex_row, stored_params

#: what a KPI may be sliced by (besides the period)
DIMENSIONS = ("branch", "warehouse", "supplier", "customer", "carrier")
#: how a figure is shown: a percentage, a duration, money, a count, a multiple
UNITS = ("%", "days", "hours", "money", "count", "x")

#: a fact: (bucket, group key or "", numerator, denominator)
Fact = tuple[str, str, float, float]


@dataclass(frozen=True)
class Scope:
    """The period and the slice asked for.

    ``start`` inclusive, ``end`` exclusive (dates); ``bucket`` is 'month' or 'week';
    ``warehouses`` limits to those warehouse ids (None: every one the database holds, i.e. all
    branches at head office); ``supplier`` / ``customer`` / ``carrier`` limit to one party;
    ``by`` groups by a dimension ('' = one figure).
    """

    start: dt.date
    end: dt.date
    bucket: str = "month"
    warehouses: tuple[str, ...] | None = None
    branches: tuple[str, ...] | None = None
    supplier: str | None = None
    customer: str | None = None
    carrier: str | None = None
    by: str = ""
    #: "now" for snapshot figures (tests pin it)
    today: dt.date = field(default_factory=lambda: dt.datetime.now(dt.UTC).date())

    @property
    def days(self) -> int:
        return (self.end - self.start).days

    def params(self) -> dict[str, Any]:
        # ``*_us``: the same bounds for times stored as numbers (``stamps``: stock_move.moved_at)
        return {"start": self.start.isoformat(), "end": self.end.isoformat(),
                "today": (self.today + dt.timedelta(days=1)).isoformat(),
                "start_us": day_micros(self.start), "end_us": day_micros(self.end)}


@dataclass(frozen=True)
class Kpi:
    """One figure. ``kind``: 'ratio' (num/den, x100 for %), 'sum' (num), 'mean' (num/den).

    ``total``: how the period's figure is made from its buckets: 'sum' (of num and den) or 'last'
    (a stock figure: the last bucket's). ``needs`` names the capability the figure depends on and
    ``in_use`` says whether this database uses it (else the figure says "no data: <needs> not in
    use" instead of zero).
    """

    key: str
    title: str
    area: str
    unit: str
    kind: str
    better: str  # 'higher' or 'lower'
    definition: str
    dims: frozenset[str]
    rows_sql: str = ""
    facts: Callable[[Session, Scope], list[Fact]] | None = None
    drill: Callable[[Session, Scope, str, str], list[dict[str, Any]]] | None = None
    total: str = "sum"
    needs: str = ""
    in_use: Callable[[Session], bool] | None = None
    #: default target (Settings > Dashboard overrides it); None = no target
    target: float | None = None
    #: who may see it (app.services.auth roles); empty = everyone who may open the dashboard
    roles: frozenset[str] = frozenset()
    scale: float = 1.0
    #: a figure of now only (no history): the buckets before today's show no value
    snapshot: bool = False
    #: a lighter statement for the figures (the same rows without the joins people read), when
    #: the row statement's joins would cost: same columns at, wh, br, supplier, customer, carrier,
    #: num, den
    facts_sql: str = ""
    #: KPIs with the same ``share`` read one statement (``facts_sql``) in one pass; each names its
    #: own numerator and denominator expressions over its columns
    share: tuple[str, str, str] | None = None


REGISTRY: dict[str, Kpi] = {}


def register(kpi: Kpi) -> Kpi:
    """Add a KPI to the registry (its area module calls this at import)."""
    assert kpi.unit in UNITS and kpi.kind in ("ratio", "sum", "mean") and kpi.total in ("sum", "last")
    assert kpi.dims <= set(DIMENSIONS), kpi.dims
    assert kpi.rows_sql or kpi.facts, kpi.key
    REGISTRY[kpi.key] = kpi
    return kpi


def sql_rows(session: Session, sql: str, params: Any = ()) -> list[tuple[Any, ...]]:
    """Every raw statement of the KPI layer: ids stay 32-hex text in Python (scopes, group keys,
    labels, the dashboard's exports and the JSON cache), and are the 16 bytes SQLite stores only
    at the statement's parameters and results (``id_storage``). A hex id bound as text would match
    no stored id and raise nothing."""
    return [hex_row(r) for r in session.connection().exec_driver_sql(sql, stored_params(params))]


def table_exists(session: Session, name: str) -> bool:
    return bool(sql_rows(session, "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = ?", (name,)))


def any_row(session: Session, sql: str) -> bool:
    return bool(sql_rows(session, sql))


# --- periods and buckets ----------------------------------------------------------------------

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")
_YEAR = re.compile(r"^(\d{4})$")
_LAST = re.compile(r"^(\d{1,3})([dwmy])$")
_DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")


def add_months(d: dt.date, n: int) -> dt.date:
    y, m = divmod(d.month - 1 + n, 12)
    return dt.date(d.year + y, m + 1, 1)


def parse_period(text: str, today: dt.date) -> tuple[dt.date, dt.date]:
    """'12m' (this month and the 11 before), '90d', '8w', '2y', 'ytd', '2026', '2026-03',
    '2026-01..2026-06', '2026-01-15..2026-02-15' -> (start, end exclusive)."""
    t = (text or "12m").strip().lower()
    if ".." in t:
        a, b = (p.strip() for p in t.split("..", 1))
        start = _period_start(a, text)
        end = _period_end(b, text)
        if end <= start:
            raise ValidationError("period", f"{text!r} ends before it starts")
        return start, end
    if t == "ytd":
        return dt.date(today.year, 1, 1), today + dt.timedelta(days=1)
    if m := _LAST.match(t):
        n, unit = int(m.group(1)), m.group(2)
        if n < 1:
            raise ValidationError("period", f"{text!r}: give at least one {unit}")
        end = today + dt.timedelta(days=1)
        if unit == "d":
            return end - dt.timedelta(days=n), end
        if unit == "w":
            return end - dt.timedelta(weeks=n), end
        months = n if unit == "m" else 12 * n
        return add_months(today.replace(day=1), -(months - 1)), end
    return _period_start(t, text), _period_end(t, text)


def _period_start(t: str, text: str) -> dt.date:
    try:
        if _DAY.match(t):
            return dt.date.fromisoformat(t)
        if m := _MONTH.match(t):
            return dt.date(int(m.group(1)), int(m.group(2)), 1)
        if m := _YEAR.match(t):
            return dt.date(int(m.group(1)), 1, 1)
    except ValueError:
        pass
    raise ValidationError("period", f"{text!r} is not a period (try 12m, 90d, ytd, 2026, 2026-03 or "
                                    "2026-01..2026-06)")


def _period_end(t: str, text: str) -> dt.date:
    start = _period_start(t, text)
    if _DAY.match(t):
        return start + dt.timedelta(days=1)
    if _MONTH.match(t):
        return add_months(start, 1)
    return dt.date(start.year + 1, 1, 1)


def auto_bucket(start: dt.date, end: dt.date) -> str:
    """Weeks for a period up to about three months, months beyond."""
    return "week" if (end - start).days <= 95 else "month"


def bucket_sql(bucket: str, col: str = "at") -> str:
    if bucket == "week":  # the Monday the week starts on
        return f"date(substr({col}, 1, 10), '-6 days', 'weekday 1')"
    return f"substr({col}, 1, 7)"


def bucket_of(bucket: str, d: dt.date) -> str:
    if bucket == "week":
        return (d - dt.timedelta(days=d.weekday())).isoformat()
    return d.isoformat()[:7]


def buckets(scope: Scope) -> list[str]:
    """Every bucket of the period, in order (empty ones too: a gap is shown, not skipped)."""
    out: list[str] = []
    if scope.bucket == "week":
        d = scope.start - dt.timedelta(days=scope.start.weekday())
        while d < scope.end:
            out.append(d.isoformat())
            d += dt.timedelta(weeks=1)
        return out
    d = scope.start.replace(day=1)
    while d < scope.end:
        out.append(d.isoformat()[:7])
        d = add_months(d, 1)
    return out


def bucket_bounds(scope: Scope, b: str) -> tuple[dt.date, dt.date]:
    """The dates a bucket covers, clipped to the period."""
    if scope.bucket == "week":
        s = dt.date.fromisoformat(b)
        e = s + dt.timedelta(weeks=1)
    else:
        s = dt.date(int(b[:4]), int(b[5:7]), 1)
        e = add_months(s, 1)
    return max(s, scope.start), min(e, scope.end)


def month_days(b: str) -> int:
    return calendar.monthrange(int(b[:4]), int(b[5:7]))[1]


def hexid(v: object) -> str:
    """An id as the KPI layer keeps it (32 hex characters; ``sql_rows`` binds it as stored)."""
    return v.hex if isinstance(v, uuid.UUID) else str(v)
