"""Replenishment over a large branch database: pairs, seconds, peak memory, recommendations.

    depot bench replenish [--db PATH] [--branch CODE] [--weeks N] [--repeat N] [--tracemalloc]
    depot bench replenish --make PATH [--items 50000] [--warehouses 3] [--moves 2000000]

Without ``--db`` it uses /work/large.db when /work/large.db.READY exists (the seed's
large data set). ``--make`` builds a stand-in of the same shape (items x warehouses,
sale moves spread over a year), written in bulk through the models' tables, for when the seed is
not available.
Peak RSS comes from resource.getrusage (the whole process, so it includes Python, numpy
and SQLite's page cache); ``--tracemalloc`` adds the Python-heap peak of the run alone.
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import resource
import sys
import time
import tracemalloc
from decimal import Decimal
from pathlib import Path

LARGE = Path("/work/large.db")


def _rss_mb() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 if sys.platform != "darwin" else ru / 1024 / 1024


def make(path: Path, items: int, warehouses: int, moves: int, seed: int = 7) -> None:
    """A stand-in large database: master data through the services, the many items, their supplier
    links and the moves in bulk through the models' tables (so every value is stored as the application
    stores it: ids as 16 bytes, the ledger's times as numbers, whatever the next storage change is)."""
    import numpy as np
    from sqlalchemy import insert

    from app.models.catalog import Item
    from app.models.ids import uuid7
    from app.models.parties import ItemSupplier
    from app.models.stock import StockMove
    from app.services import masterdata as md
    from app.services import schema
    from app.services.db import make_engine, session_scope
    from app.services.stock import virtual_location

    if path.exists():
        path.unlink()
    engine = make_engine(path)
    schema.upgrade(engine)
    rng = random.Random(seed)
    now = dt.datetime.now(dt.UTC)
    today = now.date()
    t0 = time.perf_counter()
    with session_scope(engine) as s:
        md.create_branch(s, "HQ", "Head office", head_office=True)
        whs = []
        for n in range(warehouses):
            b = md.create_branch(s, f"B{n}", f"Branch {n}")
            whs.append(md.create_warehouse(s, b, f"W{n}", f"Warehouse {n}"))
        bins = [md.create_bin(s, wh, "A-01").id for wh in whs]
        sup = md.create_supplier(s, "BIGSUP", "Big supplier")
        ho = md.head_office_id(s)
        owners = [wh.branch_id for wh in whs]
        cust = [virtual_location(s, wh.id, "customer").id for wh in whs]
        supplier_loc = [virtual_location(s, wh.id, "supplier").id for wh in whs]
        s.flush()
        s.connection().exec_driver_sql("UPDATE sync_capture SET enabled = 0 WHERE id = 1")  # as for pulled rows
        item_ids = [uuid7() for _ in range(items)]
        vel = [rng.choices("ABC", weights=(2, 3, 5))[0] for _ in range(items)]
        s.execute(insert(Item.__table__), [
            {"id": i, "owner_branch_id": ho, "sku": f"SKU{n:06d}", "description": f"SKU{n:06d}", "velocity_class": vel[n],
             "standard_cost": Decimal(1), "list_price": Decimal(2)} for n, i in enumerate(item_ids)])
        s.execute(insert(ItemSupplier.__table__), [
            {"id": uuid7(), "owner_branch_id": ho, "item_id": i, "supplier_id": sup.id, "lead_time_days": rng.randint(3, 21),
             "lead_time_sd_days": Decimal(1), "pack_size": rng.choice((1, 1, 6, 12)), "contract_price": Decimal(1),
             "last_price": Decimal(1), "contracted": True, "preferred": True} for i in item_ids])
        nrng = np.random.default_rng(seed)
        rate = {"A": 30.0, "B": 10.0, "C": 3.0}
        weights = np.array([rate[v] for v in vel])
        pick_item = nrng.choice(items, size=moves, p=weights / weights.sum())
        pick_wh = nrng.integers(0, warehouses, size=moves)
        pick_day = nrng.integers(1, 366, size=moves)
        pick_qty = nrng.integers(1, 13, size=moves)
        days = [dt.datetime.combine(today - dt.timedelta(days=d), dt.time(12), dt.UTC) for d in range(367)]
        per_pair_opening: dict[tuple[int, int], int] = {}
        for n, w, q in zip(pick_item.tolist(), pick_wh.tolist(), pick_qty.tolist(), strict=True):
            per_pair_opening[(n, w)] = per_pair_opening.get((n, w), 0) + q

        def move(w: int, n: int, src: object, dst: object, q: int, reason: str, when: dt.datetime) -> dict[str, object]:
            return {"id": uuid7(), "owner_branch_id": owners[w], "created_at": now, "item_id": item_ids[n],
                    "from_location_id": src, "to_location_id": dst, "qty": q, "reason": reason, "moved_at": when}

        opened = dt.datetime.combine(today - dt.timedelta(days=400), dt.time(0), dt.UTC)
        opening = [move(w, n, supplier_loc[w], bins[w], q + rng.randint(0, 200), "opening", opened)
                   for (n, w), q in per_pair_opening.items()]
        table = insert(StockMove.__table__)
        s.execute(table, opening)
        for lo in range(0, moves, 100_000):
            hi = min(lo + 100_000, moves)
            s.execute(table, [move(w, n, bins[w], cust[w], q, "sale", days[d])
                              for n, w, d, q in zip(pick_item[lo:hi].tolist(), pick_wh[lo:hi].tolist(),
                                                    pick_day[lo:hi].tolist(), pick_qty[lo:hi].tolist(), strict=True)])
        s.connection().exec_driver_sql("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    engine.dispose()
    print(f"made {path}: {items} items x {warehouses} warehouses, {moves + len(opening)} moves"
          f" in {time.perf_counter() - t0:.1f} s")


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="depot bench replenish")
    p.add_argument("--db", type=Path, default=None)
    p.add_argument("--make", type=Path, default=None, help="build a stand-in large database at PATH first")
    p.add_argument("--items", type=int, default=50_000)
    p.add_argument("--warehouses", type=int, default=3)
    p.add_argument("--moves", type=int, default=2_000_000)
    p.add_argument("--branch", default=None)
    p.add_argument("--weeks", type=int, default=26)
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--tracemalloc", action="store_true")
    args = p.parse_args(argv)
    if args.make:
        make(args.make, args.items, args.warehouses, args.moves)
        args.db = args.db or args.make
    path = args.db or (LARGE if Path(str(LARGE) + ".READY").exists() else None)
    if path is None:
        print("no database: pass --db PATH, --make PATH, or wait for /work/large.db.READY", file=sys.stderr)
        return 2

    from sqlalchemy import text

    from app.services.db import open_database, session_scope
    from app.services.replenishment import run

    engine = open_database(path)
    with session_scope(engine) as s:
        moves = s.scalar(text("SELECT count(*) FROM stock_move"))
        sales = s.scalar(text("SELECT count(*) FROM stock_move WHERE reason = 'sale'"))
    times = []
    res = None
    for _ in range(max(args.repeat, 1)):
        with session_scope(engine) as s:
            t0 = time.perf_counter()
            res = run(s, None, branch_code=args.branch, history_weeks=args.weeks)
            times.append(time.perf_counter() - t0)
    assert res is not None
    heap = ""
    if args.tracemalloc:
        tracemalloc.start()
        with session_scope(engine) as s:
            run(s, None, branch_code=args.branch, history_weeks=args.weeks)
        heap = f"  python heap peak {tracemalloc.get_traced_memory()[1] / 2**20:.0f} MB"
        tracemalloc.stop()
    engine.dispose()
    transfers = sum(1 for r in res.recommendations if r.preferred == "transfer")
    print(f"db {path}: {moves:,} ledger moves ({sales:,} sales)")
    print(f"pairs {res.pairs:,}  seconds best {min(times):.2f} / first {times[0]:.2f}"
          f"  peak RSS {_rss_mb():.0f} MB{heap}")
    print(f"recommendations {len(res.recommendations):,} ({transfers:,} transfers), suppressed {res.suppressed:,}")
    return 0

