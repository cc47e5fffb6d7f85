"""Branches, warehouses, zones and locations (bins and virtual locations)."""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, MasterData, without_owner_index

#: temperature classes, coldest last; a bin accepts items of its own class only
TEMPERATURE_CLASSES = ("ambient", "chilled", "frozen")
#: location kinds: storage bins hold stock; virtual ones balance the ledger
LOCATION_KINDS = ("storage", "dock", "qa", "pack", "transit", "supplier", "customer", "adjust", "scrap")
#: locations that hold stock in the building; ``pack`` is where picked stock waits to be packed and
#: shipped (one per warehouse, ``pack_location_id``; never a storage bin)
INTERNAL_KINDS = ("storage", "dock", "qa", "pack")

_PACK_NS = uuid.UUID("5d7c2a40-1b8e-4f0a-a2c3-6e9d4b1f7a30")


def pack_location_id(warehouse_id: uuid.UUID) -> uuid.UUID:
    """The one id every site gives to a warehouse's packing location (made by the migration on each
    site, by ``create_warehouse`` and the seed: the same row everywhere)."""
    return uuid.uuid5(_PACK_NS, warehouse_id.hex)


class Branch(MasterData, Base):
    __tablename__ = "branch"
    __branch_editable__ = frozenset({"name", "timezone", "gs1_prefix"})

    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    is_head_office: Mapped[bool] = mapped_column(Boolean, default=False)
    address: Mapped[str] = mapped_column(String(400), default="")
    #: the GS1 company prefix its cartons' SSCCs carry (7-10 digits); '' = GS1's own example prefix,
    #: good for the demo only (``services.dispatch.sscc.prefix_of``)
    gs1_prefix: Mapped[str] = mapped_column(String(10), default="")


class Warehouse(MasterData, Base):
    __tablename__ = "warehouse"
    __branch_editable__ = frozenset({"name", "address"})

    branch_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("branch.id"), index=True)
    code: Mapped[str] = mapped_column(String(16), unique=True)
    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(400), default="")


class Zone(MasterData, Base):
    __tablename__ = "zone"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    name: Mapped[str] = mapped_column(String(120), default="")
    temperature_class: Mapped[str] = mapped_column(String(16), default="ambient")
    #: hazmat class this zone is approved for ('' = none)
    hazmat_class: Mapped[str] = mapped_column(String(8), default="")


@without_owner_index
class Location(MasterData, Base):
    """A bin, dock door, QA cage, or a virtual location that balances the ledger."""

    __tablename__ = "location"
    __table_args__ = (UniqueConstraint("warehouse_id", "code"),)
    __branch_editable__ = frozenset({"walk_seq", "role", "min_qty", "max_qty", "active"})

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))  # indexed by its UNIQUE
    zone_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("zone.id"), default=None)
    code: Mapped[str] = mapped_column(String(32))
    kind: Mapped[str] = mapped_column(String(16), default="storage")
    #: 'pick' (forward pick face), 'reserve', or '' for non-storage
    role: Mapped[str] = mapped_column(String(8), default="")
    capacity_volume_cm3: Mapped[int] = mapped_column(Integer, default=0)
    capacity_weight_g: Mapped[int] = mapped_column(Integer, default=0)
    temperature_class: Mapped[str] = mapped_column(String(16), default="ambient")
    hazmat_class: Mapped[str] = mapped_column(String(8), default="")
    walk_seq: Mapped[int] = mapped_column(Integer, default=0)
    #: forward-pick replenishment: the item assigned to a pick face, and its min/max
    fixed_item_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("item.id"), default=None)
    min_qty: Mapped[int] = mapped_column(Integer, default=0)
    max_qty: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


#: the company row's id: one company per database, the same id on every site
COMPANY_ID = uuid.UUID("0190f0c0-0000-7000-8000-00000000c0de")


class Company(MasterData, Base):
    """The company profile: who the documents come from (the letterhead every document prints).

    One row (``COMPANY_ID``) per database, head-office data. The logo is kept as base64 text
    (PNG or JPEG, at most ``app.services.org.company.LOGO_MAX_BYTES``) so it replicates like any
    other text column.
    """

    __tablename__ = "company"

    name: Mapped[str] = mapped_column(String(120))
    address: Mapped[str] = mapped_column(String(400), default="")
    phone: Mapped[str] = mapped_column(String(40), default="")
    email: Mapped[str] = mapped_column(String(200), default="")
    website: Mapped[str] = mapped_column(String(200), default="")
    tax_id: Mapped[str] = mapped_column(String(40), default="")
    base_currency: Mapped[str] = mapped_column(String(3), default="USD")
    timezone: Mapped[str] = mapped_column(String(64), default="UTC")
    logo_b64: Mapped[str] = mapped_column(Text, default="")
    #: 'image/png' or 'image/jpeg' ('' = no logo)
    logo_mime: Mapped[str] = mapped_column(String(16), default="")
