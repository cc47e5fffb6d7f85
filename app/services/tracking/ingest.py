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
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import InstanceState, Session
from sqlalchemy.orm.attributes import instance_state

from app.models.hlc import clock
from app.models.shipping import Shipment
from app.models.stamps import micros
from app.models.tracking import TrackingEvent, event_hex_for, event_hexes_for
from app.models.types import UTCDateTime, iso_utc, utcnow
from app.models.workflow import allowed
from app.services.bulk import BulkInsert, converter, cursor, run_many
from app.services.carriers.model import TrackEvent, TrackResult
from app.services.db import site_id
from app.services.events import (
    PodReceived,
    ShipmentDelivered,
    ShipmentEtaChanged,
    ShipmentPickedUp,
    ShipmentTracked,
    ShipmentTrouble,
    emit,
)
from app.services.ownership import check_insert
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
    """New event rows and notices of one apply transaction, written together by ``flush`` (one
    ``executemany`` of stored-form rows instead of an ORM object per event). Event ids are kept as
    32 hex characters (hashing and comparing text costs a fraction of UUID objects; the bulk writer
    stores them as their 16 bytes), times converted to their stored text once each."""

    def __init__(self, session: Session, now: dt.datetime, carrier_now: dt.datetime | None = None) -> None:
        self.session = session
        self.now = now
        #: the carrier's clock when it answered (its Date header); events are "ahead" of the later clock
        self.carrier_now = carrier_now
        #: new event rows: the stored columns (``_COLUMNS``) and the event's time as a datetime last
        self.rows: list[list[Any]] = []
        self.due: list[tuple[str, str, str, str]] = []
        #: ids (hex) of the events stored already, or written by this batch
        self.known: set[str] = set()
        self._ids: dict[tuple[str, str, str, dt.datetime | None], str] = {}
        #: id(answer) -> (the answer, its parcel's number as the ids take it, the (id hex, stored time)
        #: of each of its events)
        self._answers: dict[int, tuple[TrackResult, str, list[tuple[str, str | None]]]] = {}
        self._iso: dict[Any, str | None] = {None: None}
        self.now_iso = self.iso(now)
        #: run once before the first follow-up of the transaction (``follow_ups``)
        self.before_follow_ups: Callable[[], object] | None = None

    def follow_ups(self) -> None:
        """A shipment is about to change or emit: run ``before_follow_ups`` if not done yet (the
        poller loads the orders its handlers read there; an apply with nothing new loads none)."""
        fn, self.before_follow_ups = self.before_follow_ups, None
        if fn is not None:
            fn()

    def iso(self, at: dt.datetime | None) -> str | None:
        """A time's stored text (converted once: an answer's events share times, the batch ``now``)."""
        got = self._iso.get(at, _MISSING)
        if got is _MISSING:
            got = self._iso[at] = iso_utc(at)  # type: ignore[arg-type]
        return got  # type: ignore[no-any-return]

    def event_id(self, carrier_code: str, number: str, raw_code: str, at: dt.datetime | None) -> str:
        """``event_id_for`` as hex, computed once per event of the transaction (prefetch and ingest
        both ask); the id's time text is the first 19 characters of the stored one."""
        key = (carrier_code, number, raw_code, at)
        got = self._ids.get(key)
        if got is None:
            iso = self.iso(at)
            got = self._ids[key] = event_hex_for(carrier_code, number, raw_code, iso[:19] if iso else "")
        return got

    def answer_ids(self, carrier_code: str, number: str, result: TrackResult) -> list[tuple[str, str | None]]:
        """(id hex, stored time text) of each event of ``result`` (``result.events``, or the bare
        status of ``_bare``) as events of parcel ``number``, in the answer's order: computed once per
        answer (prefetch and ingest both ask), the ids' shared part hashed once (``event_hexes_for``)."""
        key = number.strip().upper()
        got = self._answers.get(id(result))
        if got is not None and got[0] is result and got[1] == key:
            return got[2]
        events = result.events or _bare(result)
        times = [self.iso(e.at) for e in events]
        hexes = event_hexes_for(carrier_code, number, [(e.raw_code, t[:19] if t else "")
                                                       for e, t in zip(events, times, strict=True)])
        ids = list(zip(hexes, times, strict=True))
        self._answers[id(result)] = (result, key, ids)
        return ids

    def prefetch(self, ids: Iterable[str]) -> None:
        """Learn which of these event ids (hex) are stored already (one query per 500, on the DB-API
        cursor: the ORM's result processing cost more than the query)."""
        todo = [bytes.fromhex(i) for i in set(ids) if i not in self.known]  # stored as 16 bytes
        cur = cursor(self.session)
        for n in range(0, len(todo), 500):
            chunk = todo[n:n + 500]
            found = cur.execute(f"SELECT id FROM tracking_event WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            self.known.update(r[0].hex() for r in found)

    def flush(self) -> int:
        n = len(self.rows)
        if self.rows:  # stored-form rows by the bulk writer's executemany: no ORM type processing
            BulkInsert(self.session, TrackingEvent, _COLUMNS).write([r[:_AT] for r in self.rows])
            self.rows = []
        if self.due:
            run_many(self.session, "tracking_notice_due", _DUE_SQL, self.due)
            self.due = []
        return n


_COLUMNS = ("id", "shipment_id", "carrier_id", "tracking_number", "at", "event_status", "raw_code", "description",
            "location", "eta_date", "eta_end", "pod_signed_by", "pod_at", "pod_image", "seen_at", "source", "notice",
            "owner_branch_id", "created_at")
# a row's fields: the stored columns in ``_COLUMNS`` order, then the event's time (a datetime)
(_ID, _SHIPMENT, _CARRIER, _NUMBER, _AT_ISO, _STATUS, _RAW, _DESCRIPTION, _LOCATION, _ETA_DATE, _ETA_END, _POD_BY,
 _POD_AT, _POD_IMAGE, _SEEN, _SOURCE, _NOTICE, _OWNER, _CREATED, _AT) = range(20)
_DUE_SQL = "INSERT OR IGNORE INTO tracking_notice_due (event_id, kind, shipment_id, created_at) VALUES (?, ?, ?, ?)"
_MISSING: Any = object()


def candidate_ids(batch: Batch, carrier_code: str, result: TrackResult) -> list[str]:
    """The ids of the events ``ingest`` may store from ``result`` (for ``Batch.prefetch``)."""
    return [i for i, _t in batch.answer_ids(carrier_code, result.tracking_number or "", result)]


def _bare(result: TrackResult) -> list[TrackEvent]:
    """An answer with a status but no events (no scan list, no time) is kept as one event: the
    status, without a time (its id is the same at every poll, so it is stored once)."""
    if result.events or result.status in ("", "unknown"):
        return []
    return [TrackEvent(None, result.status, result.raw_status or result.status, result.raw_text or result.status)]


def _scan(row: list[Any]) -> Scan:
    return Scan(uuid.UUID(hex=row[_ID]), row[_AT], row[_STATUS], row[_RAW], row[_DESCRIPTION], row[_LOCATION])


def _when(at: dt.datetime | None) -> dt.datetime:
    return at or _NEVER


def _first_at(pair: tuple[TrackEvent, Any]) -> dt.datetime:
    return pair[0].at or _NEVER


def ingest(session: Session, batch: Batch, shipment: Shipment, carrier_code: str, result: TrackResult,
           policy: Policy, *, source: str = "poll") -> Change:
    """Store what is new in ``result`` (an ``ok`` answer for ``shipment``) and bring the shipment
    in line with its newest event. Returns what changed; handlers have run."""
    now = batch.now
    change = Change(before=shipment.status, after=shipment.status)
    clock = max(now, batch.carrier_now) if batch.carrier_now is not None else now
    ahead = clock + FUTURE_ALLOWANCE
    change.clock = clock
    number = shipment.tracking_number
    # the shipment's ids as SQLite stores them (16 bytes); the event's own id stays hex until the
    # bulk writer stores it (``Batch``: hashed and compared as text)
    ship_id, carrier_id, owner_id, now_iso = shipment.id.bytes, shipment.carrier_id.bytes, \
        shipment.owner_branch_id.bytes, batch.now_iso

    def make(e: TrackEvent, src: str, ident: tuple[str, str | None] | None = None) -> list[Any]:
        """A new event row: its stored columns (``_COLUMNS``), then its time. ``ident``: its id and
        stored time when known (``Batch.answer_ids``)."""
        raw = e.raw_code
        hx, iso = ident or (batch.event_id(carrier_code, number, raw, e.at), batch.iso(e.at))
        return [hx, ship_id, carrier_id, number, iso, e.status, raw[:40], e.description[:300], e.location[:120],
                None, None, "", None, "", now_iso, src, "", owner_id, now_iso, e.at]

    # the answer's events in carrier time (None first), each once; those dated ahead are left for later
    rows: list[list[Any]] = []
    seen: set[str] = set()
    future = change.future
    idents = batch.answer_ids(carrier_code, number, result)
    if result.events:
        for e, ident in sorted(zip(result.events, idents, strict=True), key=_first_at):
            if e.at is not None and e.at > ahead:
                future.append(e.at)  # not stored now, asked again at the next poll (``FUTURE_ALLOWANCE``)
                continue
            if ident[0] in seen:
                continue
            seen.add(ident[0])
            rows.append(make(e, source, ident))
    else:
        rows = [make(e, source, ident) for e, ident in zip(_bare(result), idents, strict=True)]  # a status alone
    known_newest = shipment.last_event_at
    answer_newest = max(rows, key=lambda r: _when(r[_AT])) if rows else None
    fresh = answer_newest is not None and (known_newest is None or _when(answer_newest[_AT]) >= known_newest)
    known = batch.known
    new = [r for r in rows if r[_ID] not in known]
    pod = result.pod if result.pod is not None and (result.pod.signed_by or result.pod.at) else None
    if pod is not None and (future or (pod.at is not None and pod.at > ahead)):
        pod = None  # the proof of a delivery dated ahead comes with that delivery
    has_pod = bool(shipment.pod_signed_by or shipment.pod_at)
    eta_new = fresh and result.eta_date is not None and result.eta_date != shipment.eta_date \
        and shipment.status not in FINAL and result.status not in FINAL
    pod_new = fresh and pod is not None and not has_pod
    anchor: list[Any] | None = None
    if answer_newest is not None and (eta_new or pod_new):
        # the answer's facts about the whole shipment ride on its newest event; if that one is
        # stored already, on a revision event of their own (a new ETA without a scan)
        if answer_newest[_ID] in known:
            kind = "POD" if pod_new else f"ETA {result.eta_date.isoformat() if result.eta_date else ''}"
            anchor = make(TrackEvent(answer_newest[_AT], answer_newest[_STATUS], kind, answer_newest[_DESCRIPTION],
                                     answer_newest[_LOCATION]), "eta" if not pod_new else source)
            if anchor[_ID] in known:
                anchor = None
            else:
                new.append(anchor)  # its time is the answer's newest: ``new`` stays in carrier time
        else:
            anchor = answer_newest
        if anchor is not None:
            if eta_new:
                anchor[_ETA_DATE] = result.eta_date.isoformat() if result.eta_date else None
                anchor[_ETA_END] = batch.iso(result.eta_window[1]) if result.eta_window else None
            if pod_new and pod is not None:
                anchor[_POD_BY] = (pod.signed_by or "")[:80]
                anchor[_POD_AT] = batch.iso(pod.at)
                anchor[_POD_IMAGE] = (pod.image or "")[:300]
    if not new:
        return change
    batch.follow_ups()
    change.new_events = sum(1 for r in new if r[_SOURCE] != "eta")
    batch.rows += new
    known.update(r[_ID] for r in new)

    events: list[ShipmentTracked] = []
    notices: dict[str, tuple[str, list[Any]]] = {}

    def notice(row: list[Any], kind: str) -> None:
        if not policy.notice_on(kind):
            return
        have = notices.get(row[_ID])
        if have is None or _NOTICE_RANK[kind] > _NOTICE_RANK[have[0]]:
            notices[row[_ID]] = (kind, row)

    # status: walk the new events in carrier time (``new`` is in that order); each one newer than
    # what was known moves it on
    newest_row: list[Any] | None = None
    status = shipment.status
    picked: list[Any] | None = None
    troubles: list[tuple[str, list[Any]]] = []
    for r in new:
        target = r[_STATUS]
        if r[_SOURCE] == "eta" or target == "unknown":
            continue
        if known_newest is not None and _when(r[_AT]) < known_newest:
            continue  # an older scan filled in: kept in the ledger, changes nothing
        newest_row = r
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
        shipment.last_event_at = newest_row[_AT]
        shipment.raw_status = newest_row[_RAW]
        shipment.status_text = newest_row[_DESCRIPTION]
    if change.new_events:
        shipment.moved_at = now
    if status != shipment.status:
        delivered_at = newest_row[_AT] if status == "delivered" and newest_row is not None else None
        transition(shipment, status, None, f"carrier: {shipment.status_text}"[:200], at=delivered_at)
    change.after = shipment.status
    if picked is not None:
        events.append(ShipmentPickedUp(None, shipment=shipment, event=_scan(picked)))
        if shipment.status not in FINAL:
            notice(picked, "shipped")
    if eta_new and anchor is not None:
        old_eta = shipment.eta_date
        shipment.eta_date = result.eta_date
        if result.eta_window and result.eta_window[1]:
            shipment.eta = result.eta_window[1]
        late = shipment.promised_date is not None and result.eta_date is not None \
            and result.eta_date > shipment.promised_date
        events.append(ShipmentEtaChanged(None, shipment=shipment, event=_scan(anchor), old_eta=old_eta,
                                         new_eta=result.eta_date, late=late))
        if old_eta is not None or late:
            notice(anchor, "eta")
    resolved = shipment.status == "delivered"
    for kind, r in troubles:
        if resolved and kind != "after_delivery":
            continue  # an attempt followed by the delivery in the same answer: nothing left to do
        if kind == "after_delivery":
            when = r[_AT].strftime("%Y-%m-%d %H:%M") if r[_AT] else "later"
            shipment.flag = f"exception after delivery: {r[_DESCRIPTION]} ({when} UTC)"[:200]
        events.append(ShipmentTrouble(None, shipment=shipment, event=_scan(r), kind=kind, detail=r[_DESCRIPTION]))
        notice(r, "exception")
    if change.before != "delivered" and shipment.status == "delivered" and newest_row is not None:
        events.append(ShipmentDelivered(None, shipment=shipment, event=_scan(newest_row),
                                        at=shipment.delivered_at, pod=pod_new or has_pod))
        notice(newest_row, "delivered")
    if pod_new and pod is not None and anchor is not None:
        shipment.pod_signed_by = (pod.signed_by or "")[:80]
        shipment.pod_at = pod.at
        shipment.pod_image = (pod.image or "")[:300]
        events.append(PodReceived(None, shipment=shipment, event=_scan(anchor),
                                  signed_by=shipment.pod_signed_by, at=pod.at))
    if notices:
        shipment_ref = str(shipment.id)
        for event_hex, (kind, row) in notices.items():
            row[_NOTICE] = kind
            event_id = uuid.UUID(hex=event_hex)
            batch.due.append((str(event_id), kind, shipment_ref, batch.now_iso))  # type: ignore[arg-type]
            change.notices.append((event_id, kind))
    for ev in events:
        emit(session, ev)
        change.emitted.append(type(ev).__name__)
    return change


def emit_trouble(session: Session, shipment: Shipment, kind: str, detail: str) -> None:
    """A case without a carrier event (stale tracking, a number the carrier refuses)."""
    emit(session, ShipmentTrouble(None, shipment=shipment, event=None, kind=kind, detail=detail))


#: the shipment columns a poll and its ingest change (``write_shipments`` writes these; a shipment
#: with a change to any other column is left to the flush)
_POLLED = frozenset({"polled_at", "poll_outcome", "poll_failures", "poll_message", "next_poll_at", "stopped",
                     "last_event_at", "raw_status", "status_text", "moved_at", "status", "delivered_at", "eta_date",
                     "eta", "flag", "pod_signed_by", "pod_at", "pod_image", "shipped_at"})
_STORE = {c: converter(Shipment.__table__.columns[c].type) for c in _POLLED}
_TIMES = frozenset(c for c in _POLLED if isinstance(Shipment.__table__.columns[c].type, UTCDateTime))
#: a new version of the row (a change to any column but the poll schedule)
_STAMPS = ("updated_at = ?", "hlc = ?", "hlc_site = ?")


def write_shipments(session: Session, ships: Iterable[Shipment]) -> int:
    """The polled shipments' changes in stored form, one ``executemany`` per set of changed columns,
    instead of the flush's UPDATE a row (its history, type processing and hooks cost more than the
    write: 10,000 shipments an ingest). As a flush writes them: only the columns whose value changed,
    a new version (``updated_at``, a fresh HLC, this site), change capture by the table's triggers,
    the ownership rule; the rows then count as stored, so the flush does not write them again. A
    shipment whose poll changed only its schedule (``Shipment.__local_columns__``) gets no new
    version: the trigger does not capture it, nothing is sent (as ``db._stamp_hlc`` for a flush).
    Returns how many rows were written."""
    groups: dict[tuple[str, ...], list[tuple[list[Any], dict[str, Any]]]] = {}
    states: list[tuple[InstanceState[Any], dict[str, Any]]] = []
    owners: set[uuid.UUID] = set()
    for sh in ships:
        state = instance_state(sh)
        committed = state.committed_state
        if not committed or state.key is None or state.deleted or not _POLLED.issuperset(committed):
            continue  # unchanged, not stored yet, or changed beyond the poll (a follow-up's): the flush's
        d = state.dict
        keys = tuple(sorted(k for k, old in committed.items() if d.get(k) != old))
        if keys:  # else only set to what it was: nothing to write, as for a flush
            groups.setdefault(keys, []).append(([d.get(k) for k in keys], d))
            owners.add(d["owner_branch_id"])
        states.append((state, d))
    if groups:
        check_insert(session, Shipment, owners)  # a document: only its own branch's (the flush guard's rule)
        now, site = utcnow(), site_id(session)
        now_us = micros(now)  # updated_at as SQLite stores it (``stamps.UTCMicros``)
        iso: dict[Any, Any] = {None: None}  # a poll's shipments share times (its own clock, mostly)

        def when(v: Any) -> Any:
            got = iso.get(v, _MISSING)
            if got is _MISSING:
                got = iso[v] = v if isinstance(v, str) else iso_utc(v)
            return got

        for keys, items in groups.items():
            convs = [(n, when if k in _TIMES else f) for n, k in enumerate(keys) if (f := _STORE[k]) is not None]
            # only the poll schedule changed (nothing new from the carrier, or no answer): this
            # site's bookkeeping, no new version and so no outbox row (``Shipment.__local_columns__``)
            schedule = Shipment.__local_columns__.issuperset(keys)
            rows = []
            for r, d in items:
                for n, f in convs:
                    r[n] = f(r[n])
                if not schedule:
                    d["updated_at"], d["hlc"], d["hlc_site"] = now, clock.now(), site
                    r += (now_us, d["hlc"], site)
                r += (d["id"].bytes,)  # the id as SQLite stores it (16 bytes)
                rows.append(r)
            sets = ", ".join([*(f"{k} = ?" for k in keys), *(() if schedule else _STAMPS)])
            run_many(session, "shipment", f"UPDATE shipment SET {sets} WHERE id = ?", rows)
    # what a flush does with the rows it wrote (SQLAlchemy's ``Session._register_persistent``): their
    # values count as stored, the session no longer holds them dirty, and a rollback expires them
    InstanceState._commit_all_states(states, session.identity_map)
    session._register_altered(state for state, _d in states)
    return sum(len(items) for items in groups.values())
