"""Customer notices (shipped, new ETA, delivered, exception) through the mail outbox.

An event that calls for a notice carries it (``tracking_event.notice``) and leaves a row in this
workstation's ``tracking_notice_due``. ``release`` turns those into outbox messages with the
customer's address and the branch's template, once per event: the message's id is derived from
(event, kind), so it exists once however often or wherever the event is seen. On a replicating
workstation a notice is queued only when its event has reached the server and this workstation
holds the account's lease: a workstation cut off from the server keeps polling, but the customer
hears from the one that the others can see (docs/tracking.md, "Who sends").

Preferences are the customer's (master data, branch-editable): ``notify_email`` ('' = the contact
address) and ``notify_events`` (the kinds it wants, comma-separated; ``none``: opted out of all).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Collection
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import delete, select, text
from sqlalchemy.orm import Session

from app.models.carriers import CarrierAccount
from app.models.messaging import EmailOutbox
from app.models.org import Branch
from app.models.parties import Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import NOTICE_KINDS, TrackingEvent, TrackingNoticeDue, derived_id
from app.services import audit
from app.services.auth import Actor
from app.services.errors import NotFound, ValidationError
from app.services.mail import NewMessage, _addresses, queue_many
from app.services.ownership import ownership
from app.services.tracking.lease import account_for
from app.services.tracking.policy import policy_for
from app.services.tracking.responses import carrier_name
from app.services.tracking.templates import render

#: a notice waiting here (for the server, or for a lease another workstation holds) is dropped after
KEEP_WAITING = dt.timedelta(days=3)
KIND_WORDS = {"shipped": "shipped", "eta": "new delivery date", "delivered": "delivered", "exception": "exception"}


def notice_id(event_id: uuid.UUID, kind: str) -> uuid.UUID:
    return derived_id("tracking-notice", event_id, kind)


# -- preferences --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Preferences:
    customer: str
    name: str
    email: str  # where notices go ('' = nowhere)
    own_email: bool  # a notice address of its own (not the contact address)
    events: tuple[str, ...]

    def to_dict(self) -> dict[str, object]:
        return {"customer": self.customer, "name": self.name, "email": self.email, "own_email": self.own_email,
                "events": list(self.events)}


def _prefs(c: Any) -> Preferences:
    """A customer's preferences (an ORM row or a Core row of its notice columns)."""
    events = tuple(k for k in NOTICE_KINDS if k in {e.strip() for e in (c.notify_events or "").split(",")})
    return Preferences(c.code, c.name, c.notify_email or c.contact_email or "", bool(c.notify_email), events)


def _customer(session: Session, code: str) -> Customer:
    c = session.scalar(select(Customer).where(Customer.code == code.strip().upper(), Customer.deleted_at.is_(None)))
    if c is None:
        raise NotFound("customer", code)
    return c


def preferences(session: Session, code: str) -> Preferences:
    return _prefs(_customer(session, code))


def set_preferences(session: Session, actor: Actor, code: str, *, email: str | None = None,
                    events: Collection[str] | None = None) -> Preferences:
    """Change where a customer's shipment notices go and which it gets (account team: clerk,
    manager). ``email=''`` falls back to the contact address; ``events=()`` opts out of all."""
    if not (actor.can("tracking.poll") or actor.can("tracking.configure")):
        actor.require("tracking.configure")
    c = _customer(session, code)
    before = _prefs(c)
    if email is not None:
        c.notify_email = _addresses(email, "notice e-mail", required=False)[:200]
    if events is not None:
        wanted = [e.strip().lower() for e in events if e.strip()]
        bad = [e for e in wanted if e not in NOTICE_KINDS]
        if bad:
            raise ValidationError("notices", f"{bad[0]!r} is not a notice (known: {', '.join(NOTICE_KINDS)})")
        c.notify_events = ",".join(k for k in NOTICE_KINDS if k in wanted) or "none"
    session.flush()
    after = _prefs(c)
    audit.record(session, actor, "customer.notices", "customer", c.id, c.owner_branch_id,
                 before=before.to_dict(), after=after.to_dict())
    return after


# -- queueing -----------------------------------------------------------------------------------------


@dataclass
class Released:
    queued: int = 0
    #: waiting for the server (replicating) or for the lease
    waiting: int = 0
    skipped: list[str] = field(default_factory=list)


def _pending_events(session: Session) -> set[str]:
    return set(session.execute(text("SELECT row_id FROM sync_outbox WHERE tbl = 'tracking_event'")).scalars())


def _fmt(d: dt.date | dt.datetime | None) -> str:
    if d is None:
        return ""
    if isinstance(d, dt.datetime):
        return d.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return d.strftime("%a %d %b %Y")


