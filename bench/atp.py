"""What the order screen asks while a line is typed, on the large data set (goal: ATP for one line
under 100 ms at the 95th percentile; item lookup under 50 ms).

For random open order lines of the seed (their customer, item and warehouse):

* **lookup**: ``sales.search.find_items`` for a word of the item's description (FTS5, ranked);
* **promise**: ``inventory.promise.promise`` (date-based ATP: pickable stock, reservations, the
  backlog, receipts by date, lead time);
* **quote**: ``sales.quote.quote_line``, the screen's one call per keystroke pause (the item, its
  units, the customer's price and the promise).

Each call in a fresh read transaction, as the screen's ops are.

    depot bench atp --db FILE [--repeat 200]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import statistics
import time
from pathlib import Path

LARGE = Path("/tmp/orders/large.db")


def _p95(xs: list[float]) -> float:
    return sorted(xs)[max(0, int(len(xs) * 0.95) - 1)]


def main(argv: list[str]) -> int:
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.parties import Customer
    from app.models.sales import SalesOrder, SalesOrderLine
    from app.services.db import open_database
    from app.services.inventory.promise import promise
    from app.services.sales.quote import quote_line
    from app.services.sales.search import find_items

    p = argparse.ArgumentParser(prog="depot bench atp")
    p.add_argument("--db", type=Path, default=Path(os.environ.get("DEPOT_BENCH_DB", LARGE)))
    p.add_argument("--repeat", type=int, default=200)
    args = p.parse_args(argv)
    engine = open_database(args.db)
    rng = random.Random(11)
    try:
        with Session(engine) as s:  # through the models: ids come back as UUIDs whatever their stored form
            sample = [tuple(r) for r in s.execute(
                select(Customer.code, Item.sku, Item.description, SalesOrder.warehouse_id, SalesOrderLine.qty_ordered,
                       Item.id)
                .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
                .join(Customer, Customer.id == SalesOrder.customer_id)
                .join(Item, Item.id == SalesOrderLine.item_id)
                .where(SalesOrder.status.in_(("open", "backordered", "allocated")))
                .order_by(SalesOrderLine.id).limit(5000))]
        if not sample:
            print(f"no open order lines in {args.db}: no figure")
            return 1
        picks = [rng.choice(sample) for _ in range(args.repeat)]
        times: dict[str, list[float]] = {"lookup": [], "promise": [], "quote": []}
        cpu: dict[str, list[float]] = {"lookup": [], "promise": [], "quote": []}
        found = 0
        kinds: dict[str, int] = {}
        for cust, sku, desc, wh, qty, item_id in picks:
            word = rng.choice(str(desc).split())
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                hits = find_items(s, word, 15)
                times["lookup"].append(time.perf_counter() - t0)
                cpu["lookup"].append(time.process_time() - c0)
            found += any(h.sku == sku for h in hits)
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                pr = promise(s, item_id, wh, int(qty))
                times["promise"].append(time.perf_counter() - t0)
                cpu["promise"].append(time.process_time() - c0)
            kinds[pr.kind] = kinds.get(pr.kind, 0) + 1
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                quote_line(s, customer=cust, warehouse_id=wh, item=sku, qty=qty)
                times["quote"].append(time.perf_counter() - t0)
                cpu["quote"].append(time.process_time() - c0)
    finally:
        engine.dispose()
    for name, xs in times.items():
        ms = [x * 1000 for x in xs]
        cms = [x * 1000 for x in cpu[name]]
        print(f"{name:8s} n={len(ms)}  median {statistics.median(ms):6.1f} ms  p95 {_p95(ms):6.1f} ms  max {max(ms):6.1f} ms"
              f"  (CPU median {statistics.median(cms):5.1f} ms, p95 {_p95(cms):5.1f} ms)")
    print(f"  {len(picks)} lines of {len(sample):,} open ones: the lookup found the line's item for {found}, "
          "promises " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())))
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    return 0
