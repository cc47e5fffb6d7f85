"""One carrier answer into the event ledger and the shipment's derived state.

Events are stored once: their id is derived from (carrier, tracking number, raw code, time), so an
answer read twice, events out of order, or the same parcel polled by two workstations add nothing
twice. The shipment's status, ETA and proof of delivery follow its **newest event** (carrier
time), never the newest poll: an answer whose newest event is older than what is known (a lagging
carrier replica) only adds the events it did not have. What changed is announced as the
``ShipmentTracked`` events of ``app.services.events`` (handlers in ``responses`` and, later,
Invoicing), in the caller's transaction; the customer notice an event calls for is written on
the event itself (``notice``) and queued by ``notices``.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import insert
from sqlalchemy.orm import Session

from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent, TrackingNoticeDue, event_id_for
from app.models.types import iso_utc
from app.models.workflow import allowed
from app.services.bulk import BulkInsert, cursor
from app.services.carriers.model import TrackEvent, TrackResult
from app.services.events import (
    PodReceived,
    ShipmentDelivered,
    ShipmentEtaChanged,
    ShipmentPickedUp,
    ShipmentTracked,
    ShipmentTrouble,
    emit,
)
from app.services.tracking.policy import FINAL, TROUBLE, Policy
from app.services.workflow import transition

#: event statuses that open a case (a delay is an ETA change, not a case)
CASES = {"exception": "exception", "delivery_attempted": "attempt", "returned": "returned"}
#: a carrier event dated further ahead than this of both clocks (this computer's, and the carrier's:
#: the Date of its answer) is not stored (yet): such a time is a wrong timestamp (a local time read
#: as UTC, a typo'd date), and as the newest event it would decide the status and freeze it there.
#: A computer whose clock runs behind refuses nothing the carrier's own clock has passed. The carrier
#: repeats its history in every answer, so the event is stored at the first poll after its time
#: (or once the timestamp is put right): nothing is lost (docs/tracking.md, "Events dated ahead")
FUTURE_ALLOWANCE = dt.timedelta(hours=1)
#: when one event calls for two notices, the one a customer most needs wins
_NOTICE_RANK = {"delivered": 4, "exception": 3, "shipped": 2, "eta": 1}
_NEVER = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)


@dataclass(frozen=True)
class Scan:
    """A stored carrier event as handlers see it (plain data)."""

    id: uuid.UUID
    at: dt.datetime | None
    status: str
    raw_code: str
    description: str
    location: str


@dataclass
class Change:
    """What one answer did to one shipment."""

    new_events: int = 0
    #: the shipment's status before and after
    before: str = ""
    after: str = ""
    notices: list[tuple[uuid.UUID, str]] = field(default_factory=list)
    emitted: list[str] = field(default_factory=list)
    #: times of the answer's events dated beyond ``FUTURE_ALLOWANCE`` ahead of the clock (not stored)
    future: list[dt.datetime] = field(default_factory=list)
    #: the clock they were compared with (the later of ours and the carrier's)
    clock: dt.datetime | None = None

    def future_sentence(self, now: dt.datetime) -> str:  # ``now``: the later of the two clocks
        """What the dispatcher reads on the shipment when the carrier dated events ahead of our clock."""
        if not self.future:
            return ""
        n, first = len(self.future), self.future[0]
        hours = (first - now).total_seconds() / 3600
        return (f"{n} carrier event{'s' if n != 1 else ''} dated {first:%Y-%m-%d %H:%M} UTC"
                f"{' or later' if n > 1 else ''}, {hours:.0f} h ahead of the clock, not used for the status, ETA "
                "or proof of delivery: the carrier's timestamp is wrong (or this computer's clock is); asked "
                "again at the next poll")

    @property
    def changed(self) -> bool:
        return self.before != self.after


class Batch:
    """New event rows and notices of one apply transaction, written together by ``flush``
    (the bulk writer's executemany instead of an ORM object per event)."""

    def __init__(self, session: Session, now: dt.datetime, carrier_now: dt.datetime | None = None) -> None:
        self.session = session
        self.now = now
        #: the carrier's clock when it answered (its Date header); events are "ahead" of the later clock
        self.carrier_now = carrier_now
        self.rows: list[dict[str, Any]] = []
        self.due: list[dict[str, Any]] = []
        self.known: set[uuid.UUID] = set()
        self._ids: dict[tuple[str, str, str, dt.datetime | None], uuid.UUID] = {}

    def event_id(self, carrier_code: str, number: str, raw_code: str, at: dt.datetime | None) -> uuid.UUID:
        """``event_id_for``, computed once per event of the transaction (prefetch and ingest both ask)."""
        key = (carrier_code, number, raw_code, at)
        got = self._ids.get(key)
        if got is None:
            got = self._ids[key] = event_id_for(carrier_code, number, raw_code, at)
        return got

    def prefetch(self, ids: Iterable[uuid.UUID]) -> None:
        """Learn which of these event ids are stored already (one query per 500, on the DB-API
        cursor: the ORM's result processing cost more than the query)."""
        todo = [i.hex for i in set(ids) if i not in self.known]
        cur = cursor(self.session)
        for n in range(0, len(todo), 500):
            chunk = todo[n:n + 500]
            found = cur.execute(f"SELECT id FROM tracking_event WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            self.known.update(uuid.UUID(hex=r[0]) for r in found)

    def add(self, row: dict[str, Any]) -> None:
        self.rows.append(row)
        self.known.add(row["id"])

    def flush(self) -> int:
        n = len(self.rows)
        if self.rows:  # stored-form tuples by the bulk writer's executemany: no ORM type processing
            iso: dict[dt.datetime | None, str | None] = {None: None}  # a batch's rows share seen/created times
            BulkInsert(self.session, TrackingEvent, _COLUMNS).write([_stored(r, iso) for r in self.rows])
            self.rows = []
        if self.due:
            self.session.execute(insert(TrackingNoticeDue).prefix_with("OR IGNORE"), self.due)
            self.due = []
        return n


_COLUMNS = ("id", "shipment_id", "carrier_id", "tracking_number", "at", "event_status", "raw_code", "description",
            "location", "eta_date", "eta_end", "pod_signed_by", "pod_at", "pod_image", "seen_at", "source", "notice",
            "owner_branch_id", "created_at")


def _stored(r: dict[str, Any], iso: dict[dt.datetime | None, str | None]) -> tuple[Any, ...]:
    """One event row in the form SQLite stores (``app.services.bulk``: ids as hex, times as ISO text;
    ``iso``: the times converted so far, as most are the batch's own and None)."""
    eta = r["eta_date"]
    times = []
    for k in ("at", "eta_end", "pod_at", "seen_at", "created_at"):
        v = r[k]
        got = iso.get(v, _MISSING)
        if got is _MISSING:
            got = iso[v] = iso_utc(v)
        times.append(got)
    at, eta_end, pod_at, seen_at, created_at = times
    return (r["id"].hex, r["shipment_id"].hex, r["carrier_id"].hex, r["tracking_number"], at,
            r["event_status"], r["raw_code"], r["description"], r["location"], eta.isoformat() if eta else None,
            eta_end, r["pod_signed_by"], pod_at, r["pod_image"], seen_at,
            r["source"], r["notice"], r["owner_branch_id"].hex, created_at)


_MISSING: Any = object()


def candidate_ids(batch: Batch, carrier_code: str, result: TrackResult) -> list[uuid.UUID]:
    number = result.tracking_number or ""
    return [batch.event_id(carrier_code, number, e.raw_code, e.at) for e in result.events]


def _scan(row: dict[str, Any]) -> Scan:
    return Scan(row["id"], row["at"], row["event_status"], row["raw_code"], row["description"], row["location"])


def _row(batch: Batch, shipment: Shipment, carrier_code: str, e: TrackEvent, now: dt.datetime,
         source: str) -> dict[str, Any]:
    return {"id": batch.event_id(carrier_code, shipment.tracking_number, e.raw_code, e.at), "shipment_id": shipment.id,
            "carrier_id": shipment.carrier_id, "tracking_number": shipment.tracking_number, "at": e.at,
            "event_status": e.status, "raw_code": e.raw_code[:40], "description": e.description[:300],
            "location": e.location[:120], "eta_date": None, "eta_end": None, "pod_signed_by": "", "pod_at": None,
            "pod_image": "", "seen_at": now, "source": source, "notice": "", "owner_branch_id": shipment.owner_branch_id,
            "created_at": now}


def _when(at: dt.datetime | None) -> dt.datetime:
    return at or _NEVER


def ingest(session: Session, batch: Batch, shipment: Shipment, carrier_code: str, result: TrackResult,
           policy: Policy, *, source: str = "poll") -> Change:
    """Store what is new in ``result`` (an ``ok`` answer for ``shipment``) and bring the shipment
    in line with its newest event. Returns what changed; handlers have run."""
    now = batch.now
    change = Change(before=shipment.status, after=shipment.status)
    rows: list[dict[str, Any]] = []
    seen: set[uuid.UUID] = set()
    clock = max(now, batch.carrier_now) if batch.carrier_now is not None else now
    ahead = clock + FUTURE_ALLOWANCE
    change.future = sorted(e.at for e in result.events if e.at is not None and e.at > ahead)
    change.clock = clock
    for e in sorted(result.events, key=lambda x: _when(x.at)):
        if e.at is not None and e.at > ahead:
            continue  # not stored now, asked again at the next poll (``FUTURE_ALLOWANCE``)
        row = _row(batch, shipment, carrier_code, e, now, source)
        if row["id"] in seen:
            continue
        seen.add(row["id"])
        rows.append(row)
    if not rows and not change.future and result.status not in ("", "unknown"):  # a status without its events
        rows.append(_row(batch, shipment, carrier_code, TrackEvent(None, result.status, result.raw_status or result.status,
                                                            result.raw_text or result.status), now, source))
    known_newest = shipment.last_event_at
    answer_newest = max(rows, key=lambda r: _when(r["at"])) if rows else None
    fresh = answer_newest is not None and (known_newest is None or _when(answer_newest["at"]) >= known_newest)
    new = [r for r in rows if r["id"] not in batch.known]
    pod = result.pod if result.pod is not None and (result.pod.signed_by or result.pod.at) else None
    if pod is not None and (change.future or (pod.at is not None and pod.at > ahead)):
        pod = None  # the proof of a delivery dated ahead comes with that delivery
    has_pod = bool(shipment.pod_signed_by or shipment.pod_at)
    eta_new = fresh and result.eta_date is not None and result.eta_date != shipment.eta_date \
        and shipment.status not in FINAL and result.status not in FINAL
    pod_new = fresh and pod is not None and not has_pod
    anchor: dict[str, Any] | None = None
    if answer_newest is not None and (eta_new or pod_new):
        # the answer's facts about the whole shipment ride on its newest event; if that one is
        # stored already, on a revision event of their own (a new ETA without a scan)
        if answer_newest["id"] in batch.known:
            kind = "POD" if pod_new else f"ETA {result.eta_date.isoformat() if result.eta_date else ''}"
            anchor = _row(batch, shipment, carrier_code, TrackEvent(answer_newest["at"], answer_newest["event_status"], kind,
                                                             answer_newest["description"], answer_newest["location"]),
                          now, "eta" if not pod_new else source)
            if anchor["id"] in batch.known:
                anchor = None
            else:
                new.append(anchor)
        else:
            anchor = answer_newest
        if anchor is not None:
            if eta_new:
                anchor["eta_date"] = result.eta_date
                anchor["eta_end"] = result.eta_window[1] if result.eta_window else None
            if pod_new and pod is not None:
                anchor["pod_signed_by"] = (pod.signed_by or "")[:80]
                anchor["pod_at"] = pod.at
                anchor["pod_image"] = (pod.image or "")[:300]
    change.new_events = sum(1 for r in new if r["source"] != "eta")
    for r in new:
        batch.add(r)
    if not new:
        return change

    events: list[ShipmentTracked] = []
    notices: dict[uuid.UUID, tuple[str, dict[str, Any]]] = {}

    def notice(row: dict[str, Any], kind: str) -> None:
        if not policy.notice_on(kind):
            return
        have = notices.get(row["id"])
        if have is None or _NOTICE_RANK[kind] > _NOTICE_RANK[have[0]]:
            notices[row["id"]] = (kind, row)

    # status: walk the new events in carrier time; each one newer than what was known moves it on
    timed = sorted((r for r in new if r["source"] != "eta" and r["event_status"] != "unknown"), key=lambda x: _when(x["at"]))
    newest_row: dict[str, Any] | None = None
    status = shipment.status
    picked: dict[str, Any] | None = None
    troubles: list[tuple[str, dict[str, Any]]] = []
    for r in timed:
        if known_newest is not None and _when(r["at"]) < known_newest:
            continue  # an older scan filled in: kept in the ledger, changes nothing
        newest_row = r
        target = r["event_status"]
        if status == "delivered" and (target in TROUBLE or target == "returned"):
            troubles.append(("after_delivery", r))
            continue
        if target == status or status in FINAL or not allowed("shipment", status, target):
            continue
        if status == "label_created" and target != "cancelled" and picked is None:
            picked = r
        if target in CASES:
            troubles.append((CASES[target], r))
        status = target
    if newest_row is not None:
        shipment.last_event_at = newest_row["at"]
        shipment.raw_status = newest_row["raw_code"]
        shipment.status_text = newest_row["description"]
    if change.new_events:
        shipment.moved_at = now
    if status != shipment.status:
        delivered_row = newest_row if status == "delivered" else None
        transition(shipment, status, None, f"carrier: {shipment.status_text}"[:200],
                   at=_when(delivered_row["at"]) if delivered_row is not None and delivered_row["at"] else None)
    change.after = shipment.status
    scan_of = {r["id"]: _scan(r) for r in new}
    if picked is not None:
        events.append(ShipmentPickedUp(None, shipment=shipment, event=scan_of[picked["id"]]))
        if shipment.status not in FINAL:
            notice(picked, "shipped")
    if eta_new and anchor is not None:
        old_eta = shipment.eta_date
        shipment.eta_date = result.eta_date
        if result.eta_window and result.eta_window[1]:
            shipment.eta = result.eta_window[1]
        late = shipment.promised_date is not None and result.eta_date is not None \
            and result.eta_date > shipment.promised_date
        events.append(ShipmentEtaChanged(None, shipment=shipment, event=scan_of[anchor["id"]], old_eta=old_eta,
                                         new_eta=result.eta_date, late=late))
        if old_eta is not None or late:
            notice(anchor, "eta")
    resolved = shipment.status == "delivered"
    for kind, r in troubles:
        if resolved and kind != "after_delivery":
            continue  # an attempt followed by the delivery in the same answer: nothing left to do
        if kind == "after_delivery":
            when = r["at"].strftime("%Y-%m-%d %H:%M") if r["at"] else "later"
            shipment.flag = f"exception after delivery: {r['description']} ({when} UTC)"[:200]
        events.append(ShipmentTrouble(None, shipment=shipment, event=scan_of[r["id"]], kind=kind,
                                      detail=r["description"]))
        notice(r, "exception")
    if change.before != "delivered" and shipment.status == "delivered" and newest_row is not None:
        events.append(ShipmentDelivered(None, shipment=shipment, event=scan_of[newest_row["id"]],
                                        at=shipment.delivered_at, pod=pod_new or has_pod))
        notice(newest_row, "delivered")
    if pod_new and pod is not None and anchor is not None:
        shipment.pod_signed_by = (pod.signed_by or "")[:80]
        shipment.pod_at = pod.at
        shipment.pod_image = (pod.image or "")[:300]
        events.append(PodReceived(None, shipment=shipment, event=scan_of[anchor["id"]],
                                  signed_by=shipment.pod_signed_by, at=pod.at))
    for event_id, (kind, row) in notices.items():
        row["notice"] = kind
        batch.due.append({"event_id": str(event_id), "kind": kind, "shipment_id": str(shipment.id), "created_at": now})
        change.notices.append((event_id, kind))
    for ev in events:
        emit(session, ev)
        change.emitted.append(type(ev).__name__)
    return change


def emit_trouble(session: Session, shipment: Shipment, kind: str, detail: str) -> None:
    """A case without a carrier event (stale tracking, a number the carrier refuses)."""
    emit(session, ShipmentTrouble(None, shipment=shipment, event=None, kind=kind, detail=detail))
