"""What the ERP does when a carrier event arrives: each response is one handler, registered on the
``ShipmentTracked`` events and switched on or off in the branch's tracking policy
(Settings > Tracking). Customer notices are not here: the event row carries the notice it calls
for and ``notices`` queues it.

* picked up  -> the sales order is shipped (``order_shipped_on_pickup``)
* ETA later than promised -> an exception for the account team (clerk) (``late_eta_exception``)
* exception, failed attempt, return to sender, no movement, exception after delivery, a number
  the carrier refuses -> a case in the exception inbox for the dispatcher, with a suggested action
  (``trouble_cases``)
* delivered  -> the sales order is delivered once all its shipments are; Invoicing releases the
  invoice on ``ShipmentDelivered`` / ``PodReceived`` (its own handler)

Exception rows get ids derived from the shipment and the event, so two workstations raising the
same case converge on one row.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.parties import Carrier, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import derived_id
from app.services.events import ShipmentDelivered, ShipmentEtaChanged, ShipmentPickedUp, ShipmentTrouble, on
from app.services.exception_inbox import raise_exception
from app.services.tracking.policy import policy_for
from app.services.workflow import transition

#: case kind -> (title words, severity, suggested action)
CASES = {
    "exception": ("carrier exception", "error",
                  "file a claim with the carrier if the goods are damaged or lost, or reship"),
    "attempt": ("failed delivery attempt", "warning",
                "contact the customer to arrange the next attempt (or a pickup at the carrier)"),
    "returned": ("returned to sender", "error", "contact the customer, then reship or refund"),
    "stale": ("no tracking movement", "warning", "ask the carrier for a trace; reship if it is lost"),
    "after_delivery": ("exception after delivery", "warning",
                       "contact the customer; file a claim if the goods arrived damaged"),
    "invalid": ("tracking number refused", "error",
                "check the tracking number on the shipment (the carrier does not accept it)"),
}


#: ``session.info`` key: order id -> its shipments (ORM rows), read once by the poller's apply
SIBLINGS = "tracking.siblings"


def _names(session: Session, shipment: Shipment) -> tuple[str, str, str]:
    """(carrier name, customer name, order number) for messages. The order from the identity map
    (the poller's apply holds its shipments' orders: no query), the customer's name cached for the
    session (a cycle's cases name the same customers often)."""
    carrier = carrier_name(session, shipment.carrier_id)
    customer, order = "", ""
    if shipment.sales_order_id is not None:
        so = session.get(SalesOrder, shipment.sales_order_id)
        if so is not None:
            order, customer = so.number, _customer_name(session, so.customer_id)
    return carrier, customer, order


def _customer_name(session: Session, customer_id: object) -> str:
    cache: dict[object, str] = session.info.setdefault("tracking_customer_names", {})
    if customer_id not in cache:
        cache[customer_id] = session.scalar(select(Customer.name).where(Customer.id == customer_id)) or ""
    return cache[customer_id]


def carrier_name(session: Session, carrier_id: object) -> str:
    """A carrier's name (cached for the session: a cycle names the same few carriers often)."""
    cache: dict[object, str] = session.info.setdefault("tracking_carrier_names", {})
    if carrier_id not in cache:
        cache[carrier_id] = session.scalar(select(Carrier.name).where(Carrier.id == carrier_id)) or "the carrier"
    return cache[carrier_id]


def suggested_action(kind: str) -> str:
    return CASES.get(kind, ("", "", "look into it"))[2]


@on(ShipmentPickedUp, name="tracking.order_shipped", order=20)
def order_shipped(session: Session, event: ShipmentPickedUp) -> None:
    """The carrier has it: a packed order is shipped."""
    shipment: Shipment = event.shipment
    if shipment.sales_order_id is None or not policy_for(session, shipment.owner_branch_id).order_shipped_on_pickup:
        return
    order = session.get(SalesOrder, shipment.sales_order_id)
    if order is None or order.status != "packed":
        return  # already shipped (or further), or not packed yet: nothing to say to the order
    carrier, _c, _o = _names(session, shipment)
    transition(order, "shipped", None, f"{shipment.number} picked up by {carrier}", shipment=shipment.number)
    event.notes.append(f"order {order.number} shipped ({shipment.number} picked up)")


@on(ShipmentDelivered, name="tracking.order_delivered", order=20)
def order_delivered(session: Session, event: ShipmentDelivered) -> None:
    """The last of an order's shipments is delivered: so is the order (Invoicing takes it on)."""
    shipment: Shipment = event.shipment
    if shipment.sales_order_id is None:
        return
    order = session.get(SalesOrder, shipment.sales_order_id)
    if order is None or order.status != "shipped":
        return
    # ORM rows, not a count: the identity map holds the statuses this batch changed, unflushed (the
    # poller's apply reads every order's shipments at once and hands them over in ``SIBLINGS``)
    siblings = session.info.get(SIBLINGS, {}).get(order.id)
    if siblings is None:
        siblings = session.scalars(select(Shipment).where(Shipment.sales_order_id == order.id,
                                                          Shipment.deleted_at.is_(None))).all()
    if any(s.status not in ("delivered", "cancelled") for s in siblings if s is not shipment):
        return
    transition(order, "delivered", None, f"{shipment.number} delivered", shipment=shipment.number)
    event.notes.append(f"order {order.number} delivered")


@on(ShipmentEtaChanged, name="tracking.late_eta", order=30)
def late_eta(session: Session, event: ShipmentEtaChanged) -> None:
    """An ETA after the promised date: the account team hears of it (one open case a shipment)."""
    shipment: Shipment = event.shipment
    if not event.late or not policy_for(session, shipment.owner_branch_id).late_eta_exception:
        return
    carrier, customer, order = _names(session, shipment)
    key = f"tracking.late:{shipment.id.hex}"
    raise_exception(
        session, None, kind="tracking.late", role="clerk", severity="warning", owner_branch_id=shipment.owner_branch_id,
        title=f"{shipment.number} late: expected {event.new_eta}, promised {shipment.promised_date}"
              + (f" ({customer})" if customer else ""),
        detail=(f"Customer {customer or '-'}, order {order or '-'}, {carrier} {shipment.tracking_number}.\n"
                f"Carrier says: {shipment.status_text or shipment.status}.\n"
                "Suggested action: tell the customer the new date, or reship faster if it cannot wait."),
        entity="shipment", entity_id=shipment.id, entity_ref=shipment.number, key=key,
        item_id=derived_id("exception", key, event.new_eta))


@on(ShipmentTrouble, name="tracking.trouble_case", order=30)
def trouble_case(session: Session, event: ShipmentTrouble) -> None:
    """A case for the dispatcher with what to do about it."""
    shipment: Shipment = event.shipment
    if not policy_for(session, shipment.owner_branch_id).trouble_cases:
        return
    words, severity, action = CASES.get(event.kind, (event.kind, "warning", "look into it"))
    carrier, customer, order = _names(session, shipment)
    key = f"tracking.{event.kind}:{shipment.id.hex}"
    cause = event.event.id if event.event is not None else shipment.moved_at or shipment.polled_at
    where = f" at {event.event.location}" if event.event is not None and event.event.location else ""
    raise_exception(
        session, None, kind=f"tracking.{event.kind}", role="dispatcher", severity=severity,
        owner_branch_id=shipment.owner_branch_id,
        title=f"{shipment.number} {words}" + (f" for {customer}" if customer else ""),
        detail=(f"{carrier} {shipment.tracking_number}: {event.detail or shipment.status_text or shipment.status}"
                f"{where}.\nCustomer {customer or '-'}, order {order or '-'}.\nSuggested action: {action}."),
        entity="shipment", entity_id=shipment.id, entity_ref=shipment.number, key=key,
        item_id=derived_id("exception", key, cause))


def open_cases(session: Session, shipment_id: object) -> list[ExceptionItem]:
    """The exception inbox's open cases about one shipment (for its detail view)."""
    return list(session.scalars(select(ExceptionItem).where(
        ExceptionItem.entity == "shipment", ExceptionItem.entity_id == shipment_id,
        ExceptionItem.status != "resolved", ExceptionItem.deleted_at.is_(None)).order_by(ExceptionItem.created_at)))
