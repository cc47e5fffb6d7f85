"""Branches, warehouses, zones and single locations (docks, QA cages, bins), by screen or command.

The invariants are ``services.masterdata``'s (upper-case codes, a warehouse always has its dock,
QA cage and virtual locations); this module adds who may do it (``org.setup.authorize``, head
office only), the company-wide rules (exactly one head office, created first) and the listings
the Settings pages and ``depot branch|warehouse|zone list`` show.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.org import INTERNAL_KINDS, TEMPERATURE_CLASSES, Branch, Location, Warehouse, Zone
from app.models.sync import LocalSite
from app.services import audit
from app.services import masterdata as md
from app.services.auth import Actor
from app.services.db import site_id
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.org.company import check_timezone
from app.services.org.setup import authorize
from app.services.site_rights import require_head_office

#: temperature classes of zones and bins (screens read them here, not from the models)
TEMPERATURES: tuple[str, ...] = tuple(TEMPERATURE_CLASSES)
#: location kinds a person creates (the virtual ones come with the warehouse)
PHYSICAL_KINDS = INTERNAL_KINDS
ROLES = ("pick", "reserve")


@dataclass(frozen=True)
class BranchInfo:
    id: uuid.UUID
    code: str
    name: str
    head_office: bool
    address: str
    timezone: str
    warehouses: int
    this_file: bool
    #: the GS1 company prefix of its cartons' SSCCs; '' = GS1's example prefix (demo only)
    gs1_prefix: str = ""


#: GS1's own example company prefix (GS1 General Specifications): what a branch without its own
#: prefix puts in its SSCCs, so the demo works; never valid on real goods
GS1_EXAMPLE_PREFIX = "0614141"


def check_gs1_prefix(value: str) -> str:
    """A GS1 company prefix as GS1 allots them here: 7 to 10 digits ('' = back to the example)."""
    text = (value or "").strip().replace(" ", "")
    if text and not (text.isdigit() and 7 <= len(text) <= 10):
        raise ValidationError("GS1 company prefix", f"must be 7 to 10 digits (the prefix GS1 gave the company), "
                                                    f"not {value.strip()!r}")
    if text == GS1_EXAMPLE_PREFIX:
        raise ValidationError("GS1 company prefix", f"{text} is GS1's own example prefix, not one of yours; leave it "
                                                    f"empty to keep using it for the demo")
    return text


@dataclass(frozen=True)
class WarehouseInfo:
    id: uuid.UUID
    code: str
    name: str
    branch: str
    address: str
    bins: int
    docks: int


@dataclass(frozen=True)
class ZoneInfo:
    id: uuid.UUID
    warehouse: str
    code: str
    name: str
    temperature_class: str
    hazmat_class: str
    bins: int


def _name(value: str, field: str, limit: int = 120) -> str:
    text = (value or "").strip()
    if not text:
        raise ValidationError(field, "is required")
    if len(text) > limit:
        raise ValidationError(field, f"is longer than {limit} characters")
    return text


def _address(value: str) -> str:
    text = (value or "").strip()
    if len(text) > 400:
        raise ValidationError("address", "is longer than 400 characters")
    return text


def find_branch(session: Session, code: str) -> Branch:
    b = session.scalars(select(Branch).where(Branch.code == (code or "").strip().upper(),
                                             Branch.deleted_at.is_(None))).first()
    if b is None:
        known = ", ".join(session.scalars(select(Branch.code).order_by(Branch.code))) or "none yet"
        raise NotFound("branch", f"{(code or '').strip().upper()} (known: {known})")
    return b


def find_warehouse(session: Session, code: str) -> Warehouse:
    w = session.scalars(select(Warehouse).where(Warehouse.code == (code or "").strip().upper(),
                                                Warehouse.deleted_at.is_(None))).first()
    if w is None:
        known = ", ".join(session.scalars(select(Warehouse.code).order_by(Warehouse.code))) or "none yet"
        raise NotFound("warehouse", f"{(code or '').strip().upper()} (known: {known})")
    return w


# --------------------------------------------------------------------------- branches


def list_branches(session: Session) -> list[BranchInfo]:
    counts = dict(session.execute(select(Warehouse.branch_id, func.count()).where(Warehouse.deleted_at.is_(None))
                                  .group_by(Warehouse.branch_id)).all())
    here = session.scalar(select(LocalSite.branch_id).where(LocalSite.id == 1))
    rows = session.scalars(select(Branch).where(Branch.deleted_at.is_(None))
                           .order_by(Branch.is_head_office.desc(), Branch.code))
    return [BranchInfo(b.id, b.code, b.name, b.is_head_office, b.address, b.timezone, int(counts.get(b.id, 0)),
                       b.id == here, b.gs1_prefix or "") for b in rows]


def add_branch(session: Session, actor: Actor | None, code: str, name: str, *, head_office: bool = False,
               address: str = "", timezone: str = "UTC") -> BranchInfo:
    """A branch (or the head office, which must come first: it owns every master row)."""
    authorize(session, actor)
    require_head_office(session, "branches", "add them at a head-office workstation")
    name = _name(name, "branch name")
    tz = check_timezone(timezone or "UTC")
    ho = session.scalars(select(Branch).where(Branch.is_head_office.is_(True), Branch.deleted_at.is_(None))).first()
    if head_office and ho is not None:
        raise Conflict(f"{ho.code} is already the head office: a company has one")
    if not head_office and ho is None:
        raise ValidationError("head office", "create the head office first (it owns the company's master data): "
                                             "mark the first branch as head office")
    b = md.create_branch(session, code, name, head_office=head_office, timezone=tz, address=_address(address))
    if head_office:
        _adopt_branch_if_unset(session, b.id)
    audit.record(session, actor, "branch.create", "branch", b.id, b.owner_branch_id, code=b.code,
                 head_office=head_office)
    return next(i for i in list_branches(session) if i.id == b.id)


def _adopt_branch_if_unset(session: Session, branch_id: uuid.UUID) -> None:
    """A file set up from scratch works for its head office until told otherwise."""
    site_id(session)
    site = session.get(LocalSite, 1)
    if site is not None and site.branch_id is None:
        site.branch_id = branch_id
        session.flush()


def update_branch(session: Session, actor: Actor | None, code: str, *, name: str | None = None,
                  address: str | None = None, timezone: str | None = None,
                  gs1_prefix: str | None = None) -> BranchInfo:
    """Change some of a branch's fields; ``gs1_prefix`` '' = back to GS1's example prefix."""
    authorize(session, actor)
    b = find_branch(session, code)
    changes: dict[str, Any] = {}
    if name is not None:
        changes["name"] = _name(name, "branch name")
    if address is not None:
        changes["address"] = _address(address)
    if timezone is not None:
        changes["timezone"] = check_timezone(timezone)
    if gs1_prefix is not None:
        changes["gs1_prefix"] = check_gs1_prefix(gs1_prefix)
    if "address" in changes:
        require_head_office(session, "branch addresses", "change them at a head-office workstation")
    for k, v in changes.items():
        setattr(b, k, v)
    session.flush()
    audit.record(session, actor, "branch.update", "branch", b.id, b.owner_branch_id, code=b.code,
                 fields=sorted(changes))
    return next(i for i in list_branches(session) if i.id == b.id)


def set_this_branch(session: Session, actor: Actor | None, code: str) -> BranchInfo:
    """Make this file work for branch ``code`` (before its first sync; see settings.set_local_branch)."""
    from app.services.settings import branch_fixed_reason

    authorize(session, actor)
    reason = branch_fixed_reason(session)
    if reason:
        raise PermissionDenied(reason)
    b = find_branch(session, code)
    site_id(session)
    site = session.get(LocalSite, 1)
    assert site is not None
    before = site.branch_id
    site.branch_id = b.id
    session.flush()
    audit.record(session, actor, "settings.branch", "branch", b.id, b.id, before=str(before) if before else None,
                 after=str(b.id))
    return next(i for i in list_branches(session) if i.id == b.id)


# --------------------------------------------------------------------------- warehouses


def list_warehouses(session: Session, branch: str | None = None) -> list[WarehouseInfo]:
    codes = dict(session.execute(select(Branch.id, Branch.code)).all())
    per = session.execute(select(Location.warehouse_id, Location.kind, func.count())
                          .where(Location.deleted_at.is_(None), Location.kind.in_(("storage", "dock")))
                          .group_by(Location.warehouse_id, Location.kind)).all()
    bins = {w: n for w, k, n in per if k == "storage"}
    docks = {w: n for w, k, n in per if k == "dock"}
    q = select(Warehouse).where(Warehouse.deleted_at.is_(None)).order_by(Warehouse.code)
    if branch:
        q = q.where(Warehouse.branch_id == find_branch(session, branch).id)
    return [WarehouseInfo(w.id, w.code, w.name, codes.get(w.branch_id, "?"), w.address, int(bins.get(w.id, 0)),
                          int(docks.get(w.id, 0))) for w in session.scalars(q)]


def add_warehouse(session: Session, actor: Actor | None, code: str, branch: str, name: str, *,
                  address: str = "") -> WarehouseInfo:
    """A warehouse of ``branch`` with its dock, QA cage and virtual locations."""
    authorize(session, actor)
    require_head_office(session, "warehouses", "add them at a head-office workstation")
    b = find_branch(session, branch)
    wh = md.create_warehouse(session, b, code, _name(name, "warehouse name"), address=_address(address))
    audit.record(session, actor, "warehouse.create", "warehouse", wh.id, wh.owner_branch_id, code=wh.code,
                 branch=b.code)
    return next(i for i in list_warehouses(session) if i.id == wh.id)


def update_warehouse(session: Session, actor: Actor | None, code: str, *, name: str | None = None,
                     address: str | None = None) -> WarehouseInfo:
    authorize(session, actor)
    wh = find_warehouse(session, code)
    if name is not None:
        wh.name = _name(name, "warehouse name")
    if address is not None:
        wh.address = _address(address)
    session.flush()
    audit.record(session, actor, "warehouse.update", "warehouse", wh.id, wh.owner_branch_id, code=wh.code)
    return next(i for i in list_warehouses(session) if i.id == wh.id)


# --------------------------------------------------------------------------- zones and locations


def list_zones(session: Session, warehouse: str) -> list[ZoneInfo]:
    wh = find_warehouse(session, warehouse)
    counts = dict(session.execute(select(Location.zone_id, func.count()).where(
        Location.warehouse_id == wh.id, Location.kind == "storage", Location.deleted_at.is_(None))
        .group_by(Location.zone_id)).all())
    return [ZoneInfo(z.id, wh.code, z.code, z.name, z.temperature_class, z.hazmat_class, int(counts.get(z.id, 0)))
            for z in session.scalars(select(Zone).where(Zone.warehouse_id == wh.id, Zone.deleted_at.is_(None))
                                     .order_by(Zone.code))]


def add_zone(session: Session, actor: Actor | None, warehouse: str, code: str, *, name: str = "",
             temperature_class: str = "ambient", hazmat_class: str = "") -> ZoneInfo:
    authorize(session, actor)
    require_head_office(session, "zones", "add them at a head-office workstation")
    wh = find_warehouse(session, warehouse)
    zcode = (code or "").strip().upper()
    if session.scalar(select(Zone.id).where(Zone.warehouse_id == wh.id, Zone.code == zcode)) is not None:
        raise ValidationError("zone code", f"{zcode} already exists in warehouse {wh.code}")
    hz = (hazmat_class or "").strip()
    if len(hz) > 8:
        raise ValidationError("hazmat class", "is longer than 8 characters")
    z = md.create_zone(session, wh, zcode, temperature_class=(temperature_class or "ambient").strip().lower(),
                       hazmat_class=hz, name=(name or "").strip()[:120])
    audit.record(session, actor, "zone.create", "zone", z.id, z.owner_branch_id, warehouse=wh.code, code=z.code)
    return next(i for i in list_zones(session, wh.code) if i.id == z.id)


def next_walk_seq(session: Session, warehouse_id: uuid.UUID) -> int:
    """The walk sequence after the warehouse's last bin (new bins are walked last)."""
    return int(session.scalar(select(func.max(Location.walk_seq)).where(Location.warehouse_id == warehouse_id)) or 0) + 1


