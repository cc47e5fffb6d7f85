"""The replenishment worklist and requisitions tabs, driven like a buyer would, on real threads."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.buying import RecommendationDecision, Requisition
from app.services.settings import Settings
from app.views.buying.requisitions import RequisitionsView
from app.views.buying.worklist import COLUMNS, QTY_COL, RecommendationsWorklist
from app.views.context import AppContext, make_test_context
from tests.factories import World
from tests.services.test_replenishment import TODAY, stock_and_sales


@pytest.fixture
def ctx(engine: Engine, session: Session, world: World, tmp_path: Path) -> Iterator[AppContext]:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    session.commit()
    c = make_test_context(engine, world.actors["alice"], Settings(tmp_path / "settings.json"))
    yield c
    assert c.runner.wait_idle(10000)
    c.runner.shutdown()


def _worklist(qtbot: QtBot, ctx: AppContext) -> RecommendationsWorklist:
    w = RecommendationsWorklist(ctx)
    qtbot.addWidget(w)
    w.today, w.history_weeks = TODAY, 4
    with qtbot.waitSignal(w.loaded, timeout=10000) as sig:
        w.refresh()
    assert sig.args == [2]
    return w


def _count(session: Session, model: type) -> int:
    session.expire_all()
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def test_model_passes_qtmodeltester_and_shows_the_figures(qtbot: QtBot, qtmodeltester: object, ctx: AppContext) -> None:
    w = _worklist(qtbot, ctx)
    qtmodeltester.check(w.model)  # type: ignore[attr-defined]
    m = w.model
    rows = {m.index(r, 0).data(): r for r in range(m.rowCount())}
    bolt, widget = rows["BOLT"], rows["WIDGET"]
    via, rop = COLUMNS.index("Via"), COLUMNS.index("ROP")
    assert m.index(bolt, via).data() == "buy from ACME" and m.index(bolt, QTY_COL).data() == "152"
    assert m.index(bolt, rop).data() == "101.3"  # ROP
    assert m.index(widget, via).data() == "transfer from HOU1" and m.index(widget, QTY_COL).data() == "160"
    w.view.selectRow(widget)
    html = w.why.toPlainText()
    assert "ROP = d·LT + SS = 109.0" in html and "Purchase" in html and "Transfer (recommended)" in html
    assert "rounded up to 168 (pack of 12)" in html
    assert "class A: 98% → z = 2.054" in html


def test_accept_with_an_edited_quantity_and_option_through_the_runner(qtbot: QtBot, ctx: AppContext,
                                                                     session: Session) -> None:
    w = _worklist(qtbot, ctx)
    m = w.model
    rows = {m.index(r, 0).data(): r for r in range(m.rowCount())}
    assert m.setData(m.index(rows["BOLT"], QTY_COL), "200")
    assert not m.setData(m.index(rows["BOLT"], QTY_COL), "two hundred")
    w.select_rows([rows["WIDGET"]])
    w.toggle_selected_option()  # buy the widgets instead of transferring them
    assert m.index(rows["WIDGET"], COLUMNS.index("Via")).data() == "buy from ACME"
    assert m.index(rows["WIDGET"], QTY_COL).data() == "168"
    w.select_rows([rows["BOLT"], rows["WIDGET"]])
    # the run after the accept finds nothing
    with qtbot.waitSignal(w.loaded, timeout=10000) as reloaded, qtbot.waitSignal(w.acted, timeout=10000) as sig:
        qtbot.mouseClick(w.accept_button, Qt.MouseButton.LeftButton)
    assert sig.args[0].startswith("Accepted 2 as requisitions DAL-RQ-000001")
    assert reloaded.args == [0] and w.model.rowCount() == 0
    reqs = {r.qty: r for r in session.scalars(select(Requisition))}
    assert set(reqs) == {200, 168} and {r.kind for r in reqs.values()} == {"purchase"}
    assert reqs[200].recommended_qty == 152


def test_bad_edited_quantity_shows_the_message_and_writes_nothing(qtbot: QtBot, ctx: AppContext,
                                                                  session: Session) -> None:
    w = _worklist(qtbot, ctx)
    m = w.model
    rows = {m.index(r, 0).data(): r for r in range(m.rowCount())}
    w.select_rows([rows["WIDGET"]])
    w.toggle_selected_option()
    m.setData(m.index(rows["WIDGET"], QTY_COL), "0")
    with qtbot.waitSignal(w.failed, timeout=10000) as sig:
        w.accept_selected()
    assert sig.args == ["line 1 quantity: must be more than zero"]
    assert w.message.text() == "line 1 quantity: must be more than zero"
    assert _count(session, Requisition) == 0


def test_snooze_and_reject_from_the_widget(qtbot: QtBot, ctx: AppContext, session: Session) -> None:
    w = _worklist(qtbot, ctx)
    w.select_rows([0])
    first = w.model.row(0).sku
    with qtbot.waitSignal(w.loaded, timeout=10000) as reloaded, qtbot.waitSignal(w.acted, timeout=10000):
        w.snooze_selected(TODAY + dt.timedelta(days=5))
    assert reloaded.args == [1] and w.model.row(0).sku != first
    w.select_rows([0])
    with qtbot.waitSignal(w.loaded, timeout=10000) as reloaded, qtbot.waitSignal(w.acted, timeout=10000) as sig:
        w.reject_selected("discontinued")
    assert sig.args == ["rejected 1 (discontinued)"] and reloaded.args == [0]
    assert "2 snoozed or rejected" in w.message.text()
    kinds = sorted(d.kind for d in session.scalars(select(RecommendationDecision)))
    assert kinds == ["reject", "snooze"]


def test_requisitions_view_edits_and_cancels(qtbot: QtBot, qtmodeltester: object, ctx: AppContext, session: Session,
                                             world: World) -> None:
    from app.services.buying import requisitions as rq

    rq.accept(session, world.actors["alice"], [
        rq.AcceptLine(world.items["WIDGET"].id, world.wh_dal.id, "purchase", 24, supplier_id=world.supplier.id),
        rq.AcceptLine(world.items["BOLT"].id, world.wh_dal.id, "purchase", 10, supplier_id=world.supplier.id)])
    session.commit()
    v = RequisitionsView(ctx)
    qtbot.addWidget(v)
    qtbot.waitUntil(lambda: v.model.rowCount() == 2, timeout=10000)
    m = v.model
    qtmodeltester.check(m)  # type: ignore[attr-defined]
    rows = {m.index(r, 3).data(): r for r in range(m.rowCount())}
    with qtbot.waitSignal(v.failed, timeout=10000) as bad:
        m.setData(m.index(rows["WIDGET"], 5), "30")
    assert bad.args == ["quantity: 30 is not whole packs of 12"]
    with qtbot.waitSignal(v.loaded, timeout=10000), qtbot.waitSignal(v.acted, timeout=10000) as ok:
        m.setData(m.index(rows["WIDGET"], 5), "36")
    assert ok.args[0].endswith("quantity 36")
    rows = {m.index(r, 3).data(): r for r in range(m.rowCount())}
    v.view.selectRow(rows["BOLT"])
    with qtbot.waitSignal(v.loaded, timeout=10000) as reloaded, qtbot.waitSignal(v.acted, timeout=10000):
        v.cancel_selected("bought locally")
    assert reloaded.args == [1] and m.index(0, 3).data() == "WIDGET"
    v.status.setCurrentIndex(v.status.findData("cancelled"))
    qtbot.waitUntil(lambda: m.rowCount() == 1 and m.index(0, 3).data() == "BOLT", timeout=10000)
    assert not (m.flags(m.index(0, 5)) & Qt.ItemFlag.ItemIsEditable)  # cancelled: not editable


def test_head_office_snoozes_a_dallas_line_and_is_told_when_dallas_sees_it(qtbot: QtBot, engine: Engine,
                                                                           session: Session, world: World,
                                                                           tmp_path: Path) -> None:
    from app.services.auth import create_user
    from tests.factories import become_branch_site, load_world

    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    create_user(session, "hank", "secret-hank", ["buyer"], owner_branch_id=world.ho.id, branch_id=world.ho.id)
    session.commit()
    become_branch_site(engine, world.ho)  # a head-office workstation: Dallas's rows are not its own
    c = make_test_context(engine, load_world(session).actors["hank"], Settings(tmp_path / "settings.json"))
    try:
        w = _worklist(qtbot, c)
        w.select_rows([0])
        with qtbot.waitSignal(w.loaded, timeout=10000) as reloaded, qtbot.waitSignal(w.acted, timeout=10000) as sig:
            w.snooze_selected(TODAY + dt.timedelta(days=5))
        assert sig.args == ["snoozed 1 until 2026-12-01; DAL sees it after its next sync"] and reloaded.args == [1]
        session.rollback()  # a fresh read of what the op committed
        d = session.scalars(select(RecommendationDecision)).one()
        assert d.owner_branch_id == world.ho.id
    finally:
        assert c.runner.wait_idle(10000)
        c.runner.shutdown()


def test_policy_column_and_switching_an_items_policy(qtbot: QtBot, ctx: AppContext, session: Session,
                                                    monkeypatch: pytest.MonkeyPatch) -> None:
    """The worklist says which policy produced each line; Policy… switches the selected item (issue 18)."""
    from app.services.replenishment.policies import policy_of
    from app.views.buying.policy_dialog import PolicyDialog

    w = _worklist(qtbot, ctx)
    pol = COLUMNS.index("Policy")
    m = w.model
    rows = {m.index(r, 0).data(): r for r in range(m.rowCount())}
    assert m.index(rows["BOLT"], pol).data() == "computed"  # no forecast run in this file
    w.view.selectRow(rows["BOLT"])
    asked: list[tuple[object, ...]] = []

    def answer(_parent: object, title: str, current: str, lo: int, hi: int) -> tuple[str, int, int]:
        asked.append((title, current, lo, hi))
        return "fixed_minmax", 300, 600

    monkeypatch.setattr(PolicyDialog, "ask", answer)
    with qtbot.waitSignal(w.acted, timeout=10000) as sig:
        w.change_policy()
    assert asked[0][0].startswith("BOLT Hex bolt M8 at DAL1: now computed (the default)")  # type: ignore[union-attr]
    assert sig.args == ["Policy set: BOLT at DAL1: fixed min/max, min 300, max 600"]
    row = policy_of(session, "DAL1", "BOLT")
    assert row is not None and (row.policy, row.min_qty, row.max_qty) == ("fixed_minmax", 300, 600)
    with qtbot.waitSignal(w.loaded, timeout=10000):
        w.refresh()
    rows = {m.index(r, 0).data(): r for r in range(m.rowCount())}
    assert m.index(rows["BOLT"], pol).data() == "fixed min/max"
    w.view.selectRow(rows["BOLT"])
    assert "below min 300, up to max 600" in w.why.toPlainText()
    w.view.clearSelection()
    w.change_policy()
    assert w.message.text() == "Select one line to change its item's policy at that warehouse"


def test_policy_dialog_enables_min_max_only_for_fixed(qtbot: QtBot) -> None:
    from app.views.buying.policy_dialog import PolicyDialog

    d = PolicyDialog("BOLT at DAL1", "forecast", 0, 1)
    qtbot.addWidget(d)
    assert not d.min_qty.isEnabled() and d.value() == ("forecast", None, None)
    d.policy.setCurrentIndex(2)
    d.min_qty.setValue(10)
    d.max_qty.setValue(50)
    assert d.min_qty.isEnabled() and d.value() == ("fixed_minmax", 10, 50)
