"""Importing open orders from a legacy system (goal: 100,000 order lines under 20 s).

Writes a CSV of ``--lines`` lines (orders of 1-9 lines for the seed's customers, items and
warehouses of this file's branch... every warehouse on a standalone file), then times
``depot import orders`` as the command does it: read and check every row, write the orders and
lines, give each line its promise and each order its credit decision. The transaction is rolled
back, so the benchmark can be repeated on the same file.

    depot bench import_orders --db FILE [--lines 100000]
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import os
import random
import tempfile
import time
from pathlib import Path

LARGE = Path("/tmp/orders/large.db")


def main(argv: list[str]) -> int:
    from sqlalchemy import select, text
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.org import Warehouse
    from app.models.parties import Customer
    from app.services.auth import actor_by_name
    from app.services.db import open_database, writer
    from app.services.importer import import_csv

    p = argparse.ArgumentParser(prog="depot bench import_orders")
    p.add_argument("--db", type=Path, default=Path(os.environ.get("DEPOT_BENCH_DB", LARGE)))
    p.add_argument("--lines", type=int, default=100_000)
    args = p.parse_args(argv)
    engine = open_database(args.db)
    rng = random.Random(5)
    folder = Path(tempfile.mkdtemp(prefix="depot-bench-orders-"))
    path = folder / "orders.csv"
    try:
        with Session(engine) as s:  # through the models: prices come back as Decimals whatever their stored form
            customers = list(s.scalars(select(Customer.code).where(Customer.active.is_(True))))
            whs = list(s.scalars(select(Warehouse.code)))
            items = [(sku, price) for sku, price in s.execute(
                select(Item.sku, Item.list_price).where(Item.active.is_(True), Item.track_serial.is_(False)))]
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(["order_number", "customer", "warehouse", "sku", "qty", "unit_price", "line_no", "order_date",
                        "requested_date", "customer_po"])
            n = made = 0
            while made < args.lines:
                n += 1
                k = min(rng.randint(1, 9), args.lines - made)
                cust, wh = rng.choice(customers), rng.choice(whs)
                for ln in range(1, k + 1):
                    sku, price = rng.choice(items)
                    w.writerow([f"LEG-{n:07d}", cust, wh, sku, rng.randint(1, 40), f"{price:.2f}", ln,
                                "2026-11-20", "2026-12-10", f"PO{n}"])
                made += k
        t0, c0 = time.perf_counter(), time.process_time()
        with Session(writer(engine)) as s:
            actor = actor_by_name(s, "admin")
            res = import_csv(s, actor, "orders", path)
            s.flush()
            seconds, cpu = time.perf_counter() - t0, time.process_time() - c0
            held = s.execute(text("SELECT count(*) FROM sales_order WHERE number LIKE 'LEG-%' "
                                  "AND status = 'credit_hold'")).scalar()
            promised = s.execute(text("SELECT count(*) FROM sales_order_line l JOIN sales_order o ON o.id = l.order_id "
                                      "WHERE o.number LIKE 'LEG-%' AND l.promised_date IS NOT NULL")).scalar()
            s.rollback()
    finally:
        engine.dispose()
        path.unlink(missing_ok=True)
        folder.rmdir()
    print(f"import orders: {res.imported:,} lines ({n:,} orders) in {seconds:.1f} s "
          f"({res.imported / seconds:,.0f} lines/s), CPU {cpu:.1f} s; {promised:,} lines promised, {held:,} orders on credit hold")
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    return 0
