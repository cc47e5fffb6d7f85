"""`depot bench adopt_import [--items N] [--days D] [--keep DIR]`: a company moving in by import.

Into an empty file (head office, 3 branches with one warehouse each, made through the services),
imports generated CSV files the way ``depot import`` does (``import_csv`` in one write session,
commit included) and prints each import's rows per second (target: >= 20,000):

* items: N items (default 50,000) with case and pallet units;
* locations: one pick face per item and warehouse (3 x N bins, fixed item and min/max) from a file;
* locations generate: the same number of bins by pattern (aisles x bays x levels);
* order points: one fixed min/max per item and warehouse (3 x N);
* sales history: D days (default 365) of daily sales per item and warehouse, each pair selling on
  a share of the days set by its velocity class (A 60 %, B 25 %, C 8 %; ``--density`` scales it).

The CSV files are written before the clock starts (to ``--keep DIR`` if given, else a temporary
folder); the database goes there too. Figures depend on the machine's load: the load average is
printed with them.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import random
import resource
import tempfile
import time
from pathlib import Path

WAREHOUSES = (("DAL", "DAL1"), ("HOU", "HOU1"), ("PHX", "PHX1"))
#: share of days a pair sells on, by velocity class (the item's index decides its class: 20/30/50 %)
SELL_SHARE = {"A": 0.60, "B": 0.25, "C": 0.08}


def _velocity(i: int) -> str:
    k = i % 10
    return "A" if k < 2 else "B" if k < 5 else "C"


def write_files(folder: Path, items: int, days: int, density: float, seed: int = 1) -> dict[str, tuple[Path, int]]:
    rng = random.Random(seed)
    out: dict[str, tuple[Path, int]] = {}

    def put(name: str, header: list[str], rows: object) -> None:
        path = folder / f"{name}.csv"
        n = 0
        with path.open("w", newline="", encoding="utf-8") as f:
            w = csv.writer(f)
            w.writerow(header)
            for r in rows:  # type: ignore[attr-defined]
                w.writerow(r)
                n += 1
        out[name] = (path, n)

    put("items", ["sku", "description", "base_uom", "weight_g", "length_mm", "width_mm", "height_mm",
                  "velocity_class", "category", "standard_cost", "list_price", "case_qty", "pallet_qty"],
        ([f"SKU{i:06d}", f"Item {i} {rng.choice(('bolt', 'valve', 'glove', 'cable', 'filter'))}", "EA",
          50 + i % 900, 100, 80, 40, _velocity(i), "General", f"{1 + i % 97}.25", f"{2 + i % 97}.50", 12, 480]
         for i in range(items)))
    put("locations", ["warehouse", "code", "role", "zone", "capacity_volume_cm3", "capacity_weight_g", "fixed_sku",
                      "min_qty", "max_qty"],
        ([wh, f"P{i // 1000:02d}-{(i // 10) % 100:02d}-{i % 10}", "pick", "AMB", 200000, 150000, f"SKU{i:06d}",
          12, 48] for _b, wh in WAREHOUSES for i in range(items)))
    put("order_points", ["warehouse", "sku", "min_qty", "max_qty"],
        ([wh, f"SKU{i:06d}", 10 + i % 50, 60 + i % 200] for _b, wh in WAREHOUSES for i in range(items)))
    end = dt.date.today() - dt.timedelta(days=1)
    start = end - dt.timedelta(days=days - 1)
    dates = [(start + dt.timedelta(days=d)).isoformat() for d in range(days)]

    def history() -> object:
        r = random.Random(seed + 1)
        for d in dates:
            for _b, wh in WAREHOUSES:
                for i in range(items):
                    if r.random() < SELL_SHARE[_velocity(i)] * density:
                        yield (d, wh, f"SKU{i:06d}", 1 + int(r.expovariate(0.2)))

    put("sales_history", ["date", "warehouse", "sku", "qty"], history())
    return out


def _setup(path: Path) -> None:
    from app.services import schema
    from app.services.db import make_engine, session_scope
    from app.services.org import sites
    from app.services.users import add_user

    engine = make_engine(path)
    schema.upgrade(engine)
    with session_scope(engine) as s:
        sites.add_branch(s, None, "HQ", "Head office", head_office=True)
        for b, wh in WAREHOUSES:
            sites.add_branch(s, None, b, b.title())
            sites.add_warehouse(s, None, wh, b, f"{b} DC")
            sites.add_zone(s, None, wh, "AMB")
        add_user(s, None, "admin", "bench-admin", ["admin"])
    engine.dispose()


def _load() -> str:
    with open("/proc/loadavg") as f:
        return f.read().split()[0]


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench adopt_import")
    ap.add_argument("--items", type=int, default=50_000)
    ap.add_argument("--days", type=int, default=365)
    ap.add_argument("--density", type=float, default=1.0, help="scales the share of selling days")
    ap.add_argument("--keep", type=Path, default=None, help="folder for the files and the database (kept)")
    ap.add_argument("--only", default="", help="comma-separated subset: locations,generate,order_points,"
                                                "sales_history (items are always imported: the others need them)")
    args = ap.parse_args(argv)
    from app.services.auth import actor_by_name
    from app.services.db import open_database, session_scope
    from app.services.importer import import_csv
    from app.services.org.locations import generate_bins

    tmp = None
    if args.keep is None:
        tmp = tempfile.TemporaryDirectory(prefix="depot-adopt-")
        folder = Path(tmp.name)
    else:
        folder = args.keep
        folder.mkdir(parents=True, exist_ok=True)
    try:
        t = time.perf_counter()
        files = write_files(folder, args.items, args.days, args.density)
        print(f"files written in {time.perf_counter() - t:.1f} s: "
              + ", ".join(f"{k} {n:,} rows" for k, (_p, n) in files.items()))
        db = folder / "adopt.db"
        db.unlink(missing_ok=True)
        _setup(db)
        engine = open_database(db)
        only = {x.strip() for x in args.only.split(",") if x.strip()}
        steps = [("items", "items"), ("locations", "locations"), ("order_points", "order-points"),
                 ("sales_history", "sales-history")]
        results = []
        for name, kind in steps:
            if only and name not in only and name != "items":  # the others refer to the items
                continue
            path, n = files[name]
            t, c = time.perf_counter(), time.process_time()
            with session_scope(engine) as s:
                r = import_csv(s, actor_by_name(s, "admin"), kind, path)
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            results.append((kind, r.imported, wall, cpu))
            print(f"import {kind:14s} {r.imported:>10,} rows {wall:7.1f} s wall {cpu:7.1f} s CPU "
                  f"{r.imported / wall:>9,.0f} rows/s (load {_load()})", flush=True)
        if not only or "generate" in only:
            aisles = max(1, -(-args.items // 1000))  # 1,000 bins an aisle: 200 bays x 5 levels
            t, c = time.perf_counter(), time.process_time()
            made = 0
            with session_scope(engine) as s:
                for _b, wh in WAREHOUSES:
                    made += generate_bins(s, actor_by_name(s, "admin"), wh, aisles=f"G001-G{aisles:03d}",
                                          bays="001-200", levels="1-5", role="reserve", zone="AMB",
                                          pattern="{aisle}-{bay}-{level}").count
            wall, cpu = time.perf_counter() - t, time.process_time() - c
            print(f"generate bins  {made:>10,} rows {wall:7.1f} s wall {cpu:7.1f} s CPU "
                  f"{made / wall:>9,.0f} rows/s (load {_load()})")
        engine.dispose()
        rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print(f"peak RSS {rss:,.0f} MB; database {db.stat().st_size / 1e6:,.0f} MB"
              + (f" (kept in {folder})" if args.keep else ""))
    finally:
        if tmp is not None:
            tmp.cleanup()
    return 0
