"""The Exceptions screen on a branch workstation: this branch's by default, others' read-only."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.services.exception_inbox import raise_exception
from app.services.settings import Settings
from app.views.context import make_test_context
from app.views.exceptions.screen import ExceptionsScreen
from tests.factories import World, become_branch_site


def test_branch_sees_its_own_and_others_read_only(qtbot: QtBot, engine: Engine, session: Session, world: World,
                                                  tmp_path: Path) -> None:
    for branch in (world.dal, world.hou):
        raise_exception(session, None, kind="edi.qty_changed", title=f"{branch.code}-PO-1: quantity changed",
                        role="buyer", owner_branch_id=branch.id)
    session.commit()
    become_branch_site(engine, world.dal)
    ctx = make_test_context(engine, world.actors["mike"], Settings(tmp_path / "mike.json"))
    screen = ExceptionsScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() == 1)
    assert screen.model.row(0).branch == "DAL"
    screen.branches.setCurrentIndex(1)  # All branches
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() == 2)
    hou_row = next(r for r in range(2) if screen.model.row(r).branch == "HOU")
    screen.table.selectRow(hou_row)
    assert not screen.ack_button.isEnabled() and not screen.resolve_button.isEnabled()
    assert "HOU handles its own exceptions" in screen.resolve_button.toolTip()
    screen.acknowledge_selected()  # the shortcut still answers, with the owner named
    assert screen.message.text() == "exception 'HOU-PO-1: quantity changed' belongs to HOU; HOU handles it"
    screen.table.selectRow(1 - hou_row)
    assert screen.resolve_button.isEnabled()
    screen.resolve_selected()
    qtbot.waitUntil(lambda: "1 exception(s) resolved" in screen.message.text())
    qtbot.waitUntil(lambda: not screen.model.loading and screen.model.rowCount() == 1)
    assert screen.model.row(0).branch == "HOU" and screen.model.row(0).status == "open"
    assert ctx.runner.wait_idle(10000)
