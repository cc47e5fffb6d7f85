"""Replenishment policies per pair (forecast by default where a forecast exists, computed, fixed
min/max), switching item by item, and the report of what each would have ordered (issue 18)."""

from __future__ import annotations

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.services.buying.policy_report import policy_report
from app.services.errors import PermissionDenied, ValidationError
from app.services.forecast import demand
from app.services.replenishment import run
from app.services.replenishment.policies import choose_policy, policy_of
from tests.factories import World
from tests.services.test_forecast_demand import TODAY, _sell


def _recs(session: Session) -> dict[str, object]:
    return {r.sku: r.why for r in run(session, None, today=TODAY, history_weeks=26).recommendations}


@pytest.fixture
def sold(session: Session, world: World) -> World:
    _sell(session, world, "BOLT", tuple(60 + (k % 4) * 10 for k in range(60)), on_hand_after=5)
    _sell(session, world, "WIDGET", tuple(24 if k % 3 == 0 else 0 for k in range(60)), on_hand_after=0)
    session.commit()
    demand.run_forecasts(session, None, today=TODAY, weeks=104)
    return world


def test_switching_a_pair_between_policies(session: Session, sold: World) -> None:
    alice = sold.actors["alice"]
    w = _recs(session)["BOLT"]
    assert (w.policy, w.policy_chosen, w.demand_source) == ("forecast", False, "forecast")  # type: ignore[attr-defined]
    choose_policy(session, alice, "DAL1", "BOLT", "computed")
    w = _recs(session)["BOLT"]
    assert (w.policy, w.policy_chosen, w.demand_source) == ("computed", True, "history")  # type: ignore[attr-defined]
    with pytest.raises(ValidationError, match="has no min/max yet: give both"):
        choose_policy(session, alice, "DAL1", "BOLT", "fixed_minmax")
    choose_policy(session, alice, "DAL1", "BOLT", "fixed_minmax", 500, 900)
    w = _recs(session)["BOLT"]
    assert (w.policy, w.rop, w.oul) == ("fixed_minmax", 500, 900)  # type: ignore[attr-defined]
    choose_policy(session, alice, "DAL1", "BOLT", "forecast")
    assert _recs(session)["BOLT"].policy == "forecast"  # type: ignore[attr-defined]
    back = choose_policy(session, alice, "DAL1", "BOLT", "fixed_minmax")  # switching back keeps the min/max
    assert (back.min_qty, back.max_qty) == (500, 900)
    with pytest.raises(ValidationError, match="only a fixed min/max policy takes a min and max"):
        choose_policy(session, alice, "DAL1", "BOLT", "computed", 1, 2)
    with pytest.raises(ValidationError, match="policy: 'magic' is not one of"):
        choose_policy(session, alice, "DAL1", "BOLT", "magic")
    with pytest.raises(PermissionDenied):
        choose_policy(session, sold.actors["rita"], "DAL1", "BOLT", "computed")
    row = policy_of(session, "DAL1", "BOLT")
    assert row is not None and row.policy == "fixed_minmax"
    assert policy_of(session, "DAL1", "WIDGET") is None


def test_forecast_policy_without_a_forecast_says_it_fell_back(session: Session, sold: World) -> None:
    choose_policy(session, sold.actors["alice"], "DAL1", "BOLT", "forecast")
    session.execute(text("DELETE FROM demand_forecast"))  # e.g. a file whose forecasts were never run
    w = _recs(session)["BOLT"]
    assert w.policy == "computed" and "forecast policy, but this pair has no current forecast" in w.forecast_note  # type: ignore[attr-defined]


def test_report_of_what_each_policy_would_have_ordered(session: Session, sold: World) -> None:
    choose_policy(session, sold.actors["alice"], "DAL1", "BOLT", "fixed_minmax", 100, 400)
    rep = policy_report(session, None, months=6, warehouse_code="DAL1", skus=["BOLT", "WIDGET"], today=TODAY)
    assert rep.weeks == 26 and rep.pairs == 2
    by = {o.policy: o for o in rep.outcomes}
    assert by["forecast"].pairs == 2 and by["fixed min/max"].pairs == 1
    for o in rep.outcomes:
        assert o.orders > 0 and o.units_ordered > 0 and o.fill_rate is not None and 0.5 < o.fill_rate <= 1.0
    bolt = next(p for p in rep.per_pair if p["sku"] == "BOLT")
    assert {"forecast", "computed", "fixed min/max"} <= set(bolt)
    # a max of 400 against ~75 a week and a 7-day lead time: few, large orders
    assert bolt["fixed min/max"]["orders"] < bolt["computed"]["orders"]
    with pytest.raises(ValidationError, match="months: 0 must be between 1 and 24"):
        policy_report(session, None, months=0)
    with pytest.raises(ValidationError, match="MILK sold nothing"):
        policy_report(session, None, skus=["MILK"], today=TODAY)
    assert "no pair in scope has a fixed min/max" in policy_report(
        session, None, warehouse_code="DAL1", skus=["WIDGET"], today=TODAY).notes[0]
