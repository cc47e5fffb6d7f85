"""Anomaly scan over the branch database: findings into the exception inbox, each saying why.

Reads what the database holds: weekly demand (``sales_week``) for demand spikes, receipts
against their purchase orders for supplier lead-time drift, Dispatch's shipments (the freight
billed, else quoted, per unit shipped) for freight cost by lane, and Dispatch's confirmed pick
lines (short = an error, as the pick accuracy KPI counts them) for pick error jumps by picker and
by zone. A detector with nothing to read says so instead of staying silent.

One exception per finding and period: the key names the kind, the subject and the week, so
a scan run twice raises nothing new, and next week's spike is a new exception.
"""

from __future__ import annotations

import datetime as dt
import math
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from sqlalchemy import inspect, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.services.anomaly import detect
from app.services.anomaly.detect import Finding
from app.services.auth import Actor
from app.services.db import hex_raw_rows as _raw
from app.services.exception_inbox import raise_exception
from app.services.ownership import owns

SPIKE_HISTORY_WEEKS = 26
LEAD_TIME_RECENT_DAYS = 90
LEAD_TIME_HISTORY_DAYS = 730
#: a lane's freight pattern is learnt from its shipments of the year before the week scanned
FREIGHT_HISTORY_DAYS = 365
#: a picker's or zone's usual error rate: the weeks before the week scanned
PICK_HISTORY_WEEKS = 12

#: who handles each kind in the inbox
ROLES = {"demand_spike": "buyer", "lead_time_drift": "buyer", "freight_cost": "dispatcher", "pick_errors": "manager"}


def week_of(day: dt.date) -> int:
    return (day.toordinal() + 1_721_425) // 7



@dataclass
class ScanResult:
    findings: list[tuple[Finding, str, str]] = field(default_factory=list)  # (finding, title, branch code)
    raised: int = 0
    notes: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {"raised": self.raised, "notes": self.notes, "findings": [
            {"kind": f.kind, "about": list(f.key), "title": t, "branch": b, "value": round(f.value, 4),
             "baseline": round(f.baseline, 4), "robust_z": round(f.z, 2), "why": f.why}
            for f, t, b in self.findings]}


def spikes(session: Session, today: dt.date, weeks: int = SPIKE_HISTORY_WEEKS) -> list[tuple[Finding, str, str]]:
    """Demand spikes of the last full week, per item x warehouse."""
    w1 = week_of(today)
    rows = _raw(session, "SELECT s.item_id, s.warehouse_id, s.week, s.qty FROM sales_week s"
                         " WHERE s.week >= :w0 AND s.week < :w1", {"w0": w1 - 1 - weeks, "w1": w1})
    index: dict[tuple[str, str], int] = {}
    for it, wh, _w, _q in rows:
        index.setdefault((str(it), str(wh)), len(index))
    if not index:
        return []
    Y = np.zeros((len(index), weeks + 1))
    for it, wh, w, q in rows:
        Y[index[(str(it), str(wh))], int(w) - (w1 - 1 - weeks)] += float(q)
    keys = list(index)
    found = detect.demand_spikes([(i, w) for i, w in keys], Y[:, :-1], Y[:, -1])
    names = _names(session, {k[0] for k in (f.key for f in found)}, {k[1] for k in (f.key for f in found)})
    out = []
    for f in found:
        sku, wcode, bcode = names.get(f.key, ("?", "?", "?"))
        out.append((f, f"Demand spike: {sku} at {wcode}", bcode))
    return out


def _names(session: Session, items: set[str], whs: set[str]) -> dict[tuple[str, ...], tuple[str, str, str]]:
    if not items:
        return {}
    blobs = ", ".join("X'" + bytes.fromhex(i).hex() + "'" for i in items)  # ids are 16 bytes in the file
    it: dict[Any, Any] = dict(_raw(session, f"SELECT id, sku FROM item WHERE id IN ({blobs})"))
    wr = {str(r[0]): (str(r[1]), str(r[2])) for r in _raw(
        session, "SELECT w.id, w.code, b.code FROM warehouse w JOIN branch b ON b.id = w.branch_id")}
    return {(i, w): (str(it.get(i, "?")), wr.get(w, ("?", "?"))[0], wr.get(w, ("?", "?"))[1])
            for i in items for w in whs}


