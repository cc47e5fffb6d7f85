"""What every carrier adapter returns: typed outcomes and normalised tracking, quotes and labels.

Callers (Dispatch, the tracking poller, the Settings test) decide what to do from ``Outcome``;
nothing here raises for a carrier's answer. Times are aware UTC; an ETA is the carrier's own
calendar date (the day the parcel is promised at its destination), kept as given.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from enum import StrEnum
from typing import Any


class Outcome(StrEnum):
    OK = "ok"
    NOT_FOUND = "not_found"          # the carrier does not know it (yet): ask again later
    AUTH_FAILED = "auth_failed"      # credentials refused: fix the account, retrying will not help
    RATE_LIMITED = "rate_limited"    # slow down; retry_after says for how long when the carrier did
    TRANSIENT = "transient"          # timeout, reset, 5xx, maintenance page: retry with back-off
    PERMANENT = "permanent"          # the request itself is wrong (invalid number, bad address)
    MALFORMED = "malformed"          # the answer could not be read (garbage, truncated, HTML at 200)


#: retrying later may succeed
RETRYABLE = frozenset({Outcome.NOT_FOUND, Outcome.RATE_LIMITED, Outcome.TRANSIENT, Outcome.MALFORMED})

STATUSES = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delivered", "delayed",
            "exception", "returned", "cancelled", "unknown",
            # DESIGN.md: kept where a carrier reports them
            "delivery_attempted", "available_for_pickup")
#: a shipment in one of these has finished moving
FINAL_STATUSES = frozenset({"delivered", "returned", "cancelled"})


def iso(t: dt.datetime | None) -> str | None:
    return t.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ") if t is not None else None


@dataclass(slots=True)  # not frozen: a frozen __init__ costs ~2x, and parsers build thousands a second
class TrackEvent:
    at: dt.datetime | None
    status: str
    raw_code: str
    description: str
    location: str = ""

    def to_dict(self) -> dict[str, Any]:
        return {"at": iso(self.at), "status": self.status, "raw_code": self.raw_code,
                "description": self.description, "location": self.location}


@dataclass(slots=True)
class ProofOfDelivery:
    signed_by: str | None = None
    at: dt.datetime | None = None
    image: str | None = None  # a URL or a reference; never the base64 image itself

    def to_dict(self) -> dict[str, Any]:
        return {"signed_by": self.signed_by, "at": iso(self.at), "image": self.image}


@dataclass(slots=True)
class TrackResult:
    """One tracking number as the carrier reported it."""

    tracking_number: str | None
    outcome: Outcome = Outcome.OK
    status: str = "unknown"
    raw_status: str = ""
    raw_text: str = ""
    eta_date: dt.date | None = None
    eta_window: tuple[dt.datetime | None, dt.datetime | None] | None = None
    events: list[TrackEvent] = field(default_factory=list)
    pod: ProofOfDelivery | None = None
    message: str = ""

    def to_dict(self) -> dict[str, Any]:
        pod = self.pod or ProofOfDelivery()
        return {
            "tracking_number": self.tracking_number,
            "outcome": str(self.outcome),
            "status": self.status,
            "raw_status": self.raw_status,
            "raw_text": self.raw_text,
            "eta_date": self.eta_date.isoformat() if self.eta_date else None,
            "eta_window": [iso(self.eta_window[0]), iso(self.eta_window[1])] if self.eta_window else None,
            "events": [e.to_dict() for e in self.events],
            "pod": pod.to_dict(),
            "message": self.message,
        }


@dataclass
class Reply:
    """The answer to one request: an outcome for the whole call and what it carried."""

    outcome: Outcome
    message: str = ""
    retry_after: float | None = None
    http_status: int | None = None

    @property
    def ok(self) -> bool:
        return self.outcome is Outcome.OK


@dataclass
class TrackReply(Reply):
    shipments: list[TrackResult] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {"outcome": str(self.outcome), "retry_after": self.retry_after, "message": self.message,
                "shipments": [s.to_dict() for s in self.shipments]}


@dataclass(frozen=True)
class Quote:
    service_code: str
    service_name: str
    amount: Decimal
    currency: str = "USD"
    transit_days: int | None = None
    eta_date: dt.date | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"service_code": self.service_code, "service_name": self.service_name, "amount": str(self.amount),
                "currency": self.currency, "transit_days": self.transit_days,
                "eta_date": self.eta_date.isoformat() if self.eta_date else None}


@dataclass
class RateReply(Reply):
    quotes: list[Quote] = field(default_factory=list)


@dataclass(frozen=True)
class Label:
    """A label as the carrier issued it: the document bytes are kept as they came (PDF or ZPL)."""

    tracking_number: str
    service_code: str
    format: str  # "pdf" | "zpl"
    data: bytes
    amount: Decimal | None = None
    currency: str = "USD"
    carrier_ref: str = ""  # the carrier's shipment id (what void needs when it is not the number)


@dataclass
class LabelReply(Reply):
    label: Label | None = None


@dataclass(frozen=True)
class Address:
    name: str = ""
    street: str = ""
    city: str = ""
    state: str = ""
    postal_code: str = ""
    country: str = "US"


@dataclass(frozen=True)
class Parcel:
    weight_grams: int
    length_mm: int = 300
    width_mm: int = 200
    height_mm: int = 150


@dataclass(frozen=True)
class ShipmentRequest:
    """What rating and labels need to know about a shipment (plain data, not the ORM row)."""

    reference: str
    ship_from: Address
    ship_to: Address
    parcels: tuple[Parcel, ...]
    ship_date: dt.date | None = None

    @property
    def weight_grams(self) -> int:
        return sum(p.weight_grams for p in self.parcels)
