"""Helpers the inventory tests share: put stock in a bin (a real receipt move), count moves."""

from __future__ import annotations

import datetime as dt
import uuid

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.catalog import Lot, lot_id_for
from app.models.org import Location
from app.models.stock import StockBalance, StockMove
from app.services.stock import MoveSpec, post_moves, virtual_location
from tests.factories import World


def lot(session: Session, w: World, sku: str, code: str, expiry: dt.date | None = None) -> uuid.UUID:
    item = w.items[sku]
    lid = lot_id_for(item.id, code)
    if session.get(Lot, lid) is None:
        session.add(Lot(id=lid, item_id=item.id, lot_code=code, expiry_date=expiry, owner_branch_id=w.dal.id))
        session.flush()
    return lid


def stock(session: Session, w: World, sku: str, qty: int, bin_key: str, *, lot_id: uuid.UUID | None = None,
          serial: str | None = None) -> None:
    """Receive ``qty`` of ``sku`` straight into a bin (supplier -> bin)."""
    loc = w.bins[bin_key]
    sup = virtual_location(session, loc.warehouse_id, "supplier")
    post_moves(session, w.actors["rita"], [MoveSpec(w.items[sku].id, qty, sup.id, loc.id, "receipt", lot_id=lot_id,
                                                    serial_no=serial)], owner_branch_id=loc.owner_branch_id)


def bal(session: Session, loc: Location | uuid.UUID, item_id: uuid.UUID, lot_id: uuid.UUID | None = None) -> int:
    lid = loc.id if isinstance(loc, Location) else loc
    return int(session.scalar(select(func.coalesce(func.sum(StockBalance.qty), 0)).where(
        StockBalance.location_id == lid, StockBalance.item_id == item_id,
        *([StockBalance.lot_key == lot_id.hex] if lot_id else []))) or 0)


def move_count(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(StockMove)) or 0)


def audit_actions(session: Session) -> list[str]:
    return [r[0] for r in session.execute(text("SELECT action FROM audit_entry ORDER BY created_at"))]
