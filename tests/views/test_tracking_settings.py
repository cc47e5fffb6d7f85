"""Settings > Tracking as a manager and as a buyer: responses and cadence saved for the branch, a
notice template edited with a live preview (an unknown placeholder said at once and refused), and
one customer's notice address and choices."""

from __future__ import annotations

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.tracking import notices, policy
from app.views.context import make_test_context
from app.views.settings.tracking_page import TrackingSettingsPage
from tests.factories import World


def _page(qtbot: QtBot, engine, world: World, user: str) -> TrackingSettingsPage:  # noqa: ANN001
    page = TrackingSettingsPage(make_test_context(engine, world.actors[user]))
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.branch.count() == 2 and page.numbers["stale_days"].value() == 5)
    return page


def test_a_manager_changes_responses_cadence_and_a_template(qtbot: QtBot, engine, session: Session,  # noqa: ANN001
                                                            world: World) -> None:
    page = _page(qtbot, engine, world, "mike")
    assert [page.branch.itemText(i) for i in range(2)] == ["DAL Dallas", "HOU Houston"]
    page.checks["notice_eta"].setChecked(False)
    page.numbers["stale_days"].setValue(7)
    page.numbers["transit_minutes"].setValue(30)
    page.kind.setCurrentIndex(page.kind.findData("shipped"))
    page.subject.clear()
    qtbot.keyClicks(page.subject, "Shipped: $order via $carrir")
    assert "$carrir is not a placeholder" in page.preview.text()
    with qtbot.waitSignal(page.failed):
        page.save()
    assert "shipped subject: $carrir is not a placeholder" in page.status.text()
    assert policy.policy_for(session, world.dal.id).stale_days == 5  # nothing was saved
    page.subject.clear()
    qtbot.keyClicks(page.subject, "Shipped: $order via $carrier")
    assert "Shipped: DAL-SO-000123 via UPS" in page.preview.text()
    with qtbot.waitSignal(page.saved):
        page.save()
    session.rollback()  # a new snapshot: the page saved in its own transaction
    session.expire_all()
    session.info.pop("tracking_policy", None)
    saved = policy.policy_for(session, world.dal.id)
    assert (saved.notice_eta, saved.stale_days, saved.transit_minutes) == (False, 7, 30)
    assert saved.templates == {"shipped": {"subject": "Shipped: $order via $carrier",
                                           "body": page.body.toPlainText()}}
    assert policy.policy_for(session, world.hou.id).stale_days == 5  # another branch's policy is its own
    page.ctx.runner.wait_idle()


def test_a_customers_notice_address_and_choices(qtbot: QtBot, engine, session: Session, world: World) -> None:  # noqa: ANN001
    page = _page(qtbot, engine, world, "mike")
    qtbot.keyClicks(page.customer, "buildco")
    page.load_customer_prefs()
    qtbot.waitUntil(lambda: page.cust_status.text().startswith("BUILDCO"))
    assert all(box.isChecked() for box in page.cust_kinds.values())
    qtbot.keyClicks(page.cust_email, "not an address")
    with qtbot.waitSignal(page.failed):
        page.save_customer()
    assert "notice e-mail" in page.cust_status.text()
    page.cust_email.setText("tracking@buildco.example")
    page.cust_kinds["shipped"].setChecked(False)
    page.cust_kinds["eta"].setChecked(False)
    with qtbot.waitSignal(page.saved):
        page.save_customer()
    assert page.cust_status.text() == "saved: BUILDCO gets delivered, exception at tracking@buildco.example"
    session.rollback()  # a new snapshot: the page saved in its own transaction
    session.expire_all()
    prefs = notices.preferences(session, "BUILDCO")
    assert (prefs.email, prefs.events) == ("tracking@buildco.example", ("delivered", "exception"))
    page.ctx.runner.wait_idle()


def test_a_buyer_sees_the_settings_but_may_not_change_them(qtbot: QtBot, engine, world: World) -> None:  # noqa: ANN001
    page = _page(qtbot, engine, world, "alice")
    assert not page.save_button.isEnabled() and not page.checks["notice_shipped"].isEnabled()
    assert not page.cust_save.isEnabled() and "manager" in page.save_button.toolTip()
    page.ctx.runner.wait_idle()
