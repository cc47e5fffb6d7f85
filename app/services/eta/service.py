"""Predictive ETA over the branch's shipments: train, evaluate against the carrier, score open ones.

Built on the shipment fields Depot has today (``app.models.shipping.Shipment``: carrier,
service, warehouse, shipped_at, the carrier's ``eta`` and ``delivered_at``) and the order's
ship-to for the lane; when the carrier gave no ETA the service's transit days stand in for its
promise. Shipment weight is not recorded yet, so it is not a feature.

The model is a file (JSON, versioned) next to the database: ``<db>.eta-model.json``. A missing,
damaged or older-version file never stops anything: scoring falls back to the carrier's promise
and says why.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.services.auth import Actor
from app.services.db import hex_raw_rows as _raw
from app.services.errors import ValidationError
from app.services.eta import model as em

#: shipment ids per query when scoring named shipments
ID_CHUNK = 500
#: shipments not yet delivered in these states are scored
OPEN = ("label_created", "picked_up", "in_transit", "out_for_delivery", "delayed", "exception",
        "delivery_attempted", "available_for_pickup")



def _t(v: Any) -> dt.datetime | None:
    if v is None or v == "":
        return None
    t = dt.datetime.fromisoformat(str(v))
    return t if t.tzinfo else t.replace(tzinfo=dt.UTC)


def destination(ship_to: str | None) -> str:
    """The lane's far end from a ship-to address: its last part (city or state code), or '?'."""
    if not ship_to:
        return "?"
    last = str(ship_to).replace("\n", ",").split(",")[-1].strip().upper()
    return (last.split()[0] if last else "?")[:12]


_SQL = ("SELECT s.id, s.number, c.code, COALESCE(v.code, ''), COALESCE(v.transit_days, 3), w.code,"
        " COALESCE(so.ship_to, cu.ship_to, ''), s.shipped_at, s.eta, s.delivered_at, s.status, s.promised_date"
        " FROM shipment s JOIN carrier c ON c.id = s.carrier_id JOIN warehouse w ON w.id = s.warehouse_id"
        " LEFT JOIN carrier_service v ON v.id = s.service_id LEFT JOIN sales_order so ON so.id = s.sales_order_id"
        " LEFT JOIN customer cu ON cu.id = so.customer_id"
        " WHERE s.deleted_at IS NULL AND s.shipped_at IS NOT NULL")


@dataclass(frozen=True)
class Row:
    id: str
    number: str
    shipment: em.Shipment
    delivered: dt.datetime | None
    status: str
    promise_from_service: bool
    #: the date promised to the customer (tracking's promised_date), when there is one
    customer_promise: dt.date | None = None


def rows(session: Session, where: str = "", params: dict[str, Any] | None = None) -> list[Row]:
    out = []
    for sid, num, carrier, svc, transit, wh, ship_to, shipped, eta, delivered, status, cust in _raw(
            session, _SQL + where, params):
        t0 = _t(shipped)
        if t0 is None:
            continue
        promised = _t(eta)
        from_service = promised is None
        if promised is None:
            promised = t0 + dt.timedelta(days=int(transit or 3))
        out.append(Row(str(sid), str(num), em.Shipment(str(carrier), str(svc), str(wh), destination(ship_to), t0,
                                                       promised), _t(delivered), str(status), from_service,
                       dt.date.fromisoformat(str(cust)[:10]) if cust else None))
    return out


def model_path(db_file: Path) -> Path:
    return Path(f"{db_file}.eta-model.json")


def session_model_path(session: Session) -> Path | None:
    """The model file of the database this session reads (None for one that is not a file)."""
    engine = session.get_bind().engine
    db = engine.url.database
    return model_path(Path(db)) if db and db != ":memory:" and engine.dialect.name == "sqlite" else None


_LOADED: dict[str, tuple[tuple[int, int], em.Model]] = {}


