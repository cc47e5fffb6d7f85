"""Anomaly alerts: the robust detectors on injected anomalies, and the scan into the inbox."""

from __future__ import annotations

import datetime as dt

import numpy as np
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.services.anomaly import detect, injected, scan
from tests.factories import World
from tests.services.test_forecast_demand import TODAY, _sell


def test_precision_and_recall_on_injected_anomalies() -> None:
    totals: dict[str, np.ndarray] = {}
    for seed in (1, 2, 3):
        for k, v in injected.synthetic(seed).items():
            totals[k] = totals.get(k, np.zeros(3)) + [v["injected"], v["found"], v["true"]]
    for kind, (inj, found, true) in totals.items():
        precision, recall = true / found, true / inj
        assert precision >= 0.8, (kind, precision)
        assert recall >= {"lead_time_drift": 0.5, "pick_errors": 0.7}.get(kind, 0.85), (kind, recall)


def test_a_past_outlier_does_not_hide_a_spike_and_zeros_are_not_spikes() -> None:
    hist = np.array([[10.0] * 25 + [400.0], [0.0] * 26, [0.0, 5.0] * 13])
    found = detect.demand_spikes([("a",), ("b",), ("c",)], hist, np.array([900.0, 0.0, 6.0]))
    assert [f.key for f in found] == [("a",)]
    assert "robust deviations above" in found[0].why and found[0].baseline == 10.0


def test_freight_judges_a_shipment_against_what_its_lane_charges_for_its_size() -> None:
    # a lane charging 10 per shipment + 0.5 per unit: parcels cost more per unit than pallets
    rng = np.random.default_rng(4)
    units = np.concatenate([rng.integers(1, 300, 60), [2, 200, 150]]).astype(np.float64)
    cost = (10 + 0.5 * units) * rng.lognormal(0, 0.1, len(units))
    cost[-1] *= 3.5  # last week's 150-unit shipment billed 3.5x
    refs = [f"S{k}" for k in range(len(units))]
    judged = np.zeros(len(units), dtype=bool)
    judged[-3:] = True
    found = detect.freight_cost(["L"] * len(units), refs, cost / units, units=units, score=judged)
    assert [f.key for f in found] == [("L", "S62")]  # not the 2-unit parcel at 5.5 a unit
    assert "for 150 units" in found[0].why and "robust deviations" in found[0].why
    # without the sizes the parcel looks like an overcharge and the real one hides among pallets
    naive = {f.key for f in detect.freight_cost(["L"] * len(units), refs, cost / units, score=judged)}
    assert ("L", "S60") in naive


def test_lead_time_drift_says_how_much() -> None:
    old = np.array([10.0, 11, 9, 10, 12, 10, 11, 9])
    f = detect.lead_time_drift(["ACME"], [old], [np.array([18.0, 19, 17, 20])])
    assert len(f) == 1 and "lead time 10 -> 18.5 days (8.5 days longer" in f[0].why
    assert detect.lead_time_drift(["ACME"], [old], [np.array([10.0, 11, 10])]) == []
    assert detect.lead_time_drift(["ACME"], [old[:3]], [np.array([30.0, 31, 30])]) == []  # too little history


def test_scan_raises_once_per_week_with_why(session: Session, world: World) -> None:
    _sell(session, world, "BOLT", tuple([20] * 25 + [260]))
    session.commit()
    res = scan.scan(session, world.actors["alice"], today=TODAY)
    assert res.raised == 1
    # no shipment carries freight, nothing was picked: the two detectors say so
    assert any(n.startswith("freight cost per unit: no shipment") for n in res.notes)
    assert any(n.startswith("pick errors: no confirmed picks") for n in res.notes)
    item = session.scalars(select(ExceptionItem).where(ExceptionItem.kind == "anomaly.demand_spike")).one()
    assert item.title == "Demand spike: BOLT at DAL1" and item.role == "buyer"
    assert "260 sold last week against a usual 20" in item.detail
    again = scan.scan(session, None, today=TODAY)
    assert again.raised == 0 and len(again.findings) == 1
    assert scan.scan(session, None, today=TODAY + dt.timedelta(days=7), raise_alerts=False).findings == []


