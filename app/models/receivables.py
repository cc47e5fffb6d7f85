"""The receivables ledger: open items of customers, insert-only like the stock ledger.

An invoice (imported from a legacy system, or one of Depot's own once Invoicing lands) is a row
with a positive amount; a payment or a credit is a negative row naming the same document number.
What a customer owes on a document is the sum of its rows (a payment row's ``ref`` names the payment); nothing is ever updated, so replication
never has to merge two versions of a balance. Credit control reads it (``services.sales.credit``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LedgerRow
from app.models.types import Money

#: kinds of receivable rows
ENTRY_KINDS = ("invoice", "payment", "credit", "opening")
#: kinds that are credit sales for DSO: Depot's invoices and the legacy system's open invoices
SALES_KINDS = ("invoice", "opening")


class ReceivableEntry(LedgerRow, Base):
    __tablename__ = "receivable_entry"
    __table_args__ = (Index("ix_receivable_entry_customer_doc", "customer_id", "doc_number"),)

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"))
    kind: Mapped[str] = mapped_column(String(8))
    #: the invoice (or credit note) number the row belongs to
    doc_number: Mapped[str] = mapped_column(String(40))
    doc_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: signed: invoices positive, payments and credits negative
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: 'import' (a legacy system's open item) or 'depot'
    source: Mapped[str] = mapped_column(String(8), default="import")
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    #: what wrote the row: the payment or credit note number ('' for imported items and invoices)
    ref: Mapped[str] = mapped_column(String(24), default="")
