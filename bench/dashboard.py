"""`python -m bench dashboard --db FILE [--period 12m] [--repeat 5] [--user manager]`: the dashboard's
figures (goals: every KPI for 12 months under 3 s; the screen open to its first chart painted
under 1 s).

1. ``compute``: every KPI over the period, all branches (the head-office view), in one read
   transaction, as the screen and ``depot kpi`` run it; wall and CPU seconds, median of the runs
   (CPU is the figure that does not depend on how busy the machine is), with the slowest KPIs.
2. ``open``: a DashboardScreen built offscreen for the user; the clock stops when its chart has
   painted figures: at once from the last figures shown (the cache the screen keeps), and, with
   no cache, once the background computation delivered them.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import sys
import tempfile
import time
from pathlib import Path


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _compute(db: Path, period: str, repeat: int) -> None:
    from app.services.db import open_database, session_scope
    from app.services.kpi.compute import compute
    from app.services.kpi.scope import make_scope

    engine = open_database(db)
    walls, cpus = [], []
    per: dict[str, list[float]] = {}
    figures = 0
    for _ in range(repeat):
        marks: list[tuple[str, float]] = []
        with session_scope(engine, write=False) as s:
            t0, c0 = time.perf_counter(), _cpu()
            scope = make_scope(s, period=period)
            figs = compute(s, scope, progress=lambda d, t, text, marks=marks: marks.append((text, _cpu())))
            walls.append(time.perf_counter() - t0)
            cpus.append(_cpu() - c0)
        figures = sum(1 for f in figs if f.state == "ok")
        for (name, c), (_n, c2) in zip(marks, marks[1:], strict=False):
            per.setdefault(name, []).append(c2 - c)
    engine.dispose()
    slow = sorted(((statistics.median(v), k) for k, v in per.items()), reverse=True)[:4]
    print(f"compute: {len(figs)} KPIs ({figures} with figures) over {period}, all branches: median "
          f"{statistics.median(walls):.2f} s wall, {statistics.median(cpus):.2f} s CPU "
          f"(min {min(cpus):.2f}, max {max(cpus):.2f} CPU; {repeat} runs)")
    print("  slowest (CPU s): " + ", ".join(f"{k} {v:.2f}" for v, k in slow))


def _open(db: Path, user: str, repeat: int) -> None:
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    from app.services.auth import actor_by_name
    from app.services.db import open_database, session_scope
    from app.services.settings import Settings
    from app.views.context import make_context
    from app.views.dashboard.screen import DashboardScreen

    app = QApplication.instance() or QApplication(sys.argv)
    engine = open_database(db)
    with session_scope(engine, write=False) as s:
        actor = actor_by_name(s, user)
    with tempfile.TemporaryDirectory(prefix="depot-bench-dash-") as tmp:
        ctx = make_context(engine, actor, Settings(Path(tmp) / "settings.json"))
        results: dict[str, list[float]] = {"no cache": [], "cached": []}
        for n in range(repeat + 1):
            t0 = time.perf_counter()
            screen = DashboardScreen(ctx)
            screen.resize(1216, 720)
            screen.show()
            cached = bool(screen.figures)
            while not screen.chart.painted_figure():
                app.processEvents()
                time.sleep(0.002)
            painted = time.perf_counter() - t0
            while screen.scope is None:  # let the background computation finish (and fill the cache)
                app.processEvents()
                time.sleep(0.01)
            ctx.runner.wait_idle(60000)
            app.processEvents()
            if n:  # the first open also imports pyqtgraph and warms SQLite's cache
                results["cached" if cached else "no cache"].append(painted)
            if not cached and n == 0:
                results["no cache"].append(painted)
            screen.close()
            screen.deleteLater()
            app.processEvents()
        ctx.runner.shutdown()
    for key, vals in results.items():
        if vals:
            print(f"open to first chart painted ({key}): median {statistics.median(vals) * 1000:.0f} ms "
                  f"(min {min(vals) * 1000:.0f}, max {max(vals) * 1000:.0f}; {len(vals)} opens)")
    engine.dispose()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench dashboard")
    ap.add_argument("--db", type=Path, required=True, help="a seeded database (depot seed --size large)")
    ap.add_argument("--period", default="12m")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--user", default="manager")
    ap.add_argument("--skip-open", action="store_true", help="only the computation")
    args = ap.parse_args(argv)
    with open("/proc/loadavg") as f:
        load = f.read().split()[0]
    print(f"database {args.db} ({args.db.stat().st_size / 1e6:,.0f} MB); load average {load} at the start")
    _compute(args.db, args.period, args.repeat)
    if not args.skip_open:
        _open(args.db, args.user, args.repeat)
    with open("/proc/loadavg") as f:
        print(f"load average {f.read().split()[0]} at the end")
    return 0
