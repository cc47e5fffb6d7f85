"""The Tracking screen shows the ETA model's prediction: median and 90th-percentile arrival in
their own column, and the model's at-risk flag in the risk column where the rule (promised date,
carrier ETA, trouble) sees nothing yet; without a model the column is empty and says why."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.eta import service as eta
from app.services.tracking import queries
from app.views.context import make_test_context
from app.views.tracking.models import PREDICTED_COLUMN, RISK_COLUMN
from app.views.tracking.screen import TrackingScreen
from tests.tracking_world import TrackWorld

NOW = dt.datetime.now(dt.UTC).replace(microsecond=0)
TODAY = NOW.date()


def _history(tw: TrackWorld, session: Session, late_days: float) -> None:
    """30 delivered shipments on the world's one lane, each ``late_days`` after the carrier's promise."""
    for k in range(30):
        s = tw.ship(session, f"SBX{900000000000 + k}", status="delivered", promised=TODAY - dt.timedelta(days=40 - k))
        s.shipped_at = NOW - dt.timedelta(days=60 - k, hours=k % 5)
        s.eta = s.shipped_at + dt.timedelta(days=2)
        s.delivered_at = s.eta + dt.timedelta(days=late_days)
    session.commit()


def _screen(qtbot: QtBot, tw: TrackWorld) -> TrackingScreen:
    screen = TrackingScreen(make_test_context(tw.engine, tw.world.actors["mike"], tw.settings))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() > 0, timeout=10_000)
    return screen


def test_the_risk_column_carries_the_eta_models_flag_and_the_predicted_arrival(
        qtbot: QtBot, tw: TrackWorld, session: Session) -> None:
    _history(tw, session, late_days=2.0)
    late = tw.ship(session, "SBX000000000501", status="in_transit", promised=TODAY - dt.timedelta(days=1))
    fine = tw.ship(session, "SBX000000000502", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    late.eta = fine.eta = NOW + dt.timedelta(days=1)
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None
    eta.train(session, None, path)

    screen = _screen(qtbot, tw)
    rows = {screen.model.row(r).number: r for r in range(screen.model.rowCount())}
    assert set(rows) == {late.number, fine.number}
    r_fine, r_late = rows[fine.number], rows[late.number]
    # every past shipment came two days after the promise: the model says so for both open ones
    want = (NOW + dt.timedelta(days=3)).astimezone()
    assert screen.model.index(r_fine, PREDICTED_COLUMN).data() == f"{want:%d %b}"  # median and p90 one day
    # the rule sees nothing wrong with the second (promised in 9 days, carrier ETA tomorrow) ...
    assert screen.model.row(r_fine).risk == "on_time"
    # ... the model does: amber, and the tooltip says why and how sure
    risk = screen.model.index(r_fine, RISK_COLUMN)
    assert risk.data() == "at risk (ETA)"
    assert risk.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fff1c2"
    tip = risk.data(Qt.ItemDataRole.ToolTipRole)
    assert "AT RISK 100% late" in tip and f"median arrival {want:%a %d %b}" in tip
    assert "past shipments at level" in tip
    # the rule's own verdict stays where it has one
    assert screen.model.index(r_late, RISK_COLUMN).data() == "late"
    # the count line says how many more the model flags; the detail pane names the prediction
    qtbot.waitUntil(lambda: screen.count_label.text() == "2 shipments: 1 late, 1 at risk (1 by the ETA model), "
                                                         "0 on time")
    screen.table.selectRow(r_fine)
    qtbot.waitUntil(lambda: screen.detail.detail is not None and screen.detail.detail.row.number == fine.number)
    header = screen.detail.header.text()
    assert "at risk (ETA)" in header and "ETA model: AT RISK 100% late" in header
    screen.ctx.runner.wait_idle()


def test_a_median_arrival_after_the_customers_promise_makes_it_at_risk(tw: TrackWorld, session: Session) -> None:
    _history(tw, session, late_days=-0.5)  # always early: the model alone flags nothing
    soon = tw.ship(session, "SBX000000000511", status="in_transit", promised=TODAY + dt.timedelta(days=1))
    later = tw.ship(session, "SBX000000000512", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    soon.eta = later.eta = NOW + dt.timedelta(days=4)
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None
    eta.train(session, None, path)
    rows, note = queries.with_predictions(session, queries.list_shipments(session))
    assert note == ""
    by = {r.number: r for r in rows}
    assert by[soon.number].predicted is not None and by[soon.number].predicted.at_risk
    assert "promised to the customer" in by[soon.number].predicted.why
    assert by[later.number].predicted is not None and not by[later.number].predicted.at_risk
    assert not by[later.number].model_at_risk
    assert by[later.number].to_dict()["predicted"]["p90"] >= by[later.number].to_dict()["predicted"]["median"]


def test_without_a_model_the_column_is_empty_and_says_why(qtbot: QtBot, tw: TrackWorld, session: Session) -> None:
    fine = tw.ship(session, "SBX000000000521", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None and not path.exists()
    screen = _screen(qtbot, tw)
    assert screen.model.row(0).number == fine.number
    assert screen.model.index(0, PREDICTED_COLUMN).data() == ""
    assert screen.model.index(0, RISK_COLUMN).data() == "on time"
    tip = screen.model.index(0, PREDICTED_COLUMN).data(Qt.ItemDataRole.ToolTipRole)
    assert "No predicted arrival" in tip and "depot eta train" in tip
    screen.ctx.runner.wait_idle()


def test_the_daily_job_trains_the_model_the_screen_reads(tw: TrackWorld, session: Session) -> None:
    from app.services.anomaly import daily

    _history(tw, session, late_days=1.0)
    path = eta.session_model_path(session)
    assert path is not None and not path.exists()
    work = daily.due(session, TODAY)
    assert work is not None and len(work.eta_rows) == 30
    session.rollback()
    daily.compute(work)  # no transaction open: the model is a file
    model = eta.load_model(path)
    assert model.shipments == 30


def test_a_shipment_past_its_90th_percentile_is_overdue_not_predicted_in_the_past(tw: TrackWorld,
                                                                                  session: Session) -> None:
    _history(tw, session, late_days=1.0)
    old = tw.ship(session, "SBX000000000531", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    old.shipped_at = NOW - dt.timedelta(days=10)
    old.eta = NOW - dt.timedelta(days=8)  # the model expects it a day after that
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None
    eta.train(session, None, path)
    [r], note = eta.risks(session, path, [old.id.hex], now=NOW)
    assert note == "" and r.median == NOW and r.p90 == NOW
    assert r.at_risk and "after its 90th-percentile arrival" in r.why and "overdue" in r.why


def test_scoring_many_named_shipments_stays_under_sqlites_variable_limit(tw: TrackWorld, session: Session) -> None:
    _history(tw, session, late_days=1.0)
    one = tw.ship(session, "SBX000000000541", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None
    eta.train(session, None, path)
    # SQLite's compiled-in default is 32,766 bound variables (999 before 3.32); this build allows
    # more, so the connection is held to the old default and given more ids than that
    dbapi = session.connection().connection.dbapi_connection
    assert isinstance(dbapi, sqlite3.Connection)
    dbapi.setlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER, 999)
    ids = [f"{k:032x}" for k in range(1_200)] + [one.id.hex]
    found, note = eta.risks(session, path, ids)
    assert note == "" and [r.number for r in found] == [one.number]


def test_the_at_risk_filter_and_the_late_first_order_include_the_models_flag(
        qtbot: QtBot, tw: TrackWorld, session: Session, db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import run

    _history(tw, session, late_days=2.0)  # 30 delivered on time for their customers (the rule: on time)
    late = tw.ship(session, "SBX000000000551", status="in_transit", promised=TODAY - dt.timedelta(days=1))
    fine = tw.ship(session, "SBX000000000552", status="in_transit", promised=TODAY + dt.timedelta(days=9))
    late.eta = fine.eta = NOW + dt.timedelta(days=1)
    session.commit()
    path = eta.session_model_path(session)
    assert path is not None
    eta.train(session, None, path)
    every = queries.Filter(view="all")
    # the rule calls the second on time; the model flags it (always two days after the carrier)
    assert [r.number for r in queries.list_shipments(session, queries.Filter(view="all", risk="at_risk"))] \
        == [fine.number]
    on_time = queries.list_shipments(session, queries.Filter(view="all", risk="on_time"))
    assert len(on_time) == 30 and fine.number not in {r.number for r in on_time}
    # late first, then at risk (here: the model's), then on time by promised date (all earlier than its)
    order = [r.number for r in queries.list_shipments(session, every)]
    assert order[:2] == [late.number, fine.number] and len(order) == 32
    counts = queries.count_shipments(session, every, with_model=True)
    assert (counts["late"], counts["at_risk"], counts["on_time"], counts["model_at_risk"], counts["total"]) \
        == (1, 1, 30, 1, 32)
    assert queries.count_shipments(session, queries.Filter(view="all", risk="at_risk"), with_model=True)["total"] == 1
    # the screen's "At risk" choice finds it
    screen = _screen(qtbot, tw)
    screen.risk.setCurrentIndex(screen.risk.findData("at_risk"))
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() == 1
                    and screen.model.row(0).number == fine.number)
    qtbot.waitUntil(lambda: screen.count_label.text() == "1 shipment: 0 late, 1 at risk (1 by the ETA model), 0 on time")
    screen.ctx.runner.wait_idle()
    # and so does `depot track list --risk at_risk`
    code = run(["--db", str(db_path), "track", "list", "--risk", "at_risk", "--json"])
    listing = json.loads(capsys.readouterr().out)
    assert code == 0 and [s["number"] for s in listing["shipments"]] == [fine.number]
    assert listing["counts"]["at_risk"] == 1 and listing["counts"]["model_at_risk"] == 1
