"""Accuracy on anyone's data: hold out the last H points of each series and score the methods.

Input is a long CSV (``series_id, period, value``; also ``unique_id, ds, y`` as many public
sets are published). A period is ``YYYY-MM``, ``YYYY-Www``, a date ``YYYY-MM-DD`` (monthly when
the dates are a month or more apart, weekly when a multiple of 7 days, else daily) or an
integer. Rows that cannot be read are left out and listed (line and reason), never guessed.

Scores (per method and for Depot's selection), over the held-out points:

* MASE: the MAE over the horizon divided by the in-sample MAE of the seasonal naive (lag S, lag
  1 when the series is shorter than a season); mean and median over series. Series whose
  in-sample scale is zero are left out of MASE and counted.
* bias: mean scaled error (forecast - actual over the same scale) and the total error as a
  percent of the total actual.
* AvgRelMAE: the geometric mean over series of MAE(method) / MAE(seasonal naive) (Davydenko &
  Fildes); below 1 beats the seasonal naive. Series where both are zero count as 1; where only
  the seasonal naive is zero they are left out and counted.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import re
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from app.services.errors import DomainError, ValidationError
from app.services.forecast import selection as sel
from app.services.forecast.methods import F, fill_gaps

_HEADERS = {
    "series": ("series_id", "unique_id", "series", "id", "item", "sku"),
    "period": ("period", "ds", "date", "week", "month", "t"),
    "value": ("value", "y", "qty", "quantity", "demand", "sales"),
}
MAX_BAD_LISTED = 20


@dataclass
class Table:
    """Series read from a long CSV: right-aligned matrix rows with NaN for missing points."""

    ids: list[str]
    Y: F
    bad_rows: list[str] = field(default_factory=list)
    bad_count: int = 0
    gaps_filled: int = 0
    notes: list[str] = field(default_factory=list)


def _decode(data: bytes, name: str) -> str:
    if data.startswith(b"PK\x03\x04"):
        raise DomainError(f"{name}: this is an Excel workbook, not a CSV file (save it as CSV UTF-8)")
    for enc in ("utf-8-sig", "cp1252"):
        try:
            return data.decode(enc)
        except UnicodeDecodeError:
            continue
    raise DomainError(f"{name}: neither UTF-8 nor Windows-1252 text")


def _period_key(text: str) -> tuple[str, int] | None:
    """(kind, ordinal) of a period cell, or None when it is none of the forms."""
    s = text.strip()
    if re.fullmatch(r"[+-]?\d+", s):
        return "int", int(s)
    m = re.fullmatch(r"(\d{4})-(\d{1,2})", s)
    if m and 1 <= int(m.group(2)) <= 12:
        return "month", int(m.group(1)) * 12 + int(m.group(2)) - 1
    m = re.fullmatch(r"(\d{4})-?W(\d{1,2})", s, flags=re.IGNORECASE)
    if m:
        try:
            d = dt.date.fromisocalendar(int(m.group(1)), int(m.group(2)), 1)
        except ValueError:
            return None
        return "week", d.toordinal() // 7
    m = re.fullmatch(r"(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+)?", s)
    if m:
        try:
            d = dt.date(int(m.group(1)), int(m.group(2)), int(m.group(3)))
        except ValueError:
            return None
        return "date", d.toordinal()
    return None


def _number(text: str) -> float | None:
    s = text.strip()
    if s == "" or s.upper() in ("NA", "NAN", "NULL", "-"):
        return math.nan  # a missing reading: a gap
    try:
        v = float(s.replace(",", ".") if s.count(",") == 1 and "." not in s else s)
    except ValueError:
        return None
    return v if math.isfinite(v) else None


def read_long_csv(source: Path | str | bytes, *, name: str = "", fill: str = "interpolate") -> Table:
    """Parse the long CSV; see the module docstring. ``fill``: how gaps inside a series are filled."""
    if fill not in ("interpolate", "zero"):
        raise ValidationError("fill", f"{fill!r} must be interpolate or zero")
    if isinstance(source, bytes):
        data, name = source, name or "<input>"
    else:
        p = Path(source)
        name = name or str(p)
        if not p.is_file():
            raise DomainError(f"{p}: no such file")
        data = p.read_bytes()
    text = _decode(data, name)
    first = next((ln for ln in text.splitlines() if ln.strip()), "")
    hint = re.fullmatch(r'"?sep=(.)"?\s*', first.strip(), flags=re.IGNORECASE)  # Excel's own hint line
    if hint:
        delim = hint.group(1)
        text = text.replace(first, "", 1)
    else:
        delim = max((",", ";", "\t"), key=lambda d: first.count(d))
    reader = csv.reader(io.StringIO(text), delimiter=delim)
    bad: list[str] = []
    nbad = 0
    cols: tuple[int, int, int] | None = None
    series: dict[str, dict[int, float]] = {}
    kinds: dict[str, str] = {}

    def refuse(line: int, why: str) -> None:
        nonlocal nbad
        nbad += 1
        if len(bad) < MAX_BAD_LISTED:
            bad.append(f"line {line}: {why}")

    for line_no, row in enumerate(reader, start=1):
        if not row or all(not c.strip() for c in row):
            continue
        if cols is None:
            low = [c.strip().lower() for c in row]
            found = [next((low.index(h) for h in _HEADERS[k] if h in low), -1) for k in ("series", "period", "value")]
            if all(i >= 0 for i in found):
                cols = (found[0], found[1], found[2])
                continue
            if len(row) >= 3 and _period_key(row[1]) is not None:
                cols = (0, 1, 2)  # no header: series, period, value
            else:
                raise ValidationError("header", f"{name}: the first row must name series_id, period and value "
                                      f"(found {', '.join(row[:6])})")
        if len(row) <= max(cols):
            refuse(line_no, f"{len(row)} columns, expected at least {max(cols) + 1}")
            continue
        sid, per, val = row[cols[0]].strip(), row[cols[1]], row[cols[2]]
        if not sid:
            refuse(line_no, "series_id is empty")
            continue
        key = _period_key(per)
        if key is None:
            refuse(line_no, f"period {per.strip()!r} is not YYYY-MM, YYYY-Www, YYYY-MM-DD or a whole number")
            continue
        v = _number(val)
        if v is None:
            refuse(line_no, f"value {val.strip()!r} is not a number")
            continue
        kind = kinds.setdefault(sid, key[0])
        if kind != key[0]:
            refuse(line_no, f"period {per.strip()!r} is a {key[0]} but series {sid} uses {kind} periods")
            continue
        pts = series.setdefault(sid, {})
        if key[1] in pts:
            refuse(line_no, f"series {sid} has period {per.strip()!r} twice (the first is kept)")
            continue
        pts[key[1]] = v
    if cols is None or not series:
        raise ValidationError("file", f"{name}: no series in it")
    notes: list[str] = []
    ids = sorted(series)
    rows: list[np.ndarray] = []
    for sid in ids:
        pts = series[sid]
        keys = sorted(pts)
        if kinds[sid] == "date":
            pts = dict(_date_periods(pts, keys))
            keys = sorted(pts)
        lo, hi = keys[0], keys[-1]
        if hi - lo > 100_000:
            refuse(0, f"series {sid} spans {hi - lo + 1} periods; left out")
            continue
        arr = np.full(hi - lo + 1, np.nan)
        for k in keys:
            arr[k - lo] = pts[k]
        # trailing/leading NaN (missing first/last readings) are trimmed
        ok = np.nonzero(~np.isnan(arr))[0]
        arr = arr[ok[0]:ok[-1] + 1] if len(ok) else arr[:0]
        rows.append(arr)
    kept = [i for i, r in zip(ids, rows, strict=False)]
    T = max((len(r) for r in rows), default=0)
    Y = np.full((len(rows), T), np.nan)
    for i, r in enumerate(rows):
        if len(r):
            Y[i, T - len(r):] = r
    Y, filled = fill_gaps(Y, fill)
    if filled:
        notes.append(f"{filled} missing points inside series filled ({fill})")
    return Table(kept, Y, bad, nbad, filled, notes)


def _date_periods(pts: dict[int, float], keys: list[int]) -> list[tuple[int, float]]:
    """Dates to month, week or day ordinals by their spacing."""
    ds = [dt.date.fromordinal(k) for k in keys]
    diffs = [b - a for a, b in zip(keys, keys[1:], strict=False)]
    months = [d.year * 12 + d.month - 1 for d in ds]
    if len(set(months)) == len(months) and (not diffs or min(diffs) >= 28):
        return [(mo, pts[k]) for mo, k in zip(months, keys, strict=True)]
    if diffs and all(d % 7 == 0 for d in diffs):
        return [(k // 7, pts[k]) for k in keys]
    return [(k, pts[k]) for k in keys]


def _gmean(r: F) -> float | None:
    r = r[np.isfinite(r) & (r > 0)]
    return float(np.exp(np.mean(np.log(r)))) if len(r) else None


def _f(x: float | None, nd: int = 4) -> float | None:
    """A figure for JSON: rounded, and None (null) for anything that is not finite."""
    if x is None or not math.isfinite(x):
        return None
    return round(float(x), nd)


def evaluate(table: Table, horizon: int, season: int, *, origins: int = 3) -> dict[str, Any]:
    """Hold out the last ``horizon`` points of each series and score every method and the selection."""
    if horizon < 1 or horizon > 1000:
        raise ValidationError("horizon", f"{horizon} must be between 1 and 1000")
    if season < 1 or season > 400:
        raise ValidationError("season", f"{season} must be between 1 and 400")
    t0 = time.perf_counter()
    Y = table.Y
    n, T = Y.shape
    lengths = (~np.isnan(Y)).sum(axis=1)
    usable = lengths > horizon
    skipped = [f"{table.ids[i]}: {int(lengths[i])} points, not more than the horizon {horizon}"
               for i in np.nonzero(~usable)[0]]
    rows = np.nonzero(usable)[0]
    report: dict[str, Any] = {
        "series": int(n), "evaluated": int(len(rows)), "horizon": horizon, "season": season,
        "bad_rows": table.bad_count, "bad_rows_listed": table.bad_rows, "notes": list(table.notes),
        "skipped": len(skipped), "skipped_listed": skipped[:MAX_BAD_LISTED],
    }
    if not len(rows):
        report.update(methods={}, selection=None, seconds=_f(time.perf_counter() - t0, 3))
        report["notes"].append("no series longer than the horizon: nothing to score")
        return report
    train = Y[rows, :T - horizon]
    actual = Y[rows, T - horizon:]
    t1 = time.perf_counter()
    res = sel.run(train, horizon, season, origins=origins, floor=bool(np.nanmin(Y[rows]) >= 0), keep_all=True)
    select_seconds = time.perf_counter() - t1
    scale = res.scale
    forecasts: dict[str, F] = {sel.METHODS[k]: v for k, v in res.per_method.items() if k != sel.ZERO}
    forecasts["Depot selection"] = res.path
    sn = forecasts["seasonal naive"]
    # the benchmark itself must exist for every series: naive where a season is not known
    sn = np.where(np.isnan(sn), forecasts["naive"], sn)
    forecasts["seasonal naive"] = sn
    mae_sn = np.nanmean(np.abs(sn - actual), axis=1)
    methods: dict[str, Any] = {}
    for name, fc in forecasts.items():
        methods[name] = _scores(fc, actual, scale, mae_sn)
    by_class: dict[str, Any] = {}
    for c in np.unique(res.klass):
        m = res.klass == c
        by_class[sel.CLASSES[int(c)]] = {
            "series": int(m.sum()),
            "Depot selection": _scores(res.path[m], actual[m], scale[m], mae_sn[m]),
            "seasonal naive": _scores(sn[m], actual[m], scale[m], mae_sn[m]),
        }
    chosen = {sel.METHODS[k]: int((res.method == k).sum()) for k in np.unique(res.method)}
    report.update(
        methods=methods, selection=methods["Depot selection"], by_class=by_class, methods_chosen=chosen,
        seconds=_f(time.perf_counter() - t0, 3), forecast_seconds=_f(select_seconds, 3))
    return report


def _scores(fc: F, actual: F, scale: F, mae_sn: F) -> dict[str, Any]:
    err = fc - actual
    ok = ~np.isnan(err)
    cnt = ok.sum(axis=1)
    have = cnt > 0
    mae = np.where(have, np.where(ok, np.abs(err), 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    me = np.where(have, np.where(ok, err, 0.0).sum(axis=1) / np.maximum(cnt, 1), np.nan)
    sc_ok = have & np.isfinite(scale) & (scale > 0)
    mase = mae[sc_ok] / scale[sc_ok]
    bias = me[sc_ok] / scale[sc_ok]
    both_zero = have & (mae == 0) & (mae_sn == 0)
    rel_ok = have & (mae_sn > 0) & (mae > 0)
    ratios = np.concatenate([mae[rel_ok] / mae_sn[rel_ok], np.ones(int(both_zero.sum()))])
    tot_act = float(np.nansum(np.abs(actual[have])))
    out = {
        "series": int(have.sum()),
        "mase_mean": _f(float(np.mean(mase)) if len(mase) else None),
        "mase_median": _f(float(np.median(mase)) if len(mase) else None),
        "bias": _f(float(np.mean(bias)) if len(bias) else None),
        "bias_pct": _f(100.0 * float(np.nansum(np.where(ok, err, 0.0)[have])) / tot_act if tot_act > 0 else None, 2),
        "avg_rel_mae": _f(_gmean(ratios)),
        "left_out_of_mase": int((have & ~sc_ok).sum()),
        "left_out_of_rel_mae": int((have & ~rel_ok & ~both_zero).sum()),
    }
    if not have.all():
        out["no_forecast"] = int((~have).sum())
    return out
