"""The purchase order document (PDF) from plain data; knows nothing of the database.

Layout: company header with a Code128 barcode of the PO number (the supplier's packing
list and our receiving scan key on it), supplier and ship-to blocks, the lines table
(repeating its header on every page), totals, terms, and 'page x of y' in the footer.
Lines are plain strings, not Paragraphs, so a 200-line PO lays out well under half a second.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.graphics.barcode.code128 import Code128
from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from reports.letterhead import Letterhead, letterhead_block
from reports.page import render
from reports.styles import BODY, BOLD, HEADING, RIGHT, SMALL, TITLE, lines_table_style


@dataclass(frozen=True)
class PoDocLine:
    line_no: int
    sku: str
    description: str
    supplier_part: str
    qty: int
    uom: str
    unit_price: Decimal
    extension: Decimal
    ship_to: str = ""  # warehouse code when the PO ships to several addresses
    expected_date: dt.date | None = None
    #: the unit price as printed (one number of decimals for the whole PO); '' = format it here
    price_text: str = ""


@dataclass(frozen=True)
class PoDocument:
    company_name: str
    company_address: str
    number: str
    revision: int
    order_date: dt.date
    supplier_code: str
    supplier_name: str
    supplier_address: str
    currency: str
    payment_terms: str
    #: warehouse code -> "name\naddress"; more than one = consolidated PO
    ship_to: dict[str, str]
    lines: list[PoDocLine]
    total: Decimal
    expected_date: dt.date | None = None
    buyer: str = ""
    notes: str = ""
    rush: bool = False
    #: the currency's decimals (extensions and total are printed with these)
    money_places: int = 2
    #: "Approved by ..." or "NOT APPROVED ..." (printed above the signature)
    approved_by: str = ""
    supplier_email: str = ""
    #: the company's letterhead (logo, address, contact, tax id); None = name and address only
    letterhead: Letterhead | None = None
    terms: list[str] = field(default_factory=lambda: [
        "Quote our PO number on every delivery note, carton label and invoice.",
        "Deliveries above the ordered quantity may be refused.",
        "Prices are exclusive of taxes unless stated otherwise.",
    ])


def _money(d: Decimal, places: int = 2) -> str:
    """An amount as printed: the currency's decimals, thousands separated (the data keeps 1/10,000)."""
    return f"{d.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _p(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _header(doc: PoDocument) -> Flowable:
    title = "PURCHASE ORDER" + (" (RUSH)" if doc.rush else "")
    head: list[Flowable] = (letterhead_block(doc.letterhead) if doc.letterhead is not None
                            else [_p(doc.company_name, TITLE), _p(doc.company_address, SMALL)])
    left = [*head, Spacer(1, 3 * mm), _p(title, HEADING)]
    barcode = Code128(doc.number, barHeight=12 * mm, barWidth=0.9, humanReadable=False)
    right = [barcode, _p(doc.number, RIGHT),
             _p(f"Revision {doc.revision}" if doc.revision else "Original", RIGHT),
             _p(f"Order date {doc.order_date.isoformat()}", RIGHT)]
    if doc.expected_date:
        right.append(_p(f"Deliver by {doc.expected_date.isoformat()}", RIGHT))
    t = Table([[left, right]], colWidths=["60%", "40%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return t


def _parties(doc: PoDocument) -> Flowable:
    sup = [_p("Supplier", BOLD), _p(f"{doc.supplier_name} ({doc.supplier_code})"), _p(doc.supplier_address)]
    if doc.supplier_email:
        sup.append(_p(doc.supplier_email, SMALL))
    if len(doc.ship_to) == 1:
        (code, addr), = doc.ship_to.items()
        ship = [_p("Ship to", BOLD), _p(f"{code}\n{addr}")]
    else:
        ship = [_p("Ship to (per line)", BOLD)] + [_p(f"{code}: {addr}".replace("\n", ", "), SMALL)
                                                   for code, addr in doc.ship_to.items()]
    t = Table([[sup, ship]], colWidths=["50%", "50%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _lines(doc: PoDocument) -> Table:
    per_line = len(doc.ship_to) > 1
    head = ["#", "SKU", "Description", "Supplier part", "Quantity", f"Price ({doc.currency})", "Per",
            f"Extension ({doc.currency})"]
    widths = [8 * mm, 24 * mm, None, 24 * mm, 22 * mm, 22 * mm, 10 * mm, 27 * mm]
    if per_line:
        head.insert(4, "Ship to")
        widths.insert(4, 14 * mm)
    rows: list[list[str]] = [head]
    for ln in doc.lines:
        desc = ln.description if len(ln.description) <= 34 else ln.description[:33] + "…"
        price = ln.price_text or _money(ln.unit_price, doc.money_places)
        row = [str(ln.line_no), ln.sku, desc, ln.supplier_part, f"{ln.qty:,} {ln.uom}".strip(), price, ln.uom or "EA",
               _money(ln.extension, doc.money_places)]
        if per_line:
            row.insert(4, ln.ship_to)
        rows.append(row)
    numeric = (5, 6, 8) if per_line else (4, 5, 7)
    t = Table(rows, colWidths=widths, repeatRows=1)
    t.setStyle(lines_table_style(len(rows), numeric))
    return t


def _totals(doc: PoDocument) -> Table:
    qty = sum(ln.qty for ln in doc.lines)
    t = Table([["Lines", str(len(doc.lines))], ["Total quantity", f"{qty:,}"],
               [f"Total ({doc.currency})", _money(doc.total, doc.money_places)]], colWidths=[40 * mm, 35 * mm],
              hAlign="RIGHT")
    t.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                           ("FONT", (0, 2), (-1, 2), "Helvetica-Bold", 10), ("LINEABOVE", (0, 2), (-1, 2), 0.5, "black")]))
    return t


def render_po(doc: PoDocument) -> bytes:
    """The PO as PDF bytes."""
    story: list[Flowable] = [_header(doc), Spacer(1, 4 * mm), _parties(doc), Spacer(1, 4 * mm), _lines(doc),
                             Spacer(1, 3 * mm), _totals(doc), Spacer(1, 4 * mm), _p("Terms", HEADING),
                             _p(f"Payment terms: {doc.payment_terms}. Currency: {doc.currency}.")]
    story += [_p(f"• {t}", SMALL) for t in doc.terms]
    if doc.notes:
        story += [_p("Notes", HEADING), _p(doc.notes)]
    story += [Spacer(1, 3 * mm), _p("Prices are per the unit shown under Per; extensions are quantity x price "
                                    f"rounded to {doc.money_places} decimals, and the total is their sum.", SMALL)]
    if doc.buyer:
        story += [Spacer(1, 3 * mm), _p(f"Buyer: {doc.buyer}")]
    if doc.approved_by:
        story += [_p(doc.approved_by, BOLD if doc.approved_by.startswith(("NOT", "CANCELLED")) else BODY)]
    return render(story, title=f"Purchase order {doc.number}", footer_left=f"{doc.company_name} · PO {doc.number}"
                  + (f" rev {doc.revision}" if doc.revision else ""))
