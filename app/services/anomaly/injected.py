"""Precision and recall of the detectors on anomalies injected into data whose truth is known.

``synthetic(seed)`` makes data shaped like a distributor's (smooth and intermittent weekly
demand, gamma lead times per supplier, skewed freight costs per lane, binomial pick errors),
injects anomalies of realistic size into a few percent of it and scores every detector.
``seeded_spikes(session, ...)`` injects demand spikes into the database's own weekly demand
(inside the caller's transaction, which the caller rolls back) and scores the scan on it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Set as AbstractSet
from typing import Any

import numpy as np
from sqlalchemy.orm import Session

from app.services.anomaly import detect, scan
from app.services.db import hex_raw_rows as raw_rows


def _score(found: AbstractSet[tuple[str, ...]], injected: AbstractSet[tuple[str, ...]]) -> dict[str, Any]:
    p, r = detect.precision_recall(found, injected)
    return {"injected": len(injected), "found": len(found), "true": len(found & injected),
            "precision": round(p, 3), "recall": round(r, 3)}


def synthetic(seed: int = 1, pairs: int = 3000) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    out: dict[str, Any] = {}
    # demand: 26 weeks of history + the week under test
    lam = rng.lognormal(1.5, 1.2, pairs)
    p = rng.uniform(0.15, 1.0, pairs)
    Y = np.where(rng.random((pairs, 27)) < p[:, None], rng.poisson(lam[:, None] / p[:, None], (pairs, 27)), 0)
    Y = Y.astype(np.float64)
    inj = rng.choice(pairs, pairs // 50, replace=False)
    usual = np.maximum(np.median(Y[inj, :26], axis=1), Y[inj, :26].mean(axis=1))
    Y[inj, 26] = np.ceil(np.maximum(usual, 3.0) * rng.uniform(5, 12, len(inj)) + 10)
    keys = [(f"P{i}",) for i in range(pairs)]
    found = {f.key for f in detect.demand_spikes(keys, Y[:, :26], Y[:, 26])}
    out["demand_spike"] = _score(found, {keys[i] for i in inj})
    # lead times: 60 suppliers, 5-40 older receipts, 3-8 recent; a fifth drift by 4-10 days
    sups = [f"S{i}" for i in range(60)]
    older, recent, drift = [], [], set()
    for i, s in enumerate(sups):
        base = rng.uniform(4, 30)
        shape = rng.uniform(4, 12)
        older.append(rng.gamma(shape, base / shape, int(rng.integers(5, 40))).round())
        new = rng.gamma(shape, base / shape, int(rng.integers(3, 9)))
        if i % 5 == 0:
            new = new + rng.uniform(4, 10) + 0.25 * base
            drift.add((s,))
        recent.append(new.round())
    found = {f.key for f in detect.lead_time_drift(sups, older, recent)}
    out["lead_time_drift"] = _score(found, drift)
    # freight: 20 lanes x 40 shipments of 1-400 units; a lane charges a fixed part per shipment and
    # a rate per unit (so a parcel costs more per unit than a pallet), lognormal noise; 2 % of the
    # shipments cost 2.5-5x what their lane charges for their size
    lanes, refs, costs, sizes, bad = [], [], [], [], set()
    frng = np.random.default_rng([seed, 4])  # its own stream: the pick data below is what it was
    for ln in range(20):
        fixed, per_unit = float(frng.uniform(5, 25)), float(frng.uniform(0.1, 1.5))
        for k in range(40):
            u = float(np.ceil(frng.lognormal(2.5, 1.2)).clip(1, 400))
            c = (fixed + per_unit * u) / u * float(frng.lognormal(0, 0.15))
            ref = f"SH{ln}-{k}"
            if frng.random() < 0.02:
                c *= frng.uniform(2.5, 5)
                bad.add((f"L{ln}", ref))
            lanes.append(f"L{ln}")
            refs.append(ref)
            costs.append(c)
            sizes.append(u)
    for _ln in range(20):  # the draws the freight data took from this stream before it had its own
        rng.uniform(0.2, 3.0)
        for _k in range(40):
            rng.lognormal(0, 0.15)
            if rng.random() < 0.02:
                rng.uniform(2.5, 5)
    found = {f.key for f in detect.freight_cost(lanes, refs, np.array(costs), units=np.array(sizes))}
    out["freight_cost"] = _score(found, bad)
    # picks: 80 pickers, 2,000-8,000 past picks at 0.2-1.5 %, 200-600 picks this week; 10 % triple
    n = 80
    rate = rng.uniform(0.002, 0.015, n)
    bp = rng.integers(2000, 8000, n).astype(np.float64)
    be = rng.binomial(bp.astype(int), rate).astype(np.float64)
    pk = rng.integers(200, 600, n).astype(np.float64)
    jump = rng.random(n) < 0.1
    er = rng.binomial(pk.astype(int), np.where(jump, rate * rng.uniform(3, 6, n), rate)).astype(np.float64)
    pick_keys = [f"picker{i}" for i in range(n)]
    found = {f.key for f in detect.pick_errors(pick_keys, be, bp, er, pk)}
    out["pick_errors"] = _score(found, {(pick_keys[i],) for i in np.nonzero(jump)[0]})
    return out


def seeded_spikes(session: Session, today: dt.date, *, share: float = 0.02, seed: int = 1) -> dict[str, Any]:
    """Inject spikes into last week's demand of ``share`` of the pairs that sold, then scan.

    Writes into ``sales_week`` in the caller's transaction: the caller rolls it back."""
    rng = np.random.default_rng(seed)
    w1 = scan.week_of(today)
    rows = raw_rows(session, "SELECT item_id, warehouse_id, SUM(qty), COUNT(*) FROM sales_week"
                              " WHERE week >= :w0 AND week < :w1 GROUP BY item_id, warehouse_id",
                     {"w0": w1 - 1 - scan.SPIKE_HISTORY_WEEKS, "w1": w1 - 1})
    if not rows:
        return {"injected": 0, "found": 0, "precision": None, "recall": None, "note": "no demand history to inject into"}
    before = {f.key for f, _t, _b in scan.spikes(session, today)}
    pick = rng.choice(len(rows), max(1, int(len(rows) * share)), replace=False)
    injected = set()
    for k in pick:
        it, wh, total, _n = rows[int(k)]
        mean = float(total) / scan.SPIKE_HISTORY_WEEKS
        extra = int(np.ceil(max(mean, 3.0) * rng.uniform(5, 12) + 10))
        raw_rows(session, "INSERT INTO sales_week (item_id, warehouse_id, week, qty) VALUES (:i, :w, :k, :q)"
                           " ON CONFLICT (item_id, warehouse_id, week) DO UPDATE SET qty = qty + excluded.qty",
                  {"i": it, "w": wh, "k": w1 - 1, "q": extra})
        injected.add((str(it), str(wh)))
    found = {f.key for f, _t, _b in scan.spikes(session, today)}
    res = _score(found - before, injected)
    res["pairs"] = len(rows)
    res["already_flagged"] = len(before)
    return res


