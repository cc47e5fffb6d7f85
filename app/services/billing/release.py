"""Invoices follow the shipment: follow-ups of the carrier's events (registered here, loaded by
``app.services.wiring``), so Tracking and Dispatch never import billing.

* Shipped (Dispatch's ship confirmation, ``ShipmentConfirmed``; for a shipment from before
  Dispatch, the carrier's first scan, ``ShipmentPickedUp``): the shipment's invoice is made; a
  customer billed on shipment has it released at once, one billed on delivery has it pending.
* Delivered (``ShipmentDelivered``) or a proof of delivery (``PodReceived``): the pending invoice
  is released with the POD reference (made first if the shipment had none yet).

The carrier's events (pickup, delivery, POD) arrive in the poller's transaction, thousands a cycle:
their follow-up is queued there (``queue``: one ``billing_due`` row, the event's durable promise)
and the billing job settles the queue in batches (``settle``), at the end of the same poll cycle.
Dispatch's confirmation is one user's action on one shipment: it is invoiced at once.

An invoice made by a follow-up has an id derived from the shipment, so a second workstation that
sees the same carrier event makes the same row instead of a second invoice. A shipment with
nothing billable (no sales order, already invoiced) is left alone; a missing tax rate is raised
in the exception inbox for a clerk instead of stopping the carrier's update.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.billing import Invoice
from app.models.parties import Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.types import iso_utc, utcnow
from app.services import exception_inbox
from app.services.billing.invoices import invoice_shipment, release
from app.services.billing.profile import billing_of
from app.services.billing.shipped import billable_lines
from app.services.bulk import cursor
from app.services.errors import DomainError
from app.services.events import PodReceived, ShipmentConfirmed, ShipmentDelivered, ShipmentPickedUp, on
from app.services.ownership import owns


def _invoice_on(session: Session, sh: Shipment) -> str | None:
    if sh.sales_order_id is None:
        return None
    order = session.get(SalesOrder, sh.sales_order_id)
    cust = session.get(Customer, order.customer_id) if order else None
    return billing_of(session, cust).invoice_on if cust else None


def _pending(session: Session, sh: Shipment) -> Invoice | None:
    return session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id, Invoice.kind == "invoice",
                                                 Invoice.status == "pending")).first()


def _day(at: object) -> dt.date:
    return at.astimezone(dt.UTC).date() if isinstance(at, dt.datetime) else dt.date.today()


def _make(session: Session, sh: Shipment, today: dt.date) -> Invoice | None:
    if not billable_lines(session, sh):
        return None
    try:
        with session.begin_nested():
            return invoice_shipment(session, None, sh.id, today=today, derived_id=True)
    except DomainError as e:
        exception_inbox.raise_exception(
            session, None, kind="billing.invoice", title=f"{sh.number} could not be invoiced", detail=str(e),
            severity="warning", role="clerk", entity="shipment", entity_id=sh.id, entity_ref=sh.number,
            key=f"billing.invoice:{sh.id.hex}", owner_branch_id=sh.owner_branch_id)
        return None


def on_shipped(session: Session, sh: Shipment, today: dt.date) -> Invoice | None:
    """The shipment left: make its invoice; release it at once for customers billed on shipment."""
    if not owns(session, sh.owner_branch_id):
        return None
    mode = _invoice_on(session, sh)
    if mode is None:
        return None
    inv = _pending(session, sh) or _make(session, sh, today)
    if inv is not None and mode == "shipment" and inv.status == "pending":
        release(session, None, inv.id, today=today)
    return inv


@on(ShipmentConfirmed, name="billing.invoice_on_confirm", order=60)
def _confirmed(session: Session, event: ShipmentConfirmed) -> None:
    inv = on_shipped(session, event.shipment, dt.date.today())
    if inv is not None:
        event.notes.append(f"invoice {inv.number} {inv.status}")


#: a carrier event's follow-up, queued in the tracking transaction (settled by ``settle``); the key
#: (shipment, step) makes an event seen twice one row
_QUEUE_SQL = ("INSERT OR IGNORE INTO billing_due (shipment_id, step, day, created_at, attempts, message) "
              "VALUES (?, ?, ?, ?, 0, '')")


def queue(session: Session, sh: Shipment, step: str, day: dt.date) -> bool:
    """Queue the shipment's invoicing ``step`` ('shipped' or 'delivered') for the billing job, in the
    caller's transaction. False when billing has nothing to do with it (no order, another branch's)."""
    if sh.sales_order_id is None or not owns(session, sh.owner_branch_id):
        return False
    tx = session.get_transaction()
    memo: tuple[object, set[tuple[object, str]]] | None = session.info.get("billing_due")
    if memo is None or memo[0] is not tx:  # what this transaction queued already (a delivery and its POD)
        memo = session.info["billing_due"] = (tx, set())
    if (sh.id, step) in memo[1]:
        return True
    memo[1].add((sh.id, step))
    cursor(session).execute(_QUEUE_SQL, (sh.id, step, day.isoformat(), iso_utc(utcnow())))
    return True


@on(ShipmentPickedUp, name="billing.invoice_on_pickup", order=60)
def _picked_up(session: Session, event: ShipmentPickedUp) -> None:
    if queue(session, event.shipment, "shipped", dt.date.today()):
        event.notes.append(f"{event.shipment.number}: invoice queued")


@on(ShipmentDelivered, name="billing.release_on_delivery", order=60)
def _delivered(session: Session, event: ShipmentDelivered) -> None:
    if queue(session, event.shipment, "delivered", _day(event.at)):
        event.notes.append(f"{event.shipment.number}: invoice release queued")


@on(PodReceived, name="billing.release_on_pod", order=60)
def _pod(session: Session, event: PodReceived) -> None:
    queue(session, event.shipment, "delivered", _day(event.at))
