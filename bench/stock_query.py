"""Stock of one item over a large ledger (goal: under 50 ms).

`depot bench stock_query [--db PATH] [--moves N] [--repeat R] [--sku SKU]`

Uses /work/large.db when /work/large.db.READY exists (the large seed), else --db, else
builds its own database with N moves (default 2,000,000) spread over 2,000 items and 200
bins, inserted with executemany while the balance trigger runs (capture switched off, as
for pulled rows). Measures what `depot stock SKU` does: figures per warehouse, balances by
bin and lot, and the first ledger page, for the item with the most moves.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import random
import sqlite3
import statistics
import time
import uuid
from collections.abc import Callable
from pathlib import Path

LARGE = Path("/work/large.db")


def _build(path: Path, moves: int) -> None:
    from sqlalchemy.orm import Session

    from app.models.ids import uuid7
    from app.models.stamps import micros
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
        bins = [md.create_bin(s, wh, f"B-{n:03d}").id for n in range(200)]
        items = [md.create_item(s, f"SKU{n:05d}", f"Item {n}").id for n in range(2000)]
        supplier = virtual_location(s, wh.id, "supplier").id
        customer = virtual_location(s, wh.id, "customer").id
        s.commit()
        branch_id = br.id
    engine.dispose()
    conn = sqlite3.connect(path)
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = OFF")
    conn.execute("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
    if conn.execute("SELECT changes()").fetchone()[0] == 0:
        conn.execute("INSERT INTO sync_capture (id, enabled) VALUES (1, 0)")
    rng = random.Random(7)
    start = dt.datetime(2024, 1, 1, tzinfo=dt.UTC)
    sql = ("INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, to_location_id, qty,"
           " reason, doc_type, moved_at) VALUES (?,?,?,?,?,?,?,?,?,?)")
    hx = uuid.UUID.hex.fget  # type: ignore[attr-defined]
    item_hex = [hx(i) for i in items]
    bin_hex = [hx(b) for b in bins]
    sup, cus, own = hx(supplier), hx(customer), hx(branch_id)
    # skew: item 0 is the busiest (like a real A item), the rest share the remainder
    batch: list[tuple[object, ...]] = []
    t0 = time.perf_counter()
    for n in range(moves):
        it = 0 if rng.random() < 0.02 else rng.randrange(len(items))
        when = micros(start + dt.timedelta(seconds=n * 15))  # stored as a number (app.models.stamps)
        b = bin_hex[(it * 7 + n % 3) % len(bin_hex)]
        if n % 3 == 2:
            row = (hx(uuid7()), own, when, item_hex[it], b, cus, 1, "sale", "", when)
        else:
            row = (hx(uuid7()), own, when, item_hex[it], sup, b, 2, "receipt", "", when)
        batch.append(row)
        if len(batch) == 50_000:
            conn.executemany(sql, batch)
            conn.commit()
            batch.clear()
    if batch:
        conn.executemany(sql, batch)
    conn.execute("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    conn.commit()
    conn.execute("ANALYZE")
    conn.close()
    print(f"built {path}: {moves:,} moves in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench stock_query")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--moves", type=int, default=2_000_000)
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

    if args.db is not None:
        path = args.db
    elif Path(str(LARGE) + ".READY").exists():
        path = LARGE
    else:
        path = Path(f"/tmp/depot_bench_stock_{args.moves}.db")
        if args.rebuild or not path.exists():
            _build(path, args.moves)
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
    print(f"database {path}: {total:,} moves; item {item.sku} has {n_item:,} moves")

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
