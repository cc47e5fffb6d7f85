"""What each replenishment policy would have ordered over the last N months (issue 18).

A replay, week by week, of the pairs in scope against the demand that really came: every
policy reviews each week (the periodic review the worklist uses), orders up to its level
when the position is at or below its reorder point (fixed min/max: below min), rounds to
packs and the minimum order, and the order arrives after the supplier's lead time. Sales
that find no stock are lost (counted, not back-ordered). Each policy starts with its own
order-up-to level on hand, so the comparison is about the rule, not about the stock the
pair happened to hold N months ago.

* computed: d and sigma_d from the 26 weeks before each review;
* forecast: the forecast (app.services.forecast) made at the start of every 4 weeks from the
  history before it, its backtest RMSE as the deviation;
* fixed min/max: the pair's stored order point (pairs without one are left out of it).
"""

from __future__ import annotations

import datetime as dt
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.services.auth import Actor
from app.services.db import hex_raw_rows as raw_rows
from app.services.errors import ValidationError
from app.services.forecast import selection as sel
from app.services.forecast.demand import week_of
from app.services.replenishment import engine as en
from app.services.replenishment import figures as fg
from app.services.replenishment import reads as rd
from app.services.replenishment.config import class_settings
from app.services.replenishment.policy_inputs import fixed_min_max

HISTORY_WEEKS = 104
REFORECAST_WEEKS = 4


@dataclass
class PolicyOutcome:
    policy: str
    pairs: int
    orders: int
    units_ordered: int
    value_ordered: float
    avg_on_hand_units: float
    avg_on_hand_value: float
    fill_rate: float | None
    stockout_pair_weeks: int

    def as_dict(self) -> dict[str, Any]:
        """Values as money text (2 decimals: an estimate, not a posting); other figures rounded."""
        out: dict[str, Any] = {}
        for k, v in self.__dict__.items():
            out[k] = f"{v:.2f}" if k.endswith("_value") or k == "value_ordered" else (
                round(v, 4) if isinstance(v, float) else v)
        return out


@dataclass
class PolicyReport:
    months: int
    weeks: int
    first_week: dt.date
    pairs: int
    outcomes: list[PolicyOutcome]
    per_pair: list[dict[str, Any]] = field(default_factory=list)
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {"months": self.months, "weeks": self.weeks, "first_week": self.first_week.isoformat(),
                "pairs": self.pairs, "seconds": round(self.seconds, 2), "notes": self.notes,
                "policies": [o.as_dict() for o in self.outcomes], "per_pair": self.per_pair}


