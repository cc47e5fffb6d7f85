"""The forecast run over a branch database, and replenishment using it (the why names it)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.forecasting import DemandForecast, ForecastRun
from app.services.forecast import demand
from app.services.replenishment import run
from tests.factories import World
from tests.services.test_replenishment import stock_and_sales

TODAY = dt.date(2026, 11, 26)


def _sell(session: Session, w: World, sku: str, weekly: tuple[int, ...], on_hand_after: int = 5) -> None:
    start = TODAY - dt.timedelta(days=7 * len(weekly) + TODAY.weekday())
    stock_and_sales(session, w, sku, w.wh_dal, on_hand_after=on_hand_after, weekly=weekly, start=start)


def test_run_stores_forecasts_and_replenishment_names_them(session: Session, world: World) -> None:
    _sell(session, world, "BOLT", tuple(60 + (k % 4) * 10 for k in range(40)))  # smooth, 75/week on average
    _sell(session, world, "WIDGET", tuple(24 if k % 3 == 0 else 0 for k in range(40)))  # intermittent
    session.commit()
    res = demand.run_forecasts(session, None, today=TODAY, weeks=52, horizon=8)
    assert res.series == 2
    assert res.classes == {"smooth": 1, "intermittent": 1}
    assert res.origin_week == dt.date(2026, 11, 23)
    rows = {r.klass: r for r in session.scalars(select(DemandForecast))}
    assert rows["smooth"].weeks_known == 40 and rows["smooth"].mae is not None
    bolt = demand.pair_forecast(session, "BOLT", "DAL1")
    assert bolt is not None and len(bolt.weekly) == 8
    assert 60 <= sum(bolt.weekly) / 8 <= 90
    assert bolt.mase is not None and bolt.mase < 1.5
    assert demand.pair_forecast(session, "MILK", "DAL1") is None
    acc = demand.accuracy(session)
    assert acc.series == 2 and "MASE" in acc.text

    recs = {r.sku: r for r in run(session, None, today=TODAY, history_weeks=26).recommendations}
    why = recs["BOLT"].why
    assert why.demand_source == "forecast" and why.forecast_class == "smooth"
    assert why.forecast_method in ("median combination", "SES", "Theta", "damped trend", "naive", "seasonal naive")
    assert why.d * 7 == pytest.approx(sum(bolt.weekly[:why.forecast_weeks]) / why.forecast_weeks, rel=1e-4)
    assert why.forecast_mae == pytest.approx(bolt.mae)
    # the buyer can still ask for the history-based figures
    plain = {r.sku: r for r in run(session, None, today=TODAY, history_weeks=26, use_forecasts=False).recommendations}
    assert plain["BOLT"].why.demand_source == "history"


def test_no_sales_says_so_and_a_second_run_replaces_the_first(session: Session, world: World) -> None:
    res = demand.run_forecasts(session, None, today=TODAY)
    assert res.series == 0 and "nothing to forecast" in res.notes[0]
    assert demand.accuracy(session).text.endswith("none had enough history for a backtest")
    _sell(session, world, "BOLT", (5, 0, 7, 3))
    demand.run_forecasts(session, None, today=TODAY)
    demand.run_forecasts(session, None, today=TODAY)
    assert session.scalar(select(func.count()).select_from(DemandForecast)) == 1
    assert session.scalar(select(func.count()).select_from(ForecastRun)) == 3
    f = demand.pair_forecast(session, "BOLT", "DAL1")
    assert f is not None and f.klass == "too short" and "too short" in f.reason


def test_a_stale_forecast_is_not_used(session: Session, world: World) -> None:
    _sell(session, world, "BOLT", tuple(70 for _ in range(30)), on_hand_after=0)
    demand.run_forecasts(session, None, today=TODAY, horizon=4)
    later = TODAY + dt.timedelta(weeks=6)
    recs = {r.sku: r for r in run(session, None, today=later).recommendations}
    assert recs["BOLT"].why.demand_source == "history"


def test_permission(session: Session, world: World) -> None:
    from app.services.errors import PermissionDenied

    with pytest.raises(PermissionDenied):
        demand.run_forecasts(session, world.actors["rita"], today=TODAY)
