"""Closed windows left as cyclic garbage while ops run: the stress the GUI-thread collector answers.

Run as ``python -m tests.views.gc_stress ROUNDS [--automatic]``. Each round shows and closes a
window whose widgets sit in a reference cycle (as a screen's do once its lambdas and helpers
point back at it), drops it, and runs read ops on a real OpRunner whose workers allocate, as
SQLAlchemy does. With ``--automatic`` (Python's own collector, Depot before
``app.views.collector``) a worker soon collects the window and runs its C++ destructor off the
GUI thread: the process dies (SIGSEGV, 3 runs out of 3 at 300 rounds). Prints where collections
ran and ``survived``.
"""

from __future__ import annotations

import faulthandler
import gc
import os
import sys
import tempfile
import threading
from pathlib import Path
from typing import Any

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtWidgets import QApplication, QLineEdit, QVBoxLayout, QWidget  # noqa: E402
from sqlalchemy import text  # noqa: E402
from sqlalchemy.orm import Session  # noqa: E402

from app.services.db import make_engine  # noqa: E402
from app.views import collector  # noqa: E402
from app.views.ops import OpRunner  # noqa: E402
from app.views.signals import AppSignals  # noqa: E402


class _Window(QWidget):
    """A top-level window of a few fields, in a cycle with itself: only the collector frees it."""

    def __init__(self) -> None:
        super().__init__()
        layout = QVBoxLayout(self)
        self.fields = [QLineEdit(self) for _ in range(20)]
        for field in self.fields:
            layout.addWidget(field)
        self.me = self


def _read(session: Session) -> int:
    junk: list[list[int]] = []
    for i in range(20000):  # container allocations: a collection is due on this worker, often
        junk.append([i])
        if len(junk) > 500:
            junk = []
    return int(session.execute(text("select 1")).scalar_one())


def main(argv: list[str]) -> int:
    faulthandler.enable(all_threads=True)
    rounds = int(argv[0]) if argv else 300
    app = QApplication.instance() or QApplication([])
    if "--automatic" not in argv:
        collector.install(app)
    where = {"gui": 0, "worker": 0}
    gui_thread = threading.get_ident()

    def count(phase: str, _info: dict[str, Any]) -> None:
        if phase == "start":
            where["gui" if threading.get_ident() == gui_thread else "worker"] += 1

    gc.callbacks.append(count)
    engine = make_engine(Path(tempfile.mkdtemp(prefix="depot-gc-stress-")) / "stress.db")
    runner = OpRunner(engine, AppSignals())
    try:
        for _ in range(rounds):
            window = _Window()
            window.show()
            window.close()
            del window  # garbage now, its C++ side alive and owned by Python
            for _ in range(3):
                runner.submit(_read, write=False, label="stress read")
            if not runner.wait_idle(30_000):
                print("ops did not finish", flush=True)
                return 1
    finally:
        runner.shutdown()
        engine.dispose()
        gc.callbacks.remove(count)
    print(f"collections: gui {where['gui']}, worker {where['worker']}", flush=True)
    print("survived", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
