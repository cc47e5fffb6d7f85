"""Change-to-visible latency between two branches (goal: converge within one sync interval).

Dallas and Houston each run the background loop (``sync_once`` every ``--interval`` seconds,
on its own thread, like the GUI's SyncController, which also syncs soon after a local
write). Dallas writes a sales order; we measure
the time until Houston's database holds it. Reported: median and worst of ``--trials``,
and the cost of one sync run when nothing changed (the floor of every interval).

    depot bench sync_latency [--interval 1.0] [--trials 10]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import threading
import time

from bench.sync_push import ADMIN, bench_net


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench sync_latency")
    ap.add_argument("--interval", type=float, default=1.0)
    ap.add_argument("--trials", type=int, default=10)
    ap.add_argument("--dsn", default=ADMIN)
    args = ap.parse_args(argv)
    from sqlalchemy import text

    from app.models.sales import SalesOrder
    from app.services.db import open_database, session_scope
    from app.services.replication.engine import sync_once

    with bench_net(args.dsn) as net:
        hou_path = net.new_site("hou", "HOU")
        dal = open_database(net.dal)
        hou = open_database(hou_path)
        stop = threading.Event()
        kick = threading.Event()  # a local write wakes the writer's loop (as SyncController does)

        def loop(engine: object, dsn: str, wake: threading.Event | None) -> None:
            while not stop.is_set():
                sync_once(engine, dsn)  # type: ignore[arg-type]
                if wake is None:
                    stop.wait(args.interval)
                else:
                    wake.wait(args.interval)
                    wake.clear()

        t0 = time.perf_counter()
        for _ in range(5):
            sync_once(hou, net.role_dsn["HOU"])
        idle_ms = (time.perf_counter() - t0) / 5 * 1000
        threads = [threading.Thread(target=loop, args=(dal, net.role_dsn["DAL"], kick), daemon=True),
                   threading.Thread(target=loop, args=(hou, net.role_dsn["HOU"], None), daemon=True)]
        for th in threads:
            th.start()
        lat = []
        w = net.world
        rnd = random.Random(1)
        for n in range(args.trials):
            # a random phase: writing right after the reader's last pull would always wait a full interval
            time.sleep(rnd.uniform(0, args.interval))
            number = f"DAL-SO-{n + 1:06d}"
            with session_scope(dal) as s:
                s.add(SalesOrder(number=number, customer_id=w.customer.id, warehouse_id=w.wh_dal.id,
                                 order_date=dt.date.today(), owner_branch_id=w.dal.id))
            t0 = time.perf_counter()
            kick.set()
            while True:
                with hou.connect() as c:
                    if c.execute(text("SELECT 1 FROM sales_order WHERE number = :n"), {"n": number}).first():
                        break
                time.sleep(0.005)
            lat.append(time.perf_counter() - t0)
        stop.set()
        for th in threads:
            th.join()
        dal.dispose()
        hou.dispose()
    print(f"sync_latency: interval {args.interval:.1f} s, {args.trials} trials")
    print(f"  idle sync run: {idle_ms:.0f} ms")
    print(f"  change-to-visible: median {statistics.median(lat):.2f} s, worst {max(lat):.2f} s "
          f"({'within' if statistics.median(lat) <= args.interval else 'NOT within'} one interval at the median; "
          "the writer pushes on write, the reader pulls on its timer)")
    return 0
