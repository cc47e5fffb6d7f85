"""Predictive ETA: lateness cells, fallbacks (no lane history, no/old/damaged model), evaluation."""

from __future__ import annotations

import datetime as dt
import json
import random
from pathlib import Path

import numpy as np
import pytest

from app.services.eta import model as em

MON = dt.datetime(2026, 3, 2, 10, 0, tzinfo=dt.UTC)


def ship(carrier: str = "UPS", service: str = "GND", origin: str = "DAL1", dest: str = "HOU",
         at: dt.datetime = MON) -> em.Shipment:
    return em.Shipment(carrier, service, origin, dest, at, at + dt.timedelta(days=3))


def history(n: int = 2000, seed: int = 3) -> tuple[list[em.Shipment], np.ndarray]:
    """UPS to HOU keeps its promise; FedEx to PHX is a day late; Friday afternoons wait the weekend."""
    rng = random.Random(seed)
    ships, late = [], []
    for k in range(n):
        carrier, dest = rng.choice([("UPS", "HOU"), ("FEDEX", "PHX")])
        at = MON + dt.timedelta(days=rng.randint(0, 60), hours=rng.choice((0, 6)))
        s = ship(carrier, "GND", "DAL1", dest, at)
        y = (1.0 if carrier == "FEDEX" else -0.2) + rng.gauss(0, 0.2)
        if at.weekday() == 4 and at.hour >= 15:
            y += 2.0
        ships.append(s)
        late.append(y)
        del k
    return ships, np.array(late)


def test_cells_learn_lanes_and_friday_afternoons() -> None:
    m = em.train(*history())
    ups = em.predict(m, ship("UPS", dest="HOU"))
    fedex = em.predict(m, ship("FEDEX", dest="PHX"))
    assert ups.median < ups.p90 < MON + dt.timedelta(days=3, hours=12)
    assert (fedex.median - (MON + dt.timedelta(days=3))).total_seconds() / 86400 == pytest.approx(1.0, abs=0.15)
    assert not ups.at_risk and fedex.at_risk
    fri = MON + dt.timedelta(days=4, hours=6)  # Friday 16:00
    late_fri = em.predict(m, ship("UPS", dest="HOU", at=fri))
    assert (late_fri.median - (fri + dt.timedelta(days=3))).total_seconds() / 86400 > 1.0
    assert late_fri.level in ("ship day", "season") and late_fri.at_risk


def test_no_lane_history_falls_back_and_says_so() -> None:
    m = em.train(*history())
    p = em.predict(m, ship("UPS", dest="ELP"))
    assert p.level == "carrier+service" and "no history for lane DAL1>ELP" in p.reason
    q = em.predict(m, ship("DHL", "EXP", dest="ELP"))
    assert q.level == "all" and "no history for this carrier and service" in q.reason
    empty = em.train([], np.array([]))
    r = em.predict(empty, ship())
    assert r.median == ship().promised and "holds no shipments" in r.reason


def test_model_files_old_damaged_or_missing_are_refused_with_a_reason(tmp_path: Path) -> None:
    m = em.train(*history(200))
    f = tmp_path / "m.json"
    m.save(f)
    assert em.load(f).shipments == 200
    doc = json.loads(f.read_text())
    doc["version"] = 1
    f.write_text(json.dumps(doc))
    with pytest.raises(em.ModelUnusable, match="from model version 1, this Depot reads version 2"):
        em.load(f)
    f.write_text("{not json")
    with pytest.raises(em.ModelUnusable, match="cannot be read"):
        em.load(f)
    with pytest.raises(em.ModelUnusable, match="no ETA model"):
        em.load(tmp_path / "none.json")
    f.write_text(json.dumps({"version": 2, "levels": [{"*": [1]}]}))
    with pytest.raises(em.ModelUnusable, match="damaged"):
        em.load(f)
