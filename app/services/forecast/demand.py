"""The forecast run over the branch database: weekly demand per item x warehouse -> forecasts.

Reads ``sales_week`` (sales less reversals, plus imported legacy history, per Monday-based
week) for the ``weeks`` full weeks before the current one, forecasts every pair that sold in
that window with ``selection.run`` and rewrites the local-only ``demand_forecast`` table, which
the replenishment run reads. A pair's series starts at its first sale in the window (an item
first sold 10 weeks ago has 10 weeks of history, not 94 weeks of zeros before them). A week
whose returns exceed its sales (net negative) counts as zero: returns do not make future
demand negative; the run says how many weeks it clipped.
"""

from __future__ import annotations

import datetime as dt
import json
import math
import time
import uuid
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.forecasting import DemandForecast, ForecastRun
from app.models.org import Warehouse
from app.models.types import hex_of, iso_utc, utcnow
from app.services.auth import Actor
from app.services.db import raw_rows as _raw
from app.services.errors import NotFound, ValidationError
from app.services.forecast import selection as sel
from app.services.forecast.methods import F

DEFAULT_WEEKS = 104
DEFAULT_HORIZON = 13
WEEKLY_SEASON = 52


def week_of(day: dt.date) -> int:
    """Monday-based week number, as ``sales_week.week`` (Julian day number // 7)."""
    return (day.toordinal() + 1_721_425) // 7


def monday_of(week: int) -> dt.date:
    return dt.date.fromordinal(week * 7 - 1_721_425)



@dataclass
class WeeklyHistory:
    pairs: list[tuple[str, str]]  # (item hex, warehouse hex)
    Y: F  # pairs x weeks, NaN before each pair's first sale
    first_week: int
    clipped: int = 0


def weekly_history(session: Session, today: dt.date, weeks: int = DEFAULT_WEEKS) -> WeeklyHistory:
    """Weekly net sales of every pair that sold in the ``weeks`` full weeks before ``today``'s week.

    ``sales_week`` is clustered by (item, warehouse, week): the pairs with their row counts, then the
    rows' weeks and quantities, both in key order, place every row by ``np.repeat`` of the counts
    (no Python lookup per row: 1.5 million rows on the large seed)."""
    w1 = week_of(today)
    w0 = w1 - weeks
    window = "FROM sales_week WHERE week >= :w0 AND week < :w1"
    bounds = {"w0": w0, "w1": w1}
    groups = _raw(session, f"SELECT item_id, warehouse_id, count(*) {window} GROUP BY item_id, warehouse_id "
                           "ORDER BY item_id, warehouse_id", bounds)
    pairs = [(hex_of(it), hex_of(wh)) for it, wh, _n in groups]  # stored 16 bytes -> hex
    counts = np.fromiter((g[2] for g in groups), dtype=np.int64, count=len(groups))
    cells = _raw(session, f"SELECT week - :w0, qty {window} ORDER BY item_id, warehouse_id, week", bounds)
    pi = np.repeat(np.arange(len(pairs), dtype=np.int64), counts)
    wk = np.fromiter((c[0] for c in cells), dtype=np.int64, count=len(cells))
    qty = np.fromiter((c[1] for c in cells), dtype=np.float64, count=len(cells))
    Y = np.zeros((len(pairs), weeks))
    Y[pi, wk] = qty  # (pair, week) is the table's key: one row per cell
    clipped = int((Y < 0).sum())
    Y = np.maximum(Y, 0.0)
    # a series starts at its first sale (first positive week); before it, unknown
    pos = Y > 0
    start = np.where(pos.any(axis=1), pos.argmax(axis=1), weeks)
    Y[np.arange(weeks)[None, :] < start[:, None]] = np.nan
    return WeeklyHistory(pairs, Y, w0, clipped)


@dataclass
class RunSummary:
    series: int
    horizon: int
    first_week: dt.date
    origin_week: dt.date
    seconds_read: float
    seconds_forecast: float
    seconds_write: float
    classes: dict[str, int]
    methods: dict[str, int]
    mase_mean: float | None
    mase_median: float | None
    avg_rel_mae: float | None
    clipped_weeks: int
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {k: (v.isoformat() if isinstance(v, dt.date) else v) for k, v in self.__dict__.items()}


def _fig(x: float | None, nd: int = 4) -> float | None:
    return None if x is None or not math.isfinite(float(x)) else round(float(x), nd)


