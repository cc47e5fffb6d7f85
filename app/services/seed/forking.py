"""Running a seed step in a forked process beside the main one (large seeds on 2 cores): the child's
answer or error comes back through a pipe. No helper thread is started, so a later fork copies none."""

from __future__ import annotations

import multiprocessing
import pickle
from collections.abc import Callable
from typing import Generic, TypeVar, cast

T = TypeVar("T")


class Forked(Generic[T]):
    """A function running in a forked process: call it to wait for its result (its error is re-raised)."""

    def __init__(self, fn: Callable[[], T], name: str) -> None:
        mp = multiprocessing.get_context("fork")
        receive, send = mp.Pipe(duplex=False)

        def child() -> None:
            receive.close()
            try:
                out: tuple[bool, object] = (True, fn())
            except BaseException as e:  # handed to the parent, which re-raises it
                out = (False, e)
                try:
                    pickle.loads(pickle.dumps(e))
                except Exception:  # an error that does not come back whole (a custom __init__): its text
                    out = (False, RuntimeError(f"seed: {name}: {type(e).__name__}: {e}"))
            send.send(out)
            send.close()

        self.name, self.receive = name, receive
        self.process = mp.Process(target=child, name=name, daemon=True)
        self.process.start()
        send.close()

    def ready(self) -> bool:
        """Whether the answer has come (waiting for it would not block)."""
        return self.receive.poll()

    def __call__(self) -> T:
        try:
            ok, value = cast(tuple[bool, object], self.receive.recv())
        except EOFError:
            self.process.join()
            raise RuntimeError(f"seed: the {self.name} process ended without an answer "
                               f"(exit code {self.process.exitcode})") from None
        finally:
            self.receive.close()
        self.process.join()
        if not ok:
            assert isinstance(value, BaseException)
            raise value
        return cast(T, value)


def fork(fn: Callable[[], T], name: str) -> Forked[T]:
    """Run ``fn`` in a forked process now; call what is returned to wait for its result. No helper
    thread is started (a later fork copies none)."""
    return Forked(fn, name)
