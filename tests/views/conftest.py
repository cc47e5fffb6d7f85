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
from collections.abc import Iterator

import pytest

from app.views import ops


@pytest.fixture(autouse=True)
def _op_jitter(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    ms = int(os.environ.get("DEPOT_OP_JITTER", "0") or 0)
    if ms <= 0:
        yield
        return
    seed = int(os.environ.get("DEPOT_OP_JITTER_SEED", "0") or 0) or random.randrange(1 << 30)
    rng = random.Random(seed)
    run = ops._Task.run

    def shaken(self: ops._Task) -> None:
        if not self._runner.inline:
            time.sleep(rng.random() * ms / 1000)
        fn = self._fn

        def late(*args: object) -> object:
            result = fn(*args)
            if not self._runner.inline:
                time.sleep(rng.random() * ms / 1000)
            return result

        self._fn = late
        run(self)

    monkeypatch.setattr(ops._Task, "run", shaken)
    print(f"op jitter {ms} ms, seed {seed}")  # noqa: T201 - shown with the failure, to replay it
    yield
