"""Domain events: what a service call did, so other packages can attach their follow-ups to it.

Why: posting a receipt must roll the purchase order up, leave a follow-up for what is still owed
and release backorders, and the next issues add re-allocation, invoicing and notifications. If
``post_receipt`` called each of them it would import every package downstream of it and grow with
each issue. Instead it emits an event; each package registers its handler where it is defined::

    @on(GoodsReceived, name="buying.roll_up", order=10)
    def roll_up_po(session: Session, event: GoodsReceived) -> None: ...

``emit`` runs the matching handlers at once, in the caller's transaction (all of it is stored or
none of it), in ``order`` then ``name`` order. A handler tells the user something by appending to
``event.notes``; an event may carry other fields handlers fill in (``StockArrived.released``).

The events are declared here, at the bottom of the services layer, so a package subscribes to an
event without importing the package that emits it: imports keep pointing one way.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from sqlalchemy.orm import Session

from app.services.auth import Actor


@dataclass
class Event:
    """Base of every event: who acted (None for a settler or a background job), and the notes
    handlers leave for the user (the service returns them with its result)."""

    actor: Actor | None
    notes: list[str] = field(default_factory=list, kw_only=True)


@dataclass
class StatusChanged(Event):
    """A document moved from ``old`` to ``new`` (emitted by ``workflow.transition``)."""

    table: str
    doc: Any
    old: str
    new: str
    reason: str | None = None


@dataclass
class GoodsReceived(Event):
    """A goods receipt was posted against an expected receipt (a PO's, an ASN's or a follow-up)."""

    receipt: Any  # app.models.receiving.Receipt
    expected_receipt: Any  # app.models.purchasing.ExpectedReceipt
    po: Any | None  # app.models.purchasing.PurchaseOrder
    #: filled by the follow-up handler: the new expected receipt for what is still owed
    remainder: Any | None = None


@dataclass
class PoSent(Event):
    """A purchase order went (or went again: ``resend``) to its supplier. The e-mail is queued by the
    sender; other channels attach here (EDI writes the 850 / ORDERS file into ``outbound_dir``)."""

    po: Any  # app.models.purchasing.PurchaseOrder
    supplier: Any  # app.models.parties.Supplier
    resend: bool
    outbound_dir: str | Path | None = None
    #: filled by the EDI handler: the file written for the supplier's pick-up
    edi_file: Path | None = None


@dataclass
class StockArrived(Event):
    """Sellable stock came into a warehouse (a receipt, a transfer, a restocked return)."""

    warehouse_id: uuid.UUID
    item_ids: tuple[uuid.UUID, ...]
    source: str
    #: filled by handlers: sales orders released from backorder (numbers, in release order)
    released: list[str] = field(default_factory=list)


@dataclass
class AllocationChanged(Event):
    """An allocation run (a policy run, the re-allocation after stock arrived, a release) changed
    reservations and moved orders to ``allocated`` or ``backordered``."""

    run_numbers: list[str]
    kind: str
    #: order ids (UUID) whose status the run changed, by new status
    allocated: list[uuid.UUID] = field(default_factory=list)
    backordered: list[uuid.UUID] = field(default_factory=list)


@dataclass
class ShipmentConfirmed(Event):
    """Dispatch confirmed a shipment (issue 14): its stock left the packing location, the order
    lines' shipped quantities rose, and the carrier has its label (status ``label_created``).
    ``lines`` are the ``app.models.packing.ShipmentLine`` rows just written (Billing invoices
    from them); ``order`` the ``SalesOrder`` (None for a shipment without one)."""

    shipment: Any  # app.models.shipping.Shipment
    order: Any | None  # app.models.sales.SalesOrder
    lines: list[Any] = field(default_factory=list)


@dataclass
class ShipmentTracked(Event):
    """Base of the carrier-tracking events (emitted by ``app.services.tracking`` when it stores
    a carrier event that changes what the shipment is; ``actor`` is None: the poller acts).
    ``shipment`` is the ``app.models.shipping.Shipment``; ``event`` the ``TrackingEvent`` that
    caused it. A poll of two workstations at once (see docs/tracking.md) may emit the same event at
    both: a handler's rows must have ids derived from the shipment (``tracking.derived_id``)."""

    shipment: Any
    event: Any


@dataclass
class ShipmentPickedUp(ShipmentTracked):
    """The carrier has the parcel (its first scan after the label): the order has shipped."""


@dataclass
class ShipmentEtaChanged(ShipmentTracked):
    """The carrier now expects delivery on ``new_eta`` (was ``old_eta``, None the first time it
    said). ``late``: after the date promised to the customer."""

    old_eta: Any  # datetime.date | None
    new_eta: Any  # datetime.date
    late: bool = False


