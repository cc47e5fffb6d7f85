"""Settings on a workstation replicating as a branch: this file's branch is its server login's,
so the branch controls are off with the reason as tooltip (a standalone file's admin may set it)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from app.services.auth import Actor
from app.services.settings import Settings
from app.views.context import AppContext, make_test_context
from tests.factories import World, become_branch_site

MakeCtx = Callable[[Actor], AppContext]


@pytest.fixture
def make_ctx(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeCtx]:
    monkeypatch.setenv("DEPOT_QSETTINGS_FILE", str(tmp_path / "qt.ini"))
    made: list[AppContext] = []

    def make(actor: Actor) -> AppContext:
        ctx = make_test_context(engine, actor, Settings(tmp_path / "settings.json"))
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        assert ctx.runner.wait_idle(10000)
        ctx.runner.shutdown()


def _screen(qtbot: Any, ctx: AppContext) -> Any:
    from app.views.settings import SettingsScreen

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
