"""Master-data kinds of the import: items, suppliers, customers and item-supplier terms.

The rules are those of ``services.masterdata`` (upper-case codes of bounded length, known
velocity and temperature classes, money exact and not negative); the write is one bulk
INSERT per table, stamped with this site's HLC like any ORM write.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import VELOCITY_CLASSES, Item, ItemUom
from app.models.ids import uuid7_hex_batch
from app.models.org import TEMPERATURE_CLASSES, Branch
from app.models.parties import PRIORITY_TIERS, SERVICE_LEVELS, Customer, ItemSupplier, Supplier
from app.models.tracking import NOTICE_KINDS
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.importer.fields import (
    Field,
    Problem,
    Row,
    boolean,
    choice,
    code,
    decimal4,
    gtin,
    money,
    qty,
    text,
    whole,
)
from app.services.masterdata import head_office_id


def _velocity(v: str) -> str:
    v = v.upper()
    if v not in VELOCITY_CLASSES:
        raise ValueError(f"{v!r} is not one of {', '.join(VELOCITY_CLASSES)}")
    return v


def _notices(v: str) -> str:
    """Shipment notices the customer gets (Tracking): comma-separated kinds, or none (opted out)."""
    if v.strip().lower() == "none":
        return "none"
    kinds = [k.strip().lower() for k in v.replace(";", ",").split(",") if k.strip()]
    bad = [k for k in kinds if k not in NOTICE_KINDS]
    if bad:
        raise ValueError(f"{bad[0]!r} is not one of {', '.join(NOTICE_KINDS)}")
    return ",".join(k for k in NOTICE_KINDS if k in kinds)


ITEM_FIELDS = [
    Field("sku", code(40), True), Field("description", text(200), True), Field("base_uom", code(8)),
    Field("gtin", gtin), Field("length_mm", whole), Field("width_mm", whole), Field("height_mm", whole),
    Field("weight_g", whole), Field("velocity_class", _velocity), Field("track_lot", boolean),
    Field("track_serial", boolean), Field("track_expiry", boolean), Field("needs_inspection", boolean),
    Field("hazmat_class", text(8)), Field("temperature_class", choice(*TEMPERATURE_CLASSES)),
    Field("category", text(40)), Field("standard_cost", money), Field("list_price", money),
    Field("currency", code(3)), Field("active", boolean), Field("case_qty", qty), Field("pallet_qty", qty),
]
SUPPLIER_FIELDS = [
    Field("code", code(20), True), Field("name", text(200), True), Field("contact_email", text(200)),
    Field("address", text(400)), Field("currency", code(3)), Field("payment_terms", text(20)),
    Field("edi_qualifier", text(2)), Field("edi_id", text(35)), Field("edi_format", choice("x12", "edifact")),
    Field("allows_consolidation", boolean), Field("over_receipt_pct", decimal4),
    Field("under_receipt_pct", decimal4), Field("active", boolean),
]
CUSTOMER_FIELDS = [
    Field("code", code(20), True), Field("name", text(200), True), Field("contact_email", text(200)),
    Field("ship_to", text(400)), Field("priority_tier", choice(*PRIORITY_TIERS)), Field("credit_limit", money),
    Field("currency", code(3)), Field("payment_terms", text(20)), Field("service_level", choice(*SERVICE_LEVELS)),
    Field("home_branch", code(8)), Field("home_branch_id", text(40)), Field("active", boolean),
    # sales: price group, ship-complete, credit control, customer EDI (issue 12)
    Field("price_group", code(20)), Field("ship_complete", boolean), Field("credit_hold", boolean),
    Field("credit_note", text(200)), Field("overdue_days", whole), Field("edi_qualifier", text(2)),
    Field("edi_id", text(35)), Field("edi_format", choice("x12", "edifact")),
    # shipment notices (issue 15)
    Field("notify_email", text(200)), Field("notify_events", _notices),
]
LINK_FIELDS = [
    Field("sku", code(40), True), Field("supplier", code(20), True), Field("supplier_part", text(40)),
    Field("lead_time_days", whole), Field("lead_time_sd_days", decimal4), Field("pack_size", qty),
    Field("min_order_qty", qty), Field("contract_price", money), Field("last_price", money),
    Field("currency", code(3)), Field("contracted", boolean), Field("preferred", boolean),
    Field("item_id", text(40)), Field("supplier_id", text(40)),
]


def _stamp(stamp: Stamp, owner: Any, row_id: str | None = None) -> dict[str, Any]:
    return {"id": row_id or new_id(), "owner_branch_id": owner.hex, "created_at": stamp.now,
            "updated_at": stamp.now, "hlc": stamp.hlc, "hlc_site": stamp.site}


def _bulk(session: Session, model: Any, rows: list[dict[str, Any]]) -> None:
    """One bulk write (services.bulk: stored forms, executemany, capture kept)."""
    writer, data = BulkInsert.for_dicts(session, model, rows)
    writer.write(data)


def prepare_items(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    skus = set(session.scalars(select(Item.sku)))
    gtins = set(session.scalars(select(Item.gtin).where(Item.gtin.is_not(None))))
    gtins |= set(session.scalars(select(ItemUom.gtin).where(ItemUom.gtin.is_not(None))))
    seen_gtin: dict[str, int] = {}
    out = []
    for row in rows:
        v = row.values
        if v["sku"] in skus:
            problems.append(Problem(row.line, f"sku {v['sku']} already exists in the database"))
            continue
        g = v.get("gtin")
        if g and g in gtins:
            problems.append(Problem(row.line, f"gtin {g} already belongs to another item in the database"))
            continue
        if g and g in seen_gtin:
            problems.append(Problem(row.line, f"duplicate gtin {g} (first on line {seen_gtin[g]})"))
            continue
        if g:
            seen_gtin[g] = row.line
        if v.get("case_qty") and v.get("pallet_qty") and v["pallet_qty"] % v["case_qty"]:
            problems.append(Problem(row.line, "pallet_qty: must be a whole number of cases"))
            continue
        out.append(v)
    return out


def write_items(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session)
    stamp = Stamp.take(session)
    ids = iter(uuid7_hex_batch(3 * len(rows)))  # an item and at most two pack units each
    items, uoms = [], []
    for v in rows:
        base = {k: val for k, val in v.items() if k not in ("case_qty", "pallet_qty")}
        rec = {**_stamp(stamp, ho, next(ids)), **base}
        items.append(rec)
        for uom in ("case", "pallet"):
            factor = v.get(f"{uom}_qty")
            if factor and factor > 1:
                uoms.append({**_stamp(stamp, ho, next(ids)), "item_id": rec["id"],
                             "uom": "CS" if uom == "case" else "PL", "factor": factor, "gtin": None})
    _bulk(session, Item, items)
    if uoms:
        _bulk(session, ItemUom, uoms)
    return len(items)


def prepare_suppliers(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    codes = set(session.scalars(select(Supplier.code)))
    out = []
    for row in rows:
        if row.values["code"] in codes:
            problems.append(Problem(row.line, f"supplier code {row.values['code']} already exists in the database"))
            continue
        out.append(row.values)
    return out


def write_suppliers(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session)
    stamp = Stamp.take(session)
    _bulk(session, Supplier, [{**_stamp(stamp, ho), **v} for v in rows])
    return len(rows)


def prepare_customers(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    codes = set(session.scalars(select(Customer.code)))
    branches = {c: i for c, i in session.execute(select(Branch.code, Branch.id))}
    by_id = {str(i): i for i in branches.values()}
    out = []
    for row in rows:
        v = dict(row.values)
        if v["code"] in codes:
            problems.append(Problem(row.line, f"customer code {v['code']} already exists in the database"))
            continue
        home = v.pop("home_branch", None)
        home_id = v.pop("home_branch_id", None)
        if home is not None:
            if home not in branches:
                problems.append(Problem(row.line, f"home_branch: unknown branch {home}"))
                continue
            v["home_branch_id"] = branches[home]
        elif home_id is not None:
            if home_id not in by_id:
                problems.append(Problem(row.line, f"home_branch_id: unknown branch {home_id}"))
                continue
            v["home_branch_id"] = by_id[home_id]
        out.append(v)
    return out


def write_customers(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session)
    stamp = Stamp.take(session)
    _bulk(session, Customer, [{**_stamp(stamp, ho), **v} for v in rows])
    return len(rows)


def prepare_links(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    items = {s: i for s, i in session.execute(select(Item.sku, Item.id))}
    sups = {c: i for c, i in session.execute(select(Supplier.code, Supplier.id))}
    existing = {(i, s) for i, s in session.execute(select(ItemSupplier.item_id, ItemSupplier.supplier_id))}
    out = []
    for row in rows:
        v = dict(row.values)
        v.pop("item_id", None)
        v.pop("supplier_id", None)
        sku, sup = v.pop("sku"), v.pop("supplier")
        errors = []
        if sku not in items:
            errors.append(f"sku: unknown item {sku}")
        if sup not in sups:
            errors.append(f"supplier: unknown supplier {sup}")
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        if (items[sku], sups[sup]) in existing:
            problems.append(Problem(row.line, f"item-supplier {sku} / {sup} already exists in the database"))
            continue
        pack, moq = v.get("pack_size", 1), v.get("min_order_qty", 1)
        if moq % pack:
            problems.append(Problem(row.line, f"min_order_qty: {moq} is not a multiple of pack_size {pack}"))
            continue
        v["item_id"], v["supplier_id"] = items[sku], sups[sup]
        v.setdefault("supplier_part", sku)
        if "contract_price" in v:
            v.setdefault("last_price", v["contract_price"])
        out.append(v)
    return out


def write_links(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    ho = head_office_id(session)
    stamp = Stamp.take(session)
    _bulk(session, ItemSupplier, [{**_stamp(stamp, ho), **v} for v in rows])
    return len(rows)
