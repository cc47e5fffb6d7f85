"""Sales orders and their lines (allocation and shipping fill the quantities later)."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, CheckConstraint, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import Money


class SalesOrder(BranchDocument, Base):
    __tablename__ = "sales_order"

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


class SalesOrderLine(BranchDocument, Base):
    __tablename__ = "sales_order_line"
    __table_args__ = (
        UniqueConstraint("order_id", "line_no"),
        CheckConstraint("qty_ordered > 0", name="qty_positive"),
    )

    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    line_no: Mapped[int] = mapped_column(Integer)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    qty_ordered: Mapped[int] = mapped_column(BigInteger)
    qty_allocated: Mapped[int] = mapped_column(BigInteger, default=0)
    qty_shipped: Mapped[int] = mapped_column(BigInteger, default=0)
    unit_price: Mapped[Decimal] = mapped_column(Money())
    status: Mapped[str] = mapped_column(String(16), default="open")
