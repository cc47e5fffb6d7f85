"""A customer's statement of account (PDF) from plain data: open items, ageing, total due,
remittance slip. Knows nothing of the database."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from xml.sax.saxutils import escape

from reportlab.lib.units import mm
from reportlab.platypus import Flowable, Paragraph, Spacer, Table, TableStyle

from reports.letterhead import Letterhead, letterhead_block
from reports.page import render
from reports.remittance import remittance_slip
from reports.styles import BODY, BOLD, HEADING, RIGHT, SMALL, lines_table_style


@dataclass(frozen=True)
class StatementLine:
    doc_number: str
    doc_date: dt.date
    due_date: dt.date | None
    original: Decimal
    open: Decimal
    days_past_due: int


@dataclass(frozen=True)
class StatementDocument:
    letterhead: Letterhead
    as_of: dt.date
    customer_code: str
    customer_name: str
    bill_to: str
    currency: str
    lines: list[StatementLine]
    #: bucket label -> amount, in order
    ageing: dict[str, Decimal]
    total: Decimal
    money_places: int = 2
    remit_to: str = ""


def _money(d: Decimal, places: int) -> str:
    return f"{d.quantize(Decimal(1).scaleb(-places)):,.{places}f}"


def _p(text: str, style: object = BODY) -> Paragraph:
    return Paragraph(escape(text).replace("\n", "<br/>"), style)


def render_statement(doc: StatementDocument) -> bytes:
    p = doc.money_places
    head = Table([[[*letterhead_block(doc.letterhead), Spacer(1, 3 * mm), _p("STATEMENT OF ACCOUNT", HEADING)],
                   [_p(f"As of {doc.as_of.isoformat()}", RIGHT), _p(f"Customer {doc.customer_code}", RIGHT)]]],
                 colWidths=["60%", "40%"])
    head.setStyle(TableStyle([("VALIGN", (0, 0), (-1, -1), "TOP")]))
    story: list[Flowable] = [head, Spacer(1, 3 * mm), _p("Bill to", BOLD), _p(doc.customer_name), _p(doc.bill_to),
                             Spacer(1, 4 * mm)]
    rows = [["Document", "Date", "Due", f"Original ({doc.currency})", f"Open ({doc.currency})", "Days overdue"]]
    for ln in doc.lines:
        rows.append([ln.doc_number, ln.doc_date.isoformat(), ln.due_date.isoformat() if ln.due_date else "",
                     _money(ln.original, p), _money(ln.open, p), str(ln.days_past_due) if ln.days_past_due > 0 else ""])
    if len(rows) == 1:
        rows.append(["Nothing is open on your account.", "", "", "", "", ""])
    t = Table(rows, colWidths=[40 * mm, 22 * mm, 22 * mm, 30 * mm, 30 * mm, 36 * mm], repeatRows=1, hAlign="LEFT")
    t.setStyle(lines_table_style(len(rows), (3, 4, 5)))
    story += [t, Spacer(1, 4 * mm), _p("Ageing (days past due)", HEADING)]
    age = Table([list(doc.ageing), [_money(v, p) for v in doc.ageing.values()]], colWidths=[30 * mm] * len(doc.ageing), hAlign="LEFT")
    age.setStyle(lines_table_style(2, tuple(range(len(doc.ageing)))))
    story += [age, Spacer(1, 3 * mm), _p(f"Total due: {_money(doc.total, p)} {doc.currency}", HEADING),
              _p("Payments received after the statement date are not shown. Please quote the document numbers "
                 "you pay.", SMALL),
              remittance_slip(f"Remittance: statement of {doc.as_of.isoformat()}",
                              [("Customer", f"{doc.customer_code} {doc.customer_name}"[:40]),
                               ("Statement date", doc.as_of.isoformat()),
                               ("Total due", f"{_money(doc.total, p)} {doc.currency}"), ("Amount paid", "")],
                              doc.remit_to or doc.letterhead.name)]
    return render(story, title=f"Statement {doc.customer_code} {doc.as_of.isoformat()}",
                  footer_left=f"{doc.letterhead.name} · statement {doc.customer_code} {doc.as_of.isoformat()}")
