"""Settings on a workstation replicating as a branch: this file's branch is its server login's,
so the branch controls are off with the reason as tooltip (a standalone file's admin may set it)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Engine

from app.services.auth import Actor
from app.views.context import AppContext
from tests.factories import World, become_branch_site

MakeCtx = Callable[[Actor], AppContext]


def _screen(qtbot: Any, ctx: AppContext) -> Any:
    from app.views.settings.screen import SettingsScreen

    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    g = screen.general
    qtbot.waitUntil(lambda: g.branch_combo.count() == 3)
    assert ctx.runner.wait_idle(10000)
    return screen


def test_branch_controls_are_off_on_a_replicating_site_with_the_reason(qtbot: Any, world: World, engine: Engine,
                                                                       make_ctx: MakeCtx) -> None:
    become_branch_site(engine, world.dal)
    screen = _screen(qtbot, make_ctx(world.actors["root"]))
    g = screen.general
    assert g.branch_label.text().startswith("DAL")
    assert not g.branch_combo.isEnabled() and not g.branch_save.isEnabled()
    assert g.branch_save.toolTip().startswith("This workstation replicates with a server, so its branch is its "
                                              "server login's branch")


def test_branch_controls_are_on_for_an_admin_of_a_standalone_file(qtbot: Any, world: World,
                                                                  make_ctx: MakeCtx) -> None:
    screen = _screen(qtbot, make_ctx(world.actors["root"]))
    g = screen.general
    assert g.branch_combo.isEnabled() and g.branch_save.isEnabled() and g.branch_save.toolTip() == ""