def backtest_accuracy(res: sel.Result, naive_mae: F | None = None) -> tuple[float | None, float | None]:
    """(mean, median) MASE of the chosen methods over series with a backtest and a scale."""
    ok = np.isfinite(res.mae) & np.isfinite(res.scale) & (res.scale > 0)
    if not ok.any():
        return None, None
    mase = res.mae[ok] / res.scale[ok]
    return float(mase.mean()), float(np.median(mase))


def _check(weeks: int, horizon: int) -> None:
    if not 8 <= int(weeks) <= 520:
        raise ValidationError("weeks", f"{weeks} must be between 8 and 520")
    if not 1 <= int(horizon) <= 104:
        raise ValidationError("horizon", f"{horizon} must be between 1 and 104 weeks")


def compute(hist: WeeklyHistory, horizon: int = DEFAULT_HORIZON,
            progress: Callable[[int, int], None] | None = None) -> sel.Result:
    """The numpy part: no database, no transaction (a background job runs it with none open)."""
    return sel.run(hist.Y, horizon, WEEKLY_SEASON, origins=3, step=max(1, min(horizon, 4)), progress=progress)


def run_forecasts(session: Session, actor: Actor | None, *, today: dt.date | None = None,
                  weeks: int = DEFAULT_WEEKS, horizon: int = DEFAULT_HORIZON,
                  progress: Callable[[int, int], None] | None = None) -> RunSummary:
    """Forecast every pair that sold in the window and rewrite ``demand_forecast``."""
    if actor is not None:
        actor.require("replenish.run")
    _check(weeks, horizon)
    t0 = time.perf_counter()
    hist = weekly_history(session, today or dt.date.today(), weeks)
    t1 = time.perf_counter()
    res = compute(hist, horizon, progress)
    return store(session, hist, res, horizon, seconds_read=t1 - t0, seconds_forecast=time.perf_counter() - t1)


def store(session: Session, hist: WeeklyHistory, res: sel.Result, horizon: int, *, seconds_read: float = 0.0,
          seconds_forecast: float = 0.0) -> RunSummary:
    """Rewrite ``demand_forecast`` with ``res`` and record the run (one write)."""
    t2 = time.perf_counter()
    weeks = hist.Y.shape[1]
    origin = hist.first_week + weeks
    now = utcnow()
    session.execute(delete(DemandForecast))
    path32 = res.path.astype("<f4")
    stamp = iso_utc(now)  # the stored form of the time as the ORM writes it (fixed-width ISO text)
    batch = [(bytes.fromhex(it), bytes.fromhex(wh), stamp, origin, horizon, path32[k].tobytes(), sel.METHODS[int(res.method[k])],
              sel.CLASSES[int(res.klass[k])], _fig(res.mae[k]), _fig(res.rmse[k]), _fig(res.scale[k]),
              int(res.known[k]), res.reason[k][:120]) for k, (it, wh) in enumerate(hist.pairs)]
    if batch:
        dbapi = session.connection().connection.dbapi_connection
        assert dbapi is not None
        cur = dbapi.cursor()
        try:
            cur.executemany("INSERT INTO demand_forecast (item_id, warehouse_id, computed_at, origin_week, horizon,"
                            " path, method, klass, mae, rmse, scale, weeks_known, reason)"
                            " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)", batch)
        finally:
            cur.close()
    mase_mean, mase_median = backtest_accuracy(res)
    classes = {sel.CLASSES[int(c)]: int(n) for c, n in zip(*np.unique(res.klass, return_counts=True), strict=True)}
    methods = {sel.METHODS[int(c)]: int(n) for c, n in zip(*np.unique(res.method, return_counts=True), strict=True)}
    rel = _rel_to_seasonal_naive(res)
    rel_demand = relative_mae(res, hist.Y)
    t3 = time.perf_counter()
    notes = []
    if hist.clipped:
        notes.append(f"{hist.clipped} pair-weeks with more returns than sales counted as zero demand")
    if not hist.pairs:
        notes.append(f"no sales in the {weeks} weeks before {monday_of(origin).isoformat()}: nothing to forecast")
    summary = RunSummary(
        series=len(hist.pairs), horizon=horizon, first_week=monday_of(hist.first_week), origin_week=monday_of(origin),
        seconds_read=round(seconds_read, 3), seconds_forecast=round(seconds_forecast, 3),
        seconds_write=round(t3 - t2, 3), classes=classes, methods=methods, mase_mean=_fig(mase_mean),
        mase_median=_fig(mase_median), avg_rel_mae=_fig(rel), clipped_weeks=hist.clipped, notes=notes)
    session.add(ForecastRun(run_at=now, series=summary.series,
                            seconds=round(seconds_read + seconds_forecast + t3 - t2, 3),
                            mase_mean=summary.mase_mean, mase_median=summary.mase_median,
                            avg_rel_mae=summary.avg_rel_mae,
                            detail=json.dumps({"classes": classes, "methods": methods, "horizon": horizon,
                                               "weeks": weeks, "notes": notes,
                                               "rel_mae_to_demand": _fig(rel_demand)})))
    session.flush()
    return summary


