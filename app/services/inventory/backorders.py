"""Backorder release: when stock arrives, backordered sales orders it now covers go back to 'open'.

A follow-up of ``StockArrived`` (a receipt, a received transfer, a restocked return: registered
here, emitted by whoever moved the stock in), also callable on its own. An order
is released only when every one of its open lines is covered by stock not yet allocated, so a
released order can be allocated in full. Orders are served by customer priority tier
(platinum, gold, silver, bronze), rush first, then oldest order date; the stock one order is
released against is not offered to the next. No permission of its own: it is the consequence
of a stock change the caller was already allowed to make.

Across branches: a site releases only the orders its branch owns. An order another branch owns
that waits on this warehouse is released by its owner's settler (``backorders.elsewhere``) once
the stock moves have reached it.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.org import Warehouse
from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.services.auth import Actor
from app.services.events import StockArrived, on
from app.services.inventory.atp import allocated_by_item, on_hand_by_item
from app.services.ownership import ownership, settler
from app.services.workflow import transition

TIER_RANK = {"platinum": 0, "gold": 1, "silver": 2, "bronze": 3}


def release_backorders(session: Session, actor: Actor | None, item_ids: Sequence[uuid.UUID],
                       warehouse_id: uuid.UUID) -> list[str]:
    """Release backordered orders of ``warehouse_id`` that wait for any of ``item_ids`` and are now
    covered; returns their numbers in release order."""
    if not item_ids:
        return []
    waiting = select(SalesOrderLine.order_id).where(SalesOrderLine.item_id.in_(list(item_ids)))
    query = (select(SalesOrder, Customer.priority_tier)
             .join(Customer, Customer.id == SalesOrder.customer_id)
             .where(SalesOrder.status == "backordered", SalesOrder.warehouse_id == warehouse_id,
                    SalesOrder.deleted_at.is_(None), SalesOrder.id.in_(waiting)))
    own = ownership(session)
    if own.enforced:  # other branches' orders are theirs to release (see the module docstring)
        query = query.where(SalesOrder.owner_branch_id == own.branch_id)
    rows = session.execute(query).all()
    if not rows:
        return []
    orders = sorted(rows, key=lambda r: (TIER_RANK.get(r[1], 9), not r[0].rush, r[0].order_date, r[0].number))
    lines = list(session.scalars(select(SalesOrderLine).where(
        SalesOrderLine.order_id.in_([o.id for o, _ in orders]), SalesOrderLine.status != "cancelled",
        SalesOrderLine.deleted_at.is_(None))))
    all_items = list({ln.item_id for ln in lines})
    have = on_hand_by_item(session, all_items, warehouse_id)
    alloc = allocated_by_item(session, all_items, warehouse_id)
    # open orders not yet allocated are ahead in the queue: their stock is not offered again
    # (so two receipts in a row, or two callers for one receipt, never release the same units twice)
    ahead = {i: int(q or 0) for i, q in session.execute(
        select(SalesOrderLine.item_id,
               func.sum(SalesOrderLine.qty_ordered - SalesOrderLine.qty_allocated - SalesOrderLine.qty_shipped))
        .join(SalesOrder, SalesOrder.id == SalesOrderLine.order_id)
        .where(SalesOrder.status == "open", SalesOrder.warehouse_id == warehouse_id, SalesOrder.deleted_at.is_(None),
               SalesOrderLine.item_id.in_(all_items), SalesOrderLine.status != "cancelled",
               SalesOrderLine.qty_ordered > SalesOrderLine.qty_allocated + SalesOrderLine.qty_shipped)
        .group_by(SalesOrderLine.item_id))}
    pool = {i: have.get(i, 0) - alloc.get(i, 0) - ahead.get(i, 0) for i in all_items}
    released: list[str] = []
    for order, _tier in orders:
        need: dict[uuid.UUID, int] = {}
        for ln in lines:
            if ln.order_id == order.id:
                rest = ln.qty_ordered - ln.qty_allocated - ln.qty_shipped
                if rest > 0:
                    need[ln.item_id] = need.get(ln.item_id, 0) + rest
        if all(pool.get(i, 0) >= q for i, q in need.items()):
            for i, q in need.items():
                pool[i] -= q
            transition(order, "open", actor, action="order.release_backorder")
            released.append(order.number)
    session.flush()
    return released


@on(StockArrived, name="inventory.release_backorders", order=50)
def _release_on_arrival(session: Session, event: StockArrived) -> None:
    """Stock that came in (a receipt, a transfer, a restocked return) releases the orders it covers."""
    event.released += release_backorders(session, event.actor, event.item_ids, event.warehouse_id)


@settler("backorders.elsewhere")
def release_orders_on_other_warehouses(session: Session) -> int:
    """This branch's backordered orders served from another branch's warehouse: released here when
    that warehouse's receipts (replicated moves) now cover them. Cheap: such orders are rare."""
    own = ownership(session)
    if not own.enforced:
        return 0
    rows = session.execute(
        select(SalesOrder.warehouse_id, SalesOrderLine.item_id)
        .join(SalesOrderLine, SalesOrderLine.order_id == SalesOrder.id)
        .join(Warehouse, Warehouse.id == SalesOrder.warehouse_id)
        .where(SalesOrder.status == "backordered", SalesOrder.owner_branch_id == own.branch_id,
               Warehouse.branch_id != own.branch_id, SalesOrder.deleted_at.is_(None))).all()
    by_wh: dict[uuid.UUID, set[uuid.UUID]] = {}
    for wh, item in rows:
        by_wh.setdefault(wh, set()).add(item)
    return sum(len(release_backorders(session, None, sorted(items, key=str), wh)) for wh, items in by_wh.items())
