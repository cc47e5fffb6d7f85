"""The rotating log file a support person reads: ``depot.log`` in the data folder's ``logs``.

Why a file: branch staff cannot describe what went wrong, but they can send a file. Every process
(the window and the ``depot`` command) appends to the same ``depot.log`` (1 MB, five old files kept,
so it never grows without end): start-up with the version and database, background jobs that
failed, backups and restores, schema upgrades, and each internal error with its report's name.
Nothing secret is written: a filter blanks passwords in connection strings and ``key=value`` pairs
before a record reaches the file. ``recent_problems`` reads the last warnings back (the diagnostics).
"""

from __future__ import annotations

import contextlib
import logging
import logging.handlers
import os
import re
import sys
from pathlib import Path

from app import __version__
from app.services.paths import user_data_dir

LOGGER = "depot"
MAX_BYTES = 1_000_000
BACKUPS = 5
_SECRET = re.compile(r"(?i)((?:password|passwd|pwd|secret|token|api_key)\s*[=:]\s*)('[^']*'|\"[^\"]*\"|\S+)")
_URL_PASSWORD = re.compile(r"(?i)(\w+://[^:/@\s]+:)([^@\s]+)(@)")

log = logging.getLogger(LOGGER)


def redact(text: str) -> str:
    """Blank the secrets a line may carry (``password=...``, ``postgresql://user:pw@host``)."""
    return _URL_PASSWORD.sub(r"\1***\3", _SECRET.sub(r"\1***", text))


class _Redact(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        with contextlib.suppress(Exception):
            record.msg = redact(record.getMessage())
            record.args = None
        return True


def log_path() -> Path:
    return user_data_dir() / "logs" / "depot.log"


def setup(what: str, *, level: int = logging.INFO) -> Path | None:
    """Attach the rotating file to the ``depot`` logger (once per process); the file is opened only when
    something is logged. Returns its path (None when the folder cannot be made: never fatal)."""
    path = log_path()
    for h in log.handlers:
        if isinstance(h, logging.handlers.RotatingFileHandler) and Path(h.baseFilename) == path:
            return path
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS,
                                                       encoding="utf-8", delay=True)
    except OSError:
        return None
    handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s [%(process)d] %(name)s: %(message)s"))
    handler.addFilter(_Redact())
    log.addHandler(handler)
    log.setLevel(level)
    log.propagate = False
    log.debug("logging to %s for %s", path, what)
    return path


def started(what: str, db: object = "") -> None:
    log.info("start %s: depot %s, python %s on %s, pid %d%s", what, __version__, sys.version.split()[0],
             sys.platform, os.getpid(), f", database {db}" if db else "")


def recent_problems(limit: int = 20) -> list[str]:
    """The last ``limit`` warning and error lines of the log (newest last), for the diagnostics."""
    path = log_path()
    lines: list[str] = []
    for p in (path.with_name(path.name + ".1"), path):
        try:
            with p.open(encoding="utf-8", errors="replace") as f:
                lines += [ln.rstrip("\n") for ln in f if " WARNING " in ln or " ERROR " in ln]
        except OSError:
            continue
    return [redact(ln) for ln in lines[-limit:]]
