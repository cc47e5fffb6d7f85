"""Anomaly scan over the branch database: findings into the exception inbox, each saying why.

Reads what the database holds: weekly demand (``sales_week``) for demand spikes, receipts
against their purchase orders for supplier lead-time drift. Freight cost per unit and pick
errors need shipment costs and pick confirmations: Dispatch records them now, but the scan does
not read them yet; it says so instead of staying silent, and the tests (detect.py) run on arrays.

One exception per finding and period: the key names the kind, the subject and the week, so
a scan run twice raises nothing new, and next week's spike is a new exception.
"""

from __future__ import annotations

import datetime as dt
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
from app.services.exception_inbox import raise_exception
from app.services.ownership import owns

SPIKE_HISTORY_WEEKS = 26
LEAD_TIME_RECENT_DAYS = 90
LEAD_TIME_HISTORY_DAYS = 730

#: who handles each kind in the inbox
ROLES = {"demand_spike": "buyer", "lead_time_drift": "buyer", "freight_cost": "dispatcher", "pick_errors": "manager"}


def week_of(day: dt.date) -> int:
    return (day.toordinal() + 1_721_425) // 7


def _raw(session: Session, sql: str, params: dict[str, object] | None = None) -> list[Any]:
    dbapi = session.connection().connection.dbapi_connection
    assert dbapi is not None
    cur = dbapi.cursor()
    try:
        cur.execute(sql, params or {})
        return list(cur.fetchall())
    finally:
        cur.close()


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
    it: dict[Any, Any] = dict(_raw(session, f"SELECT id, sku FROM item WHERE id IN ({', '.join(repr(i) for i in items)})"))
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


def find(session: Session, today: dt.date) -> ScanResult:
    """Every detector the data allows (a read): findings and what could not be looked at."""
    res = ScanResult()
    insp = inspect(session.connection())
    if insp.has_table("sales_week"):
        res.findings += spikes(session, today)
    res.findings += lead_times(session, today)
    # Dispatch now records freight (shipment.freight_quoted/billed) and pick confirmations
    # (pick_line); until the two detectors read them, the scan says it did not look
    res.notes.append("freight cost per unit: not read from Dispatch's shipments yet (the detector runs on "
                     "arrays only)")
    res.notes.append("pick errors: not read from Dispatch's pick confirmations yet (Picking)")
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
