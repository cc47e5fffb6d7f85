"""Document states and their allowed transitions, declared in one place.

Every table with a ``status`` column has a ``Workflow`` here: its states, the moves between
them, the states a new row may start in, and how a move is recorded (audit verb, time and user
columns stamped). ``app.services.workflow.transition`` is the one function that changes a
status: it checks this table, stamps, audits and announces the change. A test walks every
declared transition and another fails on any ``.status =`` write in the services.

Open and closed sets are derived, never listed by hand: a state with no way out is *closed*
(final); every other state is *open*. The server refuses edits of a document in a closed state
(``locks_final``; see docs/replication.md). Later issues add their documents here.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field


def _t(spec: Mapping[str, tuple[str, ...] | set[str] | frozenset[str]]) -> dict[str, frozenset[str]]:
    return {state: frozenset(nxt) for state, nxt in spec.items()}


@dataclass(frozen=True)
class Workflow:
    """The life of one document type (``table`` = its table name)."""

    table: str
    #: what a user calls it ("purchase order"), for messages
    label: str
    transitions: Mapping[str, frozenset[str]]
    #: states a new row may be created in
    initial: frozenset[str]
    #: audit action prefix ("po" -> "po.approved"); verbs override the state name per target
    audit_prefix: str = ""
    verbs: Mapping[str, str] = field(default_factory=dict)
    #: target state -> column stamped with the time / with the acting user's id
    stamps: Mapping[str, str] = field(default_factory=dict)
    stamp_user: Mapping[str, str] = field(default_factory=dict)
    #: attributes copied into every audit entry (the human reference first)
    audit_fields: tuple[str, ...] = ("number",)
    #: False when the move is recorded elsewhere (a line's status follows its document's entry;
    #: a serial's life is the stock ledger's moves)
    audited: bool = True
    #: the server refuses any edit of a row in a closed state (DESIGN: posted or cancelled
    #: documents refuse further edits)
    locks_final: bool = False

    @property
    def states(self) -> frozenset[str]:
        return frozenset(self.transitions)

    @property
    def closed(self) -> frozenset[str]:
        """Final states: no way out."""
        return frozenset(s for s, nxt in self.transitions.items() if not nxt)

    @property
    def open(self) -> frozenset[str]:
        return self.states - self.closed

    def verb(self, new: str) -> str:
        return self.verbs.get(new, new)

    def action(self, new: str) -> str:
        return f"{self.audit_prefix or self.table}.{self.verb(new)}"


#: where a shipment may be between pickup and its end (the Carriers issue's status set)
SHIPMENT_MOVING = frozenset({"picked_up", "in_transit", "out_for_delivery", "delayed", "exception",
                             "delivery_attempted", "available_for_pickup"})
#: a shipment Dispatch is still packing or labelling (not handed to the carrier: tracking ignores it)
SHIPMENT_UNCONFIRMED = frozenset({"packing", "packed"})

_DECLARED: tuple[Workflow, ...] = (
    # --- buying -------------------------------------------------------------------------------
    Workflow(
        "purchase_order", "purchase order", _t({
            "draft": {"pending_approval", "approved", "cancelled"},
            "pending_approval": {"approved", "rejected", "draft", "cancelled"},
            "rejected": {"draft", "cancelled"},
            "approved": {"sent", "draft", "cancelled"},
            "sent": {"confirmed", "partially_received", "received", "draft", "cancelled", "closed"},
            "confirmed": {"partially_received", "received", "draft", "cancelled", "closed"},
            "partially_received": {"received", "closed"},
            "received": {"closed"},
            "closed": (),
            "cancelled": (),
        }), frozenset({"draft"}), audit_prefix="po", audit_fields=("number", "revision"), locks_final=True),
    Workflow(
        "purchase_order_line", "purchase order line", _t({
            "open": {"partially_received", "received"},
            "partially_received": {"received"},
            "received": (),
        }), frozenset({"open"}), audit_fields=("line_no",), audited=False),
    Workflow(
        "requisition", "requisition", _t({
            "open": {"converted", "cancelled"},
            "converted": (),
            "cancelled": (),
        }), frozenset({"open"}), verbs={"converted": "convert", "cancelled": "cancel"}),
    # --- receiving ----------------------------------------------------------------------------
    # An expected receipt is posted in one call (scanning happens in memory), so it goes from
    # expected (or arrived: the truck is at the dock) straight to received.
    Workflow(
        "expected_receipt", "expected receipt", _t({
            "expected": {"arrived", "received", "cancelled"},
            "arrived": {"received", "cancelled"},
            "received": (),
            "cancelled": (),
        }), frozenset({"expected"}), verbs={"cancelled": "cancel"},
        stamps={"arrived": "arrived_at", "received": "received_at"}, locks_final=True),
    Workflow(
        "receipt", "receipt", _t({"posted": ()}), frozenset({"posted"})),
    Workflow(
        "quality_hold", "quality hold", _t({
            "held": {"released", "rejected"},
            "released": (),
            "rejected": (),
        }), frozenset({"held"}), audit_prefix="hold", verbs={"released": "release", "rejected": "reject"},
        stamps={"released": "decided_at", "rejected": "decided_at"},
        stamp_user={"released": "decided_by_id", "rejected": "decided_by_id"}, audit_fields=("qty",)),
    Workflow(
        "putaway_task", "putaway task", _t({"open": {"done"}, "done": ()}), frozenset({"open"}),
        audit_prefix="putaway", verbs={"done": "confirm"}, stamps={"done": "confirmed_at"},
        stamp_user={"done": "confirmed_by_id"}, audit_fields=("qty",)),
    # the registry of serial-tracked units: its history is the stock ledger (each move names the serial)
    Workflow(
        "serial_number", "serial number", _t({
            "in_stock": {"held", "transferred", "shipped", "rtv", "scrapped"},
            "held": {"in_stock", "transferred", "rtv"},
            "transferred": {"in_stock", "held"},
            "shipped": {"in_stock", "held"},
            "rtv": {"in_stock", "held"},
            "scrapped": {"in_stock", "held"},
        }), frozenset({"in_stock", "held"}), audit_fields=("serial",), audited=False),
    # --- inventory ----------------------------------------------------------------------------
    Workflow(
        "transfer_order", "transfer", _t({
            "draft": {"shipped", "cancelled"},
            "shipped": {"received"},
            "received": (),
            "cancelled": (),
        }), frozenset({"draft"}), audit_prefix="transfer", verbs={"shipped": "ship", "cancelled": "cancel"},
        stamps={"shipped": "shipped_at", "received": "received_at"}),
    Workflow(
        "count_task", "count", _t({
            "scheduled": {"counting", "cancelled"},
            "counting": {"posted", "recount", "cancelled"},
            "recount": {"posted", "pending_approval", "cancelled"},
            "pending_approval": {"posted", "cancelled"},
            "posted": (),
            "cancelled": (),
        }), frozenset({"scheduled"}), audit_prefix="count",
        verbs={"counting": "start", "recount": "needs_recount", "pending_approval": "needs_approval",
               "posted": "post", "cancelled": "cancel"},
        stamps={"counting": "started_at", "posted": "posted_at"}),
    Workflow(
        "rma", "RMA", _t({
            "authorised": {"received", "cancelled"},
            "received": {"inspected"},
            "inspected": {"closed"},
            "closed": (),
            "cancelled": (),
        }), frozenset({"authorised"}),
        verbs={"received": "receive", "inspected": "inspect", "closed": "close", "cancelled": "cancel"},
        stamps={"received": "received_at", "closed": "closed_at"}),
    # a credit owed for a return; invoicing (a later issue) issues the credit note
    Workflow(
        "credit_request", "credit request", _t({"open": {"credited"}, "credited": ()}), frozenset({"open"}),
        audit_prefix="credit"),
    Workflow(
        "replenish_task", "replenishment task", _t({"open": {"done", "cancelled"}, "done": (), "cancelled": ()}),
        frozenset({"open"}), audit_prefix="replenish", verbs={"done": "confirm", "cancelled": "cancel"},
        stamps={"done": "confirmed_at"}, stamp_user={"done": "confirmed_by_id"}, audit_fields=("qty",)),
    # --- the outbound half (its issues add their documents and states) -----------------------
    # open: entered, waiting for stock; an allocation run makes it allocated (every line reserved)
    # or backordered (something short); a credit hold takes its reservations back (issue 12)
    Workflow(
        "sales_order", "sales order", _t({
            "draft": {"open", "cancelled"},
            "open": {"credit_hold", "allocated", "backordered", "cancelled"},
            "credit_hold": {"open", "cancelled"},
            "backordered": {"open", "allocated", "credit_hold", "cancelled"},
            "allocated": {"picking", "open", "backordered", "credit_hold", "cancelled"},
            "picking": {"packed", "allocated"},
            "packed": {"shipped"},
            "shipped": {"delivered", "invoiced"},
            "delivered": {"invoiced"},
            "invoiced": {"closed"},
            "closed": (),
            "cancelled": (),
        }), frozenset({"draft", "open", "backordered", "credit_hold"}), audit_prefix="order",
        verbs={"credit_hold": "credit_hold", "cancelled": "cancel"}, locks_final=True),
    # a line's reservation is its quantities (qty_allocated), not a state; its status says whether
    # it still wants stock (open), was cancelled, or went out
    Workflow(
        "sales_order_line", "sales order line", _t({
            "open": {"picking", "shipped", "cancelled"},
            "picking": {"open", "shipped"},
            "shipped": {"closed"},
            "closed": (),
            "cancelled": (),
        }), frozenset({"open"}), audit_fields=("line_no",), audited=False),
    # a wave (Dispatch, issue 14): planned waves are proposals (a new plan cancels them); released
    # ones are picked (un-release before the first pick puts it back to planned); picked when every
    # line is picked or short
    Workflow(
        "wave", "wave", _t({
            "planned": {"released", "cancelled"},
            "released": {"planned", "picking", "picked"},
            "picking": {"picked"},
            "picked": (),
            "cancelled": (),
        }), frozenset({"planned"}), audit_prefix="wave", verbs={"released": "release", "cancelled": "cancel"},
        stamps={"released": "released_at", "picked": "picked_at"}, stamp_user={"released": "released_by_id"}),
    # a pick line is open until its bin is visited: picked (all of it) or short (less, with a reason);
    # cancelled with its wave's plan or its un-release
    Workflow(
        "pick_line", "pick line", _t({
            "open": {"picked", "short", "cancelled"},
            "picked": (),
            "short": (),
            "cancelled": (),
        }), frozenset({"open"}), audit_fields=("seq",), audited=False,
        stamps={"picked": "picked_at", "short": "picked_at"}, stamp_user={"picked": "picked_by_id", "short": "picked_by_id"}),
    # a shipment follows its carrier's newest event (Tracking, issue 15): once picked up it may move
    # between the moving states in any order the carrier reports them, and ends delivered,
    # returned or cancelled (voided before pickup). Not locked when final: a carrier's facts keep
    # arriving after delivery (a proof of delivery a day later, an exception after delivery is
    # flagged on the row), and only the poller writes them.
    # Before tracking's states, Dispatch's (issue 14): packing (cartons open), packed (every carton
    # closed: rate, label), then ship confirmation makes it label_created. A label bought but not
    # confirmed is in label_number (tracking_number stays '' so nothing polls it). A confirmed label
    # voided before the carrier scanned it takes the shipment back to packed.
    Workflow(
        "shipment", "shipment", _t({
            "packing": {"packed", "cancelled"},
            "packed": {"packing", "label_created", "cancelled"},
            "label_created": {*SHIPMENT_MOVING, "delivered", "returned", "cancelled", "packed"},
            **{s: {*(SHIPMENT_MOVING - {s}), "delivered", "returned"} for s in SHIPMENT_MOVING},
            "delivered": (),
            "returned": (),
            "cancelled": (),
        }), frozenset({"packing", "label_created"}), audit_fields=("number", "tracking_number"),
        verbs={"label_created": "confirmed"}, stamps={"delivered": "delivered_at", "label_created": "shipped_at"}),
    Workflow(
        "carton", "carton", _t({"open": {"closed", "cancelled"}, "closed": {"open"}, "cancelled": ()}),
        frozenset({"open"}), audit_fields=("sscc",), verbs={"closed": "close", "open": "reopen", "cancelled": "cancel"},
        stamps={"closed": "closed_at"}),
    Workflow(
        "manifest", "manifest", _t({"open": {"closed"}, "closed": ()}), frozenset({"open"}),
        verbs={"closed": "close"}, stamps={"closed": "closed_at"}),
    Workflow(
        "shipment_label", "shipment label", _t({"active": {"voided"}, "voided": ()}), frozenset({"active"}),
        audit_prefix="label", verbs={"voided": "void"}, stamps={"voided": "voided_at"}, audit_fields=("tracking_number",)),
    # --- billing (issue 16) --------------------------------------------------------------------
    # an invoice waits (pending) for its release: proof of delivery or shipment, per customer;
    # a credit note is born released. A released document is never edited: a credit note corrects it.
    Workflow(
        "invoice", "invoice", _t({
            "pending": {"released", "cancelled"},
            "released": (),
            "cancelled": (),
        }), frozenset({"pending", "released"}), audit_prefix="invoice",
        verbs={"released": "release", "cancelled": "cancel"},
        stamps={"released": "released_at", "cancelled": "cancelled_at"},
        stamp_user={"released": "released_by_id"}),
    # --- cross-cutting ------------------------------------------------------------------------
    Workflow(
        "exception_item", "exception", _t({
            "open": {"acknowledged", "resolved"},
            "acknowledged": {"resolved"},
            "resolved": (),
        }), frozenset({"open"}), audit_prefix="exception",
        verbs={"acknowledged": "acknowledge", "resolved": "resolve"},
        stamps={"acknowledged": "acknowledged_at", "resolved": "resolved_at"},
        stamp_user={"acknowledged": "acknowledged_by_id", "resolved": "resolved_by_id"}, audit_fields=()),
    # the e-mail outbox: a failed message may be queued again (after fixing the address)
    Workflow(
        "email_outbox", "e-mail", _t({"queued": {"sent", "failed"}, "failed": {"queued"}, "sent": ()}),
        frozenset({"queued"}), audit_prefix="email", verbs={"queued": "requeue"}, stamps={"sent": "sent_at"},
        audit_fields=("to_addr",)),
    # an imported supplier message is processed; finding differences on the way marks it so
    Workflow(
        "supplier_message", "supplier message", _t({
            "processed": {"differences"},
            "differences": (),
            "exported": (),
        }), frozenset({"processed", "exported"}), audit_fields=("doc_ref",), audited=False),
)

#: table name -> its workflow
WORKFLOW: dict[str, Workflow] = {wf.table: wf for wf in _DECLARED}

#: table name -> state -> states it may move to (the plain table, for readers that need no more)
WORKFLOWS: dict[str, dict[str, frozenset[str]]] = {t: dict(wf.transitions) for t, wf in WORKFLOW.items()}

#: open / closed (final) states of every document, derived from the table
OPEN_STATES: dict[str, frozenset[str]] = {t: wf.open for t, wf in WORKFLOW.items()}
CLOSED_STATES: dict[str, frozenset[str]] = {t: wf.closed for t, wf in WORKFLOW.items()}
FINAL_STATES = CLOSED_STATES

#: closed states of the documents whose closed rows the server refuses to edit (replication)
LOCKED_STATES: dict[str, frozenset[str]] = {t: wf.closed for t, wf in WORKFLOW.items() if wf.locks_final}


def open_states(doc: str) -> tuple[str, ...]:
    """The open states of ``doc`` in declaration order (for SQL ``IN`` lists and listings)."""
    wf = WORKFLOW[doc]
    return tuple(s for s in wf.transitions if s in wf.open)


def allowed(doc: str, current: str, new: str) -> bool:
    return new in WORKFLOWS[doc].get(current, frozenset())


def check_transition(doc: str, current: str, new: str) -> None:
    """Raise ``ValueError`` naming both states when a document may not move from one to the other."""
    if doc not in WORKFLOWS:
        raise ValueError(f"unknown document type {doc!r}")
    if current not in WORKFLOWS[doc]:
        raise ValueError(f"{doc}: unknown state {current!r}")
    if not allowed(doc, current, new):
        raise ValueError(f"{doc}: cannot go from {current!r} to {new!r}")
