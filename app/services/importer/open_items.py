"""Open purchase orders and order points (fixed min/max) from a legacy system.

Open POs arrive one row per line, grouped by their legacy number (kept). An order with any bad
line is refused whole, as open sales orders are. Each PO goes through the purchasing services:
``create_po`` (its number, supplier, lines and dates), approved without the approval rules (the
old system approved it) so its expected receipts are made by ``po_receipts``, then ``sent``;
units the old system already received go on the expected lines (``record_received_before``)
and the receiving roll-up makes the PO partially received. Nothing is written by hand.

Order points are one row per item x warehouse; a pair that already has a policy gets the new
min and max (the file states the policy in force), reported as replaced.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.demand import ReplenishmentPolicy, policy_id_for
from app.models.org import Warehouse
from app.models.parties import Supplier
from app.models.purchasing import PurchaseOrder
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, run_many
from app.services.errors import ValidationError
from app.services.importer.fields import Field, Problem, Row, choice, code, date, money, qty, whole
from app.services.importer.stock_orders import _foreign, _in_chunks

#: a PO may carry at most this many lines (the purchasing service's own limit)
MAX_PO_LINES = 5000

PO_FIELDS = [
    Field("number", code(24), True), Field("supplier", code(20), True), Field("warehouse", code(16), True),
    Field("sku", code(40), True), Field("qty_ordered", qty, True), Field("price", money, True),
    Field("qty_received", whole), Field("expected_date", date), Field("order_date", date), Field("line_no", qty),
    Field("uom", code(8)),
]
ORDER_POINT_FIELDS = [
    Field("warehouse", code(16), True), Field("sku", code(40), True), Field("min_qty", whole, True),
    Field("max_qty", whole, True), Field("policy", choice("fixed_minmax")),
]


# --------------------------------------------------------------------------- purchase orders


def prepare_pos(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    whs = {w.code: w for w in session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)))}
    sups = {s.code: s for s in session.scalars(select(Supplier).where(Supplier.deleted_at.is_(None)))}
    foreign = _foreign(session)
    skus = sorted({r.values["sku"] for r in rows})
    items = {s: (i, a) for s, i, a in _in_chunks(
        session, lambda ks: select(Item.sku, Item.id, Item.active).where(Item.sku.in_(ks)), skus)}
    numbers = sorted({r.values["number"] for r in rows})
    taken = {n for (n,) in _in_chunks(
        session, lambda ks: select(PurchaseOrder.number).where(PurchaseOrder.number.in_(ks)), numbers)}
    pos: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        pos[row.values["number"]].append(row)
    bad_pos = {str(p.raw.get("number", "")).upper() for p in problems if p.raw}
    out = []
    for number, lines in pos.items():
        first = lines[0].values
        bad: list[Problem] = []
        sup = sups.get(first["supplier"])
        for row in lines:
            v = row.values
            errors = []
            if number in taken:
                errors.append(f"number: purchase order {number} already exists in the database")
            if v["supplier"] not in sups:
                errors.append(f"supplier: unknown supplier {v['supplier']}")
            elif v["supplier"] != first["supplier"]:
                errors.append(f"supplier: {v['supplier']} differs from line {lines[0].line} of PO {number}")
            elif not sups[v["supplier"]].active:
                errors.append(f"supplier: {v['supplier']} is inactive")
            wh = whs.get(v["warehouse"])
            if wh is None:
                errors.append(f"warehouse: unknown warehouse {v['warehouse']}")
            elif foreign(wh):
                errors.append(str(foreign(wh)))
            elif v["warehouse"] != first["warehouse"] and sup is not None and not sup.allows_consolidation:
                errors.append(f"warehouse: {v['warehouse']} differs from line {lines[0].line} of PO {number} and "
                              f"supplier {sup.code} does not take one PO for several ship-to addresses")
            if v["sku"] not in items:
                errors.append(f"sku: unknown item {v['sku']}")
            elif not items[v["sku"]][1]:
                errors.append(f"sku: item {v['sku']} is inactive")
            got = v.get("qty_received", 0)
            if got > v["qty_ordered"]:
                errors.append(f"qty_received: {got} is more than qty_ordered {v['qty_ordered']}")
            ordered = first.get("order_date")
            if ordered and v.get("expected_date") and v["expected_date"] < ordered:
                errors.append(f"expected_date: {v['expected_date'].isoformat()} is before the order date "
                              f"{ordered.isoformat()}")
            if v.get("order_date") and v["order_date"] > dt.date.today():
                errors.append(f"order_date: {v['order_date'].isoformat()} is in the future")
            if errors:
                bad.append(Problem(row.line, "; ".join(errors)))
        if not bad and all(r.values.get("qty_received", 0) >= r.values["qty_ordered"] for r in lines):
            bad.append(Problem(lines[0].line, f"number: nothing is open on PO {number} (every line is received): "
                                              "import only open purchase orders"))
        if not bad and len(lines) > MAX_PO_LINES:
            bad.append(Problem(lines[0].line, f"number: PO {number} has {len(lines)} lines, more than "
                                              f"{MAX_PO_LINES:,}"))
        if bad or number in bad_pos:
            problems.extend(bad)
            flagged = {p.line for p in bad}
            problems.extend(Problem(r.line, f"PO {number} has a bad line, so none of its lines is imported")
                            for r in lines if r.line not in flagged)
            continue
        assert sup is not None
        line_nos = [r.values.get("line_no") or n for n, r in enumerate(lines, 1)]
        if len(set(line_nos)) != len(line_nos):
            line_nos = list(range(1, len(lines) + 1))
        dates = [r.values["expected_date"] for r in lines if r.values.get("expected_date")]
        # no order date in the file: the earliest of today and the expected dates (an overdue PO is open too)
        out.append({"number": number, "supplier": sup, "warehouse": whs[first["warehouse"]],
                    "order_date": first.get("order_date") or min([dt.date.today(), *dates]),
                    "expected_date": min(dates) if dates else None,
                    "lines": [(n, items[r.values["sku"]][0], r.values, whs[r.values["warehouse"]])
                              for n, r in sorted(zip(line_nos, lines, strict=True), key=lambda t: t[0])]})
    return out


def write_pos(session: Session, actor: Actor, pos: list[dict[str, Any]]) -> int:
    from app.services.buying import purchasing as pur
    from app.services.buying.po_receipts import record_received_before
    from app.services.buying.rollup import roll_up
    from app.services.receiving.followup import follow_up

    n = 0
    for p in pos:
        lines = [pur.LineInput(item_id=item_id, qty=v["qty_ordered"], price=v["price"], ship_to_warehouse_id=wh.id,
                               uom=v.get("uom", ""), expected_date=v.get("expected_date"))
                 for _no, item_id, v, wh in p["lines"]]
        po = pur.create_po(session, actor, p["supplier"].id, p["warehouse"].id, lines, number=p["number"],
                           order_date=p["order_date"], expected_date=p["expected_date"],
                           notes="imported from the previous system")
        # the previous system approved and sent it: no approval rules, no second send to the supplier
        pur.mark_approved(session, actor, po, auto=True)
        pur.set_status(session, actor, po, "sent", imported=True)
        po_lines = pur.lines_of(session, po.id)
        got = {pl.id: v.get("qty_received", 0) for pl, (_no, _i, v, _w) in zip(po_lines, p["lines"], strict=True)
               if v.get("qty_received", 0)}
        if got:  # as posting a short receipt does: the rest stays expected on a follow-up receipt
            for er in record_received_before(session, actor, po, got):
                follow_up(session, actor, er, po)
            roll_up(session, actor, po)
        n += len(lines)
    return n


# --------------------------------------------------------------------------- order points

_POLICY_COLUMNS = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "item_id",
                   "warehouse_id", "policy", "min_qty", "max_qty")


def prepare_order_points(session: Session, rows: list[Row], problems: list[Problem]) -> list[Any]:
    from app.services.replenishment.policies import check_min_max

    whs = {w.code: w for w in session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)))}
    foreign = _foreign(session)
    allowed = {c: foreign(w) for c, w in whs.items()}
    items = dict(session.execute(select(Item.sku, Item.id).where(Item.deleted_at.is_(None))).all())
    existing = {i for (i,) in session.execute(select(ReplenishmentPolicy.id))}
    out = []
    for row in rows:
        v = row.values
        errors = []
        wh = whs.get(v["warehouse"])
        if wh is None:
            errors.append(f"warehouse: unknown warehouse {v['warehouse']}")
        elif allowed[v["warehouse"]]:
            errors.append(str(allowed[v["warehouse"]]))
        item_id = items.get(v["sku"])
        if item_id is None:
            errors.append(f"sku: unknown item {v['sku']}")
        try:
            check_min_max(v["min_qty"], v["max_qty"])
        except ValidationError as e:
            errors.append(str(e))
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        assert wh is not None and item_id is not None
        pid = policy_id_for(item_id, wh.id)
        out.append((pid, item_id, wh, v.get("policy", "fixed_minmax"), v["min_qty"], v["max_qty"], pid in existing))
    return out


def write_order_points(session: Session, actor: Actor, rows: list[Any]) -> int:
    stamp = Stamp.take(session)
    new = [(pid.hex, wh.branch_id.hex, stamp.now, stamp.now, stamp.hlc, stamp.site, item_id.hex, wh.id.hex, pol,
            lo, hi) for pid, item_id, wh, pol, lo, hi, old in rows if not old]
    BulkInsert(session, ReplenishmentPolicy, _POLICY_COLUMNS).write(new)
    changed = [(pol, lo, hi, stamp.now_us, stamp.hlc, stamp.site, pid.hex)
               for pid, _item, _wh, pol, lo, hi, old in rows if old]
    if changed:  # prepare refused other branches' warehouses: these rows are this site's to change
        run_many(session, "replenishment_policy", "UPDATE replenishment_policy SET policy = ?, min_qty = ?, max_qty = ?, deleted_at = NULL, "
                          "updated_at = ?, hlc = ?, hlc_site = ? WHERE id = ?", changed)
    return len(rows)


def replaced_order_points(rows: list[Any]) -> int:
    return sum(1 for r in rows if r[-1])
