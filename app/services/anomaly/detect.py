"""Robust anomaly tests on plain arrays: no database, so they are measured on injected anomalies.

Every test compares a recent figure with its own history using the median and the MAD
(median absolute deviation, x 1.4826 so it estimates a standard deviation for normal data),
which a few past outliers do not drag the way a mean and standard deviation are dragged.
Each finding says how unusual it is as a robust z (how many robust deviations away) and in
the figure's own units, so a person can judge it.

* demand spikes: a pair's last week against its previous weeks (median/MAD, with a Poisson
  floor so a slow seller's single extra unit is not a spike);
* supplier lead-time drift: the median of a supplier's recent receipts against its older ones
  (the difference of two medians, each with its standard error ~1.25 sd / sqrt(n));
* freight cost per unit by lane: one shipment's cost per unit against what its lane charges per
  unit for that many units (on a log scale: costs are skewed, and a parcel costs more per unit
  than a pallet);
* pick errors by picker or zone: the recent error rate against the picker's own past rate (a
  binomial z, since the counts are small), that past rate shrunk toward the rate of its group
  (the warehouse's pickers, or its zones) by ``PRIOR_PICKS`` picks, and the z widened by the
  past rate's own uncertainty: a thin baseline (a new picker, a quiet zone) needs a bigger jump.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float64]
MAD_K = 1.4826


@dataclass(frozen=True)
class Finding:
    kind: str  # demand_spike, lead_time_drift, freight_cost, pick_errors
    key: tuple[str, ...]  # what it is about (pair, supplier, lane + shipment, picker)
    value: float
    baseline: float
    z: float
    why: str


def robust_center_scale(x: F, axis: int = -1) -> tuple[F, F]:
    """Median and MAD-based deviation along ``axis``, ignoring NaN."""
    med = np.nanmedian(x, axis=axis, keepdims=True)
    mad = np.nanmedian(np.abs(x - med), axis=axis, keepdims=True)
    return np.squeeze(med, axis=axis), np.squeeze(MAD_K * mad, axis=axis)


def demand_spikes(keys: Sequence[tuple[str, ...]], history: F, last: F, *, z_min: float = 5.0,
                  min_units: float = 10.0) -> list[Finding]:
    """Pairs whose ``last`` week is far above their ``history`` weeks (pairs x weeks).

    The baseline is the weeks that sold (a slow mover's usual order, not its many zero weeks),
    with a Poisson floor on the deviation; a spike must also beat the largest week seen."""
    if not len(keys):
        return []
    sold = np.where(history > 0, history, np.nan)
    with np.errstate(invalid="ignore"), warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        med, sd = robust_center_scale(sold, axis=1)
        mean = np.nanmean(history, axis=1)
    med = np.nan_to_num(med)
    mean = np.nan_to_num(mean)
    top = np.max(np.nan_to_num(history), axis=1)
    scale = np.maximum(np.nan_to_num(sd), np.sqrt(np.maximum(med, 1.0)))
    z = (last - med) / scale
    hit = (z >= z_min) & (last >= min_units) & (last > 1.5 * top)
    out = []
    for i in np.nonzero(hit)[0]:
        out.append(Finding("demand_spike", keys[int(i)], float(last[i]), float(med[i]), float(z[i]),
                           f"{last[i]:g} sold last week against a usual {med[i]:g} a selling week (largest of "
                           f"{history.shape[1]} weeks {top[i]:g}): {z[i]:.1f} robust deviations above"))
    return out


def lead_time_drift(keys: list[str], older: list[F], recent: list[F], *, z_min: float = 3.0,
                    min_days: float = 2.0, min_recent: int = 3, min_older: int = 5) -> list[Finding]:
    """Suppliers whose recent receipts' lead times (days) moved away from their older ones."""
    out = []
    for k, old, new in zip(keys, older, recent, strict=True):
        old = old[np.isfinite(old)]
        new = new[np.isfinite(new)]
        if len(new) < min_recent or len(old) < min_older:
            continue
        m_old = float(np.median(old))
        # a MAD of whole days from few receipts can be tiny: at least half a day or 10 % of the median
        sd = max(MAD_K * float(np.median(np.abs(old - m_old))), 0.5, 0.1 * m_old)
        m_new = float(np.median(new))
        shift = m_new - m_old
        # the standard error of a difference of two medians (each ~1.25 sd / sqrt(n))
        z = shift / (1.2533 * sd * math.sqrt(1.0 / len(new) + 1.0 / len(old)))
        if abs(z) >= z_min and abs(shift) >= min_days:
            word = "longer" if shift > 0 else "shorter"
            out.append(Finding("lead_time_drift", (k,), m_new, m_old, z,
                               f"lead time {m_old:g} -> {m_new:g} days ({abs(shift):g} days {word}; median of the "
                               f"last {len(new)} receipts against {len(old)} before): {abs(z):.1f} robust "
                               "deviations"))
    return out


def freight_cost(lanes: list[str], refs: list[str], cost_per_unit: F, *, units: F | None = None,
                 score: npt.NDArray[np.bool_] | None = None, z_min: float = 4.0, min_lane: int = 8,
                 min_ratio: float = 1.5, unit: str = "unit") -> list[Finding]:
    """Shipments whose cost per unit is far from their lane's pattern (log scale; a lane needs history).

    With ``units`` the pattern is what the lane charges per unit for that many units (a fixed
    part per shipment plus a rate per unit, ``_lane_pattern``): a one-unit parcel costs more per
    unit than a pallet and is not unusual for it. With ``score`` only the marked shipments are judged, against the others
    of their lane (last week's shipments against the history); else every shipment against all.
    """
    out = []
    lanes_a = np.asarray(lanes)
    logc = np.log(np.maximum(np.asarray(cost_per_unit, dtype=np.float64), 1e-9))
    logu = np.log(np.maximum(np.asarray(units, dtype=np.float64), 1.0)) if units is not None else None
    judged = np.asarray(score, dtype=bool) if score is not None else np.ones(len(logc), dtype=bool)
    for lane in np.unique(lanes_a):
        ix = np.nonzero(lanes_a == lane)[0]
        base = ix if score is None else ix[~judged[ix]]
        if len(base) < min_lane or not judged[ix].any():
            continue
        expected = _lane_pattern(logc[base], logu[base] if logu is not None else None)
        res = logc[base] - expected(logu[base] if logu is not None else None)
        med = float(np.median(res))
        sd = max(MAD_K * float(np.median(np.abs(res - med))), 0.05)
        for i in ix[judged[ix]]:
            exp_i = float(expected(logu[[i]] if logu is not None else None)[0]) + med
            z = (logc[i] - exp_i) / sd
            ratio = math.exp(logc[i] - exp_i)
            if abs(z) >= z_min and (ratio >= min_ratio or ratio <= 1 / min_ratio):
                usual = math.exp(exp_i)
                size = f" for {math.exp(logu[i]):.0f} {unit if unit == 'kg' else unit + 's'}" if logu is not None else ""
                out.append(Finding("freight_cost", (str(lane), refs[i]), float(math.exp(logc[i])), usual,
                                   float(z), f"{math.exp(logc[i]):.2f} per {unit} on lane {lane} against a usual "
                                   f"{usual:.2f}{size} ({ratio:.1f}x; {len(base)} shipments of the lane): "
                                   f"{abs(z):.1f} robust deviations"))
    return out


def _lane_pattern(logc: F, logu: F | None) -> Any:
    """log cost per unit expected on a lane: its median, or, when sizes vary, a fixed part per
    shipment plus a rate per unit (least squares on the shipments' costs, both parts at least
    zero, fitted again without the shipments 4 robust deviations off the first fit)."""
    if logu is None or float(np.ptp(logu)) < 0.5:
        c = float(np.median(logc))
        return lambda x: np.full(1 if x is None else len(x), c)
    u = np.exp(logu)
    cost = np.exp(logc) * u

    def fit(keep: npt.NDArray[np.bool_]) -> tuple[float, float]:
        A = np.stack([np.ones(int(keep.sum())), u[keep]], axis=1)
        (f, r), *_ = np.linalg.lstsq(A, cost[keep], rcond=None)
        if f < 0 or r <= 0:  # one part alone: per unit only, or per shipment only
            r_only = float(np.median(cost[keep] / u[keep]))
            return 0.0, max(r_only, 1e-9)
        return float(f), float(r)

    def expected(f: float, r: float, x: F) -> F:
        return np.asarray(np.log((f + r * np.exp(x)) / np.exp(x)))

    f, r = fit(np.ones(len(logc), dtype=bool))
    res = logc - expected(f, r, logu)
    mad = max(MAD_K * float(np.median(np.abs(res - np.median(res)))), 0.05)
    keep = np.abs(res - np.median(res)) <= 4 * mad
    if keep.sum() >= 3:
        f, r = fit(keep)
    return lambda x: expected(f, r, x)


#: a picker's (or zone's) past rate counts as if it had this many more picks at its group's rate
PRIOR_PICKS = 100.0


def pick_errors(keys: list[str], base_errors: F, base_picks: F, errors: F, picks: F, *, z_min: float = 4.0,
                min_errors: int = 3, min_ratio: float = 2.0, groups: Sequence[str] | None = None,
                prior_picks: float = PRIOR_PICKS) -> list[Finding]:
    """Pickers (or zones) whose recent error rate jumped above their own past rate.

    The past rate is empirical-Bayes shrunk: (errors + m x group rate) / (picks + m), the group
    (``groups``, e.g. "picker@DAL1"; default: all keys) pooling its members' past; and the z's
    variance adds the past rate's (1 / (past picks + m)). On the large seed each picker's past was
    ~120 picks: 0 errors in them read as a 0.4 % rate, and a warehouse-wide jump (one zone's
    shorts) flagged two pickers there; shrunk, only the picker that changed stands out."""
    grp = list(groups) if groups is not None else ["" for _ in keys]
    pooled: dict[str, list[float]] = {}
    for i, g in enumerate(grp):
        acc = pooled.setdefault(g, [0.0, 0.0])
        acc[0] += float(base_errors[i])
        acc[1] += float(base_picks[i])
    out = []
    for i, k in enumerate(keys):
        if picks[i] <= 0 or base_picks[i] <= 0 or errors[i] < min_errors:
            continue
        ge, gp = pooled[grp[i]]
        prior = (ge + 0.5) / (gp + 1.0)
        p0 = max((base_errors[i] + prior_picks * prior) / (base_picks[i] + prior_picks), 1e-4)  # never a zero rate
        p1 = errors[i] / picks[i]
        z = (p1 - p0) / math.sqrt(p0 * (1 - p0) * (1.0 / picks[i] + 1.0 / (base_picks[i] + prior_picks)))
        if z >= z_min and p1 >= min_ratio * p0:
            out.append(Finding("pick_errors", (k,), p1, p0, z,
                               f"{int(errors[i])} errors in {int(picks[i])} picks ({100 * p1:.1f} %) against a usual "
                               f"{100 * p0:.1f} % ({int(base_errors[i])} in {int(base_picks[i])}, shrunk toward "
                               f"{100 * prior:.1f} % of its group): {z:.1f} deviations"))
    return out


def precision_recall(found: AbstractSet[tuple[str, ...]], injected: AbstractSet[tuple[str, ...]]) -> tuple[float, float]:
    """(precision, recall) of findings against the anomalies known to be there."""
    tp = len(found & injected)
    precision = tp / len(found) if found else 1.0
    recall = tp / len(injected) if injected else 1.0
    return precision, recall
