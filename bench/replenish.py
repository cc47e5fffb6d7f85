"""Replenishment over a large branch database: pairs, seconds, peak memory, recommendations.

    depot bench replenish [--db PATH] [--branch CODE] [--weeks N] [--repeat N] [--tracemalloc]
    depot bench replenish --make PATH [--items 50000] [--warehouses 3] [--moves 2000000]

Without ``--db`` it uses /work/large.db when /work/large.db.READY exists (the seed's
large data set). ``--make`` builds a stand-in of the same shape (items x warehouses,
sale moves spread over a year) with bulk SQL, for when the seed is not available.
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
from pathlib import Path

LARGE = Path("/work/large.db")


def _rss_mb() -> float:
    ru = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return ru / 1024 if sys.platform != "darwin" else ru / 1024 / 1024


def make(path: Path, items: int, warehouses: int, moves: int, seed: int = 7) -> None:
    """A stand-in large database: master data through the services, moves by bulk SQL."""
    from sqlalchemy import text

    from app.models.ids import uuid7
    from app.models.stamps import iso_micros
    from app.services import masterdata as md
    from app.services import schema
    from app.services.db import make_engine, session_scope

    if path.exists():
        path.unlink()
    engine = make_engine(path)
    schema.upgrade(engine)
    rng = random.Random(seed)
    today = dt.date.today()
    t0 = time.perf_counter()
    with session_scope(engine) as s:
        md.create_branch(s, "HQ", "Head office", head_office=True)
        whs = []
        for n in range(warehouses):
            b = md.create_branch(s, f"B{n}", f"Branch {n}")
            whs.append(md.create_warehouse(s, b, f"W{n}", f"Warehouse {n}"))
        bins = [md.create_bin(s, wh, "A-01") for wh in whs]
        sup = md.create_supplier(s, "BIGSUP", "Big supplier")
        ho = md.head_office_id(s)
        s.execute(text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
        locs = {r[0]: r[1] for r in s.execute(text("SELECT warehouse_id || kind, id FROM location"))}
        stamp = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
        item_ids = [uuid7().hex for _ in range(items)]
        vel = [rng.choices("ABC", weights=(2, 3, 5))[0] for _ in range(items)]
        s.execute(text(
            "INSERT INTO item (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, sku, description, base_uom,"
            " length_mm, width_mm, height_mm, weight_g, velocity_class, track_lot, track_serial, track_expiry,"
            " needs_inspection, hazmat_class, temperature_class, category, standard_cost, list_price, currency, active)"
            " VALUES (:id, :o, :t, :t, 0, '', :sku, :sku, 'EA', 0, 0, 0, 0, :v, 0, 0, 0, 0, '', 'ambient', '',"
            " 10000, 20000, 'USD', 1)"),
            [{"id": i, "o": ho.hex, "t": stamp, "sku": f"SKU{n:06d}", "v": vel[n]} for n, i in enumerate(item_ids)])
        s.execute(text(
            "INSERT INTO item_supplier (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, item_id,"
            " supplier_id, supplier_part, lead_time_days, lead_time_sd_days, pack_size, min_order_qty,"
            " contract_price, last_price, currency, contracted, preferred)"
            " VALUES (:id, :o, :t, :t, 0, '', :i, :s, '', :lt, 10000, :pack, 1, 10000, 10000, 'USD', 1, 1)"),
            [{"id": uuid7().hex, "o": ho.hex, "t": stamp, "i": i, "s": sup.id.hex, "lt": rng.randint(3, 21),
              "pack": rng.choice((1, 1, 6, 12))} for i in item_ids])
        import numpy as np

        nrng = np.random.default_rng(seed)
        rate = {"A": 30.0, "B": 10.0, "C": 3.0}
        weights = np.array([rate[v] for v in vel])
        pick_item = nrng.choice(items, size=moves, p=weights / weights.sum())
        pick_wh = nrng.integers(0, warehouses, size=moves)
        pick_day = nrng.integers(1, 366, size=moves)
        pick_qty = nrng.integers(1, 13, size=moves)
        # the moves' times are stored as numbers (app.models.stamps)
        days = [iso_micros(f"{(today - dt.timedelta(days=d)).isoformat()}T12:00:00.000000+00:00") for d in range(367)]
        stamp_us = iso_micros(stamp)
        per_pair_opening: dict[tuple[int, int], int] = {}
        for n, w, q in zip(pick_item.tolist(), pick_wh.tolist(), pick_qty.tolist(), strict=True):
            per_pair_opening[(n, w)] = per_pair_opening.get((n, w), 0) + q
        cust = [locs[wh.id.hex + "customer"] for wh in whs]
        owners = [wh.branch_id.hex for wh in whs]
        bin_hex = [b.id.hex for b in bins]

        def sale_rows(lo: int, hi: int) -> list[tuple[object, ...]]:
            return [(uuid7().hex, owners[w], stamp_us, item_ids[n], bin_hex[w], cust[w], q, "sale", days[d])
                    for n, w, d, q in zip(pick_item[lo:hi].tolist(), pick_wh[lo:hi].tolist(),
                                          pick_day[lo:hi].tolist(), pick_qty[lo:hi].tolist(), strict=True)]
        opening = []
        for (n, w), q in per_pair_opening.items():
            extra = rng.randint(0, 200)
            opening.append((uuid7().hex, whs[w].branch_id.hex, stamp_us, item_ids[n],
                            locs[whs[w].id.hex + "supplier"], bins[w].id.hex, q + extra, "opening",
                            iso_micros(f"{(today - dt.timedelta(days=400)).isoformat()}T00:00:00.000000+00:00")))
        raw = s.connection().connection.dbapi_connection
        assert raw is not None
        sql = ("INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, to_location_id,"
               " qty, reason, doc_type, moved_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, '', ?)")
        raw.executemany(sql, opening)
        for lo in range(0, moves, 200_000):
            raw.executemany(sql, sale_rows(lo, min(lo + 200_000, moves)))
        s.execute(text("UPDATE sync_capture SET enabled = 1 WHERE id = 1"))
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

