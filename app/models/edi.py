"""Supplier messages (EDI) as received or sent, with their lines and control counters.

A ``SupplierMessage`` is one transaction set (X12 ST..SE) or message (EDIFACT UNH..UNT)
that Depot imported or produced. Its ``dedupe_key`` (standard, partner, interchange and
transaction control numbers) is unique, so importing the same file twice writes nothing
the second time. Lines keep what the PO said beside what the supplier said, so the buyer
sees every difference without re-reading the file.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import Money, UTCDateTime

#: message kinds Depot understands
MESSAGE_TYPES = ("850", "855", "856", "997", "ORDERS", "ORDRSP", "DESADV")
#: line statuses of a confirmation or ship notice line
LINE_STATUSES = ("accepted", "changed", "rejected", "backordered", "extra", "shipped")


class SupplierMessage(BranchDocument, Base):
    __tablename__ = "supplier_message"

    direction: Mapped[str] = mapped_column(String(3))  # 'in' or 'out'
    standard: Mapped[str] = mapped_column(String(8))  # 'x12' or 'edifact'
    msg_type: Mapped[str] = mapped_column(String(8), index=True)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supplier.id"), default=None, index=True)
    #: sender (inbound) or receiver (outbound) id as written in the envelope
    partner_ref: Mapped[str] = mapped_column(String(40), default="")
    interchange_control: Mapped[str] = mapped_column(String(20), default="")
    control_number: Mapped[str] = mapped_column(String(20), default="")
    #: unique: standard|partner|interchange|transaction; the idempotency key
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    #: sha256 of the message's segments: the same control number with other content is refused
    content_hash: Mapped[str] = mapped_column(String(64), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: 'processed', 'differences' (processed, with exceptions raised), 'exported'
    status: Mapped[str] = mapped_column(String(12), default="processed", index=True)
    po_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order.id"), default=None, index=True)
    po_number: Mapped[str] = mapped_column(String(24), default="")
    #: the partner's own document number (BAK03 ack, BSN02 shipment id, BGM document number)
    doc_ref: Mapped[str] = mapped_column(String(40), default="")
    #: for ship notices: the expected receipt made from it
    expected_receipt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("expected_receipt.id"), default=None)
    summary: Mapped[str] = mapped_column(Text, default="")
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    differences: Mapped[int] = mapped_column(Integer, default=0)


class SupplierMessageLine(BranchDocument, Base):
    __tablename__ = "supplier_message_line"

    message_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supplier_message.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    po_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order_line.id"), default=None)
    item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("item.id"), default=None)
    #: the item reference exactly as the partner sent it ('BP:T05249', 'EN:5410738000152')
    item_ref: Mapped[str] = mapped_column(String(60), default="")
    qty_ordered: Mapped[int | None] = mapped_column(BigInteger, default=None)
    qty_confirmed: Mapped[int | None] = mapped_column(BigInteger, default=None)
    price_ordered: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    price_confirmed: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    date_ordered: Mapped[dt.date | None] = mapped_column(Date, default=None)
    date_confirmed: Mapped[dt.date | None] = mapped_column(Date, default=None)
    line_status: Mapped[str] = mapped_column(String(12), default="accepted")
    #: human text, one difference per line ('quantity changed 10 -> 8')
    difference: Mapped[str] = mapped_column(Text, default="")
    sscc: Mapped[str] = mapped_column(String(20), default="")
    lot_code: Mapped[str] = mapped_column(String(40), default="")


class EdiCounter(BranchDocument, Base):
    """Next control number per partner and standard (ISA13/GS06, UNB interchange reference).

    A branch document. Each workstation of the branch counts in its own block of 10,000,000
    (``services.edi.common.next_control``; workstation 1 and standalone files 1-9,999,999), so two
    workstations working offline never send a partner the same control number.
    """

    __tablename__ = "edi_counter"
    __table_args__ = (UniqueConstraint("owner_branch_id", "partner_key"),)

    partner_key: Mapped[str] = mapped_column(String(80))
    next_value: Mapped[int] = mapped_column(BigInteger, default=1)
