"""Posted receipts, their lines, quality holds, putaway tasks and the serial registry.

A ``Receipt`` is born posted: scanning happens in memory (``services.receiving.session``) and
one call (``services.receiving.post.post_receipt``) writes the receipt, its lines, the stock
moves, the holds and the putaway tasks in one transaction. Arrival, posting and putaway times
are kept so dock-to-stock time can be measured.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import UTCDateTime

#: why a receipt line differs from what was expected (or needs a look)
LINE_REASONS = ("", "damaged", "short", "over", "wrong_item")
HOLD_STATUSES = ("held", "released", "rejected")
PUTAWAY_STATUSES = ("open", "done")
#: serial life cycle: in our stock (incl. QA), or gone (shipped, returned to vendor, scrapped)
SERIAL_STATUSES = ("in_stock", "held", "shipped", "rtv", "scrapped")


class Receipt(BranchDocument, Base):
    """A posted goods receipt (DAL-GR-000001) against one expected receipt."""

    __tablename__ = "receipt"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    expected_receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("expected_receipt.id"), index=True)
    po_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order.id"), default=None)
    supplier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("supplier.id"), default=None)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="posted")
    arrived_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    posted_at: Mapped[dt.datetime] = mapped_column(UTCDateTime(), index=True)
    #: when the last putaway task of the receipt was confirmed (dock-to-stock end)
    stocked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")


class ReceiptLine(BranchDocument, Base):
    __tablename__ = "receipt_line"
    __table_args__ = (
        UniqueConstraint("receipt_id", "line_no"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("receipt.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    expected_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("expected_receipt_line.id"), default=None)
    po_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("purchase_order_line.id"), default=None)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    lot_code: Mapped[str] = mapped_column(String(40), default="")
    expiry_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: serial numbers of a serial-tracked line, one per text line
    serials: Mapped[str] = mapped_column(Text, default="")
    reason: Mapped[str] = mapped_column(String(16), default="")
    reason_note: Mapped[str] = mapped_column(String(200), default="")
    #: the line went to the QA location (inspection or damage) instead of the dock
    hold: Mapped[bool] = mapped_column(Boolean, default=False)
    sscc: Mapped[str] = mapped_column(String(20), default="")
    to_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))


class QualityHold(BranchDocument, Base):
    """Stock of a receipt line waiting in QA: released to the dock (then put away) or rejected (RTV)."""

    __tablename__ = "quality_hold"

    receipt_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("receipt.id"), index=True)
    receipt_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("receipt_line.id"))
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serials: Mapped[str] = mapped_column(Text, default="")
    qty: Mapped[int] = mapped_column(BigInteger)
    reason: Mapped[str] = mapped_column(String(40), default="inspection")
    status: Mapped[str] = mapped_column(String(10), default="held", index=True)
    decided_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    decided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    decision_note: Mapped[str] = mapped_column(String(200), default="")


class PutawayTask(BranchDocument, Base):
    """Move received stock from the dock to a bin; confirmed by scanning the bin."""

    __tablename__ = "putaway_task"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_putaway_task_wh_status", "warehouse_id", "status"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    receipt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("receipt.id"), default=None, index=True)
    receipt_line_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("receipt_line.id"), default=None)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serials: Mapped[str] = mapped_column(Text, default="")
    qty: Mapped[int] = mapped_column(BigInteger)
    from_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    proposed_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    #: why that bin (or why none fits), shown to the operator
    reason: Mapped[str] = mapped_column(String(300), default="")
    status: Mapped[str] = mapped_column(String(8), default="open")
    confirmed_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)


class SerialNumber(BranchDocument, Base):
    """One row per (item, serial): the registry that stops a serial being received twice."""

    __tablename__ = "serial_number"
    __table_args__ = (UniqueConstraint("item_id", "serial"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    serial: Mapped[str] = mapped_column(String(60))
    status: Mapped[str] = mapped_column(String(10), default="in_stock")
    location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    receipt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("receipt.id"), default=None)
