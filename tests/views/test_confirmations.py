"""Supplier confirmations screen and the Exceptions screen, on real threads and a real db."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from pytestqt.modeltest import ModelTester
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.services import masterdata as md
from app.services.settings import Settings
from app.views.buying.confirmations import ConfirmationsView
from app.views.context import AppContext, make_test_context
from app.views.exceptions.screen import ExceptionsScreen
from tests.factories import World
from tests.services.test_edi_import import FIXTURES, fixture, make_po, set_edi

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared EDI fixtures not found")


@pytest.fixture
def ready(session: Session, world: World) -> World:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    make_po(session, world, "0132710645", [(10, item, 2, "350")])
    session.commit()
    return world


def _ctx(engine: Engine, world: World, user: str, tmp_path: Path) -> Iterator[AppContext]:
    c = make_test_context(engine, world.actors[user], Settings(tmp_path / f"{user}.json"))
    yield c
    assert c.runner.wait_idle(10000)


@pytest.fixture
def buyer(engine: Engine, ready: World, tmp_path: Path) -> Iterator[AppContext]:
    yield from _ctx(engine, ready, "alice", tmp_path)


def test_import_shows_the_message_and_its_differences(qtbot: QtBot, buyer: AppContext, tmp_path: Path,
                                                      qtmodeltester: ModelTester) -> None:
    view = ConfirmationsView(buyer)
    qtbot.addWidget(view)
    qtbot.waitUntil(lambda: not view.messages_model.loading)
    assert view.messages_model.rowCount() == 0
    bad = tmp_path / "bad.855"
    bad.write_bytes(fixture("x12/855_4010_adobe.txt").replace(b"SE*43*", b"SE*44*"))
    view.import_path(bad)
    qtbot.waitUntil(lambda: "refused" in view.message.text())
    assert "SE01 says 44 segments" in view.message.text()
    good = tmp_path / "good.855"
    good.write_bytes(fixture("x12/855_4010_adobe.txt"))
    with qtbot.waitSignal(view.imported, timeout=10000):
        view.import_path(good)
    assert "differences" in view.message.text()
    qtbot.waitUntil(lambda: view.messages_model.rowCount() == 1 and not view.messages_model.loading)
    qtmodeltester.check(view.messages_model)
    row = view.messages_model.row(0)
    assert (row.msg_type, row.po_number, row.differences) == ("855", "0132710645", 2)
    with qtbot.waitSignal(view.lines_loaded, timeout=10000):
        view.select_row(0)
    lines = view.lines_model
    qtmodeltester.check(lines)
    assert lines.rowCount() == 1
    cells = [lines.data(lines.index(0, c)) for c in range(lines.columnCount())]
    assert cells[:10] == ["10", "T05249", "MG:00065008880AD01A00, BP:T05249", "2", "1", "350.0000", "369.0000", "", "",
                          "changed"]
    assert "quantity changed 2 -> 1" in cells[10] and "price changed" in cells[10]
    assert "0132710645" in view.summary.text()
    view.only_diff.setChecked(True)
    qtbot.waitUntil(lambda: not view.messages_model.loading)
    assert view.messages_model.rowCount() == 1
    view.kind.setCurrentIndex(2)  # ship notices only
    qtbot.waitUntil(lambda: not view.messages_model.loading and view.messages_model.rowCount() == 0)


def test_exceptions_screen_acknowledge_and_resolve(qtbot: QtBot, buyer: AppContext, engine: Engine, ready: World,
                                                   tmp_path: Path, qtmodeltester: ModelTester) -> None:
    view = ConfirmationsView(buyer)
    qtbot.addWidget(view)
    good = tmp_path / "good.855"
    good.write_bytes(fixture("x12/855_4010_adobe.txt"))
    with qtbot.waitSignal(view.imported, timeout=10000):
        view.import_path(good)
    screen = ExceptionsScreen(buyer)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: screen.model.rowCount() == 2 and not screen.model.loading)
    qtmodeltester.check(screen.model)
    assert {screen.model.row(r).kind for r in range(2)} == {"edi.qty_changed", "edi.price_changed"}
    assert not screen.resolve_button.isEnabled()
    screen.table.selectRow(0)
    assert screen.resolve_button.isEnabled() and "PO 0132710645" in screen.detail.toPlainText()
    screen.acknowledge_selected()
    qtbot.waitUntil(lambda: "acknowledged" in screen.message.text())
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.row(0).status == "acknowledged")
    screen.table.selectAll()
    screen.note.setText("agreed with supplier")
    screen.resolve_selected()
    qtbot.waitUntil(lambda: "2 exception(s) resolved" in screen.message.text())
    qtbot.waitUntil(lambda: screen.model.rowCount() == 0 and not screen.model.loading)
    with Session(engine) as s:
        notes = s.scalars(select(ExceptionItem.resolution)).all()
    assert notes == ["agreed with supplier", "agreed with supplier"]


def test_receiver_does_not_see_buyer_exceptions_by_default(qtbot: QtBot, engine: Engine, ready: World,
                                                          tmp_path: Path, session: Session) -> None:
    from app.services.exception_inbox import raise_exception

    raise_exception(session, None, kind="edi.qty_changed", title="for the buyer", role="buyer",
                    owner_branch_id=ready.dal.id)
    session.commit()
    contexts = _ctx(engine, ready, "rita", tmp_path)
    screen = ExceptionsScreen(next(contexts))
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: not screen.model.loading)
    assert screen.model.rowCount() == 0
    screen.scope.setCurrentIndex(1)  # All
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() == 1)
    screen.table.selectRow(0)
    screen.resolve_selected()
    qtbot.waitUntil(lambda: "may not handle" in screen.message.text())
    next(contexts, None)  # waits for the runner to be idle


def test_a_customer_order_picked_here_is_answered_into_the_outbound_folder_of_settings(
        qtbot: QtBot, engine: Engine, session: Session, world: World, tmp_path: Path) -> None:
    """Without an outbound folder its 997 and 855 would take control numbers and go nowhere, so it
    is refused; with one (Settings > EDI) it is imported and answered there."""
    from tests.services.sales_helpers import customer, people, put
    from tests.services.test_customer_edi import x850

    clerk = people(session, world)["clara"]
    customer(session, "BUILDMART", "gold", edi_qualifier="ZZ", edi_id="BUILDMART", edi_format="x12")
    put(session, world, "WIDGET", 100)
    session.commit()
    settings = Settings(tmp_path / "clara.json")
    ctx = make_test_context(engine, clerk, settings)
    view = ConfirmationsView(ctx)
    qtbot.addWidget(view)
    order = tmp_path / "po.x12"
    order.write_bytes(x850(lines=["PO1*1*2*EA*2.99**VP*WIDGET"]))
    view.import_path(order)
    qtbot.waitUntil(lambda: "refused" in view.message.text(), timeout=10000)
    assert "answered with a 997 and an 855" in view.message.text()
    out = tmp_path / "outbound"
    out.mkdir()
    settings.set("edi.outbound_dir", str(out))
    with qtbot.waitSignal(view.imported, timeout=10000):
        view.import_path(order)
    assert "BM-4471 -> DAL-SO-" in view.message.text()
    assert sorted(p.name[:3] for p in out.iterdir()) == ["855", "997"]
    assert ctx.runner.wait_idle(10000)
