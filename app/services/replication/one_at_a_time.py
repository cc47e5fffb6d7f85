"""One sync of a branch file at a time, across processes.

The window syncs in the background while `depot sync`, a scheduled task or a second window may sync
the same file. Two pushes of one outbox raced for the same batch receipt on the server (the loser
reported "duplicate key value violates unique constraint depot_receipt_pkey", seen walking a server
restore with the window open), and two re-syncs after a server restore each pushed the whole branch
again. So a sync holds an exclusive lock on ``<file>.sync-lock`` beside the database: the OS frees it
when the holder exits or is killed, so a crashed program never leaves a stale lock behind.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import IO

#: how long a sync waits for another program's sync of the same file before it gives up (a first
#: sync of a large branch takes about a minute on a slow workstation)
WAIT_S = 120.0


class SyncBusy(Exception):
    """Another program is syncing this database file."""


def lock_path(db_path: str | os.PathLike[str]) -> Path:
    return Path(f"{db_path}.sync-lock")


def _try_lock(f: IO[bytes]) -> bool:
    if sys.platform == "win32":  # pragma: no cover - exercised by the Windows build only
        import msvcrt

        try:
            msvcrt.locking(f.fileno(), msvcrt.LK_NBLCK, 1)
            return True
        except OSError:
            return False
    import fcntl

    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def _holder(path: Path) -> str:
    try:
        pid = path.read_text().strip()
    except OSError:
        return ""
    return f" (process {pid})" if pid.isdigit() else ""


@contextlib.contextmanager
def one_sync_at_a_time(db_path: str | os.PathLike[str] | None, wait_s: float = WAIT_S) -> Iterator[None]:
    """Hold this file's sync lock for the block; wait up to ``wait_s`` for another program's sync to
    end, then raise ``SyncBusy`` with a sentence. An in-memory database (no path) needs no lock."""
    if not db_path or str(db_path) == ":memory:":
        yield
        return
    path = lock_path(db_path)
    f = open(path, "a+b")  # noqa: SIM115 - held for the block; closing it releases the lock
    try:
        deadline = time.monotonic() + wait_s
        while not _try_lock(f):
            if time.monotonic() >= deadline:
                raise SyncBusy(f"another Depot program{_holder(path)} is syncing this database; "
                               f"this sync waited {wait_s:.0f} s and gave up (it runs again at the next interval)")
            time.sleep(0.2)
        f.seek(0)
        f.truncate()
        f.write(str(os.getpid()).encode())
        f.flush()
        yield
    finally:
        f.close()
