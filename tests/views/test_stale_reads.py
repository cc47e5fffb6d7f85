"""Receiving, inventory and buying screens when an older background read lands last.

Read ops run three at a time, so a list refreshed before a write (or for the previous filter, or
the previous selection) can finish after the refresh that followed it. Each test holds the older
read back until the newer one is shown, then lets it land: the screen must keep the newer answer.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.parties import ItemSupplier
from app.services.buying import approvals, po_documents, purchasing
from app.services.buying.purchasing import LineInput
from app.services.inventory.counts import create_count_tasks
from app.services.inventory.pick_replenish import check_pick_faces
from app.services.inventory.rma import RmaLineSpec, authorise_rma
from app.services.receiving.queries import receive_scans
from app.services.settings import Settings
from app.views.buying.approvals import ApprovalsInbox
from app.views.buying.po_detail import PoDetailView
from app.views.context import AppContext, make_test_context
from app.views.inventory import counts_tab, docs_tab, replenish_tab
from app.views.inventory.screen import InventoryScreen
from app.views.receiving import screen as receiving
from app.views.receiving.screen import ReceivingScreen
from tests.factories import World
from tests.services._receiving_world import make_expected
from tests.services.inventory_helpers import stock


class HeldRead:
    """Wraps a read function: its first call reads at once (the older snapshot) but returns only
    when ``release`` is set, so a later call of the same read answers first."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.calls = 0
        self.lock = threading.Lock()
        self.entered, self.release = threading.Event(), threading.Event()

    def __call__(self, *args: Any, **kw: Any) -> Any:
        with self.lock:
            self.calls += 1
            first = self.calls == 1
        result = self.real(*args, **kw)
        if first:
            self.entered.set()
            self.release.wait(10)
        return result


@pytest.fixture
def make_ctx(engine: Engine, tmp_path: Path) -> Iterator[Callable[[World, str], AppContext]]:
    made: list[AppContext] = []

    def make(w: World, user: str) -> AppContext:
        c = make_test_context(engine, w.actors[user], Settings(tmp_path / f"{user}.json"))
        made.append(c)
        return c

    yield make
    for c in made:
        assert c.runner.wait_idle(10000)
        c.runner.shutdown()


def _land(ctx: AppContext, held: HeldRead) -> None:
    held.release.set()
    assert ctx.runner.wait_idle(10000)
    assert held.calls >= 2


# ---- receiving ---------------------------------------------------------------------------
@pytest.mark.parametrize("read", ["list_expected", "list_tasks", "list_holds"])
def test_receiving_lists_read_before_a_post_do_not_overwrite_the_newer_ones(
        qtbot: QtBot, session: Session, world: World, make_ctx: Callable[[World, str], AppContext],
        monkeypatch: pytest.MonkeyPatch, read: str) -> None:
    world.items["BOLT"].needs_inspection = True
    er = make_expected(session, world, [("WIDGET", 24), ("BOLT", 2)], dock="D3")
    session.commit()
    held = HeldRead(getattr(receiving, read))
    monkeypatch.setattr(receiving, read, held)
    ctx = make_ctx(world, "rita")
    screen = ReceivingScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(held.entered.is_set, timeout=10000)  # the screen's first read saw the receipt still expected...
    out = receive_scans(session, world.actors["rita"], er.number, ["*24", "WIDGET", "*2", "BOLT"])
    session.commit()
    assert out.posted is not None  # ...then it was posted (another workstation's scanner batch)

    def shown() -> tuple[int, int, int]:
        return screen.expected.rowCount(), screen.tasks.rowCount(), screen.holds.rowCount()

    screen.refresh()  # as after data_changed: the posted state
    qtbot.waitUntil(lambda: shown() == (0, 1, 1), timeout=10000)
    _land(ctx, held)
    assert shown() == (0, 1, 1)


def test_receiving_opens_the_receipt_chosen_last(qtbot: QtBot, session: Session, world: World,
                                                 make_ctx: Callable[[World, str], AppContext],
                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    first = make_expected(session, world, [("WIDGET", 24)], dock="D3")
    second = make_expected(session, world, [("BOLT", 5)], dock="D4")
    session.commit()
    held = HeldRead(receiving.load_context)
    monkeypatch.setattr(receiving, "load_context", held)
    ctx = make_ctx(world, "rita")
    screen = ReceivingScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: screen.expected.rowCount() == 2, timeout=10000)
    rows = {r.number: r for r in screen.expected.rows()}
    screen.open_receipt(rows[first.number])
    qtbot.waitUntil(held.entered.is_set, timeout=10000)
    with qtbot.waitSignal(screen.receipt_opened, timeout=10000) as opened:
        screen.open_receipt(rows[second.number])  # the receiver picked the other truck
    assert opened.args == [second.number]
    _land(ctx, held)
    assert screen.rs is not None and screen.title.text().startswith(second.number)
    assert [r.sku for r in screen.lines.rows()] == ["BOLT"]


