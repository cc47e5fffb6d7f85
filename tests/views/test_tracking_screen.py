"""The Tracking screen, driven like a dispatcher would: the list late first with coloured risk,
filters, the timeline and proof of delivery of a selected shipment, and "Poll now" asking the
real carrier sandbox on the poller's own thread while the window stays responsive."""

from __future__ import annotations

import datetime as dt

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.models.shipping import Shipment
from app.services.carriers.model import Outcome, ProofOfDelivery, TrackEvent, TrackResult
from app.services.tracking.poll_report import CycleReport
from app.views.context import make_test_context
from app.views.tracking.models import RISK_COLUMN
from app.views.tracking.poller import TrackingPoller
from app.views.tracking.screen import TrackingScreen
from tests.tracking_world import TrackWorld, find_numbers

T0 = dt.datetime.now(dt.UTC).replace(microsecond=0) - dt.timedelta(days=2)
TODAY = dt.datetime.now(dt.UTC).date()


def ev(hours: float, status: str, code: str, text: str, where: str = "MEMPHIS, TN") -> TrackEvent:
    return TrackEvent(T0 + dt.timedelta(hours=hours), status, code, text, where)


def _world(tw: TrackWorld, session: Session) -> dict[str, Shipment]:
    late = tw.ship(session, "SBX000000000201", status="in_transit", promised=TODAY - dt.timedelta(days=1))
    fine = tw.ship(session, "SBX000000000202", status="in_transit", promised=TODAY + dt.timedelta(days=5))
    done = tw.ship(session, "SBX000000000203", status="in_transit", promised=TODAY + dt.timedelta(days=2))
    ups = tw.ship(session, "1ZDEP0010000000204", carrier="UPS", status="in_transit", promised=TODAY + dt.timedelta(days=3))
    session.commit()
    tw.answer(session, TrackResult(late.tracking_number, Outcome.OK, "in_transit", events=[
        ev(1, "picked_up", "PU", "Picked up"), ev(9, "in_transit", "AR", "Arrived at FedEx location")]))
    tw.answer(session, TrackResult(fine.tracking_number, Outcome.OK, "in_transit", eta_date=TODAY + dt.timedelta(days=2),
                                   events=[ev(2, "picked_up", "PU", "Picked up")]))
    tw.answer(session, TrackResult(done.tracking_number, Outcome.OK, "delivered", events=[
        ev(3, "picked_up", "PU", "Picked up"), ev(30, "delivered", "DL", "Delivered", "ATLANTA, GA")],
        pod=ProofOfDelivery("R. CHEN", T0 + dt.timedelta(hours=30), "fedex:SIGNATURE_PROOF_OF_DELIVERY")))
    return {"late": late, "fine": fine, "done": done, "ups": ups}


def _screen(qtbot: QtBot, tw: TrackWorld, user: str) -> TrackingScreen:
    ctx = make_test_context(tw.engine, tw.world.actors[user], tw.settings)
    screen = TrackingScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() > 0, timeout=10_000)
    return screen


def _numbers(screen: TrackingScreen) -> list[str]:
    return [screen.model.row(r).number for r in range(screen.model.rowCount())]


def test_the_list_shows_late_first_with_coloured_risk_and_filters(qtbot: QtBot, qtmodeltester, tw: TrackWorld,  # noqa: ANN001
                                                                    session: Session) -> None:
    ships = _world(tw, session)
    screen = _screen(qtbot, tw, "mike")
    qtmodeltester.check(screen.model)
    # on the way (default view): the delivered one is not in it; the late one comes first
    assert _numbers(screen) == [ships["late"].number, ships["ups"].number, ships["fine"].number]
    late = screen.model.index(0, RISK_COLUMN)
    assert late.data() == "late" and late.data(Qt.ItemDataRole.BackgroundRole).color().name() == "#fde2e2"
    assert screen.model.index(2, RISK_COLUMN).data() == "on time"
    qtbot.waitUntil(lambda: screen.count_label.text().startswith("3 shipments: 1 late"))
    # the UPS shipment has never been polled: no ETA the day before its promise is not yet a risk
    screen.risk.setCurrentIndex(screen.risk.findData("late"))
    qtbot.waitUntil(lambda: _numbers(screen) == [ships["late"].number])
    screen.risk.setCurrentIndex(0)
    screen.view.setCurrentIndex(screen.view.findData("delivered"))
    qtbot.waitUntil(lambda: _numbers(screen) == [ships["done"].number])
    screen.view.setCurrentIndex(screen.view.findData("all"))
    qtbot.waitUntil(lambda: len(_numbers(screen)) == 4)
    qtbot.waitUntil(lambda: screen.carrier.count() == 3)  # All carriers, SANDBOX, UPS
    screen.carrier.setCurrentIndex(screen.carrier.findData("UPS"))
    qtbot.waitUntil(lambda: _numbers(screen) == [ships["ups"].number])
    screen.carrier.setCurrentIndex(0)
    qtbot.keyClicks(screen.search, "204")
    qtbot.waitUntil(lambda: _numbers(screen) == [ships["ups"].number])
    screen.search.clear()
    qtbot.keyClicks(screen.customer, "buildco")
    qtbot.waitUntil(lambda: len(_numbers(screen)) == 4)
    screen.ctx.runner.wait_idle()


