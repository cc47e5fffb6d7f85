"""Read-only stock queries: by item, warehouse, bin and lot; ledger history per item, paged.

All figures come from ``stock_balance`` (kept in step with the ledger by a trigger), so the
stock of one item costs a few index lookups however long the ledger grows. History pages use
keyset paging on (moved_at, id) over the ``ix_stock_move_item_moved`` index, never OFFSET.
"""

from __future__ import annotations

import datetime as dt
import uuid
from dataclasses import dataclass

from sqlalchemy import String, and_, func, or_, select, text, type_coerce
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, aliased

from app.models.catalog import Item, Lot
from app.models.demand import WarehouseFigures as Published
from app.models.inventory import TransferLine, TransferOrder
from app.models.org import INTERNAL_KINDS, Location, Warehouse
from app.models.stock import StockBalance, StockMove
from app.services.db import local_scope
from app.services.inventory.atp import allocated_by_item

#: lot.id as stored (16 bytes on SQLite) compared with stock_balance.lot_key (the same bytes, or '' for no lot)
_LOT_JOIN = type_coerce(Lot.id, String) == StockBalance.lot_key


@dataclass(frozen=True)
class StockRow:
    sku: str
    warehouse: str
    location: str
    kind: str
    lot: str
    expiry: dt.date | None
    qty: int


def stock_rows(session: Session, *, item_id: uuid.UUID | None = None, warehouse_id: uuid.UUID | None = None,
               location_id: uuid.UUID | None = None, lot_id: uuid.UUID | None = None,
               include_transit: bool = True, limit: int = 1000, offset: int = 0) -> list[StockRow]:
    """Non-zero balances in bins, docks, QA (and transit) by item, warehouse, bin and lot."""
    kinds = (*INTERNAL_KINDS, "transit") if include_transit else INTERNAL_KINDS
    q = (select(Item.sku, Warehouse.code, Location.code, Location.kind, Lot.lot_code, Lot.expiry_date, StockBalance.qty)
         .select_from(StockBalance)
         .join(Location, Location.id == StockBalance.location_id)
         .join(Warehouse, Warehouse.id == Location.warehouse_id)
         .join(Item, Item.id == StockBalance.item_id)
         .outerjoin(Lot, _LOT_JOIN)
         .where(StockBalance.qty != 0, Location.kind.in_(kinds)))
    if item_id is not None:
        q = q.where(StockBalance.item_id == item_id)
    if warehouse_id is not None:
        q = q.where(Location.warehouse_id == warehouse_id)
    if location_id is not None:
        q = q.where(StockBalance.location_id == location_id)
    if lot_id is not None:
        q = q.where(StockBalance.lot_key == lot_id.hex)
    q = q.order_by(Item.sku, Warehouse.code, Location.walk_seq, Location.code, Lot.expiry_date).limit(limit).offset(offset)
    return [StockRow(s, w, c, k, lc or "", e, int(qt)) for s, w, c, k, lc, e, qt in session.execute(q)]


@dataclass(frozen=True)
class WarehouseFigures:
    """One item in one warehouse. ``in_transit_out`` is in this warehouse's transit location
    (shipped, not yet received elsewhere); ``in_transit_in`` is on its way here."""

    warehouse_id: uuid.UUID
    warehouse: str
    on_hand: int
    in_qa: int
    allocated: int
    available: int
    in_transit_out: int
    in_transit_in: int
    #: set when the figures are the sister branch's published ones (``warehouse_figures``: under
    #: selective replication this file does not hold that warehouse's ledger): when they last changed
    published: dt.datetime | None = None


def item_figures(session: Session, item_id: uuid.UUID, warehouse_id: uuid.UUID | None = None) -> list[WarehouseFigures]:
    q = (select(Location.warehouse_id, Location.kind, func.sum(StockBalance.qty))
         .join(Location, Location.id == StockBalance.location_id)
         .where(StockBalance.item_id == item_id, Location.kind.in_((*INTERNAL_KINDS, "transit")))
         .group_by(Location.warehouse_id, Location.kind))
    if warehouse_id is not None:
        q = q.where(Location.warehouse_id == warehouse_id)
    by: dict[uuid.UUID, dict[str, int]] = {}
    for wid, kind, qty in session.execute(q):
        by.setdefault(wid, {})[kind] = int(qty or 0)
    # shipped and not yet received: the receiver's receipt (moves out of transit, replicated before
    # the sender's settler marks the transfer received) ends "in transit" at once, on every site
    landed = select(StockMove.id).where(StockMove.doc_type == "transfer", StockMove.doc_id == TransferOrder.id,
                                        StockMove.reason != "transfer_out").exists()
    inbound_q = (select(TransferOrder.to_warehouse_id, func.sum(TransferLine.qty_shipped))
                 .join(TransferOrder, TransferOrder.id == TransferLine.transfer_id)
                 .where(TransferLine.item_id == item_id, TransferOrder.status == "shipped", ~landed)
                 .group_by(TransferOrder.to_warehouse_id))
    inbound = {w: int(q_ or 0) for w, q_ in session.execute(inbound_q)}
    whq = select(Warehouse.id, Warehouse.code).order_by(Warehouse.code)
    if warehouse_id is not None:
        whq = whq.where(Warehouse.id == warehouse_id)
    held = local_scope(session)
    out = []
    for wid, code in session.execute(whq):
        if held is not None and wid.hex not in held:
            sister = _published(session, item_id, wid, code, inbound.get(wid, 0))
            if sister is not None:
                out.append(sister)
            continue
        kinds = by.get(wid, {})
        on_hand = sum(v for k, v in kinds.items() if k in INTERNAL_KINDS)
        if not kinds and not inbound.get(wid) and warehouse_id is None:
            continue
        alloc = allocated_by_item(session, [item_id], wid).get(item_id, 0)
        in_qa = kinds.get("qa", 0)
        out.append(WarehouseFigures(wid, code, on_hand, in_qa, alloc, on_hand - in_qa - alloc,
                                    kinds.get("transit", 0), inbound.get(wid, 0)))
    return out


