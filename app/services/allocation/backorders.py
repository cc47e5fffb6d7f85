"""Backorders: what is still short on open orders, by customer and item, with the date it can be
expected (date-based ATP walked in queue order: ``inventory.promise.expected_dates``), and the
customer told once an order is backordered.

The notice goes through the e-mail outbox (one message per order, its short items and their
expected dates), queued by a background job (``notify_backorders``); the Tracking issue's
notifications outbox replaces the outbox later. A customer without an e-mail address is skipped.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.models.parties import Customer
from app.models.sales import SalesOrder
from app.services import jobs, mail
from app.services.auth import Actor
from app.services.changes import Change
from app.services.db import session_scope
from app.services.id_storage import HexIds
from app.services.inventory.promise import expected_dates
from app.services.ownership import ownership

#: orders whose short lines wait in the queue for stock (the expected dates walk all of them)
WAITING = ("open", "backordered", "allocated")
#: a backorder is a line an allocation run left short: a line of an order in this status. An
#: ``open`` order (or a line added to an ``allocated`` one) has not been through a run yet: it
#: waits for allocation, it is not backordered (it still takes its place in the queue above)
BACKORDERED = "backordered"


@dataclass(frozen=True)
class BackorderLine:
    order_id: uuid.UUID
    number: str
    customer_po: str
    line_no: int
    customer: str
    customer_name: str
    sku: str
    description: str
    warehouse: str
    ordered: int
    allocated: int
    short: int
    order_date: dt.date
    requested_date: dt.date | None
    expected: dt.date
    expected_text: str
    source: str


def backorder_lines(session: Session, *, warehouse: str | None = None, customer: str | None = None,
                    order_ids: list[uuid.UUID] | None = None, today: dt.date | None = None) -> list[BackorderLine]:
    """Every backordered line: an open line of a ``backordered`` order still short (or those of
    ``order_ids``, of ``customer``, of ``warehouse``), sorted by customer then item, with its
    expected date. The dates walk *all* of a warehouse's waiting lines in queue order (first come,
    first served; never-allocated ones too), so a line is never promised stock an earlier order is
    waiting for."""
    today = today or dt.date.today()
    raw: Any = HexIds(session.connection().connection.driver_connection)  # ids as hex here, 16 bytes stored
    marks = ",".join("?" * len(WAITING))
    where, params = "", []
    if warehouse:
        where, params = " AND w.code = ?", [warehouse.upper()]
    rows = raw.execute(
        "SELECT o.id, o.number, o.customer_po, l.line_no, c.code, c.name, i.sku, i.description, w.code, l.qty_ordered, "
        "l.qty_allocated, l.qty_ordered - l.qty_shipped - l.qty_allocated, o.order_date, o.requested_date, "
        "o.warehouse_id, l.item_id, o.status FROM sales_order o JOIN sales_order_line l ON l.order_id = o.id "
        "JOIN customer c ON c.id = o.customer_id JOIN item i ON i.id = l.item_id JOIN warehouse w ON w.id = o.warehouse_id "
        f"WHERE o.status IN ({marks}) AND o.deleted_at IS NULL AND l.status = 'open' AND l.deleted_at IS NULL "
        f"AND l.qty_ordered > l.qty_shipped + l.qty_allocated{where} ORDER BY o.order_date, o.number, l.line_no",
        (*WAITING, *params)).fetchall()
    wanted_orders = {o.hex for o in order_ids} if order_ids is not None else None
    keep = [i for i, r in enumerate(rows) if r[16] == BACKORDERED and (wanted_orders is None or str(r[0]) in wanted_orders)
            and (not customer or r[4] == customer.upper())]
    whs = {str(rows[i][14]) for i in keep}
    by_wh: dict[str, list[int]] = defaultdict(list)
    for i, r in enumerate(rows):
        if str(r[14]) in whs:
            by_wh[str(r[14])].append(i)
    expected: dict[int, tuple[dt.date, str, str]] = {}
    for wh, idx in by_wh.items():
        asked = [(uuid.UUID(str(rows[i][15])), int(rows[i][11])) for i in idx]
        for i, pr in zip(idx, expected_dates(session, uuid.UUID(wh), asked, today=today), strict=True):
            expected[i] = (pr.date, pr.text, pr.source)
    out = []
    for i in keep:
        r = rows[i]
        date, text, source = expected[i]
        out.append(BackorderLine(uuid.UUID(str(r[0])), r[1], r[2], int(r[3]), r[4], r[5], r[6], r[7], r[8], int(r[9]),
                                 int(r[10]), int(r[11]), dt.date.fromisoformat(str(r[12])),
                                 dt.date.fromisoformat(str(r[13])) if r[13] else None, date, text, source))
    out.sort(key=lambda b: (b.customer, b.sku, b.number, b.line_no))
    return out


#: ``EmailOutbox.entity`` of a backorder notice; its ``entity_ref`` is the order number (told once)
NOTICE = "backorder_notice"


@dataclass
class NoticeReport:
    queued: int
    skipped: int

    @property
    def ok(self) -> bool:
        return True

    @property
    def changed(self) -> bool:
        return bool(self.queued)


def notify_backorders(session: Session, actor: Actor | None = None, *, today: dt.date | None = None,
                      limit: int = 200) -> NoticeReport:
    """Queue a notice for each backordered order of this site's branch whose customer was not told
    yet: its short items and when they can be expected. A background job (every five minutes, off
    the allocation run's transaction: reading the expected dates of a whole warehouse is not what a
    dispatcher should wait for) and ``depot order notify-backorders``."""
    told = select(EmailOutbox.entity_ref).where(EmailOutbox.entity == NOTICE)
    q = (select(SalesOrder.id, SalesOrder.number, SalesOrder.owner_branch_id, SalesOrder.customer_po,
                Customer.contact_email, Customer.name)
         .join(Customer, Customer.id == SalesOrder.customer_id)
         .where(SalesOrder.status == "backordered", SalesOrder.deleted_at.is_(None), SalesOrder.number.not_in(told))
         .order_by(SalesOrder.number).limit(max(1, limit)))
    own = ownership(session)
    if own.enforced:
        q = q.where(SalesOrder.owner_branch_id == own.branch_id)
    orders = session.execute(q).all()
    if not orders:
        return NoticeReport(0, 0)
    by_order: dict[uuid.UUID, list[BackorderLine]] = defaultdict(list)
    for b in backorder_lines(session, order_ids=[o[0] for o in orders], today=today):
        by_order[b.order_id].append(b)
    queued = skipped = 0
    for oid, number, owner, po, email, name in orders:
        items = by_order.get(oid)
        if not items or not (email or "").strip():
            skipped += 1
            continue
        ref = f" (your PO {po})" if po else ""
        body = [f"Dear {name},", "", f"some items of our order {number}{ref} are not in stock yet. We ship them as "
                "soon as they arrive:", ""]
        body += [f"  line {b.line_no}: {b.sku} {b.description}: {b.short} of {b.ordered}, expected {b.expected_text}"
                 for b in items]
        body += ["", "Everything else on the order ships as planned."]
        mail.queue_email(session, actor, to=email, subject=f"Backorder notice: {number}", body="\n".join(body),
                         owner_branch_id=owner, entity=NOTICE, entity_ref=number, flush=False)
        queued += 1
    session.flush()
    return NoticeReport(queued, skipped)


def _notice_job(engine: Engine, _settings: object) -> NoticeReport:
    with session_scope(engine) as s:
        return notify_backorders(s)


#: the notices' background job (app.services.jobs): every five minutes
NOTICES = jobs.register(jobs.Job("allocation.backorder_notices", _notice_job, interval_s=300, first_s=30,
                                 kinds=(Change.MAIL,), label="backorder notices"))
