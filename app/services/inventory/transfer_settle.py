"""Cross-branch settlement of transfer orders: each branch writes only its own rows.

Who writes what (DESIGN: "an action on another branch's document is a new row owned by the actor"):

* the **sending** branch owns the transfer order and its lines: it creates, ships (bins -> its
  transit location) and cancels them, and its settler (``transfers.receipts``) applies the
  receiver's receipt to them: received and short quantities, status 'received', the link to the
  expected receipt, and the serial registry rows it owns;
* the **receiving** branch owns its expected receipt (created by its settler ``transfers.expect``
  when it sees the shipment, numbered from its own series, with an id derived from the transfer's so
  every site agrees on it) and its receipt: the ER's received quantities and status, and the ledger
  moves that empty the transit location (received units to its dock or bin, shortages written off
  to the sending warehouse's adjust location). The stock thus leaves transit exactly once, in one
  transaction, whichever site settles later;
* the **requesting** branch owns its transfer requisitions: the sender converts them into its
  transfer (Buying's ``conversion.transfers_from_requisitions``), ``requisitions.mark_converted`` records that, and the
  requester's ``requisitions`` settler marks them converted.

On a site that owns both ends (a standalone file, or a transfer within one branch) the same
functions run at once, inside the user's transaction.
"""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Lot
from app.models.inventory import TransferLine, TransferOrder
from app.models.org import Location, Warehouse
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.receiving import SerialNumber
from app.models.stock import StockMove
from app.models.types import utcnow
from app.services import audit
from app.services.numbering import next_number
from app.services.ownership import ownership, settler
from app.services.workflow import transition

_NS = uuid.UUID("6f1d3c2e-5b7a-4e1c-9a0d-7c3b2f1e8d40")


def er_id_for(transfer_id: uuid.UUID) -> uuid.UUID:
    """The destination's expected receipt of a transfer has a derived id: every site can find it
    by primary key, and two workstations of the receiving branch create the same row."""
    return uuid.uuid5(_NS, f"transfer-er:{transfer_id}")


def er_line_id_for(transfer_line_id: uuid.UUID) -> uuid.UUID:
    return uuid.uuid5(_NS, f"transfer-er-line:{transfer_line_id}")


def _lines(session: Session, transfer_id: uuid.UUID) -> list[TransferLine]:
    return list(session.scalars(select(TransferLine).where(TransferLine.transfer_id == transfer_id)
                                .order_by(TransferLine.line_no)))


def transit_of(session: Session, warehouse_id: uuid.UUID) -> uuid.UUID | None:
    return session.scalar(select(Location.id).where(Location.warehouse_id == warehouse_id, Location.kind == "transit"))


def inbound_receipt(session: Session, t: TransferOrder) -> ExpectedReceipt | None:
    """The destination's expected receipt of ``t`` if this site has it (linked, or by derived id)."""
    for rid in (t.expected_receipt_id, er_id_for(t.id)):
        if rid is not None and (er := session.get(ExpectedReceipt, rid)) is not None:
            return er
    return None


def _moves(session: Session, t: TransferOrder, reason: str | None = None,
           from_location_id: uuid.UUID | None = None) -> list[StockMove]:
    q = select(StockMove).where(StockMove.doc_type == "transfer", StockMove.doc_id == t.id)
    if reason is not None:
        q = q.where(StockMove.reason == reason)
    if from_location_id is not None:
        q = q.where(StockMove.from_location_id == from_location_id)
    return list(session.scalars(q.order_by(StockMove.id)))


def left_transit(session: Session, t: TransferOrder) -> list[StockMove]:
    """Moves that took this transfer's stock out of the sender's transit (the receiver's receipt)."""
    transit = transit_of(session, t.from_warehouse_id)
    return _moves(session, t, from_location_id=transit) if transit else []


def expect_transfer(session: Session, t: TransferOrder) -> ExpectedReceipt | None:
    """Create the destination branch's expected receipt of a shipped transfer (run by the site that
    owns the destination). None while the shipment has not fully arrived here (a partial pull)."""
    if t.status != "shipped" or (er := inbound_receipt(session, t)) is not None:
        return er if t.status == "shipped" else None
    lines = _lines(session, t.id)
    out = _moves(session, t, reason="transfer_out")
    shipped: dict[uuid.UUID, int] = {}
    for m in out:
        if m.doc_line_id is not None:
            shipped[m.doc_line_id] = shipped.get(m.doc_line_id, 0) + m.qty
    if not lines or any(ln.qty_shipped <= 0 or shipped.get(ln.id) != ln.qty_shipped for ln in lines):
        return None
    dst = session.get(Warehouse, t.to_warehouse_id)
    if dst is None:
        return None
    er = ExpectedReceipt(id=er_id_for(t.id), number=next_number(session, dst.branch_id, "ER"), source="transfer",
                         source_doc_id=t.id, warehouse_id=dst.id, status="expected", owner_branch_id=dst.branch_id,
                         expected_at=dt.datetime.combine(t.requested_date, dt.time(12), dt.UTC) if t.requested_date
                         else t.shipped_at or utcnow())
    session.add(er)
    session.flush()
    lot_ids = {m.lot_id for m in out if m.lot_id}
    codes = {a: b for a, b in session.execute(select(Lot.id, Lot.lot_code).where(Lot.id.in_(lot_ids)))} if lot_ids else {}
    for ln in lines:
        lots = {m.lot_id for m in out if m.doc_line_id == ln.id}
        one = next(iter(lots)) if len(lots) == 1 else None
        session.add(ExpectedReceiptLine(id=er_line_id_for(ln.id), receipt_id=er.id, item_id=ln.item_id,
                                        qty_expected=ln.qty_shipped, lot_code=codes.get(one, "") if one else "",
                                        owner_branch_id=dst.branch_id))
    session.flush()
    return er


