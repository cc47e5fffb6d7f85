"""What the organisation editors need, in the setup assistant (no user yet) and in Settings alike.

The assistant runs before anybody signs in (``actor`` None, allowed while the file has no users:
``services.org.setup``); Settings passes the signed-in admin. Editors run every read and write
through ``runner`` (off the GUI thread) and report with ``show`` (one line, red on error).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from PySide6.QtWidgets import QLabel, QWidget

from app.services.auth import Actor
from app.views.ops import OpRunner


@dataclass
class OrgEnv:
    runner: OpRunner
    actor: Actor | None
    #: may this user change the organisation here (admin on a head-office or standalone file)
    editable: bool = True
    #: why not, for tooltips
    why_not: str = ""
    #: called after a write committed (other editors on the page reload; the screens learn through the runner)
    changed: list[Callable[[str], None]] = field(default_factory=list)

    def notify(self, what: str) -> None:
        for fn in self.changed:
            fn(what)

    def write(self, fn: Callable[..., Any], on_done: Callable[[Any], None], status: QLabel, label: str,
              *, progress: bool = False) -> Any:
        """Run a write op; its error goes to ``status`` as one red line. The runner tells the screens
        what kinds of data it wrote (derived from the tables: ``app.services.changes``)."""
        def failed(e: BaseException) -> None:
            show(status, False, str(e))

        return self.runner.submit(fn, on_done, on_error=failed, label=label, progress=progress)

    def read(self, fn: Callable[..., Any], on_done: Callable[[Any], None], key: object) -> Any:
        return self.runner.submit(fn, on_done, write=False, label="organisation", latest=key)


def show(label: QLabel, ok: bool, text: str) -> None:
    """One line in the status label: plain when it worked, red when it did not."""
    label.setStyleSheet("" if ok else "color: #b00020;")
    label.setText(text)


def lock(env: OrgEnv, widgets: list[QWidget]) -> None:
    """Disable the editing controls when this user (or this site) may not change the organisation."""
    for w in widgets:
        w.setEnabled(env.editable)
        if not env.editable:
            w.setToolTip(env.why_not or "Only an admin at head office changes the organisation")
