"""The pick list (PDF) from plain data: a wave's lines in walking order, each with the bin and the
item as barcodes, the quantity in the picking unit, the lot to take (first expiry first out) and
the tote. Batch lists carry a tote legend (tote -> order); discrete lists start each order on a
page of its own. Page x of y is the shared footer's (``reports.page``).

Barcodes are Code 128 drawn straight on the table's cells (one small flowable per barcode, no
nested tables), so a 1,000-line list lays out in well under a second.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, PageBreak, Paragraph, Spacer, Table

from reports.page import render
from reports.styles import BODY, HEADING, SMALL, TITLE, lines_table_style


@dataclass(frozen=True)
class PickListRow:
    seq: int
    bin: str
    sku: str
    description: str
    #: what the item's barcode encodes (its GTIN, else the SKU)
    item_code: str
    #: the quantity as picked ("2 CS + 3 EA") and in base units
    qty_text: str
    qty: int
    lot: str
    expiry: dt.date | None
    tote: int
    order: str


@dataclass(frozen=True)
class ToteRow:
    tote: int
    order: str
    customer: str
    lines: int


@dataclass(frozen=True)
class PickListDoc:
    wave: str
    warehouse: str
    carrier: str
    cutoff: str  # local time text, '' when none
    pick_mode: str  # 'batch' or 'discrete'
    printed_at: dt.datetime
    rows: Sequence[PickListRow]
    totes: Sequence[ToteRow] = field(default_factory=tuple)
    walk_m: int = 0
    walk_line_order_m: int = 0


class _Barcode(Flowable):  # type: ignore[misc]  # reportlab ships no type hints
    """A Code 128 sized to a table cell, its bars drawn as one filled path (reportlab's own drawing
    makes a rectangle operation per bar, which is most of a long list's time)."""

    def __init__(self, value: str, width: float, height: float = 7 * mm) -> None:
        super().__init__()
        self.width, self.height = width, height
        bc = Code128(value, humanReadable=False, quiet=False)
        bc.validate()
        bc.encode()
        bc.decompose()
        # decomposed: lower case = a space, upper case = a bar, the letter = its width in modules
        self._runs = [(ord(c) - (96 if c.islower() else 64), c.isupper()) for c in bc.decomposed]
        self._modules = sum(n for n, _bar in self._runs) or 1

    def wrap(self, *_args: Any) -> tuple[float, float]:
        return self.width, self.height

    def draw(self) -> None:
        unit = self.width / self._modules
        path = self.canv.beginPath()
        x = 0
        for n, bar in self._runs:
            if bar:
                path.rect(x * unit, 0, n * unit, self.height)
            x += n
        self.canv.drawPath(path, stroke=0, fill=1)


_COLS = ["#", "Bin", "", "SKU", "Description", "", "Qty", "Lot / expiry", "Tote", "Order", "Picked"]
_WIDTHS = [8 * mm, 23 * mm, 30 * mm, 24 * mm, 50 * mm, 30 * mm, 24 * mm, 25 * mm, 10 * mm, 25 * mm, 14 * mm]


def _table(rows: Sequence[PickListRow]) -> Table:
    data: list[list[object]] = [list(_COLS)]
    for r in rows:
        lot = (f"{r.lot}" + (f"\nexp {r.expiry:%Y-%m-%d}" if r.expiry else "")) if r.lot else ""
        data.append([str(r.seq), r.bin, _Barcode(r.bin, 28 * mm), r.sku, r.description[:34],
                     _Barcode(r.item_code, 28 * mm), r.qty_text, lot, str(r.tote) if r.tote else "", r.order, "[    ]"])
    table = Table(data, colWidths=_WIDTHS, repeatRows=1)
    style = lines_table_style(len(data), numeric_cols=(6, 8))
    for col in (1, 3, 6):  # bin, SKU and quantity stand out
        style.add("FONT", (col, 1), (col, -1), "Helvetica-Bold", 9)
    style.add("VALIGN", (0, 0), (-1, -1), "MIDDLE")
    table.setStyle(style)
    return table


def _head(doc: PickListDoc, subtitle: str) -> Table:
    facts = [f"warehouse {doc.warehouse}", f"carrier {doc.carrier or '(none)'}"]
    if doc.cutoff:
        facts.append(f"cut-off {doc.cutoff}")
    facts.append(f"{doc.pick_mode} picking")
    facts.append(f"{len(doc.rows)} line(s), {sum(r.qty for r in doc.rows):,} unit(s)")
    walk = ""
    if doc.walk_m:
        walk = f"walk about {doc.walk_m:,} m in this order (line order: {doc.walk_line_order_m:,} m)"
    return Table([[
        [Paragraph(escape(f"Pick list {doc.wave}"), TITLE), Paragraph(escape(subtitle or ", ".join(facts)), BODY),
         Paragraph(escape(f"printed {doc.printed_at:%Y-%m-%d %H:%M}" + (f"; {walk}" if walk else "")), SMALL)],
        Code128(doc.wave, barHeight=10 * mm, barWidth=0.9, humanReadable=True),
    ]], colWidths=[190 * mm, None])


def _totes(doc: PickListDoc) -> Table:
    data: list[list[object]] = [["Tote", "Order", "Customer", "Lines"]]
    for t in doc.totes:
        data.append([str(t.tote), t.order, t.customer[:50], str(t.lines)])
    table = Table(data, colWidths=[14 * mm, 32 * mm, 90 * mm, 16 * mm], repeatRows=1)
    table.setStyle(lines_table_style(len(data), numeric_cols=(0, 3)))
    return table


def render_pick_list(doc: PickListDoc) -> bytes:
    story: list[Flowable] = []
    if doc.pick_mode == "batch" or len({r.order for r in doc.rows}) <= 1:
        story += [_head(doc, ""), Spacer(1, 3 * mm)]
        if doc.totes:
            story += [Paragraph("Totes on the cart", HEADING), _totes(doc), Spacer(1, 3 * mm)]
        story.append(_table(doc.rows))
    else:  # discrete: one order after the other, each on its own pages
        orders: list[str] = []
        for r in doc.rows:
            if r.order not in orders:
                orders.append(r.order)
        customers = {t.order: t.customer for t in doc.totes}
        for n, order in enumerate(orders):
            if n:
                story.append(PageBreak())
            rows = [r for r in doc.rows if r.order == order]
            story += [_head(doc, f"order {order} {customers.get(order, '')} ({n + 1} of {len(orders)}), "
                                 f"{len(rows)} line(s)"), Spacer(1, 3 * mm), _table(rows)]
    if not doc.rows:
        story.append(Paragraph("Nothing left to pick on this wave.", BODY))
    return render(story, title=f"Pick list {doc.wave}", footer_left=f"Depot pick list {doc.wave}",
                  pagesize=landscape(A4))