# ---- inventory ---------------------------------------------------------------------------
@pytest.fixture
def stocked(session: Session, world: World) -> World:
    stock(session, world, "WIDGET", 70, "DAL1-A-02")
    stock(session, world, "WIDGET", 5, "HOU1-A-03")
    session.commit()
    return world


def test_count_tasks_of_the_previous_warehouse_do_not_replace_the_chosen_ones(
        qtbot: QtBot, session: Session, stocked: World, make_ctx: Callable[[World, str], AppContext],
        monkeypatch: pytest.MonkeyPatch) -> None:
    dal, hou = create_count_tasks(session, stocked.actors["wes"],
                                  [stocked.bins["DAL1-A-02"].id, stocked.bins["HOU1-A-03"].id])
    session.commit()
    held = HeldRead(counts_tab.list_count_tasks)
    monkeypatch.setattr(counts_tab, "list_count_tasks", held)
    tab = InventoryScreen(make_ctx(stocked, "wes")).counts
    qtbot.addWidget(tab)
    qtbot.waitUntil(held.entered.is_set, timeout=10000)  # the first warehouse's list is slow...
    assert tab.warehouse.currentText() == "DAL1"
    with qtbot.waitSignal(tab.tasks_loaded, timeout=10000):
        tab.warehouse.setCurrentIndex(tab.warehouse.findText("HOU1"))  # ...the user switched meanwhile
    assert [t.number for t in tab.tasks.rows()] == [hou.number]
    _land(tab.ctx, held)
    assert [t.number for t in tab.tasks.rows()] == [hou.number] != [dal.number]


def test_rma_lines_shown_are_those_of_the_selected_rma(
        qtbot: QtBot, session: Session, stocked: World, make_ctx: Callable[[World, str], AppContext],
        monkeypatch: pytest.MonkeyPatch) -> None:
    rita, w = stocked.actors["rita"], stocked
    widgets = authorise_rma(session, rita, w.customer.id, w.wh_dal.id, [RmaLineSpec(w.items["WIDGET"].id, 2)])
    bolts = authorise_rma(session, rita, w.customer.id, w.wh_dal.id, [RmaLineSpec(w.items["BOLT"].id, 3)])
    session.commit()
    held = HeldRead(docs_tab.rma_line_views)
    monkeypatch.setattr(docs_tab, "rma_line_views", held)
    tab = InventoryScreen(make_ctx(stocked, "rita")).returns
    qtbot.addWidget(tab)
    qtbot.waitUntil(lambda: tab.model.rowCount() == 2, timeout=10000)
    row_of = {tab.model.row(r).number: r for r in range(2)}
    tab.view.selectRow(row_of[widgets.number])  # its lines are slow to read...
    qtbot.waitUntil(held.entered.is_set, timeout=10000)
    with qtbot.waitSignal(tab.lines_loaded, timeout=10000):
        tab.view.selectRow(row_of[bolts.number])  # ...the user picked the other RMA meanwhile
    assert [r.sku for r in tab.line_model.rows()] == ["BOLT"]
    _land(tab.ctx, held)
    assert [r.sku for r in tab.line_model.rows()] == ["BOLT"]
    # an RMA's lines landing after the user cleared the selection are not shown under no RMA
    held = HeldRead(docs_tab.rma_line_views.real)  # type: ignore[attr-defined]
    monkeypatch.setattr(docs_tab, "rma_line_views", held)
    tab.line_model.set_rows([])
    tab.view.selectRow(row_of[widgets.number])
    qtbot.waitUntil(held.entered.is_set, timeout=10000)
    tab.view.clearSelection()
    held.release.set()
    assert tab.ctx.runner.wait_idle(10000)
    assert tab.line_model.rowCount() == 0


