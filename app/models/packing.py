"""Packing and shipping documents (issue 14, items 4-6): carton sizes, the cartons a shipment is
packed in and what went into each, the lines a confirmed shipment carried, the labels bought for
it, and the end-of-day manifest per carrier.

* ``CartonType`` is head-office master data (the boxes a warehouse stocks): cartonization picks
  from them by volume and weight.
* ``Carton`` / ``CartonLine`` are branch documents of the shipping branch: a carton is open while
  it is packed (lines come and go with scans) and closed once weighed and checked.
* ``ShipmentLine`` is written once, at ship confirmation (one row per order line and lot), and
  never edited: Billing invoices from it.
* ``ShipmentLabel`` keeps every label bought (the carrier's document as it came), voided ones too.
* ``Manifest``: a carrier's shipments of one warehouse and day, closed at the end of the day.
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
    Integer,
    LargeBinary,
    String,
    Text,
)
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, MasterData
from app.models.types import Money, UTCDateTime


class CartonType(MasterData, Base):
    __tablename__ = "carton_type"
    __branch_editable__ = frozenset({"active"})

    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(80), default="")
    #: inside dimensions, millimetres
    length_mm: Mapped[int] = mapped_column(Integer)
    width_mm: Mapped[int] = mapped_column(Integer)
    height_mm: Mapped[int] = mapped_column(Integer)
    #: the most the box may weigh packed (grams), and the empty box
    max_weight_g: Mapped[int] = mapped_column(Integer)
    tare_g: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Carton(BranchDocument, Base):
    __tablename__ = "carton"
    __table_args__ = (CheckConstraint("weight_g >= 0", name="weight_not_negative"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment.id"), index=True)
    #: 1, 2, ... within the shipment ("carton 2 of 3")
    seq: Mapped[int] = mapped_column(Integer, default=1)
    #: GS1 Serial Shipping Container Code: 18 digits, check digit last
    sscc: Mapped[str] = mapped_column(String(18), unique=True)
    carton_type_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carton_type.id"), default=None)
    #: gross weight as weighed (typed or from the scale), 0 until weighed
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open", index=True)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class CartonLine(BranchDocument, Base):
    __tablename__ = "carton_line"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    carton_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carton.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    serial_no: Mapped[str] = mapped_column(String(60), default="")
    #: base units
    qty: Mapped[int] = mapped_column(BigInteger)


class ShipmentLine(BranchDocument, Base):
    """What a confirmed shipment carried of one order line (and lot): Billing's invoice source."""

    __tablename__ = "shipment_line"
    __table_args__ = (CheckConstraint("qty > 0", name="qty_positive"),)

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment.id"), index=True)
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    #: base units
    qty: Mapped[int] = mapped_column(BigInteger)
    #: the order line's price per base unit when it shipped
    unit_price: Mapped[Decimal] = mapped_column(Money())
    #: serial numbers that went, comma-separated ('' for untracked items)
    serials: Mapped[str] = mapped_column(Text, default="")


class ShipmentLabel(BranchDocument, Base):
    """A label bought from a carrier for a shipment (all its cartons), kept as the carrier sent it."""

    __tablename__ = "shipment_label"

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment.id"), index=True)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier_account.id"), default=None)
    tracking_number: Mapped[str] = mapped_column(String(40), index=True)
    service_code: Mapped[str] = mapped_column(String(20), default="")
    #: 'pdf' or 'zpl'
    format: Mapped[str] = mapped_column(String(4), default="pdf")
    data: Mapped[bytes] = mapped_column(LargeBinary)
    amount: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: the carrier's shipment id (what a void needs when it is not the number)
    carrier_ref: Mapped[str] = mapped_column(String(60), default="")
    #: 'active' or 'voided'
    status: Mapped[str] = mapped_column(String(8), default="active")
    voided_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    void_reason: Mapped[str] = mapped_column(String(200), default="")


class Manifest(BranchDocument, Base):
    """One carrier's confirmed shipments of a warehouse for a day (the end-of-day hand-over)."""

    __tablename__ = "manifest"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"))
    ship_date: Mapped[dt.date] = mapped_column(Date, index=True)
    #: 'open' then 'closed'
    status: Mapped[str] = mapped_column(String(8), default="open")
    closed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    shipments: Mapped[int] = mapped_column(Integer, default=0)
    cartons: Mapped[int] = mapped_column(Integer, default=0)
    weight_g: Mapped[int] = mapped_column(BigInteger, default=0)
    #: what the carrier's close answered ('' where its API has no close)
    close_ref: Mapped[str] = mapped_column(String(120), default="")
