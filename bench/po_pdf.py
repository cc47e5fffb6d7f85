"""PO PDF of 200 lines (goal: under 0.5 s): the report alone, and the full path from the
database (document data + render) on a temporary branch file built with the real services.

    depot bench po_pdf [--lines 200] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import statistics
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def _report_only(n: int) -> float:
    from reports.purchase_order import PoDocLine, PoDocument, render_po

    lines = [PoDocLine(i, f"SKU-{i:05d}", f"Bench item number {i} with a realistic description", f"SP{i:06d}",
                       i * 12, "EA", Decimal("3.4500"), Decimal(i * 12) * Decimal("3.4500")) for i in range(1, n + 1)]
    doc = PoDocument("Depot · Dallas", "1 Commerce St\nDallas TX 75201", "DAL-PO-000123", 1, dt.date.today(),
                     "ACME", "Acme Industrial Supply", "9 Supply Rd, Fort Worth TX", "USD", "NET30",
                     {"DAL1": "Dallas DC\n1 Commerce St"}, lines, sum((ln.extension for ln in lines), Decimal(0)))
    t = time.perf_counter()
    render_po(doc)
    return time.perf_counter() - t


def _full_path(n: int, repeat: int) -> tuple[list[float], int, int]:
    from pypdf import PdfReader
    from sqlalchemy.orm import Session

    from app.services import masterdata as md
    from app.services import schema
    from app.services.auth import actor_for, create_user
    from app.services.buying.po_documents import po_pdf
    from app.services.buying.purchasing import LineInput, create_po
    from app.services.db import make_engine

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "bench.db")
        schema.upgrade(engine)
        with Session(engine) as s:
            ho = md.create_branch(s, "HQ", "Head office", head_office=True)
            dal = md.create_branch(s, "DAL", "Dallas", address="1 Commerce St, Dallas TX")
            md.create_warehouse(s, dal, "DAL1", "Dallas DC")
            sup = md.create_supplier(s, "ACME", "Acme Industrial Supply")
            for i in range(1, n + 1):
                it = md.create_item(s, f"SKU-{i:05d}", f"Bench item number {i}", standard_cost="3.45")
                md.link_item_supplier(s, it, sup, contract_price="3.45", contracted=True)
            actor = actor_for(s, create_user(s, "buyer", "secret-b", ["buyer"], owner_branch_id=ho.id, branch_id=dal.id))
            po = create_po(s, actor, "ACME", "DAL1", [LineInput(sku=f"SKU-{i:05d}", qty=i * 12) for i in range(1, n + 1)])
            s.commit()
            times, pdf = [], b""
            for _ in range(repeat):
                t = time.perf_counter()
                _name, pdf = po_pdf(s, po.number)
                times.append(time.perf_counter() - t)
        engine.dispose()
    return times, len(PdfReader(io.BytesIO(pdf)).pages), len(pdf)


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="depot bench po_pdf")
    p.add_argument("--lines", type=int, default=200)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    _report_only(10)  # warm-up: fonts and modules
    rep = [_report_only(a.lines) for _ in range(a.repeat)]
    full, pages, size = _full_path(a.lines, a.repeat)
    print(f"PO PDF, {a.lines} lines, {pages} pages, {size / 1024:.0f} KiB")
    print(f"  report only      median {statistics.median(rep) * 1000:7.1f} ms   max {max(rep) * 1000:7.1f} ms")
    print(f"  from database    median {statistics.median(full) * 1000:7.1f} ms   max {max(full) * 1000:7.1f} ms")
    ok = max(full) < 0.5
    print(f"  goal < 500 ms: {'met' if ok else 'MISSED'}")
    return 0 if ok else 1
