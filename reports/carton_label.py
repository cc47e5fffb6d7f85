"""Our own 4x6 inch carton label (GS1 logistic label style), from plain data: ship from / ship to,
order and customer PO, carton x of y, weight, and the GS1-128 barcode of the carton's SSCC
``(00)`` with its human-readable line. The carrier's own label goes beside it; this one is what our
dock, the customer's receiving and their ASN match read."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas as rl_canvas

from reports.labels import gs1

PAGE = (4 * inch, 6 * inch)


@dataclass(frozen=True)
class CartonLabel:
    sscc: str
    seq: int
    of: int
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    order: str
    shipment: str
    customer_po: str = ""
    weight: str = ""
    carrier: str = ""
    contents: str = ""


def _draw(c: rl_canvas.Canvas, lab: CartonLabel) -> None:
    w, h = PAGE
    m = 0.15 * inch
    c.setLineWidth(1.2)
    c.rect(m, m, w - 2 * m, h - 2 * m)
    x = m + 6
    y = h - m - 12
    c.setFont("Helvetica", 7)
    c.drawString(x, y, "FROM")
    c.drawString(w / 2 + 2, y, "TO")
    c.setFont("Helvetica", 8)
    for i, line in enumerate(lab.ship_from[:5]):
        c.drawString(x, y - 10 - 9 * i, line[:30])
    c.setFont("Helvetica-Bold", 9)
    for i, line in enumerate(lab.ship_to[:5]):
        c.drawString(w / 2 + 2, y - 10 - 11 * i, line[:28])
    y -= 72
    c.line(m, y, w - m, y)
    c.setFont("Helvetica", 8)
    c.drawString(x, y - 12, f"Order {lab.order}")
    c.drawString(x, y - 23, f"Shipment {lab.shipment}")
    if lab.customer_po:
        c.drawString(x, y - 34, f"PO {lab.customer_po}")
    c.setFont("Helvetica-Bold", 22)
    c.drawRightString(w - m - 6, y - 28, f"{lab.seq} of {lab.of}")
    c.setFont("Helvetica", 8)
    c.drawRightString(w - m - 6, y - 40, " ".join(x for x in (lab.weight, lab.carrier) if x))
    y -= 48
    c.line(m, y, w - m, y)
    if lab.contents:
        c.setFont("Helvetica", 7)
        c.drawString(x, y - 10, lab.contents[:70])
        c.drawString(x, y - 19, lab.contents[70:140])
    # SSCC band
    value, human = gs1([("00", lab.sscc)])
    c.setFont("Helvetica", 7)
    c.drawString(x, 2.15 * inch, "SSCC")
    c.setFont("Helvetica-Bold", 12)
    c.drawString(x, 2.0 * inch, human)
    bar_w = 1.6
    bc = Code128(value, barHeight=1.25 * inch, barWidth=bar_w, humanReadable=False, quiet=False)
    avail = w - 2 * m - 12
    if bc.width > avail:
        bar_w *= avail / bc.width
        bc = Code128(value, barHeight=1.25 * inch, barWidth=bar_w, humanReadable=False, quiet=False)
    bc.drawOn(c, (w - bc.width) / 2, m + 0.45 * inch)
    c.setFont("Helvetica", 9)
    c.drawCentredString(w / 2, m + 0.25 * inch, human)


def render_carton_labels(labels: Sequence[CartonLabel], *, title: str = "Carton labels") -> bytes:
    """One 4x6 page per carton."""
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=PAGE)
    c.setTitle(title)
    c.setAuthor("Depot")
    for lab in labels:
        _draw(c, lab)
        c.showPage()
    c.save()
    return buf.getvalue()