def test_seeded_injection_is_rolled_back_by_the_caller(session: Session, world: World) -> None:
    _sell(session, world, "BOLT", tuple(20 + k % 3 for k in range(30)))
    _sell(session, world, "WIDGET", tuple(12 if k % 2 else 0 for k in range(30)))
    session.commit()
    r = injected.seeded_spikes(session, TODAY, share=1.0)
    assert r["injected"] == 2 and r["recall"] == 1.0 and r["precision"] == 1.0
    session.rollback()
    assert scan.spikes(session, TODAY) == []


def test_the_daily_job_forecasts_and_scans_once_a_day(engine: object, session: Session, world: World) -> None:
    from app.models.forecasting import ForecastRun
    from app.services import jobs
    from app.services.anomaly import daily

    _sell(session, world, "BOLT", tuple([20] * 25 + [260]))
    session.commit()
    assert jobs.get("intelligence.daily") is daily.DAILY
    work = daily.due(session, TODAY)
    assert work is not None and len(work.found.findings) == 1
    res = daily.compute(work)  # no transaction needed
    report = daily.record(session, work, res)
    session.commit()
    assert (report.series, report.raised) == (1, 1)
    assert daily.due(session, dt.date.today()) is None  # today's run is there: nothing to do
    assert session.scalar(select(func.count()).select_from(ForecastRun)) == 1


def test_a_branch_workstation_raises_only_its_own_branchs_alerts(engine: object, session: Session,
                                                                 world: World) -> None:
    from app.services.anomaly import scan as sc
    from tests.factories import become_branch_site, load_world
    from tests.services.test_replenishment import stock_and_sales

    start = TODAY - dt.timedelta(days=7 * 26 + TODAY.weekday())
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=5, weekly=tuple([20] * 25 + [260]), start=start)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=5, weekly=tuple([20] * 25 + [300]),
                    start=start)
    session.commit()
    become_branch_site(engine, world.dal)  # type: ignore[arg-type]
    with Session(engine) as s:  # type: ignore[arg-type]
        load_world(s)
        res = sc.scan(s, None, today=TODAY)
        s.commit()
        assert len(res.findings) == 2 and res.raised == 1
        assert "1 findings of other branches are raised by their own workstations" in res.notes
        item = s.scalars(select(ExceptionItem).where(ExceptionItem.kind == "anomaly.demand_spike")).one()
        assert item.title == "Demand spike: WIDGET at DAL1" and item.entity_ref == "WIDGET at DAL1"


def test_a_thin_baseline_needs_a_bigger_jump_than_a_thick_one() -> None:
    # the large seed's last week per picker: (past errors, past picks, errors, picks); the past is
    # ~120 picks each; zone CHL's 30 % shorts at HOU1 moved every HOU1 picker's rate a little, and
    # one DAL1 picker (seeded) jumped from nothing to 8.5 %
    counts = {"dispatcher@DAL1": (0, 133, 176, 2068), "manager@DAL1": (1, 128, 13, 2055),
              "receiver@DAL1": (3, 132, 26, 2013), "warehouse@DAL1": (1, 116, 20, 2008),
              "dispatcher@HOU1": (0, 118, 38, 1747), "manager@HOU1": (2, 102, 45, 1768),
              "receiver@HOU1": (2, 121, 61, 1750), "warehouse@HOU1": (1, 106, 53, 1836)}
    keys = list(counts)
    a = np.array(list(counts.values()), dtype=float)
    assert {f.key[0] for f in detect.pick_errors(keys, a[:, 0], a[:, 1], a[:, 2], a[:, 3])} == {"dispatcher@DAL1"}
    by_warehouse = [k.split("@")[1] for k in keys]
    found = detect.pick_errors(keys, a[:, 0], a[:, 1], a[:, 2], a[:, 3], groups=by_warehouse)
    assert [f.key[0] for f in found] == ["dispatcher@DAL1"] and "shrunk toward" in found[0].why
    # the same past rates over twenty times the picks: the same HOU1 jumps are news
    thick = a.copy()
    thick[:, :2] *= 20
    found_thick = {f.key[0] for f in detect.pick_errors(keys, thick[:, 0], thick[:, 1], thick[:, 2], thick[:, 3],
                                                         groups=by_warehouse)}
    assert {"dispatcher@DAL1", "dispatcher@HOU1", "warehouse@HOU1"} <= found_thick
