"""A customer's statement of account: the open items as of a date, their ageing, the total due.

Built from the receivables ledger (``receivables.open_items``), so it agrees with the ageing
report and the credit check to the cent.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models.parties import Customer
from app.services.billing import receivables as ar
from app.services.billing.profile import billing_of, paper, remit_to
from app.services.money import decimals
from reports.statement import StatementDocument, StatementLine, render_statement


def statement_data(session: Session, customer: str | uuid.UUID | Customer, *, today: dt.date) -> StatementDocument:
    cust = customer if isinstance(customer, Customer) else ar.customer_by(session, customer)
    items = ar.open_items(session, cust.id, today=today)
    rows = ar.ageing(session, today=today, customer=cust.code)
    buckets = rows[0].buckets if rows else {label: Decimal(0) for label, _f, _l in ar.BUCKETS}
    head = paper(session, cust.home_branch_id)
    return StatementDocument(
        letterhead=head, as_of=today, customer_code=cust.code, customer_name=cust.name,
        bill_to=billing_of(session, cust).bill_to, currency=cust.currency,
        lines=[StatementLine(o.doc_number, o.doc_date, o.due_date, o.original, o.open, o.days_past_due) for o in items],
        ageing=buckets, total=sum((o.open for o in items), Decimal(0)), money_places=decimals(cust.currency),
        remit_to=remit_to(head))


def statement_pdf(session: Session, customer: str | uuid.UUID | Customer, *, today: dt.date) -> tuple[str, bytes]:
    """(file name, PDF bytes) of a customer's statement as of ``today``."""
    doc = statement_data(session, customer, today=today)
    return f"statement-{doc.customer_code}-{today.isoformat()}.pdf", render_statement(doc)