@dataclass
class ShipmentDelivered(ShipmentTracked):
    """The carrier delivered it (``at``, carrier time). ``pod`` is True when a proof of delivery
    came with it; when it comes later, ``PodReceived`` follows alone."""

    at: Any  # datetime.datetime | None
    pod: bool = False


@dataclass
class PodReceived(ShipmentTracked):
    """A proof of delivery (signed by, time, image reference) is now on the shipment: Invoicing
    releases the invoice of a customer invoiced on proof of delivery here."""

    signed_by: str = ""
    at: Any = None  # datetime.datetime | None


@dataclass
class ShipmentTrouble(ShipmentTracked):
    """Something a person must act on: ``kind`` is exception, attempt (failed delivery attempt),
    returned (return to sender), stale (no movement for N days), after_delivery (an exception
    reported after delivery), invalid (the carrier refuses the number)."""

    kind: str
    detail: str = ""


E = TypeVar("E", bound=Event)
Handler = Callable[[Session, Any], object]


@dataclass(frozen=True)
class Registration:
    event: type[Event]
    name: str
    order: int
    fn: Handler
    #: event attribute -> the value (or collection of values) it must have for the handler to run
    match: tuple[tuple[str, Any], ...]

    def wants(self, event: Event) -> bool:
        for attr, want in self.match:
            have = getattr(event, attr)
            if isinstance(want, Collection) and not isinstance(want, str):
                if have not in want:
                    return False
            elif have != want:
                return False
        return True


_HANDLERS: dict[str, Registration] = {}
_loaded = False
#: loads the packages that register handlers (installed by the composition root, app.services.wiring)
_loader: Callable[[], None] | None = None
_ORDERED: dict[type[Event], list[Registration]] = {}  # cache of handlers(), cleared on registration


def on(event: type[E], *, name: str, order: int = 50, **match: Any) -> Callable[[Callable[[Session, E], object]],
                                                                              Callable[[Session, E], object]]:
    """Register ``fn(session, event)`` for ``event`` (and its subclasses). ``name`` is unique
    ("package.what"); ``order`` places it among the others (lower first); ``match`` narrows it to
    events whose attributes have these values, e.g. ``on(StatusChanged, table="purchase_order",
    new="approved", name=...)``."""
    def register(fn: Callable[[Session, E], object]) -> Callable[[Session, E], object]:
        reg = Registration(event, name, order, fn, tuple(sorted(match.items())))
        old = _HANDLERS.get(name)
        if old is not None and old.fn.__qualname__ != fn.__qualname__:
            raise ValueError(f"two event handlers are named {name!r}: {old.fn.__qualname__}, {fn.__qualname__}")
        _HANDLERS[name] = reg
        _ORDERED.clear()
        return fn
    return register


def unregister(name: str) -> None:
    """Forget a handler (tests that register one for their own duration)."""
    _HANDLERS.pop(name, None)
    _ORDERED.clear()


def handlers(event_type: type[Event] | None = None) -> list[Registration]:
    """The registered handlers (of one event type), in the order they run."""
    if event_type is not None and event_type in _ORDERED:
        return _ORDERED[event_type]
    regs = sorted((r for r in _HANDLERS.values() if event_type is None or issubclass(event_type, r.event)),
                  key=lambda r: (r.order, r.name))
    if event_type is not None:
        _ORDERED[event_type] = regs
    return regs


def mark_loaded() -> None:
    """Called by ``app.services.wiring.load`` once every package has registered its handlers."""
    global _loaded
    _loaded = True


def loaded() -> bool:
    return _loaded


def install_loader(fn: Callable[[], None]) -> None:
    """The composition root hands over how to load the registering packages; the first follow-up
    (or settlement) loads them, so work that never emits an event never pays for the imports."""
    global _loader
    _loader = fn


def require_loaded(what: str) -> None:
    """Load the registering packages on first need; refuse to run follow-ups (or settlers) when
    nothing can load them: a follow-up that silently did not run would be a wrong document nobody
    notices."""
    if not _loaded and _loader is not None:
        _loader()
    if not _loaded:
        raise RuntimeError(f"{what} before app.services.wiring.install() or load(): the follow-ups registered "
                           "by the service packages would be skipped (entry points call install() at start)")


def emit(session: Session, event: E) -> E:
    """Run every handler registered for ``event`` in this transaction; returns the event (its
    notes and result fields filled in). A handler's error propagates: the caller's transaction
    rolls back with it, as if the service itself had failed."""
    require_loaded(f"{type(event).__name__} emitted")
    for reg in handlers(type(event)):
        if reg.wants(event):
            reg.fn(session, event)
    return event
