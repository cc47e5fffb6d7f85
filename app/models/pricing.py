"""Customer price lists: per customer or customer group, with quantity breaks and validity dates.

Head-office master data. A line's price is the best matching break (largest ``min_qty`` not above
the ordered quantity) of the most specific list valid on the order date: the customer's own list,
else its group's, else the item's list price (``app.services.sales.pricing``).
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import BigInteger, Boolean, CheckConstraint, Date, ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, MasterData, without_owner_index
from app.models.types import Money


class PriceList(MasterData, Base):
    __tablename__ = "price_list"

    code: Mapped[str] = mapped_column(String(24), unique=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    #: exactly one of the two: a customer's own list, or a customer group's ('' = none)
    customer_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("customer.id"), default=None, index=True)
    customer_group: Mapped[str] = mapped_column(String(20), default="", index=True)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    valid_from: Mapped[dt.date | None] = mapped_column(Date, default=None)
    valid_to: Mapped[dt.date | None] = mapped_column(Date, default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


@without_owner_index
class PriceListLine(MasterData, Base):
    """One price break: from ``min_qty`` base units on, ``unit_price`` per base unit."""

    __tablename__ = "price_list_line"
    __table_args__ = (
        UniqueConstraint("price_list_id", "item_id", "min_qty"),
        CheckConstraint("min_qty >= 1", name="min_qty_positive"),
        CheckConstraint("unit_price >= 0", name="price_not_negative"),
    )

    price_list_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("price_list.id"))  # indexed by its UNIQUE
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"), index=True)
    min_qty: Mapped[int] = mapped_column(BigInteger, default=1)
    unit_price: Mapped[Decimal] = mapped_column(Money())
