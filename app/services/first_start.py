"""A workstation's first start: no database on this computer yet. Either a new company (an empty
file; the setup assistant takes over), joining a branch that already works with the server (a new
file filled by the first sync), or restoring a backup (``app.services.restore``).

Why a service: the window's first-start dialog and the tests call the same functions, and either
way a step that fails leaves no half-made file behind, so the next start asks again.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable
from pathlib import Path

from psycopg.conninfo import conninfo_to_dict, make_conninfo

from app.services import schema
from app.services.db import check_file, make_engine, session_scope
from app.services.errors import DomainError, ValidationError
from app.services.org.setup import setup_state
from app.services.replication.conn import secret_name
from app.services.replication.engine import SyncResult, sync_once
from app.services.replication.one_at_a_time import lock_path
from app.services.replication.pull import PullProgress
from app.services.secrets import current as secret_store


class JoinFailed(DomainError):
    """The first sync of a joining workstation did not complete; no file was left behind."""


class JoinCancelled(Exception):
    """The user stopped a join's first sync; no file was left behind. Not a DomainError on purpose:
    ``sync_once`` turns those into an 'offline' result, and a cancel must end the sync at once."""

    def __init__(self) -> None:
        super().__init__("the first sync was cancelled: nothing was kept on this computer")


def _remove(path: Path) -> None:
    for p in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm"),
              lock_path(path)):  # the sync lock the first sync held (replication.one_at_a_time)
        with contextlib.suppress(OSError):
            p.unlink()


def create_new(path: Path) -> Path:
    """An empty Depot database at ``path`` (its folder is made); refuses an existing file."""
    path = Path(path)
    if path.exists():
        raise ValidationError("database file", f"{path} already exists")
    check_file(path, must_exist=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    engine = make_engine(path)
    try:
        schema.upgrade(engine)
    except BaseException:
        engine.dispose()
        _remove(path)
        raise
    engine.dispose()
    return path


def discard_if_empty(path: Path) -> bool:
    """A new company's file whose setup assistant was closed before anything was saved in it: removed
    (True), so the next start offers the first-start choices again (join, new, restore, demo) instead of
    an assistant for a file nobody wanted. A file holding anything the user entered (company, branches,
    warehouses, a user) is kept (False): the assistant opens on it again at the next start."""
    path = Path(path)
    if not path.exists():
        return False
    engine = make_engine(path)
    try:
        with session_scope(engine, write=False) as s:
            state = setup_state(s)
    finally:
        engine.dispose()
    if state.company or state.branches or state.warehouses or state.users:
        return False
    _remove(path)
    return True


def server_address(host: str, port: str | int, dbname: str, user: str) -> str:
    """The connection string of a branch login (no password: that goes to the keyring)."""
    host, dbname, user = host.strip(), dbname.strip(), user.strip()
    for name, value in (("server", host), ("database", dbname), ("branch login", user)):
        if not value:
            raise ValidationError(name, "is required")
    try:
        p = int(str(port).strip() or "5432")
    except ValueError:
        raise ValidationError("port", f"{port!r} is not a number") from None
    if not 1 <= p <= 65535:
        raise ValidationError("port", "must be between 1 and 65535")
    return make_conninfo("", host=host, port=str(p), dbname=dbname, user=user)


def join_branch(path: Path, dsn: str, password: str = "", *, progress: PullProgress | None = None,
                cancelled: Callable[[], bool] | None = None) -> SyncResult:
    """Make a new workstation file at ``path`` and fill it with the first sync from the server (the
    branch comes from the login). The password is kept with Depot's secrets under the login's name.
    Raises JoinFailed with the server's sentence, removing the new file. ``cancelled()`` is asked
    after each table the first sync applies: True rolls the sync back, removes the new file and
    raises JoinCancelled (a big branch's first sync takes minutes; the user may change their mind)."""

    def report(table: str, done: int, total: int, rows: int) -> None:
        if cancelled is not None and cancelled():
            raise JoinCancelled()
        if progress is not None:
            progress(table, done, total, rows)

    create_new(path)
    try:
        if cancelled is not None and cancelled():
            raise JoinCancelled()
        if password:
            secret_store().set(secret_name(str(conninfo_to_dict(dsn).get("user") or "")), password)
        engine = make_engine(path)
        try:
            res = sync_once(engine, dsn, progress=report)
        finally:
            engine.dispose()
    except BaseException:
        _remove(path)
        raise
    if not res.ok:
        _remove(path)
        raise JoinFailed(f"could not join the branch: {res.error}")
    return res
