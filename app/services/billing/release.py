"""Invoices follow the shipment: follow-ups of the carrier's events (registered here, loaded by
``app.services.wiring``), so Tracking and Dispatch never import billing.

* Shipped (Dispatch's ship confirmation, ``ShipmentConfirmed``; for a shipment from before
  Dispatch, the carrier's first scan, ``ShipmentPickedUp``): the shipment's invoice is made; a
  customer billed on shipment has it released at once, one billed on delivery has it pending.
* Delivered (``ShipmentDelivered``) or a proof of delivery (``PodReceived``): the pending invoice
  is released with the POD reference (made first if the shipment had none yet).

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
from app.services import exception_inbox
from app.services.billing.invoices import invoice_shipment, pod_reference, release
from app.services.billing.profile import billing_of
from app.services.billing.shipped import billable_lines
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


def on_delivered(session: Session, sh: Shipment, today: dt.date) -> Invoice | None:
    """Proof of delivery: release the pending invoice (made now if the shipment had none)."""
    if not owns(session, sh.owner_branch_id) or _invoice_on(session, sh) is None:
        return None
    inv = _pending(session, sh) or _make(session, sh, today)
    if inv is not None and inv.status == "pending":
        release(session, None, inv.id, today=today, pod_ref=pod_reference(sh))
    return inv


@on(ShipmentConfirmed, name="billing.invoice_on_confirm", order=60)
def _confirmed(session: Session, event: ShipmentConfirmed) -> None:
    inv = on_shipped(session, event.shipment, dt.date.today())
    if inv is not None:
        event.notes.append(f"invoice {inv.number} {inv.status}")


@on(ShipmentPickedUp, name="billing.invoice_on_pickup", order=60)
def _picked_up(session: Session, event: ShipmentPickedUp) -> None:
    inv = on_shipped(session, event.shipment, dt.date.today())
    if inv is not None:
        event.notes.append(f"invoice {inv.number} {inv.status}")


@on(ShipmentDelivered, name="billing.release_on_delivery", order=60)
def _delivered(session: Session, event: ShipmentDelivered) -> None:
    inv = on_delivered(session, event.shipment, _day(event.at))
    if inv is not None:
        event.notes.append(f"invoice {inv.number} {inv.status}")


@on(PodReceived, name="billing.release_on_pod", order=60)
def _pod(session: Session, event: PodReceived) -> None:
    inv = on_delivered(session, event.shipment, _day(event.at))
    if inv is not None:
        event.notes.append(f"invoice {inv.number} {inv.status}")
