"""Item search and item detail: the queries behind the Master data screen.

The list shows one row per item x warehouse with its on-hand (internal locations only), so
a buyer sees at once where an item is. Paging is keyset on the unique ``item.sku`` index:
a page is "the next N items after this SKU that match", then the on-hand of just those
items is summed from ``stock_balance`` (indexed by item). No query ever touches all rows,
so open and each keystroke stay fast on 50,000 items x 3 warehouses.

Matching: every word of the search text must appear in the SKU or the description
(case-insensitive); a text that is a whole GTIN (item or pack unit) finds that item.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import ColumnElement, and_, func, or_, select
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom
from app.models.org import INTERNAL_KINDS, Location
from app.models.parties import ItemSupplier, Supplier
from app.models.stock import StockBalance
from app.services.audit import record
from app.services.auth import Actor
from app.services.db import get_live
from app.services.errors import NotFound, ValidationError
from app.services.masterdata import warehouses
from app.services.site_rights import require_head_office
from app.services.stock import WarehouseStock, stock_by_warehouse

PAGE_SIZE = 200
MAX_PAGE = 2000
MAX_TEXT = 200


@dataclass(frozen=True)
class ItemRow:
    """One list row: an item in one warehouse."""

    item_id: uuid.UUID
    warehouse_id: uuid.UUID
    sku: str
    description: str
    warehouse_code: str
    on_hand: int
    base_uom: str
    velocity_class: str
    active: bool


@dataclass(frozen=True)
class ItemPage:
    rows: list[ItemRow]
    #: pass as ``after_sku`` to get the next page; None when this was the last page
    next_after: str | None


@dataclass(frozen=True)
class PackUnit:
    uom: str
    factor: int
    gtin: str | None


@dataclass(frozen=True)
class SupplierTerm:
    supplier_code: str
    supplier_name: str
    lead_time_days: int
    pack_size: int
    min_order_qty: int
    contract_price: Decimal
    currency: str
    preferred: bool


@dataclass(frozen=True)
class ItemDetail:
    item_id: uuid.UUID
    sku: str
    description: str
    base_uom: str
    gtin: str | None
    category: str
    velocity_class: str
    temperature_class: str
    hazmat_class: str
    tracking: str  # "lot, expiry" / "serial" / "" - readable summary of the flags
    weight_g: int
    dims_mm: tuple[int, int, int]
    standard_cost: Decimal
    list_price: Decimal
    currency: str
    active: bool
    pack_units: list[PackUnit]
    stock: list[WarehouseStock]
    suppliers: list[SupplierTerm]

    @property
    def total_on_hand(self) -> int:
        return sum(s.on_hand for s in self.stock)


def _like_escape(word: str) -> str:
    return word.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _match(text: str) -> ColumnElement[bool] | None:
    text = (text or "").strip()
    if len(text) > MAX_TEXT:
        raise ValidationError("search", f"must be at most {MAX_TEXT} characters")
    if not text:
        return None
    conds: list[ColumnElement[bool]] = []
    for word in text.split():
        pat = f"%{_like_escape(word)}%"
        conds.append(or_(Item.sku.ilike(pat, escape="\\"), Item.description.ilike(pat, escape="\\")))
    clause: ColumnElement[bool] = and_(*conds)
    if text.isdigit() and 8 <= len(text) <= 14:
        gtin = text.zfill(14)
        by_pack = select(ItemUom.item_id).where(ItemUom.gtin == gtin, ItemUom.deleted_at.is_(None))
        clause = or_(clause, Item.gtin == gtin, Item.id.in_(by_pack))
    return clause


def _item_page_query(text: str, after_sku: str | None, limit: int, active_only: bool) -> Any:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError("limit", f"must be between 1 and {MAX_PAGE}")
    q = select(Item.id, Item.sku, Item.description, Item.base_uom, Item.velocity_class, Item.active) \
        .where(Item.deleted_at.is_(None))
    clause = _match(text)
    if clause is not None:
        q = q.where(clause)
    if active_only:
        q = q.where(Item.active.is_(True))
    if after_sku is not None:
        q = q.where(Item.sku > after_sku)
    return q.order_by(Item.sku).limit(limit)


def search_item_ids(
    session: Session, text: str = "", *, after_sku: str | None = None, limit: int = PAGE_SIZE,
    active_only: bool = False,
) -> list[tuple[uuid.UUID, str]]:
    """The (id, sku) of the next ``limit`` matching items after ``after_sku``, by SKU."""
    return [(r.id, r.sku) for r in session.execute(_item_page_query(text, after_sku, limit, active_only))]


def on_hand_by_item_warehouse(session: Session, item_ids: list[uuid.UUID]) -> dict[tuple[uuid.UUID, uuid.UUID], int]:
    """On hand per (item, warehouse) for these items, internal locations only."""
    if not item_ids:
        return {}
    q = (
        select(StockBalance.item_id, Location.warehouse_id, func.sum(StockBalance.qty))
        .join(Location, Location.id == StockBalance.location_id)
        .where(StockBalance.item_id.in_(item_ids), Location.kind.in_(INTERNAL_KINDS))
        .group_by(StockBalance.item_id, Location.warehouse_id)
    )
    return {(i, w): int(q_ or 0) for i, w, q_ in session.execute(q)}


def search_items(
    session: Session, text: str = "", *, after_sku: str | None = None, limit: int = PAGE_SIZE,
    warehouse_id: uuid.UUID | None = None, active_only: bool = False,
) -> ItemPage:
    """One page of item x warehouse rows (``limit`` items, each in every warehouse or in one)."""
    found = list(session.execute(_item_page_query(text, after_sku, limit, active_only)))
    whs = [w for w in warehouses(session) if warehouse_id is None or w.id == warehouse_id]
    if warehouse_id is not None and not whs:
        raise NotFound("warehouse", warehouse_id)
    stock = on_hand_by_item_warehouse(session, [it.id for it in found])
    rows = [
        ItemRow(it.id, w.id, it.sku, it.description, w.code, stock.get((it.id, w.id), 0), it.base_uom,
                it.velocity_class, bool(it.active))
        for it in found
        for w in whs
    ]
    next_after = found[-1].sku if len(found) == limit else None
    return ItemPage(rows, next_after)


def count_matches(session: Session, text: str = "", *, active_only: bool = False) -> int:
    """How many items match (the list shows it; rows = items x warehouses shown)."""
    q = select(func.count()).select_from(Item).where(Item.deleted_at.is_(None))
    clause = _match(text)
    if clause is not None:
        q = q.where(clause)
    if active_only:
        q = q.where(Item.active.is_(True))
    return int(session.scalar(q) or 0)


def find_by_code(session: Session, code: str) -> uuid.UUID | None:
    """What a scanner or a typed code means: an exact SKU, an item GTIN or a pack-unit GTIN."""
    code = (code or "").strip()
    if not code:
        return None
    found = session.scalar(select(Item.id).where(Item.sku == code.upper(), Item.deleted_at.is_(None)))
    if found is None:
        found = session.scalar(select(Item.id).where(Item.sku == code, Item.deleted_at.is_(None)))
    if found is None and code.isdigit() and len(code) <= 14:
        gtin = code.zfill(14)
        found = session.scalar(select(Item.id).where(Item.gtin == gtin, Item.deleted_at.is_(None)))
        if found is None:
            found = session.scalar(select(ItemUom.item_id).where(ItemUom.gtin == gtin, ItemUom.deleted_at.is_(None)))
    return found


def item_detail(session: Session, item_id: uuid.UUID) -> ItemDetail:
    """Everything the detail pane shows: fields, pack units, stock per warehouse, suppliers."""
    item = get_live(session, Item, item_id, "item")
    uoms = session.scalars(
        select(ItemUom).where(ItemUom.item_id == item_id, ItemUom.deleted_at.is_(None)).order_by(ItemUom.factor)
    )
    terms = session.execute(
        select(ItemSupplier, Supplier.code, Supplier.name)
        .join(Supplier, Supplier.id == ItemSupplier.supplier_id)
        .where(ItemSupplier.item_id == item_id, ItemSupplier.deleted_at.is_(None))
        .order_by(ItemSupplier.preferred.desc(), Supplier.code)
    )
    flags = [n for n, on in (("lot", item.track_lot), ("serial", item.track_serial),
                              ("expiry", item.track_expiry)) if on]
    return ItemDetail(
        item_id=item.id, sku=item.sku, description=item.description, base_uom=item.base_uom, gtin=item.gtin,
        category=item.category, velocity_class=item.velocity_class, temperature_class=item.temperature_class,
        hazmat_class=item.hazmat_class, tracking=", ".join(flags), weight_g=item.weight_g,
        dims_mm=(item.length_mm, item.width_mm, item.height_mm), standard_cost=item.standard_cost,
        list_price=item.list_price, currency=item.currency, active=item.active,
        pack_units=[PackUnit(item.base_uom, 1, item.gtin)] + [PackUnit(u.uom, u.factor, u.gtin) for u in uoms],
        stock=stock_by_warehouse(session, item_id),
        suppliers=[
            SupplierTerm(code, name, t.lead_time_days, t.pack_size, t.min_order_qty, t.contract_price,
                         t.currency, t.preferred)
            for t, code, name in terms
        ],
    )


def set_items_active(session: Session, actor: Actor, item_ids: list[uuid.UUID], active: bool) -> int:
    """Activate or deactivate items (batch); inactive items stay visible but are not bought or sold.

    Returns how many items changed. Needs ``item.edit`` and a site that writes master data (a
    branch workstation is refused up front); each change is audited.
    """
    actor.require("item.edit")
    require_head_office(session, "items")
    if not item_ids:
        raise ValidationError("items", "select at least one item")
    found = list(session.scalars(select(Item).where(Item.id.in_(item_ids), Item.deleted_at.is_(None))))
    missing = set(item_ids) - {i.id for i in found}
    if missing:
        raise NotFound("item", sorted(missing)[0])
    changed = 0
    for item in found:
        if item.active != active:
            item.active = active
            changed += 1
            record(session, actor, "item.activate" if active else "item.deactivate", "item", item.id,
                   item.owner_branch_id, sku=item.sku)
    session.flush()
    return changed
