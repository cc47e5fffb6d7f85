"""Objects of the GUI thread die on the GUI thread: what an op captured and its handle.

A QObject (a closed screen, an OpHandle) destroyed on a worker runs its C++ destructor off its
thread. Workers release nothing of the caller's (``app.views.ops``).
"""

from __future__ import annotations

import gc
import threading
import weakref

from pytestqt.qtbot import QtBot
from sqlalchemy.orm import Session

from app.services.errors import DomainError
from app.views.ops import run_task
from tests.factories import World
from tests.views.conftest import MakeCtx


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
