"""Re-allocation as a consequence of what other areas do, registered on their events.

* stock arrived in a warehouse (a receipt, a received transfer, a restocked return, a count that
  found more: ``StockArrived``): the free units go to the lines waiting for those items;
* an order was cancelled or put on credit hold, or a line cancelled (``StatusChanged``): its
  reservations go back and on to the lines waiting for the same items;
* an order came off credit hold: it is served from what is free.

All of them keep every existing allocation (they hand out only what is free) and run in the
transaction of the change that caused them; every row they write names its run (kind ``arrival``,
``release`` or ``order``). Only the warehouse's own branch re-allocates; another branch's site
leaves it to that branch's next run.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.sales import SalesOrder, SalesOrderLine
from app.services.allocation.runs import reallocate
from app.services.allocation.snapshot import ALLOCATABLE
from app.services.events import StatusChanged, StockArrived, on


@on(StockArrived, name="allocation.on_arrival", order=60)
def on_arrival(session: Session, event: StockArrived) -> None:
    res = reallocate(session, event.actor, event.warehouse_id, items=event.item_ids, kind="arrival",
                     trigger=event.source)
    if res.numbers and res.units_allocated:
        event.notes.append(f"{res.units_allocated} unit(s) allocated to waiting orders ({', '.join(res.numbers)})")


@on(StatusChanged, name="allocation.release_order", order=40, table="sales_order",
    new=frozenset({"cancelled", "credit_hold"}))
def on_order_stopped(session: Session, event: StatusChanged) -> None:
    order: SalesOrder = event.doc
    if event.old not in ALLOCATABLE or not _holds_stock(session, order):
        return  # nothing reserved: nothing to give back (a hold at release, before any units)
    res = reallocate(session, event.actor, order.warehouse_id, orders=[order.id], kind="release",
                     trigger=f"{event.new.replace('_', ' ')} {order.number}")
    if res.units_released:
        event.notes.append(f"{res.units_released} unit(s) given back by {order.number}")


def _holds_stock(session: Session, order: SalesOrder) -> bool:
    return bool(session.scalar(select(SalesOrderLine.id).where(SalesOrderLine.order_id == order.id,
                                                               SalesOrderLine.qty_allocated != 0).limit(1)))


@on(StatusChanged, name="allocation.release_line", order=40, table="sales_order_line", new="cancelled")
def on_line_cancelled(session: Session, event: StatusChanged) -> None:
    line = event.doc
    if line.order_id is None:
        return
    order = session.get(SalesOrder, line.order_id)
    if order is None or order.status not in ALLOCATABLE or not line.qty_allocated:
        return  # a cancelled order already gave everything back
    reallocate(session, event.actor, order.warehouse_id, orders=[order.id], kind="release",
               trigger=f"line {line.line_no} of {order.number} cancelled")


@on(StatusChanged, name="allocation.order_released", order=60, table="sales_order", old="credit_hold", new="open")
def on_credit_released(session: Session, event: StatusChanged) -> None:
    order: SalesOrder = event.doc
    reallocate(session, event.actor, order.warehouse_id, orders=[order.id], kind="order",
               trigger=f"credit release {order.number}")
