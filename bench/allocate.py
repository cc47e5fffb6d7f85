"""Allocation figures on the large data set (goals: a run over 20,000 open lines < 2 s; the
simulation the same).

* **simulate**: ``runs.simulate`` over every warehouse (read snapshot, rank, fair shares, lots,
  reasons, diff), in a read transaction: what the screen's Simulate and ``depot allocate
  --simulate`` do.
* **run**: simulate in a read transaction, then ``runs.run`` in a write transaction (checks that no
  line changed meanwhile, ledger rows, reservations, order statuses, audit), timed together as a
  dispatcher waits for them; the write is rolled back so every repeat starts from the same book.
  ``--policy`` picks the keys (default: the warehouses' own); the seeded book was allocated first
  come first served, so the everyday tier-first policy moves stock and serves today's orders.
* **run from zero** (``--from-zero``): every reservation is taken back first (not timed, in the
  same rolled-back transaction), so the timed run allocates the whole book: the first run's cost.

    depot bench allocate --db FILE [--repeat 3] [--policy KEYS] [--from-zero]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
from pathlib import Path
from typing import Any

LARGE = Path("/tmp/orders/large.db")


def _release_everything(session: Any, actor: Any) -> int:
    from app.services.allocation import plan as planner
    from app.services.allocation import runs, snapshot
    from app.services.allocation.apply import apply_plan
    from app.services.allocation.policy import Policy

    released = 0
    for wh in runs.scope(session):
        snap = snapshot.load(session, [wh.id])
        plan = planner.build(snap, Policy())
        for ln in plan.lines:  # a plan that gives every line nothing
            ln.target, ln.target_lots, ln.rule, ln.reason = 0, {}, "release", "bench: from zero"
            ln.__dict__.pop("_deltas", None)
        plan.order_status, plan.holds = {}, {}
        released += apply_plan(session, actor, plan, kind="release", verify=False).units_released
    return released


def main(argv: list[str]) -> int:
    from sqlalchemy.orm import Session

    from app.services.allocation import runs
    from app.services.auth import actor_by_name
    from app.services.db import open_database, writer

    p = argparse.ArgumentParser(prog="depot bench allocate")
    p.add_argument("--db", type=Path, default=Path(os.environ.get("DEPOT_BENCH_DB", LARGE)))
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--policy", default=None, help="keys, e.g. tier,fair_share (default: each warehouse's)")
    p.add_argument("--from-zero", action="store_true", help="take every reservation back first (the first run)")
    args = p.parse_args(argv)
    engine = open_database(args.db)
    sims, totals, writes = [], [], []
    sim_cpu, run_cpu = [], []
    figures: dict[str, Any] = {}
    try:
        for n in range(args.repeat):
            with Session(engine) as s:
                actor = actor_by_name(s, "dispatcher")
                t0, c0 = time.perf_counter(), time.process_time()
                plan = runs.simulate(s, actor, keys=args.policy)
                sims.append(time.perf_counter() - t0)
                sim_cpu.append(time.process_time() - c0)
                figures = plan.figures()
            with Session(writer(engine)) as s:
                actor = actor_by_name(s, "dispatcher")
                if args.from_zero:
                    released = _release_everything(s, actor)
                    s.flush()
                    t0, c0 = time.perf_counter(), time.process_time()
                    with Session(bind=s.connection()) as r:  # the same transaction: it sees the releases
                        plan = runs.simulate(r, actor, keys=args.policy)
                        figures = plan.figures()
                    t1 = time.perf_counter()
                    res = runs.run(s, actor, plan)
                    s.flush()
                    t2 = time.perf_counter()
                    figures["released_first"] = released
                else:
                    t0, c0 = time.perf_counter(), time.process_time()
                    with Session(engine) as r:
                        plan = runs.simulate(r, actor, keys=args.policy)
                    t1 = time.perf_counter()
                    res = runs.run(s, actor, plan)
                    s.flush()
                    t2 = time.perf_counter()
                c2 = time.process_time()
                s.rollback()
            totals.append(t2 - t0)
            run_cpu.append(c2 - c0)
            writes.append(t2 - t1)
            print(f"  repeat {n + 1}: simulate {sims[-1]:.2f} s; run {totals[-1]:.2f} s (of it writing {writes[-1]:.2f} s)"
                  f" - {res.lines_changed:,} lines changed, +{res.units_allocated:,} / -{res.units_released:,} units, "
                  f"{len(res.failures)} failed; CPU simulate {sim_cpu[-1]:.2f} s, run {run_cpu[-1]:.2f} s")
    finally:
        engine.dispose()
    print(f"allocation over {figures.get('lines', 0):,} lines ({args.db.name}): simulate median "
          f"{statistics.median(sims):.2f} s (best {min(sims):.2f}); run median {statistics.median(totals):.2f} s "
          f"(best {min(totals):.2f}; writing median {statistics.median(writes):.2f} s); CPU: simulate median "
          f"{statistics.median(sim_cpu):.2f} s, run median {statistics.median(run_cpu):.2f} s")
    print(f"  {figures}")
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    return 0
