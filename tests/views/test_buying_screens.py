"""PO list/detail, approvals inbox, approval rules panel and the Buying screen, on real threads."""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.approvals import ApprovalRule
from app.models.purchasing import PurchaseOrder
from app.services.auth import Actor
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.settings import Settings
from app.views.buying.approvals import ApprovalsInbox
from app.views.buying.po_list import PoTableModel, PurchaseOrdersView
from app.views.buying.screen import BuyingScreen
from app.views.context import AppContext, make_test_context
from app.views.settings.approval_rules import ApprovalRulesPanel
from tests.factories import World


def _ctx(engine: Engine, actor: Actor, tmp_path: Path) -> AppContext:
    return make_test_context(engine, actor, Settings(tmp_path / f"{actor.username}.json"))


@pytest.fixture
def contexts(engine: Engine, bw: World, tmp_path: Path) -> Iterator[dict[str, AppContext]]:
    ctxs = {name: _ctx(engine, bw.actors[name], tmp_path) for name in ("alice", "bob", "mike", "root", "rita")}
    yield ctxs
    for c in ctxs.values():
        assert c.runner.wait_idle(10000)
        c.runner.shutdown()


def _fresh(session: Session) -> None:
    """End the test session's read snapshot and forget loaded state: see what the ops committed."""
    session.rollback()
    session.expire_all()


def _make_pos(session: Session, w: World, n: int, qty: int = 10) -> list[PurchaseOrder]:
    pos = []
    for _ in range(n):
        po = purchasing.create_po(session, w.actors["alice"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=qty)])
        purchasing.submit(session, w.actors["alice"], po.id)
        pos.append(po)
    session.commit()
    return pos


def test_po_model_pages_and_passes_the_model_tester(qtbot: QtBot, qtmodeltester: object, session: Session,
                                                    bw: World, contexts: dict[str, AppContext]) -> None:
    _make_pos(session, bw, 7)
    model = PoTableModel(contexts["alice"].runner, page_size=3)
    with qtbot.waitSignal(model.page_loaded, timeout=10000):
        model.set_query({})
    assert model.rowCount() == 3 and model.canFetchMore()
    with qtbot.waitSignal(model.page_loaded, timeout=10000):
        model.fetchMore()
    with qtbot.waitSignal(model.page_loaded, timeout=10000):
        model.fetchMore()
    assert model.rowCount() == 7 and not model.has_more
    assert model.index(0, 0).data() == "DAL-PO-000007"
    assert model.index(0, 6).data() == "450.00"
    qtmodeltester.check(model)  # type: ignore[attr-defined]


def test_list_filters_and_detail_enables_actions_by_role_and_state(
        qtbot: QtBot, session: Session, bw: World, contexts: dict[str, AppContext], tmp_path: Path) -> None:
    small, big = _make_pos(session, bw, 1)[0], _make_pos(session, bw, 1, qty=200)[0]  # approved / pending
    view = PurchaseOrdersView(contexts["alice"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)
    with qtbot.waitSignal(view.model.page_loaded, timeout=10000):
        view.status.setCurrentIndex(view.status.findData("pending_approval"))
    assert [r.number for r in view.model.rows()] == [big.number]

    with qtbot.waitSignal(view.detail.loaded, timeout=10000):
        assert view.select_number(big.number)
    d = view.detail
    assert "Status: pending approval" in d.status.text()
    assert "Orders above 5,000" in d.approval.toPlainText() and "waiting" in d.approval.toPlainText()
    assert d.lines.rowCount() == 1 and d.lines.index(0, 1).data() == "DRILL"
    assert "9,000.00 USD" in d.totals.text()
    # alice (buyer, requester) may not approve; may cancel; cannot send yet
    assert not d.buttons["approve"].isEnabled() and d.buttons["cancel"].isEnabled()
    assert not d.buttons["send"].isEnabled()
    assert "segregation of duties" in d.buttons["approve"].toolTip() or "may not approve" in d.buttons["approve"].toolTip()

    # preview renders a real PDF off the GUI thread
    d.open_externally = False
    with qtbot.waitSignal(d.pdf_ready, timeout=10000) as sig:
        d.buttons["preview"].click()
    text = PdfReader(io.BytesIO(Path(sig.args[0]).read_bytes())).pages[0].extract_text()
    assert big.number in text and "page 1 of 1" in text

    # the approved one can be sent by the buyer
    with qtbot.waitSignal(view.model.page_loaded, timeout=10000):
        view.status.setCurrentIndex(0)
    with qtbot.waitSignal(view.detail.loaded, timeout=10000):
        view.select_number(small.number)
    assert d.buttons["send"].isEnabled()
    with qtbot.waitSignal(d.acted, timeout=10000):
        d.buttons["send"].click()
    qtbot.waitUntil(lambda: d.detail is not None and d.detail["status"] == "sent", timeout=10000)
    qtbot.waitUntil(lambda: d.buttons["close"].isEnabled(), timeout=10000)
    assert d.buttons["send"].isEnabled()  # a sent PO may be sent again (the supplier lost it)


def test_a_receiver_sees_no_actions(qtbot: QtBot, session: Session, bw: World, contexts: dict[str, AppContext]) -> None:
    (po,) = _make_pos(session, bw, 1)
    view = PurchaseOrdersView(contexts["rita"])
    qtbot.addWidget(view)
    assert not view.new_button.isEnabled()
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10000)
    with qtbot.waitSignal(view.detail.loaded, timeout=10000):
        view.select_number(po.number)
    assert [k for k, b in view.detail.buttons.items() if b.isEnabled()] == ["preview", "save_pdf"]


