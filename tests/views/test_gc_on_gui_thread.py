"""Objects of the GUI thread die on the GUI thread: what an op captured, its handle, cyclic garbage.

A QObject (a closed screen, an OpHandle) destroyed on a worker runs its C++ destructor off its
thread; two full runs of the suite died so. Workers release nothing of the caller's
(``app.views.ops``) and never collect cycles (``app.views.collector``).
"""

from __future__ import annotations

import gc
import os
import subprocess
import sys
import threading
import weakref
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from app.views import collector
from app.views.ops import run_task
from tests.factories import World
from tests.views.conftest import MakeCtx

ROOT = Path(__file__).resolve().parents[2]


class _Deaths:
    """Records the thread each sentinel is freed on."""

    def __init__(self) -> None:
        self.threads: list[int] = []
        self.made = 0

    def sentinel(self) -> object:
        deaths = self

        class Sentinel:
            def __del__(self) -> None:
                deaths.threads.append(threading.get_ident())

        self.made += 1
        return Sentinel()

    def on_handle(self, handle: object) -> None:
        self.made += 1
        weakref.finalize(handle, lambda: self.threads.append(threading.get_ident()))

    def off_gui(self) -> int:
        return sum(t != threading.main_thread().ident for t in self.threads)


def _allocate(_s: Session | None = None) -> int:
    junk: list[list[int]] = []
    for i in range(20000):  # thousands of live containers: a collection falls due on this worker
        junk.append([i])
        if len(junk) > 2000:
            junk = []
    return len(junk)


def _refuse(_s: Session) -> None:
    raise DomainError("refused")


def test_what_an_op_captured_and_its_handle_are_released_on_the_gui_thread(
        qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    ctx = make_ctx(world.actors["rita"])
    deaths = _Deaths()
    errors: list[BaseException] = []
    for _ in range(10):
        # nobody on the GUI side keeps fn, the handle or the result: the runner alone does
        k = deaths.sentinel()
        deaths.on_handle(ctx.runner.submit(lambda s, _k=k: _allocate(s), write=False))
        k = deaths.sentinel()
        deaths.on_handle(ctx.runner.submit(lambda s, _k=k: _refuse(s), on_error=errors.append, write=False))
        k = deaths.sentinel()
        deaths.on_handle(ctx.runner.submit(lambda s, _k=k: (_k, _allocate(s)), write=True))  # the result holds it
        k = deaths.sentinel()
        deaths.on_handle(ctx.runner.submit_io(lambda _k=k: _allocate()))
        del k
    assert ctx.runner.wait_idle(20000)
    done: list[object] = []
    for _ in range(5):
        k = deaths.sentinel()
        run_task(lambda _report, _k=k: _allocate(), done.append, errors.append)
        del k
    qtbot.waitUntil(lambda: len(done) == 5, timeout=20000)
    assert len(errors) == 10 and all(str(e) == "refused" for e in errors)
    errors.clear()  # the errors' tracebacks hold their ops' frames
    gc.collect()
    assert len(deaths.threads) == deaths.made == 85  # 40 sentinels, 40 handles, 5 tasks' sentinels
    assert deaths.off_gui() == 0


def test_worker_threads_never_collect_cyclic_garbage(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    assert collector.installed() is not None and not gc.isenabled()
    ctx = make_ctx(world.actors["rita"])
    deaths = _Deaths()
    collections: list[int] = []

    def seen(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            collections.append(threading.get_ident())

    gc.callbacks.append(seen)
    try:
        for _ in range(50):
            cycle: list[Any] = [deaths.sentinel()]
            cycle.append(cycle)  # only a collection frees it
        del cycle
        for _ in range(12):
            ctx.runner.submit(_allocate, write=False)
        assert ctx.runner.wait_idle(20000)
        assert deaths.off_gui() == 0
        assert all(t == threading.main_thread().ident for t in collections)  # Python's own: 12 of 12 on workers
        gc.collect()
    finally:
        gc.callbacks.remove(seen)
    assert len(deaths.threads) == 50 and deaths.off_gui() == 0


def test_the_gui_thread_collects_when_a_threshold_is_passed_and_a_worker_never_does(qtbot: QtBot) -> None:
    gui = collector.install()
    gui.collect_due()
    assert gui.collect_due() == 0  # nothing due right after a collection

    def garbage() -> None:
        for _ in range(gc.get_threshold()[0] + 100):
            c: list[Any] = []
            c.append(c)

    garbage()
    found: list[int] = []
    worker = threading.Thread(target=lambda: found.append(gui.collect_due()))
    worker.start()
    worker.join()
    assert found == [0]  # a worker asking collects nothing
    before = sum(gui.collections)
    assert gui.collect_due() > 0 and sum(gui.collections) == before + 1
    garbage()
    qtbot.waitUntil(lambda: sum(gui.collections) >= before + 2, timeout=5000)  # the timer, unasked


@pytest.mark.slow
def test_closed_windows_left_as_garbage_while_ops_run_do_not_crash_the_process() -> None:
    """The crash itself, in a child process: 300 closed windows in cycles while workers allocate
    (``--automatic``, Python's own collector, dies with SIGSEGV; see tests/views/gc_stress.py)."""
    env = {**os.environ, "QT_QPA_PLATFORM": "offscreen"}
    for _ in range(3):
        run = subprocess.run([sys.executable, "-m", "tests.views.gc_stress", "300"], cwd=ROOT, env=env,
                             capture_output=True, text=True, timeout=600)
        assert run.returncode == 0, run.stderr[-3000:]
        assert "survived" in run.stdout and "worker 0" in run.stdout, run.stdout
