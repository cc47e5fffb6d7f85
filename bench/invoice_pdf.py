"""1,000 invoice PDFs in the background (goal: under 30 s), and the print preview of a 20-page
invoice (goal: under 1 s), on a temporary branch file.

The bulk figure is the print centre's "Print all shown" path exactly: ``print_batch.run`` to a
folder, one transaction per document (render from the database, record, write the file). The
invoices (1 to 12 lines, a few longer) are written directly as rows (the bench measures printing,
not invoicing). The report-only rate (pages/s of ``render_invoice`` on plain data) is printed
beside it for the reportlab floor the issue quotes (~67 pages/s with platypus on one core).

    depot bench invoice_pdf [--count 1000] [--preview-lines 940]
"""

from __future__ import annotations

import argparse
import datetime as dt
import io
import random
import tempfile
import time
from decimal import Decimal
from pathlib import Path


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser(prog="depot bench invoice_pdf")
    p.add_argument("--count", type=int, default=1000)
    p.add_argument("--preview-lines", type=int, default=940, help="lines of the preview invoice (940 = 20 pages)")
    a = p.parse_args(argv)

    from pypdf import PdfReader
    from sqlalchemy.orm import Session

    from app.models.billing import Invoice, InvoiceLine, InvoiceTax
    from app.services import masterdata as md
    from app.services import print_batch, printing, schema
    from app.services.auth import actor_for, create_user
    from app.services.billing import documents, printables  # noqa: F401  (registers the printable kinds)
    from app.services.db import make_engine, session_scope
    from app.services.money import line_total
    from reports.invoice import render_invoice

    rnd = random.Random(16)
    today = dt.date(2026, 12, 1)
    with tempfile.TemporaryDirectory() as tmp:
        engine = make_engine(Path(tmp) / "bench.db")
        schema.upgrade(engine)
        with Session(engine) as s:
            ho = md.create_branch(s, "HQ", "Head office", head_office=True)
            dal = md.create_branch(s, "DAL", "Dallas", address="1 Commerce St, Dallas TX")
            cust = md.create_customer(s, "BENCH", "Bench Customer Inc", ship_to="9 Main St\nAustin TX 78701")
            items = [md.create_item(s, f"SKU-{i:05d}", f"Bench item number {i} with a realistic description",
                                    standard_cost="3.45", list_price="7.9900") for i in range(40)]
            clerk = actor_for(s, create_user(s, "clerk", "secret-c", ["clerk"], owner_branch_id=ho.id, branch_id=dal.id))

            def invoice(number: str, n_lines: int) -> None:
                inv = Invoice(number=number, kind="invoice", status="released", customer_id=cust.id, invoice_date=today,
                              due_date=today + dt.timedelta(days=30), terms="NET30", bill_to="Bench Customer Inc\n9 Main St",
                              ship_to="9 Main St\nAustin TX 78701", carrier="Sandbox Express", tracking_number="1Z999BENCH",
                              pod_ref="signed by J. SMITH; delivered 2026-12-01 14:05 UTC", owner_branch_id=dal.id)
                s.add(inv)
                s.flush()
                sub = Decimal(0)
                for k in range(1, n_lines + 1):
                    it = items[rnd.randrange(len(items))]
                    qty, price = rnd.randint(1, 200), Decimal(rnd.randint(100, 99999)) / 100
                    ext = line_total(qty, price)
                    sub += ext
                    s.add(InvoiceLine(invoice_id=inv.id, line_no=k, item_id=it.id, sku=it.sku, description=it.description,
                                      qty=qty, uom="EA", unit_price=price, extension=ext, tax_rate_pct=Decimal("8.25"),
                                      tax_amount=(ext * Decimal("0.0825")).quantize(Decimal("0.01")), owner_branch_id=dal.id))
                tax = (sub * Decimal("0.0825")).quantize(Decimal("0.01"))
                s.add(InvoiceTax(invoice_id=inv.id, name="Sales tax 8.25%", rate_pct=Decimal("8.25"), base=sub, amount=tax,
                                 owner_branch_id=dal.id))
                inv.subtotal, inv.tax_total, inv.total = sub, tax, sub + tax

            for n in range(1, a.count + 1):
                invoice(f"DAL-INV-{n:06d}", 30 if n % 50 == 0 else rnd.randint(1, 12))
            invoice("DAL-INV-PREVIEW", a.preview_lines)
            s.commit()
        refs = [f"DAL-INV-{n:06d}" for n in range(1, a.count + 1)]

        # the report alone: pages per second of reportlab on plain data
        with session_scope(engine, write=False) as s:
            docs = [documents.invoice_data(s, documents.get_invoice(s, r)) for r in refs[:200]]
        t, c = time.perf_counter(), time.process_time()
        pages = sum(len(PdfReader(io.BytesIO(render_invoice(d))).pages) for d in docs)
        report_s, report_cpu = time.perf_counter() - t, time.process_time() - c

        # the background bulk print: print_batch.run into a folder
        out = Path(tmp) / "out"
        out.mkdir()
        with session_scope(engine) as s:
            batch = print_batch.start(s, clerk, "invoice", refs, channel="pdf", target=str(out)).id
        t0, c0 = time.perf_counter(), time.process_time()
        report = print_batch.run(engine, clerk, batch, print_batch.folder_sink(out))
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        with session_scope(engine, write=False) as s:
            total_pages = sum(r.pages for r in printing.history(s, doc_type="invoice", limit=a.count + 10))

        # the preview of a 20-page invoice: render + pdfium pages as images (what the screen waits for)
        from app.views.printcentre.preview import render_pages

        with session_scope(engine, write=False) as s:
            t, c = time.perf_counter(), time.process_time()
            pv = printing.render(s, "invoice", "DAL-INV-PREVIEW")
            imgs = render_pages(pv.pdf)
            preview_s, preview_cpu = time.perf_counter() - t, time.process_time() - c
        engine.dispose()
    print(f"report only: {pages} pages of 200 invoices in {report_s:.2f} s wall, {report_cpu:.2f} s CPU = "
          f"{pages / report_cpu:.0f} pages/s of CPU (reportlab floor quoted: ~67 pages/s on one core)")
    print(f"bulk print of {report.done:,} invoices ({total_pages:,} pages) to PDF files: {wall:.1f} s wall, {cpu:.1f} s CPU "
          f"= {report.done / wall:.0f} invoices/s, {total_pages / wall:.0f} pages/s wall, {total_pages / cpu:.0f} pages/s CPU "
          f"(goal < 30 s; {report.state})")
    print(f"preview of a {len(imgs)}-page invoice: {preview_s:.2f} s wall, {preview_cpu:.2f} s CPU (goal < 1 s)")
    return 0
