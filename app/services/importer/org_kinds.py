"""Organisation kinds of the import: branches, warehouses and locations (bins, docks, QA cages).

Branches and warehouses are few and go through ``services.masterdata`` one by one (a warehouse
must get its dock, QA and virtual locations). Locations may be 150,000 rows: they are checked
here with the rules of ``org.sites.check_bin`` and written in one bulk insert; a zone the file
names that the warehouse lacks is created with the temperature and hazmat class of its first
row. A missing walk sequence continues after the warehouse's last one, in file order.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import INTERNAL_KINDS, TEMPERATURE_CLASSES, Branch, Location, Warehouse, Zone
from app.services import masterdata as md
from app.services.auth import Actor
from app.services.bulk import BulkInsert, Stamp, new_id
from app.services.errors import ValidationError
from app.services.importer.fields import Field, Problem, Row, boolean, choice, code, text, whole

BRANCH_FIELDS = [
    Field("code", code(8), True), Field("name", text(120), True), Field("head_office", boolean),
    Field("address", text(400)), Field("timezone", text(64)),
]
WAREHOUSE_FIELDS = [
    Field("code", code(16), True), Field("branch", code(8), True), Field("name", text(120), True),
    Field("address", text(400)), Field("branch_id", text(40)),
]
LOCATION_FIELDS = [
    Field("warehouse", code(16), True), Field("code", code(32), True), Field("kind", choice(*INTERNAL_KINDS)),
    Field("role", choice("pick", "reserve")), Field("zone", code(16)), Field("walk_seq", whole),
    Field("capacity_volume_cm3", whole), Field("capacity_weight_g", whole),
    Field("temperature_class", choice(*TEMPERATURE_CLASSES)), Field("hazmat_class", text(8)),
    Field("fixed_sku", code(40)), Field("min_qty", whole), Field("max_qty", whole), Field("active", boolean),
    # columns of an exported `location` table, accepted and ignored (ids are this file's own)
    Field("warehouse_id", text(40)), Field("zone_id", text(40)), Field("fixed_item_id", text(40)),
]


def _timezone(v: str) -> str:
    from app.services.org.company import check_timezone

    return check_timezone(v)


# --------------------------------------------------------------------------- branches


def prepare_branches(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    codes = set(session.scalars(select(Branch.code)))
    ho = session.scalar(select(Branch.code).where(Branch.is_head_office.is_(True), Branch.deleted_at.is_(None)))
    first_ho: int | None = None
    out = []
    for row in rows:
        v = dict(row.values)
        errors = []
        if v["code"] in codes:
            errors.append(f"branch code {v['code']} already exists in the database")
        if v.get("timezone"):
            try:
                v["timezone"] = _timezone(v["timezone"])
            except ValidationError as e:
                errors.append(f"timezone: {e.rule}")
        if v.get("head_office"):
            if ho:
                errors.append(f"head_office: {ho} is already the head office (a company has one)")
            elif first_ho is not None:
                errors.append(f"head_office: line {first_ho} already names the head office (a company has one)")
            else:
                first_ho = row.line
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        out.append(v)
    if not ho and first_ho is None and rows:
        problems.append(Problem(rows[0].line, "head_office: no row is the head office and the database has none: "
                                              "mark one row head_office = yes"))
        return []
    return out


def write_branches(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    for v in sorted(rows, key=lambda r: not r.get("head_office")):  # the head office owns the others
        b = md.create_branch(session, v["code"], v["name"], head_office=bool(v.get("head_office")),
                             timezone=v.get("timezone") or "UTC", address=v.get("address", ""))
        if b.is_head_office:
            from app.services.org.sites import _adopt_branch_if_unset

            _adopt_branch_if_unset(session, b.id)
    return len(rows)


# --------------------------------------------------------------------------- warehouses


def prepare_warehouses(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    branches = {b.code: b for b in session.scalars(select(Branch).where(Branch.deleted_at.is_(None)))}
    codes = set(session.scalars(select(Warehouse.code)))
    out = []
    for row in rows:
        v = dict(row.values)
        v.pop("branch_id", None)
        errors = []
        if v["code"] in codes:
            errors.append(f"warehouse code {v['code']} already exists in the database")
        if v["branch"] not in branches:
            known = ", ".join(sorted(branches)) or "none yet: import branches first"
            errors.append(f"branch: unknown branch {v['branch']} (known: {known})")
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        v["_branch"] = branches[v["branch"]]
        out.append(v)
    return out


def write_warehouses(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    for v in rows:
        md.create_warehouse(session, v["_branch"], v["code"], v["name"], address=v.get("address", ""))
    return len(rows)


# --------------------------------------------------------------------------- locations

_LOCATION_COLUMNS = (
    "id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "warehouse_id", "zone_id", "code", "kind",
    "role", "capacity_volume_cm3", "capacity_weight_g", "temperature_class", "hazmat_class", "walk_seq",
    "fixed_item_id", "min_qty", "max_qty", "active",
)


def prepare_locations(session: Session, rows: list[Row], problems: list[Problem]) -> list[dict[str, Any]]:
    from app.services.org.sites import check_bin

    whs = {w.code: w for w in session.scalars(select(Warehouse).where(Warehouse.deleted_at.is_(None)))}
    taken = {(w, c) for w, c in session.execute(select(Location.warehouse_id, Location.code))}
    zones = {(z.warehouse_id, z.code): z for z in session.scalars(select(Zone).where(Zone.deleted_at.is_(None)))}
    fixed = sorted({r.values["fixed_sku"] for r in rows if r.values.get("fixed_sku")})
    items = {s: i for s, i in session.execute(select(Item.sku, Item.id).where(Item.sku.in_(fixed)))} if fixed else {}
    out = []
    for row in rows:
        v = dict(row.values)
        for col in ("warehouse_id", "zone_id", "fixed_item_id"):
            v.pop(col, None)
        wh = whs.get(v["warehouse"])
        if wh is None:
            problems.append(Problem(row.line, f"warehouse: unknown warehouse {v['warehouse']}"))
            continue
        errors = []
        if (wh.id, v["code"]) in taken:
            errors.append(f"bin {v['code']} already exists in warehouse {wh.code} in the database")
        kind = v.get("kind", "storage")
        role = v.get("role", "reserve" if kind == "storage" else "")
        sku = v.get("fixed_sku")
        if sku and sku not in items:
            errors.append(f"fixed_sku: unknown item {sku}")
        try:
            check_bin(kind, role, v.get("capacity_volume_cm3", 0), v.get("capacity_weight_g", 0), v.get("min_qty", 0),
                      v.get("max_qty", 0), sku)
        except ValidationError as e:
            errors.append(str(e).replace("min qty:", "min_qty:").replace("fixed item:", "fixed_sku:"))
        if errors:
            problems.append(Problem(row.line, "; ".join(errors)))
            continue
        v.update(_wh=wh, _kind=kind, _role=role if kind == "storage" else "", _zone=zones.get((wh.id, v.get("zone", ""))),
                 _item=items.get(sku) if sku else None, _line=row.line)
        out.append(v)
    return out


def write_locations(session: Session, actor: Actor, rows: list[dict[str, Any]]) -> int:
    from app.services.org.sites import next_walk_seq

    zones: dict[tuple[uuid.UUID, str], Zone] = {}
    for v in rows:  # zones the file names that the warehouse lacks: from their first row
        if v.get("zone") and v["_zone"] is None and (v["_wh"].id, v["zone"]) not in zones:
            zones[(v["_wh"].id, v["zone"])] = md.create_zone(
                session, v["_wh"], v["zone"], temperature_class=v.get("temperature_class", "ambient"),
                hazmat_class=v.get("hazmat_class", ""), name=v["zone"])
    stamp = Stamp.take(session)
    walk: dict[uuid.UUID, int] = {}
    out = []
    for v in rows:
        wh = v["_wh"]
        z = v["_zone"] or zones.get((wh.id, v.get("zone", "")))
        seq = v.get("walk_seq")
        if seq is None:
            if wh.id not in walk:
                walk[wh.id] = next_walk_seq(session, wh.id)
            seq = walk[wh.id]
            walk[wh.id] += 1
        temp = v.get("temperature_class") or (z.temperature_class if z else "ambient")
        hazmat = v.get("hazmat_class", z.hazmat_class if z else "")
        out.append((new_id(), wh.owner_branch_id.hex, stamp.now, stamp.now, stamp.hlc, stamp.site, wh.id.hex,
                    z.id.hex if z else None, v["code"], v["_kind"], v["_role"],
                    v.get("capacity_volume_cm3", 1_000_000 if v["_kind"] == "storage" else 0),
                    v.get("capacity_weight_g", 1_000_000 if v["_kind"] == "storage" else 0), temp, hazmat, seq,
                    v["_item"].hex if v["_item"] else None, v.get("min_qty", 0), v.get("max_qty", 0),
                    int(v.get("active", True))))
    return BulkInsert(session, Location, _LOCATION_COLUMNS).write(out)
