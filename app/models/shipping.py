"""Outbound shipments (Dispatch creates them; Tracking keeps their carrier-side facts current).

A shipment's status, ETA and proof of delivery follow the newest carrier event
(``app.models.tracking.TrackingEvent``), never the newest poll; the poll bookkeeping
(``next_poll_at``, the last outcome, consecutive failures) lives on the row so a restart, or
another workstation taking over, resumes where polling was.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy import Date, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument
from app.models.types import Money, UTCDateTime

#: ``Shipment.__local_columns__`` (named by migration 0028_poll_schedule too)
POLL_SCHEDULE = frozenset({"polled_at", "next_poll_at", "poll_outcome", "poll_failures", "poll_message"})


class Shipment(BranchDocument, Base):
    __tablename__ = "shipment"
    #: the polling workstation's schedule: a poll that learns nothing new (no event, status, ETA,
    #: proof of delivery, stop) changes only these, which no other site needs (a workstation taking
    #: an account over polls its shipments at once): no new version, nothing to send (0028)
    __local_columns__ = POLL_SCHEDULE

    number: Mapped[str] = mapped_column(String(24), unique=True)
    sales_order_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("sales_order.id"), default=None, index=True)
    warehouse_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("warehouse.id"))
    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"))
    service_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier_service.id"), default=None)
    tracking_number: Mapped[str] = mapped_column(String(40), default="", index=True)
    status: Mapped[str] = mapped_column(String(24), default="label_created", index=True)
    shipped_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: end of the carrier's delivery window when it states one (else as Dispatch estimated it)
    eta: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    delivered_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    next_poll_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None, index=True)
    # --- tracking (issue 15) --------------------------------------------------------------------
    #: the branch's carrier account the label was bought on (None: the branch's account of the carrier)
    account_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("carrier_account.id"), default=None)
    #: the delivery date promised to the customer; an ETA after it is late
    promised_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: the carrier's expected delivery date (its own calendar date), from the newest event's answer
    eta_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    #: the carrier's own code and words for the newest event
    raw_status: Mapped[str] = mapped_column(String(40), default="")
    status_text: Mapped[str] = mapped_column(String(300), default="")
    #: carrier time of the newest event (what status, ETA and POD follow)
    last_event_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: our clock when a new event last arrived (stale tracking counts from here)
    moved_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    polled_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: outcome of the last poll (carriers.model.Outcome) and consecutive failed polls
    poll_outcome: Mapped[str] = mapped_column(String(16), default="")
    poll_failures: Mapped[int] = mapped_column(Integer, default=0)
    poll_message: Mapped[str] = mapped_column(String(300), default="")
    #: why polling stopped ('' = it has not): delivered, returned, cancelled, stale, invalid
    stopped: Mapped[str] = mapped_column(String(16), default="")
    pod_signed_by: Mapped[str] = mapped_column(String(80), default="")
    pod_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: a carrier's reference to the signature image (never the image)
    pod_image: Mapped[str] = mapped_column(String(300), default="")
    #: something a person should know that the status cannot say ("exception after delivery: ...")
    flag: Mapped[str] = mapped_column(String(200), default="")
    # --- dispatch (issue 14): packing, rating, labels, confirmation -----------------------------
    #: the carrier service chosen (the carrier's code) and why it was not the suggested one
    service_code: Mapped[str] = mapped_column(String(20), default="")
    override_reason: Mapped[str] = mapped_column(String(200), default="")
    #: freight as quoted when the service was chosen, and as the carrier charged on the label
    freight_quoted: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    freight_billed: Mapped[Decimal | None] = mapped_column(Money(), default=None)
    freight_currency: Mapped[str] = mapped_column(String(3), default="USD")
    #: the quotes shown when it was rated (JSON list), so the choice can be explained later
    quotes: Mapped[str] = mapped_column(Text, default="")
    #: the active label (bought, maybe not confirmed yet: tracking_number stays '' until confirmed)
    label_id: Mapped[uuid.UUID | None] = mapped_column(default=None)  # shipment_label.id (no FK: it points back)
    label_number: Mapped[str] = mapped_column(String(40), default="")
    manifest_id: Mapped[uuid.UUID | None] = mapped_column(ForeignKey("manifest.id"), default=None)
