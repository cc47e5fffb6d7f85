"""Purchase orders and expected receipts (from POs, ASNs and inbound transfers).

The Buying issue adds requisitions, approvals and supplier messages beside these; the
Receiving issue posts receipts against ``ExpectedReceipt``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, without_owner_index
from app.models.types import Money, UTCDateTime


class PurchaseOrder(BranchDocument, Base):
    __tablename__ = "purchase_order"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    revision: Mapped[int] = mapped_column(Integer, default=0)
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supplier.id"), index=True)
    #: default ship-to; a consolidated PO's lines may name other warehouses
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(20), default="draft", index=True)
    order_date: Mapped[dt.date] = mapped_column(Date)
    expected_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payment_terms: Mapped[str] = mapped_column(String(20), default="NET30")
    rush: Mapped[bool] = mapped_column(default=False)
    requested_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    #: reasons stamped by the approval rules that fired (one per line of text)
    approval_reasons: Mapped[str] = mapped_column(Text, default="")
    notes: Mapped[str] = mapped_column(Text, default="")


@without_owner_index
class PurchaseOrderLine(BranchDocument, Base):
    __tablename__ = "purchase_order_line"
    __table_args__ = (
        UniqueConstraint("po_id", "line_no"),
        CheckConstraint("qty_ordered > 0", name="qty_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    po_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("purchase_order.id"))  # indexed by its UNIQUE
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    ship_to_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    qty_ordered: Mapped[int] = mapped_column(BigInteger)
    qty_received: Mapped[int] = mapped_column(BigInteger, default=0)
    #: purchase unit as ordered (for the document); quantities stay in base units
    uom: Mapped[str] = mapped_column(String(8), default="EA")
    unit_price: Mapped[Decimal] = mapped_column(Money())
    expected_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    status: Mapped[str] = mapped_column(String(16), default="open")


class ExpectedReceipt(BranchDocument, Base):
    """Something due at a dock: a PO, an ASN (with cartons), or an inbound transfer."""

    __tablename__ = "expected_receipt"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    source: Mapped[str] = mapped_column(String(10))  # 'po', 'asn', 'transfer', 'rma'
    po_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order.id"), default=None, index=True)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supplier.id"), default=None)
    #: for transfers and returns: the sending branch's document
    source_doc_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    expected_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    dock: Mapped[str] = mapped_column(String(16), default="")
    status: Mapped[str] = mapped_column(String(12), default="expected", index=True)
    asn_ref: Mapped[str] = mapped_column(String(40), default="")
    carrier: Mapped[str] = mapped_column(String(40), default="")
    pro_number: Mapped[str] = mapped_column(String(40), default="")
    arrived_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class ExpectedReceiptLine(BranchDocument, Base):
    __tablename__ = "expected_receipt_line"
    __table_args__ = (CheckConstraint("qty_expected > 0", name="qty_positive"),)

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expected_receipt.id"), index=True)
    po_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order_line.id"), default=None)
    #: indexed for date-based ATP (what is coming for one item), issue 12
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    qty_expected: Mapped[int] = mapped_column(BigInteger)
    qty_received: Mapped[int] = mapped_column(BigInteger, default=0)
    #: ASN detail: carton (SSCC-18) and announced lot, when the supplier sends them
    sscc: Mapped[str] = mapped_column(String(20), default="", index=True)
    lot_code: Mapped[str] = mapped_column(String(40), default="")
    expiry_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
