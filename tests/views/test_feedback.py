"""Every action answers on screen: Sync now with no server, pending changes as a person reads them,
a PDF preview with no viewer, the worklist's accept, a posted receipt's header, and a dispatcher's
read-only Buying screen that says why."""

from __future__ import annotations

import re

from PySide6.QtCore import Qt
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.views.buying import po_detail
from app.views.buying.screen import BuyingScreen
from app.views.sync import panel as sp
from tests.factories import World
from tests.views.conftest import MakeCtx


def test_sync_now_without_a_server_says_so_and_pending_changes_read_as_documents(
        qtbot: QtBot, world: World, make_ctx: MakeCtx, session: Session) -> None:
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    session.commit()
    ctx = make_ctx(world.actors["alice"])
    panel = sp.SyncPanel(ctx)
    qtbot.addWidget(panel)
    qtbot.waitUntil(lambda: any(r.get("what") == f"purchase order {po.number}" for r in panel.pending.rows()),
                    timeout=10000)
    row = next(r for r in panel.pending.rows() if r["what"] == f"purchase order {po.number}")
    assert row["change"] == "created (po create)" and row["who"] == "alice"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}", row["when"])  # local time, no UTC stamp
    headers = [panel.pending.headerData(c, Qt.Orientation.Horizontal) for c in range(panel.pending.columnCount())]
    assert headers[:4] == ["What", "Change", "By", "When"]
    with qtbot.waitSignal(panel.controller.finished, timeout=15000):
        panel.sync_button.click()
    assert panel.result.text().startswith("No server is set up for this workstation, so nothing was sent")
    panel.controller.stop()


def test_preview_with_no_pdf_viewer_says_where_the_pdf_is(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                          session: Session) -> None:
    approvals.ensure_default_rules(session, world.ho.id)
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    session.commit()
    ctx = make_ctx(world.actors["alice"])
    view = po_detail.PoDetailView(ctx)
    qtbot.addWidget(view)
    view.open_url = lambda _url: False  # what QDesktopServices answers with no PDF viewer installed
    with qtbot.waitSignal(view.loaded, timeout=10000):
        view.load(po.id)
    with qtbot.waitSignal(view.pdf_ready, timeout=10000) as sig:
        view.buttons["preview"].click()
    assert view.status.text() == (f"No PDF viewer is set up on this computer: the purchase order is saved as "
                                  f"{sig.args[0]} (open it with any PDF reader, or use Save PDF…)")


def test_a_dispatcher_sees_why_buying_is_read_only(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    from app.services.auth import Actor

    dispatcher = Actor(user_id=world.actors["rita"].user_id, username="dan", roles=frozenset({"dispatcher"}),
                       branch_id=world.dal.id)
    screen = BuyingScreen(make_ctx(dispatcher))
    qtbot.addWidget(screen)
    assert not screen.banner.isHidden()
    assert screen.banner.text().startswith("Buying is read-only for you (signed in as dan, roles: dispatcher)")
    buyer = BuyingScreen(make_ctx(world.actors["alice"]))
    qtbot.addWidget(buyer)
    assert buyer.banner.isHidden()


def test_accepting_in_the_worklist_keeps_its_answer_after_the_refresh(qtbot: QtBot, world: World,
                                                                      make_ctx: MakeCtx) -> None:
    from app.views.buying.worklist import RecommendationsWorklist

    ctx = make_ctx(world.actors["alice"])
    view = RecommendationsWorklist(ctx)
    qtbot.addWidget(view)
    view._acted("Accepted 1 as requisition DAL-RQ-000001: turn them into purchase orders on the Requisitions tab")
    with qtbot.waitSignal(view.loaded, timeout=15000):
        view.refresh()
    assert view.message.text().startswith("Accepted 1 as requisition DAL-RQ-000001")
    assert "recommendations over" in view.message.text()
