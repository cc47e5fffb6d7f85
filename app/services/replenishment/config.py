"""Replenishment settings: service level and review period per velocity class, transfer lanes.

Master data owned by head office (``settings.edit``); the engine falls back to the
defaults in ``figures`` for anything not configured. A branch workstation is refused up front
with a sentence (the server would refuse its write at push).
"""

from __future__ import annotations

import uuid
from decimal import Decimal, InvalidOperation
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import ReplenishmentClass, TransferLane
from app.models.catalog import VELOCITY_CLASSES
from app.models.org import Warehouse
from app.models.types import DomainValueError, to_money
from app.services import audit
from app.services.auth import Actor
from app.services.errors import NotFound, ValidationError
from app.services.masterdata import head_office_id
from app.services.replenishment import figures as fg
from app.services.site_rights import require_head_office


def _decimal(value: Any, field: str) -> Decimal:
    try:
        return to_money(value, field)
    except DomainValueError as e:
        raise ValidationError(*str(e).split(": ", 1)) from None


def _int(value: Any, field: str, lo: int, hi: int) -> int:
    try:
        n = int(Decimal(str(value)))
        if Decimal(str(value)) != n:
            raise ValueError
    except (InvalidOperation, ValueError):
        raise ValidationError(field, f"{value!r} is not a whole number") from None
    if not lo <= n <= hi:
        raise ValidationError(field, f"{n} must be between {lo} and {hi}")
    return n


def class_settings(session: Session) -> dict[str, tuple[Decimal, int]]:
    """(service level %, review days) per velocity class, defaults filled in."""
    out = {k: (fg.DEFAULT_SERVICE_LEVEL_PCT[k], fg.DEFAULT_REVIEW_DAYS) for k in VELOCITY_CLASSES}
    for row in session.scalars(select(ReplenishmentClass).where(ReplenishmentClass.deleted_at.is_(None))):
        out[row.velocity_class] = (row.service_level_pct, int(row.review_days))
    return out


def set_class(session: Session, actor: Actor, velocity_class: str, *, service_level_pct: Any = None,
              review_days: Any = None) -> ReplenishmentClass:
    actor.require("settings.edit")
    require_head_office(session, "replenishment classes")
    vc = (velocity_class or "").strip().upper()
    if vc not in VELOCITY_CLASSES:
        raise ValidationError("velocity class", f"{velocity_class!r} must be one of {', '.join(VELOCITY_CLASSES)}")
    current = class_settings(session)[vc]
    pct = _decimal(service_level_pct, "service level") if service_level_pct is not None else current[0]
    if not Decimal("50") <= pct < Decimal("100"):
        raise ValidationError("service level", f"{pct}% must be at least 50 and below 100")
    days = _int(review_days, "review days", 1, 90) if review_days is not None else current[1]
    row = session.scalars(select(ReplenishmentClass).where(ReplenishmentClass.velocity_class == vc)).first()
    if row is None:
        row = ReplenishmentClass(velocity_class=vc, owner_branch_id=head_office_id(session))
        session.add(row)
    row.service_level_pct, row.review_days, row.deleted_at = pct, days, None
    session.flush()
    audit.record(session, actor, "replenishment.class", "replenishment_class", row.id, row.owner_branch_id,
                 velocity_class=vc, service_level_pct=pct, review_days=days)
    return row


def set_lane(session: Session, actor: Actor, from_code: str, to_code: str, *, transit_days: Any,
             cost_per_unit: Any, cost_per_shipment: Any) -> TransferLane:
    actor.require("settings.edit")
    require_head_office(session, "transfer lanes")
    whs: dict[str, uuid.UUID] = {}
    for label, code in (("from warehouse", from_code), ("to warehouse", to_code)):
        wh = session.scalars(select(Warehouse).where(Warehouse.code == (code or "").strip().upper())).first()
        if wh is None:
            raise NotFound(label, code)
        whs[label] = wh.id
    if whs["from warehouse"] == whs["to warehouse"]:
        raise ValidationError("to warehouse", "must differ from the from warehouse")
    days = _int(transit_days, "transit days", 0, 60)
    per_unit, per_ship = _decimal(cost_per_unit, "cost per unit"), _decimal(cost_per_shipment, "cost per shipment")
    if per_unit < 0 or per_ship < 0:
        raise ValidationError("transfer cost", "must not be negative")
    row = session.scalars(select(TransferLane).where(TransferLane.from_warehouse_id == whs["from warehouse"],
                                                     TransferLane.to_warehouse_id == whs["to warehouse"])).first()
    if row is None:
        row = TransferLane(from_warehouse_id=whs["from warehouse"], to_warehouse_id=whs["to warehouse"],
                           owner_branch_id=head_office_id(session))
        session.add(row)
    row.transit_days, row.cost_per_unit, row.cost_per_shipment, row.deleted_at = days, per_unit, per_ship, None
    session.flush()
    audit.record(session, actor, "replenishment.lane", "transfer_lane", row.id, row.owner_branch_id,
                 transit_days=days, cost_per_unit=per_unit, cost_per_shipment=per_ship)
    return row
