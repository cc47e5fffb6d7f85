"""Creating master data with its invariants: a warehouse always has its dock, QA cage and
virtual locations; codes are upper-case and unique; head office owns master rows.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import VELOCITY_CLASSES, Item, ItemUom
from app.models.ids import uuid7
from app.models.org import TEMPERATURE_CLASSES, Branch, Location, Warehouse, Zone, pack_location_id
from app.models.parties import Customer, ItemSupplier, Supplier
from app.models.types import DomainValueError, to_money, to_qty
from app.services.errors import NotFound, ValidationError

#: virtual locations every warehouse gets: they balance the ledger (receipts come from
#: 'supplier', sales go to 'customer', count gains/losses to 'adjust').
VIRTUAL_KINDS = ("supplier", "customer", "adjust", "transit", "scrap")


def _code(value: str, field: str, max_len: int) -> str:
    code = (value or "").strip().upper()
    if not code:
        raise ValidationError(field, "is required")
    if len(code) > max_len:
        raise ValidationError(field, f"{code!r} is longer than {max_len} characters")
    return code


def head_office_id(session: Session) -> uuid.UUID:
    ho = session.scalars(select(Branch.id).where(Branch.is_head_office.is_(True))).first()
    if ho is None:
        raise NotFound("head office branch", "(none defined)")
    return ho


def create_branch(session: Session, code: str, name: str, *, head_office: bool = False,
                  timezone: str = "UTC", address: str = "") -> Branch:
    code = _code(code, "branch code", 8)
    if session.scalars(select(Branch).where(Branch.code == code)).first():
        raise ValidationError("branch code", f"{code} already exists")
    new_id = uuid7()
    owner = new_id if head_office else head_office_id(session)
    branch = Branch(id=new_id, code=code, name=name, is_head_office=head_office, timezone=timezone,
                    address=address, owner_branch_id=owner)
    session.add(branch)
    session.flush()
    return branch


def create_warehouse(session: Session, branch: Branch, code: str, name: str, *, address: str = "") -> Warehouse:
    code = _code(code, "warehouse code", 16)
    if session.scalars(select(Warehouse).where(Warehouse.code == code)).first():
        raise ValidationError("warehouse code", f"{code} already exists")
    owner = branch.owner_branch_id
    wh = Warehouse(branch_id=branch.id, code=code, name=name, address=address, owner_branch_id=owner)
    session.add(wh)
    session.flush()
    fixed = [("DOCK", "dock"), ("QA", "qa")] + [(k.upper(), k) for k in VIRTUAL_KINDS]
    for loc_code, kind in fixed:
        session.add(Location(warehouse_id=wh.id, code=loc_code, kind=kind, owner_branch_id=owner))
    # where picked stock waits to be packed (its id derived from the warehouse: the same row everywhere)
    session.add(Location(id=pack_location_id(wh.id), warehouse_id=wh.id, code="PACK", kind="pack", owner_branch_id=owner))
    session.flush()
    return wh


def create_zone(session: Session, wh: Warehouse, code: str, *, temperature_class: str = "ambient",
                hazmat_class: str = "", name: str = "") -> Zone:
    if temperature_class not in TEMPERATURE_CLASSES:
        raise ValidationError("temperature class", f"must be one of {', '.join(TEMPERATURE_CLASSES)}")
    z = Zone(warehouse_id=wh.id, code=_code(code, "zone code", 16), name=name,
             temperature_class=temperature_class, hazmat_class=hazmat_class, owner_branch_id=wh.owner_branch_id)
    session.add(z)
    session.flush()
    return z


def create_bin(session: Session, wh: Warehouse, code: str, *, zone: Zone | None = None, role: str = "reserve",
               capacity_volume_cm3: int = 1_000_000, capacity_weight_g: int = 1_000_000, walk_seq: int = 0,
               **extra: Any) -> Location:
    if role not in ("pick", "reserve"):
        raise ValidationError("bin role", "must be 'pick' or 'reserve'")
    loc = Location(
        warehouse_id=wh.id, zone_id=zone.id if zone else None, code=_code(code, "bin code", 32), kind="storage",
        role=role, capacity_volume_cm3=capacity_volume_cm3, capacity_weight_g=capacity_weight_g,
        temperature_class=zone.temperature_class if zone else "ambient",
        hazmat_class=zone.hazmat_class if zone else "", walk_seq=walk_seq,
        owner_branch_id=wh.owner_branch_id, **extra,
    )
    session.add(loc)
    session.flush()
    return loc


def create_item(session: Session, sku: str, description: str, *, owner_branch_id: uuid.UUID | None = None,
                standard_cost: Any = "0", list_price: Any = "0", velocity_class: str = "C",
                temperature_class: str = "ambient", uoms: dict[str, int] | None = None, **fields: Any) -> Item:
    sku = _code(sku, "sku", 40)
    if not description.strip():
        raise ValidationError("description", "is required")
    if velocity_class not in VELOCITY_CLASSES:
        raise ValidationError("velocity class", f"must be one of {', '.join(VELOCITY_CLASSES)}")
    if temperature_class not in TEMPERATURE_CLASSES:
        raise ValidationError("temperature class", f"must be one of {', '.join(TEMPERATURE_CLASSES)}")
    if session.scalars(select(Item.id).where(Item.sku == sku)).first():
        raise ValidationError("sku", f"{sku} already exists")
    try:
        cost, price = to_money(standard_cost, "standard cost"), to_money(list_price, "list price")
    except DomainValueError as e:
        raise ValidationError(*str(e).split(": ", 1)) from None
    if cost < 0 or price < 0:
        raise ValidationError("price", "must not be negative")
    owner = owner_branch_id or head_office_id(session)
    item = Item(sku=sku, description=description.strip(), standard_cost=cost, list_price=price,
                velocity_class=velocity_class, temperature_class=temperature_class, owner_branch_id=owner, **fields)
    session.add(item)
    session.flush()
    for uom, factor in (uoms or {}).items():
        try:
            f = to_qty(factor, f"{uom} factor")
        except DomainValueError as e:
            raise ValidationError(*str(e).split(": ", 1)) from None
        session.add(ItemUom(item_id=item.id, uom=_code(uom, "unit", 8), factor=f, owner_branch_id=owner))
    session.flush()
    return item


def create_supplier(session: Session, code: str, name: str, **fields: Any) -> Supplier:
    code = _code(code, "supplier code", 20)
    if session.scalars(select(Supplier.id).where(Supplier.code == code)).first():
        raise ValidationError("supplier code", f"{code} already exists")
    sup = Supplier(code=code, name=name, owner_branch_id=head_office_id(session), **fields)
    session.add(sup)
    session.flush()
    return sup


def create_customer(session: Session, code: str, name: str, *, credit_limit: Any = "0", **fields: Any) -> Customer:
    code = _code(code, "customer code", 20)
    if session.scalars(select(Customer.id).where(Customer.code == code)).first():
        raise ValidationError("customer code", f"{code} already exists")
    try:
        limit = to_money(credit_limit, "credit limit")
    except DomainValueError as e:
        raise ValidationError(*str(e).split(": ", 1)) from None
    if limit < 0:
        raise ValidationError("credit limit", "must not be negative")
    c = Customer(code=code, name=name, credit_limit=limit, owner_branch_id=head_office_id(session), **fields)
    session.add(c)
    session.flush()
    return c


def link_item_supplier(session: Session, item: Item, supplier: Supplier, *, contract_price: Any = "0",
                       lead_time_days: int = 7, pack_size: int = 1, min_order_qty: int = 1,
                       contracted: bool = False, preferred: bool = True, supplier_part: str = "",
                       lead_time_sd_days: Any = "1") -> ItemSupplier:
    price = to_money(contract_price, "contract price")
    if price < 0:
        raise ValidationError("contract price", "must not be negative")
    link = ItemSupplier(
        item_id=item.id, supplier_id=supplier.id, contract_price=price, last_price=price,
        lead_time_days=lead_time_days, lead_time_sd_days=Decimal(str(lead_time_sd_days)),
        pack_size=to_qty(pack_size, "pack size"), min_order_qty=to_qty(min_order_qty, "minimum order"),
        contracted=contracted, preferred=preferred, supplier_part=supplier_part or item.sku,
        owner_branch_id=head_office_id(session),
    )
    session.add(link)
    session.flush()
    return link


@dataclass(frozen=True)
class WarehouseRef:
    id: uuid.UUID
    code: str
    name: str


def warehouses(session: Session, branch_id: uuid.UUID | None = None) -> list[WarehouseRef]:
    """Live warehouses by code, for pickers: the branch's own when it has any, else all."""
    q = select(Warehouse.id, Warehouse.code, Warehouse.name).where(Warehouse.deleted_at.is_(None)) \
        .order_by(Warehouse.code)
    if branch_id is not None:
        own = [WarehouseRef(i, c, n) for i, c, n in session.execute(q.where(Warehouse.branch_id == branch_id))]
        if own:
            return own
    return [WarehouseRef(i, c, n) for i, c, n in session.execute(q)]


