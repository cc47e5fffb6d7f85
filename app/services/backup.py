"""Backups of the branch database while people work: SQLite's online backup API, on a schedule
(the registered job ``backup``) and on demand (``depot backup``, Settings > Backups).

Why this shape: the branch file is the branch's only copy of what has not reached the server yet,
and a dead disk must not take it along. SQLite's backup API copies a consistent snapshot while the
window keeps writing (WAL: the copy's read never blocks a writer). A backup is written to a hidden
``.partial`` file in the target folder, checked (``quick_check``), flushed to disk and only then
renamed to its final name, so a killed process or a full share leaves either no backup or a whole
one, never a half file under a real name; the branch database itself is only ever read.

Files are named ``depot-<BRANCH>-<UTC stamp>.db`` and carry their own description in
``sync_state`` (``backup.taken_at``, ``backup.source``), so a file copied off a share by hand still
says what it is. Backups older than the kept days are removed, but never the newest ones.
Restoring lives in ``app.services.restore``.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import errno
import logging
import os
import re
import shutil
import signal
import sqlite3
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, exc

from app.models.types import hex_of
from app.services import jobs, schema
from app.services.db import SQLITE_MAGIC, make_engine
from app.services.errors import DatabaseProblem, DomainError, ValidationError
from app.services.paths import user_data_dir

#: days a backup is kept (``backup.keep_days``); the newest ``KEEP_AT_LEAST`` are kept whatever their age
KEEP_DAYS = 14
KEEP_AT_LEAST = 3
#: hours between scheduled backups (``backup.every_hours``); the job looks once an hour
EVERY_HOURS = 24.0
log = logging.getLogger("depot.backup")
NAME_RE = re.compile(r"^depot-(?P<branch>[A-Za-z0-9_]+)-(?P<stamp>\d{8}T\d{6}Z)(?:-\d+)?\.db$")


class BackupError(DomainError):
    """A backup could not be written (folder missing, read-only or full); the branch database is untouched."""


@dataclass(frozen=True)
class BackupFile:
    """One backup on disk: what its name and its own ``sync_state`` say."""

    path: Path
    branch: str
    taken_at: dt.datetime
    size: int
    site_id: str = ""
    branch_id: str = ""
    schema: tuple[str, ...] = ()

    def as_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["path"] = str(self.path)
        d["taken_at"] = self.taken_at.isoformat(timespec="seconds")
        d["schema"] = list(self.schema)
        return d


@dataclass
class BackupReport:
    """What one backup run did (the job's report: ``ok``; ``changed`` is False, it writes no rows)."""

    ok: bool = True
    path: str = ""
    size: int = 0
    seconds: float = 0.0
    removed: list[str] = field(default_factory=list)
    error: str = ""
    skipped: str = ""
    changed: bool = False

    def line(self) -> str:
        if not self.ok:
            return f"backup failed: {self.error}"
        if self.skipped:
            return self.skipped
        gone = f"; removed {len(self.removed)} older" if self.removed else ""
        return f"backed up to {self.path} ({self.size / 1e6:.1f} MB in {self.seconds:.1f} s){gone}"


def fault(point: str) -> None:
    """The crash tests' kill switch (``DEPOT_SYNC_FAULT=<point>``, as in replication.faults; not imported
    from there: the replication package pulls in the PostgreSQL driver, which a backup never needs)."""
    if os.environ.get("DEPOT_SYNC_FAULT") == point:
        os.kill(os.getpid(), signal.SIGKILL)


def default_folder() -> Path:
    return user_data_dir() / "backups"


def folder_from(settings: Any) -> Path:
    """The folder the settings name (``backup.dir``), else the data folder's ``backups``."""
    configured = str(settings.get("backup.dir", "") or "").strip() if settings is not None else ""
    return Path(configured) if configured else default_folder()


def keep_days_from(settings: Any) -> int:
    try:
        return max(1, int(settings.get("backup.keep_days", KEEP_DAYS) or KEEP_DAYS))
    except (TypeError, ValueError, AttributeError):
        return KEEP_DAYS


def check_folder(folder: Path, *, create_default: bool = True) -> Path:
    """Refuse a folder that is missing (the default one is created), not a folder, or not writable,
    with a sentence; a share that went away reads as missing."""
    if not folder.exists():
        if create_default and folder == default_folder():
            try:
                folder.mkdir(parents=True, exist_ok=True)
            except OSError as e:
                raise BackupError(f"cannot create the backup folder {folder}: {e.strerror or e}") from None
        else:
            raise BackupError(f"the backup folder {folder} does not exist (or the share is not connected); "
                              "create it or choose another in Settings > Backups")
    if not folder.is_dir():
        raise BackupError(f"the backup folder {folder} is a file, not a folder")
    probe = folder / f".depot-write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"x")
    except OSError as e:
        raise BackupError(f"cannot write to the backup folder {folder}: {e.strerror or e}") from None
    finally:
        with contextlib.suppress(OSError):
            probe.unlink()
    return folder


def _branch_code(con: sqlite3.Connection) -> str:
    try:
        row = con.execute("SELECT b.code FROM local_site s JOIN branch b ON b.id = s.branch_id WHERE s.id = 1").fetchone()
    except sqlite3.DatabaseError:
        return "SITE"
    code = re.sub(r"[^A-Za-z0-9_]", "_", str(row[0])) if row and row[0] else "SITE"
    return code or "SITE"


def _explain(e: BaseException, folder: Path) -> str:
    msg = str(e).lower()
    if isinstance(e, OSError) and e.errno == 28 or "full" in msg:
        return f"the backup folder {folder} is full"
    if isinstance(e, OSError) and e.errno in (13, 30) or "readonly" in msg or "read-only" in msg or "permission" in msg:
        return f"cannot write to the backup folder {folder} (read-only)"
    if isinstance(e, OSError):
        return f"cannot write to the backup folder {folder}: {e.strerror or e}"
    return f"the backup could not be written to {folder}: {e}"


def damage(rows: list[Any]) -> str:
    """What ``PRAGMA quick_check`` found, in a line: its first problem and how many more. SQLite lists
    every damaged page (a file with 2 MB overwritten gave 100 lines), which is no sentence to show."""
    problems = [ln.strip() for r in rows for ln in str(r[0]).splitlines()
                if ln.strip() and not ln.startswith("*** in database")]
    if not problems:
        return "unreadable"
    more = f", and {len(problems) - 1} more problems" if len(problems) > 1 else ""
    return problems[0] + more


def discard(path: Path) -> None:
    """Remove a file SQLite wrote and whatever journal it left beside it (-journal, -wal, -shm): a
    backup that failed on a full share left its ``.partial-journal`` there, one more every hour."""
    for p in (path, *(path.with_name(path.name + s) for s in ("-journal", "-wal", "-shm"))):
        with contextlib.suppress(OSError):
            p.unlink()


def _fsync(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def copy_database(source: sqlite3.Connection, dest_path: Path) -> None:
    """Copy ``source`` into a new single-file database at ``dest_path`` with the backup API, in one
    step (one consistent snapshot; writers on other connections go on in WAL mode)."""
    dest = sqlite3.connect(dest_path, isolation_level=None)
    try:
        source.backup(dest, pages=-1)
        dest.execute("PRAGMA journal_mode = DELETE")  # one self-contained file, no -wal beside it
    finally:
        dest.close()


def take_backup(db_path: str | Path, folder: Path, *, keep_days: int = KEEP_DAYS,
                now: dt.datetime | None = None) -> BackupReport:
    """Back up the branch database at ``db_path`` into ``folder`` (which must exist, unless it is the
    default one), then remove backups of this branch older than ``keep_days``. Raises BackupError
    with a sentence; the branch database is only read."""
    t0 = time.monotonic()
    folder = check_folder(Path(folder))
    src_path = Path(db_path)
    try:
        with src_path.open("rb") as f:
            if f.read(16) != SQLITE_MAGIC:
                raise BackupError(f"{src_path} is not a Depot database; nothing to back up")
    except OSError as e:
        raise BackupError(f"cannot read {src_path}: {e.strerror or e}") from None
    now = (now or dt.datetime.now(dt.UTC)).astimezone(dt.UTC)
    src = sqlite3.connect(src_path, isolation_level=None, timeout=30)
    try:
        branch = _branch_code(src)
        stamp = now.strftime("%Y%m%dT%H%M%SZ")
        final = folder / f"depot-{branch}-{stamp}.db"
        n = 1
        while final.exists():
            final = folder / f"depot-{branch}-{stamp}-{n}.db"
            n += 1
        partial = folder / f".{final.name}.partial"
        try:
            copy_database(src, partial)
            dest = sqlite3.connect(partial, isolation_level=None)
            try:
                dest.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('backup.taken_at', ?), "
                             "('backup.source', ?)", (now.isoformat(timespec="seconds"), str(src_path)))
                ok = dest.execute("PRAGMA quick_check").fetchall()
            finally:
                dest.close()
            if [r[0] for r in ok] != ["ok"]:
                raise BackupError(f"the backup written to {folder} does not read back ({damage(ok)}); "
                                  "check the disk or share")
            _fsync(partial)
            fault("backup-before-rename")  # the crash test: killed with a whole copy not yet named
            os.replace(partial, final)
            if hasattr(os, "O_DIRECTORY"):
                _fsync(folder)
        except BackupError:
            discard(partial)
            raise
        except (OSError, sqlite3.Error) as e:
            discard(partial)
            raise BackupError(_explain(e, folder) + "; the branch database is untouched") from None
    finally:
        src.close()
    removed = prune(folder, branch, keep_days=keep_days, now=now)
    log.info("backed up %s to %s (%d bytes)%s", src_path, final, final.stat().st_size,
             f"; removed {len(removed)} older" if removed else "")
    return BackupReport(ok=True, path=str(final), size=final.stat().st_size, seconds=time.monotonic() - t0,
                        removed=[str(p) for p in removed])


def describe(path: Path) -> BackupFile:
    """What a backup file says of itself (name, then its own rows). Raises BackupError when it is not a
    readable Depot database."""
    p = Path(path)
    try:
        with p.open("rb") as f:
            head = f.read(16)
        size = p.stat().st_size
    except OSError as e:
        raise BackupError(f"cannot read {p}: {e.strerror or e}") from None
    if head != SQLITE_MAGIC:
        raise BackupError(f"{p} is not a Depot backup (not an SQLite database, or damaged)")
    m = NAME_RE.match(p.name)
    try:
        con = sqlite3.connect(f"file:{p}?mode=ro&immutable=1", uri=True)
        try:
            state = dict(con.execute("SELECT key, value FROM sync_state WHERE key LIKE 'backup.%'").fetchall())
            site = con.execute("SELECT site_id, branch_id FROM local_site WHERE id = 1").fetchone()
            heads = tuple(sorted(str(r[0]) for r in con.execute("SELECT version_num FROM alembic_version")))
            branch = _branch_code(con)
        finally:
            con.close()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{p} is damaged or truncated ({e}); it is not a backup Depot can read") from None
    taken = state.get("backup.taken_at")
    if taken:
        when = dt.datetime.fromisoformat(taken)
    elif m:
        when = dt.datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
    else:
        when = dt.datetime.fromtimestamp(p.stat().st_mtime, dt.UTC)
    return BackupFile(p, branch, when, size, hex_of(site[0] or "") if site else "",
                      hex_of(site[1]) if site and site[1] else "", heads)


def list_backups(folder: Path, branch: str | None = None) -> list[BackupFile]:
    """Backups in ``folder`` by name (newest first), optionally of one branch; files that do not
    read are left out (``describe`` says why for one file)."""
    if not folder.is_dir():
        return []
    out = []
    for p in folder.iterdir():
        m = NAME_RE.match(p.name)
        if not m or (branch and m["branch"] != branch):
            continue
        stamp = dt.datetime.strptime(m["stamp"], "%Y%m%dT%H%M%SZ").replace(tzinfo=dt.UTC)
        with contextlib.suppress(OSError):
            out.append(BackupFile(p, m["branch"], stamp, p.stat().st_size))
    return sorted(out, key=lambda b: (b.taken_at, b.path.name), reverse=True)


def prune(folder: Path, branch: str, *, keep_days: int = KEEP_DAYS, now: dt.datetime | None = None) -> list[Path]:
    """Remove this branch's backups older than ``keep_days`` (the newest KEEP_AT_LEAST always stay);
    also any ``.partial`` left by a killed run over an hour old. Returns the removed paths."""
    now = now or dt.datetime.now(dt.UTC)
    removed = []
    for b in list_backups(folder, branch)[KEEP_AT_LEAST:]:
        if now - b.taken_at > dt.timedelta(days=keep_days):
            try:
                b.path.unlink()
                removed.append(b.path)
            except OSError:
                continue
    for p in folder.glob(f".depot-{branch}-*.partial*"):  # and a journal a failed run left
        with contextlib.suppress(OSError):
            if time.time() - p.stat().st_mtime > 3600:
                p.unlink()
    return removed


def due(folder: Path, branch: str, every_hours: float, now: dt.datetime | None = None) -> bool:
    """Is a scheduled backup due (none of this branch in the folder younger than ``every_hours``)?"""
    now = now or dt.datetime.now(dt.UTC)
    newest = list_backups(folder, branch)
    return not newest or now - newest[0].taken_at >= dt.timedelta(hours=every_hours)


def branch_of(db_path: str | Path) -> str:
    con = sqlite3.connect(Path(db_path))
    try:
        return _branch_code(con)
    finally:
        con.close()


def every_hours_from(settings: Any) -> float:
    try:
        return max(0.25, float(settings.get("backup.every_hours", EVERY_HOURS) or EVERY_HOURS))
    except (TypeError, ValueError, AttributeError):
        return EVERY_HOURS


def scheduled(engine: Engine, settings: Any, *, now: dt.datetime | None = None,
              note: Callable[[BackupReport], None] | None = None) -> BackupReport:
    """One round of the scheduled backup: back up when the newest one is older than the interval.
    The outcome is kept in the settings (``backup.last``) for Settings > Backups and the diagnostics."""
    db_path = Path(str(engine.url.database))
    folder = folder_from(settings)
    try:
        branch = branch_of(db_path)
        # due by the folder the settings name: a share that is not connected must fail the round (and
        # say so), not be skipped because an older backup sits in the local default folder
        if not due(folder, branch, every_hours_from(settings), now):
            return BackupReport(ok=True, skipped="a recent backup exists")
        report = take_backup(db_path, folder, keep_days=keep_days_from(settings), now=now)
    except (BackupError, sqlite3.Error, OSError) as e:
        report = BackupReport(ok=False, error=str(e))
        log.warning("scheduled backup failed: %s", e)
    remember(settings, report, now=now)
    if note is not None:
        note(report)
    return report


def remember(settings: Any, report: BackupReport, *, now: dt.datetime | None = None) -> None:
    if settings is None or report.skipped:
        return
    with contextlib.suppress(DomainError, OSError, AttributeError):
        settings.set("backup.last", {"at": (now or dt.datetime.now(dt.UTC)).isoformat(timespec="seconds"),
                                     "ok": report.ok, "line": report.line(), "path": report.path})


def save_settings(settings: Any, *, folder: str, keep_days: int, every_hours: float, enabled: bool) -> None:
    """Settings > Backups: check, then store the folder ('' = the default), days kept, interval and
    whether the schedule runs. A named folder must exist and take a file (a typo never starts a tree)."""
    folder = folder.strip()
    if folder:
        try:
            check_folder(Path(folder), create_default=False)
        except BackupError as e:
            raise ValidationError("backup folder", str(e)) from None
    if not 1 <= int(keep_days) <= 3650:
        raise ValidationError("keep backups", "must be between 1 and 3650 days")
    if not 1 <= float(every_hours) <= 168:
        raise ValidationError("back up every", "must be between 1 and 168 hours")
    settings.set("backup.dir", folder)
    settings.set("backup.keep_days", int(keep_days))
    settings.set("backup.every_hours", float(every_hours))
    settings.set("backup.enabled", bool(enabled))


def upgrade_with_backup(db_path: str | Path, folder: Path, *, keep_days: int = KEEP_DAYS,
                        progress: schema.Progress | None = None) -> tuple[BackupReport | None, set[str]]:
    """Bring a database to this Depot's schema; a file of an older Depot is backed up first (a new
    install must never cost the branch its data). Returns (the backup taken or None, the new heads).
    A backup that cannot be written stops the upgrade (BackupError): the file stays as it was.
    ``progress(step, steps, line)`` hears the backup, each migration and the compaction."""
    engine = make_engine(db_path)
    try:
        heads = schema.db_heads(engine)
        report = None
        if heads and heads != schema.script_heads():
            unknown = heads - schema.known_revisions()
            if unknown:
                raise DatabaseProblem(f"{db_path} was written by a newer Depot (schema {', '.join(sorted(unknown))}); "
                                      "install that version to open it")
            check_space(Path(db_path), folder)
            if progress is not None:
                progress(0, 0, f"backing up the file ({Path(db_path).stat().st_size / 1e6:,.0f} MB) to {folder}")
            try:
                report = take_backup(db_path, folder, keep_days=keep_days)
            except BackupError as e:
                raise BackupError(f"could not back up {db_path} before upgrading it ({e}); it was not upgraded") from None
            log.info("backed up %s before upgrading its schema from %s: %s", db_path, ", ".join(sorted(heads)), report.path)
            if progress is not None:
                progress(0, 0, report.line())
        try:
            new = schema.upgrade(engine, progress=progress)
        except (sqlite3.Error, exc.DBAPIError, OSError) as e:
            if not _disk_full(e):
                raise
            raise DatabaseProblem(_full_sentence(engine, Path(db_path), heads)) from None
        if report is not None:
            log.info("upgraded %s to schema %s", db_path, ", ".join(sorted(new)))
        return report, new
    finally:
        engine.dispose()


def upgrade_sentence(db_path: str | Path, report: BackupReport | None, heads: set[str], folder: Path) -> str:
    """What an upgrade that worked tells the user, in one line (the window shows it; `depot db upgrade`
    prints the same facts): the schema the file is at now and where the file as it was has gone."""
    schema_now = ", ".join(sorted(heads))
    if report is not None and report.path:
        return f"Upgraded {db_path} to schema {schema_now}; a backup of the file as it was is at {report.path}"
    # no backup now: an upgrade stopped while compacting was finished (its backup was taken by that run)
    return f"Finished upgrading {db_path} to schema {schema_now} (compacted); its backups are kept in {folder}"


def _temp_folder() -> Path:
    """Where SQLite writes its VACUUM's temporary copy (its own search order on Unix)."""
    if os.name == "nt":
        import tempfile

        return Path(tempfile.gettempdir())
    for d in (os.environ.get("SQLITE_TMPDIR"), os.environ.get("TMPDIR"), "/var/tmp", "/usr/tmp", "/tmp"):
        if d and os.path.isdir(d) and os.access(d, os.W_OK):
            return Path(d)
    return Path(".")


def space_needed(path: Path, folder: Path) -> dict[Path, int]:
    """Free bytes an upgrade of ``path`` needs, per folder (folders on one disk add up), as measured on
    the large file (1,525 MB, 2026-12-06): the backup (the file's size, in ``folder``), the -wal
    beside the file (up to its size: the compaction writes the whole new file there) and SQLite's
    temporary copy (up to its size, in the temp folder)."""
    size = path.stat().st_size
    need: dict[Path, int] = {}
    by_dev: dict[int, Path] = {}
    for where in (folder, path.parent, _temp_folder()):
        where = where.resolve()
        while not where.exists() and where != where.parent:  # a backup folder made by the backup
            where = where.parent
        try:
            dev = where.stat().st_dev
        except OSError:
            dev = -len(by_dev) - 1
        key = by_dev.setdefault(dev, where)
        need[key] = need.get(key, 0) + size
    return need


def check_space(path: Path, folder: Path) -> None:
    """Refuse an upgrade the disk has no room for, before anything is written: a full disk half way
    left a backup taking the room, or a file upgraded but not compacted."""
    for where, need in space_needed(path, folder).items():
        try:
            free = shutil.disk_usage(where).free
        except OSError:
            continue
        if free < need:
            raise DatabaseProblem(
                f"not enough free disk to upgrade {path}: it needs about {need / 1e6:,.0f} MB in {where} "
                f"(a backup, then room to convert and compact the file), {free / 1e6:,.0f} MB are free; "
                "nothing was changed: free some space (or choose another backup folder in Settings > Backups) "
                "and start Depot again")


def _disk_full(e: BaseException) -> bool:
    if isinstance(e, OSError) and e.errno == errno.ENOSPC:
        return True
    msg = str(getattr(e, "orig", e)).lower()
    return "disk" in msg and "full" in msg


def _full_sentence(engine: Engine, path: Path, before: set[str]) -> str:
    """What a full disk during an upgrade left, in a sentence: the migrations run in one transaction
    (rolled back: the file is as it was) and the compaction after them (the file is upgraded, and
    compacted on the next start or ``depot db upgrade``). Both need free space about the file's size
    (its -wal grows by the rewritten pages; SQLite's VACUUM also writes a temporary copy)."""
    size = path.stat().st_size
    free = shutil.disk_usage(path.parent).free
    room = f"{free / 1e6:,.0f} MB free beside it; the upgrade needs about {2 * size / 1e6:,.0f} MB"
    if schema.db_heads(engine) == before:
        return (f"the disk is full: {path} could not be upgraded ({room}) and was not changed; "
                "free some space (or move the backups elsewhere in Settings > Backups) and start Depot again")
    return (f"{path} was upgraded, but the disk is too full to compact it ({room}, "
            "or the temporary folder is full); it works as it is: free some space and start Depot again "
            f"(or run 'depot db upgrade --db {path}') to finish")


def _ready(settings: Any) -> bool:
    return settings is None or bool(settings.get("backup.enabled", True))


#: the background job: looks once an hour, backs up when the newest backup is older than
#: ``backup.every_hours`` (24); on the I/O pool, never holding the write lock (WAL readers do not block)
BACKUP = jobs.register(jobs.Job("backup", scheduled, interval_s=3600, first_s=120, ready=_ready,
                                label="back up the branch database"))