def load_model(path: Path | None) -> em.Model:
    """The model file, read again only when it changed (the Tracking screen asks for every page)."""
    if path is None:
        raise em.ModelUnusable("this database is not a file: no ETA model")
    try:
        st = path.stat()
    except OSError:
        return em.load(path)  # says why (no model yet)
    stamp = (st.st_mtime_ns, st.st_size)
    hit = _LOADED.get(str(path))
    if hit is not None and hit[0] == stamp:
        return hit[1]
    m = em.load(path)
    _LOADED[str(path)] = (stamp, m)
    return m


def delivered(session: Session) -> list[Row]:
    return [r for r in rows(session, " AND s.delivered_at IS NOT NULL ORDER BY s.shipped_at")]


@dataclass
class TrainResult:
    shipments: int
    cells: list[int]
    seconds: float
    path: str


def train(session: Session, actor: Actor | None, path: Path) -> TrainResult:
    """Train on every delivered shipment and write the model file."""
    if actor is not None:
        actor.require("replenish.run")
    t0 = time.perf_counter()
    hist = delivered(session)
    if not hist:
        raise ValidationError("shipments", "no delivered shipments to learn from yet")
    m = train_rows(hist, path)
    return TrainResult(m.shipments, [len(lv) for lv in m.levels], round(time.perf_counter() - t0, 3), str(path))


def train_rows(hist: list[Row], path: Path) -> em.Model:
    """Train on delivered rows already read (no database needed) and write the model file."""
    done = [r for r in hist if r.delivered is not None]
    y = np.array([em.lateness_days(r.delivered, r.shipment.promised) for r in done])  # type: ignore[arg-type]
    m = em.train([r.shipment for r in done], y)
    m.save(path)
    return m


def evaluate(session: Session, *, holdout: float = 0.2) -> dict[str, Any]:
    """Train on the older shipments, predict the newest ``holdout`` share, compare with the carrier."""
    if not 0.05 <= holdout <= 0.5:
        raise ValidationError("holdout", f"{holdout} must be between 0.05 and 0.5")
    t0 = time.perf_counter()
    hist = delivered(session)
    if len(hist) < 50:
        return {"shipments": len(hist), "note": "fewer than 50 delivered shipments: nothing to evaluate yet"}
    cut = int(len(hist) * (1 - holdout))
    train_rows, test_rows = hist[:cut], hist[cut:]
    y = np.array([em.lateness_days(r.delivered, r.shipment.promised) for r in train_rows])  # type: ignore[arg-type]
    t1 = time.perf_counter()
    m = em.train([r.shipment for r in train_rows], y)
    t2 = time.perf_counter()
    preds = [em.predict(m, r.shipment) for r in test_rows]
    t3 = time.perf_counter()
    actual = np.array([r.delivered.timestamp() for r in test_rows])  # type: ignore[union-attr]
    med = np.array([p.median.timestamp() for p in preds])
    p90 = np.array([p.p90.timestamp() for p in preds])
    carrier = np.array([r.shipment.promised.timestamp() for r in test_rows])
    day = 86_400.0
    late = actual > carrier
    flagged = np.array([p.at_risk for p in preds])
    tp = int((flagged & late).sum())
    fallback = sum(1 for p in preds if em.LEVELS.index(p.level) < 2)
    return {
        "shipments": len(hist), "trained_on": len(train_rows), "held_back": len(test_rows),
        "mae_days": round(float(np.abs(med - actual).mean() / day), 3),
        "carrier_mae_days": round(float(np.abs(carrier - actual).mean() / day), 3),
        "bias_days": round(float((med - actual).mean() / day), 3),
        "carrier_bias_days": round(float((carrier - actual).mean() / day), 3),
        "p90_coverage": round(float((actual <= p90).mean()), 3),
        "late_share": round(float(late.mean()), 3),
        "at_risk_flagged": int(flagged.sum()),
        "at_risk_precision": round(tp / int(flagged.sum()), 3) if flagged.any() else None,
        "at_risk_recall": round(tp / int(late.sum()), 3) if late.any() else None,
        "no_lane_history": fallback,
        "promise_from_service_days": sum(1 for r in test_rows if r.promise_from_service),
        "seconds_train": round(t2 - t1, 3), "seconds_score": round(t3 - t2, 3), "seconds": round(t3 - t0, 3),
    }