def values_for(session: Session, shipment: Any, event: Any, kind: str, *,
               order: Any = None, customer: Any = None) -> dict[str, str]:
    """The template placeholders for one notice (``order`` and ``customer``: the shipment's, when the
    caller has read them already; ORM rows or Core rows of the columns the placeholders use)."""
    if order is None and shipment.sales_order_id:
        order = session.get(SalesOrder, shipment.sales_order_id)
    if customer is None and order is not None:
        customer = session.get(Customer, order.customer_id)
    carrier = carrier_name(session, shipment.carrier_id)
    branch = _branch_name(session, shipment.owner_branch_id)
    previous = ""
    if kind == "eta":
        previous = _fmt(session.scalar(select(TrackingEvent.eta_date).where(
            TrackingEvent.shipment_id == shipment.id, TrackingEvent.eta_date.is_not(None), TrackingEvent.id != event.id,
            TrackingEvent.seen_at <= event.seen_at).order_by(TrackingEvent.seen_at.desc()).limit(1))) \
            or _fmt(shipment.promised_date)
    return {
        "customer": customer.name if customer else "", "order": order.number if order else shipment.number,
        "customer_po": (order.customer_po if order else "") or "-", "shipment": shipment.number, "carrier": carrier,
        "tracking": shipment.tracking_number, "eta": _fmt(event.eta_date or shipment.eta_date),
        "previous_eta": previous, "promised": _fmt(shipment.promised_date), "status": event.description,
        "location": event.location, "delivered_at": _fmt(shipment.delivered_at or event.at),
        "signed_by": shipment.pod_signed_by or event.pod_signed_by or "-",
        "action": _customer_action(event.event_status), "branch": branch,
    }


def _branch_name(session: Session, branch_id: uuid.UUID) -> str:
    cache: dict[uuid.UUID, str] = session.info.setdefault("tracking_branch_names", {})
    if branch_id not in cache:
        cache[branch_id] = session.scalar(select(Branch.name).where(Branch.id == branch_id)) or ""
    return cache[branch_id]


def _customer_action(status: str) -> str:
    return {"delivery_attempted": "we will arrange the next delivery attempt with you",
            "returned": "we will contact you to reship your order",
            "exception": "we are in touch with the carrier and will reship if needed"}.get(
        status, "we are looking into it with the carrier")


#: the columns the messages need (Core rows, not ORM objects: a cycle may owe thousands of notices,
#: and a full ORM row of each event, shipment, order and customer cost more than the message)
_EVENT_COLS = (TrackingEvent.id, TrackingEvent.shipment_id, TrackingEvent.at, TrackingEvent.event_status,
               TrackingEvent.description, TrackingEvent.location, TrackingEvent.eta_date, TrackingEvent.pod_signed_by,
               TrackingEvent.seen_at)
_SHIPMENT_COLS = (Shipment.id, Shipment.number, Shipment.sales_order_id, Shipment.carrier_id, Shipment.account_id,
                  Shipment.owner_branch_id, Shipment.tracking_number, Shipment.eta_date, Shipment.promised_date,
                  Shipment.delivered_at, Shipment.pod_signed_by)
_ORDER_COLS = (SalesOrder.id, SalesOrder.number, SalesOrder.customer_po, SalesOrder.customer_id)
_CUSTOMER_COLS = (Customer.id, Customer.code, Customer.name, Customer.notify_email, Customer.contact_email,
                  Customer.notify_events)


def release(session: Session, now: dt.datetime, held: Collection[uuid.UUID] | None = None,
            *, limit: int = 2000) -> Released:
    """Queue the notices this workstation owes. ``held``: the accounts whose lease it holds (None
    on a standalone file: all)."""
    out = Released()
    dues = session.execute(select(TrackingNoticeDue.event_id, TrackingNoticeDue.kind, TrackingNoticeDue.created_at)
                           .order_by(TrackingNoticeDue.created_at).limit(limit)).all()
    if not dues:
        return out
    replicating = ownership(session).enforced
    pending = _pending_events(session) if replicating else set()
    # everything the messages need, read in a few queries (a cycle may owe thousands of notices)
    event_ids = [uuid.UUID(d.event_id) for d in dues]
    events = _rows(session, TrackingEvent, _EVENT_COLS, event_ids, held=False)
    ships = _rows(session, Shipment, _SHIPMENT_COLS, list({e.shipment_id for e in events.values()}))
    orders = _rows(session, SalesOrder, _ORDER_COLS, list({sh.sales_order_id for sh in ships.values()
                                                          if sh.sales_order_id is not None}))
    customers = _rows(session, Customer, _CUSTOMER_COLS, list({o.customer_id for o in orders.values()}))
    ids = [notice_id(e, d.kind) for e, d in zip(event_ids, dues, strict=True)]
    queued = {i for n in range(0, len(ids), 500)
              for i in session.scalars(select(EmailOutbox.id).where(EmailOutbox.id.in_(ids[n:n + 500])))}
    done: list[str] = []
    outgoing: list[NewMessage] = []
    about: list[str] = []
    for due, event_id, message_id in zip(dues, event_ids, ids, strict=True):
        event = events.get(event_id)
        if event is None:
            done.append(due.event_id)  # the event never reached this file (a rolled-back cycle)
            continue
        shipment = ships.get(event.shipment_id)
        if shipment is None:
            done.append(due.event_id)
            continue
        if message_id in queued:
            done.append(due.event_id)
            continue  # queued already (here, or by the workstation that holds the lease: pulled)
        if replicating:
            account = account_for(session, shipment.owner_branch_id, shipment.carrier_id, shipment.account_id)
            if event.id.hex in pending or held is None or account not in held:
                if now - due.created_at > KEEP_WAITING:
                    done.append(due.event_id)  # the lease holder has seen to it (or it was not wanted)
                else:
                    out.waiting += 1
                continue
        done.append(due.event_id)
        order = orders.get(shipment.sales_order_id) if shipment.sales_order_id else None
        got = _message(session, shipment, event, due.kind, message_id, order,
                       customers.get(order.customer_id) if order is not None else None)
        if isinstance(got, str):
            out.skipped.append(f"{shipment.number} {KIND_WORDS[due.kind]}: {got}")
        else:
            outgoing.append(got)
            about.append(f"{shipment.number} {KIND_WORDS[due.kind]}")
    # one insert for all of them (the mail outbox's rows and audit entries), not two ORM rows each
    for what, why in zip(about, queue_many(session, None, outgoing), strict=True):
        if why:
            out.skipped.append(f"{what}: {why}")
        else:
            out.queued += 1
    if done:
        session.execute(delete(TrackingNoticeDue).where(TrackingNoticeDue.event_id.in_(done)))
    return out