def lead_times(session: Session, today: dt.date) -> list[tuple[Finding, str, str]]:
    """Lead-time drift per supplier and receiving branch (first receipt of each PO)."""
    start = (today - dt.timedelta(days=LEAD_TIME_HISTORY_DAYS)).isoformat()
    rows = _raw(session, (
        "SELECT po.supplier_id, p.code, b.code, po.order_date, MIN(r.posted_at) FROM receipt r"
        " JOIN purchase_order po ON po.id = r.po_id JOIN supplier p ON p.id = po.supplier_id"
        " JOIN branch b ON b.id = r.owner_branch_id"
        " WHERE r.po_id IS NOT NULL AND r.deleted_at IS NULL AND r.posted_at >= :start"
        " GROUP BY r.po_id, b.code"), {"start": start})
    cut = today - dt.timedelta(days=LEAD_TIME_RECENT_DAYS)
    older: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    recent: dict[tuple[str, str, str], list[float]] = defaultdict(list)
    for sup, code, bcode, ordered, posted in rows:
        got = dt.date.fromisoformat(str(posted)[:10])
        days = float((got - dt.date.fromisoformat(str(ordered)[:10])).days)
        if days < 0:
            continue
        (recent if got >= cut else older)[(str(sup), str(code), str(bcode))].append(days)
    keys = sorted(set(older) | set(recent))
    found = detect.lead_time_drift([f"{k[1]}@{k[2]}" for k in keys], [np.array(older[k]) for k in keys],
                                   [np.array(recent[k]) for k in keys])
    out = []
    for f in found:
        sup, br = f.key[0].split("@")
        out.append((f, f"Lead time drift: supplier {sup} ({br})", br))
    return out


def week_start(week: int) -> dt.date:
    """The Monday that starts ``week`` (``week_of``'s numbering)."""
    return dt.date.fromordinal(7 * week - 1_721_425)


def _iso(day: dt.date) -> str:
    return dt.datetime.combine(day, dt.time(0), dt.UTC).isoformat()


_FREIGHT_SQL = (
    "SELECT s.number, w.code, b.code, c.code, COALESCE(NULLIF(s.service_code, ''), v.code, ''),"
    " COALESCE(s.freight_billed, s.freight_quoted), s.shipped_at >= :recent,"
    " COALESCE((SELECT SUM(l.qty) FROM shipment_line l WHERE l.shipment_id = s.id AND l.deleted_at IS NULL),"
    "          (SELECT SUM(ol.qty_shipped) FROM sales_order_line ol WHERE ol.order_id = s.sales_order_id"
    "           AND ol.deleted_at IS NULL)),"
    " COALESCE((SELECT SUM(l.qty * i.weight_g) FROM shipment_line l JOIN item i ON i.id = l.item_id"
    "           WHERE l.shipment_id = s.id AND l.deleted_at IS NULL),"
    "          (SELECT SUM(ol.qty_shipped * i.weight_g) FROM sales_order_line ol JOIN item i ON i.id = ol.item_id"
    "           WHERE ol.order_id = s.sales_order_id AND ol.deleted_at IS NULL))"
    " FROM shipment s JOIN warehouse w ON w.id = s.warehouse_id JOIN branch b ON b.id = w.branch_id"
    " JOIN carrier c ON c.id = s.carrier_id LEFT JOIN carrier_service v ON v.id = s.service_id"
    " WHERE s.deleted_at IS NULL AND s.shipped_at >= :start AND s.shipped_at < :end"
    " AND COALESCE(s.freight_billed, s.freight_quoted) > 0")


def freight(session: Session, today: dt.date) -> tuple[list[tuple[Finding, str, str]], str]:
    """Last week's shipments whose freight per unit is out of pattern for their lane (warehouse,
    carrier and service), against the lane's shipments of the year before. A shipment's units are
    its lines', or its order's shipped quantities when it has no lines (billing's rule)."""
    w = week_of(today) - 1
    recent = week_start(w)
    rows = _raw(session, _FREIGHT_SQL, {"start": _iso(recent - dt.timedelta(days=FREIGHT_HISTORY_DAYS)),
                                        "recent": _iso(recent), "end": _iso(week_start(w + 1))})
    rows = [r for r in rows if r[7] and float(r[7]) > 0]
    if not rows:
        return [], "freight cost per unit: no shipment with a freight cost and units in the last year"
    if not any(r[6] for r in rows):
        return [], "freight cost per unit: no shipment with a freight cost last week"
    branch = {str(r[0]): str(r[2]) for r in rows}
    by_lane: dict[str, list[Any]] = defaultdict(list)
    for r in rows:
        by_lane[f"{r[1]} {r[3]} {r[4]}".strip()].append(r)
    found: list[Finding] = []
    for lane, lr in by_lane.items():
        # carriers price by weight: where every shipment's weight is known the lane's pattern is per
        # kg (items of 50 g and 20 kg ship on one lane), else per unit; billed by the whole kg, at
        # least one (a 200 g parcel pays a minimum charge, not a fifth of a 1 kg one)
        kg = all(r[8] and float(r[8]) > 0 for r in lr)
        size = np.array([max(math.ceil(float(r[8]) / 1000.0), 1) if kg else float(r[7]) for r in lr], dtype=float)
        cost = np.array([float(r[5]) / 10_000.0 for r in lr])
        found += detect.freight_cost([lane] * len(lr), [str(r[0]) for r in lr], cost / size, units=size,
                                     score=np.array([bool(r[6]) for r in lr]), unit="kg" if kg else "unit")
    return [(f, f"Freight cost: {f.key[1]} ({f.key[0]})", branch[f.key[1]]) for f in found], ""


