"""What an allocation run reads, in a few set-based queries (raw SQL: 20,000 lines must load in a
fraction of a second, so rows stay tuples of stored values and ids stay 32-character hex text).

* **lines**: open lines of orders a run may allocate (``open``, ``backordered``, ``allocated``), of
  orders whose reservations are frozen (``picking``, ``packed``: kept, never re-ranked), and lines
  that still hold stock they must give back (order on credit hold or cancelled, line cancelled);
* **stock**: on hand in *pickable* locations (storage bins and the dock; not QA, where quality holds
  sit, not transit or the virtual locations), by lot; lots past their expiry date are left out.
  Stock already picked into the packing location counts too: the frozen lines that hold it are
  taken off below, so a pick (bin -> pack) changes nothing a run sees;
* **current**: each line's reservation by lot (the allocation ledger's sums).

"Available" for a run is then: pickable on hand, minus what frozen lines hold, minus (when the
policy keeps allocations) what the other lines hold.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from app.models.parties import PRIORITY_TIERS
from app.services.id_storage import HexIds

#: orders a run ranks and allocates
ALLOCATABLE = ("open", "backordered", "allocated")
#: orders being picked or packed: their reservations are kept as they are
FROZEN = ("picking", "packed")
#: orders that must give their reservations back
RELEASING = ("credit_hold", "cancelled", "draft")
PICKABLE_KINDS = ("storage", "dock", "pack")
TIER_RANK = {t: n for n, t in enumerate(PRIORITY_TIERS)}
#: above this many items, stock is read for the whole warehouse (one scan of its bins) rather
#: than item by item through the index
ITEM_QUERY_LIMIT = 1500
_CHUNK = 500


@dataclass
class Line:
    """One sales order line as the run sees it (ids are hex text)."""

    id: str
    order_id: str
    order_number: str
    line_no: int
    item_id: str
    warehouse_id: str
    customer_id: str
    qty_ordered: int
    qty_shipped: int
    qty_allocated: int
    unit_price: int  # stored money (1/10,000)
    line_hlc: int
    order_hlc: int
    order_status: str
    line_status: str
    order_date: str
    requested_date: str | None
    rush: bool
    tier: str
    ship_complete: bool
    #: a person released the order from credit hold (credit is not asked again at release)
    credit_released: bool = False

    @property
    def need(self) -> int:
        """What the line wants reserved: ordered, less shipped (0 for a line that must give back)."""
        if self.order_status not in ALLOCATABLE and self.order_status not in FROZEN:
            return 0
        if self.line_status != "open":
            return 0
        return max(0, self.qty_ordered - self.qty_shipped)

    @property
    def frozen(self) -> bool:
        return self.order_status in FROZEN

    @property
    def rankable(self) -> bool:
        return self.order_status in ALLOCATABLE and self.line_status == "open"


@dataclass
class Snapshot:
    today: dt.date
    warehouse_ids: list[str]
    lines: list[Line]
    #: (warehouse, item) -> lot key ('' = no lot) -> pickable units
    stock: dict[tuple[str, str], dict[str, int]]
    #: lot key -> expiry date (ISO text) or None
    expiry: dict[str, str | None]
    #: line id -> lot key -> units reserved
    current: dict[str, dict[str, int]]
    #: item id -> (sku, standard cost stored), for reasons and the margin key
    items: dict[str, tuple[str, int]] = field(default_factory=dict)
    customers: dict[str, str] = field(default_factory=dict)
    warehouses: dict[str, str] = field(default_factory=dict)
    #: item ids the run was limited to (None: every item with open lines)
    item_scope: frozenset[str] | None = None
    #: the highest rowid of the stock and allocation ledgers when read (both insert-only, so
    #: anything newer was written after the snapshot: ``apply`` re-checks those items)
    move_mark: int = 0
    alloc_mark: int = 0


def _marks(n: int) -> str:
    return ",".join("?" * n)


def _rows(session: Session | Any, sql: str, params: Sequence[Any] = ()) -> list[Any]:
    """Plain tuples straight from the driver, in the session's transaction (SQLAlchemy's row
    objects cost as much as the query itself at this size). The seed passes its raw connection."""
    raw: Any = session if not isinstance(session, Session) else session.connection().connection.driver_connection
    return HexIds(raw).execute(sql, params).fetchall()  # ids as hex here, 16 bytes in the file


def _chunked(session: Session | Any, sql: str, keys: Sequence[str], extra: Sequence[Any] = ()) -> list[Any]:
    """``sql`` with one ``{keys}`` placeholder, run per chunk of keys (SQLite's parameter limit)."""
    out: list[Any] = []
    for i in range(0, len(keys), _CHUNK):
        part = keys[i:i + _CHUNK]
        out.extend(_rows(session, sql.format(keys=_marks(len(part))), (*extra, *part)))
    return out


_LINE_COLS = ("l.id, l.order_id, o.number, l.line_no, l.item_id, o.warehouse_id, o.customer_id, l.qty_ordered, "
              "l.qty_shipped, l.qty_allocated, l.unit_price, l.hlc, o.hlc, o.status, l.status, o.order_date, "
              "o.requested_date, o.rush, c.priority_tier, o.ship_complete, o.credit_released_at IS NOT NULL")


def load(session: Session | Any, warehouse_ids: Iterable[Any], *, items: Iterable[Any] | None = None,
         orders: Iterable[Any] | None = None, today: dt.date | None = None) -> Snapshot:
    """Read what a run over ``warehouse_ids`` needs (limited to ``items`` and/or the items of
    ``orders`` when given: an incremental run)."""
    whs = sorted({_hex(w) for w in warehouse_ids})
    today = today or dt.date.today()
    marks = _rows(session, "SELECT (SELECT max(rowid) FROM stock_move), (SELECT max(rowid) FROM allocation)")[0]
    marks = (int(marks[0] or 0), int(marks[1] or 0))
    item_scope: set[str] | None = {_hex(i) for i in items} if items is not None else None
    if orders is not None:
        order_ids = sorted({_hex(o) for o in orders})
        found = {r[0] for r in _chunked(session, "SELECT DISTINCT item_id FROM sales_order_line WHERE order_id IN ({keys})",
                                        order_ids)}
        item_scope = (item_scope or set()) | found
    statuses = ALLOCATABLE + FROZEN
    base = (f"SELECT {_LINE_COLS} FROM sales_order o JOIN sales_order_line l ON l.order_id = o.id "
            "JOIN customer c ON c.id = o.customer_id WHERE o.deleted_at IS NULL AND l.deleted_at IS NULL "
            f"AND o.warehouse_id IN ({_marks(len(whs))}) ")
    raw: list[Any] = []
    if whs and item_scope is None:
        raw += _rows(session, base + f"AND o.status IN ({_marks(len(statuses))})", (*whs, *statuses))
        raw += _rows(session, base + f"AND o.status IN ({_marks(len(RELEASING))}) AND l.qty_allocated > 0",
                     (*whs, *RELEASING))
    elif whs and item_scope:
        keys = sorted(item_scope)
        raw += _chunked(session, base + f"AND o.status IN ({_marks(len(statuses))}) AND l.item_id IN ({{keys}})",
                        keys, (*whs, *statuses))
        raw += _chunked(session, base + f"AND o.status IN ({_marks(len(RELEASING))}) AND l.qty_allocated > 0 "
                        "AND l.item_id IN ({keys})", keys, (*whs, *RELEASING))
    lines = [Line(str(r[0]), str(r[1]), r[2], int(r[3]), str(r[4]), str(r[5]), str(r[6]), int(r[7]), int(r[8]),
                  int(r[9]), int(r[10]), int(r[11]), int(r[12]), r[13], r[14], str(r[15]),
                  str(r[16]) if r[16] is not None else None, bool(r[17]), r[18] or "", bool(r[19]), bool(r[20]))
             for r in raw]
    wanted = {(ln.warehouse_id, ln.item_id) for ln in lines}
    item_ids = sorted({i for _w, i in wanted})
    stock: dict[tuple[str, str], dict[str, int]] = defaultdict(dict)
    if item_ids:
        if len(item_ids) <= ITEM_QUERY_LIMIT:
            rows = _chunked(session, "SELECT loc.warehouse_id, b.item_id, b.lot_key, b.qty FROM stock_balance b "
                            "JOIN location loc ON loc.id = b.location_id WHERE b.item_id IN ({keys}) AND b.qty <> 0 "
                            "AND loc.kind IN ('storage', 'dock', 'pack') AND loc.active = 1", item_ids)
        else:  # one pass over the warehouses' bins (their primary key leads with the location)
            rows = _rows(session, "SELECT loc.warehouse_id, b.item_id, b.lot_key, b.qty FROM location loc "
                         "CROSS JOIN stock_balance b ON b.location_id = loc.id "
                         "WHERE loc.kind IN ('storage', 'dock', 'pack') "
                         f"AND loc.active = 1 AND b.qty <> 0 AND loc.warehouse_id IN ({_marks(len(whs))})", whs)
        for w, i, lot, q in rows:
            k = (str(w), str(i))
            if k in wanted:
                slot = stock[k]
                slot[lot or ""] = slot.get(lot or "", 0) + int(q)
    lot_keys = sorted({lot for slots in stock.values() for lot in slots if lot})
    expiry: dict[str, str | None] = {}
    if lot_keys:
        for lid, exp in _chunked(session, "SELECT id, expiry_date FROM lot WHERE id IN ({keys})", lot_keys):
            expiry[str(lid)] = str(exp) if exp is not None else None
    iso_today = today.isoformat()
    for slots in stock.values():
        for lot in [k for k in slots if k and (expiry.get(k) or "9999") < iso_today]:
            del slots[lot]  # expired: not sellable, not allocated
    held = [ln.id for ln in lines if ln.qty_allocated]
    current: dict[str, dict[str, int]] = defaultdict(dict)
    if held:
        for lid, lot, q in _chunked(session, "SELECT order_line_id, lot_id, SUM(qty) FROM allocation "
                                    "WHERE order_line_id IN ({keys}) GROUP BY order_line_id, lot_id", held):
            if q:
                current[str(lid)][str(lot) if lot else ""] = int(q)
    for ln in lines:  # a reservation the ledger cannot explain (made before the ledger) counts lot-less
        gap = ln.qty_allocated - sum(current.get(ln.id, {}).values())
        if gap:
            current[ln.id][""] = current[ln.id].get("", 0) + gap
    items_info = {str(i): (s, int(c)) for i, s, c in _chunked(
        session, "SELECT id, sku, standard_cost FROM item WHERE id IN ({keys})", item_ids)} if item_ids else {}
    cust_ids = sorted({ln.customer_id for ln in lines})
    customers = {str(i): c for i, c in _chunked(session, "SELECT id, code FROM customer WHERE id IN ({keys})",
                                                cust_ids)} if cust_ids else {}
    warehouses = {str(i): c for i, c in _rows(session, "SELECT id, code FROM warehouse")}
    return Snapshot(today, whs, lines, dict(stock), expiry, dict(current), items_info, customers, warehouses,
                    frozenset(item_scope) if item_scope is not None else None, marks[0], marks[1])


def _hex(value: Any) -> str:
    return value.hex if hasattr(value, "hex") and not isinstance(value, str) else str(value).replace("-", "")
