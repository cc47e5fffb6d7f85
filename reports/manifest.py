"""End-of-day manifest per carrier: the shipments a driver signs for, from plain data."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from reports.letterhead import Letterhead, letterhead_block
from reports.page import render
from reports.styles import BODY, HEADING, RIGHT, SMALL, lines_table_style

HEAD_RIGHT = ParagraphStyle("HeadRight", parent=HEADING, alignment=2, fontSize=13, leading=16)


@dataclass(frozen=True)
class ManifestRow:
    shipment: str
    tracking: str
    service: str
    order: str
    customer: str
    ship_to: str
    cartons: int
    weight_g: int
    quoted: Decimal | None
    billed: Decimal | None
    currency: str = "USD"


@dataclass(frozen=True)
class ManifestDoc:
    number: str
    carrier: str
    warehouse: str
    ship_date: dt.date
    status: str
    rows: list[ManifestRow]
    letterhead: Letterhead | None = None
    close_ref: str = ""
    closed_at: dt.datetime | None = None


def _p(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _money(d: Decimal | None) -> str:
    return "-" if d is None else f"{d:,.2f}"


def render_manifest(doc: ManifestDoc) -> bytes:
    head: list[Flowable] = letterhead_block(doc.letterhead) if doc.letterhead else []
    right = [_p(f"MANIFEST {doc.number}", HEAD_RIGHT), _p(f"{doc.carrier}", RIGHT), _p(f"from {doc.warehouse}", RIGHT),
             _p(f"ship date {doc.ship_date.isoformat()}", RIGHT),
             _p(doc.status.upper() + (f" {doc.closed_at:%Y-%m-%d %H:%M} UTC" if doc.closed_at else ""), RIGHT)]
    top = Table([[head, right]], colWidths=["60%", "40%"])
    top.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, -1), "RIGHT")]))
    rows: list[list[object]] = [["#", "Shipment", "Tracking", "Service", "Order", "Customer", "Ship to", "Cartons",
                                 "Weight kg", "Freight billed"]]
    for n, r in enumerate(doc.rows, 1):
        rows.append([str(n), r.shipment, r.tracking, r.service, r.order, _p(r.customer[:40], SMALL),
                     _p(r.ship_to, SMALL), str(r.cartons), f"{r.weight_g / 1000:,.1f}", _money(r.billed)])
    total_w = sum(r.weight_g for r in doc.rows)
    total_c = sum(r.cartons for r in doc.rows)
    billed = sum((r.billed for r in doc.rows if r.billed is not None), Decimal(0))
    rows.append(["", f"{len(doc.rows)} shipment{'' if len(doc.rows) == 1 else 's'}", "", "", "", "", "", str(total_c), f"{total_w / 1000:,.1f}",
                 _money(billed)])
    t = Table(rows, colWidths=[8 * mm, 30 * mm, 36 * mm, 18 * mm, 30 * mm, 45 * mm, None, 16 * mm, 20 * mm, 24 * mm],
              repeatRows=1)
    style = lines_table_style(len(rows), (7, 8, 9))
    style.add("FONT", (0, len(rows) - 1), (-1, len(rows) - 1), "Helvetica-Bold", 8.5)
    style.add("LINEABOVE", (0, len(rows) - 1), (-1, len(rows) - 1), 0.8, "black")
    t.setStyle(style)
    sign = Table([["Driver (name, signature)", "", "Time of pickup", ""]], colWidths=[45 * mm, 90 * mm, 30 * mm, 50 * mm])
    sign.setStyle(TableStyle([("LINEBELOW", (1, 0), (1, 0), 0.5, "black"), ("LINEBELOW", (3, 0), (3, 0), 0.5, "black"),
                              ("FONT", (0, 0), (-1, -1), "Helvetica", 9), ("TOPPADDING", (0, 0), (-1, -1), 14)]))
    story: list[Flowable] = [top, Spacer(1, 4 * mm), t, Spacer(1, 8 * mm), sign]
    if doc.close_ref:
        story += [Spacer(1, 3 * mm), _p(f"Close: {doc.close_ref}", SMALL)]
    name = doc.letterhead.name if doc.letterhead else ""
    return render(story, title=f"Manifest {doc.number}", footer_left=f"{name} · manifest {doc.number} · {doc.carrier}",
                  pagesize=landscape(A4))
