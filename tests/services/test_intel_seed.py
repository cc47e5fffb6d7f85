"""Issue 18 on the demo seed: forecasts made at seeding feed the worklist, delivered history trains
ETA (evaluated against the carrier's promise), spikes injected into the seeded demand are found."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.forecasting import DemandForecast, ForecastRun
from app.models.shipping import Shipment
from app.services.anomaly import injected, scan
from app.services.db import open_database
from app.services.eta import service as eta
from app.services.replenishment import run
from app.services.seed import SeedReport, seed_database

TODAY = dt.date(2026, 11, 26)


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory) -> SeedReport:
    return seed_database(tmp_path_factory.mktemp("intel") / "demo.db", "demo", seed=3, today=TODAY)


@pytest.fixture
def s(seeded: SeedReport) -> Iterator[Session]:
    engine: Engine = open_database(seeded.path)
    with Session(engine) as session:
        yield session
        session.rollback()
    engine.dispose()


def test_seeded_forecasts_drive_the_worklist(s: Session) -> None:
    assert s.scalar(select(func.count()).select_from(DemandForecast)) > 1000
    recs = run(s, None, today=TODAY).recommendations
    from_forecast = [r for r in recs if r.why.demand_source == "forecast"]
    assert len(from_forecast) > 0.8 * len(recs) > 0
    w = from_forecast[0].why
    assert w.forecast_method and w.forecast_class in ("smooth", "erratic", "intermittent", "lumpy", "too short")


def test_eta_on_the_seeded_history(s: Session, seeded: SeedReport, tmp_path: Path) -> None:
    delivered = s.scalar(select(func.count()).select_from(Shipment).where(Shipment.status == "delivered"))
    assert delivered and delivered >= 3000
    rep = eta.evaluate(s)
    assert rep["held_back"] == pytest.approx(0.2 * rep["shipments"], abs=1)
    assert rep["mae_days"] <= rep["carrier_mae_days"]
    assert 0.8 <= rep["p90_coverage"] <= 0.97
    assert rep["at_risk_precision"] > rep["late_share"]  # flags pick out the late ones better than chance
    # the seed trained the model the Tracking screen reads, next to the database
    seeded_model = eta.model_path(seeded.path)
    assert seeded_model.exists() and eta.load_model(seeded_model).shipments == delivered
    model = tmp_path / "m.json"
    eta.train(s, None, model)
    risks, note = eta.risks(s, model)
    assert note == "" and len(risks) == 40 and all(r.p90 >= r.median for r in risks)
    assert all("past shipments at level" in r.why for r in risks)
    doc = json.loads(model.read_text())
    doc["version"] = 1
    model.write_text(json.dumps(doc))
    risks, note = eta.risks(s, model)
    assert "model version 1" in note and all(r.median == r.promised and not r.at_risk for r in risks)


def test_spikes_injected_into_seeded_demand_are_found(s: Session) -> None:
    r = injected.seeded_spikes(s, TODAY, seed=5)
    assert r["injected"] >= 20
    assert r["recall"] >= 0.8 and r["precision"] >= 0.9


def test_the_seed_makes_freight_and_pick_error_alerts_and_injections_are_found(s: Session) -> None:
    res = scan.find(s, TODAY)
    kinds = [f.kind for f, _t, _b in res.findings]
    # the seed bills three of last week's shipments 2.5-4x and makes one picker and one zone jump
    assert kinds.count("freight_cost") >= 3
    titles = [t for f, t, _b in res.findings if f.kind == "pick_errors"]
    assert any(t.startswith("Pick errors: zone CHL at ") for t in titles)
    assert any(not t.startswith("Pick errors: zone ") for t in titles)
    assert not any("not read" in n for n in res.notes)
    f = injected.seeded_freight(s, TODAY, seed=2)
    s.rollback()
    assert f["injected"] >= 3 and f["precision"] >= 0.8 and f["recall"] >= 0.8
    p = injected.seeded_pick_errors(s, TODAY, seed=2)
    s.rollback()
    assert p["injected"] >= 2 and p["precision"] >= 0.8 and p["recall"] >= 0.5


def test_the_dashboards_forecast_accuracy_on_the_seed_is_the_runs_error_against_demand(s: Session) -> None:
    import numpy as np

    from app.services.forecast import demand
    from app.services.kpi.compute import compute
    from app.services.kpi.scope import make_scope

    run = s.scalars(select(ForecastRun).order_by(ForecastRun.run_at.desc())).first()
    assert run is not None
    rel = json.loads(run.detail)["rel_mae_to_demand"]
    # recomputed from the stored forecasts' backtest errors and the weekly history they came from
    hist = demand.weekly_history(s, TODAY)
    maes = {(r.item_id.hex, r.warehouse_id.hex): r.mae for r in s.scalars(select(DemandForecast))}
    means = np.nanmean(np.maximum(hist.Y, 0.0), axis=1)
    pairs = [(m, maes[p]) for p, m in zip(hist.pairs, means, strict=True) if maes.get(p) is not None]
    assert rel == pytest.approx(sum(e for _m, e in pairs) / sum(m for m, _e in pairs), rel=1e-3)
    scope = make_scope(s, period="3m", today=run.run_at.date(), bucket="month")  # the run is dated when seeded
    tile = {f.key: f for f in compute(s, scope)}["forecast_accuracy"]
    assert tile.state == "ok" and tile.value == pytest.approx(100 * (1 - rel), abs=0.01)
