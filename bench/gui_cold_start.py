"""Cold start: process start to the first painted main window on the large database (goal < 1.0 s).

`depot bench gui_cold_start [--db PATH] [--repeat N] [--user NAME] [--exe PROGRAM]`

``--exe`` times an installed program instead of the source run (e.g. the PyInstaller bundle's
``/opt/depot/depot``; issue 19 asks for it within 1.5x of the source run).

Definition: the clock starts in this (parent) process just before it spawns
`python -m app gui --db PATH --user NAME` (QT_QPA_PLATFORM=offscreen, DEPOT_AUTOLOGIN=1 so the
password dialog is skipped, DEPOT_EXIT_AFTER_PAINT=1). It stops at the time the child prints
from MainWindow.paintEvent the first time it runs - the main window, with its nav rail,
status bar and the Master data screen constructed (its first page may still be loading
on a worker; that is the item_list benchmark). Includes interpreter start, imports, the
schema check, the login lookup and building the window. The child then closes itself.
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def _one(path: Path, user: str, env: dict[str, str], exe: str = "") -> tuple[float, float, float, float, float]:
    """(process start -> first paint, launch() -> first paint, process start -> first screen ready,
    CPU seconds the child used in all, to its exit, CPU seconds the child used up to the first
    paint) - CPU time is the figure that does not depend on how busy the machine is."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.time()
    program = [exe] if exe else [sys.executable, "-m", "app"]
    out = subprocess.run([*program, "gui", "--db", str(path), "--user", user],
                         env=env, capture_output=True, text=True, timeout=120)
    marks = {line.split()[0]: line.split() for line in out.stdout.splitlines()
             if line.startswith(("first-paint ", "screen-ready "))}
    if "first-paint" not in marks:
        raise RuntimeError(f"no paint reported (exit {out.returncode}): {out.stderr.strip()[-500:]}")
    # the window shows an internal error and goes on (its report lands in the data folder): a first
    # screen whose rows failed to load still reports screen-ready, so its figure is no figure
    reports = sorted((Path(env["DEPOT_DATA_DIR"]) / "logs").glob("internal-error-*.txt"))
    if reports:
        last = reports[-1].read_text(errors="replace").strip().splitlines()
        raise RuntimeError(f"the window hit an internal error ({reports[-1]}): {last[-1] if last else '?'}")
    paint = marks["first-paint"]
    ready = float(marks["screen-ready"][1]) - t0 if "screen-ready" in marks else float("nan")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return float(paint[1]) - t0, float(paint[3]), ready, cpu, float(paint[5])


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench gui_cold_start")
    ap.add_argument("--db", default=None)
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument("--user", default="admin")
    ap.add_argument("--exe", default="", help="an installed depot program to time instead of the source run")
    args = ap.parse_args(argv)
    from bench._gui_data import bench_db

    path = bench_db(args.db)
    tmp = Path(tempfile.mkdtemp(prefix="depot-cold-"))
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen", DEPOT_AUTOLOGIN="1", DEPOT_EXIT_AFTER_PAINT="1",
               DEPOT_KEYRING="memory", DEPOT_CONFIG_DIR=str(tmp / "cfg"), DEPOT_QSETTINGS_FILE=str(tmp / "qt.ini"),
               DEPOT_DATA_DIR=str(tmp / "data"),
               PYTHONPATH=str(Path(__file__).resolve().parent.parent))
    print(f"database {path} ({path.stat().st_size / 1e6:.0f} MB), user {args.user}, "
          f"program {args.exe or sys.executable + ' -m app'}")
    totals, inner, readies, cpus, paint_cpus = [], [], [], [], []
    try:
        for i in range(args.repeat):
            total, in_proc, ready, cpu, paint_cpu = _one(path, args.user, env, args.exe)
            cpus.append(cpu * 1000)
            paint_cpus.append(paint_cpu * 1000)
            totals.append(total * 1000)
            inner.append(in_proc * 1000)
            readies.append(ready * 1000)
            print(f"  run {i + 1}: process start -> first paint {total * 1000:7.1f} ms "
                  f"(launch() -> paint {in_proc * 1000:6.1f} ms); first screen with rows {ready * 1000:7.1f} ms; "
                  f"child CPU to first paint {paint_cpu * 1000:5.0f} ms, to exit {cpu * 1000:5.0f} ms")
    finally:  # the child's settings, data folder (logs, internal-error reports)
        shutil.rmtree(tmp, ignore_errors=True)
    med = statistics.median(totals)
    print(f"cold start: median {med:.0f} ms, min {min(totals):.0f} ms, max {max(totals):.0f} ms; "
          f"launch()->paint median {statistics.median(inner):.0f} ms; first screen with rows median "
          f"{statistics.median(readies):.0f} ms  goal < 1000 ms: {'met' if med < 1000 else 'NOT met'}")
    print(f"child CPU time to first paint: median {statistics.median(paint_cpus):.0f} ms "
          f"(the load-independent figure); to exit (first screen and closing too): median "
          f"{statistics.median(cpus):.0f} ms")
    print(f"load average now: {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    return 0