def _published(session: Session, item_id: uuid.UUID, wid: uuid.UUID, code: str, inbound: int) -> WarehouseFigures | None:
    """A sister warehouse's figures as its own branch published them (none published: None). The
    ledger here has only the moves that concern this branch's warehouses, so summing it would show the
    sister nearly empty. Allocated includes what the sister promised away by transfer (its
    ``outbound``), so available is what it could still give; QA and in-transit-out are not published (0)."""
    f = session.execute(
        select(Published.on_hand, Published.allocated, Published.outbound, Published.updated_at)
        .join(Warehouse, and_(Warehouse.id == Published.warehouse_id, Warehouse.branch_id == Published.owner_branch_id))
        .where(Published.item_id == item_id, Published.warehouse_id == wid, Published.deleted_at.is_(None))).first()
    if f is None:
        return None
    on_hand, allocated, outbound, changed = f
    return WarehouseFigures(wid, code, int(on_hand), 0, int(allocated + outbound), int(on_hand - allocated - outbound),
                            0, inbound, published=changed)


@dataclass(frozen=True)
class LedgerRowView:
    id: uuid.UUID
    moved_at: dt.datetime
    reason: str
    qty: int
    from_location: str
    to_location: str
    lot: str
    doc_type: str
    doc_id: uuid.UUID | None
    #: the document as a person names it ("DAL-GR-000001", "putaway for DAL-GR-000001"); '' when none
    doc_ref: str = ""


#: doc_type -> SQL giving the number a person knows the document by (a putaway or hold by its receipt's)
_DOC_NUMBER_SQL = {
    "receipt": "SELECT number FROM receipt WHERE id = :i",
    "putaway": "SELECT 'putaway for ' || r.number FROM putaway_task t JOIN receipt r ON r.id = t.receipt_id WHERE t.id = :i",
    "quality_hold": "SELECT 'hold on ' || r.number FROM quality_hold h JOIN receipt r ON r.id = h.receipt_id "
                    "WHERE h.id = :i",
    "transfer": "SELECT number FROM transfer_order WHERE id = :i",
    "rma": "SELECT number FROM rma WHERE id = :i",
    "SO": "SELECT number FROM sales_order WHERE id = :i",
    "PO": "SELECT number FROM purchase_order WHERE id = :i",  # imported and seeded receipts name their PO
    "wave": "SELECT number FROM wave WHERE id = :i",  # picks
    "shipment": "SELECT number FROM shipment WHERE id = :i",  # ship confirmation
    "count": "SELECT number FROM count_task WHERE id = :i",
}
_DOC_WORDS = {"putaway": "putaway", "replenish": "pick-face replenishment", "IMPORT": "opening stock import",
              "count": "count", "quality_hold": "quality hold"}


def doc_ref(session: Session, doc_type: str, doc_id: uuid.UUID | None) -> str:
    """The number of the document behind a stock move, as the user knows it (else what kind it is)."""
    sql = _DOC_NUMBER_SQL.get(doc_type)
    if sql and doc_id is not None:
        try:
            found = session.execute(text(sql), {"i": doc_id}).scalar()
        except OperationalError:  # a table of an area this file does not have
            found = None
        if found:
            return str(found)
    return _DOC_WORDS.get(doc_type, doc_type)


@dataclass(frozen=True)
class LedgerPage:
    rows: list[LedgerRowView]
    #: pass back as ``after`` for the next (older) page; None at the end
    next_cursor: tuple[dt.datetime, uuid.UUID] | None


def ledger_page(session: Session, item_id: uuid.UUID, *, after: tuple[dt.datetime, uuid.UUID] | None = None,
                limit: int = 100, warehouse_id: uuid.UUID | None = None) -> LedgerPage:
    """Moves of one item, newest first, ``limit`` at a time."""
    src, dst = aliased(Location), aliased(Location)
    q = (select(StockMove.id, StockMove.moved_at, StockMove.reason, StockMove.qty, src.code, dst.code, Lot.lot_code,
                StockMove.doc_type, StockMove.doc_id)
         .join(src, src.id == StockMove.from_location_id)
         .join(dst, dst.id == StockMove.to_location_id)
         .outerjoin(Lot, Lot.id == StockMove.lot_id)
         .where(StockMove.item_id == item_id))
    if warehouse_id is not None:
        q = q.where(or_(src.warehouse_id == warehouse_id, dst.warehouse_id == warehouse_id))
    if after is not None:
        at, mid = after
        q = q.where(or_(StockMove.moved_at < at, and_(StockMove.moved_at == at, StockMove.id < mid)))
    refs: dict[tuple[str, uuid.UUID | None], str] = {}
    rows = []
    for i, m, r, qt, f, t, lc, dtp, did in session.execute(
            q.order_by(StockMove.moved_at.desc(), StockMove.id.desc()).limit(limit + 1)):
        if (dtp, did) not in refs:
            refs[(dtp, did)] = doc_ref(session, dtp, did)
        rows.append(LedgerRowView(i, m, r, int(qt), f, t, lc or "", dtp, did, refs[(dtp, did)]))
    more = len(rows) > limit
    rows = rows[:limit]
    return LedgerPage(rows, (rows[-1].moved_at, rows[-1].id) if more and rows else None)
