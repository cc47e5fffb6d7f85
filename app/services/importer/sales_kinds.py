"""Import kinds for sales: price lists and open receivables (``depot import price-lists|receivables``).

Both go through the importer (``app.services.importer``): the file is read by ``fields.read_csv``
(encoding and separator detected, as Excel saves it), every row is checked before anything is
written, and every bad row is reported with its line.

* **price-lists** (head-office master data): one row per price break. Columns ``price_list``
  (code), ``sku``, ``unit_price`` (per ``uom``, default the base unit), ``min_qty`` (in ``uom``,
  default 1), and for the list: ``name``, ``customer`` *or* ``customer_group``, ``currency``,
  ``valid_from``, ``valid_to``. The list's fields come from its first row. A list already in the
  database takes the file's header, and the breaks of every item the file names are replaced by
  the file's (an item's price table is stated whole).
* **receivables** (the open items of a legacy system): ``customer``, ``invoice_number``,
  ``invoice_date``, ``due_date``, ``amount_open`` (positive: owed; negative: an open credit),
  ``currency``. Each row is an insert-only ledger row of kind ``opening``; an invoice already in
  the ledger for that customer is refused (a payment is a new row, not a re-import).
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from decimal import Decimal
from typing import Any

from sqlalchemy import insert, select, update
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.parties import Customer
from app.models.pricing import PriceList, PriceListLine
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.types import MONEY_SCALE, utcnow
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.db import site_id
from app.services.importer.fields import Field, Problem, Row, code, date, money, qty, signed_money, text
from app.services.masterdata import head_office_id
from app.services.ownership import acting_branch
from app.services.sales.intake import promise_new

CHUNK = 500


PRICE_FIELDS = [
    Field("price_list", code(24), True), Field("sku", code(40), True), Field("unit_price", money, True),
    Field("min_qty", qty), Field("uom", code(8)), Field("name", text(120)), Field("customer", code(20)),
    Field("customer_group", code(20)), Field("currency", code(3)), Field("valid_from", date), Field("valid_to", date),
]
RECEIVABLE_FIELDS = [
    Field("customer", code(20), True), Field("invoice_number", code(40), True), Field("invoice_date", date, True),
    Field("due_date", date), Field("amount_open", signed_money, True), Field("currency", code(3)),
]


def _in(session: Session, col: Any, keys: list[Any], *cols: Any) -> list[Any]:
    out: list[Any] = []
    for i in range(0, len(keys), CHUNK):
        out.extend(session.execute(select(*cols).where(col.in_(keys[i:i + CHUNK]))).all())
    return out


def prepare_price_lists(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    custs = {c: i for c, i in session.execute(select(Customer.code, Customer.id))}
    skus = sorted({r.values["sku"] for r in rows})
    items = {s: i for s, i in _in(session, Item.sku, skus, Item.sku, Item.id)}
    uoms = {(i, u): f for i, u, f in _in(session, ItemUom.item_id, list(items.values()), ItemUom.item_id, ItemUom.uom,
                                          ItemUom.factor)}
    base = {s: b for s, b in _in(session, Item.sku, skus, Item.sku, Item.base_uom)}
    heads: dict[str, tuple[int, dict[str, Any]]] = {}
    out: list[dict[str, Any]] = []
    for row in rows:
        v, errs = row.values, []
        head = heads.setdefault(v["price_list"], (row.line, v))[1]
        cust, group = head.get("customer", ""), head.get("customer_group", "")
        if heads[v["price_list"]][0] == row.line:
            if bool(cust) == bool(group):
                errs.append("customer / customer_group: name exactly one of the two for the list")
            elif cust and cust not in custs:
                errs.append(f"customer: unknown customer {cust}")
            if head.get("valid_from") and head.get("valid_to") and head["valid_to"] < head["valid_from"]:
                errs.append(f"valid_to: {head['valid_to']} is before valid_from {head['valid_from']}")
        item_id = items.get(v["sku"])
        factor = 1
        if item_id is None:
            errs.append(f"sku: unknown item {v['sku']}")
        elif v.get("uom") and v["uom"] != base.get(v["sku"]):
            f = uoms.get((item_id, v["uom"]))
            if f is None:
                errs.append(f"uom: item {v['sku']} has no unit {v['uom']}")
            else:
                factor = int(f)
        if errs:
            problems.append(Problem(row.line, "; ".join(errs), v))
            continue
        unit = (v["unit_price"] / factor).quantize(Decimal("0.0001")) if factor > 1 else v["unit_price"]
        out.append({"list": v["price_list"], "item_id": item_id, "min_qty": (v.get("min_qty") or 1) * factor,
                    "unit_price": unit, "head": head, "customer_id": custs.get(cust) if cust else None,
                    "group": group, "line": row.line})
    bad = {str(p.raw.get("price_list", "")) for p in problems if p.raw}
    return [r for r in out if r["list"] not in bad]


def write_price_lists(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session)
    now, site = utcnow(), site_id(session)
    by_list: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for r in rows:
        by_list[r["list"]].append(r)
    existing = {pl.code: pl for pl in session.scalars(select(PriceList).where(PriceList.code.in_(list(by_list))))}
    lines: list[dict[str, Any]] = []
    for code_, group in by_list.items():
        h = group[0]
        fields = {"name": h["head"].get("name", "") or code_, "customer_id": h["customer_id"],
                  "customer_group": h["group"], "currency": h["head"].get("currency") or "USD",
                  "valid_from": h["head"].get("valid_from"), "valid_to": h["head"].get("valid_to"), "active": True}
        pl = existing.get(code_)
        if pl is None:
            pl = PriceList(code=code_, owner_branch_id=ho, **fields)
            session.add(pl)
        else:
            for k, val in fields.items():
                setattr(pl, k, val)
            pl.deleted_at = None
        session.flush()
        items = list({r["item_id"] for r in group})
        for i in range(0, len(items), CHUNK):
            session.execute(update(PriceListLine).where(PriceListLine.price_list_id == pl.id,
                                                        PriceListLine.item_id.in_(items[i:i + CHUNK]),
                                                        PriceListLine.deleted_at.is_(None))
                            .values(deleted_at=now, hlc=clock.now(), hlc_site=site, updated_at=now))
        # a replaced break keeps its row (unique key) and comes back to life with the new price
        old = {(i, m): lid for lid, i, m in session.execute(
            select(PriceListLine.id, PriceListLine.item_id, PriceListLine.min_qty)
            .where(PriceListLine.price_list_id == pl.id))}
        for r in group:
            key = (r["item_id"], r["min_qty"])
            if key in old:
                session.execute(update(PriceListLine).where(PriceListLine.id == old[key]).values(
                    unit_price=r["unit_price"], deleted_at=None, hlc=clock.now(), hlc_site=site, updated_at=now))
            else:
                lines.append({"id": uuid7(), "owner_branch_id": ho, "created_at": now, "updated_at": now,
                              "hlc": clock.now(), "hlc_site": site, "price_list_id": pl.id, "item_id": r["item_id"],
                              "min_qty": r["min_qty"], "unit_price": r["unit_price"]})
    for i in range(0, len(lines), CHUNK):
        session.execute(insert(PriceListLine), lines[i:i + CHUNK])
    return len(rows)


def prepare_receivables(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    custs = {c: (i, cur) for c, i, cur in session.execute(select(Customer.code, Customer.id, Customer.currency))}
    keys = sorted({r.values["invoice_number"] for r in rows})
    taken = {(c, n) for c, n in _in(session, ReceivableEntry.doc_number, keys, ReceivableEntry.customer_id,
                                    ReceivableEntry.doc_number)}
    out = []
    for row in rows:
        v, errs = row.values, []
        cust = custs.get(v["customer"])
        if cust is None:
            errs.append(f"customer: unknown customer {v['customer']}")
        elif (cust[0], v["invoice_number"]) in taken:
            errs.append(f"invoice_number: {v['invoice_number']} of {v['customer']} is already in the receivables "
                        "ledger (record a payment instead of importing it again)")
        if v["amount_open"] == 0:
            errs.append("amount_open: 0 is not an open item")
        if v.get("due_date") and v["due_date"] < v["invoice_date"]:
            errs.append(f"due_date: {v['due_date']} is before invoice_date {v['invoice_date']}")
        if errs:
            problems.append(Problem(row.line, "; ".join(errs), v))
            continue
        assert cust is not None
        out.append({"customer_id": cust[0], "doc_number": v["invoice_number"], "doc_date": v["invoice_date"],
                    "due_date": v.get("due_date") or v["invoice_date"], "amount": v["amount_open"],
                    "currency": v.get("currency") or cust[1] or "USD"})
    return out


def write_receivables(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    owner = acting_branch(session, head_office_id(session))
    now = utcnow()
    batch = [{"id": uuid7(), "owner_branch_id": owner, "created_at": now, "kind": "opening", "source": "import",
              **r} for r in rows]
    for i in range(0, len(batch), CHUNK):
        session.execute(insert(ReceivableEntry), batch[i:i + CHUNK])
    return len(batch)


def write_orders(session: Session, actor: Actor, orders: list[dict[str, Any]]) -> int:
    """Open orders as the legacy file has them (prices included), each line promised
    (``sales.intake``), written as stored rows with executemany (100,000 lines in seconds; the
    ORM's bulk insert took a minute). Change capture stays on: the server must receive them."""
    today = dt.date.today()
    queue = sorted(orders, key=lambda o: (o["order_date"], o["number"]))
    promised = promise_new(session, [((o["number"], ln[0]), o["warehouse"].id, ln[1], ln[2])
                                     for o in queue for ln in o["lines"]], today=today)
    ship_complete = {c: bool(f) for c, f in session.execute(select(Customer.id, Customer.ship_complete).where(
        Customer.id.in_(list({o["customer_id"] for o in orders}))))} if len(orders) < 5000 else \
        {c: bool(f) for c, f in session.execute(select(Customer.id, Customer.ship_complete))}
    st = Stamp.take(session)
    heads, lines = [], []
    for o in orders:
        oid = new_id()
        owner = o["warehouse"].branch_id.hex
        dates = [promised[(o["number"], ln[0])].date for ln in o["lines"]]
        heads.append((oid, owner, st.now, st.now, st.hlc, st.site, o["number"], o["customer_id"].hex,
                      o["warehouse"].id.hex, "open", o["order_date"].isoformat(),
                      o["requested_date"].isoformat() if o["requested_date"] else None, o["currency"],
                      o["customer_po"], "", 0, "import", int(ship_complete.get(o["customer_id"], False)),
                      max(dates).isoformat(), actor.username))
        for line_no, item_id, q, price in o["lines"]:
            pr = promised[(o["number"], line_no)]
            lines.append((new_id(), owner, st.now, st.now, st.hlc, st.site, oid, line_no, item_id.hex, q, 0, 0,
                          int(price * MONEY_SCALE), "open", pr.date.isoformat(), pr.text[:60], "import"))
    # the bulk writer: ownership checked, capture done set-based for big batches (app.services.bulk)
    BulkInsert(session, SalesOrder, ORDER_COLUMNS).write(heads)
    BulkInsert(session, SalesOrderLine, LINE_COLUMNS).write(lines)
    return len(lines)


ORDER_COLUMNS = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "number", "customer_id",
                 "warehouse_id", "status", "order_date", "requested_date", "currency", "customer_po", "ship_to", "rush",
                 "source", "ship_complete", "promised_date", "entered_by")
LINE_COLUMNS = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "order_id", "line_no", "item_id",
                "qty_ordered", "qty_allocated", "qty_shipped", "unit_price", "status", "promised_date", "promise",
                "price_source")
