"""Suppliers, customers, item-supplier terms, carriers and their service levels."""

from __future__ import annotations

import uuid
from decimal import Decimal

from sqlalchemy import Boolean, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, MasterData, without_owner_index
from app.models.types import Fixed4, Money

PRIORITY_TIERS = ("platinum", "gold", "silver", "bronze")
SERVICE_LEVELS = ("next_day", "two_day", "standard", "economy")


class Supplier(MasterData, Base):
    __tablename__ = "supplier"
    __branch_editable__ = frozenset({"contact_email"})

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    address: Mapped[str] = mapped_column(String(400), default="")
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payment_terms: Mapped[str] = mapped_column(String(20), default="NET30")
    #: X12 ISA qualifier + id, EDIFACT UNB id ('' = no EDI, PDF/e-mail only)
    edi_qualifier: Mapped[str] = mapped_column(String(2), default="")
    edi_id: Mapped[str] = mapped_column(String(35), default="")
    edi_format: Mapped[str] = mapped_column(String(8), default="")  # '', 'x12', 'edifact'
    #: one PO may carry lines for several branches' ship-to addresses
    allows_consolidation: Mapped[bool] = mapped_column(Boolean, default=False)
    over_receipt_pct: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal("0"))
    under_receipt_pct: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal("100"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class Customer(MasterData, Base):
    __tablename__ = "customer"
    __branch_editable__ = frozenset({"contact_email", "ship_to", "notify_email", "notify_events"})

    code: Mapped[str] = mapped_column(String(20), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    contact_email: Mapped[str] = mapped_column(String(200), default="")
    ship_to: Mapped[str] = mapped_column(String(400), default="")
    #: shipment notices (Tracking): where they go ('' = contact_email) and which the customer gets
    #: (comma-separated of app.models.tracking.NOTICE_KINDS; 'none': opted out of all)
    notify_email: Mapped[str] = mapped_column(String(200), default="")
    notify_events: Mapped[str] = mapped_column(String(60), default="shipped,eta,delivered,exception")
    priority_tier: Mapped[str] = mapped_column(String(10), default="silver")
    credit_limit: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    payment_terms: Mapped[str] = mapped_column(String(20), default="NET30")
    service_level: Mapped[str] = mapped_column(String(12), default="standard")
    home_branch_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("branch.id"), default=None)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: price lists may be for a group of customers ('' = none)
    price_group: Mapped[str] = mapped_column(String(20), default="")
    #: the customer takes an order only complete (allocation gives all lines or none)
    ship_complete: Mapped[bool] = mapped_column(Boolean, default=False)
    #: credit control: a stop on every new order, with the reason shown on the hold
    credit_hold: Mapped[bool] = mapped_column(Boolean, default=False)
    credit_note: Mapped[str] = mapped_column(String(200), default="")
    #: hold orders when an open invoice is more than this many days past due (None = no rule)
    overdue_days: Mapped[int | None] = mapped_column(Integer, default=None)
    #: customer EDI (850 / ORDERS in, 855 / ORDRSP out): ISA qualifier + id or UNB id, and format
    edi_qualifier: Mapped[str] = mapped_column(String(2), default="")
    edi_id: Mapped[str] = mapped_column(String(35), default="", index=True)
    edi_format: Mapped[str] = mapped_column(String(8), default="")  # '', 'x12', 'edifact'


@without_owner_index
class ItemSupplier(MasterData, Base):
    __tablename__ = "item_supplier"
    __table_args__ = (UniqueConstraint("item_id", "supplier_id"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))  # indexed by its UNIQUE
    supplier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("supplier.id"), index=True)
    supplier_part: Mapped[str] = mapped_column(String(40), default="")
    lead_time_days: Mapped[int] = mapped_column(Integer, default=7)
    #: standard deviation of the lead time, in days (for safety stock)
    lead_time_sd_days: Mapped[Decimal] = mapped_column(Fixed4(), default=Decimal("1"))
    pack_size: Mapped[int] = mapped_column(Integer, default=1)
    min_order_qty: Mapped[int] = mapped_column(Integer, default=1)
    contract_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    last_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    contracted: Mapped[bool] = mapped_column(Boolean, default=False)
    preferred: Mapped[bool] = mapped_column(Boolean, default=False)


class Carrier(MasterData, Base):
    __tablename__ = "carrier"

    code: Mapped[str] = mapped_column(String(12), unique=True)
    name: Mapped[str] = mapped_column(String(80))
    #: which adapter speaks to it: 'ups', 'fedex', 'dhl', 'usps', 'sandbox'
    api: Mapped[str] = mapped_column(String(12), default="sandbox")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: heaviest parcel it takes (grams); 0 = the carrier's published limit (dispatch.rating)
    max_parcel_g: Mapped[int] = mapped_column(Integer, default=0)


class CarrierService(MasterData, Base):
    __tablename__ = "carrier_service"
    __table_args__ = (UniqueConstraint("carrier_id", "code"),)

    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"), index=True)
    code: Mapped[str] = mapped_column(String(20))
    name: Mapped[str] = mapped_column(String(80))
    service_level: Mapped[str] = mapped_column(String(12), default="standard")
    transit_days: Mapped[int] = mapped_column(Integer, default=3)
