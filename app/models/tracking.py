"""Carrier tracking: the event ledger, the branch's tracking policy, polling leases, cycle log.

``TrackingEvent`` is insert-only, and its id is derived from (carrier, tracking number, raw code,
time) so the same event read twice, or by two workstations, is one row (``event_id_for``).
``TrackingLease`` says which workstation of a branch polls an account's shipments; the
``TrackingLeaseWatch`` (local) remembers, on this workstation's own clock, when it last saw the
lease move, so a silent holder is recognised without comparing two machines' clocks.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Iterable

from sqlalchemy import BigInteger, Boolean, Date, Float, ForeignKey, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, BranchDocument, LedgerRow, LocalOnly
from app.models.types import UTCDateTime

_EVENT_NS = uuid.UUID("3d7d1c52-4f0e-4a8e-9a51-6b2f0c9e7a15")
_KEY_NS = uuid.UUID("9b4f6a1e-0c2d-4e3b-8f5a-7d6c1b2a3e49")

#: customer notices Tracking sends (one template each)
NOTICE_KINDS = ("shipped", "eta", "delivered", "exception")


#: uuid5's version and variant bits (``_uuid5``)
_V5_CLEAR = ~((0xF000 << 64) | (0xC000 << 48))
_V5_SET = (5 << 76) | (0x8000 << 48)


def _uuid5(namespace: bytes, name: str) -> uuid.UUID:
    """``uuid.uuid5`` (the same ids), without ``UUID.__init__``'s argument checks: ingest derives
    one id per carrier event, 100,000 in a big poll, and the checks cost as much as the hash."""
    h = int.from_bytes(hashlib.sha1(namespace + name.encode(), usedforsecurity=False).digest()[:16])
    out = object.__new__(uuid.UUID)
    object.__setattr__(out, "int", (h & _V5_CLEAR) | _V5_SET)
    object.__setattr__(out, "is_safe", uuid.SafeUUID.unknown)
    return out


_EVENT_NS_BYTES = _EVENT_NS.bytes


def event_id_for(carrier_code: str, tracking_number: str, raw_code: str, at: dt.datetime | None) -> uuid.UUID:
    """The one id every workstation gives to this carrier event."""
    # isoformat of the UTC time without fractions: the same text strftime("%Y-%m-%dT%H:%M:%S") gave
    # (ids must never change), at a third of its cost (ingest derives one per event)
    if at is None:
        stamp = ""
    else:
        if at.tzinfo is not dt.UTC:
            at = at.astimezone(dt.UTC)
        stamp = at.replace(tzinfo=None, microsecond=0).isoformat()
    return _uuid5(_EVENT_NS_BYTES, f"{carrier_code.upper()}|{tracking_number.strip().upper()}|{raw_code}|{stamp}")


def event_hex_for(carrier_code: str, tracking_number: str, raw_code: str, stamp: str) -> str:
    """``event_id_for(...).hex`` (its 32 hex characters; SQLite stores the 16 bytes) from the time's UTC text to the second
    ('YYYY-MM-DDTHH:MM:SS', '' for no time: the first 19 characters of its stored text). Ingest
    derives one per event and keeps ids as text: no UUID object, no second conversion of the time."""
    return event_hexes_for(carrier_code, tracking_number, ((raw_code, stamp),))[0]


def event_hexes_for(carrier_code: str, tracking_number: str, codes: Iterable[tuple[str, str]]) -> list[str]:
    """``event_hex_for`` of one parcel's events, (raw code, time text) each: the hash of the part
    they share (namespace, carrier, number) taken once and copied (half the cost an id)."""
    base = hashlib.sha1(_EVENT_NS_BYTES + f"{carrier_code.upper()}|{tracking_number.strip().upper()}|".encode(),
                        usedforsecurity=False)
    out = []
    for raw_code, stamp in codes:
        h = base.copy()
        h.update(f"{raw_code}|{stamp}".encode())
        d = bytearray(h.digest()[:16])
        d[6] = d[6] & 0x0F | 0x50  # version 5
        d[8] = d[8] & 0x3F | 0x80  # RFC 4122 variant
        out.append(d.hex())
    return out


def derived_id(*parts: object) -> uuid.UUID:
    """A deterministic id for a row that two workstations may create for the same reason."""
    return uuid.uuid5(_KEY_NS, "|".join(p.hex if isinstance(p, uuid.UUID) else str(p) for p in parts))


class TrackingEvent(LedgerRow, Base):
    __tablename__ = "tracking_event"
    __table_args__ = (Index("ix_tracking_event_shipment_at", "shipment_id", "at"),)
    __derived_ids__ = True

    shipment_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("shipment.id"))
    carrier_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier.id"))
    tracking_number: Mapped[str] = mapped_column(String(40))
    #: the carrier's time of the event (UTC); None when the carrier gave none
    at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: normalised (carriers.model.STATUSES; not a document status: an event has no workflow) and
    #: the carrier's own code and words
    event_status: Mapped[str] = mapped_column(String(24))
    raw_code: Mapped[str] = mapped_column(String(40), default="")
    description: Mapped[str] = mapped_column(String(300), default="")
    location: Mapped[str] = mapped_column(String(120), default="")
    #: what the carrier's answer said about the whole shipment, kept on its newest event so the
    #: shipment's ETA and POD can always be derived from the ledger
    eta_date: Mapped[dt.date | None] = mapped_column(Date, default=None)
    eta_end: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    pod_signed_by: Mapped[str] = mapped_column(String(80), default="")
    pod_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    pod_image: Mapped[str] = mapped_column(String(300), default="")
    #: our clock when the first workstation stored it
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: 'poll', 'webhook', 'eta' (a revised ETA without a scan)
    source: Mapped[str] = mapped_column(String(8), default="poll")
    #: the customer notice this event calls for ('' = none; else one of NOTICE_KINDS)
    notice: Mapped[str] = mapped_column(String(12), default="")


class TrackingPolicy(BranchDocument, Base):
    """How a branch responds to carrier events, and how often it asks (Settings > Tracking).
    One row per branch (id ``derived_id('policy', branch_id)``); no row = the defaults."""

    __tablename__ = "tracking_policy"

    order_shipped_on_pickup: Mapped[bool] = mapped_column(Boolean, default=True)
    late_eta_exception: Mapped[bool] = mapped_column(Boolean, default=True)
    trouble_cases: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_shipped: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_eta: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_delivered: Mapped[bool] = mapped_column(Boolean, default=True)
    notice_exception: Mapped[bool] = mapped_column(Boolean, default=True)
    #: no new event for this many days: a stale-tracking exception, and polling stops
    stale_days: Mapped[int] = mapped_column(Integer, default=5)
    #: minutes between polls: a new label, moving, out for delivery, trouble, not known yet
    label_minutes: Mapped[int] = mapped_column(Integer, default=360)
    transit_minutes: Mapped[int] = mapped_column(Integer, default=60)
    out_minutes: Mapped[int] = mapped_column(Integer, default=15)
    trouble_minutes: Mapped[int] = mapped_column(Integer, default=10)
    unknown_minutes: Mapped[int] = mapped_column(Integer, default=120)
    #: another workstation takes over an account's polling after this many silent minutes
    lease_minutes: Mapped[int] = mapped_column(Integer, default=15)
    #: JSON {kind: {"subject": ..., "body": ...}} overriding the built-in notice templates
    templates: Mapped[str] = mapped_column(Text, default="")
    updated_by: Mapped[str] = mapped_column(String(40), default="")


class TrackingLease(BranchDocument, Base):
    """Which workstation (site) polls the shipments of one carrier account of the branch.
    Written only by the workstation that claims or renews it; HLC decides a simultaneous claim."""

    __tablename__ = "tracking_lease"

    account_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("carrier_account.id"), unique=True)
    holder_site: Mapped[str] = mapped_column(String(36), default="")
    holder_name: Mapped[str] = mapped_column(String(60), default="")
    claimed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)
    #: the holder's clock at its last renewal (shown to people; never compared across machines)
    renewed_at: Mapped[dt.datetime | None] = mapped_column(UTCDateTime(), default=None)


class TrackingLeaseWatch(LocalOnly, Base):
    """When this workstation last saw a lease row change (its own clock), per account."""

    __tablename__ = "tracking_lease_watch"

    account_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    seen_hlc: Mapped[int] = mapped_column(BigInteger, default=0)
    seen_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    #: this workstation holds the lease and has taken over the notices its predecessor left
    adopted: Mapped[bool] = mapped_column(Boolean, default=False)


class TrackingNoticeDue(LocalOnly, Base):
    """Customer notices this workstation still has to queue (one per event that calls for one):
    queued once the event has reached the server and this workstation holds the account's lease,
    so two workstations never both mail a customer for one event."""

    __tablename__ = "tracking_notice_due"

    event_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(12))
    shipment_id: Mapped[str] = mapped_column(String(36), index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())


class TrackingCycle(LocalOnly, Base):
    """One poll cycle of this workstation: what it asked, what came back, how long it took."""

    __tablename__ = "tracking_cycle"
    __table_args__ = {"sqlite_autoincrement": True}

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    started_at: Mapped[dt.datetime] = mapped_column(UTCDateTime())
    wall_s: Mapped[float] = mapped_column(Float, default=0.0)
    cpu_s: Mapped[float] = mapped_column(Float, default=0.0)
    shipments: Mapped[int] = mapped_column(Integer, default=0)
    requests: Mapped[int] = mapped_column(Integer, default=0)
    new_events: Mapped[int] = mapped_column(Integer, default=0)
    changed: Mapped[int] = mapped_column(Integer, default=0)
    notices: Mapped[int] = mapped_column(Integer, default=0)
    #: JSON {outcome: count}
    outcomes: Mapped[str] = mapped_column(Text, default="{}")
    #: one line per account that could not be polled (and why)
    problems: Mapped[str] = mapped_column(Text, default="")
