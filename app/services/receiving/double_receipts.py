"""One delivery received on two workstations of the branch while both were offline.

Receiving posts once per expected receipt (the expected receipt is then 'received' and refuses a
second post), but two workstations that had not synced each post their own receipt and each adds
the goods to stock. Nothing can stop that offline; this settler makes it visible the moment both
receipts are on one site: one exception per expected receipt, for a manager, naming both receipts.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.purchasing import ExpectedReceipt
from app.models.receiving import Receipt
from app.models.types import utcnow
from app.services.exception_inbox import raise_once
from app.services.ownership import ownership, settler

_NS = uuid.UUID("2b1e6a52-93f4-4c7e-8d0f-5a6b7c8d9e01")
#: only receipts this recent can still be a double post found by a pull
WINDOW = dt.timedelta(days=60)


@settler("receiving.double_receipts")
def flag_double_receipts(session: Session) -> int:
    own = ownership(session)
    q = (select(Receipt.expected_receipt_id)
         .where(Receipt.status == "posted", Receipt.posted_at >= utcnow() - WINDOW, Receipt.deleted_at.is_(None))
         .group_by(Receipt.expected_receipt_id).having(func.count() > 1))
    if own.enforced:
        q = q.where(Receipt.owner_branch_id == own.branch_id)
    raised = 0
    for er_id in session.scalars(q):
        er = session.get(ExpectedReceipt, er_id)
        numbers = ", ".join(session.scalars(select(Receipt.number).where(
            Receipt.expected_receipt_id == er_id, Receipt.status == "posted").order_by(Receipt.number)))
        if er is None:
            continue
        key = f"receipt.posted_twice:{er_id.hex}"
        item = raise_once(
            session, None, kind="receipt.posted_twice", severity="error", role="manager",
            owner_branch_id=er.owner_branch_id, entity="expected_receipt", entity_id=er.id, entity_ref=er.number,
            key=key, item_id=uuid.uuid5(_NS, key),  # every workstation of the branch raises the same row
            title=f"{er.number} was received twice ({numbers})",
            detail=("Two workstations posted this delivery while they were offline, so its goods were added "
                    "to stock twice. Count the items at the dock and putaway bins and post the difference "
                    f"as an adjustment; the receipts are {numbers}."))
        raised += item is not None
    return raised
