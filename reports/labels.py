"""Bin, item and receiving labels with barcodes, from plain data (no database).

* bin label: Code 128 of the bin code (what the putaway scan field receives);
* item label: GS1-128 ``(01)GTIN`` when the item has a GTIN, else Code 128 of the SKU;
* receiving label: GS1-128 with (01) GTIN, (10) lot, (17) expiry, (21) serial, (37) count — the
  same element string our scan field reads back — or Code 128 of the SKU for items without a GTIN.

GS1-128 is Code 128 starting with FNC1; a variable-length field (lot, serial, count) that is not
last is ended by FNC1 too (reportlab writes FNC1 for ``\\xf1``). Fixed-length AIs are put first so
fewer separators are needed. Labels are laid out on A4 sheets (default 2 x 7, 99 x 38 mm).
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Sequence
from dataclasses import dataclass

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfgen import canvas as rl_canvas

FNC1 = "\xf1"
_FIXED = {"00", "01", "02", "11", "13", "15", "17"}


@dataclass(frozen=True)
class Label:
    """One label: a title line, up to three text lines, and the barcode (value + human text)."""

    title: str
    lines: tuple[str, ...]
    barcode: str
    human: str


def gs1(ais: Sequence[tuple[str, str]]) -> tuple[str, str]:
    """(Code 128 value with FNC1s, human-readable '(01)...(10)...') for ``[(ai, value), ...]``."""
    pairs = [(ai, v) for ai, v in ais if v]
    pairs.sort(key=lambda p: p[0] not in _FIXED)  # stable: fixed-length first
    value = FNC1
    for i, (ai, v) in enumerate(pairs):
        value += ai + v
        if ai not in _FIXED and i < len(pairs) - 1:
            value += FNC1
    return value, "".join(f"({ai}){v}" for ai, v in pairs)


def bin_label(code: str, warehouse: str, detail: str = "") -> Label:
    return Label(title=code, lines=(f"warehouse {warehouse}", detail), barcode=code, human=code)


def item_label(sku: str, description: str, gtin: str | None) -> Label:
    if gtin:
        value, human = gs1([("01", gtin.zfill(14))])
    else:
        value, human = sku, sku
    return Label(title=sku, lines=(description[:48],), barcode=value, human=human)


def receiving_label(receipt: str, sku: str, description: str, qty: int, *, gtin: str | None = None, lot: str = "",
                    expiry: dt.date | None = None, serial: str = "", bin_code: str = "") -> Label:
    """A label for received goods (one per line or per serial unit)."""
    if gtin:
        ais = [("01", gtin.zfill(14)), ("17", expiry.strftime("%y%m%d") if expiry else ""), ("10", lot),
               ("21", serial), ("37", str(qty) if not serial else "")]
        value, human = gs1(ais)
    else:
        value, human = sku, sku
    text = [f"{receipt}  qty {qty}", description[:48]]
    extra = " ".join(x for x in (f"lot {lot}" if lot else "", f"exp {expiry}" if expiry else "",
                                 f"SN {serial}" if serial else "", f"to {bin_code}" if bin_code else "") if x)
    if extra:
        text.append(extra)
    return Label(title=sku, lines=tuple(text), barcode=value, human=human)


def render_labels(labels: Sequence[Label], *, title: str = "Labels", cols: int = 2, rows: int = 7,
                  label_w: float = 99.1 * mm, label_h: float = 38.1 * mm) -> bytes:
    """Lay labels out on A4 sheets, left to right, top to bottom; returns PDF bytes."""
    buf = io.BytesIO()
    c = rl_canvas.Canvas(buf, pagesize=A4)
    c.setTitle(title)
    c.setAuthor("Depot")
    page_w, page_h = A4
    margin_x = (page_w - cols * label_w) / 2
    margin_y = (page_h - rows * label_h) / 2
    per_page = cols * rows
    if not labels:
        c.setFont("Helvetica", 10)
        c.drawString(20 * mm, page_h - 20 * mm, "(no labels)")
    for n, lab in enumerate(labels):
        if n and n % per_page == 0:
            c.showPage()
        slot = n % per_page
        x = margin_x + (slot % cols) * label_w
        y = page_h - margin_y - (slot // cols + 1) * label_h
        _draw(c, lab, x, y, label_w, label_h)
    c.showPage()
    c.save()
    return buf.getvalue()


def _draw(c: rl_canvas.Canvas, lab: Label, x: float, y: float, w: float, h: float) -> None:
    pad = 3 * mm
    c.setFont("Helvetica-Bold", 12)
    c.drawString(x + pad, y + h - pad - 10, lab.title)
    c.setFont("Helvetica", 7.5)
    ty = y + h - pad - 20
    for line in lab.lines:
        if line:
            c.drawString(x + pad, ty, line)
            ty -= 9
    bar_h = max(h - (y + h - ty) - 14, 8 * mm)
    bar_w = 1.0
    bc = Code128(lab.barcode, barHeight=bar_h, barWidth=bar_w, humanReadable=False, quiet=False)
    if bc.width > w - 2 * pad:  # shrink the module width to fit the label
        bar_w = bar_w * (w - 2 * pad) / bc.width
        bc = Code128(lab.barcode, barHeight=bar_h, barWidth=bar_w, humanReadable=False, quiet=False)
    bc.drawOn(c, x + pad, y + pad + 9)
    c.setFont("Helvetica", 7)
    c.drawString(x + pad, y + pad, lab.human)


def barcode_modules(value: str) -> str:
    """The bar/space pattern reportlab draws for ``value`` (upper = bar, lower = space, A..D = 1..4
    modules): lets tests rasterise a label's barcode and decode it with an independent reader."""
    bc = Code128(value, humanReadable=False)
    bc.validate()
    bc.encode()
    bc.decompose()
    return str(bc.decomposed)
