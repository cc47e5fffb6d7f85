"""Waves and pick lines (Dispatch, issue 14), and what a warehouse dispatches by: each carrier's
cut-off and the pick rate a wave plan is timed against.

* ``Wave``: a branch document grouping whole orders that ship with one carrier before its cut-off.
  Planned waves are proposals (a new plan replaces them); releasing one freezes its orders
  (``picking``) and hands its pick lines to the pickers.
* ``PickLine``: one bin to visit for one order line (and lot), in walking order (``seq``), into a
  tote. A confirmed pick is a stock move bin -> the warehouse's packing location (kind ``pack``).
* ``CarrierCutoff``: the local time a carrier collects from a warehouse (a branch document: the
  branch knows its trucks). ``DispatchSetting``: pick rate, pickers, cart size; one per warehouse,
  id derived from it (two sites converge).
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import BigInteger, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, without_owner_index
from app.models.types import UTCDateTime

#: how a wave's lines are picked: one order at a time, or many orders at once into totes on a cart
PICK_MODES = ("batch", "discrete")
#: why a line was picked short
SHORT_REASONS = ("not_found", "damaged", "wrong_item", "expired", "other")

_SETTING_NS = uuid.UUID("6b0e3c1e-4f5a-4d3c-9a1e-2f1d0c9b8a71")


def dispatch_setting_id_for(warehouse_id: uuid.UUID) -> uuid.UUID:
    """The one id every site gives to a warehouse's dispatch settings."""
    return uuid.uuid5(_SETTING_NS, warehouse_id.hex)


class Wave(BranchDocument, Base):
    __tablename__ = "wave"
    __table_args__ = (Index("ix_wave_warehouse_status", "warehouse_id", "status"),)

    number: Mapped[str] = mapped_column(String(24), unique=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    #: None: orders without a carrier (the warehouse's default carrier is not set)
    carrier_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier.id"), default=None)
    #: the carrier's cut-off on the wave's day (None: no cut-off configured)
    cutoff_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    status: Mapped[str] = mapped_column(String(12), default="planned", index=True)
    #: 1 = first; rush waves and earlier cut-offs come first
    priority: Mapped[int] = mapped_column(Integer, default=0)
    pick_mode: Mapped[str] = mapped_column(String(8), default="batch")
    orders: Mapped[int] = mapped_column(Integer, default=0)
    lines: Mapped[int] = mapped_column(Integer, default=0)
    units: Mapped[int] = mapped_column(BigInteger, default=0)
    #: minutes to pick at the warehouse's pick rate, and when the plan expected it done
    pick_minutes: Mapped[int] = mapped_column(Integer, default=0)
    done_by: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: walking distance (metres) of the planned path and of picking in order-line order
    walk_m: Mapped[int] = mapped_column(Integer, default=0)
    walk_line_order_m: Mapped[int] = mapped_column(Integer, default=0)
    planned_by: Mapped[str] = mapped_column(String(40), default="")
    released_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    released_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)
    picked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: what the plan wants a person to know ("2 lines have no stock in a bin")
    note: Mapped[str] = mapped_column(String(300), default="")


@without_owner_index
class PickLine(BranchDocument, Base):
    __tablename__ = "pick_line"
    __table_args__ = (
        CheckConstraint("qty > 0", name="qty_positive"),
        CheckConstraint("qty_picked >= 0 AND qty_picked <= qty", name="picked_within"),
        Index("ix_pick_line_wave_seq", "wave_id", "seq"),
    )

    wave_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("wave.id"))
    order_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order.id"), index=True)
    order_line_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("sales_order_line.id"), index=True)
    item_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("item.id"))
    lot_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("lot.id"), default=None)
    from_location_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("location.id"))
    #: the tote on the cart (batch picking: one per order); 0 = discrete
    tote: Mapped[int] = mapped_column(Integer, default=0)
    #: walking order within the wave (1 = first stop)
    seq: Mapped[int] = mapped_column(Integer, default=0)
    qty: Mapped[int] = mapped_column(BigInteger)
    qty_picked: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[str] = mapped_column(String(12), default="open")
    short_reason: Mapped[str] = mapped_column(String(200), default="")
    picked_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    picked_by_id: Mapped[uuid.UUID | None] = mapped_column(default=None)


class CarrierCutoff(BranchDocument, Base):
    __tablename__ = "carrier_cutoff"
    __table_args__ = (UniqueConstraint("warehouse_id", "carrier_id"),)

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"))
    #: local time of the warehouse's branch, "HH:MM"
    cutoff: Mapped[str] = mapped_column(String(5))
    #: orders without a carrier of their own ship with the warehouse's default carrier
    is_default: Mapped[bool] = mapped_column(default=False)


class DispatchSetting(BranchDocument, Base):
    __tablename__ = "dispatch_setting"

    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"), unique=True)
    #: pick lines one picker confirms in an hour (walking included), and pickers on shift
    pick_rate: Mapped[int] = mapped_column(Integer, default=60)
    pickers: Mapped[int] = mapped_column(Integer, default=2)
    #: totes on one cart (a batch wave's orders); more orders make another cart
    totes_per_cart: Mapped[int] = mapped_column(Integer, default=12)
    #: a wave grows to at most this many lines (then the next wave of the carrier starts)
    wave_max_lines: Mapped[int] = mapped_column(Integer, default=120)
    #: minutes packing and loading need after the last pick, before the cut-off
    pack_minutes: Mapped[int] = mapped_column(Integer, default=30)