def _pick_counts(session: Session, group: str, params: dict[str, object]) -> list[Any]:
    return _raw(session, (
        f"SELECT {group}, w.code, b.code,"
        " SUM(p.picked_at < :recent AND (p.status = 'short' OR p.qty_picked < p.qty)), SUM(p.picked_at < :recent),"
        " SUM(p.picked_at >= :recent AND (p.status = 'short' OR p.qty_picked < p.qty)), SUM(p.picked_at >= :recent)"
        " FROM pick_line p JOIN wave wv ON wv.id = p.wave_id JOIN warehouse w ON w.id = wv.warehouse_id"
        " JOIN branch b ON b.id = w.branch_id LEFT JOIN location l ON l.id = p.from_location_id"
        " LEFT JOIN zone z ON z.id = l.zone_id LEFT JOIN app_user u ON u.id = p.picked_by_id"
        " WHERE p.status IN ('picked', 'short') AND p.deleted_at IS NULL AND p.picked_at >= :start"
        " AND p.picked_at < :end"
        f" GROUP BY {group}, w.code, b.code"), params)


def pick_errors(session: Session, today: dt.date) -> tuple[list[tuple[Finding, str, str]], str]:
    """Pickers and zones (per warehouse) whose share of short picks last week jumped above their
    own rate of the weeks before."""
    w = week_of(today) - 1
    recent = week_start(w)
    params: dict[str, object] = {"start": _iso(recent - dt.timedelta(weeks=PICK_HISTORY_WEEKS)),
                                 "recent": _iso(recent), "end": _iso(week_start(w + 1))}
    keys: list[str] = []
    titles: dict[str, tuple[str, str]] = {}
    counts: list[tuple[float, float, float, float]] = []
    for kind, group in (("picker", "COALESCE(u.username, '?')"), ("zone", "COALESCE(z.code, 'no zone')")):
        for name, wcode, bcode, be, bp, er, pk in _pick_counts(session, group, params):
            key = f"{kind}:{name}@{wcode}"
            keys.append(key)
            who = f"{name} at {wcode}" if kind == "picker" else f"zone {name} at {wcode}"
            titles[key] = (f"Pick errors: {who}", str(bcode))
            counts.append((float(be or 0), float(bp or 0), float(er or 0), float(pk or 0)))
    if not keys:
        return [], "pick errors: no confirmed picks in the last weeks"
    if not any(c[3] for c in counts):
        return [], "pick errors: no confirmed picks last week"
    a = np.array(counts)
    groups = [f"{k.split(':', 1)[0]}@{k.rsplit('@', 1)[1]}" for k in keys]  # pickers / zones of a warehouse
    found = detect.pick_errors(keys, a[:, 0], a[:, 1], a[:, 2], a[:, 3], groups=groups)
    return [(f, *titles[f.key[0]]) for f in found], ""


def find(session: Session, today: dt.date) -> ScanResult:
    """Every detector the data allows (a read): findings and what could not be looked at."""
    res = ScanResult()
    insp = inspect(session.connection())
    if insp.has_table("sales_week"):
        res.findings += spikes(session, today)
    res.findings += lead_times(session, today)
    for detector in (freight, pick_errors):
        found, note = detector(session, today)
        res.findings += found
        if note:
            res.notes.append(note)
    return res


def raise_found(session: Session, actor: Actor | None, res: ScanResult, today: dt.date) -> ScanResult:
    """One exception per new finding and week (a write); ``res.raised`` counts the new ones."""
    branches = {str(c): uuid.UUID(str(i)) for i, c in _raw(session, "SELECT id, code FROM branch")}
    week = week_of(today) - 1
    foreign = 0
    for f, title, bcode in res.findings:
        owner = branches.get(bcode)
        if owner is None:
            continue
        if not owns(session, owner):  # another branch's workstation raises its own (same key, one row)
            foreign += 1
            continue
        key = f"anomaly:{f.kind}:{':'.join(f.key)}:{week}"[:160]
        known = session.scalar(select(ExceptionItem.id).where(ExceptionItem.key == key,
                                                              ExceptionItem.owner_branch_id == owner).limit(1))
        if known is not None:
            continue
        raise_exception(session, actor, kind=f"anomaly.{f.kind}", title=title, owner_branch_id=owner,
                        detail=f.why, severity="warning", role=ROLES[f.kind], key=key,
                        entity_ref=title.split(": ", 1)[-1])
        res.raised += 1
    if foreign:
        res.notes.append(f"{foreign} findings of other branches are raised by their own workstations")
    return res


def scan(session: Session, actor: Actor | None, *, today: dt.date | None = None, raise_alerts: bool = True) -> ScanResult:
    """Run every detector the data allows and raise one exception per new finding."""
    if actor is not None:
        actor.require("replenish.run")
    today = today or dt.date.today()
    res = find(session, today)
    return raise_found(session, actor, res, today) if raise_alerts else res
