"""What a warehouse dispatches by: each carrier's cut-off (local time) and the pick rate, pickers
and cart size a wave plan is timed and cut against. Read with defaults when nothing is stored."""

from __future__ import annotations

import datetime as dt
import re
import uuid
from dataclasses import dataclass
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.dispatch import CarrierCutoff, DispatchSetting, dispatch_setting_id_for
from app.models.org import Branch, Warehouse
from app.models.parties import Carrier
from app.services import audit
from app.services.auth import Actor
from app.services.errors import NotFound, ValidationError

_HHMM = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)$")
#: limits that keep a typo from planning nonsense
LIMITS = {"pick_rate": (1, 2000), "pickers": (1, 500), "totes_per_cart": (1, 60), "wave_max_lines": (1, 5000),
          "pack_minutes": (0, 600)}


@dataclass(frozen=True)
class Settings:
    pick_rate: int = 60
    pickers: int = 2
    totes_per_cart: int = 12
    wave_max_lines: int = 120
    pack_minutes: int = 30

    def minutes_for(self, lines: int) -> int:
        """Minutes the warehouse's pickers need for ``lines`` pick lines (rounded up)."""
        per_hour = self.pick_rate * self.pickers
        return -(-lines * 60 // per_hour) if lines else 0


@dataclass(frozen=True)
class Cutoff:
    carrier_id: uuid.UUID
    carrier: str
    cutoff: str
    is_default: bool


def find_warehouse(session: Session, warehouse: str | uuid.UUID) -> Warehouse:
    wh = (session.get(Warehouse, warehouse) if isinstance(warehouse, uuid.UUID)
          else session.scalar(select(Warehouse).where(Warehouse.code == str(warehouse).strip().upper())))
    if wh is None or wh.deleted_at is not None:
        raise NotFound("warehouse", warehouse)
    return wh


def settings_for(session: Session, warehouse_id: uuid.UUID) -> Settings:
    row = session.get(DispatchSetting, dispatch_setting_id_for(warehouse_id))
    if row is None or row.deleted_at is not None:
        return Settings()
    return Settings(row.pick_rate, row.pickers, row.totes_per_cart, row.wave_max_lines, row.pack_minutes)


def set_settings(session: Session, actor: Actor, warehouse: str | uuid.UUID, **values: int) -> Settings:
    """Store some of the warehouse's dispatch settings (the others keep their value)."""
    actor.require("dispatch.wave")
    wh = find_warehouse(session, warehouse)
    for k, v in values.items():
        if k not in LIMITS:
            raise ValidationError(k, "is not a dispatch setting")
        lo, hi = LIMITS[k]
        if not isinstance(v, int) or isinstance(v, bool) or not lo <= v <= hi:
            raise ValidationError(k.replace("_", " "), f"must be a whole number from {lo} to {hi}")
    sid = dispatch_setting_id_for(wh.id)
    row = session.get(DispatchSetting, sid)
    if row is None:
        row = DispatchSetting(id=sid, warehouse_id=wh.id, owner_branch_id=wh.branch_id)
        session.add(row)
    for k, v in values.items():
        setattr(row, k, v)
    session.flush()
    audit.record(session, actor, "dispatch.settings", "dispatch_setting", row.id, wh.branch_id, warehouse=wh.code,
                 **{k: str(v) for k, v in values.items()})
    return settings_for(session, wh.id)


def cutoffs(session: Session, warehouse_id: uuid.UUID) -> list[Cutoff]:
    rows = session.execute(select(CarrierCutoff, Carrier.code).join(Carrier, Carrier.id == CarrierCutoff.carrier_id)
                           .where(CarrierCutoff.warehouse_id == warehouse_id, CarrierCutoff.deleted_at.is_(None))
                           .order_by(CarrierCutoff.cutoff, Carrier.code)).all()
    return [Cutoff(c.carrier_id, code, c.cutoff, c.is_default) for c, code in rows]


def set_cutoff(session: Session, actor: Actor, warehouse: str | uuid.UUID, carrier: str, cutoff: str, *,
               default: bool = False) -> Cutoff:
    """The local time ``carrier`` collects from ``warehouse`` ("16:30"); ``default``: orders without a
    carrier of their own ship with it."""
    actor.require("dispatch.wave")
    wh = find_warehouse(session, warehouse)
    car = session.scalar(select(Carrier).where(Carrier.code == carrier.strip().upper()))
    if car is None:
        raise NotFound("carrier", carrier)
    m = _HHMM.match((cutoff or "").strip())
    if not m:
        raise ValidationError("cut-off", f"{cutoff!r} is not a time of day (HH:MM, e.g. 16:30)")
    text = f"{int(m.group(1)):02d}:{m.group(2)}"
    row = session.scalar(select(CarrierCutoff).where(CarrierCutoff.warehouse_id == wh.id,
                                                     CarrierCutoff.carrier_id == car.id))
    if default:
        for other in session.scalars(select(CarrierCutoff).where(CarrierCutoff.warehouse_id == wh.id,
                                                                 CarrierCutoff.is_default.is_(True))):
            other.is_default = False
    if row is None:
        row = CarrierCutoff(warehouse_id=wh.id, carrier_id=car.id, cutoff=text, is_default=default,
                            owner_branch_id=wh.branch_id)
        session.add(row)
    else:
        row.cutoff, row.deleted_at = text, None
        row.is_default = default or row.is_default
    session.flush()
    audit.record(session, actor, "dispatch.cutoff", "carrier_cutoff", row.id, wh.branch_id, warehouse=wh.code,
                 carrier=car.code, cutoff=text, default=row.is_default)
    return Cutoff(car.id, car.code, text, row.is_default)


def branch_zone(session: Session, warehouse: Warehouse) -> ZoneInfo:
    branch = session.get(Branch, warehouse.branch_id)
    try:
        return ZoneInfo(branch.timezone if branch is not None and branch.timezone else "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def next_cutoff(cutoff: str, now: dt.datetime, tz: ZoneInfo) -> dt.datetime:
    """The next time (UTC) the local ``cutoff`` comes round after ``now`` (today's, else tomorrow's)."""
    hh, mm = (int(x) for x in cutoff.split(":"))
    local = now.astimezone(tz)
    at = dt.datetime.combine(local.date(), dt.time(hh, mm), tzinfo=tz)
    if at <= local:
        at = dt.datetime.combine(local.date() + dt.timedelta(days=1), dt.time(hh, mm), tzinfo=tz)
    return at.astimezone(dt.UTC)
