"""Ageing of 100,000 open items (goal: under 1 s), and DSO over the same ledger, on a temporary
branch file: 2,000 customers x 50 invoices, a third of them part-paid (so the ledger holds more
rows than open documents). Rows are written with executemany (the bench measures the read).

    depot bench ageing [--items 100000] [--customers 2000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import datetime as dt
import random
import statistics
import tempfile
import time
from pathlib import Path


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="depot bench ageing")
    p.add_argument("--items", type=int, default=100_000)
    p.add_argument("--customers", type=int, default=2000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)

    from sqlalchemy import insert
    from sqlalchemy.orm import Session

    from app.models.ids import uuid7
    from app.models.receivables import ReceivableEntry
    from app.services import masterdata as md
    from app.services import schema
    from app.services.billing import receivables as ar
    from app.services.db import make_engine

    today = dt.date(2026, 12, 1)
    rnd = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "bench.db")
        schema.upgrade(engine)
        with Session(engine) as s:
            md.create_branch(s, "HQ", "Head office", head_office=True)
            dal = md.create_branch(s, "DAL", "Dallas")
            custs = [md.create_customer(s, f"C{i:05d}", f"Customer {i}").id for i in range(a.customers)]
            s.flush()
            rows = []
            for n in range(a.items):
                due = today + dt.timedelta(days=rnd.randint(-150, 30))
                cid = custs[n % len(custs)]
                amount = rnd.randint(1000, 500000) * 100  # stored 1/10,000
                base = {"customer_id": cid, "doc_number": f"INV-{n:07d}", "due_date": due, "currency": "USD",
                        "owner_branch_id": dal.id, "source": "import", "ref": ""}
                rows.append({**base, "id": uuid7(), "kind": "invoice", "doc_date": due - dt.timedelta(days=30),
                             "amount": ar.money_of(amount)})
                if n % 3 == 0:
                    rows.append({**base, "id": uuid7(), "kind": "payment", "doc_date": due,
                                 "amount": -ar.money_of(amount // 2)})
            t = time.perf_counter()
            s.execute(insert(ReceivableEntry), rows)
            s.commit()
            print(f"ledger: {len(rows):,} rows for {a.items:,} open items of {a.customers:,} customers "
                  f"(written in {time.perf_counter() - t:.1f} s)")
            times, dso_times = [], []
            for _ in range(a.repeat):
                t = time.perf_counter()
                result = ar.ageing(s, today=today)
                times.append(time.perf_counter() - t)
                t = time.perf_counter()
                d = ar.dso(s, today=today)
                dso_times.append(time.perf_counter() - t)
            totals = ar.ageing_totals(result)
        engine.dispose()
    print(f"ageing: {len(result):,} customers, buckets " + ", ".join(f"{k} {v:,.0f}" for k, v in totals.items()))
    print(f"ageing of {a.items:,} open items: median {statistics.median(times):.3f} s, best {min(times):.3f} s "
          f"(goal < 1 s; {a.repeat} runs)")
    print(f"DSO ({d.value} days): median {statistics.median(dso_times):.3f} s")
    return 0