def test_create_by_hand_from_the_list(qtbot: QtBot, session: Session, bw: World, contexts: dict[str, AppContext]) -> None:
    view = PurchaseOrdersView(contexts["alice"])
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.created, timeout=10000) as sig:
        view.create_po("ACME", "DAL1", [LineInput(sku="BOLT", qty=50)])
    assert sig.args == ["DAL-PO-000001"]
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10000)
    # a bad line: the error is reported, nothing created
    errors: list[str] = []
    contexts["alice"].signals.op_failed.connect(lambda _label, text: errors.append(text))
    view.create_po("ACME", "DAL1", [LineInput(sku="BOLT", qty=0)])
    qtbot.waitUntil(lambda: bool(errors), timeout=10000)
    assert "must be more than zero" in errors[0]
    _fresh(session)
    assert len(session.scalars(select(PurchaseOrder)).all()) == 1


def test_inbox_two_levels_two_people(qtbot: QtBot, session: Session, bw: World, contexts: dict[str, AppContext]) -> None:
    (po,) = _make_pos(session, bw, 1, qty=700)  # 31,500: levels 1 and 2
    bob = ApprovalsInbox(contexts["bob"])
    qtbot.addWidget(bob)
    qtbot.waitUntil(lambda: bob.model.rowCount() == 1, timeout=10000)
    assert bob.model.index(0, 4).data() == "1" and "above 5,000" in bob.model.index(0, 5).data()
    mike = ApprovalsInbox(contexts["mike"])
    qtbot.addWidget(mike)
    qtbot.waitUntil(lambda: mike.model.rowCount() == 1, timeout=10000)

    with qtbot.waitSignal(bob.refreshed, timeout=10000) as sig:
        bob.approve_selected()
    assert sig.args == [0]  # bob decided level 1: nothing left for him
    _fresh(session)
    assert session.get(PurchaseOrder, po.id).status == "pending_approval"  # type: ignore[union-attr]
    # mike works at another workstation (his own context): he refreshes his inbox
    with qtbot.waitSignal(mike.refreshed, timeout=10000):
        mike.refresh()
    assert mike.model.rowCount() == 1 and mike.model.index(0, 4).data() == "2"
    with qtbot.waitSignal(mike.refreshed, timeout=10000):
        mike.approve_selected()
    qtbot.waitUntil(lambda: mike.model.rowCount() == 0, timeout=10000)
    _fresh(session)
    assert session.get(PurchaseOrder, po.id).status == "approved"  # type: ignore[union-attr]


def test_reject_without_comment_is_refused(qtbot: QtBot, session: Session, bw: World, contexts: dict[str, AppContext]) -> None:
    _make_pos(session, bw, 1, qty=200)
    inbox = ApprovalsInbox(contexts["bob"])
    qtbot.addWidget(inbox)
    qtbot.waitUntil(lambda: inbox.model.rowCount() == 1, timeout=10000)
    with qtbot.waitSignal(contexts["bob"].signals.op_failed, timeout=10000) as sig:
        inbox.reject_selected()
    assert "comment" in sig.args[1]
    inbox.comment.setText("wrong supplier")
    with qtbot.waitSignal(inbox.refreshed, timeout=10000) as sig2:
        inbox.reject_selected()
    assert sig2.args == [0]


