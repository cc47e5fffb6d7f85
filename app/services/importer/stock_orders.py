"""Opening stock and open sales orders from a legacy system.

Opening stock becomes 'opening' moves from the warehouse's adjust location into the named
bin, posted through ``services.stock.post_moves`` (the only way stock changes), so the
balances follow and the ledger shows where every unit came from. Open orders arrive one
row per line and are grouped by order number; an order with any bad line is refused as a
whole (half an order is worse than none).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections import defaultdict
from collections.abc import Callable
from typing import Any

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot, lot_id_for
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.org import INTERNAL_KINDS, Branch, Location, Warehouse
from app.models.parties import Customer
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.stock import StockBalance
from app.models.types import utcnow
from app.services.auth import Actor
from app.services.db import site_id
from app.services.importer.fields import Field, Problem, Row, code, date, money, qty, text
from app.services.ownership import owns
from app.services.stock import MoveSpec, post_moves

CHUNK = 2000

STOCK_FIELDS = [
    Field("warehouse", code(16), True), Field("bin", code(32), True), Field("sku", code(40), True),
    Field("qty", qty, True), Field("lot", text(40)), Field("expiry_date", date), Field("serial", text(60)),
]
ORDER_FIELDS = [
    Field("order_number", code(24), True), Field("customer", code(20), True), Field("warehouse", code(16), True),
    Field("sku", code(40), True), Field("qty", qty, True), Field("unit_price", money, True),
    Field("line_no", qty), Field("order_date", date), Field("requested_date", date),
    Field("customer_po", text(40)), Field("currency", code(3)),
]


def _in_chunks(session: Session, stmt_for: Any, keys: list[Any]) -> list[Any]:
    """Rows for many keys without passing SQLite's limit on bound parameters."""
    out: list[Any] = []
    for i in range(0, len(keys), CHUNK):
        out.extend(session.execute(stmt_for(keys[i:i + CHUNK])).all())
    return out


def _foreign(session: Session) -> Callable[[Warehouse], str | None]:
    """Why this site may not import documents for a warehouse (another branch's), or None."""
    names = {b.id: b.code for b in session.scalars(select(Branch))}

    def why(wh: Warehouse) -> str | None:
        if owns(session, wh.branch_id):
            return None
        code = names.get(wh.branch_id, "another branch")
        return f"warehouse {wh.code} belongs to {code}: import it at a {code} workstation"
    return why


