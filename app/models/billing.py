"""Invoices, credit notes, their lines and taxes, payments, and how customers are billed.

An invoice is a branch document made from shipped order lines (one invoice per shipment); it is
``pending`` until released (on proof of delivery or on shipment, per customer), and only then goes
into the receivables ledger. A credit note is an invoice row of kind ``credit`` (from a return's
credit request or a price correction). Lines and tax lines are written once, with the invoice,
and never edited: a correction is a credit note. Numbers come from the branch's series
(``DAL-INV-000001``, ``DAL-CN-000001``) in the same transaction that writes the document, so a
number is never lost nor used twice.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LedgerRow, LocalOnly, MasterData
from app.models.types import Fixed4, Money, UTCDateTime

#: when a customer's invoice is released: on proof of delivery, or as soon as it ships
INVOICE_ON = ("delivery", "shipment")
#: how tax is rounded: each line's tax rounded then summed, or each rate's base taxed once
TAX_ROUNDING = ("line", "invoice")
#: what a queued follow-up of a carrier event asks of billing (``BillingDue.step``), in the order run
DUE_STEPS = ("shipped", "delivered")


class CustomerBilling(MasterData, Base):
    """How one customer is invoiced (no row = the defaults: on delivery, zone STD, per line)."""

    __tablename__ = "customer_billing"

    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), unique=True)
    bill_to: Mapped[str] = mapped_column(String(400), default="")
    invoice_email: Mapped[str] = mapped_column(String(200), default="")
    invoice_on: Mapped[str] = mapped_column(String(10), default="delivery")
    tax_zone: Mapped[str] = mapped_column(String(12), default="STD")
    tax_id: Mapped[str] = mapped_column(String(40), default="")
    tax_rounding: Mapped[str] = mapped_column(String(8), default="line")


class ItemTaxClass(MasterData, Base):
    """An item's tax class (no row = 'standard')."""

    __tablename__ = "item_tax_class"

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), unique=True)
    tax_class: Mapped[str] = mapped_column(String(12), default="standard")


class TaxRate(MasterData, Base):
    """The rate a customer's tax zone charges on an item tax class (percent, 4 decimals)."""

    __tablename__ = "tax_rate"
    __table_args__ = (UniqueConstraint("tax_zone", "tax_class"),)

    tax_zone: Mapped[str] = mapped_column(String(12))
    tax_class: Mapped[str] = mapped_column(String(12))
    name: Mapped[str] = mapped_column(String(60), default="")
    rate_pct: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal(0))


class Invoice(BranchDocument, Base):
    __tablename__ = "invoice"
    __table_args__ = (Index("ix_invoice_customer_date", "customer_id", "invoice_date"),)

    number: Mapped[str] = mapped_column(String(24), unique=True)
    #: 'invoice' or 'credit' (a credit note)
    kind: Mapped[str] = mapped_column(String(8), default="invoice")
    status: Mapped[str] = mapped_column(String(10), default="pending", index=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None, index=True)
    shipment_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("shipment.id"), default=None, index=True)
    invoice_date: Mapped[dt.date] = mapped_column(Date)
    due_date: Mapped[dt.date] = mapped_column(Date)
    terms: Mapped[str] = mapped_column(String(20), default="NET30")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    customer_po: Mapped[str] = mapped_column(String(40), default="")
    bill_to: Mapped[str] = mapped_column(String(400), default="")
    ship_to: Mapped[str] = mapped_column(String(400), default="")
    carrier: Mapped[str] = mapped_column(String(80), default="")
    tracking_number: Mapped[str] = mapped_column(String(40), default="")
    #: proof of delivery as the carrier gave it ("signed by ... at ...; ref ...")
    pod_ref: Mapped[str] = mapped_column(String(200), default="")
    invoice_on: Mapped[str] = mapped_column(String(10), default="delivery")
    tax_rounding: Mapped[str] = mapped_column(String(8), default="line")
    subtotal: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    tax_total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    total: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    #: a credit note: the invoice it corrects ('' = none), the RMA credit request, why
    credits_number: Mapped[str] = mapped_column(String(24), default="")
    credit_request_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("credit_request.id"), default=None,
                                                                unique=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    released_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    cancelled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    edi_sent: Mapped[bool] = mapped_column(Boolean, default=False)


class InvoiceLine(BranchDocument, Base):
    __tablename__ = "invoice_line"
    __table_args__ = (UniqueConstraint("invoice_id", "line_no"),)

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    order_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order_line.id"), default=None, index=True)
    #: the dispatch shipment line it bills (None for lines billed from the order's shipped quantity)
    shipment_line_id: Mapped[uuid.UUID | None] = mapped_column(default=None, index=True)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("item.id"), default=None)
    sku: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(String(200), default="")
    qty: Mapped[int] = mapped_column(BigInteger)
    uom: Mapped[str] = mapped_column(String(8), default="EA")
    unit_price: Mapped[Decimal] = mapped_column(Money())
    extension: Mapped[Decimal] = mapped_column(Money())
    tax_class: Mapped[str] = mapped_column(String(12), default="standard")
    tax_rate_pct: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal(0))
    tax_amount: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))


class InvoiceTax(BranchDocument, Base):
    """One tax line of an invoice: a rate, the base it applies to, the tax (rounded as the invoice says)."""

    __tablename__ = "invoice_tax"

    invoice_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("invoice.id"), index=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    rate_pct: Mapped[Decimal] = mapped_column(Fixed4())
    base: Mapped[Decimal] = mapped_column(Money())
    amount: Mapped[Decimal] = mapped_column(Money())
    #: the per-line sum minus the per-invoice figure (what the rounding method changes)
    rounding_diff: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))


class Payment(LedgerRow, Base):
    """A customer payment as received (by hand or a bank export line); its application to
    documents is in the receivables ledger (negative ``payment`` rows naming this number)."""

    __tablename__ = "payment"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    received_on: Mapped[dt.date] = mapped_column(Date)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    method: Mapped[str] = mapped_column(String(12), default="bank")
    reference: Mapped[str] = mapped_column(String(80), default="")
    #: a bank line's identity (file reference or a hash of the line), so a file read twice pays once
    bank_key: Mapped[str | None] = mapped_column(String(80), default=None, unique=True)
    entered_by: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(Text, default="")


class BillingDue(LocalOnly, Base):
    """A carrier event's invoicing follow-up, queued in the tracking transaction that stored the
    event and settled by the billing job in batches (``app.services.billing.settle``): the row is
    removed in the transaction that writes the invoice, so a crash between the two loses nothing
    and invoices nothing twice. Local: the workstation that saw the event invoices it."""

    __tablename__ = "billing_due"

    shipment_id: Mapped[uuid.UUID] = mapped_column(primary_key=True)
    #: 'shipped' (make the invoice; release it for customers billed on shipment) or 'delivered'
    #: (release it with the proof of delivery, made first if there is none)
    step: Mapped[str] = mapped_column(String(10), primary_key=True)
    #: the invoice date it asks for (the delivery's day; the pickup's: the day it was seen)
    day: Mapped[dt.date] = mapped_column(Date)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: failed settlements (an unexpected error, not a refusal): after three it waits for a person
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    message: Mapped[str] = mapped_column(String(300), default="")
