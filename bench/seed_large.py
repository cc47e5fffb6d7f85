"""`depot bench seed_large [--size large|demo] [--seed N] [--keep PATH]`: time the seed.

Seeds into a temporary file (or --keep PATH, which must not exist) and prints wall and CPU
seconds (this process and its worker processes), the seed's phases, rows per table and the
file size. The goal for large is under 60 s on a 2-core machine.
"""

from __future__ import annotations

import argparse
import resource
import tempfile
import time
from pathlib import Path


def _cpu_split() -> tuple[float, float]:
    me = resource.getrusage(resource.RUSAGE_SELF)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime, kids.ru_utime + kids.ru_stime


def _cpu() -> float:
    return sum(_cpu_split())


def main(argv: list[str]) -> int:
    from app.services.seed import seed_database

    ap = argparse.ArgumentParser(prog="depot bench seed_large")
    ap.add_argument("--size", default="large", choices=("demo", "large"))
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--keep", type=Path, default=None, help="write the database here and keep it")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="depot-bench-") as tmp:
        path = args.keep or Path(tmp) / f"{args.size}.db"
        t0, c0 = time.perf_counter(), _cpu()
        m0, k0 = _cpu_split()
        phases: list[tuple[str, float, float]] = []

        def progress(done: int, total: int, text: str) -> None:
            if not phases or phases[-1][0] != text:
                phases.append((text, time.perf_counter() - t0, _cpu() - c0))

        report = seed_database(path, args.size, args.seed, progress=progress)
        wall, cpu = time.perf_counter() - t0, _cpu() - c0
        m1, k1 = _cpu_split()
        with open("/proc/loadavg") as f:
            load = f.read().split()[0]
        print(f"seed {args.size} (seed {args.seed}): {wall:.1f} s wall, {cpu:.1f} s CPU (all processes), "
              f"{report.file_bytes / 1e6:.0f} MB, load average {load} at the end")
        print(f"CPU: main process (SQLite writer) {m1 - m0:.1f} s, worker processes {k1 - k0:.1f} s")
        print("phase ends (wall s / CPU s): " + ", ".join(f"{t} {w:.1f}/{c:.1f}" for t, w, c in phases))
        for table, n in sorted(report.counts.items(), key=lambda kv: -kv[1]):
            print(f"  {table:24s} {n:>10,}")
        if args.keep:
            print(f"kept {path}")
    return 0
