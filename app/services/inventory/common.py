"""Small lookups and checks the inventory services share (by code, by SKU, quantities)."""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.catalog import Item, Lot, lot_id_for
from app.models.org import Branch, Location, Warehouse
from app.models.types import DomainValueError, to_qty
from app.services.errors import NotFound, ValidationError
from app.services.ownership import ForeignWrite, ownership


def qty(value: Any, field: str, *, allow_zero: bool = False) -> int:
    """A whole, non-negative quantity in base units, or a ValidationError naming ``field``."""
    try:
        return to_qty(value, field, allow_zero=allow_zero)
    except DomainValueError as e:
        raise ValidationError(field, str(e).split(": ", 1)[-1]) from None


def item_by_sku(session: Session, sku: str) -> Item:
    item = session.scalars(select(Item).where(Item.sku == sku.strip().upper())).first()
    if item is None:
        item = session.scalars(select(Item).where(Item.sku == sku.strip())).first()
    if item is None:
        raise NotFound("SKU", sku)
    return item


def warehouse_by_code(session: Session, code: str) -> Warehouse:
    wh = session.scalars(select(Warehouse).where(Warehouse.code == code.strip().upper())).first()
    if wh is None:
        raise NotFound("warehouse", code)
    return wh


def get_warehouse(session: Session, warehouse_id: uuid.UUID) -> Warehouse:
    wh = session.get(Warehouse, warehouse_id)
    if wh is None:
        raise NotFound("warehouse", warehouse_id)
    return wh


def location_by_code(session: Session, warehouse_id: uuid.UUID, code: str) -> Location:
    loc = session.scalars(
        select(Location).where(Location.warehouse_id == warehouse_id, Location.code == code.strip().upper())
    ).first()
    if loc is None:
        raise NotFound("bin", code)
    return loc


def lot_for(session: Session, item: Item, lot_code: str | None) -> uuid.UUID | None:
    """The id of an existing lot of ``item``; '' / None gives None (checked later by post_moves)."""
    if not lot_code:
        return None
    if not item.track_lot:
        raise ValidationError("lot", f"item {item.sku} is not lot-tracked")
    lid = lot_id_for(item.id, lot_code)
    if session.get(Lot, lid) is None:
        raise NotFound(f"lot of {item.sku}", lot_code)
    return lid


def branch_code(session: Session, branch_id: uuid.UUID | None) -> str:
    code = session.scalar(select(Branch.code).where(Branch.id == branch_id)) if branch_id else None
    return code or "another branch"


def require_owner(session: Session, owner_branch_id: uuid.UUID, what: str) -> None:
    """Refuse, with a sentence the user can act on, a step only the owning branch's site may take
    (``what`` e.g. "transfer DAL-TR-000001 is shipped"): better than the guard's refusal at flush."""
    own = ownership(session)
    if own.owns(owner_branch_id):
        return
    raise ForeignWrite(f"{what} by {branch_code(session, owner_branch_id)}; this workstation belongs to "
                       f"{branch_code(session, own.branch_id)}")
