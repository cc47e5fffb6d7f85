"""Sales orders and their lines, and credit releases decided at another branch.

A sales order belongs to the branch whose warehouse ships it. ``SalesOrderLine.qty_allocated``
is the stock reserved for the line and not yet shipped: the sum of its rows in the allocation
ledger (``app.models.allocation``); shipping consumes it (a negative allocation row) and adds to
``qty_shipped``. What a line still needs is ``qty_ordered - qty_shipped - qty_allocated``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

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

from app.models.base import Base, BranchDocument, LedgerRow, without_owner_index
from app.models.types import Money, UTCDateTime

#: where an order came from
ORDER_SOURCES = ("entry", "copy", "import", "edi")


class SalesOrder(BranchDocument, Base):
    __tablename__ = "sales_order"
    __table_args__ = (Index("ix_sales_order_warehouse_status", "warehouse_id", "status"),)

    number: Mapped[str] = mapped_column(String(24), unique=True)
    customer_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("customer.id"), index=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    status: Mapped[str] = mapped_column(String(16), default="open", index=True)
    order_date: Mapped[dt.date] = mapped_column(Date)
    requested_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    customer_po: Mapped[str] = mapped_column(String(40), default="")
    ship_to: Mapped[str] = mapped_column(String(400), default="")
    rush: Mapped[bool] = mapped_column(default=False)
    source: Mapped[str] = mapped_column(String(8), default="entry")
    #: the customer's rule at entry: ship only when every line can go (no partial shipments)
    ship_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the latest promise of its open lines (the date the whole order can go)
    promised_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: why the order is (or was last) on credit hold, and when; who released it and when
    credit_reason: Mapped[str] = mapped_column(String(300), default="")
    credit_held_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    credit_released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    credit_released_by: Mapped[str] = mapped_column(String(40), default="")
    entered_by: Mapped[str] = mapped_column(String(40), default="")
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")
    #: the carrier the order ships with (None: the warehouse's default carrier); waves group by it
    carrier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier.id"), default=None)


@without_owner_index
class SalesOrderLine(BranchDocument, Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("qty_ordered > 0", name="qty_positive"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"))  # indexed by its UNIQUE
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    #: in the item's base unit (``uom`` x ``uom_factor`` is what the customer asked for)
    qty_ordered: Mapped[int] = mapped_column(BigInteger)
    #: reserved and not yet shipped (the allocation ledger's sum for the line)
    qty_allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    qty_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    #: per base unit
    unit_price: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="open")
    #: the unit the quantity was entered in ('' = base unit) and its base units per unit
    uom: Mapped[str] = mapped_column(String(8), default="")
    uom_factor: Mapped[int] = mapped_column(Integer, default=1)
    #: where the price came from ("price list GOLD-2026", "list price", "override by mike")
    price_source: Mapped[str] = mapped_column(String(60), default="")
    promised_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: "available now" / "on 2026-12-03" / "not before 2026-12-20"
    promise: Mapped[str] = mapped_column(String(60), default="")
    #: the customer's own line reference (EDI PO1-01), echoed in the acknowledgement
    customer_line: Mapped[str] = mapped_column(String(20), default="")
    cancel_reason: Mapped[str] = mapped_column(String(200), default="")


class CreditRelease(LedgerRow, Base):
    """A credit-hold release decided by someone with ``credit.release``: a row of the deciding
    branch (head office releasing a Dallas order writes its own row). The order's branch applies
    it at once when it is this site, else its settler does after the next pull."""

    __tablename__ = "credit_release"

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    #: the branch that owns the order (who must apply the release)
    order_branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"))
    user_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("app_user.id"), default=None)
    username: Mapped[str] = mapped_column(String(40), default="")
    note: Mapped[str] = mapped_column(String(300), default="")
    #: the hold this release answers (the order's credit_held_at when it was decided)
    hold_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    decided_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class CustomerMessage(BranchDocument, Base):
    """A customer's EDI order (X12 850 / EDIFACT ORDERS) as received, or what Depot sent back
    (997 / CONTRL, 855 / ORDRSP). ``dedupe_key`` (standard, sender, interchange and transaction
    control) is unique, so the same file imported twice writes nothing the second time."""

    __tablename__ = "customer_message"

    direction: Mapped[str] = mapped_column(String(3))  # 'in' or 'out'
    standard: Mapped[str] = mapped_column(String(8))  # 'x12' or 'edifact'
    msg_type: Mapped[str] = mapped_column(String(8), index=True)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id"), default=None, index=True)
    partner_ref: Mapped[str] = mapped_column(String(40), default="")
    interchange_control: Mapped[str] = mapped_column(String(20), default="")
    control_number: Mapped[str] = mapped_column(String(20), default="")
    dedupe_key: Mapped[str] = mapped_column(String(120), unique=True)
    order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None, index=True)
    customer_po: Mapped[str] = mapped_column(String(40), default="")
    file_name: Mapped[str] = mapped_column(String(255), default="")
    #: 'accepted', 'changed' (some lines differ), 'rejected', 'sent'
    outcome: Mapped[str] = mapped_column(String(10), default="accepted")
    detail: Mapped[str] = mapped_column(Text, default="")
