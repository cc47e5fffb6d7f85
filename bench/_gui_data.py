"""A database for the GUI benchmarks when the large seed (/work/large.db) is not there.

50,000 items x 3 warehouses (150,000 item x warehouse rows), each item stocked in one to
three bins per warehouse through real ``stock_move`` rows (the balance trigger keeps
``stock_balance``), capture switched off as for pulled rows. Built once and reused.
"""

from __future__ import annotations

import datetime as dt
import random
import time
from pathlib import Path

LARGE = Path("/work/large.db")
OWN = Path("/tmp/depot_bench_gui.db")


def bench_db(path: str | None, items: int = 50_000) -> Path:
    """--db if given; the large seed when ready; else our own (built on first use)."""
    if path:
        return Path(path)
    if LARGE.exists() and Path(str(LARGE) + ".READY").exists():
        return LARGE
    from app.models.catalog import Item
    from app.models.stock import StockMove
    from bench._built import stale

    if stale(OWN, Item, StockMove):  # missing, or built by a Depot whose files this one reads otherwise
        build(OWN, items)
    return OWN


def build(path: Path, items: int) -> None:
    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from app.models.catalog import Item
    from app.models.ids import uuid7
    from app.models.stock import StockMove
    from app.services import masterdata as md
    from app.services import schema
    from app.services.auth import create_user
    from app.services.db import make_engine
    from app.services.stock import virtual_location

    t0 = time.perf_counter()
    path.unlink(missing_ok=True)
    engine = make_engine(path)
    schema.upgrade(engine)
    rng = random.Random(7)
    with Session(engine, expire_on_commit=False) as s:
        ho = md.create_branch(s, "HQ", "Head office", head_office=True)
        whs, bins, sup = [], {}, {}
        for code, name in (("DAL", "Dallas"), ("HOU", "Houston"), ("AUS", "Austin")):
            br = md.create_branch(s, code, name)
            wh = md.create_warehouse(s, br, f"{code}1", f"{name} DC")
            zone = md.create_zone(s, wh, "A")
            whs.append(wh)
            bins[wh.id] = [md.create_bin(s, wh, f"A-{n:03d}", zone=zone).id for n in range(60)]
        for wh in whs:
            sup[wh.id] = virtual_location(s, wh.id, "supplier").id
        create_user(s, "admin", "admin", ["admin"], owner_branch_id=ho.id, branch_id=whs[0].branch_id)
        s.commit()
        owner = ho.id
    words = ["steel", "bolt", "pump", "valve", "hose", "cable", "drill", "glove", "paint", "filter",
             "bearing", "washer", "screw", "nut", "pipe", "tape", "lamp", "fuse", "relay", "motor"]
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    item_rows, move_rows = [], []
    for n in range(items):
        iid = uuid7()
        desc = f"{rng.choice(words).title()} {rng.choice(words)} {rng.randint(1, 999)} mm"
        item_rows.append({"id": iid, "owner_branch_id": owner, "created_at": now, "updated_at": now, "sku": f"SKU-{n:06d}",
                          "description": desc, "velocity_class": rng.choice("ABC")})
        for wh in whs:
            for b in rng.sample(bins[wh.id], rng.randint(1, 3)):
                move_rows.append({"id": uuid7(), "owner_branch_id": owner, "created_at": now, "item_id": iid,
                                  "from_location_id": sup[wh.id], "to_location_id": b, "qty": rng.randint(1, 500),
                                  "reason": "opening", "moved_at": now})
    # through the models' tables: every value stored as the application stores it (ids as 16 bytes,
    # the ledger's times as numbers, whatever the next storage change is)
    with engine.connect() as c:
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
        c.execute(insert(Item.__table__), item_rows)
        c.execute(insert(StockMove.__table__), move_rows)
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
        c.commit()
        c.exec_driver_sql("ANALYZE")
        c.commit()
    engine.dispose()
    print(f"built {path}: {items:,} items, {len(move_rows):,} moves in {time.perf_counter() - t0:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)")