def add_location(session: Session, actor: Actor | None, warehouse: str, code: str, *, kind: str = "storage",
                 role: str = "reserve", zone: str | None = None, walk_seq: int | None = None,
                 capacity_volume_cm3: int = 1_000_000, capacity_weight_g: int = 1_000_000,
                 temperature_class: str | None = None, hazmat_class: str | None = None,
                 fixed_sku: str | None = None, min_qty: int = 0, max_qty: int = 0) -> uuid.UUID:
    """One bin, dock door or QA cage. Bins take their zone's temperature and hazmat class unless
    given; a pick face may have a fixed item with its min/max for forward-pick replenishment."""
    authorize(session, actor)
    require_head_office(session, "bins and docks", "add them at a head-office workstation")
    wh = find_warehouse(session, warehouse)
    kind = (kind or "storage").strip().lower()
    if kind not in PHYSICAL_KINDS:
        raise ValidationError("kind", f"{kind!r} is not one of {', '.join(PHYSICAL_KINDS)}")
    lcode = md._code(code, "location code", 32)
    if session.scalar(select(Location.id).where(Location.warehouse_id == wh.id, Location.code == lcode)) is not None:
        raise ValidationError("location code", f"{lcode} already exists in warehouse {wh.code}")
    z = None
    if zone:
        z = session.scalar(select(Zone).where(Zone.warehouse_id == wh.id, Zone.code == zone.strip().upper()))
        if z is None:
            raise NotFound(f"zone of warehouse {wh.code}", zone.strip().upper())
    check_bin(kind, role, capacity_volume_cm3, capacity_weight_g, min_qty, max_qty, fixed_sku)
    temp = (temperature_class or (z.temperature_class if z else "ambient")).strip().lower()
    if temp not in TEMPERATURE_CLASSES:
        raise ValidationError("temperature class", f"{temp!r} is not one of {', '.join(TEMPERATURE_CLASSES)}")
    fixed = None
    if fixed_sku:
        fixed = session.scalar(select(Item.id).where(Item.sku == fixed_sku.strip().upper()))
        if fixed is None:
            raise NotFound("item", fixed_sku.strip().upper())
    loc = Location(
        warehouse_id=wh.id, zone_id=z.id if z else None, code=lcode, kind=kind, role=role if kind == "storage" else "",
        capacity_volume_cm3=capacity_volume_cm3, capacity_weight_g=capacity_weight_g, temperature_class=temp,
        hazmat_class=(hazmat_class if hazmat_class is not None else (z.hazmat_class if z else "")).strip(),
        walk_seq=walk_seq if walk_seq is not None else next_walk_seq(session, wh.id),
        fixed_item_id=fixed, min_qty=min_qty, max_qty=max_qty, owner_branch_id=wh.owner_branch_id)
    session.add(loc)
    session.flush()
    audit.record(session, actor, "location.create", "location", loc.id, loc.owner_branch_id, warehouse=wh.code,
                 code=lcode, kind=kind)
    return loc.id


