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
import datetime as dt
import os
import statistics
import time
import uuid
from pathlib import Path
from typing import Any

LARGE = Path("/tmp/dispatchpick/large.db")


def _top_up(session: Any, actor: Any) -> int:
    """Stock for every open line's shortfall, in the item's pick face (an adjustment), then a run.
    Read through the models, so ids and dates compare in the form they are stored, whatever it is."""
    from sqlalchemy import func, or_, select

    from app.models.catalog import Item, Lot
    from app.models.org import Location, Warehouse
    from app.models.sales import SalesOrder, SalesOrderLine
    from app.services.allocation import runs
    from app.services.stock import MoveSpec, post_moves, virtual_location

    line = SalesOrderLine
    need = func.sum(line.qty_ordered - line.qty_shipped - line.qty_allocated)
    short = session.execute(
        select(SalesOrder.warehouse_id, line.item_id, need, Item.track_lot, Item.track_serial)
        .join(SalesOrder, SalesOrder.id == line.order_id).join(Item, Item.id == line.item_id)
        .where(SalesOrder.status.in_(("open", "backordered", "allocated")), line.status == "open",
               SalesOrder.deleted_at.is_(None))
        .group_by(SalesOrder.warehouse_id, line.item_id).having(need > 0)).all()
    faces = {(w, i): loc for w, i, loc in session.execute(
        select(Location.warehouse_id, Location.fixed_item_id, Location.id)
        .where(Location.fixed_item_id.is_not(None), Location.kind == "storage"))}
    keep_until = dt.datetime.now(dt.UTC).date() + dt.timedelta(days=60)
    lots = {i: lot for i, lot in session.execute(
        select(Lot.item_id, Lot.id).where(or_(Lot.expiry_date.is_(None), Lot.expiry_date > keep_until))
        .order_by(Lot.expiry_date))}
    moves_by_wh: dict[uuid.UUID, list[Any]] = {}
    for wh, item, qty, track_lot, track_serial in short:
        loc = faces.get((wh, item))
        if loc is None or track_serial or (track_lot and item not in lots):
            continue
        moves_by_wh.setdefault(wh, []).append((item, int(qty), loc, lots[item] if track_lot else None))
    units = 0
    for wh_id, specs in moves_by_wh.items():
        wh = session.get(Warehouse, wh_id)
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