def test_a_selected_shipment_shows_its_timeline_and_proof_of_delivery(qtbot: QtBot, tw: TrackWorld,
                                                                      session: Session) -> None:
    ships = _world(tw, session)
    screen = _screen(qtbot, tw, "alice")
    screen.view.setCurrentIndex(screen.view.findData("all"))
    qtbot.waitUntil(lambda: len(_numbers(screen)) == 4)
    row = _numbers(screen).index(ships["done"].number)
    screen.table.selectRow(row)
    qtbot.waitUntil(lambda: screen.detail.detail is not None and screen.detail.detail.row.number == ships["done"].number)
    pane = screen.detail
    assert "delivered" in pane.header.text() and ships["done"].tracking_number in pane.header.text()
    assert [pane.timeline.topLevelItem(i).text(1) for i in range(pane.timeline.topLevelItemCount())] == \
        ["delivered", "picked up"]
    assert pane.timeline.topLevelItem(0).font(1).bold()  # the event the shipment follows
    assert pane.pod_signed.text() == "R. CHEN" and pane.pod_where.text() == "ATLANTA, GA"
    assert pane.pod_image.text() == "fedex:SIGNATURE_PROOF_OF_DELIVERY"
    assert pane.tabs.tabText(2) == "Notices and cases (1)"  # the delivered notice
    # a search that finds nothing leaves no shipment selected: no count of the last one's notices
    qtbot.keyClicks(screen.search, "no such number")
    qtbot.waitUntil(lambda: _numbers(screen) == [] and pane.detail is None)
    assert pane.tabs.tabText(2) == "Notices and cases" and pane.notices.topLevelItemCount() == 0
    screen.search.clear()
    # a buyer may look but not ask the carrier
    assert not screen.poll_button.isEnabled()
    screen.ctx.runner.wait_idle()


def test_poll_now_asks_the_carrier_off_the_gui_thread(qtbot: QtBot, tw: TrackWorld, session: Session) -> None:
    [number] = find_numbers("SBX{:012d}", {"delivered"}, {"attempt", "delay", "exception"}, start=300)
    s = tw.ship(session, number, status="label_created", promised=TODAY + dt.timedelta(days=9))
    session.commit()
    tw.at_step(number, "depart")
    screen = _screen(qtbot, tw, "mike")
    poller = screen.poller
    assert isinstance(poller, TrackingPoller) and not poller.timer.isActive()  # no window: not started
    screen.table.selectRow(0)
    qtbot.waitUntil(lambda: screen.poll_button.isEnabled())
    reports: list[CycleReport] = []
    poller.cycle_done.connect(reports.append)
    qtbot.mouseClick(screen.poll_button, Qt.MouseButton.LeftButton)
    assert "Asking Depot carrier sandbox about" in screen.status.text()
    QApplication.processEvents()  # the window keeps painting while the carrier answers
    qtbot.waitUntil(lambda: bool(reports), timeout=15_000)
    assert reports[0].shipments == 1 and reports[0].outcomes == {"ok": 1}
    qtbot.waitUntil(lambda: screen.status.text().startswith(f"Polled {s.number}"))
    qtbot.waitUntil(lambda: screen.model.rowCount() == 1 and screen.model.row(0).status == "in_transit")
    qtbot.waitUntil(lambda: screen.detail.detail is not None and len(screen.detail.detail.timeline) >= 3)
    poller.stop()
    screen.ctx.runner.wait_idle()
