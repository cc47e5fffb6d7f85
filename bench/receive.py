"""Receiving figures (goals: posting a 500-line receipt < 1 s; putaway proposals for 500 lines < 0.5 s).

Builds a fresh branch file with the real services (one warehouse, ``--bins`` storage bins half
of them already holding stock, ``--lines`` items with GTINs), then for each repeat:

* scan: a batch scanner file of 1,000 scans (quantity key + GTIN per line) through ReceivingSession;
* propose: ``propose_bins`` for every line (read bins + stock once, then pure Python);
* post: ``post_receipt`` of all lines in one transaction (receipt, lines, 500 stock moves, audit,
  putaway tasks with proposals, PO and expected-receipt updates), committed.

    depot bench receive [--lines 500] [--bins 2000] [--repeat 3]
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path
from typing import Any


def _build(path: Path, n_lines: int, n_bins: int) -> dict[str, Any]:
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.org import Location
    from app.services import masterdata as md
    from app.services import schema
    from app.services.auth import actor_for, create_user
    from app.services.db import make_engine
    from app.services.receiving.scan import gs1_check_digit
    from app.services.stock import MoveSpec, post_moves, virtual_location

    engine = make_engine(path)
    schema.upgrade(engine)
    with Session(engine) as s:
        ho = md.create_branch(s, "HQ", "Head office", head_office=True)
        dal = md.create_branch(s, "DAL", "Dallas")
        wh = md.create_warehouse(s, dal, "DAL1", "Dallas DC")
        zone = md.create_zone(s, wh, "A")
        owner = wh.owner_branch_id
        bins = [Location(warehouse_id=wh.id, zone_id=zone.id, code=f"A-{i:05d}", kind="storage",
                         role="pick" if i % 10 == 0 else "reserve", capacity_volume_cm3=2_000_000,
                         capacity_weight_g=2_000_000, walk_seq=i, owner_branch_id=owner) for i in range(n_bins)]
        s.add_all(bins)
        sup = md.create_supplier(s, "ACME", "Acme", over_receipt_pct=Decimal("10"))
        items = []
        for i in range(n_lines):
            body = f"0{90000000000 + i:012d}"
            items.append(Item(sku=f"SKU-{i:05d}", description=f"Bench item {i}", gtin=body + str(gs1_check_digit(body)),
                              velocity_class="ABC"[i % 3], length_mm=100, width_mm=100, height_mm=50, weight_g=500,
                              owner_branch_id=ho.id))
        s.add_all(items)
        s.flush()
        supplier_loc = virtual_location(s, wh.id, "supplier")
        post_moves(s, None, [MoveSpec(items[i % n_lines].id, 10, supplier_loc.id, bins[i].id, "opening")
                             for i in range(0, n_bins, 2)], owner_branch_id=dal.id)
        user = create_user(s, "rita", "secret-rita", ["receiver"], owner_branch_id=ho.id, branch_id=dal.id)
        actor = actor_for(s, user)
        s.commit()
        info = {"engine": engine, "actor": actor, "wh": wh.id, "dal": dal.id, "sup": sup.id,
                "items": [(it.id, it.gtin) for it in items]}
    return info


def _existing(src: Path, dst: Path, n_lines: int) -> dict[str, Any]:
    """A copy of an existing branch file (e.g. the large seed): its biggest warehouse, ``n_lines``
    active ambient items, its first supplier, and a receiver user made for the bench."""
    import shutil

    from sqlalchemy import func, select
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.org import Location, Warehouse
    from app.models.parties import Supplier
    from app.services import masterdata as md
    from app.services.auth import actor_for, create_user
    from app.services.db import open_database

    wal = Path(str(src) + "-wal")
    if wal.exists() and wal.stat().st_size:  # committed pages still in the WAL: copy through SQLite
        import sqlite3

        with sqlite3.connect(f"file:{src}?mode=ro", uri=True) as a, sqlite3.connect(dst) as b:
            a.backup(b)
    else:
        shutil.copyfile(src, dst)
    from app.services import schema
    from app.services.db import make_engine

    upgrader = make_engine(dst)
    schema.upgrade(upgrader)  # the copy, never the original: it may predate later migrations
    upgrader.dispose()
    engine = open_database(dst)
    with Session(engine) as s:
        wid = s.execute(select(Location.warehouse_id, func.count()).where(Location.kind == "storage")
                        .group_by(Location.warehouse_id).order_by(func.count().desc())).first()
        assert wid is not None, "no storage bins in that database"
        wh = s.get(Warehouse, wid[0])
        assert wh is not None
        items = list(s.scalars(select(Item).where(Item.active.is_(True), Item.temperature_class == "ambient",
                                                  Item.hazmat_class == "", Item.track_lot.is_(False),
                                                  Item.track_serial.is_(False), Item.needs_inspection.is_(False))
                               .limit(n_lines)))
        sup = s.scalars(select(Supplier).limit(1)).one()
        sup.over_receipt_pct = Decimal("10")
        user = create_user(s, "bench_rcv", "secret-bench", ["receiver"], owner_branch_id=md.head_office_id(s),
                           branch_id=wh.branch_id)
        actor = actor_for(s, user)
        s.commit()
        n_bins = wid[1]
        return {"engine": engine, "actor": actor, "wh": wh.id, "dal": wh.branch_id, "sup": sup.id, "bins": n_bins,
                "items": [(it.id, it.gtin or it.sku) for it in items]}


def _expected(info: dict[str, Any], n: int) -> tuple[Any, str]:
    from sqlalchemy.orm import Session

    from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine

    with Session(info["engine"]) as s:
        po = PurchaseOrder(number=f"BENCH-PO-{n:06d}", supplier_id=info["sup"], warehouse_id=info["wh"], status="sent",
                           order_date=dt.date.today(), owner_branch_id=info["dal"])
        s.add(po)
        s.flush()
        er = ExpectedReceipt(number=f"BENCH-ER-{n:06d}", source="po", po_id=po.id, supplier_id=info["sup"],
                             warehouse_id=info["wh"], owner_branch_id=info["dal"])
        s.add(er)
        s.flush()
        for i, (iid, _gtin) in enumerate(info["items"], 1):
            pol = PurchaseOrderLine(po_id=po.id, line_no=i, item_id=iid, ship_to_warehouse_id=info["wh"], qty_ordered=24,
                                    unit_price=Decimal("1"), owner_branch_id=info["dal"])
            s.add(pol)
            s.flush()
            s.add(ExpectedReceiptLine(receipt_id=er.id, po_line_id=pol.id, item_id=iid, qty_expected=24,
                                      owner_branch_id=info["dal"]))
        s.commit()
        return er.id, er.number


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench receive")
    ap.add_argument("--lines", type=int, default=500)
    ap.add_argument("--bins", type=int, default=2000)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--db", type=Path, default=None,
                    help="run on a copy of this branch file (e.g. /work/large.db) instead of a fresh one")
    args = ap.parse_args(argv)

    from sqlalchemy import text
    from sqlalchemy.orm import Session

    from app.services.receiving.post import post_receipt
    from app.services.receiving.putaway import propose_bins
    from app.services.receiving.session import ReceivingSession, load_context

    with tempfile.TemporaryDirectory() as tmp:
        t0 = time.perf_counter()
        if args.db:
            info = _existing(args.db, Path(tmp) / "bench.db", args.lines)
            args.bins, args.lines = info["bins"], len(info["items"])
            print(f"copied {args.db}: {args.lines} items, {args.bins} bins in the warehouse "
                  f"({time.perf_counter() - t0:.1f} s)")
        else:
            info = _build(Path(tmp) / "bench.db", args.lines, args.bins)
            print(f"built {args.lines} items, {args.bins} bins in {time.perf_counter() - t0:.1f} s")
        scan_t, prop_t, post_t, post_cpu = [], [], [], []
        for r in range(args.repeat):
            er_id, number = _expected(info, r + 1)
            scans = [x for _iid, gtin in info["items"] for x in ("*24", gtin)]
            with Session(info["engine"]) as s:
                t = time.perf_counter()
                rs = ReceivingSession(load_context(s, er_id))
                bad = [m.message for m in (rs.scan(x) for x in scans) if not m.ok]
                lines = rs.post_lines()
                scan_t.append(time.perf_counter() - t)
                assert not bad, bad[:3]
                t = time.perf_counter()
                props = propose_bins(s, info["wh"], [(ln.item_id, ln.qty) for ln in lines])
                prop_t.append(time.perf_counter() - t)
                unplaced = sum(1 for p in props if p.location_id is None)
                s.rollback()
            with Session(info["engine"]) as s:
                t, c = time.perf_counter(), time.process_time()
                posted = post_receipt(s, info["actor"], er_id, lines)
                s.commit()
                post_t.append(time.perf_counter() - t)
                post_cpu.append(time.process_time() - c)
                assert posted.lines == args.lines and len(posted.putaway_task_ids) >= args.lines
            print(f"run {r + 1}: {number}: scan {len(scans)} {scan_t[-1]:.3f} s, propose {prop_t[-1]:.3f} s, "
                  f"post {post_t[-1]:.3f} s (cpu {post_cpu[-1]:.3f} s) ({posted.number}; {len(posted.putaway_task_ids)} tasks; {unplaced} line(s) without one bin)")
        with Session(info["engine"]) as s:
            moves = s.scalar(text("SELECT count(*) FROM stock_move"))
        info["engine"].dispose()
    print(f"scan {len(scans)} scans ({args.lines} lines): median {statistics.median(scan_t):.3f} s")
    print(f"putaway proposals for {args.lines} lines over {args.bins} bins: median {statistics.median(prop_t):.3f} s "
          f"(goal < 0.5 s)")
    print(f"post a {args.lines}-line receipt (incl. putaway tasks), committed: median {statistics.median(post_t):.3f} s "
          f"(goal < 1 s), cpu {statistics.median(post_cpu):.3f} s; ledger now {moves:,} moves")
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else 0.0
    print(f"load average while measuring: {load:.1f} on {os.cpu_count()} cores (wall time >> cpu time means other "
          "processes had the cores)")
    return 0
