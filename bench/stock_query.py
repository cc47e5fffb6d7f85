"""Stock of one item over a large ledger (goal: under 50 ms).

`depot bench stock_query [--db PATH] [--moves N] [--repeat R] [--sku SKU] [--rebuild]`

Uses --db; else, when ``--moves N`` is given or the large seed is not there (/work/large.db.READY),
its own database (``OWN``) with N moves (default 2,000,000) spread over 2,000 items and 200 bins (fewer for
a small N), written through the model's table while the balance trigger runs (capture switched off,
as for pulled rows); that file is reused until this code can no longer read it (``bench._built``).
Measures what `depot stock SKU` does: figures per warehouse, balances by bin and lot, and the first
ledger page, for the item with the most moves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import statistics
import time
from collections.abc import Callable
from pathlib import Path

LARGE = Path("/work/large.db")
#: the generated database, per --moves
OWN = "/tmp/depot_bench_stock_{moves}.db"


def _build(path: Path, moves: int) -> None:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from app.models.ids import uuid7
    from app.models.stock import StockMove
    from app.services import masterdata as md
    from app.services import schema
    from app.services.db import make_engine
    from app.services.stock import virtual_location

    path.unlink(missing_ok=True)
    engine = make_engine(path)
    schema.upgrade(engine)
    with Session(engine) as s:
        md.create_branch(s, "HQ", "Head office", head_office=True)
        br = md.create_branch(s, "BEN", "Bench")
        wh = md.create_warehouse(s, br, "BEN1", "Bench DC")
        # 2,000 items and 200 bins for 2M moves (the default); a small run keeps ~1,000 moves an item
        bins = [md.create_bin(s, wh, f"B-{n:03d}").id for n in range(min(200, max(10, moves // 10_000)))]
        items = [md.create_item(s, f"SKU{n:05d}", f"Item {n}").id for n in range(min(2000, max(10, moves // 1000)))]
        supplier = virtual_location(s, wh.id, "supplier").id
        customer = virtual_location(s, wh.id, "customer").id
        s.commit()
        branch_id = br.id
    # the moves go in through the model's table, so ids and times are stored as the application
    # stores them (16-byte ids since 0022, numbers since 0023, whatever comes next), while the balance
    # trigger runs; capture off, as for pulled rows
    rng = random.Random(7)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    t0 = time.perf_counter()
    with engine.connect() as c:
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
        # skew: item 0 is the busiest (like a real A item), the rest share the remainder
        batch: list[dict[str, object]] = []
        for n in range(moves):
            it = 0 if rng.random() < 0.02 else rng.randrange(len(items))
            when = start + dt.timedelta(seconds=n * 15)
            b = bins[(it * 7 + n % 3) % len(bins)]
            src, dst, qty, reason = (b, customer, 1, "sale") if n % 3 == 2 else (supplier, b, 2, "receipt")
            batch.append({"id": uuid7(), "owner_branch_id": branch_id, "created_at": when, "item_id": items[it],
                          "from_location_id": src, "to_location_id": dst, "qty": qty, "reason": reason,
                          "moved_at": when})
            if len(batch) == 50_000 or n == moves - 1:
                c.execute(insert(StockMove.__table__), batch)
                c.commit()
                batch.clear()
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
        c.commit()
        c.exec_driver_sql("ANALYZE")
        c.commit()
    engine.dispose()
    print(f"built {path}: {moves:,} moves in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench stock_query")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--moves", type=int, default=None, help="use the generated ledger of N moves (default 2,000,000 "
                    "when the large seed is not there)")
    ap.add_argument("--repeat", type=int, default=30)
    ap.add_argument("--sku", default=None)
    ap.add_argument("--rebuild", action="store_true", help="rebuild the generated database")
    args = ap.parse_args(argv)

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.stock import StockMove
    from app.services.db import open_database
    from app.services.inventory.common import item_by_sku
    from app.services.inventory.queries import item_figures, ledger_page, stock_rows
    from app.services.stock import on_hand
    from bench._built import stale

    if args.db is not None:
        path = args.db
    elif args.moves is None and Path(str(LARGE) + ".READY").exists():
        path = LARGE
    else:
        moves = args.moves or 2_000_000
        path = Path(OWN.format(moves=moves))
        if args.rebuild or stale(path, Item, StockMove):
            _build(path, moves)
    engine = open_database(path)
    with Session(engine) as s:
        total = s.scalar(select(func.count()).select_from(StockMove)) or 0
        if args.sku:
            item = item_by_sku(s, args.sku)
        else:
            busiest = s.execute(select(StockMove.item_id, func.count()).group_by(StockMove.item_id)
                                .order_by(func.count().desc()).limit(1)).first()
            assert busiest is not None, "the ledger is empty"
            item = s.get(Item, busiest[0])  # type: ignore[assignment]
        assert item is not None
        n_item = s.scalar(select(func.count()).select_from(StockMove).where(StockMove.item_id == item.id)) or 0
        stock = on_hand(s, item.id)
    print(f"database {path}: {total:,} moves; item {item.sku} has {n_item:,} moves, {stock:,} on hand")

    def stock_cmd(s: Session) -> None:  # what `depot stock SKU` reads
        it = item_by_sku(s, item.sku)
        item_figures(s, it.id)
        stock_rows(s, item_id=it.id)

    measures: dict[str, Callable[[Session], object]] = {
        "on_hand (one item, all warehouses)": lambda s: on_hand(s, item.id),
        "depot stock SKU (figures by warehouse + bins/lots)": stock_cmd,
        "ledger history, first page of 100": lambda s: ledger_page(s, item.id, limit=100),
    }
    timings: dict[str, list[float]] = {k: [] for k in measures}
    with Session(engine) as s:  # warm the connection and page cache once
        for fn in measures.values():
            fn(s)
    for _ in range(args.repeat):
        for name, fn in measures.items():
            with Session(engine) as s:
                t = time.perf_counter()
                fn(s)
                timings[name].append((time.perf_counter() - t) * 1000)
    engine.dispose()
    for name, vals in timings.items():
        vals.sort()
        p95 = vals[max(0, int(len(vals) * 0.95) - 1)]
        print(f"{name}: median {statistics.median(vals):.2f} ms, p95 {p95:.2f} ms, max {vals[-1]:.2f} ms "
              f"(n={len(vals)})")
    stock_p95 = sorted(timings["depot stock SKU (figures by warehouse + bins/lots)"])[max(0, int(args.repeat * 0.95) - 1)]
    print(f"goal: stock of one item p95 < 50 ms: {'met' if stock_p95 < 50 else 'NOT met'} ({stock_p95:.2f} ms); "
          f"load average {os.getloadavg()[0]:.1f}")
    return 0
