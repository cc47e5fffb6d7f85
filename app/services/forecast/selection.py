"""Classify every series, backtest the methods that suit its class, keep the best one.

Syntetos-Boylan-Croston classes (ADI = average periods between demands, CV² = squared
coefficient of variation of the non-zero demand sizes; cut-offs 1.32 and 0.49):

    smooth        ADI < 1.32, CV² < 0.49     erratic     ADI < 1.32, CV² >= 0.49
    intermittent  ADI >= 1.32, CV² < 0.49    lumpy       ADI >= 1.32, CV² >= 0.49

plus ``no history`` (nothing known), ``dead`` (nothing sold for a long while, or never) and
``too short`` (too few periods or demands to judge), which get a fixed rule and say why.

Selection is a rolling-origin backtest: the last ``origins`` windows of ``H`` periods before
the forecast origin are forecast from the data before each of them, the candidates of the
series' class are scored by their mean absolute error over those windows, and the lowest
wins. A combination (the median of three members) is one of the candidates: selection on a few
windows is noisy, so a single method must beat the combination by ``MARGIN`` to be chosen.
Everything runs on (series x periods) arrays; large inputs are cut into chunks of rows to
stay in cache and bound memory.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from app.services.forecast import methods as mt
from app.services.forecast.methods import F, History

ADI_CUT = 1.32
CV2_CUT = 0.49
#: a single method must be this much better (relative MAE) than the combination to be chosen
MARGIN = 0.30
#: periods in a row without demand that make a series dead (at least this many, or one season)
DEAD_PERIODS = 26
#: fewer known periods (or fewer than 2 demands) than this and a series is "too short"
MIN_PERIODS = 8

CLASSES = ("smooth", "erratic", "intermittent", "lumpy", "too short", "dead", "no history")
SMOOTH, ERRATIC, INTERMITTENT, LUMPY, SHORT, DEAD, NONE = range(7)

METHODS = ("seasonal naive", "naive", "SES", "damped trend", "Theta", "Croston", "SBA", "TSB",
           "median combination", "mean", "zero")
(SNAIVE, NAIVE, SES, DAMPED, THETA, CROSTON, SBA, TSB, COMBO, MEAN, ZERO) = range(len(METHODS))

#: which methods a class may pick from (the first is the default when no backtest is possible)
#: No naive for regular demand: on real monthly series of 4-5.5 years (US employment by sector)
#: it won the backtest of 329 of 1,233 series, with early windows of little history, and was the
#: worst of the candidates on the held-out months (AvgRelMAE of the selection 0.60 with it, 0.49
#: without; docs/intelligence.md).
CANDIDATES: dict[int, tuple[int, ...]] = {
    SMOOTH: (COMBO, SNAIVE, SES, DAMPED, THETA),
    ERRATIC: (COMBO, SNAIVE, SES, DAMPED, THETA),
    INTERMITTENT: (COMBO, SBA, CROSTON, TSB, SES, MEAN),
    LUMPY: (COMBO, SBA, CROSTON, TSB, SES, MEAN),
}
CHUNK = 8_192


@dataclass
class Result:
    """Per-series outcome of one forecast run (arrays of length n, paths n x H)."""

    path: F
    method: np.ndarray
    klass: np.ndarray
    mae: F
    rmse: F
    scale: F
    seasonal: np.ndarray
    adi: F
    cv2: F
    known: np.ndarray
    reason: list[str]
    #: every method's final forecast (only when asked for: evaluation per method)
    per_method: dict[int, F] = field(default_factory=dict)

    def method_name(self, i: int) -> str:
        return METHODS[int(self.method[i])]

    def class_name(self, i: int) -> str:
        return CLASSES[int(self.klass[i])]


def classify(h: History, origin: int, dead_after: int = DEAD_PERIODS) -> tuple[np.ndarray, F, F]:
    """Class of each series from the periods before ``origin``: (class, ADI, CV²)."""
    Y = h.filled[:, :origin]
    v = h.valid[:, :origin]
    n = h.n
    known = v.sum(axis=1)
    dem = v & (Y > 0)
    nd = dem.sum(axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        adi = np.where(nd > 0, known / np.maximum(nd, 1), np.inf)
        sizes = np.where(dem, Y, 0.0)
        mu = sizes.sum(axis=1) / np.maximum(nd, 1)
        var = np.where(dem, (Y - mu[:, None]) ** 2, 0.0).sum(axis=1) / np.maximum(nd - 1, 1)
        cv2 = np.where((nd > 1) & (mu > 0), var / np.where(mu > 0, mu * mu, 1.0), 0.0)
    # periods since the last demand
    last = np.where(dem.any(axis=1), origin - 1 - dem[:, ::-1].argmax(axis=1), -1)
    idle = origin - 1 - last
    k = np.full(n, SMOOTH, dtype=np.int64)
    k[(adi < ADI_CUT) & (cv2 >= CV2_CUT)] = ERRATIC
    k[(adi >= ADI_CUT) & (cv2 < CV2_CUT)] = INTERMITTENT
    k[(adi >= ADI_CUT) & (cv2 >= CV2_CUT)] = LUMPY
    k[(known < MIN_PERIODS) | (nd < 2)] = SHORT
    k[(nd > 0) & (idle >= dead_after) & (known >= dead_after)] = DEAD
    k[(nd == 0) & (known >= MIN_PERIODS)] = DEAD
    k[(nd == 0) & (known < MIN_PERIODS) & (known > 0)] = SHORT
    k[known == 0] = NONE
    return k, np.where(np.isfinite(adi), adi, 0.0), cv2


def _scale(h: History, origin: int, m: int) -> F:
    """In-sample mean absolute seasonal difference (lag m, else 1): the MASE denominator."""
    Y, v = h.filled[:, :origin], h.valid[:, :origin]
    out = np.full(h.n, np.nan)
    for lag in ((m, 1) if m > 1 else (1,)):
        if origin <= lag:
            continue
        d = np.abs(Y[:, lag:] - Y[:, :-lag])
        ok = v[:, lag:] & v[:, :-lag]
        cnt = ok.sum(axis=1)
        with np.errstate(invalid="ignore", divide="ignore"):
            s = np.where(ok, d, 0.0).sum(axis=1) / cnt
        take = np.isnan(out) & (cnt > 0)
        out[take] = s[take]
    return out


REGULAR_METHODS = {SNAIVE, NAIVE, MEAN, SES, DAMPED, THETA}
INTERMITTENT_METHODS = {SNAIVE, NAIVE, MEAN, SES, CROSTON, SBA, TSB}


def _all_methods(h: History, origins: list[int], H: int, m: int, need: set[int]) -> tuple[dict[int, F], np.ndarray]:
    """Forecasts (n, O, H) of the methods needed (seasonally adjusted where a series is seasonal)
    and the seasonal flags (n, O)."""
    out: dict[int, F] = {}
    seasonal = np.zeros((h.n, len(origins)), dtype=bool)
    if SNAIVE in need:
        out[SNAIVE] = mt.seasonal_naive(h, origins, H, m)
    if NAIVE in need:
        out[NAIVE] = mt.naive(h, origins, H)
    if MEAN in need:
        out[MEAN] = mt.mean_forecast(h, origins, H)
    if need & {SES, DAMPED, THETA}:
        levels = mt.ses_levels(h, origins)
        out[SES] = mt._flat(levels[0], H, h, origins)
    if need & {DAMPED, THETA}:
        out[DAMPED] = mt.holt_damped(h, origins, H)
        out[THETA] = mt.theta(h, origins, H, levels=levels)
        idx, flag, have = mt.seasonality(h, origins, m)
        seasonal = np.repeat(flag[:, None], len(origins), axis=1)
        for k, o in enumerate(origins):
            # seasonal at the forecast origin but too little history for indices here: no
            # deseasonalised forecast in this window (scored on the windows the seasonal naive has)
            gone = np.nonzero(flag & ~have[:, k])[0]
            for meth in (SES, DAMPED, THETA):
                out[meth][gone, k, :] = np.nan
            rows = np.nonzero(have[:, k])[0]
            if not len(rows):
                continue
            sub = _rows(h, rows, mt.deseasonalised(h.filled[rows], idx[rows], k, m))
            ix = mt.index_at(idx[rows][:, [k]], [o], H, m)[:, 0, :]
            lv = mt.ses_levels(sub, [o])
            out[SES][rows, k, :] = mt._flat(lv[0], H, sub, [o])[:, 0, :] * ix
            out[DAMPED][rows, k, :] = mt.holt_damped(sub, [o], H)[:, 0, :] * ix
            out[THETA][rows, k, :] = mt.theta(sub, [o], H, levels=lv)[:, 0, :] * ix
    if need & {CROSTON, SBA}:
        out[CROSTON], out[SBA] = mt.croston(h, origins, H)
    if TSB in need:
        out[TSB] = mt.tsb(h, origins, H)
    return out, seasonal


def _grouped(h: History, klass: np.ndarray, origins: list[int], H: int, m: int,
             keep_all: bool) -> tuple[dict[int, F], np.ndarray]:
    """Each method only on the rows whose class may choose it (all rows when evaluating)."""
    n, no = h.n, len(origins)
    if keep_all:
        return _all_methods(h, origins, H, m, REGULAR_METHODS | INTERMITTENT_METHODS)
    out = {k: np.full((n, no, H), np.nan) for k in REGULAR_METHODS | INTERMITTENT_METHODS}
    seasonal = np.zeros((n, no), dtype=bool)
    groups = ((np.isin(klass, (SMOOTH, ERRATIC)), REGULAR_METHODS),
              (np.isin(klass, (INTERMITTENT, LUMPY)), INTERMITTENT_METHODS),
              (np.isin(klass, (SHORT,)), {MEAN}))
    for mask, need in groups:
        rows = np.nonzero(mask)[0]
        if not len(rows):
            continue
        sub = _rows(h, rows, h.filled[rows])
        f, s = _all_methods(sub, origins, H, m, need)
        for k, v in f.items():
            out[k][rows] = v
        seasonal[rows] = s
    return out, seasonal


def _rows(h: History, rows: np.ndarray, Y: F) -> History:
    """A History over some rows with another (already filled) matrix."""
    sub = History.__new__(History)
    sub.raw, sub.n, sub.T = Y, len(rows), h.T
    sub.any, sub.start, sub.valid, sub.filled = h.any[rows], h.start[rows], h.valid[rows], Y
    return sub


def _median3(a: F, b: F, c: F) -> F:
    """Element-wise median of three arrays (no sort): max(min(a, b), min(max(a, b), c))."""
    return np.asarray(np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c)))


def _combo(f: dict[int, F], klass: np.ndarray) -> F:
    """Median of three: (Theta, damped trend, seasonal naive) for regular demand (SES in place of a
    seasonal naive that is missing), (SBA, TSB, SES) for intermittent demand."""
    out = np.full_like(f[SES], np.nan)
    reg = np.nonzero(~np.isin(klass, (INTERMITTENT, LUMPY)))[0]
    if len(reg):
        sn = f[SNAIVE][reg]
        sn = np.where(np.isnan(sn), f[SES][reg], sn)
        out[reg] = _median3(f[THETA][reg], f[DAMPED][reg], sn)
    inter = np.nonzero(np.isin(klass, (INTERMITTENT, LUMPY)))[0]
    if len(inter):
        out[inter] = _median3(f[SBA][inter], f[TSB][inter], f[SES][inter])
    return out


def run(Y: F, H: int, m: int = 1, *, origins: int = 3, step: int | None = None, floor: bool = True,
        keep_all: bool = False, dead_after: int | None = None,
        progress: Callable[[int, int], None] | None = None) -> Result:
    """Forecast ``H`` periods ahead for every row of ``Y`` (series x periods, NaN before a start).

    ``m`` is the season length (52 weekly, 12 monthly, 1 none); ``origins`` backtest windows of
    ``step`` periods (default H) each. ``floor`` keeps forecasts of non-negative series at or
    above zero. Chunks of rows are processed one after another (``progress(done, total)``).
    """
    Y = np.asarray(Y, dtype=np.float64)
    n = Y.shape[0]
    parts = []
    for lo in range(0, max(n, 1), CHUNK):
        parts.append(_run_chunk(Y[lo:lo + CHUNK], H, m, origins, step or H, floor, keep_all,
                                dead_after or max(DEAD_PERIODS, m)))
        if progress:
            progress(min(lo + CHUNK, n), n)
    if len(parts) == 1:
        return parts[0]
    cat = np.concatenate
    r = Result(cat([p.path for p in parts]), cat([p.method for p in parts]), cat([p.klass for p in parts]),
               cat([p.mae for p in parts]), cat([p.rmse for p in parts]), cat([p.scale for p in parts]),
               cat([p.seasonal for p in parts]), cat([p.adi for p in parts]), cat([p.cv2 for p in parts]),
               cat([p.known for p in parts]), [s for p in parts for s in p.reason])
    if keep_all:
        r.per_method = {k: cat([p.per_method[k] for p in parts]) for k in parts[0].per_method}
    return r


def _run_chunk(Y: F, H: int, m: int, n_origins: int, step: int, floor: bool, keep_all: bool,
               dead_after: int) -> Result:
    h = History(Y)
    n, T = h.n, h.T
    klass, adi, cv2 = classify(h, T, dead_after)
    known = h.count(T)
    back = [T - k * step - (H - step) for k in range(n_origins, 0, -1)]
    back = [o for o in back if o >= 2]
    origins = back + [T]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        f, seasonal = _grouped(h, klass, origins, H, m, keep_all)
        seasonal_flag = seasonal[:, -1]
        # class at each backtest origin decides the combination's members there: use today's
        f[COMBO] = _combo(f, klass)
        nonneg = np.where(h.valid, h.filled, 0.0).min(axis=1) >= 0 if T else np.ones(n, dtype=bool)
        if floor:
            keep = nonneg[:, None, None]
            for k in f:
                np.maximum(f[k], 0.0, out=f[k], where=keep & (f[k] < 0.0))
        nb = len(back)
        actual = np.stack([h.filled[:, o:o + H] if o + H <= T else np.full((n, H), np.nan) for o in back], axis=1) \
            if nb else np.zeros((n, 0, H))
        act_ok = np.stack([h.valid[:, o:o + H] for o in back], axis=1) if nb else np.zeros((n, 0, H), dtype=bool)
    method = np.full(n, ZERO, dtype=np.int64)
    path = np.zeros((n, H))
    mae = np.full(n, np.nan)
    rmse = np.full(n, np.nan)
    reason = [""] * n
    for c, cands in CANDIDATES.items():
        rows = np.nonzero(klass == c)[0]
        if not len(rows):
            continue
        R = len(rows)
        fc = np.stack([f[k][rows] for k in cands], axis=1)  # (r, C, O, H)
        err = fc[:, :, :nb, :] - actual[rows][:, None]
        ok = act_ok[rows][:, None] & ~np.isnan(err)
        cnt = ok.sum(axis=(2, 3))
        with np.errstate(invalid="ignore", divide="ignore"):
            scores = np.where(cnt > 0, np.where(ok, np.abs(err), 0.0).sum(axis=(2, 3)) / cnt, np.nan)
            sq = np.where(cnt > 0, np.where(ok, err * err, 0.0).sum(axis=(2, 3)) / cnt, np.nan)
        finals = fc[:, :, -1, :]  # (r, C, H)
        fin_ok = ~np.isnan(finals).any(axis=2)
        usable = ~np.isnan(scores) & fin_ok
        s_ = np.where(usable, scores, np.inf)
        best = np.argmin(s_, axis=1)
        ar = np.arange(R)
        # the combination (candidate 0) keeps its place unless beaten by MARGIN
        keep_combo = usable[:, 0] & (s_[ar, best] > s_[:, 0] * (1.0 - MARGIN))
        best = np.where(keep_combo, 0, best)
        no_bt = ~usable.any(axis=1)
        best = np.where(no_bt, np.argmax(fin_ok, axis=1), best)  # no backtest: first candidate that exists
        method[rows] = np.asarray(cands)[best]
        path[rows] = finals[ar, best, :]
        mae[rows] = np.where(no_bt, np.nan, s_[ar, best])
        rmse[rows] = np.where(no_bt, np.nan, np.sqrt(sq[ar, best]))
        for r in rows[no_bt]:
            reason[r] = "too little history for a backtest: class default"
    # fixed rules
    mean_f = f[MEAN][:, -1, :]
    short = np.nonzero(klass == SHORT)[0]
    method[short] = MEAN
    path[short] = np.nan_to_num(mean_f[short], nan=0.0)
    for r in short:
        reason[r] = f"too short: {int(known[r])} periods known; the mean of them"
    for r in np.nonzero(klass == DEAD)[0]:
        reason[r] = f"no demand in the last {min(int(known[r]), dead_after)} periods" \
            if (h.filled[r] > 0).any() else "never sold: zero"
        method[r], path[r] = ZERO, 0.0
    for r in np.nonzero(klass == NONE)[0]:
        reason[r] = "no history: zero"
        method[r], path[r] = ZERO, 0.0
    bad = ~np.isfinite(path).all(axis=1)
    for r in np.nonzero(bad)[0]:
        reason[r] = (reason[r] + "; " if reason[r] else "") + "no finite forecast: the mean of the history"
        method[r] = MEAN
    path[bad] = np.nan_to_num(mean_f[bad], nan=0.0, posinf=0.0, neginf=0.0)
    if floor:
        path = np.where(nonneg[:, None], np.maximum(path, 0.0), path)
    # fallback error for series without a backtest: the in-sample naive error (never NaN downstream)
    scale = _scale(h, T, m)
    res = Result(path=path, method=method, klass=klass, mae=mae, rmse=rmse, scale=scale,
                 seasonal=seasonal_flag, adi=adi, cv2=cv2, known=known, reason=reason)
    if keep_all:
        res.per_method = {k: f[k][:, -1, :] for k in f}
    return res
