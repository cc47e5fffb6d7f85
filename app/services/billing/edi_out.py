"""Invoices out by EDI: X12 810 (004010) or EDIFACT INVOIC (D96A) for customers that trade by EDI.

A released invoice (or credit note) of a customer with ``edi_format`` waits (``edi_sent`` False)
until ``send_pending`` writes it into the EDI outbound folder: the background job ``billing.edi``
every five minutes while Settings > EDI has an outbound folder, or ``depot invoice edi``. The
release itself may happen in the carrier poller, which has no folder. Each file takes the customer's next control number and is recorded as an outbound
``CustomerMessage``; it is written atomically and last, after every check passed.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.billing import Invoice, InvoiceLine, InvoiceTax
from app.models.catalog import Item
from app.models.parties import Customer
from app.models.sales import CustomerMessage, SalesOrder
from app.services import audit, jobs
from app.services.auth import Actor
from app.services.billing.invoices import get_invoice, stamp_edi
from app.services.changes import Change
from app.services.db import session_scope
from app.services.edi import edifact, x12
from app.services.edi.common import next_control, our_id
from app.services.edi.config import folders
from app.services.edi.outbound import write_outbound
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.ownership import owns


def _ymd(d: dt.date) -> str:
    return d.strftime("%Y%m%d")


def _amt(d: Decimal) -> str:
    return f"{d:.2f}"


def _cents(d: Decimal) -> str:
    """X12 TDS: an implied-decimal amount in cents."""
    return str(int((d * 100).to_integral_value()))


def _x12_810(inv: Invoice, cust: Customer, lines: list[tuple[InvoiceLine, Item | None]], taxes: list[InvoiceTax],
             branch_code: str, order_no: str) -> list[x12.Segment]:
    body: list[x12.Segment] = [["BIG", _ymd(inv.invoice_date), inv.number, "", inv.customer_po, "", "",
                                "CR" if inv.kind == "credit" else "DI"],
                               ["CUR", "SE", inv.currency]]
    if order_no:
        body.append(["REF", "VN", order_no])
    if inv.tracking_number:
        body.append(["REF", "CN", inv.tracking_number])
    if inv.credits_number:
        body.append(["REF", "IV", inv.credits_number])
    body += [["N1", "RE", branch_code, "92", branch_code], ["N1", "BT", cust.name, "92", cust.code]]
    if inv.kind == "invoice":
        body.append(["ITD", "01", "3", "", "", "", _ymd(inv.due_date), "", "", "", "", "", inv.terms])
    for ln, item in lines:
        it1 = ["IT1", str(ln.line_no), str(ln.qty), ln.uom or "EA", format(ln.unit_price.normalize(), "f"), "", "BP",
               ln.sku]
        if item is not None and item.gtin:
            it1 += ["UK", item.gtin]
        body.append(it1)
        body.append(["PID", "F", "", "", "", ln.description[:80]])
    body.append(["TDS", _cents(inv.total)])
    for t in taxes:
        body.append(["TXI", "ST", _amt(t.amount), format(t.rate_pct.normalize(), "f")])
    body.append(["CTT", str(len(lines))])
    return body


def _invoic(inv: Invoice, cust: Customer, lines: list[tuple[InvoiceLine, Item | None]], taxes: list[InvoiceTax],
            branch_code: str, order_no: str) -> list[edifact.Seg]:
    S = edifact.seg
    body = [S("BGM", "381" if inv.kind == "credit" else "380", inv.number, "9"),
            S("DTM", ["137", _ymd(inv.invoice_date), "102"])]
    if inv.customer_po:
        body.append(S("RFF", ["ON", inv.customer_po]))
    if order_no:
        body.append(S("RFF", ["VN", order_no]))
    if inv.credits_number:
        body.append(S("RFF", ["IV", inv.credits_number]))
    body += [S("NAD", "SU", [branch_code, "", "92"]), S("NAD", "BY", [cust.edi_id or cust.code, "", "92"]),
             S("CUX", ["2", inv.currency, "4"])]
    if inv.kind == "invoice":
        body.append(S("PAT", "1", "", ["5", "3", "D", str((inv.due_date - inv.invoice_date).days)]))
    for ln, item in lines:
        body.append(S("LIN", str(ln.line_no), "", [item.gtin, "EN"]) if item is not None and item.gtin
                    else S("LIN", str(ln.line_no)))
        body += [S("PIA", "5", [ln.sku, "SA"]), S("IMD", "F", "", ["", "", "", ln.description[:35]]),
                 S("QTY", ["47", str(ln.qty), ln.uom or "EA"]), S("MOA", ["203", _amt(ln.extension)]),
                 S("PRI", ["AAA", format(ln.unit_price.normalize(), "f")]),
                 S("TAX", "7", "VAT", "", "", ["", "", "", format(ln.tax_rate_pct.normalize(), "f")])]
    body += [S("UNS", "S"), S("CNT", ["2", str(len(lines))]), S("MOA", ["77", _amt(inv.total)]),
             S("MOA", ["79", _amt(inv.subtotal)]), S("MOA", ["124", _amt(inv.tax_total)])]
    for t in taxes:
        body += [S("TAX", "7", "VAT", "", "", ["", "", "", format(t.rate_pct.normalize(), "f")]),
                 S("MOA", ["124", _amt(t.amount)])]
    return body


def export_invoice(session: Session, inv: Invoice, *, when: dt.datetime | None = None) -> tuple[str, bytes]:
    """(file name, content) of a released invoice for its EDI customer; takes a control number and
    records the outbound message (the caller writes the file)."""
    cust = session.get(Customer, inv.customer_id)
    if cust is None:
        raise NotFound("customer of invoice", inv.number)
    fmt = (cust.edi_format or "").strip().lower()
    if fmt not in ("x12", "edifact") or not cust.edi_id.strip():
        raise ValidationError("customer EDI", f"customer {cust.code} does not trade by EDI (no format and id)")
    if inv.status != "released":
        raise Conflict(f"invoice {inv.number} is {inv.status}: only a released invoice goes to the customer")
    if not owns(session, inv.owner_branch_id):
        raise Conflict(f"invoice {inv.number} is another branch's: it is sent from there")
    rows = session.execute(select(InvoiceLine, Item).outerjoin(Item, Item.id == InvoiceLine.item_id)
                           .where(InvoiceLine.invoice_id == inv.id).order_by(InvoiceLine.line_no)).all()
    lines: list[tuple[InvoiceLine, Item | None]] = [(ln, item) for ln, item in rows]
    taxes = list(session.scalars(select(InvoiceTax).where(InvoiceTax.invoice_id == inv.id)))
    order = session.get(SalesOrder, inv.sales_order_id) if inv.sales_order_id else None
    order_no = order.number if order else ""
    when = when or dt.datetime.now(dt.UTC)
    ours = our_id(session, inv.owner_branch_id)
    partner = (cust.edi_qualifier.strip() or "ZZ", cust.edi_id.strip())
    msg_type = "810" if fmt == "x12" else "INVOIC"
    control = next_control(session, inv.owner_branch_id, fmt, partner[1])
    if fmt == "x12":
        text = x12.write_interchange(sender=ours, receiver=partner, control=control, functional_id="IN", when=when,
                                     transactions=[("810", _x12_810(inv, cust, lines, taxes, ours[1], order_no))])
        name = f"{inv.number}-810-{control:09d}.x12"
    else:
        text = edifact.write_interchange(sender=(ours[1], ours[0]), recipient=(partner[1], partner[0]), control=control,
                                         when=when, messages=[("INVOIC", "D:96A:UN",
                                                               _invoic(inv, cust, lines, taxes, ours[1], order_no))])
        name = f"{inv.number}-INVOIC-{control:09d}.edi"
    session.add(CustomerMessage(direction="out", standard=fmt, msg_type=msg_type, customer_id=cust.id,
                                partner_ref=cust.edi_id[:40], interchange_control=str(control), control_number="1",
                                dedupe_key=f"out:{fmt}:{cust.edi_id}:{control}:{msg_type}"[:120],
                                order_id=inv.sales_order_id, customer_po=inv.customer_po[:40], file_name=name,
                                outcome="sent", owner_branch_id=inv.owner_branch_id))
    session.flush()
    return name, text.encode("utf-8")


@dataclass
class EdiRun:
    written: list[Path] = field(default_factory=list)
    numbers: list[str] = field(default_factory=list)
    ok: bool = True

    @property
    def changed(self) -> bool:
        return bool(self.numbers)


def pending(session: Session) -> list[Invoice]:
    """Released invoices and credit notes of EDI customers not yet sent, oldest first."""
    return list(session.scalars(
        select(Invoice).join(Customer, Customer.id == Invoice.customer_id)
        .where(Invoice.status == "released", Invoice.edi_sent.is_(False), Customer.edi_format.in_(("x12", "edifact")),
               Customer.edi_id != "").order_by(Invoice.invoice_date, Invoice.number)))


def send_pending(session: Session, actor: Actor | None, outbound_dir: str | Path, *,
                 refs: list[str] | None = None) -> EdiRun:
    """Write the waiting (or the named) invoices' EDI files into ``outbound_dir``."""
    if actor is not None:
        actor.require("invoice.release")
    folder = Path(outbound_dir)
    if not folder.is_dir():
        raise ValidationError("EDI outbound folder", f"{folder} is not a folder: set it in Settings > EDI")
    todo = [get_invoice(session, r) for r in refs] if refs else [i for i in pending(session) if owns(session, i.owner_branch_id)]
    run = EdiRun()
    files = []
    for inv in todo:
        name, payload = export_invoice(session, inv)
        stamp_edi(inv)
        files.append((name, payload))
        run.numbers.append(inv.number)
        audit.record(session, actor, "invoice.edi", "invoice", inv.id, inv.owner_branch_id, number=inv.number, file=name)
    session.flush()
    for name, payload in files:  # last, after every check: a refusal leaves no file behind
        run.written.append(write_outbound(folder, name, payload))
    return run


def _edi_job(engine: Engine, settings: Any) -> EdiRun:
    """The background round: the waiting invoices into Settings > EDI's outbound folder."""
    with session_scope(engine) as s:
        return send_pending(s, None, folders(settings)[0])


#: released EDI invoices go out every five minutes while an outbound folder is set (app.services.jobs)
SEND = jobs.register(jobs.Job(
    "billing.edi", _edi_job, interval_s=300, first_s=20, kinds=(Change.INVOICE, Change.EDI),
    label="send EDI invoices", ready=lambda settings: bool(folders(settings)[0].strip())))