def test_replenishment_tasks_of_the_previous_warehouse_do_not_replace_the_chosen_ones(
        qtbot: QtBot, session: Session, stocked: World, make_ctx: Callable[[World, str], AppContext],
        monkeypatch: pytest.MonkeyPatch) -> None:
    face = stocked.bins["DAL1-A-01"]
    face.fixed_item_id, face.min_qty, face.max_qty = stocked.items["WIDGET"].id, 5, 25
    session.flush()
    assert len(check_pick_faces(session, stocked.actors["wes"], stocked.wh_dal.id).tasks) == 1
    session.commit()
    held = HeldRead(replenish_tab.open_task_views)
    monkeypatch.setattr(replenish_tab, "open_task_views", held)
    tab = InventoryScreen(make_ctx(stocked, "wes")).replenish
    qtbot.addWidget(tab)
    qtbot.waitUntil(held.entered.is_set, timeout=10000)  # DAL1's one task, slow to land
    assert tab.warehouse.currentText() == "DAL1"
    with qtbot.waitSignal(tab.loaded, timeout=10000) as loaded:
        tab.warehouse.setCurrentIndex(tab.warehouse.findText("HOU1"))
    assert loaded.args == [0]
    _land(tab.ctx, held)
    assert tab.model.rowCount() == 0


def test_transfer_list_read_before_a_new_transfer_does_not_hide_it(
        qtbot: QtBot, stocked: World, make_ctx: Callable[[World, str], AppContext],
        monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldRead(docs_tab.list_transfers)
    monkeypatch.setattr(docs_tab, "list_transfers", held)
    tab = InventoryScreen(make_ctx(stocked, "wes")).transfers
    qtbot.addWidget(tab)
    qtbot.waitUntil(held.entered.is_set, timeout=10000)  # the opening list (no transfers) is slow
    qtbot.waitUntil(lambda: tab.from_wh.count() == 2, timeout=10000)
    tab.lines = [("WIDGET", "3")]
    with qtbot.waitSignals([tab.done, tab.loaded], timeout=10000):
        tab.create_transfer()  # its data_changed refresh lists the new transfer
    assert tab.model.rowCount() == 1
    _land(tab.ctx, held)
    assert tab.model.rowCount() == 1


# ---- buying ------------------------------------------------------------------------------
@pytest.fixture
def pending_po(session: Session, world: World) -> Any:
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    approvals.ensure_default_rules(session, world.ho.id)
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=200)])
    purchasing.submit(session, world.actors["alice"], po.id)
    session.commit()
    assert po.status == "pending_approval"
    return po


def test_approvals_inbox_read_before_a_decision_does_not_bring_the_po_back(
        qtbot: QtBot, session: Session, world: World, pending_po: Any,
        make_ctx: Callable[[World, str], AppContext], monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldRead(approvals.inbox_rows)
    monkeypatch.setattr(approvals, "inbox_rows", held)
    ctx = make_ctx(world, "bob")
    inbox = ApprovalsInbox(ctx)
    qtbot.addWidget(inbox)
    qtbot.waitUntil(held.entered.is_set, timeout=10000)  # the opening read saw the PO waiting...
    approvals.approve(session, world.actors["bob"], pending_po.id)  # ...bob approved it elsewhere
    session.commit()
    with qtbot.waitSignal(inbox.refreshed, timeout=10000) as refreshed:
        inbox.refresh()
    assert refreshed.args == [0]
    _land(ctx, held)
    assert inbox.model.rowCount() == 0 and inbox.count.text() == "0 waiting for you"
    assert not inbox.approve_button.isEnabled()


def test_po_detail_loaded_twice_shows_the_newer_state(
        qtbot: QtBot, session: Session, world: World, pending_po: Any,
        make_ctx: Callable[[World, str], AppContext], monkeypatch: pytest.MonkeyPatch) -> None:
    held = HeldRead(po_documents.po_detail)
    monkeypatch.setattr(po_documents, "po_detail", held)
    ctx = make_ctx(world, "alice")
    d = PoDetailView(ctx)
    qtbot.addWidget(d)
    d.load(pending_po.id)  # reads "pending approval", slow to land
    qtbot.waitUntil(held.entered.is_set, timeout=10000)
    approvals.approve(session, world.actors["bob"], pending_po.id)
    session.commit()
    with qtbot.waitSignal(d.loaded, timeout=10000):
        d.load(pending_po.id)  # as after data_changed
    assert d.detail is not None and d.detail["status"] == "approved"
    _land(ctx, held)
    assert d.detail["status"] == "approved" and "Status: approved" in d.status.text()
    assert d.buttons["send"].isEnabled()
