"""Which workstation of a branch polls the shipments of a carrier account (one at a time).

A standalone file (the demo, a single desk) polls everything; nothing is written. On a
replicating workstation each account has one ``tracking_lease`` row (id derived from the
account, replicated like any branch document):

* **holding** it: the row names this site and this site's last claim of it has reached the
  server (it left the sync outbox and a pull since has not replaced it). Only then does this
  workstation poll, and it renews the row every third of the lease time (a heartbeat that
  replicates). A holder cut off from the server keeps polling: events are idempotent and
  customer notices wait until their event has reached the server (``notices``).
* **silent holder**: every workstation notes, on *its own clock*, when it last saw the row
  change (``tracking_lease_watch``). When it has not changed for ``lease_minutes`` while this
  workstation kept syncing (its last successful sync is after that window), the holder is gone
  and this workstation claims the row. Clocks of two machines are never compared, so skew
  between workstations cannot make anyone take over early or late.
* **two claims at once**: workstation N waits (N - 1) x 2 minutes longer than workstation 1
  before claiming, so they rarely meet; when they do, the later HLC wins at the server and the
  other sees it at its next pull and stops. A claim is polled on only once confirmed.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.carriers import CarrierAccount
from app.models.sync import SyncHistory
from app.models.tracking import TrackingLease, TrackingLeaseWatch, derived_id
from app.services.db import site_id
from app.services.masterdata import branch_code
from app.services.ownership import ownership

#: a workstation whose last successful sync is older than this has no view of its colleagues
FRESH = dt.timedelta(minutes=5)
#: extra wait per workstation number before claiming (workstation 1 first)
STAGGER = dt.timedelta(minutes=2)


@dataclass(frozen=True)
class LeaseState:
    """``state``: standalone / held (this workstation polls) / claimed (waits for the server to
    confirm its claim) / other (``holder`` polls) / offline (no view of the others: no claim)."""

    account_id: uuid.UUID
    state: str
    holder: str = ""
    since: dt.datetime | None = None
    #: this cycle confirmed a lease this workstation did not hold before: adopt the notices left
    newly_held: bool = False

    @property
    def polls(self) -> bool:
        return self.state in ("standalone", "held")

    def sentence(self, account: str) -> str:
        if self.state == "other":
            return f"{account}: polled by {self.holder or 'another workstation'}"
        if self.state == "claimed":
            return f"{account}: taking over (waiting for the server to confirm)"
        if self.state == "offline":
            return f"{account}: not polled here (no recent sync, so another workstation may hold it)"
        return f"{account}: polled here"


def lease_id(account_id: uuid.UUID) -> uuid.UUID:
    return derived_id("tracking-lease", account_id)


def workstation_name(session: Session) -> str:
    n = session.execute(text("SELECT value FROM sync_state WHERE key = 'workstation'")).scalar_one_or_none()
    own = ownership(session)
    from_branch = branch_code(session, own.branch_id, "") if own.branch_id is not None else ""
    return f"{from_branch} workstation {n}".strip() if n else f"{from_branch} workstation {site_id(session)[:8]}".strip()


def _workstation_no(session: Session) -> int:
    n = session.execute(text("SELECT value FROM sync_state WHERE key = 'workstation'")).scalar_one_or_none()
    try:
        return max(int(n or 1), 1)
    except ValueError:
        return 1


def last_good_sync(session: Session) -> dt.datetime | None:
    return session.scalar(select(func.max(SyncHistory.started_at)).where(SyncHistory.ok == 1))


def _pending_leases(session: Session) -> set[str]:
    return set(session.execute(text("SELECT row_id FROM sync_outbox WHERE tbl = 'tracking_lease'")).scalars())


def decide(session: Session, accounts: dict[uuid.UUID, uuid.UUID], now: dt.datetime, lease_minutes: dict[uuid.UUID, int],
           *, renew: bool = True) -> dict[uuid.UUID, LeaseState]:
    """For each account (id -> owning branch), whether this workstation polls it now; claims,
    renews and watches the lease rows on the way (the caller's write transaction)."""
    own = ownership(session)
    if not own.enforced:
        return {a: LeaseState(a, "standalone") for a in accounts}
    me = site_id(session)
    name = workstation_name(session)
    last_sync = last_good_sync(session)
    fresh = last_sync is not None and now - last_sync <= FRESH
    pending = _pending_leases(session)
    stagger = STAGGER * (_workstation_no(session) - 1)
    rows = {r.account_id: r for r in session.scalars(select(TrackingLease).where(
        TrackingLease.account_id.in_(list(accounts))))}
    watches = {w.account_id: w for w in session.scalars(select(TrackingLeaseWatch).where(
        TrackingLeaseWatch.account_id.in_([str(a) for a in accounts])))}
    out: dict[uuid.UUID, LeaseState] = {}
    for account_id, branch_id in accounts.items():
        lease = dt.timedelta(minutes=lease_minutes.get(account_id, 15))
        row = rows.get(account_id)
        watch = watches.get(str(account_id))
        if watch is None:
            watch = TrackingLeaseWatch(account_id=str(account_id), seen_hlc=-1, seen_at=now, adopted=False)
            session.add(watch)
        if row is None:
            if not fresh:
                out[account_id] = LeaseState(account_id, "offline")
                continue
            row = TrackingLease(id=lease_id(account_id), account_id=account_id, owner_branch_id=branch_id)
            session.add(row)
            _claim(row, me, name, now)
            out[account_id] = LeaseState(account_id, "claimed", name, now)
            continue
        if row.holder_site == me and row.deleted_at is None:
            # confirmed once the claim left the outbox (the server has it); a heartbeat waiting in
            # the outbox later does not take that back
            confirmed = bool(watch.adopted) or row.id.hex not in pending
            if renew and confirmed and (row.renewed_at is None or now - row.renewed_at >= lease / 3
                                        or row.renewed_at > now + lease):
                row.renewed_at = now  # the heartbeat others watch (its HLC changes)
            newly = confirmed and not watch.adopted
            if newly:
                watch.adopted = True
            watch.seen_hlc, watch.seen_at = -1, now
            out[account_id] = LeaseState(account_id, "held" if confirmed else "claimed", name, row.claimed_at, newly)
            continue
        watch.adopted = False
        if watch.seen_hlc != row.hlc:
            watch.seen_hlc, watch.seen_at = row.hlc, now
        silent = now - watch.seen_at
        synced_since = last_sync is not None and last_sync >= watch.seen_at + lease
        if fresh and synced_since and silent >= lease + stagger:
            _claim(row, me, name, now)
            out[account_id] = LeaseState(account_id, "claimed", name, now)
        else:
            out[account_id] = LeaseState(account_id, "other" if fresh or row.holder_site else "offline",
                                         row.holder_name, row.renewed_at)
    session.flush()
    return out


def _claim(row: TrackingLease, me: str, name: str, now: dt.datetime) -> None:
    row.holder_site, row.holder_name = me, name[:60]
    row.claimed_at = row.renewed_at = now
    row.deleted_at = None


def holders(session: Session) -> dict[uuid.UUID, tuple[str, dt.datetime | None]]:
    """account id -> (who polls it, their last renewal) as this workstation knows it (for screens)."""
    return {r.account_id: (r.holder_name, r.renewed_at) for r in session.scalars(
        select(TrackingLease).where(TrackingLease.deleted_at.is_(None)))}


def account_for(session: Session, owner_branch_id: uuid.UUID, carrier_id: uuid.UUID,
                account_id: uuid.UUID | None = None) -> uuid.UUID | None:
    """The carrier account a shipment is polled on: the one its label was bought on, else the
    branch's active account of that carrier (cached for the session)."""
    if account_id is not None:
        return account_id
    cache: dict[tuple[uuid.UUID, uuid.UUID], uuid.UUID | None] = session.info.setdefault("tracking_accounts", {})
    key = (owner_branch_id, carrier_id)
    if key not in cache:
        cache[key] = session.scalar(select(CarrierAccount.id).where(
            CarrierAccount.owner_branch_id == owner_branch_id, CarrierAccount.carrier_id == carrier_id,
            CarrierAccount.active.is_(True), CarrierAccount.deleted_at.is_(None)).order_by(CarrierAccount.name).limit(1))
    return cache[key]
