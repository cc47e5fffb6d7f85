"""Inventory documents: cycle counts, inter-branch transfers, returns (RMA), replenishment tasks.

None of these change stock by themselves: the services in ``app.services.inventory`` post
ledger moves through ``app.services.stock.post_moves`` and keep these documents in step.

Cross-area references (a transfer's requisition, a count's putaway hooks) are plain Uuid
columns, not foreign keys, so this migration does not depend on other areas' migrations.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import (
    BigInteger,
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
from app.models.types import Fixed4, Money, UTCDateTime

#: count task states: scheduled -> counting -> (posted | recount -> pending_approval -> posted | cancelled)
COUNT_STATES = ("scheduled", "counting", "recount", "pending_approval", "posted", "cancelled")
TRANSFER_STATES = ("draft", "shipped", "received", "cancelled")
RMA_STATES = ("authorised", "received", "inspected", "closed", "cancelled")
#: inspection results: ok and defective earn a credit; customer damage does not
INSPECTION_RESULTS = ("ok", "defective", "customer_damage")
DISPOSITIONS = ("restock", "scrap", "rtv")
REPLENISH_STATES = ("open", "done", "cancelled")


class CountTask(BranchDocument, Base):
    """A cycle count of one bin. The counter never sees ``CountLine.expected_qty``."""

    __tablename__ = "count_task"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"), index=True)
    status: Mapped[str] = mapped_column(String(20), default="scheduled", index=True)
    #: velocity class that put the bin on the schedule (A counted most often)
    abc_class: Mapped[str] = mapped_column(String(1), default="C")
    scheduled_for: Mapped[dt.date] = mapped_column(Date)
    #: allowed |variance| as a percentage of the expected quantity
    tolerance_pct: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal("2"))
    round: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    counted_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    recounted_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    approved_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    posted_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class CountLine(BranchDocument, Base):
    __tablename__ = "count_line"
    __table_args__ = (UniqueConstraint("task_id", "item_id", "lot_key"),)

    task_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("count_task.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    #: lot id hex or '' (a unique key cannot hold NULL reliably)
    lot_key: Mapped[str] = mapped_column(String(32), default="")
    #: snapshot of the bin balance when counting started; hidden from the counter
    expected_qty: Mapped[int] = mapped_column(BigInteger, default=0)
    counted_qty: Mapped[int | None] = mapped_column(BigInteger, default=None)
    recount_qty: Mapped[int | None] = mapped_column(BigInteger, default=None)
    #: final counted - expected, set when the line is settled
    variance: Mapped[int] = mapped_column(BigInteger, default=0)
    #: quantity actually posted to/from the adjust location (signed)
    adjusted_qty: Mapped[int] = mapped_column(BigInteger, default=0)


class TransferOrder(BranchDocument, Base):
    """Stock sent from one warehouse to another; owned by the sending branch."""

    __tablename__ = "transfer_order"
    __table_args__ = (CheckConstraint("from_warehouse_id <> to_warehouse_id", name="two_warehouses"),)

    number: Mapped[str] = mapped_column(String(24), unique=True)
    from_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    to_warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    status: Mapped[str] = mapped_column(String(12), default="draft", index=True)
    #: requisitions (Buying area) this transfer fulfils: plain ids, no FK across areas
    requisition_ids: Mapped[str] = mapped_column(Text, default="")
    expected_receipt_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("expected_receipt.id"), default=None)
    requested_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    notes: Mapped[str] = mapped_column(Text, default="")


class TransferLine(BranchDocument, Base):
    __tablename__ = "transfer_line"
    __table_args__ = (
        UniqueConstraint("transfer_id", "line_no"),
        CheckConstraint("qty > 0", name="qty_positive"),
    )

    transfer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("transfer_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serial_no: Mapped[str | None] = mapped_column(String(60), default=None)
    qty: Mapped[int] = mapped_column(BigInteger)
    #: bin the stock leaves from (chosen at ship time when not given)
    from_location_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("location.id"), default=None)
    qty_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    qty_received: Mapped[int] = mapped_column(BigInteger, default=0)
    #: shipped but never arrived: written off from transit at receipt
    qty_short: Mapped[int] = mapped_column(BigInteger, default=0)


class Rma(BranchDocument, Base):
    __tablename__ = "rma"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(12), default="authorised", index=True)
    reason: Mapped[str] = mapped_column(String(200), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    received_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class RmaLine(BranchDocument, Base):
    __tablename__ = "rma_line"
    __table_args__ = (
        UniqueConstraint("rma_id", "line_no"),
        CheckConstraint("qty_authorised > 0", name="qty_positive"),
    )

    rma_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rma.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serial_no: Mapped[str | None] = mapped_column(String(60), default=None)
    qty_authorised: Mapped[int] = mapped_column(BigInteger)
    qty_received: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_credit: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    inspection_result: Mapped[str] = mapped_column(String(16), default="")
    inspection_note: Mapped[str] = mapped_column(String(200), default="")
    disposition: Mapped[str] = mapped_column(String(8), default="")
    qty_restocked: Mapped[int] = mapped_column(BigInteger, default=0)
    qty_scrapped: Mapped[int] = mapped_column(BigInteger, default=0)
    qty_rtv: Mapped[int] = mapped_column(BigInteger, default=0)


class CreditRequest(BranchDocument, Base):
    """A customer credit owed for a return; the invoicing area turns it into a credit note."""

    __tablename__ = "credit_request"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    rma_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("rma.id"), unique=True)
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None)
    amount: Mapped[Decimal] = mapped_column(Money())
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: 'open' until invoicing issues the credit note ('credited')
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    detail: Mapped[str] = mapped_column(Text, default="")


class ReplenishTask(BranchDocument, Base):
    """Move stock from a reserve bin to a forward pick face that fell below its minimum."""

    __tablename__ = "replenish_task"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        Index("ix_replenish_task_open", "status", "pick_location_id"),
    )

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    pick_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    from_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"), index=True)
    qty: Mapped[int] = mapped_column(BigInteger)
    qty_moved: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(10), default="open")
    confirmed_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    confirmed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
