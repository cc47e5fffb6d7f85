"""A database for the GUI benchmarks when the large seed (/work/large.db) is not there.

50,000 items x 3 warehouses (150,000 item x warehouse rows), each item stocked in one to
three bins per warehouse through real ``stock_move`` rows (the balance trigger keeps
``stock_balance``), capture switched off as for pulled rows. Built once and reused.
"""

from __future__ import annotations

import datetime as dt
import random
import sqlite3
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
    if not OWN.exists() or _stale(OWN):
        build(OWN, items)
    return OWN


def _stale(path: Path) -> bool:
    from app.services import schema
    from app.services.db import make_engine
    from app.services.errors import DatabaseProblem

    engine = make_engine(path)
    try:
        schema.check_current(engine)
        return False
    except DatabaseProblem:
        return True
    finally:
        engine.dispose()


def build(path: Path, items: int) -> None:
    from sqlalchemy.orm import Session

    from app.models.ids import uuid7
    from app.models.stamps import iso_micros
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
    now = dt.datetime(2026, 1, 1, tzinfo=dt.UTC).isoformat(timespec="microseconds")
    now_us = iso_micros(now)  # the moves' times are stored as numbers (app.models.stamps)
    con = sqlite3.connect(path)
    con.execute("UPDATE sync_capture SET enabled = 0")
    item_rows, move_rows = [], []
    for n in range(items):
        iid = uuid7().hex
        desc = f"{rng.choice(words).title()} {rng.choice(words)} {rng.randint(1, 999)} mm"
        item_rows.append((iid, owner.hex, now, now, 0, "", f"SKU-{n:06d}", desc, "EA", rng.choice("ABC")))
        for wh in whs:
            for b in rng.sample(bins[wh.id], rng.randint(1, 3)):
                move_rows.append((uuid7().hex, owner.hex, now_us, iid, sup[wh.id].hex, b.hex, rng.randint(1, 500),
                                  "opening", now_us))
    con.executemany(
        "INSERT INTO item (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, sku, description, base_uom,"
        " velocity_class, length_mm, width_mm, height_mm, weight_g, track_lot, track_serial, track_expiry,"
        " needs_inspection, hazmat_class, temperature_class, category, standard_cost, list_price, currency, active)"
        " VALUES (?,?,?,?,?,?,?,?,?,?,0,0,0,0,0,0,0,0,'','ambient','',0,0,'USD',1)", item_rows)
    con.executemany(
        "INSERT INTO stock_move (id, owner_branch_id, created_at, item_id, from_location_id, to_location_id, qty,"
        " reason, doc_type, moved_at) VALUES (?,?,?,?,?,?,?,?,'',?)", move_rows)
    con.execute("UPDATE sync_capture SET enabled = 1")
    con.commit()
    con.execute("ANALYZE")
    con.close()
    print(f"built {path}: {items:,} items, {len(move_rows):,} moves in {time.perf_counter() - t0:.1f} s "
          f"({path.stat().st_size / 1e6:.0f} MB)")
