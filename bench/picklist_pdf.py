"""A 1,000-line pick list PDF (goal: under 1 s): the report from plain data (realistic bin codes,
GTINs, lots, totes; two Code 128s a line), CPU and wall, with the load it ran under.

    depot bench picklist_pdf [--lines 1000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import io
import os
import statistics
import time


def _doc(n: int) -> object:
    from reports.pick_list import PickListDoc, PickListRow, ToteRow

    rows = [PickListRow(i, f"AMB-{i // 80 + 1:03d}-{i % 40 + 1:02d}-{i % 2 + 1}", f"FAS-{i:05d}",
                        f"Bench item number {i} with a realistic description", f"0{7312345000000 + i:013d}",
                        f"{i % 7 + 1} CS + {i % 11} EA", (i % 7 + 1) * 12 + i % 11, f"L{2600 + i % 90}" if i % 4 == 0
                        else "", dt.date(2027, 1 + i % 12, 1 + i % 28) if i % 4 == 0 else None, i % 12 + 1,
                        f"DAL-SO-{10000 + i % 12:06d}") for i in range(1, n + 1)]
    totes = [ToteRow(t, f"DAL-SO-{10000 + t % 12:06d}", f"Customer {t}", n // 12) for t in range(1, 13)]
    return PickListDoc("DAL-WV-000123", "DAL1", "UPS", "Sat 16:00", "batch", dt.datetime(2026, 12, 5, 9, 0), rows,
                       totes, 1840, 6120)


def main(argv: list[str]) -> int:
    from pypdf import PdfReader

    from reports.pick_list import render_pick_list

    p = argparse.ArgumentParser(prog="depot bench picklist_pdf")
    p.add_argument("--lines", type=int, default=1000)
    p.add_argument("--repeat", type=int, default=5)
    a = p.parse_args(argv)
    render_pick_list(_doc(10))  # type: ignore[arg-type]  # warm-up: fonts and modules
    doc = _doc(a.lines)
    walls, cpus, pdf = [], [], b""
    for _ in range(a.repeat):
        t, c = time.perf_counter(), time.process_time()
        pdf = render_pick_list(doc)  # type: ignore[arg-type]
        walls.append(time.perf_counter() - t)
        cpus.append(time.process_time() - c)
    pages = len(PdfReader(io.BytesIO(pdf)).pages)
    print(f"pick list PDF, {a.lines} lines, {pages} pages, {len(pdf) / 1024:.0f} KiB")
    print(f"  wall median {statistics.median(walls) * 1000:7.1f} ms   max {max(walls) * 1000:7.1f} ms")
    print(f"  CPU  median {statistics.median(cpus) * 1000:7.1f} ms   max {max(cpus) * 1000:7.1f} ms")
    with contextlib.suppress(OSError):
        print(f"  load average {os.getloadavg()[0]:.1f}")
    ok = statistics.median(cpus) < 1.0
    print(f"  goal < 1 s (CPU median): {'met' if ok else 'MISSED'}")
    return 0 if ok else 1
