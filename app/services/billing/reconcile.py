"""The invoicing queue's safety net: delivered shipments that nobody invoiced get queued again.

A carrier event's follow-up is a ``billing_due`` row on the workstation that saw the event, and
lives seconds (the billing job settles it at the end of the same poll cycle). A workstation lost
for good with rows still queued would leave those shipments uninvoiced, and no later event comes
(the shipment is delivered: nobody polls it any more). So every hour the billing job looks, with
one query, for this branch's shipments whose delivery a carrier event told (the
event that queues the invoice), more than ``AFTER`` ago and less than ``LOOKBACK``, that have an order, no queued follow-up and no invoice a person or the
queue has decided (released or cancelled; a pending one still waits for its release), and queues
their 'delivered' step; ``settle`` then does what the lost row would have done.

Only those a settlement would settle now are queued (``settle.could_settle``): a shipment with
nothing left to bill, or one refused (no tax rate for its lines) whose case is raised already, is
left alone until something changes that lets it settle (the rate is set, a line becomes billable).
Queueing those every hour for 14 days made nothing and raised the same case again each time.

Two workstations of a branch never both queue one shipment: the one holding the tracking lease of
the shipment's carrier account does (the workstation that polls it, so the one that saw the
event, or the one that took over when it was lost); a standalone file reconciles everything.
Safe to run again: a queued or invoiced shipment is not picked, and settling a shipment with
nothing left to bill makes no invoice (docs/billing.md, "The invoicing queue").
"""

from __future__ import annotations

import datetime as dt
import logging
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, and_, exists, func, insert, or_, select
from sqlalchemy.orm import Session

from app.models.billing import BillingDue, Invoice
from app.models.carriers import CarrierAccount
from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent, TrackingLease
from app.models.types import utcnow
from app.services import jobs
from app.services.billing import settle
from app.services.changes import Change
from app.services.db import session_scope, site_id
from app.services.ownership import ownership

log = logging.getLogger("depot.billing")

#: a delivery younger than this is still the business of the workstation that saw it
AFTER = dt.timedelta(minutes=30)
#: deliveries older than this are not looked at again (the clerks' reports find older ones)
LOOKBACK = dt.timedelta(days=14)


@dataclass
class Reconciled:
    """What one reconcile round queued (``ok``/``changed`` for the job runner)."""

    queued: int = 0
    #: found neither invoiced nor queued, but left alone: nothing left to bill, or refused with its
    #: case raised (queued again once, say, the tax rate exists)
    left: int = 0

    @property
    def ok(self) -> bool:
        return True

    @property
    def changed(self) -> bool:
        return bool(self.queued)

    def line(self) -> str:
        if not self.queued:
            return "every delivered shipment is invoiced or queued" + (
                f" ({self.left} with nothing left to bill or waiting for their case)" if self.left else "")
        return (f"{self.queued} delivered shipment{'s' if self.queued != 1 else ''} found neither invoiced nor queued: "
                "queued for invoicing")


def _held_accounts(session: Session) -> tuple[list[Any], list[Any]]:
    """The carrier accounts whose tracking lease this workstation holds, and their carriers'
    ids for shipments polled on the branch's default account (``lease.account_for``)."""
    me = site_id(session)
    held = list(session.scalars(select(TrackingLease.account_id).where(
        TrackingLease.holder_site == me, TrackingLease.deleted_at.is_(None))))
    if not held:
        return [], []
    carriers = [r[0] for r in session.execute(select(CarrierAccount.carrier_id).where(
        CarrierAccount.id.in_(held), CarrierAccount.active.is_(True), CarrierAccount.deleted_at.is_(None)))]
    return held, carriers


def reconcile(session: Session, now: dt.datetime | None = None, *, after: dt.timedelta = AFTER,
              lookback: dt.timedelta = LOOKBACK) -> Reconciled:
    """Queue the 'delivered' step of this branch's delivered, uninvoiced, unqueued shipments
    (one statement, in the caller's transaction). Returns how many were queued."""
    now = now or utcnow()
    own = ownership(session)
    sh = Shipment
    cond = [sh.status == "delivered", sh.deleted_at.is_(None), sh.sales_order_id.is_not(None),
            sh.delivered_at.is_not(None), sh.delivered_at <= now - after, sh.delivered_at >= now - lookback,
            # a delivery the carrier told tracking of (its event is what queues the invoice; history and
            # shipments closed by hand were never queued, so they are nothing this net has to catch)
            exists().where(TrackingEvent.shipment_id == sh.id, TrackingEvent.event_status == "delivered"),
            ~exists().where(BillingDue.shipment_id == sh.id),
            ~exists().where(Invoice.shipment_id == sh.id, Invoice.kind == "invoice", Invoice.status != "pending")]
    if own.enforced:
        held, carriers = _held_accounts(session)
        if not held:
            return Reconciled()
        cond += [sh.owner_branch_id == own.branch_id,
                 or_(sh.account_id.in_(held), and_(sh.account_id.is_(None), sh.carrier_id.in_(carriers)))]
    day = func.substr(sh.delivered_at, 1, 10)  # the delivery's day (stored as ISO text)
    found = {r[0]: r[1] for r in session.execute(select(sh.id, day).where(*cond))}
    # only what a settlement would settle now: not a shipment with nothing left to bill, nor one
    # refused (no tax rate) whose case is raised already, until what it waits for has come
    worth, left = settle.could_settle(session, sorted(found))
    rows = [{"shipment_id": i, "step": "delivered", "day": dt.date.fromisoformat(found[i]), "created_at": now,
             "attempts": 0, "message": ""} for i in sorted(worth)]
    queued = 0
    if rows:
        done = session.execute(insert(BillingDue.__table__).prefix_with("OR IGNORE"), rows)  # type: ignore[arg-type]
        queued = int(getattr(done, "rowcount", 0) or 0)
    if queued:
        log.warning("%d delivered shipments were neither invoiced nor queued (a workstation lost its queue?): queued",
                    queued)
    return Reconciled(queued, left)


def run_and_settle(engine: Engine) -> tuple[Reconciled, settle.Settled]:
    """One round, then the queue settled at once (``depot invoice reconcile``)."""
    with session_scope(engine) as s:
        found = reconcile(s)
    return found, settle.run(engine) if found.queued else settle.Settled()


def run(engine: Engine, _settings: Any = None) -> Reconciled:
    """The hourly job's round."""
    return run_and_settle(engine)[0]


#: hourly in the window (the queue's rows live seconds; a lost one is found within the hour after ``AFTER``)
RECONCILE = jobs.register(jobs.Job(
    "billing.reconcile", run, interval_s=3600, first_s=300, kinds=(Change.INVOICE, Change.EXCEPTION),
    label="find delivered shipments left uninvoiced"))