@dataclass(frozen=True)
class Risk:
    shipment_id: str
    number: str
    promised: dt.datetime
    median: dt.datetime
    p90: dt.datetime
    late_share: float
    at_risk: bool
    why: str
    #: False when there is no usable model (the three times are the carrier's promise)
    predicted: bool = True

    def as_dict(self) -> dict[str, Any]:
        return {"number": self.number, "carrier_promise": self.promised.isoformat(), "median": self.median.isoformat(),
                "p90": self.p90.isoformat(), "late_chance": round(self.late_share, 3), "at_risk": self.at_risk,
                "predicted": self.predicted, "why": self.why}

    @property
    def label(self) -> str:
        """Short words for a list: "AT RISK 41% late", "12% late", "on time"."""
        pct = round(100 * self.late_share)
        return f"{'AT RISK ' if self.at_risk else ''}{pct}% late" if self.late_share > 0 else \
            ("AT RISK" if self.at_risk else "on time")


def risks(session: Session, path: Path | None, shipment_ids: list[str] | None = None, *,
          now: dt.datetime | None = None) -> tuple[list[Risk], str]:
    """Predictions for open shipments (or the open ones among those named: 32-hex ids), and a
    note when the model is not usable (then every time is the carrier's promise, never at risk).

    At risk: at least ``RISK_SHARE`` of the shipment's (shrunk) cell arrived after the carrier's
    promise, or its median arrival falls after the date promised to the customer. (Not the 90th
    percentile: on the demo's held-back deliveries it lay after the customer's date for 96 % of
    them, flags at the base rate; the median: precision 0.54 against a base rate of 0.34.)
    A shipment still on its way after a predicted time is not predicted to arrive in the past:
    the time moves to ``now``, and one past its 90th percentile is at risk (overdue)."""
    now = now or dt.datetime.now(dt.UTC)
    note = ""
    try:
        m: em.Model | None = load_model(path)
    except em.ModelUnusable as e:
        m, note = None, f"{e}; showing the carrier's promise"
    where = f" AND s.status IN ({', '.join(repr(s) for s in OPEN)}) AND s.delivered_at IS NULL"
    found: list[Row] = []
    if shipment_ids is None:
        found = rows(session, where)
    for lo in range(0, len(shipment_ids or ()), ID_CHUNK):  # SQLite's limit on bound variables
        chunk = (shipment_ids or [])[lo:lo + ID_CHUNK]
        names = [f"i{k}" for k in range(len(chunk))]
        found += rows(session, where + f" AND s.id IN ({', '.join(':' + n for n in names)})",
                      dict(zip(names, chunk, strict=True)))
    out = []
    for r in found:
        if m is None:
            out.append(Risk(r.id, r.number, r.shipment.promised, r.shipment.promised, r.shipment.promised, 0.0, False,
                            note, predicted=False))
            continue
        p = em.predict(m, r.shipment)
        src = "the service's transit days" if r.promise_from_service else "the carrier's promise"
        why = f"{p.reason}; {round(100 * p.late_share)}% arrived after {src}"
        at_risk = p.at_risk
        median, p90 = max(p.median, now), max(p.p90, now)
        if now > p.p90:
            at_risk = True
            why += f"; still on its way after its 90th-percentile arrival ({p.p90.astimezone():%a %d %b %H:%M}): overdue"
        elif now > p.median:
            why += f"; past its median arrival ({p.median.astimezone():%a %d %b %H:%M})"
        if r.customer_promise is not None and median.astimezone().date() > r.customer_promise:
            at_risk = True
            why += f"; more likely than not after the {r.customer_promise:%a %d %b} promised to the customer"
        out.append(Risk(r.id, r.number, r.shipment.promised, median, p90, p.late_share, at_risk, why))
    return out, note
