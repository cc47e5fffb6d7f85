"""Wave planning and release of 5,000 allocated lines on the large data set (goal: under 2 s), and
the walking distance of the planned paths against picking the same lines in order-line order.

The large seed leaves a few hundred orders fully allocated; the rest wait for stock. So, untimed
and in the same transaction (rolled back at the end, every repeat starts from the same book),
stock is put into the pick faces for what the open lines still need and the real allocation run
serves them; then orders are taken in number order until they hold ``--lines`` lines. Timed: the
plan of those orders (``plan_waves``: bins, lots, walking order, cut-offs, timing, rows written),
then the release of every wave it made (checks, order statuses, audit), as a dispatcher waits for
them.

    depot bench wave_plan --db FILE [--lines 5000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

LARGE = Path("/tmp/dispatchpick/large.db")


def _top_up(session: Any, actor: Any) -> int:
    """Stock for every open line's shortfall, in the item's pick face (an adjustment), then a run."""
    from sqlalchemy import text

    from app.models.org import Warehouse
    from app.services.allocation import runs
    from app.services.stock import MoveSpec, post_moves, virtual_location

    short = session.execute(text(
        "SELECT o.warehouse_id, l.item_id, SUM(l.qty_ordered - l.qty_shipped - l.qty_allocated), i.track_lot, "
        "i.track_serial FROM sales_order_line l JOIN sales_order o ON o.id = l.order_id JOIN item i ON i.id = l.item_id "
        "WHERE o.status IN ('open', 'backordered', 'allocated') AND l.status = 'open' AND o.deleted_at IS NULL "
        "GROUP BY o.warehouse_id, l.item_id HAVING SUM(l.qty_ordered - l.qty_shipped - l.qty_allocated) > 0")).all()
    faces = {(str(w), str(i)): str(loc) for w, i, loc in session.execute(text(
        "SELECT warehouse_id, fixed_item_id, id FROM location WHERE fixed_item_id IS NOT NULL AND kind = 'storage'"))}
    lots = {str(i): str(lot) for i, lot in session.execute(text(
        "SELECT item_id, id FROM lot WHERE expiry_date IS NULL OR expiry_date > date('now', '+60 days') "
        "ORDER BY expiry_date"))}
    moves_by_wh: dict[str, list[Any]] = {}
    for wh, item, qty, track_lot, track_serial in short:
        loc = faces.get((str(wh), str(item)))
        if loc is None or track_serial or (track_lot and str(item) not in lots):
            continue
        lot = uuid.UUID(lots[str(item)]) if track_lot else None
        moves_by_wh.setdefault(str(wh), []).append((uuid.UUID(str(item)), int(qty), uuid.UUID(loc), lot))
    units = 0
    for wh_hex, specs in moves_by_wh.items():
        wh = session.get(Warehouse, uuid.UUID(wh_hex))
        adj = virtual_location(session, wh.id, "adjust")
        post_moves(session, actor, [MoveSpec(i, q, adj.id, loc, "adjust", lot_id=lot) for i, q, loc, lot in specs],
                   owner_branch_id=wh.branch_id)
        units += sum(q for _i, q, _l, _lot in specs)
    plan = runs.simulate(session, actor)
    runs.run(session, actor, plan)
    return units


def main(argv: list[str]) -> int:
    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.services.auth import actor_by_name
    from app.services.db import open_database, writer
    from app.services.dispatch import waves

    p = argparse.ArgumentParser(prog="depot bench wave_plan")
    p.add_argument("--db", type=Path, default=Path(os.environ.get("DEPOT_BENCH_DB", LARGE)))
    p.add_argument("--lines", type=int, default=5000)
    p.add_argument("--repeat", type=int, default=3)
    args = p.parse_args(argv)
    engine = open_database(args.db)
    plans, releases, totals, cpus = [], [], [], []
    last: dict[str, Any] = {}
    try:
        for n in range(args.repeat):
            with Session(writer(engine)) as s:
                actor = actor_by_name(s, "dispatcher")
                t_up = time.perf_counter()
                topped = _top_up(s, actor)
                t_up = time.perf_counter() - t_up
                chosen, lines = [], 0
                for number, count in s.execute(text(
                        "SELECT o.number, COUNT(*) FROM sales_order o JOIN sales_order_line l ON l.order_id = o.id "
                        "WHERE o.status = 'allocated' AND l.status = 'open' AND l.qty_allocated > 0 "
                        "AND o.deleted_at IS NULL GROUP BY o.id ORDER BY o.number")):
                    if lines >= args.lines:
                        break
                    chosen.append(number)
                    lines += int(count)
                s.flush()
                t0, c0 = time.perf_counter(), time.process_time()
                res = waves.plan_waves(s, actor, orders=chosen)
                s.flush()
                t1 = time.perf_counter()
                rel = waves.release(s, actor, [w.number for w in res.waves])
                s.flush()
                t2, c2 = time.perf_counter(), time.process_time()
                s.rollback()
            plans.append(t1 - t0)
            releases.append(t2 - t1)
            totals.append(t2 - t0)
            cpus.append(c2 - c0)
            walk = sum(w.walk_m for w in res.waves)
            line_walk = sum(w.walk_line_order_m for w in res.waves)
            last = {"orders": len(chosen), "lines": sum(len(w.stops) for w in res.waves), "waves": len(res.waves),
                    "released_lines": rel.lines, "walk_m": walk, "walk_line_order_m": line_walk,
                    "late_waves": sum(1 for w in res.waves if not w.in_time), "notes": len(res.notes)}
            print(f"  repeat {n + 1}: plan {plans[-1]:.2f} s + release {releases[-1]:.2f} s = {totals[-1]:.2f} s "
                  f"(CPU {cpus[-1]:.2f} s); {last['lines']:,} lines of {len(chosen):,} orders in {len(res.waves)} "
                  f"waves (set-up, untimed: {topped:,} units topped up and allocated in {t_up:.1f} s)")
    finally:
        engine.dispose()
    print(f"wave plan + release of {last.get('lines', 0):,} allocated lines ({args.db.name}): median "
          f"{statistics.median(totals):.2f} s wall (best {min(totals):.2f}), CPU median {statistics.median(cpus):.2f} s; "
          f"plan median {statistics.median(plans):.2f} s, release median {statistics.median(releases):.2f} s")
    w, lw = last.get("walk_m", 0), last.get("walk_line_order_m", 0)
    print(f"  walking: planned paths {w:,} m against {lw:,} m in order-line order "
          f"({100 * (lw - w) // max(lw, 1)} % shorter) over {last.get('waves', 0)} waves")
    print(f"  {last}")
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    ok = statistics.median(cpus) < 2.0
    print(f"  goal < 2 s (CPU median): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1
