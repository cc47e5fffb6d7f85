"""Items, their pack units and barcodes, and lots."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, LedgerRow, MasterData, without_owner_index
from app.models.types import Money

VELOCITY_CLASSES = ("A", "B", "C")


@without_owner_index
class Item(MasterData, Base):
    __tablename__ = "item"
    __branch_editable__ = frozenset({"velocity_class"})

    sku: Mapped[str] = mapped_column(String(40), unique=True)
    description: Mapped[str] = mapped_column(String(200))
    #: the unit every quantity is counted in (EA, KG, M ...)
    base_uom: Mapped[str] = mapped_column(String(8), default="EA")
    #: GTIN of one base unit; pack-unit GTINs live in item_uom
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True, default=None)
    length_mm: Mapped[int] = mapped_column(Integer, default=0)
    width_mm: Mapped[int] = mapped_column(Integer, default=0)
    height_mm: Mapped[int] = mapped_column(Integer, default=0)
    weight_g: Mapped[int] = mapped_column(Integer, default=0)
    velocity_class: Mapped[str] = mapped_column(String(1), default="C")
    track_lot: Mapped[bool] = mapped_column(Boolean, default=False)
    track_serial: Mapped[bool] = mapped_column(Boolean, default=False)
    track_expiry: Mapped[bool] = mapped_column(Boolean, default=False)
    needs_inspection: Mapped[bool] = mapped_column(Boolean, default=False)
    hazmat_class: Mapped[str] = mapped_column(String(8), default="")
    temperature_class: Mapped[str] = mapped_column(String(16), default="ambient")
    category: Mapped[str] = mapped_column(String(40), default="")
    standard_cost: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    list_price: Mapped[Decimal] = mapped_column(Money(), default=Decimal(0))
    currency: Mapped[str] = mapped_column(String(3), default="USD")
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    @property
    def volume_cm3(self) -> int:
        return (self.length_mm * self.width_mm * self.height_mm) // 1000


@without_owner_index
class ItemUom(MasterData, Base):
    """A pack unit of an item (case of 12, pallet of 480) with its own GTIN."""

    __tablename__ = "item_uom"
    __table_args__ = (UniqueConstraint("item_id", "uom"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))  # indexed by its UNIQUE
    uom: Mapped[str] = mapped_column(String(8))
    factor: Mapped[int] = mapped_column(Integer)  # base units per pack
    gtin: Mapped[str | None] = mapped_column(String(14), unique=True, default=None)


@without_owner_index
class Lot(LedgerRow, Base):
    """A lot of an item. Immutable once born; its id is derived from (item, lot code) by
    ``lot_id_for`` so two branches that receive the same supplier lot make the same row
    (the ledger's ON CONFLICT DO NOTHING then merges them). Holds are stock in a QA location.
    """

    __tablename__ = "lot"
    __derived_ids__ = True
    __table_args__ = (UniqueConstraint("item_id", "lot_code"),)

    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))  # indexed by its UNIQUE
    lot_code: Mapped[str] = mapped_column(String(40))
    expiry_date: Mapped[dt.date | None] = mapped_column(Date, default=None)


_LOT_NS = uuid.UUID("6f1d3c2a-7d0e-4b55-9a51-0d3e0c1f7a10")


def lot_id_for(item_id: uuid.UUID, lot_code: str) -> uuid.UUID:
    """The one id every site gives to lot ``lot_code`` of ``item_id``."""
    return uuid.uuid5(_LOT_NS, f"{item_id.hex}:{lot_code.strip().upper()}")