def test_rules_panel_edits_and_refuses_bad_values(qtbot: QtBot, session: Session, bw: World,
                                                  contexts: dict[str, AppContext]) -> None:
    panel = ApprovalRulesPanel(contexts["root"])
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=10000)
    row = next(i for i in range(5) if panel.model.row(i).level == 2)
    panel.table.selectRow(row)
    assert panel.name.text() == "Orders above 25,000" and panel.amount.isEnabled()
    panel.amount.setText("40000")
    with qtbot.waitSignal(panel.changed, timeout=10000):
        panel.save()
    _fresh(session)
    assert session.get(ApprovalRule, panel.model.row(row).id).amount == 40000  # type: ignore[union-attr]
    panel.new_rule()
    panel.name.setText("Huge")
    panel.kind.setCurrentIndex(panel.kind.findData("value_threshold"))
    panel.amount.setText("-1")
    with qtbot.waitSignal(panel.failed, timeout=10000) as sig:
        panel.save()
    assert "amount: must not be negative" in sig.args[0]
    assert "Not saved" in panel.message.text()

    viewer = ApprovalRulesPanel(contexts["alice"])
    qtbot.addWidget(viewer)
    assert not viewer.save_button.isEnabled() and "only an administrator" in viewer.message.text()


def test_rules_are_read_only_on_a_branch_workstation(qtbot: QtBot, engine: Engine, bw: World,
                                                     contexts: dict[str, AppContext]) -> None:
    from tests.factories import become_branch_site

    become_branch_site(engine, bw.dal)  # replicating as DAL: the rules belong to head office
    panel = ApprovalRulesPanel(contexts["root"])
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: panel.model.rowCount() == 5, timeout=10000)
    assert not panel.save_button.isEnabled() and not panel.new_button.isEnabled()
    assert "change them at head office" in panel.message.text()


def test_buying_screen_loads_tabs_lazily(qtbot: QtBot, bw: World, contexts: dict[str, AppContext]) -> None:
    screen = BuyingScreen(contexts["alice"])
    qtbot.addWidget(screen)
    assert isinstance(screen.tab_widget("Purchase orders"), PurchaseOrdersView)
    assert isinstance(screen.tab_widget("Approvals inbox"), ApprovalsInbox)
    for title in ("Worklist", "Requisitions", "Supplier confirmations"):
        w = screen.tab_widget(title)
        assert w is not None or screen.tab_message(title).endswith("not built yet")


def test_a_sent_po_is_mailed_by_the_window_wide_delivery(qtbot: QtBot, engine: Engine, session: Session, bw: World,
                                            tmp_path: Path) -> None:
    from app.services.buying.po_documents import send_po
    from app.views.mail_delivery import MailDelivery
    from tests.smtp_server import Handler, LoopbackController

    handler = Handler()
    ctl = LoopbackController(handler)
    ctl.start()
    try:
        (po,) = _make_pos(session, bw, 1)
        send_po(session, bw.actors["alice"], po.number)
        session.commit()
        settings = Settings(tmp_path / "mail.json")
        settings.set("smtp.host", "127.0.0.1")
        settings.set("smtp.port", ctl.port)
        ctx = make_test_context(engine, bw.actors["alice"], settings)
        delivery = MailDelivery(ctx)
        with qtbot.waitSignal(delivery.delivered, timeout=10000) as sig:
            delivery.start(first_run_ms=0)
        assert delivery.timer.isActive()
        delivery.stop()
        assert sig.args[0].sent == 1
        assert handler.messages[0]["Subject"] == f"Purchase order {po.number}"
        assert ctx.runner.wait_idle(10000)
        ctx.runner.shutdown()
    finally:
        ctl.stop()


def test_revise_from_the_detail_goes_back_through_approval(qtbot: QtBot, session: Session, bw: World,
                                                           contexts: dict[str, AppContext]) -> None:
    (po,) = _make_pos(session, bw, 1, qty=200)  # 9,000: level 1
    approvals.approve(session, bw.actors["bob"], po.id)
    session.commit()
    view = PurchaseOrdersView(contexts["alice"])
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 1, timeout=10000)
    with qtbot.waitSignal(view.detail.loaded, timeout=10000):
        view.select_number(po.number)
    d = view.detail
    assert d.buttons["revise"].isEnabled() and d.lines_text() == "DRILL:200:45"
    with qtbot.waitSignal(d.acted, timeout=10000):
        d.revise("DRILL:220:45\nBOLT:100")
    qtbot.waitUntil(lambda: d.detail is not None and d.detail["revision"] == 1, timeout=10000)
    assert d.detail is not None and d.detail["status"] == "pending_approval"
    assert [(ln["sku"], ln["qty"]) for ln in d.detail["lines"]] == [("DRILL", 220), ("BOLT", 100)]
    # a bad revision changes nothing
    with qtbot.waitSignal(contexts["alice"].signals.op_failed, timeout=10000) as sig:
        d.revise("DRILL:0")
    assert "quantity: must be more than zero" in sig.args[1]
    _fresh(session)
    assert [ln.qty_ordered for ln in purchasing.lines_of(session, po.id)] == [220, 100]
