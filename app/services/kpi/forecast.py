"""Forecast KPI: accuracy of the demand forecasts, from each forecast run's backtest.

Forecasts are computed per site (``forecast_run`` is local), so the figure covers the warehouses
this database forecasts for; it is not split by branch.
"""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

from sqlalchemy.orm import Session

from app.services.kpi.core import Fact, Kpi, Scope, any_row, bucket_of, register, sql_rows


def _runs(session: Session, scope: Scope) -> list[tuple[Any, ...]]:
    """(run_at, MAE relative to mean demand, median MASE, series) of the runs that recorded the
    relative MAE (``demand.relative_mae``, in the run's detail). Not ``avg_rel_mae``: that is the
    geometric mean of MAE over the naive's in-sample error (below 1 beats repeating the past),
    not an error relative to demand, and 1 minus it is no accuracy."""
    rows = sql_rows(session,
        "SELECT run_at, detail, mase_median, series FROM forecast_run WHERE run_at >= :start AND run_at < :end "
        "ORDER BY run_at", scope.params())
    out = []
    for run_at, detail, mase, n in rows:
        try:
            rel = json.loads(detail or "{}").get("rel_mae_to_demand")
        except (ValueError, AttributeError):
            rel = None
        if isinstance(rel, int | float):
            out.append((run_at, float(rel), mase, n))
    return out


def _facts(session: Session, scope: Scope) -> list[Fact]:
    out: list[Fact] = []
    for run_at, rel, _mase, _n in _runs(session, scope):
        b = bucket_of(scope.bucket, dt.date.fromisoformat(run_at[:10]))
        out.append((b, "", min(max(1.0 - float(rel), 0.0), 1.0), 1.0))
    return out


def _drill(session: Session, scope: Scope, bucket: str, group: str) -> list[dict[str, Any]]:
    return [{"doc": f"forecast run {run_at[:16].replace('T', ' ')}", "at": run_at[:16].replace("T", " "),
             "party": f"{n} series", "warehouse": "",
             "detail": f"mean relative error {float(rel):.1%}, median MASE {mase if mase is None else round(mase, 3)}",
             "value": round(max(1 - float(rel), 0.0) * 100, 2), "bad": float(rel) > 0.5}
            for run_at, rel, mase, n in reversed(_runs(session, scope))]


register(Kpi(
    key="forecast_accuracy", title="Forecast accuracy", area="forecast", unit="%", kind="ratio", better="higher",
    target=60.0, needs="forecasting", total="last",
    in_use=lambda s: any_row(s, "SELECT 1 FROM forecast_run LIMIT 1"),
    definition="1 - the mean absolute error of the held-back weeks relative to mean demand, over the series "
               "of a forecast run (the backtest of each run; the period's figure is its last run's)",
    dims=frozenset(), facts=_facts, drill=_drill,
))
