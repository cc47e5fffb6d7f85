"""Every screen refreshes after a sync that brought rows of the tables it shows, and only then.

The sync's "done" path is the real one (``SyncController`` after ``sync_once`` returned the tables a
pull touched): the tables become ``Change`` kinds through the same map the op runner uses. One
check per screen; the screens the old prefix map missed (transfers, counts, returns, exceptions,
putaway tasks, quality holds) are also shown picking up a row written as a pull would write it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models import Base
from app.services import changes
from app.services.replication.engine import SyncResult
from app.views.context import AppContext
from app.views.sync.controller import SyncController
from tests.factories import World
from tests.services.inventory_helpers import stock
from tests.views.conftest import MakeCtx


def pulled(ctx: AppContext, tables: list[str]) -> None:
    """What the window does when a sync run pulled rows of ``tables``."""
    ctrl = SyncController(ctx)
    ctrl._done(SyncResult(ok=True, state="online", pulled=len(tables), tables=tables))


@dataclass(frozen=True)
class Case:
    name: str
    build: Callable[[AppContext, World], Any]
    #: attribute path of what the screen calls to reload (spied on)
    reload: str
    #: the tables the screen shows: a pull of any one of them refreshes it
    tables: tuple[str, ...]
    #: put the screen in the state where it shows data (an item chosen, a PO opened ...)
    prepare: Callable[[Any, World], None] = lambda _s, _w: None


def _po_detail(ctx: AppContext, w: World) -> Any:
    from app.views.buying.po_detail import PoDetailView

    return PoDetailView(ctx)


def _open_some_po(screen: Any, w: World) -> None:
    screen._ref = "DAL-PO-000001"


def _stock_shown(screen: Any, w: World) -> None:
    screen.current = object()


def _worklist_ran(screen: Any, w: World) -> None:
    screen.last_result = object()


def _lazy(module: str, cls: str) -> Callable[[AppContext, World], Any]:
    def build(ctx: AppContext, _w: World) -> Any:
        mod = __import__(module, fromlist=[cls])
        return getattr(mod, cls)(ctx)
    return build


CASES = [
    Case("purchase orders", _lazy("app.views.buying.po_list", "PurchaseOrdersView"), "model.reload",
         ("purchase_order", "purchase_order_line", "approval_decision", "expected_receipt", "supplier")),
    Case("PO detail", _po_detail, "load", ("purchase_order", "purchase_order_line", "approval_decision",
                                           "expected_receipt"), _open_some_po),
    Case("requisitions", _lazy("app.views.buying.requisitions", "RequisitionsView"), "reload",
         ("requisition", "purchase_order", "transfer_order")),
    Case("approvals inbox", _lazy("app.views.buying.approvals", "ApprovalsInbox"), "refresh",
         ("purchase_order", "approval_decision", "approval_rule")),
    Case("supplier messages", _lazy("app.views.buying.confirmations", "ConfirmationsView"), "messages_model.reload",
         ("supplier_message", "supplier_message_line", "purchase_order", "expected_receipt")),
    Case("worklist", _lazy("app.views.buying.worklist", "RecommendationsWorklist"), "refresh",
         ("item", "stock_move", "purchase_order", "requisition", "expected_receipt", "transfer_order", "sales_order",
          "recommendation_decision", "replenishment_class", "transfer_lane", "demand_forecast"), _worklist_ran),
    Case("receiving", _lazy("app.views.receiving.screen", "ReceivingScreen"), "refresh",
         ("expected_receipt", "expected_receipt_line", "receipt", "putaway_task", "quality_hold", "stock_move",
          "purchase_order")),
    Case("exceptions", _lazy("app.views.exceptions.screen", "ExceptionsScreen"), "model.reload", ("exception_item",)),
    Case("items", _lazy("app.views.items.screen", "ItemsScreen"), "refresh",
         ("item", "item_uom", "item_supplier", "stock_move", "supplier")),
    Case("stock", _lazy("app.views.inventory.stock_tab", "StockTab"), "refresh",
         ("stock_move", "stock_balance", "lot", "serial_number", "putaway_task", "transfer_order", "count_task", "rma",
          "replenish_task"), _stock_shown),
    Case("transfers", _lazy("app.views.inventory.docs_tab", "TransfersTab"), "refresh", ("transfer_order", "transfer_line")),
    Case("returns", _lazy("app.views.inventory.docs_tab", "ReturnsTab"), "refresh", ("rma", "rma_line")),
    Case("pick replenishment", _lazy("app.views.inventory.replenish_tab", "ReplenishTab"), "refresh", ("replenish_task",)),
    Case("counts", _lazy("app.views.inventory.counts_tab", "CountsTab"), "refresh", ("count_task", "count_line")),
    Case("approval rules", _lazy("app.views.settings.approval_rules", "ApprovalRulesPanel"), "refresh", ("approval_rule",)),
    Case("dispatch waves", _lazy("app.views.dispatch.waves_tab", "WavesTab"), "refresh",
         ("wave", "pick_line", "carrier_cutoff", "dispatch_setting", "sales_order", "allocation")),
    Case("dispatch picking", _lazy("app.views.dispatch.picking_tab", "PickingTab"), "refresh",
         ("wave", "pick_line", "carrier_cutoff", "dispatch_setting")),
]
#: a table none of the screens above shows (the e-mail outbox)
UNRELATED = "email_outbox"


def _spy(screen: Any, path: str) -> list[int]:
    *owner_path, name = path.split(".")
    owner = screen
    for part in owner_path:
        owner = getattr(owner, part)
    calls: list[int] = []
    setattr(owner, name, lambda *a, **k: calls.append(1))
    return calls


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_a_screen_refreshes_after_a_sync_that_touched_its_tables(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                                 case: Case) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = case.build(ctx, world)
    qtbot.addWidget(screen)
    assert ctx.runner.wait_idle(10_000)
    case.prepare(screen, world)
    calls = _spy(screen, case.reload)
    pulled(ctx, [UNRELATED])
    assert calls == [], f"{case.name} refreshed after a sync of {UNRELATED}, which it does not show"
    for table in case.tables:
        calls.clear()
        pulled(ctx, [table])
        assert calls, f"{case.name} did not refresh after a sync that brought {table} rows"
    assert ctx.runner.wait_idle(10_000)


def test_the_sync_panel_refreshes_after_any_sync(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    from app.views.sync.panel import SyncPanel

    ctx = make_ctx(world.actors["root"])
    panel = SyncPanel(ctx)
    qtbot.addWidget(panel)
    calls = _spy(panel, "refresh")
    pulled(ctx, [UNRELATED])
    assert calls
    assert ctx.runner.wait_idle(10_000)


def test_every_table_has_a_kind() -> None:
    assert set(Base.metadata.tables) - set(changes.TABLES) == set()
    assert changes.for_tables(["no_such_table"]) == frozenset(changes.Change)  # unknown: refresh everything


# ---- the screens the old prefix map missed, picking up rows a pull wrote ---------------------


def test_transfers_counts_and_returns_show_what_a_sync_brought(qtbot: QtBot, session: Session, world: World,
                                                                make_ctx: MakeCtx) -> None:
    from decimal import Decimal

    from app.services.inventory import counts, rma
    from app.services.inventory.transfers import TransferLineSpec, create_transfer
    from app.views.inventory.counts_tab import CountsTab
    from app.views.inventory.docs_tab import ReturnsTab, TransfersTab

    ctx = make_ctx(world.actors["root"])
    transfers, counts_tab, returns = TransfersTab(ctx), CountsTab(ctx), ReturnsTab(ctx)
    for w in (transfers, counts_tab, returns):
        qtbot.addWidget(w)
    assert ctx.runner.wait_idle(10_000)
    assert (transfers.model.rowCount(), counts_tab.tasks.rowCount(), returns.model.rowCount()) == (0, 0, 0)
    # rows another workstation made, as the pull applies them (committed, no op of this window)
    stock(session, world, "BOLT", 10, "DAL1-A-02")
    t = create_transfer(session, world.actors["wes"], world.wh_dal.id, world.wh_hou.id,
                        [TransferLineSpec(world.items["BOLT"].id, 4)])
    (task,) = counts.create_count_tasks(session, world.actors["mike"], [world.bins["DAL1-A-02"].id], on=dt.date.today())
    from app.models.parties import Customer

    cust = session.scalars(select(Customer)).first()
    assert cust is not None
    r = rma.authorise_rma(session, world.actors["mike"], cust.id, world.wh_dal.id,
                          [rma.RmaLineSpec(world.items["BOLT"].id, 1, unit_credit=Decimal("1"))], reason="test")
    session.commit()
    pulled(ctx, ["transfer_order", "transfer_line", "count_task", "rma", "rma_line"])
    qtbot.waitUntil(lambda: transfers.model.rowCount() == 1 and counts_tab.tasks.rowCount() >= 1
                    and returns.model.rowCount() == 1, timeout=10_000)
    assert transfers.model.row(0).number == t.number and returns.model.row(0).number == r.number
    assert task.number in {counts_tab.tasks.row(i).number for i in range(counts_tab.tasks.rowCount())}
    assert ctx.runner.wait_idle(10_000)


def test_exceptions_show_what_a_sync_brought(qtbot: QtBot, session: Session, world: World, make_ctx: MakeCtx) -> None:
    from app.services.exception_inbox import raise_exception
    from app.views.exceptions.screen import ExceptionsScreen

    ctx = make_ctx(world.actors["mike"])
    screen = ExceptionsScreen(ctx)
    qtbot.addWidget(screen)
    assert ctx.runner.wait_idle(10_000)
    before = screen.model.rowCount()
    raise_exception(session, None, kind="edi.qty_changed", title="raised at another workstation", role="manager",
                    owner_branch_id=world.dal.id)
    session.commit()
    pulled(ctx, ["exception_item"])
    qtbot.waitUntil(lambda: screen.model.rowCount() == before + 1, timeout=10_000)
    assert "raised at another workstation" in {screen.model.row(i).title for i in range(screen.model.rowCount())}
    assert ctx.runner.wait_idle(10_000)
