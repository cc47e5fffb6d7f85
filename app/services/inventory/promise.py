"""Date-based ATP for promising: what an order line of ``qty`` can be promised, while it is typed.

Supply of an item in a warehouse (``supply``): units on hand in pickable locations (storage bins
and the dock; not QA, where quality holds are; not lots past their expiry), less what is reserved
for order lines; then receipts (open POs' and ASNs' expected receipts, inbound transfers) by their
due dates. Demand already waiting (``backlog``: open lines' units not reserved yet, first come
first served) is served first. So for a new line:

    now      = pickable - reserved - backlog
    on D     = the first receipt date by which now + receipts >= qty (late receipts: tomorrow)
    not before D = today + the preferred supplier's lead time (no known receipt covers it)

Everything reads indexed rows of one item (balances, the item's order lines and receipt lines),
so one promise costs a few milliseconds whatever the ledger's size (``depot bench atp``).
``expected_dates`` does the same for many lines at once (the backorder list): each item's
supply is walked once, the lines in their queue order.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.services.id_storage import HexIds
from app.services.inventory.atp import HOLDING_STATES, OPEN_RECEIPT_STATES

PICKABLE_KINDS = ("storage", "dock", "pack")
#: orders whose unreserved open lines wait for stock
WAITING_STATES = ("open", "backordered", "allocated")
DEFAULT_LEAD_DAYS = 14


@dataclass(frozen=True)
class Promise:
    kind: str  # 'now' | 'on' | 'not_before'
    date: dt.date
    #: units that could go today (may be negative when the backlog is larger than the stock)
    available_now: int
    text: str
    source: str = ""

    def as_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "date": self.date.isoformat(), "available_now": self.available_now,
                "text": self.text, "source": self.source}


@dataclass
class Supply:
    item_id: uuid.UUID
    pickable: int = 0
    reserved: int = 0
    backlog: int = 0
    #: (due date, units, reference), in date order; late ones are due tomorrow
    receipts: list[tuple[dt.date, int, str]] = field(default_factory=list)
    lead_days: int = DEFAULT_LEAD_DAYS

    @property
    def free_now(self) -> int:
        return self.pickable - self.reserved - self.backlog


_CHUNK = 500
#: above this many items a warehouse's rows are read whole (one scan) instead of item by item
BULK_ITEMS = 1500


def _raw(session: Session | Any) -> Any:
    """The driver connection of ``session`` (the seed passes its raw connection itself)."""
    raw = session if not isinstance(session, Session) else session.connection().connection.driver_connection
    return HexIds(raw)  # ids hex in Python, 16 bytes stored


def _by_items(session: Session | Any, sql: str, col: str, keys: list[str], *extra: object) -> list[Any]:
    """Raw tuples for ``sql`` (ending in ``{filter}``) for the items ``keys`` (hex ids, in chunks), or
    for the whole warehouse when ``keys`` is empty (the caller filters in Python)."""
    raw = _raw(session)
    if not keys:
        return raw.execute(sql.replace("{filter}", ""), extra).fetchall()  # type: ignore[no-any-return]
    out: list[Any] = []
    for i in range(0, len(keys), _CHUNK):
        part = keys[i:i + _CHUNK]
        out.extend(raw.execute(sql.replace("{filter}", f"AND {col} IN ({','.join('?' * len(part))})"),
                               (*extra, *part)).fetchall())
    return out


def supply(session: Session | Any, item_ids: Sequence[uuid.UUID], warehouse_id: uuid.UUID, *,
           today: dt.date | None = None, exclude_lines: Iterable[uuid.UUID] = ()) -> dict[uuid.UUID, Supply]:
    """Supply and waiting demand of each item (``exclude_lines``: lines the promise is for, whose
    own reservation and backlog must not count against themselves). Raw reads on hex ids: an import
    asks for 16,000 items of a warehouse at once (then each table is read for the whole warehouse)."""
    today = today or dt.date.today()
    ids = list(dict.fromkeys(item_ids))
    wanted = {i.hex: i for i in ids}
    keys = [] if len(ids) > BULK_ITEMS else list(wanted)
    wh = warehouse_id.hex
    skip = {x.hex for x in exclude_lines}
    out = {i: Supply(i) for i in ids}
    # pickable on hand, less lots past their expiry
    pick_sql = ("SELECT b.item_id, b.lot_key, b.qty FROM location l CROSS JOIN stock_balance b ON b.location_id = l.id "
                if not keys else  # few items: through the item index; many: one pass over the bins
                "SELECT b.item_id, b.lot_key, b.qty FROM stock_balance b JOIN location l ON l.id = b.location_id ")
    rows = _by_items(session, pick_sql + "WHERE l.warehouse_id = ? AND l.kind IN ('storage', 'dock', 'pack') "
                     "AND l.active = 1 "
                     "AND b.qty <> 0 {filter}", "b.item_id", keys, wh)
    lots = sorted({str(k) for i, k, _q in rows if k and str(i) in wanted})
    expired: set[str] = set()
    for i in range(0, len(lots), _CHUNK):
        part = lots[i:i + _CHUNK]
        expired |= {str(r[0]) for r in _raw(session).execute(
            f"SELECT id FROM lot WHERE expiry_date < ? AND id IN ({','.join('?' * len(part))})",
            (today.isoformat(), *part))}
    for item, lot, q in rows:
        key = wanted.get(str(item))
        if key is not None and not (lot and str(lot) in expired):
            out[key].pickable += int(q)
    # reserved (any live order) and the backlog (open lines of orders waiting for stock)
    marks = ",".join("?" * len(HOLDING_STATES))
    for item, line_id, o_status, l_status, ordered, shipped, allocated in _by_items(
            session, "SELECT l.item_id, l.id, o.status, l.status, l.qty_ordered, l.qty_shipped, l.qty_allocated "
            f"FROM sales_order o JOIN sales_order_line l ON l.order_id = o.id WHERE o.status IN ({marks}) "
            "AND o.warehouse_id = ? AND o.deleted_at IS NULL AND l.deleted_at IS NULL {filter}",
            "l.item_id", keys, *HOLDING_STATES, wh):
        key = wanted.get(str(item))
        if key is None or str(line_id) in skip:
            continue
        sup = out[key]
        sup.reserved += int(allocated)
        if o_status in WAITING_STATES and l_status == "open":
            sup.backlog += max(0, int(ordered) - int(shipped) - int(allocated))
    # lead time of the preferred supplier (else the shortest)
    best: dict[uuid.UUID, tuple[bool, int]] = {}
    for item, lead, preferred in _by_items(
            session, "SELECT item_id, lead_time_days, preferred FROM item_supplier WHERE deleted_at IS NULL "
            "{filter}", "item_id", keys):
        key = wanted.get(str(item))
        if key is not None:
            cand = (not preferred, int(lead))
            if key not in best or cand < best[key]:
                best[key] = cand
    for key, (_p, lead) in best.items():
        out[key].lead_days = lead
    # receipts by their dates (late ones: tomorrow); undated ones are not promised
    tomorrow = today + dt.timedelta(days=1)
    rmarks = ",".join("?" * len(OPEN_RECEIPT_STATES))
    for item, at, qty, source, number in _by_items(
            session, "SELECT l.item_id, r.expected_at, l.qty_expected - l.qty_received, r.source, r.number "
            f"FROM expected_receipt r JOIN expected_receipt_line l ON l.receipt_id = r.id WHERE r.status IN ({rmarks}) "
            "AND r.warehouse_id = ? AND r.deleted_at IS NULL AND l.deleted_at IS NULL AND l.qty_expected > l.qty_received "
            "{filter}", "l.item_id", keys, *OPEN_RECEIPT_STATES, wh):
        key = wanted.get(str(item))
        if key is None or not at:
            continue
        due = dt.datetime.fromisoformat(str(at)).date()
        out[key].receipts.append((tomorrow if due <= today else due, int(qty), f"{str(source).upper()} {number}"))
    for sup in out.values():
        sup.receipts.sort()
    return out


def _promise_from(s: Supply, qty: int, already: int, today: dt.date) -> Promise:
    """``already``: units earlier lines of the same new order take from the same supply."""
    now = s.free_now - already
    if now >= qty:
        return Promise("now", today, now, "available now")
    level = now
    for due, units, ref in s.receipts:
        level += units
        if level >= qty:
            return Promise("on", due, now, f"on {due.isoformat()}", ref)
    when = today + dt.timedelta(days=max(1, s.lead_days))
    if s.receipts:
        when = max(when, s.receipts[-1][0] + dt.timedelta(days=1))
    return Promise("not_before", when, now, f"not before {when.isoformat()}", f"lead time {s.lead_days} days")


def promise(session: Session, item_id: uuid.UUID, warehouse_id: uuid.UUID, qty: int, *,
            today: dt.date | None = None, exclude_line_id: uuid.UUID | None = None) -> Promise:
    """The promise for ``qty`` base units of one item (the line being typed)."""
    today = today or dt.date.today()
    excl = [exclude_line_id] if exclude_line_id else []
    s = supply(session, [item_id], warehouse_id, today=today, exclude_lines=excl)[item_id]
    return _promise_from(s, qty, 0, today)


def promise_lines(session: Session, warehouse_id: uuid.UUID, lines: Sequence[tuple[uuid.UUID, int]], *,
                  today: dt.date | None = None, exclude_lines: Iterable[uuid.UUID] = ()) -> list[Promise]:
    """Promises for the lines of one new order, in order (two lines of one item share the supply)."""
    today = today or dt.date.today()
    if not lines:
        return []
    sup = supply(session, [i for i, _q in lines], warehouse_id, today=today, exclude_lines=exclude_lines)
    taken: dict[uuid.UUID, int] = {}
    out = []
    for item, q in lines:
        out.append(_promise_from(sup[item], q, taken.get(item, 0), today))
        taken[item] = taken.get(item, 0) + q
    return out


def expected_dates(session: Session | Any, warehouse_id: uuid.UUID, short: Sequence[tuple[uuid.UUID, int]], *,
                   today: dt.date | None = None) -> list[Promise]:
    """When each short quantity can be expected, the ``short`` list being (item, units) in queue
    order: stock not reserved and receipts serve them one after the other (the backlog itself)."""
    today = today or dt.date.today()
    if not short:
        return []
    sup = supply(session, [i for i, _q in short], warehouse_id, today=today)
    for s in sup.values():
        s.backlog = 0  # the lines asked about *are* the backlog: they are walked here instead
    taken: dict[uuid.UUID, int] = {}
    out = []
    for item, q in short:
        out.append(_promise_from(sup[item], q, taken.get(item, 0), today))
        taken[item] = taken.get(item, 0) + q
    return out
