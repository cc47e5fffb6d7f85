"""Seeded series shaped like public monthly sets (M3, tourism, retail demand), as a long CSV.

For trying ``depot forecast evaluate`` without one's own data and for the tests and the
benchmark: strongly seasonal series with trend and noise, trended and random-walk series,
level shifts, intermittent demand, short series, plus, when asked, the defects real files
have (a gap, a bad row, a non-numeric value).
"""

from __future__ import annotations

import io

import numpy as np

KINDS = ("seasonal", "seasonal_trend", "trend", "random_walk", "level_shift", "intermittent", "lumpy", "short")
WEIGHTS = (0.22, 0.16, 0.12, 0.1, 0.08, 0.14, 0.08, 0.1)


def make_series(n: int, season: int = 12, seed: int = 7, min_len: int = 48,
                max_len: int = 144) -> list[tuple[str, str, np.ndarray]]:
    """(series id, kind, values) for ``n`` series; values are floats >= 0."""
    rng = np.random.default_rng(seed)
    out = []
    for i in range(n):
        kind = KINDS[int(rng.choice(len(KINDS), p=np.asarray(WEIGHTS) / sum(WEIGHTS)))]
        T = int(rng.integers(min_len, max_len + 1)) if kind != "short" else int(rng.integers(6, 20))
        t = np.arange(T, dtype=np.float64)
        base = float(rng.lognormal(6.0, 1.2))
        amp = rng.uniform(0.15, 0.6)
        phase = rng.uniform(0, 2 * np.pi)
        shape = 1 + amp * np.sin(2 * np.pi * np.arange(season) / season + phase)
        shape += rng.normal(0, 0.08, season)  # not a pure sine: holidays, peaks
        shape = np.clip(shape, 0.2, None)
        s = shape[(t % season).astype(int)] if season > 1 else np.ones(T)
        noise = rng.lognormal(0, rng.uniform(0.04, 0.18), T)
        if kind == "seasonal":
            y = base * s * noise
        elif kind == "seasonal_trend":
            g = rng.uniform(-0.006, 0.015)
            y = base * np.exp(g * t) * s * noise
        elif kind == "trend":
            y = base * (1 + rng.uniform(-0.004, 0.012) * t) * noise
        elif kind == "random_walk":
            y = base * np.exp(np.cumsum(rng.normal(0.002, 0.05, T)))
        elif kind == "level_shift":
            k = int(rng.integers(T // 3, T - 6))
            y = base * np.where(t >= k, rng.uniform(0.6, 1.6), 1.0) * (s if rng.random() < 0.5 else 1.0) * noise
        elif kind in ("intermittent", "lumpy"):
            p = rng.uniform(0.15, 0.55)
            size = rng.gamma(2.0 if kind == "intermittent" else 0.6, rng.uniform(2, 12), T)
            y = np.where(rng.random(T) < p, np.ceil(size), 0.0)
            if not y.any():
                y[-3] = 1.0
        else:  # short
            y = base * noise
        y = np.maximum(y, 0.0)
        if kind not in ("intermittent", "lumpy"):
            y = np.round(y, 1)
        out.append((f"S{i:05d}", kind, y))
    return out


def to_long_csv(series: list[tuple[str, str, np.ndarray]], start_year: int = 2010, defects: bool = True,
                seed: int = 11) -> bytes:
    """The long CSV (``series_id,period,value`` with YYYY-MM periods); with ``defects`` one series
    loses a point in the middle (a gap), one row has a non-numeric value and one a bad period."""
    rng = np.random.default_rng(seed)
    buf = io.StringIO()
    buf.write("series_id,period,value\n")
    gap_series = series[0][0] if defects and series else None
    for sid, _kind, y in series:
        T = len(y)
        start = start_year * 12 + int(rng.integers(0, 24))
        gap = T // 2 if sid == gap_series and T > 10 else -1
        for k in range(T):
            if k == gap:
                continue
            mo = start + k
            buf.write(f"{sid},{mo // 12:04d}-{mo % 12 + 1:02d},{y[k]:g}\n")
    if defects:
        buf.write("S99998,2015-13,4\n")  # month 13: a bad period
        buf.write(f"{series[-1][0] if series else 'S99999'},1999-01,n/a\n")  # not a number
    return buf.getvalue().encode()
