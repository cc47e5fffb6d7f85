"""The Receiving screen on a Houston workstation posting Houston's line of a Dallas PO: the message
says the PO is Dallas's and follows when Dallas syncs, and where the rest still owed is expected."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.parties import ItemSupplier
from app.services.auth import actor_for, create_user
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.settings import Settings
from app.views.context import AppContext, make_test_context
from app.views.receiving.screen import ReceivingScreen
from tests.factories import World, become_branch_site


@pytest.fixture
def ctx(engine: Engine, session: Session, world: World, tmp_path: Path) -> Iterator[AppContext]:
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    world.supplier.allows_consolidation = True
    approvals.ensure_default_rules(session, world.ho.id)
    hugo = actor_for(session, create_user(session, "hugo", "secret-hugo", ["receiver"], owner_branch_id=world.ho.id,
                                          branch_id=world.hou.id))
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [
        LineInput(sku="BOLT", qty=10), LineInput(sku="WIDGET", qty=24, ship_to_warehouse_id=world.wh_hou.id)])
    purchasing.submit(session, world.actors["alice"], po.id)
    purchasing.set_status(session, world.actors["alice"], po, "sent")
    session.commit()
    become_branch_site(engine, world.hou)
    c = make_test_context(engine, hugo, Settings(tmp_path / "hugo.json"))
    yield c
    assert c.runner.wait_idle(10000)
    c.runner.shutdown()


def test_houston_posts_its_line_of_a_dallas_po_and_is_told_what_follows(qtbot: QtBot, ctx: AppContext) -> None:
    screen = ReceivingScreen(ctx)
    qtbot.addWidget(screen)
    screen.any_day.setChecked(True)
    qtbot.waitUntil(lambda: screen.warehouse.currentText() == "HOU1" and screen.expected.rowCount() == 1
                    and screen.catalogue is not None, timeout=10000)
    assert screen.expected.row(0).number.startswith("HOU-ER-")
    with qtbot.waitSignal(screen.receipt_opened, timeout=10000):
        screen.expected_view.activated.emit(screen.expected.index(0, 0))
    for code in ("*20", "WIDGET"):
        qtbot.keyClicks(screen.scan, code)
        qtbot.keyClick(screen.scan, Qt.Key.Key_Return)
    qtbot.waitUntil(lambda: [(r.sku, r.scanned) for r in screen.lines.rows()] == [("WIDGET", 20)], timeout=5000)
    with qtbot.waitSignal(screen.posted, timeout=10000) as posted:
        qtbot.mouseClick(screen.post_btn, Qt.MouseButton.LeftButton)
    assert posted.args[0].number.startswith("HOU-GR-")
    text = screen.message.text()
    assert text.startswith(f"posted {posted.args[0].number}: 20 unit(s) on 1 line(s)"), text
    assert "is DAL's: its received quantities are updated when DAL next syncs" in text
    assert "4 unit(s) still owed: expected on HOU-ER-" in text
