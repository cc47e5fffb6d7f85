"""GUI tests: an opt-in shaker for the op runner, to find order-of-completion races.

``DEPOT_OP_JITTER=<ms>`` makes every op wait a random 0..ms before it runs and again before
its result is handed back, so background ops finish in any order (CI's busy machines do this
by accident). A screen or test that only passes in one order then fails here, every few runs,
instead of once a month in CI. Off by default; it never replaces waiting for a signal.
"""

from __future__ import annotations

import os
import random
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from app.services.auth import Actor
from app.services.settings import Settings
from app.views import ops
from app.views.context import AppContext, make_test_context

MakeCtx = Callable[[Actor], AppContext]


@pytest.fixture
def make_ctx(engine: Engine, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[MakeCtx]:
    """Contexts for screens under test (their own QSettings file); every runner is drained and
    shut down after the test, so no op outlives it."""
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


@pytest.fixture(autouse=True)
def _op_jitter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ms = int(os.environ.get("DEPOT_OP_JITTER", "0") or 0)
    if ms <= 0:
        yield
        return
    seed = int(os.environ.get("DEPOT_OP_JITTER_SEED", "0") or 0) or random.randrange(1 << 30)
    rng = random.Random(seed)
    run = ops._Task.run

    def late(fn: Callable[..., object]) -> Callable[..., object]:
        def call(*args: object) -> object:
            result = fn(*args)
            time.sleep(rng.random() * ms / 1000)
            return result

        return call

    def shaken(self: ops._Task) -> None:
        if not self.inline:
            time.sleep(rng.random() * ms / 1000)
            # no local keeps fn: the task lets go of it before the GUI thread hears of the result
            self._fn = late(self._fn)  # type: ignore[arg-type]
        run(self)

    monkeypatch.setattr(ops._Task, "run", shaken)
    print(f"op jitter {ms} ms, seed {seed}")  # noqa: T201 - shown with the failure, to replay it
    yield
