"""Unexpected errors: the traceback goes to a file in the data folder, the user gets one line.

A user must never see a traceback (issue 10): the CLI prints ``depot: error: internal error
(KeyError: 'x'); details in FILE`` and exits 2, the window shows a dialog with "Copy details"
and keeps running. Both write the report here, one file per incident, so it can be attached
to a support request as it is. Only the newest ``KEEP`` reports are kept.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import platform
import sys
import tempfile
import traceback
from pathlib import Path
from types import TracebackType

from app import __version__
from app.services.errors import DomainError
from app.services.paths import user_data_dir

KEEP = 50
# Depot's log records go to the rotating file once ``logfile.setup`` ran; until then (a test, a hook
# outside the command line) nowhere, rather than to stderr through logging's last resort
logging.getLogger("depot").addHandler(logging.NullHandler())


class InternalError(DomainError):
    """What a screen or the CLI is handed instead of an unexpected exception: one line that
    says where the details are (``path``); ``details`` holds the traceback."""

    def __init__(self, summary: str, path: Path | None, details: str) -> None:
        where = f"; details in {path}" if path else ""
        super().__init__(f"internal error ({summary}){where}")
        self.summary = summary
        self.path = path
        self.details = details


def log_dir() -> Path:
    return user_data_dir() / "logs"


def summary(exc: BaseException) -> str:
    """``KeyError: 'x'``, cut to one short line."""
    text = " ".join(str(exc).split())
    if len(text) > 160:
        text = text[:157] + "..."
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


def format_details(exc: BaseException | None, tb_text: str = "", context: str = "") -> str:
    tb = tb_text or ("".join(traceback.format_exception(exc)) if exc is not None else "")
    head = [
        f"Depot {__version__} internal error",
        f"time: {dt.datetime.now(dt.UTC).isoformat(timespec='seconds')}",
        f"python: {sys.version.split()[0]} on {platform.platform()}",
        f"pid: {os.getpid()}",
    ]
    if context:
        head.append(f"while: {context}")
    return "\n".join(head) + "\n\n" + tb


def write(exc: BaseException | None, *, tb_text: str = "", context: str = "") -> Path | None:
    """Write one incident report; returns its path (None only when no folder at all is writable)."""
    body = format_details(exc, tb_text, context)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%f")
    name = f"internal-error-{stamp}-{os.getpid()}.txt"
    for folder in (log_dir(), Path(tempfile.gettempdir()) / "depot-logs"):
        try:
            folder.mkdir(parents=True, exist_ok=True)
            path = folder / name
            path.write_text(body, encoding="utf-8")
            _prune(folder)
            logging.getLogger("depot").error("internal error%s: %s; report %s", f" while {context}" if context else "",
                                             summary(exc) if exc is not None else "?", path)
            return path
        except OSError:
            continue
    return None


def _prune(folder: Path) -> None:
    try:
        old = sorted(folder.glob("internal-error-*.txt"))[:-KEEP]
        for p in old:
            p.unlink(missing_ok=True)
    except OSError:
        pass


def internal_error(exc: BaseException, *, tb_text: str = "", context: str = "") -> InternalError:
    """Log ``exc`` and return the one-line error that stands for it."""
    details = format_details(exc, tb_text, context)
    path = write(exc, tb_text=tb_text, context=context)
    return InternalError(summary(exc), path, details)


def excepthook_line(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None,
                    context: str = "") -> str:
    """For ``sys.excepthook`` outside the window: log and return the one line to print."""
    text = "".join(traceback.format_exception(exc_type, exc, tb))
    err = internal_error(exc, tb_text=text, context=context)
    return f"depot: error: {err}"
