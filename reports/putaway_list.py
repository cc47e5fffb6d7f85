"""The putaway list (PDF) from plain data: tasks in walk order with the proposed bin and why.

The header carries a Code 128 of the receipt number (or warehouse code) so the list can be
scanned back; each row has a box for the operator to tick and the bin actually used.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.units import mm
from reportlab.platypus import Paragraph, Spacer, Table

from reports.page import render
from reports.styles import BODY, SMALL, TITLE, lines_table_style


@dataclass(frozen=True)
class PutawayRow:
    sku: str
    description: str
    lot: str
    qty: int
    from_code: str
    to_code: str
    reason: str


@dataclass(frozen=True)
class PutawayList:
    warehouse: str
    reference: str  # receipt number, or '' for all open tasks of the warehouse
    printed_at: dt.datetime
    rows: Sequence[PutawayRow]


def render_putaway_list(doc: PutawayList) -> bytes:
    key = doc.reference or doc.warehouse
    head = Table([[
        [Paragraph("Putaway list", TITLE),
         Paragraph(escape(f"warehouse {doc.warehouse}" + (f", receipt {doc.reference}" if doc.reference else ", all open tasks")), BODY),
         Paragraph(escape(f"printed {doc.printed_at:%Y-%m-%d %H:%M} UTC, {len(doc.rows)} task(s)"), SMALL)],
        Code128(key, barHeight=10 * mm, barWidth=0.9, humanReadable=True),
    ]], colWidths=[180 * mm, None])
    data: list[list[object]] = [["#", "SKU", "Description", "Lot", "Qty", "From", "To bin", "Why", "Done / bin used"]]
    for n, r in enumerate(doc.rows, 1):
        data.append([str(n), r.sku, r.description[:40], r.lot, f"{r.qty:,}", r.from_code, r.to_code or "(choose)",
                     Paragraph(escape(r.reason), SMALL), "[  ] ________"])
    widths = [8 * mm, 28 * mm, 55 * mm, 22 * mm, 16 * mm, 16 * mm, 20 * mm, 85 * mm, 26 * mm]
    table = Table(data, colWidths=widths, repeatRows=1)
    table.setStyle(lines_table_style(len(data), numeric_cols=(4,)))
    return render([head, Spacer(1, 4 * mm), table], title=f"Putaway list {key}",
                  footer_left=f"Depot putaway list {key}", pagesize=landscape(A4))
