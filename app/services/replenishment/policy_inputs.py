"""What the buyer's choices give a replenishment run: stored demand forecasts, fixed min/max and the
policy each pair follows, as (items x warehouses) arrays. Read here, computed with in engine.py."""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.models.types import hex_of
from app.services.db import has_table as _has_table
from app.services.db import raw_rows as _raw
from app.services.forecast.demand import week_of


@dataclass
class Stored:
    """Stored demand forecasts scattered into (items x warehouses) arrays (see stored_forecasts)."""

    has: Any
    d: Any
    sigma_d: Any
    weeks: Any
    row_of: Any  # (items x warehouses) index into rows, -1 for none
    rows: list[Any]

    def why(self, i: int, w: int) -> dict[str, Any]:
        r = self.rows[int(self.row_of[i, w])]
        return {"demand_source": "forecast", "forecast_method": str(r[5]), "forecast_class": str(r[6]),
                "forecast_weeks": int(self.weeks[i, w]), "forecast_mae": None if r[7] is None else float(r[7]),
                "forecast_note": str(r[9] or "")}


def stored_forecasts(session: Session, today: dt.date, item_ix: dict[str, int], wh_ix: dict[str, int],
                      shape: tuple[int, int], cover_days: Any) -> Stored | None:
    """Daily demand and deviation from the stored weekly forecasts (``demand_forecast``).

    d = the mean of the forecast weeks that cover lead time + review (from this week on) / 7;
    sigma_d = the backtest RMSE per week / sqrt(7) (NaN where the series had no backtest: the
    history's deviation stays). A forecast whose weeks have all passed is ignored.
    """
    if not _has_table(session, "demand_forecast"):
        return None
    rows = _raw(session, "SELECT item_id, warehouse_id, origin_week, horizon, path, method, klass, mae, rmse, reason"
                         " FROM demand_forecast")
    if not rows:
        return None
    has = np.zeros(shape, dtype=bool)
    d = np.zeros(shape)
    sd = np.full(shape, np.nan)
    weeks = np.zeros(shape, dtype=np.int64)
    row_of = np.full(shape, -1, dtype=np.int64)
    ii = np.fromiter((item_ix.get(hex_of(r[0]), -1) for r in rows), dtype=np.int64, count=len(rows))
    ww = np.fromiter((wh_ix.get(hex_of(r[1]), -1) for r in rows), dtype=np.int64, count=len(rows))
    H = max(int(r[3]) for r in rows)
    paths = np.zeros((len(rows), H))
    if all(int(r[3]) == H for r in rows):  # one horizon per run: the common case is one reshape
        paths = np.frombuffer(b"".join(r[4] for r in rows), dtype="<f4").reshape(len(rows), H).astype(np.float64)
    else:
        for k, r in enumerate(rows):
            p = np.frombuffer(r[4], dtype="<f4")
            paths[k, :len(p)] = p
    hz = np.fromiter((int(r[3]) for r in rows), dtype=np.int64, count=len(rows))
    off = np.maximum(week_of(today) - np.fromiter((int(r[2]) for r in rows), dtype=np.int64, count=len(rows)), 0)
    cover = np.asarray(cover_days, dtype=np.float64).reshape(-1)
    ok = (ii >= 0) & (ww >= 0) & (off < hz)
    need = np.clip(np.ceil(cover[np.maximum(ii, 0)] / 7.0).astype(np.int64), 1, None)
    n = np.minimum(need, hz - off)
    cs = np.concatenate([np.zeros((len(rows), 1)), np.cumsum(paths, axis=1)], axis=1)
    ar = np.arange(len(rows))
    lo = np.minimum(off, H)
    hi = np.minimum(off + np.maximum(n, 0), H)
    mean_w = (cs[ar, hi] - cs[ar, lo]) / np.maximum(n, 1)
    rmse = np.array([np.nan if r[8] is None else float(r[8]) for r in rows])
    sel = np.nonzero(ok)[0]
    has[ii[sel], ww[sel]] = True
    d[ii[sel], ww[sel]] = mean_w[sel] / 7.0
    sd[ii[sel], ww[sel]] = rmse[sel] / math.sqrt(7.0)
    weeks[ii[sel], ww[sel]] = n[sel]
    row_of[ii[sel], ww[sel]] = sel
    return Stored(has, d, sd, weeks, row_of, rows) if has.any() else None


def fixed_min_max(session: Session, item_ix: dict[str, int], wh_ix: dict[str, int],
                   shape: tuple[int, int]) -> tuple[Any, Any, Any, Any]:
    """(mask, min, max) arrays of the pairs with a fixed min/max policy (app.models.demand), and
    each pair's chosen policy ('' where the buyer chose none)."""
    fixed = np.zeros(shape, dtype=bool)
    lo = np.zeros(shape, dtype=np.float64)
    hi = np.zeros(shape, dtype=np.float64)
    chosen = np.full(shape, "", dtype=object)
    if not _has_table(session, "replenishment_policy"):
        return fixed, lo, hi, chosen
    rows = _raw(session, "SELECT item_id, warehouse_id, min_qty, max_qty, policy FROM replenishment_policy"
                         " WHERE deleted_at IS NULL")
    for item, wh, mn, mx, pol in rows:
        i, w = item_ix.get(hex_of(item)), wh_ix.get(hex_of(wh))
        if i is not None and w is not None:
            chosen[i, w] = str(pol)
            if pol == "fixed_minmax":
                fixed[i, w], lo[i, w], hi[i, w] = True, mn, mx
    return fixed, lo, hi, chosen


def policy_why(fixed: bool, from_forecast: bool, chosen: str) -> dict[str, Any]:
    """Which policy produced a line, and a word when the chosen one could not be followed."""
    out: dict[str, Any] = {"policy": "fixed_minmax" if fixed else "forecast" if from_forecast else "computed",
                           "policy_chosen": bool(chosen)}
    if chosen == "forecast" and not from_forecast and not fixed:
        out["forecast_note"] = ("forecast policy, but this pair has no current forecast (it did not sell in the "
                                "forecast window, or no run yet): computed from its sales history")
    return out