def seeded_freight(session: Session, today: dt.date, *, share: float = 0.1, seed: int = 1) -> dict[str, Any]:
    """Bill ``share`` of last week's shipments (at least 3) 2.5-5x their freight, then scan.

    Writes into ``shipment`` in the caller's transaction: the caller rolls it back."""
    rng = np.random.default_rng(seed)
    w = scan.week_of(today) - 1
    rows = raw_rows(session, "SELECT s.id, s.number FROM shipment s WHERE s.deleted_at IS NULL"
                              " AND COALESCE(s.freight_billed, s.freight_quoted) > 0"
                              " AND s.shipped_at >= :a AND s.shipped_at < :b ORDER BY s.number",
                     {"a": scan._iso(scan.week_start(w)), "b": scan._iso(scan.week_start(w + 1))})
    found_before, _note = scan.freight(session, today)
    before = {f.key[1] for f, _t, _b in found_before}
    rows = [r for r in rows if str(r[1]) not in before]
    if not rows:
        return {"injected": 0, "found": 0, "precision": None, "recall": None,
                "note": "no shipment with a freight cost last week to inject into"}
    pick = rng.choice(len(rows), min(len(rows), max(3, int(len(rows) * share))), replace=False)
    injected = set()
    for k in pick:
        sid, number = rows[int(k)]
        raw_rows(session, "UPDATE shipment SET freight_billed = CAST(COALESCE(freight_billed, freight_quoted) * :f"
                           " AS INTEGER) WHERE id = :i", {"f": float(rng.uniform(2.5, 5.0)), "i": sid})
        injected.add(str(number))
    after, _note = scan.freight(session, today)
    res = _score({(f.key[1],) for f, _t, _b in after if f.key[1] not in before}, {(k,) for k in injected})
    res["shipments_last_week"] = len(rows) + len(before)
    res["already_flagged"] = len(before)
    return res