def prepare_stock(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    whs = {w.code: w for w in session.scalars(select(Warehouse))}
    foreign = _foreign(session)
    skus = sorted({r.values["sku"] for r in rows})
    items = {i.sku: i for (i,) in _in_chunks(session, lambda ks: select(Item).where(Item.sku.in_(ks)), skus)}
    locs = {(loc.warehouse_id, loc.code): loc for loc in session.scalars(
        select(Location).where(Location.kind.in_(INTERNAL_KINDS)))}
    adjust = {loc.warehouse_id: loc for loc in session.scalars(select(Location).where(Location.kind == "adjust"))}
    serials: dict[tuple[uuid.UUID, str], int] = {}
    out = []
    for row in rows:
        v = row.values
        errors = []
        wh = whs.get(v["warehouse"])
        item = items.get(v["sku"])
        if wh is None:
            errors.append(f"warehouse: unknown warehouse {v['warehouse']}")
        elif foreign(wh):
            errors.append(str(foreign(wh)))
        elif (wh.id, v["bin"]) not in locs:
            errors.append(f"bin: unknown bin {v['bin']} in warehouse {wh.code}")
        if item is None:
            errors.append(f"sku: unknown item {v['sku']}")
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        assert wh is not None and item is not None
        lot, serial = v.get("lot"), v.get("serial")
        if item.track_lot and not lot:
            errors.append(f"lot: item {item.sku} is lot-tracked: a lot is required")
        if lot and not item.track_lot:
            errors.append(f"lot: item {item.sku} is not lot-tracked")
        if item.track_serial:
            if not serial:
                errors.append(f"serial: item {item.sku} is serial-tracked: a serial is required")
            elif v["qty"] != 1:
                errors.append("qty: a serial-tracked row carries exactly 1 unit")
            elif (item.id, serial) in serials:
                errors.append(f"serial: duplicate serial {serial} of {item.sku} (first on line "
                              f"{serials[(item.id, serial)]})")
            else:
                serials[(item.id, serial)] = row.line
        elif serial:
            errors.append(f"serial: item {item.sku} is not serial-tracked")
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        loc = locs[(wh.id, v["bin"])]
        lot_id = lot_id_for(item.id, lot) if lot else None
        out.append({"item": item, "loc": loc, "adjust": adjust[wh.id], "branch": wh.branch_id, "qty": v["qty"],
                    "lot": lot, "lot_id": lot_id, "expiry": v.get("expiry_date"), "serial": serial,
                    "line": row.line})
    return _not_stocked_yet(session, out, problems)


def _not_stocked_yet(session: Session, rows: list[dict[str, Any]], problems: list[Problem]) -> list[dict[str, Any]]:
    """Opening stock is imported once: refuse a bin that already holds the item (and lot)."""
    loc_ids = sorted({r["loc"].id for r in rows})
    held = {(b.location_id, b.item_id, b.lot_key): b.qty for (b,) in _in_chunks(
        session, lambda ks: select(StockBalance).where(StockBalance.location_id.in_(ks), StockBalance.qty != 0),
        loc_ids)}
    out = []
    for r in rows:
        item, loc, lot_id = r["item"], r["loc"], r["lot_id"]
        have = held.get((loc.id, item.id, lot_id.hex if lot_id else ""), 0)
        if have and not r["serial"]:
            problems.append(Problem(r["line"], f"bin {loc.code} already holds {have} of {item.sku}"
                                               + (f" lot {r['lot']}" if r["lot"] else "")
                                               + " in the database (opening stock imported before?)"))
            continue
        out.append(r)
    return out


def write_stock(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    now = utcnow()
    have_lots = set()
    lot_ids = sorted({r["lot_id"] for r in rows if r["lot_id"]})
    for (lid,) in _in_chunks(session, lambda ks: select(Lot.id).where(Lot.id.in_(ks)), lot_ids):
        have_lots.add(lid)
    new_lots: dict[uuid.UUID, dict[str, Any]] = {}
    for r in rows:
        if r["lot_id"] and r["lot_id"] not in have_lots and r["lot_id"] not in new_lots:
            new_lots[r["lot_id"]] = {"id": r["lot_id"], "owner_branch_id": r["branch"], "created_at": now,
                                     "item_id": r["item"].id, "lot_code": r["lot"].strip().upper(),
                                     "expiry_date": r["expiry"]}
    if new_lots:
        session.execute(insert(Lot), list(new_lots.values()))
    by_branch: dict[uuid.UUID, list[MoveSpec]] = defaultdict(list)
    for r in rows:
        by_branch[r["branch"]].append(MoveSpec(
            item_id=r["item"].id, qty=r["qty"], from_location_id=r["adjust"].id, to_location_id=r["loc"].id,
            reason="opening", lot_id=r["lot_id"], serial_no=r["serial"], doc_type="IMPORT"))
    for branch, specs in by_branch.items():
        for i in range(0, len(specs), CHUNK):
            post_moves(session, actor, specs[i:i + CHUNK], owner_branch_id=branch, at=now)
    return len(rows)


def prepare_orders(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    whs = {w.code: w for w in session.scalars(select(Warehouse))}
    custs = {c.code: c.id for c in session.scalars(select(Customer))}
    foreign = _foreign(session)
    skus = sorted({r.values["sku"] for r in rows})
    items = {s: (i, t) for s, i, t in _in_chunks(
        session, lambda ks: select(Item.sku, Item.id, Item.track_serial).where(Item.sku.in_(ks)), skus)}
    numbers = sorted({r.values["order_number"] for r in rows})
    taken = {n for (n,) in _in_chunks(session, lambda ks: select(SalesOrder.number).where(SalesOrder.number.in_(ks)),
                                      numbers)}
    orders: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        orders[row.values["order_number"]].append(row)
    # an order with a row that failed to parse, or a duplicate line, is refused whole
    bad_orders = {str(p.raw.get("order_number", "")).upper() for p in problems if p.raw}
    out = []
    for number, lines in orders.items():
        first = lines[0].values
        bad: list[Problem] = []
        for row in lines:
            v = row.values
            errors = []
            if number in taken:
                errors.append(f"order_number: order {number} already exists in the database")
            if v["customer"] not in custs:
                errors.append(f"customer: unknown customer {v['customer']}")
            elif v["customer"] != first["customer"]:
                errors.append(f"customer: {v['customer']} differs from line {lines[0].line} of order {number}")
            if v["warehouse"] not in whs:
                errors.append(f"warehouse: unknown warehouse {v['warehouse']}")
            elif v["warehouse"] != first["warehouse"]:
                errors.append(f"warehouse: {v['warehouse']} differs from line {lines[0].line} of order {number}")
            elif foreign(whs[v["warehouse"]]):
                errors.append(str(foreign(whs[v["warehouse"]])))
            if v["sku"] not in items:
                errors.append(f"sku: unknown item {v['sku']}")
            if errors:
                bad.append(Problem(row.line, "; ".join(errors)))
        if bad or number in bad_orders:
            problems.extend(bad)
            flagged = {p.line for p in bad}
            problems.extend(Problem(r.line, f"order {number} has a bad line, so none of its lines is imported")
                            for r in lines if r.line not in flagged)
            continue
        wh = whs[first["warehouse"]]
        out.append({"number": number, "customer_id": custs[first["customer"]], "warehouse": wh,
                    "order_date": first.get("order_date") or dt.date.today(),
                    "requested_date": first.get("requested_date"), "customer_po": first.get("customer_po", ""),
                    "currency": first.get("currency", "USD"),
                    "lines": [(r.values.get("line_no") or n, items[r.values["sku"]][0], r.values["qty"],
                               r.values["unit_price"]) for n, r in enumerate(lines, 1)]})
    return out


def write_orders(session: Session, actor: Actor, orders: list[dict[str, Any]]) -> int:
    now = utcnow()
    site = site_id(session)
    heads, lines = [], []
    for o in orders:
        oid = uuid7()
        owner = o["warehouse"].branch_id
        stamp = {"owner_branch_id": owner, "created_at": now, "updated_at": now, "hlc_site": site}
        heads.append({"id": oid, **stamp, "hlc": clock.now(), "number": o["number"], "customer_id": o["customer_id"],
                      "warehouse_id": o["warehouse"].id, "status": "open", "order_date": o["order_date"],
                      "requested_date": o["requested_date"], "currency": o["currency"],
                      "customer_po": o["customer_po"], "ship_to": "", "rush": False})
        for line_no, item_id, q, price in o["lines"]:
            lines.append({"id": uuid7(), **stamp, "hlc": clock.now(), "order_id": oid, "line_no": line_no,
                          "item_id": item_id, "qty_ordered": q, "qty_allocated": 0, "qty_shipped": 0,
                          "unit_price": price, "status": "open"})
    for i in range(0, len(heads), CHUNK):
        session.execute(insert(SalesOrder), heads[i:i + CHUNK])
    for i in range(0, len(lines), CHUNK):
        session.execute(insert(SalesOrderLine), lines[i:i + CHUNK])
    return len(lines)
