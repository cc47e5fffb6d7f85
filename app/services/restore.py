"""Restoring the branch database from a backup, and proving a backup restores (``verify``).

Why it is more than a file copy:

- A wrong file must be refused before anything is touched: not a Depot database, damaged or
  truncated (``quick_check`` on a private copy), written by a newer Depot (unknown schema), from
  another branch, or another workstation's (whose site id would make two workstations one).
  An older backup is upgraded on the private copy first.
- The swap is one SQLite transaction (the backup API writes the checked copy into the live file),
  so a process killed at any moment leaves the old database or the restored one, never a mix; the
  database as it was is kept beside it (``<file>.before-restore-<stamp>``) so a restore of the
  wrong day loses nothing either.
- Replication must lose nothing. The restored file still has its pull cursor of the backup day, so
  its next pull brings back everything the server has had since (this workstation's own later work
  included), and its outbox still holds what was waiting then, so the next push sends what the
  server lacks (pushes are idempotent upserts, and the server's newer versions win by HLC). The one
  trap is the push receipt, keyed by (site, first outbox seq): the restored outbox would count
  again from the backup's seq, and a new batch starting at a seq the server has a receipt for would
  be taken as already sent. So the outbox's sequence is moved to a time-based floor (unix ms x 1024)
  that no earlier run of this workstation can have reached.
- After the swap it syncs at once when a server is configured (else at the next sync), so numbers
  and documents written since the backup are back before anyone works on. Until a sync after the
  restore succeeds, a replicating file hands out no document number (``numbering.RESTORED_KEY``):
  its series are the backup day's, and the server may hold numbers taken since.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import os
import sqlite3
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.models.types import hex_of, id_bytes
from app.services import schema
from app.services.backup import BackupError, BackupFile, copy_database, damage, describe, discard
from app.services.db import check_file, make_engine
from app.services.errors import DatabaseProblem
from app.services.numbering import RESTORED_KEY
from app.services.replication.engine import sync_once
from app.services.replication.faults import fault
from app.services.stock import balance_mismatches

log = logging.getLogger("depot.restore")

#: pages written into the live file per backup step (1 MB)
SWAP_PAGES = 256


@dataclass
class RestoreReport:
    target: str
    backup: str
    taken_at: str
    kept_as: str = ""
    upgraded: bool = False
    balances_ok: bool = True
    synced: str = ""
    seconds: float = 0.0
    notes: list[str] = field(default_factory=list)

    def lines(self) -> list[str]:
        out = [f"restored {self.target} from {self.backup} (taken {self.taken_at})"]
        if self.kept_as:
            out.append(f"the database as it was is kept as {self.kept_as}")
        if self.upgraded:
            out.append("the backup was from an older Depot: its schema was upgraded")
        out.append("stock balances match the ledger" if self.balances_ok else
                   "stock balances disagree with the ledger: run 'depot db rebuild-balances'")
        if self.synced:
            out.append(self.synced)
        return out + self.notes


@dataclass(frozen=True)
class VerifyReport:
    backup: str
    ok: bool
    lines: list[str]
    seconds: float


def _site(path: Path) -> tuple[str, str, bool]:
    """(site id, branch id, has synced) of a database file, read only."""
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT site_id, branch_id FROM local_site WHERE id = 1").fetchone()
        try:
            synced = con.execute("SELECT 1 FROM sync_state WHERE key = 'cursor'").fetchone() is not None
        except sqlite3.DatabaseError:
            synced = False
    except sqlite3.DatabaseError:
        return "", "", False
    finally:
        con.close()
    # ids as 32 hex whether the file stores 16 bytes or (a file from before 0022_binary_ids) text
    return (hex_of(row[0] or "") if row else "", hex_of(row[1]) if row and row[1] else "", synced)


def _branch_name(path: Path, branch_id: str) -> str:
    con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        row = con.execute("SELECT code FROM branch WHERE id IN (?, ?)", (id_bytes(branch_id), branch_id)).fetchone()
        return str(row[0]) if row else branch_id
    except sqlite3.DatabaseError:
        return branch_id
    finally:
        con.close()


def check_backup(path: Path) -> BackupFile:
    """Refuse a file that cannot be restored by this Depot, with a sentence."""
    info = describe(path)
    if not info.schema:
        raise BackupError(f"{path} has no Depot schema; it is not a Depot backup")
    unknown = set(info.schema) - schema.known_revisions()
    if unknown:
        raise BackupError(f"{path} was written by a newer Depot (schema {', '.join(sorted(unknown))}); "
                          "install that version (or newer) to restore it")
    return info


def check_fits(target: Path, info: BackupFile) -> None:
    """A backup of another branch, or of another workstation that has synced, never replaces this file."""
    if not target.exists():
        return
    site, branch, synced = _site(target)
    if branch and info.branch_id and branch.replace("-", "") != info.branch_id.replace("-", ""):
        raise BackupError(f"{info.path.name} is a backup of branch {info.branch}; this database is branch "
                          f"{_branch_name(target, branch)}'s: restore it on that branch's workstation")
    if branch and not info.branch_id:
        raise BackupError(f"{info.path.name} belongs to no branch; this database is branch "
                          f"{_branch_name(target, branch)}'s")
    if synced and site and info.site_id and site.replace("-", "") != info.site_id.replace("-", ""):
        raise BackupError(f"{info.path.name} is another workstation's backup (site {info.site_id}); restoring it "
                          "here would make two workstations one: restore it into a new file (--db NEW.db) instead")


def _private_copy(backup: Path, dest: Path) -> None:
    src = sqlite3.connect(f"file:{backup}?mode=ro&immutable=1", uri=True)
    try:
        copy_database(src, dest)
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{backup} is damaged or truncated ({e}); it cannot be restored") from None
    finally:
        src.close()
    con = sqlite3.connect(dest)
    try:
        res = con.execute("PRAGMA quick_check").fetchall()
    except sqlite3.DatabaseError as e:
        raise BackupError(f"{backup} is damaged or truncated ({e}); it cannot be restored") from None
    finally:
        con.close()
    if [r[0] for r in res] != ["ok"]:
        raise BackupError(f"{backup} is damaged ({damage(res)}); it cannot be restored")


def outbox_floor(now_ms: int | None = None) -> int:
    """The smallest outbox seq a restored file may use next (see the module doc)."""
    return (now_ms if now_ms is not None else int(time.time() * 1000)) * 1024


def _prepare(copy: Path, info: BackupFile) -> tuple[bool, bool]:
    """Upgrade an older copy, move its outbox sequence, note the restore; (upgraded, balances ok)."""
    engine = make_engine(copy)
    try:
        upgraded = False
        if set(info.schema) != schema.script_heads():
            schema.upgrade(engine)
            upgraded = True
        with engine.begin() as c:
            raw: Any = c.connection.driver_connection
            raw.execute("DELETE FROM sync_state WHERE key IN ('backup.taken_at', 'backup.source')")
            raw.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES ('restored_from', ?), ('restored_at', ?)",
                        (f"{info.path.name} (taken {info.taken_at.isoformat(timespec='seconds')})",
                         dt.datetime.now(dt.UTC).isoformat(timespec="seconds")))
            if raw.execute("SELECT 1 FROM sync_state WHERE key IN ('dsn', 'cursor') LIMIT 1").fetchone():
                # a replicating file: no document number until a sync after the restore (numbering.py)
                last = raw.execute("SELECT coalesce(max(seq), 0) FROM sync_history").fetchone()[0]
                raw.execute("INSERT OR REPLACE INTO sync_state (key, value) VALUES (?, ?)", (RESTORED_KEY, str(last)))
            floor = outbox_floor()
            if raw.execute("SELECT 1 FROM sqlite_sequence WHERE name = 'sync_outbox'").fetchone():
                raw.execute("UPDATE sqlite_sequence SET seq = max(seq, ?) WHERE name = 'sync_outbox'", (floor,))
            else:
                raw.execute("INSERT INTO sqlite_sequence (name, seq) VALUES ('sync_outbox', ?)", (floor,))
        with Session(engine) as s:
            ok = not balance_mismatches(s)
        return upgraded, ok
    finally:
        engine.dispose()


def _swap(copy: Path, target: Path) -> None:
    """Write the checked copy into the target in one transaction (backup API; WAL target stays WAL)."""
    src = sqlite3.connect(f"file:{copy}?mode=ro", uri=True)
    dest = sqlite3.connect(target, timeout=30, isolation_level=None)

    def step(_status: int, remaining: int, total: int) -> None:
        if 0 < remaining < total:
            fault("during-restore-swap")  # the crash test: killed with the destination half written

    try:
        # in steps (the destination's write transaction spans them all: a kill between steps rolls back)
        src.backup(dest, pages=SWAP_PAGES, progress=step)
    except sqlite3.OperationalError as e:
        msg = str(e).lower()
        if "locked" in msg or "busy" in msg:
            raise DatabaseProblem(f"{target} is in use by another program; close Depot there and restore again") from None
        raise DatabaseProblem(f"{target} could not be written ({e}); it is unchanged") from None
    finally:
        dest.close()
        src.close()


def _keep_current(target: Path, stamp: str) -> Path:
    keep = target.with_name(f"{target.name}.before-restore-{stamp}")
    src = sqlite3.connect(target, timeout=30)
    try:
        copy_database(src, keep)
    except (sqlite3.Error, OSError) as e:
        with contextlib.suppress(OSError):
            keep.unlink()
        raise BackupError(f"could not keep a copy of {target} before restoring ({e}); nothing was restored") from None
    finally:
        src.close()
    return keep


def restore(target: Path, backup: Path, *, sync: bool = True) -> RestoreReport:
    """Replace the branch database ``target`` with ``backup`` (see the module doc). Refuses with a
    sentence and changes nothing when the backup does not fit; syncs at once when configured."""
    t0 = time.monotonic()
    target, backup = Path(target), Path(backup)
    if target.exists():
        check_file(target)
    elif not target.parent.is_dir():
        raise BackupError(f"the folder of {target} does not exist")
    info = check_backup(backup)
    check_fits(target, info)
    stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
    copy = target.with_name(f".{target.name}.restoring-{os.getpid()}")
    report = RestoreReport(str(target), str(backup), info.taken_at.isoformat(timespec="seconds"))
    try:
        try:
            _private_copy(backup, copy)
            report.upgraded, report.balances_ok = _prepare(copy, info)
        except OSError as e:
            raise BackupError(f"cannot write beside {target} ({e.strerror or e}); nothing was restored") from None
        if target.exists():
            report.kept_as = str(_keep_current(target, stamp))
            fault("restore-before-swap")
            _swap(copy, target)
        else:
            os.replace(copy, target)
    finally:
        discard(copy)  # with its -wal and -shm: the swap opened it read-only, which leaves them
    if sync:
        engine = make_engine(target)
        try:
            res = sync_once(engine)
            if res.ok:
                report.synced = (f"re-synced with the server: pulled {res.pulled} rows, pushed {res.pushed} "
                                 f"({res.pending} pending)")
            elif res.error_kind == "config":
                report.synced = "no server configured: nothing to re-sync"
            else:
                report.synced = (f"not re-synced yet ({res.error}); the next sync brings back what the server has "
                                 "and sends what the backup had — sync before numbering new documents")
        finally:
            engine.dispose()
    report.seconds = time.monotonic() - t0
    log.info("%s", "; ".join(report.lines()))
    return report


def verify(backup: Path, scratch: Path) -> VerifyReport:
    """Prove a backup restores: check it, restore it into ``scratch`` (a folder), upgrade it if older,
    and run the database check (integrity, schema, balances equal the ledger). Nothing else is touched."""
    t0 = time.monotonic()
    lines: list[str] = []
    info = check_backup(backup)
    copy = scratch / f"verify-{os.getpid()}-{backup.name}"
    try:
        _private_copy(backup, copy)
        lines.append("integrity: ok")
        upgraded, ok = _prepare(copy, info)
        if upgraded:
            lines.append("schema: older, upgraded on the copy")
        engine = make_engine(copy)
        try:
            schema.check_current(engine)
        finally:
            engine.dispose()
        lines.append("schema: current")
        lines.append("balances match the ledger" if ok else "balances DISAGREE with the ledger")
    finally:
        discard(copy)
    return VerifyReport(str(backup), ok, [f"{backup.name} (taken {info.taken_at.isoformat(timespec='seconds')}, "
                                          f"branch {info.branch})", *lines], time.monotonic() - t0)
