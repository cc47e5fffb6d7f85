"""`depot forecast run|show|evaluate|accuracy`: demand forecasts and how accurate they are.

``run`` forecasts every item x warehouse that sold (the replenishment run then uses them);
``evaluate FILE.csv --horizon H --season S`` scores the methods on anyone's history (a long
CSV) against a seasonal naive. JSON output never holds NaN or infinity (null instead).
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
from pathlib import Path
from typing import Any

from app.cli.common import add_db_option, add_json_option, print_table
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("forecast", help="demand forecasts per item x warehouse, and their accuracy")
    fsub = p.add_subparsers(dest="forecast_command", required=True, metavar="ACTION")
    r = fsub.add_parser("run", help="forecast every item x warehouse that sold (replenishment uses them)")
    add_db_option(r)
    add_json_option(r)
    r.add_argument("--weeks", type=int, default=104, help="weeks of sales history (default 104)")
    r.add_argument("--horizon", type=int, default=13, help="weeks ahead (default 13)")
    r.add_argument("--date", default=None, help="forecast as of this date (YYYY-MM-DD, default today)")
    r.add_argument("--user", default=None, help="act as this user (default: a system run)")
    r.set_defaults(func=_run)
    s = fsub.add_parser("show", help="the stored forecast of one item at one warehouse, and why")
    add_db_option(s)
    add_json_option(s)
    s.add_argument("sku")
    s.add_argument("warehouse")
    s.set_defaults(func=_show)
    a = fsub.add_parser("accuracy", help="the newest run's backtest accuracy (the dashboard's figure)")
    add_db_option(a)
    add_json_option(a)
    a.set_defaults(func=_accuracy)
    e = fsub.add_parser("evaluate", help="hold out the last H points of each series in a long CSV and score "
                        "every method against the seasonal naive (MASE, bias, AvgRelMAE)")
    e.add_argument("file", type=Path, metavar="FILE.csv", help="series_id,period,value (period YYYY-MM, "
                   "YYYY-Www, YYYY-MM-DD or a whole number)")
    e.add_argument("--horizon", type=int, required=True, help="points held out at the end of each series")
    e.add_argument("--season", type=int, default=1, help="season length: 12 monthly, 52 weekly, 1 none")
    e.add_argument("--fill", choices=("interpolate", "zero"), default="interpolate",
                   help="missing points inside a series (default interpolate; zero for sales)")
    add_json_option(e)
    e.set_defaults(func=_evaluate)


def clean(o: Any) -> Any:
    """NaN and infinities become null (JSON has no such numbers; a reader would choke)."""
    if isinstance(o, float):
        return o if math.isfinite(o) else None
    if isinstance(o, dict):
        return {str(k): clean(v) for k, v in o.items()}
    if isinstance(o, list | tuple):
        return [clean(v) for v in o]
    if isinstance(o, dt.date | dt.datetime):
        return o.isoformat()
    return o


def dump(data: Any) -> None:
    json.dump(clean(data), sys.stdout, indent=2, allow_nan=False)
    sys.stdout.write("\n")


def _date(value: str | None) -> dt.date | None:
    if not value:
        return None
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise ValidationError("--date", f"{value!r} is not a date (YYYY-MM-DD)") from None


def _run(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.auth import actor_by_name
    from app.services.forecast.demand import run_forecasts

    with session_for(args) as s:
        actor = actor_by_name(s, args.user) if args.user else None
        res = run_forecasts(s, actor, today=_date(args.date), weeks=args.weeks, horizon=args.horizon)
    if args.json:
        dump(res.as_dict())
        return 0
    print(f"{res.series} item x warehouse series forecast {res.horizon} weeks from {res.origin_week} "
          f"(history from {res.first_week})")
    print("classes: " + ", ".join(f"{k} {v}" for k, v in res.classes.items()))
    print("methods: " + ", ".join(f"{k} {v}" for k, v in res.methods.items()))
    if res.mase_mean is not None:
        print(f"backtest MASE {res.mase_mean:.3f} mean, {res.mase_median:.3f} median")
    print(f"read {res.seconds_read:.2f} s, forecast {res.seconds_forecast:.2f} s, write {res.seconds_write:.2f} s")
    for n in res.notes:
        print(n)
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.forecast.demand import pair_forecast

    with session_for(args) as s:
        f = pair_forecast(s, args.sku, args.warehouse)
    if f is None:
        msg = (f"no forecast for {args.sku.upper()} at {args.warehouse.upper()}: it did not sell in the run's "
               "window, or no run yet (depot forecast run); replenishment uses its sales history")
        if args.json:
            dump({"sku": args.sku.upper(), "warehouse": args.warehouse.upper(), "forecast": None, "reason": msg})
        else:
            print(msg)
        return 0
    if args.json:
        dump(f.as_dict())
        return 0
    err = f"MAE {f.mae:.2f}/week" if f.mae is not None else "no backtest"
    print(f"{f.sku} at {f.warehouse}: {f.method} ({f.klass}; {f.weeks_known} weeks known; {err}"
          + (f"; MASE {f.mase:.2f}" if f.mase is not None else "") + ")")
    if f.reason:
        print(f.reason)
    print(f"weeks from {f.origin}: " + " ".join(f"{v:g}" for v in f.weekly))
    return 0


def _accuracy(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.forecast.demand import accuracy

    with session_for(args) as s:
        a = accuracy(s)
    if args.json:
        dump(a.__dict__)
    else:
        print(a.text)
    return 0


def _evaluate(args: argparse.Namespace) -> int:
    from app.services.forecast.evaluate import evaluate, read_long_csv

    table = read_long_csv(args.file, fill=args.fill)
    rep = evaluate(table, args.horizon, args.season)
    if args.json:
        dump(rep)
        return 0
    print(f"{rep['evaluated']} of {rep['series']} series, last {rep['horizon']} points held out, season "
          f"{rep['season']}; {rep['seconds']} s")
    for line in rep["notes"]:
        print(line)
    if rep["bad_rows"]:
        print(f"{rep['bad_rows']} rows left out:")
        for b in rep["bad_rows_listed"]:
            print(f"  {b}")
    if rep["skipped"]:
        print(f"{rep['skipped']} series too short for the horizon (not scored)")
    rows = [{"method": k, "mase_mean": _n(v["mase_mean"]), "mase_median": _n(v["mase_median"]),
             "bias": _n(v["bias"]), "bias_%": _n(v["bias_pct"]), "avg_rel_mae": _n(v["avg_rel_mae"])}
            for k, v in rep["methods"].items()]
    print_table(rows)
    if rep.get("by_class"):
        print("by class (Depot selection vs seasonal naive):")
        print_table([{"class": c, "series": v["series"], "avg_rel_mae": _n(v["Depot selection"]["avg_rel_mae"]),
                      "mase": _n(v["Depot selection"]["mase_mean"]),
                      "seasonal_naive_mase": _n(v["seasonal naive"]["mase_mean"])}
                     for c, v in rep["by_class"].items()])
    return 0


def _n(v: Any) -> str:
    return "-" if v is None else f"{v:g}"
