"""Cheap forecasting methods, vectorised over all series at once (numpy only).

Every method takes a matrix ``Y`` (series x periods, float64) whose rows are right-aligned
histories: a series that starts late has NaN before its first period (``prepare`` fills the
gaps inside a series first), and forecasts from several *origins* in one pass over the
columns. An origin ``o`` means "forecast as if only columns ``[0, o)`` were known": the
smoothing state is copied when the pass reaches it, and the smoothing parameters are the grid
values with the least one-step squared error *up to that origin*, so a backtest never sees
the periods it is scored on. Output: ``(series, origins, horizon)``; NaN where a series has
no usable history at that origin (the caller falls back and says why).

Why grids instead of an optimiser: a handful of parameter values per series, run side by
side as extra columns, costs a few array operations per period for all 150,000 series
together; a per-series optimiser (statsforecast's AutoETS, ~120 ms a series) would take
hours. The grids cover what the optimiser usually lands on for retail demand.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

F = npt.NDArray[np.float64]
B = npt.NDArray[np.bool_]
I64 = npt.NDArray[np.int64]

SES_ALPHAS = (0.05, 0.1, 0.2, 0.35, 0.6, 0.9)
#: (alpha, beta, phi) of the damped-trend grid (beta is alpha * beta in error-correction form)
HOLT_GRID = ((0.1, 0.05, 0.9), (0.3, 0.05, 0.9), (0.6, 0.05, 0.9),
             (0.1, 0.1, 0.98), (0.3, 0.1, 0.98), (0.6, 0.1, 0.98))
CROSTON_ALPHAS = (0.05, 0.1, 0.2, 0.3)
#: (alpha for sizes, beta for the demand probability) of the TSB grid
TSB_GRID = ((0.1, 0.02), (0.1, 0.05), (0.2, 0.1), (0.3, 0.2))
#: adjusted share of detrended variation explained by the season that makes a series seasonal
SEASONAL_STRENGTH = 0.64


class History:
    """A prepared matrix: gaps filled, leading NaN kept as a mask, first valid column per row."""

    def __init__(self, Y: F) -> None:
        Y = np.asarray(Y, dtype=np.float64)
        if Y.ndim != 2:
            raise ValueError("history must be a 2-D matrix (series x periods)")
        self.raw = Y
        self.n, self.T = Y.shape
        valid = ~np.isnan(Y)
        self.any: B = np.asarray(valid.any(axis=1), dtype=bool)
        self.start = np.where(self.any, valid.argmax(axis=1), self.T).astype(np.int64)
        cols = np.arange(self.T)[None, :]
        self.valid = cols >= self.start[:, None]
        # leading NaN -> the first value: a constant prefix leaves level and zero trend unchanged
        first = np.where(self.any, Y[np.arange(self.n), np.minimum(self.start, self.T - 1)], 0.0) if self.T else \
            np.zeros(self.n)
        self.filled = np.where(self.valid, Y, first[:, None])
        self.filled = np.where(np.isnan(self.filled), 0.0, self.filled)

    def count(self, origin: int) -> I64:
        """Number of known periods of each series before ``origin``."""
        return np.asarray(np.maximum(origin - self.start, 0), dtype=np.int64)


def fill_gaps(Y: F, how: str = "zero") -> tuple[F, int]:
    """Fill NaN *inside* each series (after its first and before its last value).

    ``zero``: a missing period sold nothing (the ledger's meaning); ``interpolate``: a missing
    reading (public series). Returns the matrix and the number of points filled.
    """
    Y = np.array(Y, dtype=np.float64, copy=True)
    if Y.size == 0:
        return Y, 0
    valid = ~np.isnan(Y)
    n, T = Y.shape
    cols = np.arange(T)[None, :]
    first = np.where(valid.any(axis=1), valid.argmax(axis=1), T)[:, None]
    last = np.where(valid.any(axis=1), T - 1 - valid[:, ::-1].argmax(axis=1), -1)[:, None]
    inside = (~valid) & (cols > first) & (cols < last)
    filled = int(inside.sum())
    if not filled:
        return Y, 0
    if how == "zero":
        Y[inside] = 0.0
        return Y, filled
    # linear interpolation between the neighbours, row by row only for rows with gaps
    for r in np.nonzero(inside.any(axis=1))[0]:
        row = Y[r]
        ok = ~np.isnan(row)
        idx = np.arange(T)
        gap = inside[r]
        row[gap] = np.interp(idx[gap], idx[ok], row[ok])
    return Y, filled


def _origins(origins: Sequence[int]) -> tuple[list[int], dict[int, int]]:
    ol = [int(o) for o in origins]
    return ol, {o: k for k, o in enumerate(ol)}


def _best(sse: npt.NDArray[np.floating[Any]]) -> I64:
    return np.asarray(np.argmin(sse, axis=-1), dtype=np.int64)


def ses_levels(h: History, origins: Sequence[int], alphas: Sequence[float] = SES_ALPHAS,
               Y: F | None = None) -> tuple[F, F, I64]:
    """Levels of simple exponential smoothing at each origin for the best alpha there.

    Returns (level (n, O), alpha (n, O), index of the alpha)."""
    Y = h.filled if Y is None else Y
    ol, at = _origins(origins)
    A = np.asarray(alphas, dtype=np.float64)[None, :]
    n, T = Y.shape
    no = len(ol)
    lv = np.full((n, no), np.nan)
    al = np.full((n, no), A[0, 0])
    ix = np.zeros((n, no), dtype=np.int64)
    if T == 0:
        return lv, al, ix
    f32 = np.float32  # state in float32, updated in place (see croston)
    Y32 = Y.astype(f32)
    A32 = A.astype(f32)
    level = np.repeat(Y32[:, :1], A.shape[1], axis=1)
    sse = np.zeros_like(level)
    e = np.empty_like(level)
    step = np.empty_like(level)
    w = h.valid.astype(f32)
    rows = np.arange(n)

    def record(k: int) -> None:
        b = _best(sse)
        lv[:, k] = level[rows, b]
        al[:, k] = A[0, b]
        ix[:, k] = b

    if 1 in at:
        record(at[1])
    for t in range(1, T):
        np.subtract(Y32[:, t:t + 1], level, out=e)
        np.multiply(e, A32, out=step)
        level += step
        e *= e
        e *= w[:, t:t + 1]
        sse += e
        if t + 1 in at:
            record(at[t + 1])
    for o, k in at.items():
        if o <= 0:
            lv[:, k] = np.nan
    return lv, al, ix


def ses(h: History, origins: Sequence[int], H: int, Y: F | None = None) -> F:
    lv, _al, _ix = ses_levels(h, origins, Y=Y)
    return _flat(lv, H, h, origins)


def _flat(level: F, H: int, h: History, origins: Sequence[int]) -> F:
    out = np.repeat(level[:, :, None], H, axis=2)
    for k, o in enumerate(origins):
        out[h.count(o) == 0, k, :] = np.nan
    return out


def holt_damped(h: History, origins: Sequence[int], H: int, grid: Sequence[tuple[float, float, float]] = HOLT_GRID,
                Y: F | None = None) -> F:
    """Additive damped trend (Gardner-McKenzie) in error-correction form, grid per series."""
    Y = h.filled if Y is None else Y
    ol, at = _origins(origins)
    g = np.asarray(grid, dtype=np.float64)
    A, Bt, P = g[None, :, 0], g[None, :, 1], g[None, :, 2]
    n, T = Y.shape
    out = np.full((n, len(ol), H), np.nan)
    if T == 0:
        return out
    f32 = np.float32  # state in float32, updated in place (see croston)
    Y32 = Y.astype(f32)
    P32, A32, AB32 = P.astype(f32), A.astype(f32), (A * Bt).astype(f32)
    level = np.repeat(Y32[:, :1], g.shape[0], axis=1)
    trend = np.zeros_like(level)
    sse = np.zeros_like(level)
    e = np.empty_like(level)
    tmp = np.empty_like(level)
    w = h.valid.astype(f32)
    rows = np.arange(n)
    steps = np.arange(1, H + 1, dtype=np.float64)
    # sum_{i=1..h} phi^i for each grid phi and horizon step
    damp = np.cumsum(P[0][:, None] ** steps[None, :], axis=1)  # (k, H)

    def record(k: int) -> None:
        b = _best(sse)
        out[:, k, :] = level[rows, b][:, None].astype(np.float64) + trend[rows, b][:, None] * damp[b]

    if 1 in at:
        record(at[1])
    for t in range(1, T):
        trend *= P32                      # phi * b
        level += trend                    # l + phi * b: the one-step forecast
        np.subtract(Y32[:, t:t + 1], level, out=e)
        np.multiply(e, A32, out=tmp)
        level += tmp
        np.multiply(e, AB32, out=tmp)
        trend += tmp
        e *= e
        e *= w[:, t:t + 1]
        sse += e
        if t + 1 in at:
            record(at[t + 1])
    for k, o in enumerate(ol):
        out[h.count(o) == 0, k, :] = np.nan
    return out


def naive(h: History, origins: Sequence[int], H: int, Y: F | None = None) -> F:
    Y = h.filled if Y is None else Y
    out = np.full((h.n, len(origins), H), np.nan)
    for k, o in enumerate(origins):
        if o > 0:
            out[:, k, :] = Y[:, o - 1:o]
            out[h.count(o) == 0, k, :] = np.nan
    return out


def seasonal_naive(h: History, origins: Sequence[int], H: int, m: int, Y: F | None = None) -> F:
    """The value one season back; NaN for series with less than one season before the origin."""
    Y = h.filled if Y is None else Y
    out = np.full((h.n, len(origins), H), np.nan)
    if m <= 1:
        return naive(h, origins, H, Y)
    steps = np.arange(H)
    for k, o in enumerate(origins):
        if o < m:
            continue
        cols = o - m + (steps % m)
        out[:, k, :] = Y[:, cols]
        out[h.count(o) < m, k, :] = np.nan
    return out


def mean_forecast(h: History, origins: Sequence[int], H: int, window: int = 0, Y: F | None = None) -> F:
    """Mean of the known periods (all, or the last ``window``)."""
    Y = h.filled if Y is None else Y
    out = np.full((h.n, len(origins), H), np.nan)
    cs = np.concatenate([np.zeros((h.n, 1)), np.cumsum(np.where(h.valid, Y, 0.0), axis=1)], axis=1)
    for k, o in enumerate(origins):
        cnt = h.count(o)
        if window:
            cnt = np.minimum(cnt, window)
        lo = o - cnt
        with np.errstate(invalid="ignore", divide="ignore"):
            mu = (cs[:, o] - cs[np.arange(h.n), lo]) / cnt
        out[:, k, :] = np.where(cnt > 0, mu, np.nan)[:, None]
    return out


def theta(h: History, origins: Sequence[int], H: int, Y: F | None = None,
          levels: tuple[F, F, I64] | None = None) -> F:
    """The Theta method as SES with drift (Hyndman & Billah 2003; R forecast::thetaf):
    the SES forecast plus half the least-squares slope, grown along the horizon.
    ``levels`` reuses a ``ses_levels`` result of the same matrix."""
    Y = h.filled if Y is None else Y
    lv, al, _ix = levels if levels is not None else ses_levels(h, origins, Y=Y)
    n = h.n
    out = np.full((n, len(origins), H), np.nan)
    t = np.arange(h.T, dtype=np.float64)
    # sums over each row's known columns [start, o): closed forms for t, one matrix product for y
    before = (t[:, None] < np.asarray(origins, dtype=np.float64)[None, :]).astype(np.float64)  # (T, O)
    wy = np.where(h.valid, Y, 0.0)
    Sy = wy @ before
    Sty = wy @ (before * t[:, None])
    steps = np.arange(H, dtype=np.float64)[None, :]
    s0 = h.start.astype(np.float64)
    for k, o in enumerate(origins):
        N = np.maximum(o - s0, 0.0)
        St = (s0 + o - 1.0) * N / 2.0
        Stt = ((o - 1.0) * o * (2.0 * o - 1.0) - (s0 - 1.0) * s0 * (2.0 * s0 - 1.0)) / 6.0
        with np.errstate(invalid="ignore", divide="ignore"):
            den = N * Stt - St ** 2
            slope = np.where(den > 1e-9, (N * Sty[:, k] - St * Sy[:, k]) / np.where(den > 1e-9, den, 1.0), 0.0)
        a = al[:, k]
        grow = steps + ((1.0 - (1.0 - a) ** N) / a)[:, None]
        out[:, k, :] = lv[:, k][:, None] + (0.5 * slope)[:, None] * grow
        out[N == 0, k, :] = np.nan
    return out


def _zero_prefix(h: History) -> F:
    return np.where(h.valid, h.filled, 0.0)


def croston(h: History, origins: Sequence[int], H: int,
            alphas: Sequence[float] = CROSTON_ALPHAS) -> tuple[F, F]:
    """Croston's method (sizes and intervals smoothed at demand periods) and its
    Syntetos-Boylan bias-corrected variant SBA (x (1 - alpha/2)), in one pass: (croston, sba).

    The state runs in float32 with in-place updates (half the memory traffic of float64; these
    two loops are most of a run's time on slow movers); outputs are float64."""
    f32 = np.float32
    Y = _zero_prefix(h).astype(f32)
    ol, at = _origins(origins)
    A = np.asarray(alphas, dtype=f32)[None, :]
    corr = (1.0 - A / 2.0).astype(f32)
    n, T = Y.shape
    out_c = np.full((n, len(ol), H), np.nan)
    out_s = np.full((n, len(ol), H), np.nan)
    if T == 0:
        return out_c, out_s
    k_ = A.shape[1]
    size = np.zeros((n, k_), f32)
    interval = np.ones((n, k_), f32)
    a_eff = np.ones((n, k_), f32)  # 1 until a series' first demand, then alpha
    q = (1.0 - h.start.astype(f32))[:, None]  # 1 at each series' first period
    sse_c = np.zeros((n, k_), f32)
    sse_s = np.zeros((n, k_), f32)
    f = np.empty((n, k_), f32)
    e = np.empty((n, k_), f32)
    ad = np.empty((n, k_), f32)
    rows = np.arange(n)

    def record(kk: int) -> None:
        fc = size / interval
        b = _best(sse_c)
        out_c[:, kk, :] = fc[rows, b][:, None]
        b = _best(sse_s)
        out_s[:, kk, :] = (fc * corr)[rows, b][:, None]

    for t in range(T):
        y = Y[:, t:t + 1]
        d = y > 0
        np.divide(size, interval, out=f)
        np.subtract(y, f, out=e)
        e *= e
        sse_c += e
        np.multiply(f, corr, out=e)
        np.subtract(y, e, out=e)
        e *= e
        sse_s += e
        np.multiply(a_eff, d, out=ad)
        np.subtract(y, size, out=e)
        e *= ad
        size += e
        np.subtract(q, interval, out=e)
        e *= ad
        interval += e
        if d.any():
            a_eff[d[:, 0]] = A
        q = np.where(d, f32(1.0), q + f32(1.0))
        if t + 1 in at:
            record(at[t + 1])
    for kk, o in enumerate(ol):
        gone = h.count(o) == 0
        out_c[gone, kk, :] = np.nan
        out_s[gone, kk, :] = np.nan
    return out_c, out_s


def tsb(h: History, origins: Sequence[int], H: int, grid: Sequence[tuple[float, float]] = TSB_GRID) -> F:
    """Teunter-Syntetos-Babai: the demand probability is updated every period, so a series that
    stops selling decays towards zero (Croston's forecast never does). float32 state, as croston."""
    f32 = np.float32
    Y = _zero_prefix(h).astype(f32)
    ol, at = _origins(origins)
    g = np.asarray(grid, dtype=f32)
    A, Bt = g[None, :, 0], g[None, :, 1]
    n, T = Y.shape
    out = np.full((n, len(ol), H), np.nan)
    if T == 0:
        return out
    k_ = g.shape[0]
    size = np.zeros((n, k_), f32)
    prob = np.zeros((n, k_), f32)
    a_eff = np.ones((n, k_), f32)
    sse = np.zeros((n, k_), f32)
    e = np.empty((n, k_), f32)
    w = np.empty((n, k_), f32)
    rows = np.arange(n)
    start = h.start[:, None]

    def record(kk: int) -> None:
        b = _best(sse)
        out[:, kk, :] = (prob * size)[rows, b][:, None]

    for t in range(T):
        y = Y[:, t:t + 1]
        d = y > 0
        np.multiply(prob, size, out=e)
        np.subtract(y, e, out=e)
        e *= e
        e *= (t > start)
        sse += e
        # probability: full weight at a series' first period, beta after
        np.subtract(d.astype(f32), prob, out=e)
        np.multiply(e, np.where(t == start, f32(1.0), Bt), out=w)
        prob += w
        np.subtract(y, size, out=e)
        e *= a_eff
        e *= d
        size += e
        if d.any():
            a_eff[d[:, 0]] = A
        if t + 1 in at:
            record(at[t + 1])
    for kk, o in enumerate(ol):
        out[h.count(o) == 0, kk, :] = np.nan
    return out


def seasonality(h: History, origins: Sequence[int], m: int) -> tuple[F, B, B]:
    """Multiplicative seasonal indices per origin, for the series that are seasonal.

    Whether a series is seasonal is decided once, at the last origin (the forecast origin, with
    the most history), by the test of R's forecast::thetaf: the autocorrelation at lag m exceeds
    1.645 * sqrt((1 + 2 * sum_{k<m} r_k^2) / n) (90 %), with at least 3 seasons known and all
    values positive. The backtest origins before it use that decision: were it taken again at
    each of them, series of 4-5 years would look non-seasonal in every backtest window (fewer
    than three seasons known there), the deseasonalised methods would be scored without their
    season and lose to the seasonal naive they beat. The indices themselves only ever come from
    the data before each origin (no window sees what it is scored on): a classical
    multiplicative decomposition (centred moving average of order m, ratio means per season
    position, normalised to mean 1) with two seasons or more, the last season's ratios to its
    mean with one to two, none with less.

    Returns (indices (n, O, m) keyed by column position mod m, seasonal flags (n,) from the
    last origin, indices present (n, O): a seasonal series without indices at an origin has no
    deseasonalised forecast there).
    """
    n, T = h.n, h.T
    no = len(origins)
    idx = np.ones((n, no, m))
    have = np.zeros((n, no), dtype=bool)
    flag = np.zeros(n, dtype=bool)
    if m <= 1 or 2 * m >= T or not no:
        return idx, flag, have
    flag = _seasonal_test(h, int(origins[-1]), m)
    rows_s = np.nonzero(flag)[0]
    if not len(rows_s):
        return idx, flag, have
    for k, o in enumerate(origins):
        if o < m:
            continue
        known = h.count(o)[rows_s]
        two = rows_s[known >= 2 * m]
        one = rows_s[(known >= m) & (known < 2 * m)]
        if len(two):
            si, ok = _classical_indices(h.filled[two, :o], h.valid[two, :o], m, o)
            idx[two[ok], k, :] = si[ok]
            have[two[ok], k] = True
        if len(one):
            last = h.filled[one, o - m:o]
            mu = last.mean(axis=1)
            with np.errstate(invalid="ignore", divide="ignore"):
                si = last / mu[:, None]
            ok = (mu > 0) & (si > 0).all(axis=1) & np.isfinite(si).all(axis=1)
            phase = (np.arange(o - m, o)) % m
            keyed = np.ones_like(si)
            keyed[:, phase] = si
            idx[one[ok], k, :] = keyed[ok]
            have[one[ok], k] = True
    # a series whose indices cannot be had at the forecast origin is not treated as seasonal
    flag &= have[:, -1]
    have &= flag[:, None]
    return idx, flag, have


def _seasonal_test(h: History, o: int, m: int) -> B:
    """The 90 % autocorrelation test at lag m on the periods before ``o`` (see ``seasonality``)."""
    flag = np.zeros(h.n, dtype=bool)
    if o <= 2 * m:
        return flag
    Yo = h.filled[:, :o]
    v = h.valid[:, :o]
    N = v.sum(axis=1)
    cand = (2 * m < N) & (np.where(v, Yo, 1.0).min(axis=1) > 0)
    if not cand.any():
        return flag
    rows = np.nonzero(cand)[0]
    Yc, vc, Nc = Yo[rows], v[rows], N[rows].astype(np.float64)
    mu = (Yc * vc).sum(axis=1) / Nc
    d = np.where(vc, Yc - mu[:, None], 0.0)
    den = (d * d).sum(axis=1)
    den = np.where(den > 0, den, 1.0)
    r = np.stack([(d[:, lag:] * d[:, :-lag]).sum(axis=1) / den for lag in range(1, m + 1)], axis=1)
    stat = np.sqrt((1.0 + 2.0 * (r[:, :-1] ** 2).sum(axis=1)) / Nc)
    flag[rows] = (np.abs(r[:, -1]) / stat > 1.645) & (r[:, -1] > 0)
    flag[rows] |= _seasonal_strength(Yc, vc, m) >= SEASONAL_STRENGTH
    return flag


def _seasonal_strength(Y: F, v: B, m: int) -> F:
    """Share of the detrended variation that the season explains, adjusted for the number of
    season positions fitted (the adjusted R² of position means on log(y / centred MA)); 0 where
    it cannot be had. The autocorrelation test is weak on two or three seasons (its variance
    grows with the lags below m, which a strong season makes large); this measure is not."""
    out = np.zeros(len(Y))
    ma = _centred_ma(Y, v, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        lr = np.log(Y / ma)
    ok = np.isfinite(lr)
    cnt = ok.sum(axis=1)
    phase = np.arange(Y.shape[1]) % m
    onehot = (phase[None, :] == np.arange(m)[:, None]).astype(np.float64)  # (m, T)
    z = np.where(ok, lr, 0.0)
    pc = ok.astype(np.float64) @ onehot.T  # (n, m) ratios per position
    ps = z @ onehot.T
    with np.errstate(invalid="ignore", divide="ignore"):
        pm = np.where(pc > 0, ps / pc, 0.0)
        fit = pm @ onehot  # each column's position mean
        mu = z.sum(axis=1) / cnt
        sst = np.where(ok, (z - mu[:, None]) ** 2, 0.0).sum(axis=1)
        ssr = np.where(ok, (z - fit) ** 2, 0.0).sum(axis=1)
        used = (pc > 0).sum(axis=1)
        dof_r = cnt - used
        r2 = 1.0 - (ssr / dof_r) / (sst / (cnt - 1))
    good = (dof_r >= m // 2) & (sst > 0) & np.isfinite(r2)
    out[good] = r2[good]
    return out


def _classical_indices(Yc: F, vc: B, m: int, o: int) -> tuple[F, B]:
    """Classical multiplicative seasonal indices of the columns before ``o``, keyed by column mod
    m: (indices (rows, m), whether every position got a positive index)."""
    ma = _centred_ma(Yc, vc, m)
    with np.errstate(invalid="ignore", divide="ignore"):
        ratio = Yc / ma
    pad = (-o) % m
    R = np.concatenate([np.full((len(Yc), pad), np.nan), ratio], axis=1).reshape(len(Yc), -1, m)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        si = np.nanmean(R, axis=1)  # (rows, m) phase = (column - pad) mod m relative to padded start
    ok = ~np.isnan(si).any(axis=1) & (np.nan_to_num(si, nan=1.0) > 0).all(axis=1)
    si = np.where(np.isnan(si), 1.0, si)
    si = si / si.mean(axis=1, keepdims=True)
    # re-key to phase = column mod m: padded column c' = c + pad, its phase (c + pad) mod m
    phase = (np.arange(m) + pad) % m
    return si[:, phase], ok


def _centred_ma(Y: F, v: B, m: int) -> F:
    n, T = Y.shape
    cs = np.concatenate([np.zeros((n, 1)), np.cumsum(np.where(v, Y, 0.0), axis=1)], axis=1)
    cv = np.concatenate([np.zeros((n, 1)), np.cumsum(v, axis=1)], axis=1)
    out = np.full((n, T), np.nan)
    if m % 2:
        half = m // 2
        lo, hi = np.arange(T) - half, np.arange(T) + half + 1
        ok = (lo >= 0) & (hi <= T)
        c = np.nonzero(ok)[0]
        s = cs[:, hi[c]] - cs[:, lo[c]]
        cnt = cv[:, hi[c]] - cv[:, lo[c]]
        out[:, c] = np.where(cnt == m, s / m, np.nan)
    else:
        half = m // 2
        # 2 x m MA = average of two m-windows: [t-half, t+half) and [t-half+1, t+half+1)
        lo, hi = np.arange(T) - half, np.arange(T) + half + 1
        ok = (lo >= 0) & (hi <= T)
        c = np.nonzero(ok)[0]
        s1 = cs[:, hi[c] - 1] - cs[:, lo[c]]
        s2 = cs[:, hi[c]] - cs[:, lo[c] + 1]
        cnt = cv[:, hi[c]] - cv[:, lo[c]]
        out[:, c] = np.where(cnt == m + 1, (s1 + s2) / (2.0 * m), np.nan)
    return out


def index_at(idx: F, origin_cols: Sequence[int], H: int, m: int) -> F:
    """Seasonal index of each forecast step: (n, O, H) from indices keyed by column mod m."""
    n, no, _ = idx.shape
    out = np.ones((n, no, H))
    for k, o in enumerate(origin_cols):
        phases = (o + np.arange(H)) % m
        out[:, k, :] = idx[:, k, phases]
    return out


def deseasonalised(filled: F, idx: F, k: int, m: int) -> F:
    """A filled history divided by the indices of origin ``k`` (column mod m)."""
    phases = np.arange(filled.shape[1]) % m
    return np.asarray(filled / idx[:, k, phases])


def finite(a: F, fallback: F | float = 0.0) -> F:
    """Replace NaN and infinities (never shown to anyone) by ``fallback``."""
    return np.where(np.isfinite(a), a, fallback)


def floor_zero(a: F) -> F:
    """Demand forecasts are never negative (returns net against sales, not below zero)."""
    return np.maximum(a, 0.0)


__all__ = [
    "History", "fill_gaps", "ses", "ses_levels", "holt_damped", "naive", "seasonal_naive", "mean_forecast",
    "theta", "croston", "tsb", "seasonality", "index_at", "deseasonalised", "finite", "floor_zero", "math",
]
