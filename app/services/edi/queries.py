"""Read-only lists for the Supplier confirmations screen and the CLI (no writes here).

Paging follows ``app.views.widgets.paged``: ``fetch(session, query, after, limit)`` returns
``(rows, next_after)``, ``after`` being the offset of the next page (None = no more).
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.edi import SupplierMessage, SupplierMessageLine
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, PurchaseOrderLine

CONFIRMATION_TYPES = ("855", "ORDRSP")
SHIP_NOTICE_TYPES = ("856", "DESADV")


@dataclass(frozen=True)
class MessageQuery:
    """kind: 'all', 'confirmations', 'ship_notices'; only_differences; text matches PO, doc ref, file."""

    kind: str = "all"
    only_differences: bool = False
    text: str = ""


@dataclass(frozen=True)
class MessageRow:
    id: uuid.UUID
    received_at: dt.datetime | None
    msg_type: str
    supplier: str
    po_number: str
    doc_ref: str
    status: str
    differences: int
    expected_receipt: str
    file_name: str
    summary: str


@dataclass(frozen=True)
class MessageLineRow:
    line_no: int
    sku: str
    item_ref: str
    qty_ordered: int | None
    qty_confirmed: int | None
    price_ordered: Decimal | None
    price_confirmed: Decimal | None
    date_ordered: dt.date | None
    date_confirmed: dt.date | None
    line_status: str
    difference: str
    sscc: str
    lot_code: str


def list_messages(session: Session, query: MessageQuery | None, after: Any, limit: int) -> tuple[list[MessageRow], Any]:
    """Inbound supplier messages, newest first."""
    q = query or MessageQuery()
    offset = int(after or 0)
    stmt = (select(SupplierMessage, Supplier.code, ExpectedReceipt.number)
            .outerjoin(Supplier, Supplier.id == SupplierMessage.supplier_id)
            .outerjoin(ExpectedReceipt, ExpectedReceipt.id == SupplierMessage.expected_receipt_id)
            .where(SupplierMessage.direction == "in", SupplierMessage.deleted_at.is_(None)))
    if q.kind == "confirmations":
        stmt = stmt.where(SupplierMessage.msg_type.in_(CONFIRMATION_TYPES))
    elif q.kind == "ship_notices":
        stmt = stmt.where(SupplierMessage.msg_type.in_(SHIP_NOTICE_TYPES))
    if q.only_differences:
        stmt = stmt.where(SupplierMessage.differences > 0)
    if q.text.strip():
        like = f"%{q.text.strip()}%"
        stmt = stmt.where(or_(SupplierMessage.po_number.ilike(like), SupplierMessage.doc_ref.ilike(like),
                              SupplierMessage.file_name.ilike(like)))
    stmt = stmt.order_by(SupplierMessage.created_at.desc(), SupplierMessage.id.desc()).offset(offset).limit(limit + 1)
    rows = [
        MessageRow(m.id, m.received_at, m.msg_type, code or "", m.po_number, m.doc_ref, m.status, m.differences,
                   er or "", m.file_name, m.summary)
        for m, code, er in session.execute(stmt).all()
    ]
    more = len(rows) > limit
    return rows[:limit], (offset + limit if more else None)


def message_lines(session: Session, message_id: uuid.UUID) -> list[MessageLineRow]:
    """A message's lines beside what the PO said."""
    stmt = (select(SupplierMessageLine, Item.sku)
            .outerjoin(Item, Item.id == SupplierMessageLine.item_id)
            .outerjoin(PurchaseOrderLine, PurchaseOrderLine.id == SupplierMessageLine.po_line_id)
            .where(SupplierMessageLine.message_id == message_id)
            .order_by(SupplierMessageLine.line_no, SupplierMessageLine.id))
    return [
        MessageLineRow(ln.line_no, sku or "", ln.item_ref, ln.qty_ordered, ln.qty_confirmed, ln.price_ordered,
                       ln.price_confirmed, ln.date_ordered, ln.date_confirmed, ln.line_status, ln.difference,
                       ln.sscc, ln.lot_code)
        for ln, sku in session.execute(stmt).all()
    ]