def seeded_pick_errors(session: Session, today: dt.date, *, share: float = 0.25, seed: int = 1) -> dict[str, Any]:
    """Make ``share`` of last week's pickers (per warehouse, with 50 picks or more, not flagged
    already) short on 4-8x their usual share of lines (at least 3), then scan; only picker
    findings are scored (a picker's extra errors also move their zone's rate).

    Writes into ``pick_line`` in the caller's transaction: the caller rolls it back."""
    rng = np.random.default_rng(seed)
    w = scan.week_of(today) - 1
    recent = scan._iso(scan.week_start(w))
    params: dict[str, object] = {"start": scan._iso(scan.week_start(w) - dt.timedelta(weeks=scan.PICK_HISTORY_WEEKS)),
                                 "recent": recent, "end": scan._iso(scan.week_start(w + 1))}
    counts = scan._pick_counts(session, "COALESCE(u.username, '?')", params)
    found_before, _note = scan.pick_errors(session, today)
    before = {f.key[0] for f, _t, _b in found_before}
    cands = [r for r in counts if (r[6] or 0) >= 50 and f"picker:{r[0]}@{r[1]}" not in before]
    if not cands:
        return {"injected": 0, "found": 0, "precision": None, "recall": None,
                "note": "no picker with 50 picks last week to inject into"}
    pick = rng.choice(len(cands), max(1, int(round(len(cands) * share))), replace=False)
    injected = set()
    for k in pick:
        name, wcode, _b, be, bp, er, pk = cands[int(k)]
        usual = (float(be or 0) + 0.5) / (float(bp or 0) + 1.0)
        extra = max(3, int(np.ceil(float(pk) * usual * rng.uniform(4, 8)))) - int(er or 0)
        ids = raw_rows(session, (
            "SELECT p.id FROM pick_line p JOIN wave wv ON wv.id = p.wave_id JOIN warehouse w ON w.id = wv.warehouse_id"
            " JOIN app_user u ON u.id = p.picked_by_id WHERE u.username = :n AND w.code = :w AND p.status = 'picked'"
            " AND p.picked_at >= :recent AND p.picked_at < :end ORDER BY p.id"),
            {"n": name, "w": wcode, "recent": recent, "end": params["end"]})
        for (pid,) in ids[:max(extra, 0)]:
            raw_rows(session, "UPDATE pick_line SET status = 'short', qty_picked = MAX(qty - 1, 0),"
                               " short_reason = 'not_found: injected' WHERE id = :i", {"i": pid})
        injected.add(f"picker:{name}@{wcode}")
    after, _note = scan.pick_errors(session, today)
    found = {f.key[0] for f, _t, _b in after if f.key[0].startswith("picker:")} - before
    res = _score({(k,) for k in found}, {(k,) for k in injected})
    res["pickers_last_week"] = len([r for r in counts if r[6]])
    res["already_flagged"] = len([k for k in before if k.startswith("picker:")])
    return res