def relative_mae(res: sel.Result, Y: F) -> float | None:
    """The backtest's mean absolute error relative to mean demand, over the series that had a
    backtest: sum of their MAE per week / sum of their mean weekly demand (a weighted MAPE, so a
    slow mover's large relative error weighs as little as its demand). The dashboard's forecast
    accuracy is 1 minus it."""
    ok = np.isfinite(res.mae)
    if not ok.any() or not Y.size:
        return None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        mean = np.nanmean(np.where(np.isnan(Y), np.nan, np.maximum(Y, 0.0)), axis=1)
    ok &= np.isfinite(mean)
    total = float(mean[ok].sum())
    return float(res.mae[ok].sum()) / total if total > 0 else None


def _rel_to_seasonal_naive(res: sel.Result) -> float | None:
    """Geometric mean of (backtest MAE / in-sample naive scale): how the chosen methods compare
    with the naive change over the history (below 1: better than repeating the past)."""
    ok = np.isfinite(res.mae) & np.isfinite(res.scale) & (res.scale > 0) & (res.mae > 0)
    if not ok.any():
        return None
    return float(np.exp(np.mean(np.log(res.mae[ok] / res.scale[ok]))))


@dataclass(frozen=True)
class PairForecast:
    sku: str
    warehouse: str
    method: str
    klass: str
    weekly: list[float]
    origin: dt.date
    mae: float | None
    rmse: float | None
    mase: float | None
    weeks_known: int
    reason: str
    computed_at: dt.datetime

    def as_dict(self) -> dict[str, Any]:
        return {"sku": self.sku, "warehouse": self.warehouse, "method": self.method, "class": self.klass,
                "weekly": self.weekly, "origin": self.origin.isoformat(), "mae": self.mae, "rmse": self.rmse,
                "mase": self.mase, "weeks_known": self.weeks_known, "reason": self.reason,
                "computed_at": self.computed_at.isoformat()}


def pair_forecast(session: Session, sku: str, warehouse: str) -> PairForecast | None:
    """The stored forecast of one item at one warehouse (None when the run made none)."""
    item = session.scalar(select(Item).where(Item.sku == sku.strip().upper(), Item.deleted_at.is_(None)))
    if item is None:
        raise NotFound("item", sku.strip().upper())
    wh = session.scalar(select(Warehouse).where(Warehouse.code == warehouse.strip().upper(),
                                                Warehouse.deleted_at.is_(None)))
    if wh is None:
        raise NotFound("warehouse", warehouse.strip().upper())
    row = session.get(DemandForecast, (item.id, wh.id))
    if row is None:
        return None
    path = [round(float(v), 2) for v in np.frombuffer(row.path, dtype="<f4")]
    mase = (row.mae / row.scale) if row.mae is not None and row.scale else None
    return PairForecast(item.sku, wh.code, row.method, row.klass, path, monday_of(row.origin_week), row.mae, row.rmse,
                        _fig(mase), row.weeks_known, row.reason, row.computed_at)


@dataclass(frozen=True)
class Accuracy:
    """The dashboard's forecast-accuracy figure (from the newest forecast run)."""

    run_at: dt.datetime | None
    series: int
    mase_mean: float | None
    mase_median: float | None
    rel_naive: float | None
    text: str


def accuracy(session: Session) -> Accuracy:
    """The newest run's backtest accuracy, as one sentence and its figures."""
    run = session.scalars(select(ForecastRun).order_by(ForecastRun.id.desc()).limit(1)).first()
    if run is None:
        return Accuracy(None, 0, None, None, None, "no forecast run yet (depot forecast run)")
    if run.mase_mean is None:
        return Accuracy(run.run_at, run.series, None, None, None,
                        f"{run.series} series forecast; none had enough history for a backtest")
    return Accuracy(run.run_at, run.series, run.mase_mean, run.mase_median, run.avg_rel_mae,
                    f"MASE {run.mase_mean:.2f} (median {run.mase_median:.2f}) over {run.series} series, "
                    "backtest of the chosen methods")


def item_ids(pairs: list[tuple[str, str]]) -> list[uuid.UUID]:
    return [uuid.UUID(i) for i, _w in pairs]