def settle_received(session: Session, t: TransferOrder) -> bool:
    """Apply the receiver's receipt to the sender's transfer (run by the site that owns ``t``):
    received = units moved from transit into the destination, short = units written off from
    transit. Only once every shipped unit has left transit (the whole receipt is here)."""
    if t.status != "shipped":
        return False
    lines = _lines(session, t.id)
    gone = left_transit(session, t)
    total: dict[uuid.UUID, int] = {}
    got: dict[uuid.UUID, int] = {}
    for m in gone:
        if m.doc_line_id is None:
            continue
        total[m.doc_line_id] = total.get(m.doc_line_id, 0) + m.qty
        if m.reason == "transfer_in":
            got[m.doc_line_id] = got.get(m.doc_line_id, 0) + m.qty
    if not lines or any(total.get(ln.id, 0) != ln.qty_shipped for ln in lines):
        return False
    for ln in lines:
        received = got.get(ln.id, 0)
        if (ln.qty_received, ln.qty_short) != (received, ln.qty_shipped - received):
            ln.qty_received, ln.qty_short = received, ln.qty_shipped - received
    er = inbound_receipt(session, t)
    transition(t, "received", None, at=max(m.moved_at for m in gone) if gone else utcnow())
    if er is not None and t.expected_receipt_id is None:
        t.expected_receipt_id = er.id
    follow_serials(session, [m for m in gone if m.reason == "transfer_in" and m.serial_no])
    session.flush()
    return True


def follow_serials(session: Session, moves: list[StockMove]) -> int:
    """Serial registry rows this site owns follow the units a transfer moved (status, location).
    A registry row is one per (item, serial) company-wide and keeps the branch that first registered
    the serial as owner; that owner's site updates it."""
    if not moves:
        return 0
    own = ownership(session)
    rows = {(s.item_id, s.serial.upper()): s for s in session.scalars(select(SerialNumber).where(
        SerialNumber.item_id.in_({m.item_id for m in moves}), SerialNumber.serial.in_({(m.serial_no or "").upper() for m in moves})))}
    kinds = {a: b for a, b in session.execute(select(Location.id, Location.kind).where(
        Location.id.in_({m.to_location_id for m in moves})))}
    n = 0
    for m in moves:
        row = rows.get((m.item_id, (m.serial_no or "").upper()))
        if row is None or not own.owns(row.owner_branch_id):
            continue
        status = "transferred" if kinds.get(m.to_location_id) == "transit" else "held" if kinds.get(m.to_location_id) == "qa" else "in_stock"
        if (row.status, row.location_id) != (status, m.to_location_id):
            row.location_id = m.to_location_id
            if row.status != status:
                transition(row, status, None)
            n += 1
    return n


# --------------------------------------------------------------------------- settlers


def _my_warehouses(session: Session) -> list[uuid.UUID] | None:
    own = ownership(session)
    if own.branch_id is None:
        return None
    return list(session.scalars(select(Warehouse.id).where(Warehouse.branch_id == own.branch_id)))


@settler("transfers.expect")
def settle_expected(session: Session) -> int:
    """Receiving side: an expected receipt for every shipped transfer addressed to this branch."""
    mine = _my_warehouses(session)
    if not mine:
        return 0
    n = 0
    for t in session.scalars(select(TransferOrder).where(
            TransferOrder.status == "shipped", TransferOrder.to_warehouse_id.in_(mine),
            TransferOrder.expected_receipt_id.is_(None), TransferOrder.deleted_at.is_(None))):
        if session.get(ExpectedReceipt, er_id_for(t.id)) is None and expect_transfer(session, t) is not None:
            n += 1
    return n


@settler("transfers.receipts")
def settle_receipts(session: Session) -> int:
    """Sending side: shipped transfers of this branch whose receipt the destination has recorded."""
    own = ownership(session)
    if own.branch_id is None:
        return 0
    n = 0
    for t in list(session.scalars(select(TransferOrder).where(
            TransferOrder.status == "shipped", TransferOrder.owner_branch_id == own.branch_id,
            TransferOrder.deleted_at.is_(None)))):
        if settle_received(session, t):
            audit.record(session, None, "transfer.settle_receipt", "transfer_order", t.id, t.owner_branch_id,
                         number=t.number, received=sum(ln.qty_received for ln in _lines(session, t.id)))
            n += 1
        elif t.expected_receipt_id is None and (er := inbound_receipt(session, t)) is not None:
            t.expected_receipt_id = er.id  # planning then counts the inbound once (the ER, not the lines)
            n += 1
    session.flush()
    return n