def branch_code(session: Session, branch_id: object, default: str = "another branch") -> str:
    """The branch's code for a message ('DAL'), or ``default`` when it is not known here."""
    return session.scalar(select(Branch.code).where(Branch.id == branch_id)) or default


def status_branch(session: Session, user_branch_id: uuid.UUID | None, site_branch_id: uuid.UUID | None) -> str:
    """The status bar's branch: the workstation's (whose data this file holds and whose rules apply to
    what is written here), with the user's home branch beside it when that is another one: a Dallas
    user signed in at a Houston workstation saw 'DAL Dallas' above Houston's waves. A file that is no
    branch's workstation yet (``site_branch_id`` None: ``db.local_branch_id``) shows the user's branch."""
    site = site_branch_id
    text = branch_label(session, site or user_branch_id)
    if site is not None and user_branch_id is not None and user_branch_id != site:
        code = session.scalar(select(Branch.code).where(Branch.id == user_branch_id))
        text += f" (user of {code or 'another branch'})"
    return text


def branch_label(session: Session, branch_id: uuid.UUID | None) -> str:
    """'DAL Dallas' for the status bar; says so when the branch is not set or not known here."""
    if branch_id is None:
        return "not set"
    row = session.execute(select(Branch.code, Branch.name).where(Branch.id == branch_id)).first()
    return f"{row.code} {row.name}" if row else "unknown"
