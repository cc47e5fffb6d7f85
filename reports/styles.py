"""All paragraph and table styles in one place, so every document looks like one company's."""

from __future__ import annotations

from reportlab.lib import colors
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import mm
from reportlab.platypus import TableStyle

_base = getSampleStyleSheet()

BODY = ParagraphStyle("Body", parent=_base["Normal"], fontName="Helvetica", fontSize=9, leading=11)
SMALL = ParagraphStyle("Small", parent=BODY, fontSize=7.5, leading=9)
TITLE = ParagraphStyle("Title", parent=BODY, fontName="Helvetica-Bold", fontSize=16, leading=19, spaceAfter=4)
HEADING = ParagraphStyle("Heading", parent=BODY, fontName="Helvetica-Bold", fontSize=10, leading=12, spaceBefore=6)
RIGHT = ParagraphStyle("Right", parent=BODY, alignment=2)
BOLD = ParagraphStyle("Bold", parent=BODY, fontName="Helvetica-Bold")

MARGIN = 15 * mm
ACCENT = colors.HexColor("#1f4e79")
RULE = colors.HexColor("#c8d3df")
ZEBRA = colors.HexColor("#f3f6f9")


def lines_table_style(n_rows: int, numeric_cols: tuple[int, ...] = ()) -> TableStyle:
    """Header row in the accent colour, zebra rows, numbers right-aligned."""
    cmds: list[tuple[object, ...]] = [
        ("FONT", (0, 0), (-1, 0), "Helvetica-Bold", 8.5),
        ("FONT", (0, 1), (-1, -1), "Helvetica", 8.5),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("BACKGROUND", (0, 0), (-1, 0), ACCENT),
        ("LINEBELOW", (0, 0), (-1, -1), 0.25, RULE),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("TOPPADDING", (0, 0), (-1, -1), 2),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
    ]
    for c in numeric_cols:
        cmds.append(("ALIGN", (c, 0), (c, -1), "RIGHT"))
    for r in range(2, n_rows, 2):
        cmds.append(("BACKGROUND", (0, r), (-1, r), ZEBRA))
    return TableStyle(cmds)
