"""Packing slip: what a shipment carries, per order line ordered / shipped now / shipped before /
backordered, with the cartons (SSCC) and the carrier; from plain data (no database)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from reports.letterhead import Letterhead, letterhead_block
from reports.page import render
from reports.styles import BODY, BOLD, HEADING, RIGHT, SMALL, TITLE, lines_table_style


@dataclass(frozen=True)
class SlipLine:
    line_no: int
    sku: str
    description: str
    ordered: int
    shipped_now: int
    shipped_before: int
    backordered: int
    uom: str = "EA"
    lots: str = ""
    serials: str = ""


@dataclass(frozen=True)
class SlipCarton:
    seq: int
    sscc: str
    box: str
    weight_g: int
    contents: str


@dataclass(frozen=True)
class SlipDocument:
    shipment: str
    order: str
    customer: str
    customer_code: str
    ship_to: str
    ship_from: str
    customer_po: str
    carrier: str
    service: str
    tracking: str
    ship_date: dt.date | None
    lines: tuple[SlipLine, ...]
    cartons: tuple[SlipCarton, ...] = ()
    letterhead: Letterhead | None = None
    company_name: str = ""
    notes: tuple[str, ...] = field(default_factory=tuple)


def _p(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _header(doc: SlipDocument) -> Flowable:
    head: list[Flowable] = (letterhead_block(doc.letterhead) if doc.letterhead is not None
                            else [_p(doc.company_name, TITLE)])
    left = [*head, Spacer(1, 3 * mm), _p("PACKING SLIP", HEADING)]
    right: list[Flowable] = [Code128(doc.shipment, barHeight=12 * mm, barWidth=0.9, humanReadable=False),
                             _p(doc.shipment, RIGHT), _p(f"Order {doc.order}", RIGHT)]
    if doc.customer_po:
        right.append(_p(f"Your PO {doc.customer_po}", RIGHT))
    right.append(_p(f"Shipped {doc.ship_date.isoformat()}" if doc.ship_date else "Not shipped yet", RIGHT))
    t = Table([[left, right]], colWidths=["60%", "40%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return t


def _parties(doc: SlipDocument) -> Flowable:
    to = [_p("Ship to", BOLD), _p(f"{doc.customer} ({doc.customer_code})"), _p(doc.ship_to)]
    via = [_p("Shipped from / via", BOLD), _p(doc.ship_from), _p(f"{doc.carrier} {doc.service}".strip())]
    if doc.tracking:
        via.append(_p(f"Tracking {doc.tracking}"))
    t = Table([[to, via]], colWidths=["50%", "50%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _lines(doc: SlipDocument) -> Table:
    head: list[object] = ["#", "SKU", "Description", "Ordered", "Shipped now", "Shipped before", "Backordered"]
    rows: list[list[object]] = [head]
    for ln in doc.lines:
        desc = ln.description if len(ln.description) <= 44 else ln.description[:43] + "…"
        extra = "; ".join(x for x in (f"lot {ln.lots}" if ln.lots else "", f"serial {ln.serials}" if ln.serials else "")
                          if x)
        cell: object = _p(f"{desc}\n{extra}", SMALL) if extra else desc
        rows.append([str(ln.line_no), ln.sku, cell, f"{ln.ordered:,}", f"{ln.shipped_now:,}",
                     f"{ln.shipped_before:,}", f"{ln.backordered:,}" if ln.backordered else "-"])
    t = Table(rows, colWidths=[8 * mm, 26 * mm, None, 18 * mm, 22 * mm, 24 * mm, 22 * mm], repeatRows=1)
    t.setStyle(lines_table_style(len(rows), (3, 4, 5, 6)))
    return t


def _cartons(doc: SlipDocument) -> Table:
    head: list[object] = ["Carton", "SSCC", "Box", "Weight", "Contents"]
    rows: list[list[object]] = [head]
    for c in doc.cartons:
        rows.append([f"{c.seq} of {len(doc.cartons)}", f"(00){c.sscc}", c.box or "-", f"{c.weight_g / 1000:.2f} kg",
                     _p(c.contents, SMALL)])
    t = Table(rows, colWidths=[18 * mm, 42 * mm, 14 * mm, 20 * mm, None], repeatRows=1)
    t.setStyle(lines_table_style(len(rows), (3,)))
    return t


def render_slip_story(doc: SlipDocument) -> list[Flowable]:
    story: list[Flowable] = [_header(doc), Spacer(1, 4 * mm), _parties(doc), Spacer(1, 4 * mm), _lines(doc)]
    total = sum(ln.shipped_now for ln in doc.lines)
    back = sum(ln.backordered for ln in doc.lines)
    story += [Spacer(1, 2 * mm), _p(f"{len(doc.lines)} lines, {total:,} units in this shipment"
                                    + (f"; {back:,} units backordered: they follow as soon as they are in stock"
                                       if back else "; nothing backordered"), BODY)]
    if doc.cartons:
        story += [_p("Cartons", HEADING), _cartons(doc)]
    story += [_p(n, SMALL) for n in doc.notes]
    story += [Spacer(1, 4 * mm), _p("Please check the goods on arrival and tell us within 5 days of anything "
                                    "missing or damaged, quoting the shipment number above.", SMALL)]
    return story


def render_packing_slip(doc: SlipDocument) -> bytes:
    return render(render_slip_story(doc), title=f"Packing slip {doc.shipment}",
                  footer_left=f"{doc.letterhead.name if doc.letterhead else doc.company_name} · packing slip "
                              f"{doc.shipment}")
