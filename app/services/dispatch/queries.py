"""What the Dispatch screen and ``depot wave list`` show: waves with their picking progress and
cut-off, and a wave's lines in walking order. Read-only.

The board is today's work: waves not yet picked, and picked ones whose picking ended in the last
``RECENT_DAYS`` days; older picked waves (weeks of history) are shown on request."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from app.models.dispatch import Wave
from app.models.org import Warehouse
from app.models.types import iso_utc, utcnow
from app.services.dispatch.setup import branch_zone, settings_for
from app.services.dispatch.stock_view import rows
from app.services.dispatch.waves import find_wave, local_text

#: waves a dispatcher works with (cancelled ones are history)
SHOWN = ("planned", "released", "picking", "picked")
#: a picked wave stays on the board this many days after its picking ended
RECENT_DAYS = 2


@dataclass
class WaveRow:
    number: str
    warehouse: str
    carrier: str
    cutoff_at: dt.datetime | None
    status: str
    priority: int
    pick_mode: str
    orders: int
    lines: int
    lines_done: int
    lines_short: int
    units: int
    units_picked: int
    pick_minutes: int
    done_by: dt.datetime | None
    walk_m: int
    walk_line_order_m: int
    note: str
    pack_minutes: int = 30
    #: the branch's time zone (times on screen are local)
    tz: str = "UTC"

    def local(self, value: dt.datetime | None) -> str:
        return local_text(value, self.tz)

    @property
    def in_time(self) -> bool:
        """The plan's finish plus packing is before the cut-off (no cut-off: always)."""
        if self.cutoff_at is None or self.done_by is None:
            return True
        return self.done_by + dt.timedelta(minutes=self.pack_minutes) <= self.cutoff_at

    def minutes_left(self, now: dt.datetime | None = None) -> int | None:
        if self.cutoff_at is None:
            return None
        return int((self.cutoff_at - (now or utcnow())).total_seconds() // 60)

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "warehouse": self.warehouse, "carrier": self.carrier,
                "cutoff_at": iso_utc(self.cutoff_at) if self.cutoff_at else None, "status": self.status,
                "priority": self.priority, "pick_mode": self.pick_mode, "orders": self.orders, "lines": self.lines,
                "lines_done": self.lines_done, "lines_short": self.lines_short, "units": self.units,
                "units_picked": self.units_picked, "pick_minutes": self.pick_minutes,
                "done_by": iso_utc(self.done_by) if self.done_by else None, "in_time": self.in_time,
                "walk_m": self.walk_m, "walk_line_order_m": self.walk_line_order_m, "note": self.note,
                "cutoff_local": self.local(self.cutoff_at), "done_by_local": self.local(self.done_by)}


def _recent(now: dt.datetime | None) -> Any:
    """Not a picked wave whose picking ended before ``RECENT_DAYS`` ago (one with no time stays)."""
    since = (now or utcnow()) - dt.timedelta(days=RECENT_DAYS)
    return or_(Wave.status != "picked", Wave.picked_at.is_(None), Wave.picked_at >= since)


def _board(warehouse: str | None, statuses: tuple[str, ...]) -> Any:
    q = (select(Wave, Warehouse).join(Warehouse, Warehouse.id == Wave.warehouse_id)
         .where(Wave.deleted_at.is_(None), Wave.status.in_(statuses)))
    if warehouse:
        q = q.where(Warehouse.code == warehouse.strip().upper())
    return q


def older_picked(session: Session, *, warehouse: str | None = None, now: dt.datetime | None = None) -> int:
    """How many picked waves the board leaves out (picked before the last ``RECENT_DAYS`` days)."""
    q = _board(warehouse, ("picked",)).where(~_recent(now))
    return int(session.scalar(q.with_only_columns(func.count())) or 0)


def list_waves(session: Session, *, warehouse: str | None = None, statuses: tuple[str, ...] = SHOWN,
               older: bool = False, now: dt.datetime | None = None) -> list[WaveRow]:
    """The board: waves of these statuses by cut-off, then the picked ones newest first (only those
    picked in the last ``RECENT_DAYS`` days unless ``older``)."""
    q = _board(warehouse, statuses)
    if not older:
        q = q.where(_recent(now))
    waves = session.execute(q.order_by(Wave.status == "picked", Wave.picked_at.desc(), Wave.cutoff_at, Wave.priority,
                                        Wave.number)).all()
    if not waves:
        return []
    progress = {str(w): (int(d or 0), int(s or 0), int(u or 0)) for w, d, s, u in rows(
        session, "SELECT p.wave_id, SUM(p.status IN ('picked', 'short')), SUM(p.status = 'short'), SUM(p.qty_picked) "
        "FROM pick_line p JOIN wave w ON w.id = p.wave_id WHERE w.status IN ('released', 'picking', 'picked') "
        "AND p.status <> 'cancelled' GROUP BY p.wave_id")}
    carriers = {str(i): c for i, c in rows(session, "SELECT id, code FROM carrier")}
    packs: dict[Any, tuple[int, str]] = {}
    out = []
    for w, wh in waves:
        if w.warehouse_id not in packs:
            packs[w.warehouse_id] = (settings_for(session, w.warehouse_id).pack_minutes, branch_zone(session, wh).key)
        done, short, picked = progress.get(w.id.hex, (0, 0, 0))
        out.append(WaveRow(w.number, wh.code, carriers.get(w.carrier_id.hex, "") if w.carrier_id else "", w.cutoff_at,
                           w.status, w.priority, w.pick_mode, w.orders, w.lines, done, short, w.units, picked,
                           w.pick_minutes, w.done_by, w.walk_m, w.walk_line_order_m, w.note, *packs[w.warehouse_id]))
    return out


@dataclass
class PickRow:
    seq: int
    bin: str
    sku: str
    description: str
    qty: int
    qty_picked: int
    status: str
    tote: int
    order: str
    line_no: int
    lot: str
    expiry: dt.date | None
    short_reason: str

    def as_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["expiry"] = self.expiry.isoformat() if self.expiry else None
        return d


def wave_lines(session: Session, number: str) -> list[PickRow]:
    wave = find_wave(session, number)
    out = []
    for seq, code, sku, desc, qty, picked, status, tote, order, line_no, lot, exp, why in rows(
            session, "SELECT p.seq, l.code, i.sku, i.description, p.qty, p.qty_picked, p.status, p.tote, o.number, "
            "sl.line_no, COALESCE(lot.lot_code, ''), lot.expiry_date, p.short_reason FROM pick_line p "
            "JOIN location l ON l.id = p.from_location_id JOIN item i ON i.id = p.item_id "
            "JOIN sales_order o ON o.id = p.order_id JOIN sales_order_line sl ON sl.id = p.order_line_id "
            "LEFT JOIN lot ON lot.id = p.lot_id WHERE p.wave_id = ? AND p.status <> 'cancelled' "
            "AND p.deleted_at IS NULL ORDER BY p.seq", (wave.id.hex,)):
        out.append(PickRow(int(seq), str(code), str(sku), str(desc), int(qty), int(picked), str(status), int(tote),
                           str(order), int(line_no), str(lot), dt.date.fromisoformat(str(exp)) if exp else None,
                           str(why or "")))
    return out
