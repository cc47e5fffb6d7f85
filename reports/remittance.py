"""Pieces the customer-facing billing documents share: the COPY mark and the remittance slip.

A reprint carries COPY in the heading and across the page, so nobody pays a copy as a second
invoice. The remittance slip is the tear-off part the customer sends back with the payment: it
is kept whole on one page (it moves to a new page rather than splitting).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from reportlab.lib import colors
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas
from reportlab.platypus import Flowable, KeepTogether, Paragraph, Spacer, Table, TableStyle

from reports.styles import BOLD, RULE, SMALL


def copy_mark(c: rl_canvas.Canvas, _doc: Any) -> None:
    """A large grey COPY across the page (page callback of a reprint)."""
    w, h = c._pagesize
    c.saveState()
    c.setFillColor(colors.Color(0.6, 0.6, 0.6, alpha=0.25))
    c.setFont("Helvetica-Bold", 110)
    c.translate(w / 2, h / 2)
    c.rotate(40)
    c.drawCentredString(0, -35, "COPY")
    c.restoreState()


class _Cut(Flowable):  # type: ignore[misc]  # reportlab ships no type hints
    """A dashed line with the tear-off instruction."""

    def __init__(self, text: str) -> None:
        super().__init__()
        self.text = text
        self.height = 5 * mm

    def wrap(self, avail_w: float, _avail_h: float) -> tuple[float, float]:
        self.width = avail_w
        return avail_w, self.height

    def draw(self) -> None:
        c = self.canv
        c.setDash(3, 2)
        c.setStrokeColor(colors.grey)
        c.line(0, self.height - 1, self.width, self.height - 1)
        c.setDash()
        c.setFont("Helvetica", 7)
        c.setFillColor(colors.grey)
        c.drawString(0, 2, "✂ " + self.text)


def remittance_slip(title: str, rows: Sequence[tuple[str, str]], remit_to: str) -> Flowable:
    """The tear-off slip: what is paid (label, value rows) and where to send it."""
    left = Table([[k, v] for k, v in rows], colWidths=[38 * mm, 55 * mm])
    left.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8.5), ("FONT", (1, 0), (1, -1), "Helvetica-Bold", 8.5),
                              ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                              ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    right = [Paragraph("Remit to", BOLD), Paragraph(remit_to.replace("\n", "<br/>"), SMALL)]
    body = Table([[left, right]], colWidths=["55%", "45%"])
    body.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("BOX", (0, 0), (-1, -1), 0.5, RULE),
                              ("TOPPADDING", (0, 0), (-1, -1), 4), ("LEFTPADDING", (0, 0), (-1, -1), 6)]))
    return KeepTogether([Spacer(1, 6 * mm), _Cut("Please detach and return this part with your payment"),
                         Spacer(1, 1.5 * mm), Paragraph(title, BOLD), Spacer(1, 1 * mm), body])