def policy_report(session: Session, actor: Actor | None, *, months: int = 6, warehouse_code: str | None = None,
                  branch_code: str | None = None, skus: list[str] | None = None,
                  today: dt.date | None = None) -> PolicyReport:
    """Replay the last ``months`` under each policy for the pairs that sold in scope."""
    if actor is not None:
        actor.require("replenish.run")
    if not 1 <= months <= 24:
        raise ValidationError("months", f"{months} must be between 1 and 24")
    t0 = time.perf_counter()
    today = today or dt.date.today()
    scope = en._resolve_scope(session, actor, branch_code, warehouse_code)
    W = int(round(months * 52 / 12))
    cur = week_of(today)
    first = cur - W
    start = first - HISTORY_WEEKS
    wanted = {s.strip().upper() for s in skus or []}
    item_ix = {h: i for i, (h, sku, *_r) in enumerate(scope.items) if not wanted or sku in wanted}
    targets = {scope.warehouses[k][0]: k for k in scope.targets}
    rows = raw_rows(session, "SELECT item_id, warehouse_id, week, qty FROM sales_week WHERE week >= :a AND week < :b",
                   {"a": start, "b": cur})
    pairs: dict[tuple[int, int], int] = {}
    for it, wh, _w, _q in rows:
        i, w = item_ix.get(str(it)), targets.get(str(wh))
        if i is not None and w is not None:
            pairs.setdefault((i, w), len(pairs))
    if wanted and not pairs:
        raise ValidationError("sku", f"{', '.join(sorted(wanted))} sold nothing in scope in the last "
                              f"{HISTORY_WEEKS + W} weeks")
    P = len(pairs)
    D = np.zeros((P, HISTORY_WEEKS + W))
    for it, wh, w, q in rows:
        k = pairs.get((item_ix.get(str(it), -1), targets.get(str(wh), -1)))
        if k is not None:
            D[k, int(w) - start] += float(q)
    D = np.maximum(D, 0.0)
    keys = list(pairs)
    classes = class_settings(session)
    sources = rd.sources(session)
    z = np.empty(P); review = np.empty(P); lt = np.empty(P); slt = np.empty(P)  # noqa: E702
    pack = np.ones(P); moq = np.ones(P); price = np.zeros(P)  # noqa: E702
    for k, (i, _w) in enumerate(keys):
        v = scope.items[i][3] if scope.items[i][3] in classes else "C"
        z[k], review[k] = fg.z_for(classes[v][0]), classes[v][1]
        src = sources.get(scope.items[i][0])
        s = rd.source_of(src) if src else None
        lt[k], slt[k] = (s.lead_time_days, s.lead_time_sd) if s else (7.0, 0.0)
        pack[k], moq[k] = (s.pack_size, s.min_order) if s else (1, 1)
        price[k] = float(s.unit_price) if s else 0.0
    fixed, fmin, fmax, _chosen = fixed_min_max(session, {scope.items[i][0]: i for i in range(len(scope.items))},
                                                     {w[0]: j for j, w in enumerate(scope.warehouses)},
                                                     (len(scope.items), len(scope.warehouses)))
    fx = np.array([fixed[i, w] for i, w in keys], dtype=bool) if P else np.zeros(0, dtype=bool)
    lo = np.array([fmin[i, w] for i, w in keys]) if P else np.zeros(0)
    hi = np.array([fmax[i, w] for i, w in keys]) if P else np.zeros(0)
    lead_weeks = np.maximum(np.ceil(lt / 7.0), 1).astype(np.int64)

    def computed_levels(t: int) -> tuple[Any, Any]:
        hist = D[:, HISTORY_WEEKS + t - 26:HISTORY_WEEKS + t]
        d, sd = fg.demand_from_weeks(hist.sum(axis=1), (hist * hist).sum(axis=1), 26)
        _ss, rop, oul = fg.levels(z, d, sd, lt, slt, review)
        return rop, oul

    forecast_cache: dict[int, tuple[Any, Any]] = {}

    def forecast_levels(t: int) -> tuple[Any, Any]:
        t4 = t - t % REFORECAST_WEEKS
        if t4 not in forecast_cache:
            Y = D[:, :HISTORY_WEEKS + t4].copy()
            pos = Y > 0
            first_sale = np.where(pos.any(axis=1), pos.argmax(axis=1), Y.shape[1])
            Y[np.arange(Y.shape[1])[None, :] < first_sale[:, None]] = np.nan
            res = sel.run(Y, 13, 52, origins=3, step=4)
            n = np.clip(np.ceil((lt + review) / 7.0).astype(np.int64), 1, 13)
            cs = np.concatenate([np.zeros((P, 1)), np.cumsum(res.path, axis=1)], axis=1)
            d = cs[np.arange(P), n] / n / 7.0
            rm = np.where(np.isfinite(res.rmse), res.rmse, 0.0)
            _ss, rop, oul = fg.levels(z, d, rm / math.sqrt(7.0), lt, slt, review)
            forecast_cache[t4] = (rop, oul)
        return forecast_cache[t4]

    def fixed_levels(_t: int) -> tuple[Any, Any]:
        return lo, hi

    outcomes = []
    per_pair: dict[int, dict[str, Any]] = {}
    for name, levels, mask in (("forecast", forecast_levels, np.ones(P, dtype=bool)),
                               ("computed", computed_levels, np.ones(P, dtype=bool)),
                               ("fixed min/max", fixed_levels, fx)):
        out, pp = _simulate(D[:, HISTORY_WEEKS:], levels, mask, fx if name == "fixed min/max" else None,
                            lead_weeks, pack, moq, price, name)
        outcomes.append(out)
        if wanted:
            for k in range(P):
                if mask[k]:
                    per_pair.setdefault(k, {"sku": scope.items[keys[k][0]][1],
                                            "warehouse": scope.warehouses[keys[k][1]][1]})[name] = pp[k]
    notes = []
    if not fx.any():
        notes.append("no pair in scope has a fixed min/max (depot import order-points, or the worklist's Policy…)")
    return PolicyReport(months, W, dt.date.fromordinal(first * 7 - 1_721_425), P, outcomes, list(per_pair.values()),
                        time.perf_counter() - t0, notes)


def _simulate(demand: Any, levels: Any, mask: Any, strict: Any, lead_weeks: Any, pack: Any, moq: Any, price: Any,
              name: str) -> tuple[PolicyOutcome, dict[int, dict[str, Any]]]:
    """Weekly review with lost sales, vectorised over pairs; ``strict`` marks below-min ordering."""
    P, W = demand.shape
    rop0, oul0 = levels(0)
    on_hand = np.where(mask, np.ceil(np.maximum(oul0, 0)), 0.0)
    pipe = np.zeros((P, W + int(lead_weeks.max(initial=1)) + 2))
    orders = np.zeros(P)
    units = np.zeros(P)
    sold_tot = np.zeros(P)
    dem_tot = np.zeros(P)
    oh_sum = np.zeros(P)
    short_weeks = np.zeros(P)
    rows = np.arange(P)
    for t in range(W):
        on_hand += pipe[:, t]
        rop, oul = levels(t)
        position = on_hand + pipe[:, t + 1:].sum(axis=1)
        due = (position < rop) if strict is not None else (position <= rop)
        raw = np.ceil(oul - position - 1e-9)
        need = mask & due & (raw > 0)
        q = np.ceil(raw / pack) * pack
        q = np.maximum(q, np.ceil(moq / pack) * pack)
        q = np.where(need, q, 0.0)
        pipe[rows, t + lead_weeks] += q
        orders += need
        units += q
        d = demand[:, t] * mask
        sold = np.minimum(on_hand, d)
        on_hand -= sold
        sold_tot += sold
        dem_tot += d
        short_weeks += (d > sold)
        oh_sum += on_hand
    n = int(mask.sum())
    total_dem = float(dem_tot[mask].sum())
    out = PolicyOutcome(name, n, int(orders[mask].sum()), int(units[mask].sum()),
                        float((units * price)[mask].sum()), float(oh_sum[mask].sum() / max(W, 1)),
                        float((oh_sum * price)[mask].sum() / max(W, 1)),
                        float(sold_tot[mask].sum() / total_dem) if total_dem > 0 else None,
                        int(short_weeks[mask].sum()))
    per = {k: {"orders": int(orders[k]), "units": int(units[k]), "avg_on_hand": round(float(oh_sum[k] / max(W, 1)), 1),
               "fill_rate": round(float(sold_tot[k] / dem_tot[k]), 3) if dem_tot[k] > 0 else None}
           for k in range(P) if mask[k]}
    return out, per
