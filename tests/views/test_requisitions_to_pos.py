"""The buyer's way from requisitions to purchase orders in the real window: select, Create POs,
the preview, the PO selected in the Purchase orders tab; and the refusals on screen."""

from __future__ import annotations

import uuid
from decimal import Decimal

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import Requisition
from app.models.parties import ItemSupplier
from app.services.buying import approvals, conversion, purchasing
from app.views.buying import po_list
from app.views.buying.convert_dialog import ConvertDialog
from app.views.buying.screen import BuyingScreen
from tests.factories import World
from tests.views.conftest import MakeCtx


def _req(session: Session, w: World, sku: str, wh: uuid.UUID, qty: int, n: int, price: str = "0") -> Requisition:
    r = Requisition(number=f"DAL-RQ-{n:06d}", kind="purchase", item_id=w.items[sku].id, warehouse_id=wh, qty=qty,
                    supplier_id=w.supplier.id, unit_price=Decimal(price), requested_by_id=w.actors["alice"].user_id,
                    owner_branch_id=w.dal.id)
    session.add(r)
    session.flush()
    return r


@pytest.fixture
def reqs(session: Session, world: World) -> list[Requisition]:
    approvals.ensure_default_rules(session, world.ho.id)
    made = [_req(session, world, "BOLT", world.wh_dal.id, 100, 1, "0.1234"),
            _req(session, world, "WIDGET", world.wh_dal.id, 24, 2)]
    session.commit()
    return made


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_select_all_create_pos_previews_and_selects_the_new_po(qtbot: QtBot, make_ctx: MakeCtx, world: World,
                                                                reqs: list[Requisition], session: Session,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(world.actors["alice"])
    screen = BuyingScreen(ctx)
    qtbot.addWidget(screen)
    screen.resize(1366, 700)
    screen.show()
    view = screen.tab_widget("Requisitions")
    screen.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)
    seen: list[list[conversion.PlannedPo]] = []

    def ask(_parent: object, plans: list[conversion.PlannedPo]) -> str:
        seen.append(plans)
        return "submit"

    monkeypatch.setattr(ConvertDialog, "ask", staticmethod(ask))
    view.create_pos()
    assert "Select the open purchase requisitions" in view.message.text()  # nothing selected yet: said so
    view.select_all_button.click()
    assert len(view.selected_ids()) == 2
    with qtbot.waitSignal(view.converted, timeout=10000) as sig:
        view.convert_button.click()
    (plans,) = seen
    (plan,) = plans
    assert plan.supplier_code == "ACME" and plan.total == Decimal("42.34") and not plan.problem
    assert sig.args == [["DAL-PO-000001"]]
    assert view.message.text().startswith("Created DAL-PO-000001 (pending approval, ACME, 2 lines, 42.34 USD)")
    pos = screen.tab_widget("Purchase orders")
    assert screen.tabs.currentWidget().widget is pos
    qtbot.waitUntil(lambda: pos.table.currentIndex().isValid()
                    and pos.model.row(pos.table.currentIndex().row()).number == "DAL-PO-000001", timeout=10000)
    session.rollback()
    session.expire_all()
    assert {r.status for r in session.scalars(select(Requisition))} == {"converted"}
    qtbot.waitUntil(lambda: view.model.rowCount() == 0, timeout=10000)  # the open list no longer shows them
    assert ctx.runner.wait_idle(10000)


def test_converting_a_requisition_someone_converted_meanwhile_says_so(qtbot: QtBot, make_ctx: MakeCtx, world: World,
                                                                      reqs: list[Requisition], session: Session) -> None:
    ctx = make_ctx(world.actors["alice"])
    from app.views.buying.requisitions import RequisitionsView

    view = RequisitionsView(ctx)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)
    view.select_open()
    conversion.convert(session, world.actors["alice"], [reqs[0].id])  # another window did it
    session.commit()
    with qtbot.waitSignal(view.failed, timeout=10000) as sig:
        view.create_pos()
    assert sig.args[0] == ("requisition DAL-RQ-000001 is already converted (on purchase order DAL-PO-000001); "
                           "nothing was created")
    assert view.message.text() == sig.args[0]


def test_a_supplier_without_a_price_is_red_in_the_preview_and_create_is_off(qtbot: QtBot, world: World,
                                                                             session: Session) -> None:
    link = session.scalars(select(ItemSupplier).where(ItemSupplier.item_id == world.items["BOLT"].id)).one()
    link.contract_price = link.last_price = Decimal(0)
    r = _req(session, world, "BOLT", world.wh_dal.id, 100, 1)
    plans = conversion.plan(session, world.actors["alice"], [r.id])
    dlg = ConvertDialog(plans)
    qtbot.addWidget(dlg)
    assert not dlg.create_button.isEnabled() and not dlg.submit_button.isEnabled()
    assert "1 cannot be made as they stand" in dlg.summary.text()
    top = dlg.tree.topLevelItem(0)
    note = top.child(top.childCount() - 1)
    assert note.text(0).startswith("Cannot be made: BOLT has no price from ACME")


def test_the_price_typed_on_a_requisition_is_saved_and_refused_when_zero(qtbot: QtBot, make_ctx: MakeCtx, world: World,
                                                                          reqs: list[Requisition], session: Session) -> None:
    from app.views.buying.requisitions import PRICE_COL, RequisitionsView

    view = RequisitionsView(make_ctx(world.actors["alice"]))
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: view.model.rowCount() == 2, timeout=10000)
    row = next(i for i, r in enumerate(view.model.rows()) if r.number == "DAL-RQ-000002")
    with qtbot.waitSignal(view.failed, timeout=10000) as sig:
        view.model.setData(view.model.index(row, PRICE_COL), "0")
    assert sig.args[0] == "unit price: 0.0000 must be more than zero"
    with qtbot.waitSignal(view.acted, timeout=10000):
        view.model.setData(view.model.index(row, PRICE_COL), "1.1")
    session.rollback()
    session.expire_all()
    assert session.get(Requisition, reqs[1].id).unit_price == Decimal("1.1")  # type: ignore[union-attr]


def test_a_hand_made_po_offers_to_close_the_requisition_it_covers(qtbot: QtBot, make_ctx: MakeCtx, world: World,
                                                                   reqs: list[Requisition], session: Session,
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    asked: list[list[str]] = []
    monkeypatch.setattr(po_list.CloseRequisitionsQuestion, "ask",
                        staticmethod(lambda _p, _n, covered: asked.append([c.number for c in covered]) or True))
    ctx = make_ctx(world.actors["alice"])
    view = po_list.PurchaseOrdersView(ctx)
    qtbot.addWidget(view)
    with qtbot.waitSignal(view.created, timeout=10000):
        view.create_po("ACME", "DAL1", [purchasing.LineInput(sku="BOLT", qty=100)], submit=False)
    assert asked == [["DAL-RQ-000001"]]
    qtbot.waitUntil(lambda: view.table.currentIndex().isValid(), timeout=10000)  # the new PO is selected
    assert view.model.row(view.table.currentIndex().row()).number == "DAL-PO-000001"
    assert ctx.runner.wait_idle(10000)
    session.rollback()
    session.expire_all()
    assert session.get(Requisition, reqs[0].id).status == "converted"  # type: ignore[union-attr]
    assert session.get(Requisition, reqs[1].id).status == "open"  # type: ignore[union-attr]
