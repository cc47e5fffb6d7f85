"""Billing's documents (and the purchase order) in the print registry, and e-mailing them.

Registered when wiring loads billing: invoices, credit notes and customer statements (a
statement's reference is ``CUSTOMER@YYYY-MM-DD``), and purchase orders (Buying's renderer, listed
here so the clerk's print centre shows them; Buying need not know the print centre exists).
``mail_document`` queues the PDF through the one e-mail outbox and records it as printed by mail.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Invoice
from app.models.messaging import EmailOutbox
from app.models.parties import Customer, Supplier
from app.models.purchasing import PurchaseOrder
from app.services import mail, printing
from app.services.auth import Actor
from app.services.billing import receivables as ar
from app.services.billing.documents import invoice_pdf
from app.services.billing.invoices import get_invoice
from app.services.billing.profile import billing_of
from app.services.billing.statements import statement_pdf
from app.services.buying.po_documents import po_pdf
from app.services.buying.purchasing import get_po
from app.services.errors import ValidationError
from app.services.masterdata import head_office_id
from app.services.money import fmt_money
from app.services.printing import Printable, QueueRow


def _invoice_render(session: Session, ref: str, reprint: bool) -> tuple[str, bytes]:
    return invoice_pdf(session, ref, reprint=reprint)


def _invoice_queue(kind: str) -> object:
    def queue(session: Session, since: dt.date, until: dt.date, status: str | None, limit: int) -> list[QueueRow]:
        q = (select(Invoice, Customer.code, Customer.name).join(Customer, Customer.id == Invoice.customer_id)
             .where(Invoice.kind == kind, Invoice.invoice_date >= since, Invoice.invoice_date <= until,
                    Invoice.deleted_at.is_(None)))
        if status:
            q = q.where(Invoice.status == status)
        rows = session.execute(q.order_by(Invoice.invoice_date.desc(), Invoice.number.desc()).limit(limit)).all()
        return [QueueRow(kind, inv.number, inv.invoice_date, f"{code} {name}", inv.status,
                         fmt_money(inv.total, inv.currency, code=True)) for inv, code, name in rows]
    return queue


def _invoice_branch(session: Session, ref: str) -> uuid.UUID:
    return get_invoice(session, ref).owner_branch_id


def _invoice_mail(session: Session, ref: str) -> tuple[str, str, str]:
    inv = get_invoice(session, ref)
    cust = session.get(Customer, inv.customer_id)
    to = billing_of(session, cust).invoice_email if cust else ""
    what = "Credit note" if inv.kind == "credit" else "Invoice"
    body = (f"Dear {cust.name if cust else 'customer'},\n\nplease find attached our {what.lower()} {inv.number} "
            f"of {inv.invoice_date.isoformat()} for {fmt_money(inv.total, inv.currency, code=True)}"
            + (f", due {inv.due_date.isoformat()}" if inv.kind == "invoice" else "") + ".\n\nKind regards,\n")
    return to, f"{what} {inv.number}", body


def _split_statement(ref: str) -> tuple[str, dt.date]:
    code, _, day = ref.partition("@")
    try:
        return code, dt.date.fromisoformat(day) if day else dt.date.today()
    except ValueError:
        raise ValidationError("statement", f"{ref!r}: use CUSTOMER@YYYY-MM-DD") from None


def _statement_render(session: Session, ref: str, _reprint: bool) -> tuple[str, bytes]:
    code, day = _split_statement(ref)
    return statement_pdf(session, code, today=day)


def _statement_queue(session: Session, _since: dt.date, until: dt.date, _status: str | None,
                     limit: int) -> list[QueueRow]:
    """Customers with something open, as statements of ``until`` (biggest balance first)."""
    rows = ar.ageing(session, today=until)[:limit]
    return [QueueRow("statement", f"{r.code}@{until.isoformat()}", until, f"{r.code} {r.name}",
                     "overdue" if r.total - r.buckets["current"] > 0 else "open", fmt_money(r.total, r.currency,
                                                                                               code=True))
            for r in rows]


def _statement_mail(session: Session, ref: str) -> tuple[str, str, str]:
    code, day = _split_statement(ref)
    cust = ar.customer_by(session, code)
    return (billing_of(session, cust).invoice_email, f"Statement of account {day.isoformat()}",
            f"Dear {cust.name},\n\nplease find attached your statement of account as of {day.isoformat()}.\n\n"
            "Kind regards,\n")


def _statement_branch(session: Session, ref: str) -> uuid.UUID:
    cust = ar.customer_by(session, _split_statement(ref)[0])
    return cust.home_branch_id or head_office_id(session)


def _po_render(session: Session, ref: str, _reprint: bool) -> tuple[str, bytes]:
    return po_pdf(session, ref)


def _po_queue(session: Session, since: dt.date, until: dt.date, status: str | None, limit: int) -> list[QueueRow]:
    q = (select(PurchaseOrder, Supplier.code, Supplier.name).join(Supplier, Supplier.id == PurchaseOrder.supplier_id)
         .where(PurchaseOrder.order_date >= since, PurchaseOrder.order_date <= until,
                PurchaseOrder.deleted_at.is_(None)))
    if status:
        q = q.where(PurchaseOrder.status == status)
    rows = session.execute(q.order_by(PurchaseOrder.order_date.desc(), PurchaseOrder.number.desc()).limit(limit)).all()
    return [QueueRow("po", po.number, po.order_date, f"{code} {name}", po.status) for po, code, name in rows]


def _po_mail(session: Session, ref: str) -> tuple[str, str, str]:
    po = get_po(session, ref)
    sup = session.get(Supplier, po.supplier_id)
    return (sup.contact_email if sup else "", f"Purchase order {po.number}",
            f"Dear {sup.name if sup else 'supplier'},\n\nplease find attached our purchase order {po.number}.\n")


printing.register(Printable("invoice", "Invoices", _invoice_render, _invoice_queue("invoice"),  # type: ignore[arg-type]
                            _invoice_mail, _invoice_branch))
printing.register(Printable("credit", "Credit notes", _invoice_render, _invoice_queue("credit"),  # type: ignore[arg-type]
                            _invoice_mail, _invoice_branch))
printing.register(Printable("statement", "Statements", _statement_render, _statement_queue, _statement_mail,
                            _statement_branch))
printing.register(Printable("po", "Purchase orders", _po_render, _po_queue, _po_mail,
                            lambda s, ref: get_po(s, ref).owner_branch_id))


def mail_document(session: Session, actor: Actor, doc_type: str, ref: str, *, to: str = "") -> EmailOutbox:
    """Queue ``ref`` as a PDF attachment to its customer (or ``to``), recorded as sent by e-mail."""
    p = printing.kind(doc_type)
    if p.mail is None:
        raise ValidationError("e-mail", f"{p.label.lower()} are not e-mailed from the print centre")
    actor.require(p.action)
    default_to, subject, body = p.mail(session, ref)
    address = (to or default_to).strip()
    if not address:
        raise ValidationError("to", f"no e-mail address is known for {ref}: enter one (nothing was sent)")
    out = printing.render(session, doc_type, ref)
    branch = p.branch_of(session, ref) if p.branch_of else head_office_id(session)
    msg = mail.queue_email(session, actor, to=address, subject=subject, body=body + (actor.full_name or actor.username),
                           owner_branch_id=branch, attachment_name=out.name, attachment=out.pdf, entity=doc_type,
                           entity_ref=ref)
    printing.record(session, actor, doc_type, ref, channel="email", target=address,
                    pages=printing.page_count(out.pdf), reprint=out.reprint, branch_id=branch)
    return msg
