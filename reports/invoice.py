"""The invoice and credit note (PDF) from plain data; knows nothing of the database.

Layout: letterhead and a Code128 of the number (the customer's remittance scans it), bill-to and
ship-to, the shipment (carrier, tracking number, proof of delivery), the lines (header repeated on
every page), the tax lines with how tax was rounded, totals, terms, and the remittance slip; 'page
x of y' in the footer. A reprint says COPY in the title and across every page. Lines are plain
strings, not Paragraphs, so a thousand invoices lay out in seconds.
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
from reports.remittance import copy_mark, remittance_slip
from reports.styles import BODY, BOLD, HEADING, RIGHT, SMALL, lines_table_style


@dataclass(frozen=True)
class InvoiceDocLine:
    line_no: int
    sku: str
    description: str
    qty: int
    uom: str
    price_text: str
    tax_pct: str
    extension: Decimal


@dataclass(frozen=True)
class InvoiceDocTax:
    name: str
    rate_text: str
    base: Decimal
    amount: Decimal


@dataclass(frozen=True)
class InvoiceDocument:
    letterhead: Letterhead
    #: 'invoice' or 'credit'
    kind: str
    number: str
    invoice_date: dt.date
    due_date: dt.date
    terms: str
    currency: str
    customer_code: str
    customer_name: str
    bill_to: str
    ship_to: str
    lines: list[InvoiceDocLine]
    taxes: list[InvoiceDocTax]
    subtotal: Decimal
    tax_total: Decimal
    total: Decimal
    money_places: int = 2
    order_number: str = ""
    customer_po: str = ""
    customer_tax_id: str = ""
    shipment: str = ""
    carrier: str = ""
    tracking_number: str = ""
    shipped_on: dt.date | None = None
    pod_ref: str = ""
    #: how tax was rounded, in a sentence ("Tax is rounded per line ...")
    rounding_note: str = ""
    credits_number: str = ""
    reason: str = ""
    status_note: str = ""
    reprint: bool = False
    remit_to: str = ""
    notes: list[str] = field(default_factory=list)


def _money(d: Decimal, places: int) -> str:
    return f"{d.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _p(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def _title(doc: InvoiceDocument) -> str:
    base = "CREDIT NOTE" if doc.kind == "credit" else "INVOICE"
    return base + (" — COPY" if doc.reprint else "")


def _header(doc: InvoiceDocument) -> Flowable:
    left = [*letterhead_block(doc.letterhead), Spacer(1, 3 * mm), _p(_title(doc), HEADING)]
    if doc.status_note:
        left.append(_p(doc.status_note, BOLD))
    right: list[Flowable] = [Code128(doc.number, barHeight=11 * mm, barWidth=0.9, humanReadable=False),
                             _p(doc.number, RIGHT), _p(f"Date {doc.invoice_date.isoformat()}", RIGHT)]
    if doc.kind != "credit":
        right.append(_p(f"Due {doc.due_date.isoformat()} ({doc.terms})", RIGHT))
    if doc.order_number:
        right.append(_p(f"Our order {doc.order_number}", RIGHT))
    if doc.customer_po:
        right.append(_p(f"Your PO {doc.customer_po}", RIGHT))
    if doc.credits_number:
        right.append(_p(f"Credits invoice {doc.credits_number}", RIGHT))
    t = Table([[left, right]], colWidths=["60%", "40%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT")]))
    return t


def _parties(doc: InvoiceDocument) -> Flowable:
    bill = [_p("Bill to", BOLD), _p(f"{doc.customer_name} ({doc.customer_code})"), _p(doc.bill_to)]
    if doc.customer_tax_id:
        bill.append(_p(f"Tax id {doc.customer_tax_id}", SMALL))
    ship = [_p("Ship to", BOLD), _p(doc.ship_to or doc.bill_to)]
    t = Table([[bill, ship]], colWidths=["50%", "50%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _shipment(doc: InvoiceDocument) -> Flowable | None:
    if doc.kind == "credit" or not (doc.shipment or doc.tracking_number):
        return None
    rows = [["Shipment", doc.shipment or "-", "Carrier", doc.carrier or "-"],
            ["Tracking number", doc.tracking_number or "-", "Shipped",
             doc.shipped_on.isoformat() if doc.shipped_on else "-"],
            ["Proof of delivery", _p(doc.pod_ref or "not yet delivered", SMALL), "", ""]]  # long refs wrap
    t = Table(rows, colWidths=[30 * mm, 62 * mm, 20 * mm, 40 * mm], hAlign="LEFT")
    t.setStyle(TableStyle([("FONT", (0, 0), (-1, -1), "Helvetica", 8.5), ("FONT", (0, 0), (0, -1), "Helvetica-Bold", 8.5),
                           ("FONT", (2, 0), (2, -1), "Helvetica-Bold", 8.5), ("SPAN", (1, 2), (3, 2)),
                           ("VALIGN", (0, 0), (-1, -1), "TOP"),
                           ("TOPPADDING", (0, 0), (-1, -1), 1), ("BOTTOMPADDING", (0, 0), (-1, -1), 1),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def _lines(doc: InvoiceDocument) -> Table:
    cur = doc.currency
    rows: list[list[str]] = [["#", "SKU", "Description", "Quantity", f"Price ({cur})", "Tax %", f"Amount ({cur})"]]
    for ln in doc.lines:
        desc = ln.description if len(ln.description) <= 40 else ln.description[:39] + "…"
        rows.append([str(ln.line_no), ln.sku, desc, f"{ln.qty:,} {ln.uom}".strip(), ln.price_text, ln.tax_pct,
                     _money(ln.extension, doc.money_places)])
    t = Table(rows, colWidths=[8 * mm, 26 * mm, None, 22 * mm, 24 * mm, 14 * mm, 27 * mm], repeatRows=1, hAlign="LEFT")
    t.setStyle(lines_table_style(len(rows), (3, 4, 5, 6)))
    return t


def _taxes_and_totals(doc: InvoiceDocument) -> Flowable:
    p = doc.money_places
    tax_rows = [["Tax", "Rate", "Base", "Tax"]] + [[t.name, t.rate_text, _money(t.base, p), _money(t.amount, p)]
                                                   for t in doc.taxes]
    taxes = Table(tax_rows, colWidths=[34 * mm, 16 * mm, 24 * mm, 20 * mm])
    taxes.setStyle(lines_table_style(len(tax_rows), (1, 2, 3)))
    totals = Table([["Subtotal", _money(doc.subtotal, p)], ["Tax", _money(doc.tax_total, p)],
                    [f"{'Credit' if doc.kind == 'credit' else 'Total'} ({doc.currency})", _money(doc.total, p)]],
                   colWidths=[32 * mm, 30 * mm])
    totals.setStyle(TableStyle([("ALIGN", (1, 0), (1, -1), "RIGHT"), ("FONT", (0, 0), (-1, -1), "Helvetica", 9),
                                ("FONT", (0, 2), (-1, 2), "Helvetica-Bold", 10),
                                ("LINEABOVE", (0, 2), (-1, 2), 0.5, "black")]))
    t = Table([[taxes, totals]], colWidths=["62%", "38%"])
    t.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP"), ("ALIGN", (1, 0), (1, 0), "RIGHT"),
                           ("LEFTPADDING", (0, 0), (-1, -1), 0)]))
    return t


def render_invoice(doc: InvoiceDocument) -> bytes:
    """The invoice (or credit note) as PDF bytes."""
    story: list[Flowable] = [_header(doc), Spacer(1, 4 * mm), _parties(doc), Spacer(1, 3 * mm)]
    ship = _shipment(doc)
    if ship is not None:
        story += [ship, Spacer(1, 3 * mm)]
    story += [_lines(doc), Spacer(1, 3 * mm), _taxes_and_totals(doc)]
    if doc.rounding_note:
        story += [Spacer(1, 1.5 * mm), _p(doc.rounding_note, SMALL)]
    if doc.reason:
        story += [_p("Reason", HEADING), _p(doc.reason)]
    story += [_p("Terms", HEADING)]
    if doc.kind == "credit":
        story.append(_p(f"This credit of {_money(doc.total, doc.money_places)} {doc.currency} is set against your "
                        "open items; quote its number with any payment it reduces."))
    else:
        story.append(_p(f"Payment terms {doc.terms}: please pay {_money(doc.total, doc.money_places)} {doc.currency} "
                        f"by {doc.due_date.isoformat()}, quoting invoice {doc.number}."))
    story += [_p(n, SMALL) for n in doc.notes]
    if doc.kind != "credit":
        story.append(remittance_slip(
            f"Remittance: invoice {doc.number}",
            [("Customer", f"{doc.customer_code} {doc.customer_name}"[:40]), ("Invoice", doc.number),
             ("Invoice date", doc.invoice_date.isoformat()), ("Due date", doc.due_date.isoformat()),
             ("Amount due", f"{_money(doc.total, doc.money_places)} {doc.currency}"), ("Amount paid", "")],
            doc.remit_to or doc.letterhead.name))
    label = "Credit note" if doc.kind == "credit" else "Invoice"
    return render(story, title=f"{label} {doc.number}" + (" (copy)" if doc.reprint else ""),
                  footer_left=f"{doc.letterhead.name} · {label} {doc.number}" + (" · COPY" if doc.reprint else ""),
                  on_page=copy_mark if doc.reprint else None)
