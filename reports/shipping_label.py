"""A 4x6 inch carrier shipping label (PDF) and its ZPL twin, from plain data.

Layout as thermal labels go: sender top left, service band, ship-to in large type, a Code 128 of
the tracking number across the width (what a carrier's scanner and our dispatch scan read),
the tracking number in text, reference and weight at the bottom.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import inch
from reportlab.pdfgen import canvas as rl_canvas

PAGE = (4 * inch, 6 * inch)


@dataclass(frozen=True)
class ShippingLabel:
    carrier: str
    service: str
    tracking_number: str
    ship_from: tuple[str, ...]
    ship_to: tuple[str, ...]
    reference: str = ""
    weight: str = ""
    date: str = ""


def render_pdf(label: ShippingLabel) -> bytes:
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=PAGE)
    c.setTitle(f"{label.carrier} {label.tracking_number}")
    w, h = PAGE
    m = 0.15 * inch
    c.setLineWidth(1.2)
    c.rect(m, m, w - 2 * m, h - 2 * m)
    c.setFont("Helvetica", 7)
    y = h - m - 10
    for line in label.ship_from[:4]:
        c.drawString(m + 6, y, line[:48])
        y -= 9
    c.setFont("Helvetica-Bold", 16)
    c.drawRightString(w - m - 6, h - m - 18, label.carrier[:14])
    c.setFont("Helvetica", 7)
    c.drawRightString(w - m - 6, h - m - 28, label.date)
    band_y = h - m - 58
    c.rect(m, band_y, w - 2 * m, 18, fill=1)
    c.setFillColorRGB(1, 1, 1)
    c.setFont("Helvetica-Bold", 12)
    c.drawString(m + 6, band_y + 5, label.service.upper()[:34])
    c.setFillColorRGB(0, 0, 0)
    c.setFont("Helvetica", 8)
    c.drawString(m + 6, band_y - 14, "SHIP TO:")
    c.setFont("Helvetica-Bold", 13)
    y = band_y - 30
    for line in label.ship_to[:5]:
        c.drawString(m + 16, y, line[:30])
        y -= 16
    # the barcode: Code 128 of the tracking number, as wide as the label allows
    bar_h = 1.1 * inch
    bar_w = 1.4
    bc = Code128(label.tracking_number, barHeight=bar_h, barWidth=bar_w, humanReadable=False, quiet=True)
    while bc.width > w - 2 * m - 8 and bar_w > 0.5:
        bar_w -= 0.05
        bc = Code128(label.tracking_number, barHeight=bar_h, barWidth=bar_w, humanReadable=False, quiet=True)
    bx = (w - bc.width) / 2
    by = m + 0.75 * inch
    c.line(m, by + bar_h + 16, w - m, by + bar_h + 16)
    bc.drawOn(c, bx, by)
    c.setFont("Helvetica-Bold", 12)
    c.drawCentredString(w / 2, by - 15, f"TRACKING #: {spaced(label.tracking_number)}")
    c.setFont("Helvetica", 8)
    c.line(m, m + 0.35 * inch, w - m, m + 0.35 * inch)
    c.drawString(m + 6, m + 10, f"REF: {label.reference}"[:40])
    c.drawRightString(w - m - 6, m + 10, label.weight)
    c.showPage()
    c.save()
    return buf.getvalue()


def spaced(number: str) -> str:
    return " ".join(number[i:i + 4] for i in range(0, len(number), 4))


def render_zpl(label: ShippingLabel) -> bytes:
    """The same label in ZPL II for a 203 dpi 4x6 thermal printer (what UPS sends)."""
    def esc(t: str) -> str:
        return t.replace("^", " ").replace("~", " ")

    lines = ["^XA", "^CI28", "^PW812", "^LL1218"]
    y = 30
    for t in label.ship_from[:4]:
        lines.append(f"^FO30,{y}^A0N,22,22^FD{esc(t)}^FS")
        y += 26
    lines.append(f"^FO560,30^A0N,40,40^FD{esc(label.carrier)}^FS")
    lines.append(f"^FO20,200^GB772,50,50^FS^FO30,212^A0N,34,34^FR^FD{esc(label.service.upper())}^FS")
    y = 280
    for t in label.ship_to[:5]:
        lines.append(f"^FO60,{y}^A0N,38,38^FD{esc(t)}^FS")
        y += 44
    lines.append(f"^FO60,700^BY3^BCN,220,N,N,N^FD{esc(label.tracking_number)}^FS")
    lines.append(f"^FO60,950^A0N,34,34^FDTRACKING #: {esc(spaced(label.tracking_number))}^FS")
    lines.append(f"^FO30,1150^A0N,24,24^FDREF: {esc(label.reference)}^FS")
    lines.append(f"^FO560,1150^A0N,24,24^FD{esc(label.weight)}^FS")
    lines.append("^XZ")
    return ("\n".join(lines) + "\n").encode("utf-8")