def check_bin(kind: str, role: str, volume: int, weight: int, min_qty: int, max_qty: int,
              fixed_sku: str | None) -> None:
    """The rules of one location, shared by the screen, the generator and the import."""
    if kind == "storage" and role not in ROLES:
        raise ValidationError("role", f"{role!r} is not one of {', '.join(ROLES)}")
    for label, v in (("capacity volume", volume), ("capacity weight", weight), ("min qty", min_qty),
                     ("max qty", max_qty)):
        if v < 0:
            raise ValidationError(label, f"{v} is negative")
    if min_qty > max_qty:
        raise ValidationError("min qty", f"{min_qty} is above max qty {max_qty}")
    if (min_qty or max_qty) and not fixed_sku:
        raise ValidationError("min qty", "a pick face's min/max needs its fixed item")
    if fixed_sku and (kind != "storage" or role != "pick"):
        raise ValidationError("fixed item", "only a pick bin has a fixed item")


@dataclass(frozen=True)
class LocationInfo:
    code: str
    kind: str
    role: str
    zone: str
    walk_seq: int
    temperature: str
    hazmat: str
    fixed_sku: str
    min_qty: int
    max_qty: int
    active: bool


def list_locations(session: Session, warehouse: str, *, kind: str | None = None, search: str | None = None,
                   offset: int = 0, limit: int = 200) -> list[LocationInfo]:
    """One page of a warehouse's physical locations in walk order (virtual ones left out)."""
    wh = find_warehouse(session, warehouse)
    q = (select(Location.code, Location.kind, Location.role, Zone.code, Location.walk_seq, Location.temperature_class,
                Location.hazmat_class, Item.sku, Location.min_qty, Location.max_qty, Location.active)
         .outerjoin(Zone, Zone.id == Location.zone_id).outerjoin(Item, Item.id == Location.fixed_item_id)
         .where(Location.warehouse_id == wh.id, Location.deleted_at.is_(None), Location.kind.in_(PHYSICAL_KINDS))
         .order_by(Location.walk_seq, Location.code).offset(offset).limit(limit))
    if kind:
        q = q.where(Location.kind == kind.strip().lower())
    if search:
        q = q.where(Location.code.contains(search.strip().upper()))
    return [LocationInfo(c, k, r, z or "", int(w), t, h, s or "", int(mn), int(mx), bool(a))
            for c, k, r, z, w, t, h, s, mn, mx, a in session.execute(q)]