def _rows(session: Session, model: Any, cols: tuple[Any, ...], ids: list[uuid.UUID], *,
          held: bool = True) -> dict[uuid.UUID, Any]:
    """id -> the row of each of these ids with ``cols``: those the session holds already (the
    poller's apply read the shipments and orders) from its identity map, the rest as Core rows by
    one query per 500 (the same attribute names as the ORM objects)."""
    out: dict[uuid.UUID, Any] = {}
    todo = []
    found = session.identity_map
    for i in ids:
        obj = found.get(session.identity_key(model, i)) if held else None
        if obj is None:
            todo.append(i)
        else:
            out[i] = obj
    for n in range(0, len(todo), 500):
        out.update((r.id, r) for r in session.execute(select(*cols).where(model.id.in_(todo[n:n + 500]))))
    return out


def _message(session: Session, shipment: Any, event: Any, kind: str, message_id: uuid.UUID,
             order: Any, customer: Any) -> NewMessage | str:
    """One notice's message, or why there is none (no customer, opted out, no address)."""
    if customer is None:
        return "no customer order behind the shipment"
    prefs = _prefs(customer)
    if kind not in prefs.events:
        return f"{customer.code} does not want {KIND_WORDS[kind]} notices"
    if not prefs.email:
        return f"{customer.code} has no e-mail address for notices"
    policy = policy_for(session, shipment.owner_branch_id)
    subject, body = render(kind, values_for(session, shipment, event, kind, order=order, customer=customer),
                           policy.templates)
    return NewMessage(to=prefs.email, subject=subject, body=body, owner_branch_id=shipment.owner_branch_id,
                      entity="shipment", entity_ref=shipment.number, message_id=message_id)


def adopt(session: Session, account_id: uuid.UUID, now: dt.datetime, *, days: int = 3) -> int:
    """On taking over an account's lease: the notices the previous holder owed (its events reached
    the server, their messages did not) become this workstation's to queue."""
    acct = session.get(CarrierAccount, account_id)
    if acct is None:
        return 0
    since = now - dt.timedelta(days=days)
    rows = session.execute(select(TrackingEvent.id, TrackingEvent.notice, TrackingEvent.shipment_id)
                           .join(Shipment, Shipment.id == TrackingEvent.shipment_id)
                           .where(TrackingEvent.notice != "", TrackingEvent.seen_at >= since,
                                  Shipment.owner_branch_id == acct.owner_branch_id,
                                  Shipment.carrier_id == acct.carrier_id)).all()
    have = set(session.scalars(select(TrackingNoticeDue.event_id)))
    added = 0
    for event_id, kind, shipment_id in rows:
        if str(event_id) in have or session.get(EmailOutbox, notice_id(event_id, kind)) is not None:
            continue
        session.add(TrackingNoticeDue(event_id=str(event_id), kind=kind, shipment_id=str(shipment_id), created_at=now))
        added += 1
    session.flush()
    return added


def sent_for(session: Session, shipment_number: str) -> list[EmailOutbox]:
    """The notices queued or sent about one shipment (newest first)."""
    return list(session.scalars(select(EmailOutbox).where(EmailOutbox.entity == "shipment",
                                                          EmailOutbox.entity_ref == shipment_number,
                                                          EmailOutbox.deleted_at.is_(None))
                                .order_by(EmailOutbox.created_at.desc())))
