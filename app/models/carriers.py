"""Carrier accounts (per branch) and their pacing state (per workstation).

Carriers and their services are head-office master data (``parties.Carrier``); the account a
branch ships on is that branch's document, replicated so every workstation of the branch uses
the same account. The client secret is never here: it is in the OS keyring of each workstation.
"""

from __future__ import annotations

import uuid

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LocalOnly


class CarrierAccount(BranchDocument, Base):
    __tablename__ = "carrier_account"

    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"), index=True)
    name: Mapped[str] = mapped_column(String(60), default="")
    account_number: Mapped[str] = mapped_column(String(40), default="")
    client_id: Mapped[str] = mapped_column(String(120), default="")
    #: "production", "test" (the carrier's own test host), "sandbox" (the built-in one) or a URL
    endpoint: Mapped[str] = mapped_column(String(200), default="production")
    #: service codes this branch may ship with, comma-separated; empty = every service of the carrier
    services: Mapped[str] = mapped_column(Text, default="")
    requests_per_minute: Mapped[int] = mapped_column(Integer, default=60)
    #: requests a UTC day; 0 = no daily quota
    daily_quota: Mapped[int] = mapped_column(Integer, default=0)
    #: carrier-specific extras as JSON (USPS: crid, mid)
    options: Mapped[str] = mapped_column(Text, default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)


class CarrierLimitState(LocalOnly, Base):
    """The rate limiter's bucket, today's count and a carrier's back-off, kept across restarts."""

    __tablename__ = "carrier_limit_state"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tokens: Mapped[float] = mapped_column(Float, default=0.0)
    updated: Mapped[float] = mapped_column(Float, default=0.0)
    day: Mapped[str] = mapped_column(String(10), default="")
    used_today: Mapped[int] = mapped_column(Integer, default=0)
    blocked_until: Mapped[float] = mapped_column(Float, default=0.0)
