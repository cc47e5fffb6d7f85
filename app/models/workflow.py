"""Document states and their allowed transitions, declared in one place.

Services call ``check_transition`` before changing a status; one generic test walks
every transition. Later issues add their documents here.
"""

from __future__ import annotations

WORKFLOWS: dict[str, dict[str, frozenset[str]]] = {
    "purchase_order": {
        "draft": frozenset({"pending_approval", "approved", "cancelled"}),
        "pending_approval": frozenset({"approved", "rejected", "draft", "cancelled"}),
        "rejected": frozenset({"draft", "cancelled"}),
        "approved": frozenset({"sent", "draft", "cancelled"}),
        "sent": frozenset({"confirmed", "partially_received", "received", "draft", "cancelled", "closed"}),
        "confirmed": frozenset({"partially_received", "received", "draft", "cancelled", "closed"}),
        "partially_received": frozenset({"received", "closed"}),
        "received": frozenset({"closed"}),
        "closed": frozenset(),
        "cancelled": frozenset(),
    },
    "sales_order": {
        "draft": frozenset({"open", "cancelled"}),
        "open": frozenset({"credit_hold", "allocated", "backordered", "cancelled"}),
        "credit_hold": frozenset({"open", "cancelled"}),
        "backordered": frozenset({"open", "allocated", "cancelled"}),
        "allocated": frozenset({"picking", "open", "cancelled"}),
        "picking": frozenset({"packed", "allocated"}),
        "packed": frozenset({"shipped"}),
        "shipped": frozenset({"delivered", "invoiced"}),
        "delivered": frozenset({"invoiced"}),
        "invoiced": frozenset({"closed"}),
        "closed": frozenset(),
        "cancelled": frozenset(),
    },
    "expected_receipt": {
        "expected": frozenset({"arrived", "receiving", "cancelled"}),
        "arrived": frozenset({"receiving", "cancelled"}),
        "receiving": frozenset({"received"}),
        "received": frozenset({"closed"}),
        "closed": frozenset(),
        "cancelled": frozenset(),
    },
    "shipment": {
        "label_created": frozenset({"in_transit", "cancelled"}),
        "in_transit": frozenset({"delivered", "exception", "returned"}),
        "exception": frozenset({"in_transit", "delivered", "returned"}),
        "delivered": frozenset(),
        "returned": frozenset(),
        "cancelled": frozenset(),
    },
}

#: states after which a document refuses edits (replication enforces the same)
FINAL_STATES: dict[str, frozenset[str]] = {
    doc: frozenset(s for s, nxt in states.items() if not nxt) for doc, states in WORKFLOWS.items()
}


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
