"""What every screen receives: ``Screen(ctx)`` with ``ctx: AppContext``.

No global main window: a screen gets the engine, the actor, the op runner, the app signals
and the settings through this one object (STYLE.md rule 2).
"""

from __future__ import annotations

import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from app.services.auth import Actor
from app.services.settings import Settings
from app.views.ops import OpRunner
from app.views.signals import AppSignals


@dataclass
class AppContext:
    """engine: the branch SQLite engine; actor: who is logged in; runner: the op runner
    (``runner.submit(fn, on_done, *, on_error, kinds, write, label, progress)``);
    signals: AppSignals (``data_changed(frozenset[Change])``); settings: the non-Qt store; jobs: the
    background jobs, when the window started them."""

    engine: Engine
    actor: Actor
    runner: OpRunner
    signals: AppSignals
    settings: Settings
    #: the window's background jobs (app.views.background.BackgroundJobs) once started, else None
    jobs: Any = None

    def can(self, action: str) -> bool:
        """Whether the logged-in actor may do ``action`` (app.services.auth.PERMISSIONS)."""
        return self.actor.can(action)


def make_context(engine: Engine, actor: Actor, settings: Settings | None = None, *,
                 inline: bool = False) -> AppContext:
    signals = AppSignals()
    runner = OpRunner(engine, signals, inline=inline)
    return AppContext(engine, actor, runner, signals, settings or Settings())


def make_test_context(engine: Engine, actor: Actor, settings: Settings | None = None, *,
                      inline: bool = False) -> AppContext:
    """A real context for tests: ops run on real threads; settings in a temp file.

    Use ``ctx.runner.wait_idle()`` or ``qtbot.waitUntil`` to wait for ops. ``inline=True`` runs
    every op in the calling thread and delivers its result before ``submit`` returns: fully
    deterministic unit tests (keep some tests on real threads too).
    """
    if settings is None:
        settings = Settings(Path(tempfile.mkdtemp(prefix="depot-settings-")) / "settings.json")
    return make_context(engine, actor, settings, inline=inline)
