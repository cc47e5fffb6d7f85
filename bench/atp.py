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
    from sqlalchemy import text
    from sqlalchemy.orm import Session

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
        with Session(engine) as s:
            sample = [tuple(r) for r in s.execute(text(
                "SELECT c.code, i.sku, i.description, o.warehouse_id, l.qty_ordered FROM sales_order o "
                "JOIN sales_order_line l ON l.order_id = o.id JOIN customer c ON c.id = o.customer_id "
                "JOIN item i ON i.id = l.item_id WHERE o.status IN ('open', 'backordered', 'allocated') "
                "ORDER BY l.id LIMIT 5000"))]
            items = {sku: iid for sku, iid in s.execute(text("SELECT sku, id FROM item"))}
        picks = [rng.choice(sample) for _ in range(args.repeat)]
        times: dict[str, list[float]] = {"lookup": [], "promise": [], "quote": []}
        cpu: dict[str, list[float]] = {"lookup": [], "promise": [], "quote": []}
        import uuid

        for cust, sku, desc, wh, qty in picks:
            word = rng.choice(str(desc).split())
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                find_items(s, word, 15)
                times["lookup"].append(time.perf_counter() - t0)
                cpu["lookup"].append(time.process_time() - c0)
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                promise(s, uuid.UUID(str(items[sku])), uuid.UUID(str(wh)), int(qty))
                times["promise"].append(time.perf_counter() - t0)
                cpu["promise"].append(time.process_time() - c0)
            with Session(engine) as s:
                t0, c0 = time.perf_counter(), time.process_time()
                quote_line(s, customer=cust, warehouse_id=uuid.UUID(str(wh)), item=sku, qty=qty)
                times["quote"].append(time.perf_counter() - t0)
                cpu["quote"].append(time.process_time() - c0)
    finally:
        engine.dispose()
    for name, xs in times.items():
        ms = [x * 1000 for x in xs]
        cms = [x * 1000 for x in cpu[name]]
        print(f"{name:8s} n={len(ms)}  median {statistics.median(ms):6.1f} ms  p95 {_p95(ms):6.1f} ms  max {max(ms):6.1f} ms"
              f"  (CPU median {statistics.median(cms):5.1f} ms, p95 {_p95(cms):5.1f} ms)")
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    return 0
