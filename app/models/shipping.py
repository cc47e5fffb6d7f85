"""Outbound shipments (the Dispatch and Tracking issues extend these)."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import UTCDateTime


class Shipment(BranchDocument, Base):
    __tablename__ = "shipment"

    number: Mapped[str] = mapped_column(String(24), unique=True)
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None, index=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier_service.id"), default=None)
    tracking_number: Mapped[str] = mapped_column(String(40), default="", index=True)
    status: Mapped[str] = mapped_column(String(24), default="label_created", index=True)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    eta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
