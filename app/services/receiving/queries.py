"""Lists for the receiving screen and CLI, marking arrival, and batch receiving of a scan file."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot
from app.models.org import Branch, Warehouse
from app.models.parties import Supplier
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder
from app.models.receiving import QualityHold, Receipt
from app.models.types import utcnow
from app.models.workflow import allowed, open_states
from app.services.auth import Actor
from app.services.errors import Conflict, DomainError, NotFound, PermissionDenied
from app.services.ownership import owns
from app.services.receiving.post import PostedReceipt, post_receipt
from app.services.receiving.session import ReceivingSession, load_context
from app.services.workflow import transition

OPEN_STATES = open_states("expected_receipt")


@dataclass(frozen=True)
class ExpectedRow:
    id: uuid.UUID
    number: str
    source: str
    supplier: str
    warehouse: str
    expected_at: dt.datetime | None
    dock: str
    status: str
    lines: int
    units: int


def list_expected(session: Session, *, warehouse_id: uuid.UUID | None = None, day: dt.date | None = None,
                  dock: str = "", include_done: bool = False, limit: int = 500) -> list[ExpectedRow]:
    """Expected receipts by date and dock (open ones unless ``include_done``)."""
    q = (select(ExpectedReceipt.id, ExpectedReceipt.number, ExpectedReceipt.source, Supplier.code, Warehouse.code,
                ExpectedReceipt.expected_at, ExpectedReceipt.dock, ExpectedReceipt.status,
                func.count(ExpectedReceiptLine.id), func.coalesce(func.sum(ExpectedReceiptLine.qty_expected), 0))
         .join(Warehouse, Warehouse.id == ExpectedReceipt.warehouse_id)
         .outerjoin(Supplier, Supplier.id == ExpectedReceipt.supplier_id)
         .outerjoin(ExpectedReceiptLine, (ExpectedReceiptLine.receipt_id == ExpectedReceipt.id)
                    & ExpectedReceiptLine.deleted_at.is_(None))
         .where(ExpectedReceipt.deleted_at.is_(None))
         .group_by(ExpectedReceipt.id)
         .order_by(ExpectedReceipt.expected_at, ExpectedReceipt.dock, ExpectedReceipt.number)
         .limit(limit))
    if not include_done:
        q = q.where(ExpectedReceipt.status.in_(OPEN_STATES))
    if warehouse_id:
        q = q.where(ExpectedReceipt.warehouse_id == warehouse_id)
    if dock:
        q = q.where(ExpectedReceipt.dock == dock)
    if day:
        start = dt.datetime.combine(day, dt.time(), dt.UTC)
        end = start + dt.timedelta(days=1)
        q = q.where(or_(ExpectedReceipt.expected_at.is_(None),
                        (ExpectedReceipt.expected_at >= start) & (ExpectedReceipt.expected_at < end)))
    return [ExpectedRow(r[0], r[1], r[2], r[3] or "", r[4], r[5], r[6], r[7], int(r[8]), int(r[9]))
            for r in session.execute(q)]


def find_expected(session: Session, document: str) -> ExpectedReceipt:
    """An expected receipt by its number, its ASN reference, or the number of its PO."""
    doc = document.strip()
    er = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.number == doc)).first()
    if er is None and doc:
        er = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.asn_ref == doc)).first()
    if er is None:
        po_id = session.scalar(select(PurchaseOrder.id).where(PurchaseOrder.number == doc))
        if po_id is not None:
            er = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po_id)
                                 .order_by(ExpectedReceipt.status.in_(OPEN_STATES).desc(), ExpectedReceipt.created_at)).first()
    if er is None:
        raise NotFound("expected receipt, ASN or PO", doc)
    return er


def mark_arrived(session: Session, actor: Actor, expected_receipt_id: uuid.UUID, *, at: dt.datetime | None = None) -> None:
    """The truck is at the dock: record the arrival time (start of dock-to-stock)."""
    actor.require("receipt.post")
    er = session.get(ExpectedReceipt, expected_receipt_id)
    if er is None:
        raise NotFound("expected receipt", expected_receipt_id)
    if not owns(session, er.owner_branch_id):
        code = session.scalar(select(Branch.code).where(Branch.id == er.owner_branch_id)) or "another branch"
        raise PermissionDenied(f"{er.number} is {code}'s: its arrival is recorded on a {code} workstation")
    if not allowed("expected_receipt", er.status, "arrived"):
        raise Conflict(f"{er.number} is {er.status}: cannot mark it arrived")
    when = at or utcnow()
    transition(er, "arrived", actor, at=when, action="receipt.arrived")
    session.flush()


@dataclass(frozen=True)
class HoldRow:
    id: uuid.UUID
    receipt_number: str
    sku: str
    description: str
    lot: str
    qty: int
    reason: str
    status: str


def list_holds(session: Session, warehouse_id: uuid.UUID | None = None, *, status: str = "held") -> list[HoldRow]:
    q = (select(QualityHold.id, Receipt.number, Item.sku, Item.description, Lot.lot_code, QualityHold.qty,
                QualityHold.reason, QualityHold.status)
         .join(Receipt, Receipt.id == QualityHold.receipt_id).join(Item, Item.id == QualityHold.item_id)
         .outerjoin(Lot, Lot.id == QualityHold.lot_id).order_by(Receipt.number, Item.sku))
    if warehouse_id:
        q = q.where(QualityHold.warehouse_id == warehouse_id)
    if status:
        q = q.where(QualityHold.status == status)
    return [HoldRow(r[0], r[1], r[2], r[3], r[4] or "", int(r[5]), r[6], r[7]) for r in session.execute(q)]


@dataclass
class BatchOutcome:
    """What `depot receive` reports: a message per scan line, and the posting (if any)."""

    document: str
    messages: list[tuple[int, bool, str]] = field(default_factory=list)
    posted: PostedReceipt | None = None

    @property
    def refused(self) -> list[tuple[int, bool, str]]:
        return [m for m in self.messages if not m[1]]


def receive_scans(session: Session, actor: Actor, document: str, scans: Sequence[str], *, post: bool = True,
                  at: dt.datetime | None = None) -> BatchOutcome:
    """Feed a batch scanner's lines through the same ReceivingSession as the screen.

    Blank lines are skipped. Any refused scan means nothing is posted (the file must be fixed and
    sent again), so a half-read file never becomes a half receipt.
    """
    er = find_expected(session, document)
    rs = ReceivingSession(load_context(session, er.id))
    out = BatchOutcome(er.number)
    for n, raw in enumerate(scans, 1):
        if not raw.strip():
            continue
        r = rs.scan(raw, at=at)
        out.messages.append((n, r.ok, r.message))
    if out.refused or not post:
        return out
    try:
        lines = rs.post_lines()
    except DomainError as e:
        out.messages.append((len(scans), False, str(e)))
        return out
    out.posted = post_receipt(session, actor, er.id, lines, shortages=rs.shortages,
                              arrived_at=er.arrived_at or rs.started_at, at=at)
    return out


@dataclass(frozen=True)
class DockToStock:
    """Receipts posted in a period: how long from arrival to posting and to the last putaway."""

    receipts: int
    stocked: int
    median_arrival_to_receipt_min: float | None
    median_dock_to_stock_min: float | None
    max_dock_to_stock_min: float | None


def dock_to_stock_summary(session: Session, *, warehouse_id: uuid.UUID | None = None,
                          since: dt.datetime | None = None, until: dt.datetime | None = None) -> DockToStock:
    """Median minutes arrival -> receipt and arrival -> stocked for receipts posted in [since, until)."""
    import statistics

    q = select(Receipt.arrived_at, Receipt.posted_at, Receipt.stocked_at)
    if warehouse_id:
        q = q.where(Receipt.warehouse_id == warehouse_id)
    if since:
        q = q.where(Receipt.posted_at >= since)
    if until:
        q = q.where(Receipt.posted_at < until)
    rows = session.execute(q).all()
    to_rec = [(p - a).total_seconds() / 60 for a, p, _s in rows]
    to_stock = [(s - a).total_seconds() / 60 for a, _p, s in rows if s is not None]

    def med(xs: list[float]) -> float | None:
        return round(statistics.median(xs), 1) if xs else None

    return DockToStock(len(rows), len(to_stock), med(to_rec), med(to_stock), round(max(to_stock), 1) if to_stock else None)
