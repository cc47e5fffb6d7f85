"""EDI figures: read a large 856, import it (ExpectedReceipt + lines), export an 850.

    depot bench edi [--lines N]

Builds its own temporary database (a branch, a supplier, N items, one sent PO of N lines),
so it does not need the large seed. Figures: X12 parse time, import time (one transaction),
850 export time, and the file sizes.
"""

from __future__ import annotations

import argparse
import datetime as dt
import tempfile
import time
from decimal import Decimal
from pathlib import Path

from sqlalchemy.orm import Session


def _asn(n: int, po_number: str) -> bytes:
    segs = ["BSN*00*BENCH1*20261126*1200", "HL*1**S", "TD5*O*2*FDEG", "REF*CN*PRO123", "DTM*011*20261126",
            "DTM*017*20261128", "HL*2*1*O", f"PRF*{po_number}"]
    hl = 2
    for i in range(1, n + 1):
        hl += 1
        segs += [f"HL*{hl}*2*P", f"MAN*GM*00{i:016d}"]
        hl += 1
        segs += [f"HL*{hl}*{hl - 1}*I", f"LIN*{i}*BP*BENCH{i:06d}", f"SN1**{i % 50 + 1}*EA", f"REF*LT*L{i:05d}"]
    body = ["ST*856*0001", *segs]
    body.append(f"SE*{len(body) + 1}*0001")
    env = ["ISA*00*          *00*          *ZZ*BENCHSUP       *ZZ*DEPOTBEN       *261126*1200*U*00401*000000001*0*P*>",
           "GS*SH*BENCHSUP*DEPOTBEN*20261126*1200*1*X*004010", *body, "GE*1*1", "IEA*1*000000001"]
    return ("~\n".join(env) + "~\n").encode()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench edi")
    ap.add_argument("--lines", type=int, default=1000)
    args = ap.parse_args(argv)
    from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
    from app.services import masterdata as md
    from app.services import schema
    from app.services.db import make_engine
    from app.services.edi import x12
    from app.services.edi.inbound import import_bytes
    from app.services.edi.outbound import export_po

    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "bench.db")
        schema.upgrade(engine)
        with Session(engine) as s:
            md.create_branch(s, "HQ", "Head office", head_office=True)
            ben = md.create_branch(s, "BEN", "Bench")
            wh = md.create_warehouse(s, ben, "BEN1", "Bench DC")
            sup = md.create_supplier(s, "BSUP", "Bench supplier", edi_id="BENCHSUP", edi_qualifier="ZZ")
            po = PurchaseOrder(number="BEN-PO-000001", supplier_id=sup.id, warehouse_id=wh.id, status="sent",
                               order_date=dt.date(2026, 11, 26), owner_branch_id=ben.id)
            s.add(po)
            s.flush()
            for i in range(1, args.lines + 1):
                item = md.create_item(s, f"BENCH{i:06d}", f"Bench item {i}")
                s.add(PurchaseOrderLine(po_id=po.id, line_no=i, item_id=item.id, ship_to_warehouse_id=wh.id,
                                        qty_ordered=100, unit_price=Decimal("1.25"), owner_branch_id=ben.id))
            s.commit()
            po_id = po.id
        data = _asn(args.lines, "BEN-PO-000001")
        t0 = time.perf_counter()
        ic = x12.parse(data)
        ic.check()
        t_parse = time.perf_counter() - t0
        with Session(engine) as s:
            t0 = time.perf_counter()
            res = import_bytes(s, None, data, "bench.856")
            s.commit()
            t_import = time.perf_counter() - t0
            t0 = time.perf_counter()
            name, out = export_po(s, po_id, "x12")
            s.commit()
            t_export = time.perf_counter() - t0
        engine.dispose()
    segs = len(ic.transactions[0].segments)
    print(f"856 with {args.lines} items: {len(data):,} bytes, {segs:,} segments")
    print(f"  X12 parse + count check: {t_parse * 1000:.1f} ms ({segs / t_parse:,.0f} segments/s)")
    print(f"  import (PO match, items, expected receipt, {args.lines} lines, one transaction): {t_import * 1000:.0f} ms"
          f" -> {res.messages[0].expected_receipt}")
    print(f"850 export of {args.lines} lines: {t_export * 1000:.0f} ms, {len(out):,} bytes ({name})")
    return 0
