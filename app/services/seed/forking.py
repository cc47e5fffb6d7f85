"""Running a seed step in a forked process beside the main one (large seeds on 2 cores): the child's
answer or error comes back through a pipe. No helper thread is started, so a later fork copies none.

A child may also tell the parent something before its answer (``fork(..., telling=True)``: the
function gets a ``tell`` to call once): the seed's early forecasts say when their weekly history
is ready for the load to copy, then go on computing."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from multiprocessing.connection import wait
from typing import Any, Generic, TypeVar, cast

T = TypeVar("T")


class Forked(Generic[T]):
    """A function running in a forked process: call it to wait for its result (its error is re-raised)."""

    def __init__(self, fn: Callable[..., T], name: str, telling: bool = False) -> None:
        mp = multiprocessing.get_context("fork")
        receive, send = mp.Pipe(duplex=False)
        heard, tell = mp.Pipe(duplex=False) if telling else (None, None)

        def child() -> None:
            receive.close()
            if heard is not None:
                heard.close()
            try:
                out: tuple[bool, object] = (True, fn(tell.send) if tell is not None else fn())
            except BaseException as e:  # handed to the parent, which re-raises it
                out = (False, e)
                try:
                    pickle.loads(pickle.dumps(e))
                except Exception:  # an error that does not come back whole (a custom __init__): its text
                    out = (False, RuntimeError(f"seed: {name}: {type(e).__name__}: {e}"))
            send.send(out)
            send.close()

        self.name, self.receive, self.heard = name, receive, heard
        self.process = mp.Process(target=child, name=name, daemon=True)
        self.process.start()
        send.close()
        if tell is not None:
            tell.close()

    def ready(self) -> bool:
        """Whether the answer has come (waiting for it would not block)."""
        return self.receive.poll()

    def told(self) -> Any:
        """Wait for what the child tells before its answer; if it ends without telling, its error
        is re-raised (or a RuntimeError says so)."""
        assert self.heard is not None, "fork(..., telling=True) to be told something"
        if self.heard not in wait([self.heard, self.receive]) and not self.heard.poll():
            self.answer()
            raise RuntimeError(f"seed: the {self.name} process ended without telling what was waited for")
        try:
            return self.heard.recv()
        except EOFError:
            self.answer()
            raise RuntimeError(f"seed: the {self.name} process ended without telling what was waited for") from None

    def answer(self) -> T:
        """The child's result (its error re-raised), without reaping the process: a process forked from
        this one after it started may read the answer (``reap`` it here)."""
        try:
            ok, value = cast(tuple[bool, object], self.receive.recv())
        except EOFError:
            self.process.join()
            raise RuntimeError(f"seed: the {self.name} process ended without an answer "
                               f"(exit code {self.process.exitcode})") from None
        finally:
            self.receive.close()
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return cast(T, value)

    def close(self) -> None:
        """Let go of this process's ends of the pipes (a later fork reads the answer)."""
        self.receive.close()
        if self.heard is not None:
            self.heard.close()

    def reap(self) -> None:
        """Wait for the process to end (after its answer was read, here or in a later fork)."""
        self.close()
        self.process.join()

    def stop(self) -> None:
        """End the process now (the parent failed: its answer is no longer wanted)."""
        self.process.terminate()
        self.reap()

    def __call__(self) -> T:
        try:
            return self.answer()
        finally:
            self.reap()


def fork(fn: Callable[..., T], name: str, *, telling: bool = False) -> Forked[T]:
    """Run ``fn`` in a forked process now; call what is returned to wait for its result. No helper
    thread is started (a later fork copies none). ``telling``: ``fn`` takes a function by which it
    tells the parent one thing before it ends (``Forked.told`` waits for it)."""
    return Forked(fn, name, telling)
