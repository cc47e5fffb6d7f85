"""Backups and restores of the branch database on real files: taken while a writer works, restored,
checked; every bad folder and bad file refused with a sentence and the branch database untouched;
a process killed mid-backup or mid-restore leaves whole files."""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import shutil
import sqlite3
import subprocess
import sys
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.models.sales import SalesOrder
from app.services import backup
from app.services.backup import BackupError
from app.services.db import make_engine, open_database, session_scope, site_id
from app.services.errors import DatabaseProblem
from app.services.restore import outbox_floor, restore, verify
from app.services.stock import MoveSpec, balance_mismatches, post_moves, virtual_location
from tests.factories import World

ROOT = Path(__file__).resolve().parents[2]


def _set_branch(path: Path, branch_id: uuid.UUID) -> None:
    con = sqlite3.connect(path)
    con.execute("UPDATE local_site SET branch_id = ? WHERE id = 1", (branch_id,))
    con.commit()
    con.close()


def _work(engine: Engine, w: World, n: int, stop: threading.Event | None = None,
          states: list[tuple[int, int, int]] | None = None) -> None:
    """``n`` units of work, each one transaction: a sales order and a receipt move of k units.
    After each commit the state (orders, moves, on hand) is recorded."""
    for k in range(1, n + 1):
        if stop is not None and stop.is_set():
            return
        with session_scope(engine) as s:
            s.add(SalesOrder(number=f"DAL-SO-T{uuid.uuid4().hex[:12]}", customer_id=w.customer.id, warehouse_id=w.wh_dal.id,
                             status="open", order_date=dt.date(2026, 12, 1), owner_branch_id=w.dal.id))
            sup = virtual_location(s, w.wh_dal.id, "supplier")
            post_moves(s, None, [MoveSpec(w.items["BOLT"].id, k, sup.id, w.bins["DAL1-A-01"].id, "receipt")],
                       owner_branch_id=w.dal.id)
        if states is not None:
            states.append(_state(engine))


def _state(engine: Engine) -> tuple[int, int, int]:
    with engine.connect() as c:
        return (int(c.execute(text("SELECT count(*) FROM sales_order WHERE number LIKE 'DAL-SO-T%'")).scalar_one()),
                int(c.execute(text("SELECT count(*) FROM stock_move WHERE reason = 'receipt'")).scalar_one()),
                int(c.execute(text("SELECT coalesce(sum(qty), 0) FROM stock_balance")).scalar_one()))


@pytest.fixture
def branch_db(db_path: Path, world: World, engine: Engine) -> Iterator[tuple[Path, Engine, World]]:
    with session_scope(engine) as s:
        site_id(s)
    _set_branch(db_path, world.dal.id)
    yield db_path, engine, world


def test_backup_taken_mid_work_restores_a_state_that_existed(branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 5)
    states: list[tuple[int, int, int]] = [_state(engine)]
    stop = threading.Event()
    writer = threading.Thread(target=_work, args=(engine, w, 400, stop, states))
    writer.start()
    try:
        for _ in range(3000):  # until the writer is well under way
            if len(states) >= 20 or not writer.is_alive():
                break
            stop.wait(0.01)
        assert writer.is_alive()
        folder = tmp_path / "share"
        folder.mkdir()
        rep = backup.take_backup(path, folder)
        during = len(states)
    finally:
        stop.set()
        writer.join()
    assert rep.ok and Path(rep.path).name.startswith("depot-DAL-") and len(states) > during - 1
    # restore it as a new workstation file would be after a dead disk
    target = tmp_path / "restored.db"
    out = restore(target, Path(rep.path), sync=False)
    assert out.balances_ok and not out.kept_as
    eng = open_database(target)
    try:
        got = _state(eng)
        with Session(eng) as s:
            assert balance_mismatches(s) == []
        # the copy is one consistent moment of the work: every order has its move, and it is a state
        # the writer really committed (stock and documents equal that moment's)
        assert got[0] == got[1] and got in states and got[0] >= 5
    finally:
        eng.dispose()
    assert verify(Path(rep.path), tmp_path).ok


def test_restore_replaces_the_file_keeps_the_old_one_and_moves_the_outbox_sequence(
        branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 3)
    rep = backup.take_backup(path, tmp_path)
    _work(engine, w, 10)  # later work that the restore will undo here (the server would bring it back)
    assert _state(engine)[0] == 13
    engine.dispose()
    out = restore(path, Path(rep.path), sync=False)
    # seen on the large file: the private copy's -wal and -shm stayed beside the branch database
    assert not list(path.parent.glob(f".{path.name}.restoring-*"))
    eng = open_database(path)
    try:
        assert _state(eng)[0] == 3
        seq = eng.connect().execute(text("SELECT seq FROM sqlite_sequence WHERE name = 'sync_outbox'")).scalar_one()
        assert seq >= outbox_floor() - 60_000 * 1024  # the next outbox row numbers above any earlier run
        with eng.connect() as c:
            assert c.execute(text("SELECT value FROM sync_state WHERE key = 'restored_from'")).scalar_one().startswith("depot-DAL-")
        _work(eng, w, 1)  # the restored file works on (WAL, triggers, capture)
    finally:
        eng.dispose()
    kept = open_database(Path(out.kept_as))
    try:
        assert _state(kept)[0] == 13  # the database as it was: nothing lost to a restore of the wrong day
    finally:
        kept.dispose()


def test_backup_folder_problems_are_sentences(branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, _engine, _w = branch_db
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    with pytest.raises(BackupError, match="does not exist"):
        backup.take_backup(path, tmp_path / "missing")
    a_file = tmp_path / "afile"
    a_file.write_text("x")
    with pytest.raises(BackupError, match="is a file, not a folder"):
        backup.take_backup(path, a_file)
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before
    assert not (tmp_path / "missing").exists()


@pytest.fixture
def tiny_mount(tmp_path: Path) -> Iterator[Path]:
    """A real 1 MB tmpfs (a full disk / share); skipped where mounting is not allowed."""
    where = tmp_path / "mnt"
    where.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=1m", "tmpfs", str(where)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (not root)")
    try:
        yield where
    finally:
        subprocess.run(["umount", "-l", str(where)], check=False)


def test_full_and_read_only_folders(branch_db: tuple[Path, Engine, World], tiny_mount: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 30)
    with engine.begin() as c:  # bigger than SQLite's page cache (2 MB), as any real branch file is: the
        # copy then spills to disk before the share fills, and a failed run left its .partial-journal
        c.exec_driver_sql("CREATE TABLE filler (b BLOB)")
        c.exec_driver_sql("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) "
                          "INSERT INTO filler SELECT randomblob(100000) FROM n")
    with pytest.raises(BackupError, match="is full; the branch database is untouched"):
        backup.take_backup(path, tiny_mount)
    assert [p.name for p in tiny_mount.iterdir()] == []  # no half file (nor its journal) left behind
    subprocess.run(["mount", "-o", "remount,ro", str(tiny_mount)], check=True)
    with pytest.raises(BackupError, match="cannot write to the backup folder"):
        backup.take_backup(path, tiny_mount)
    assert _state(engine)[0] == 30


def test_bad_backups_are_refused_and_the_database_is_untouched(branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 2)
    good = Path(backup.take_backup(path, tmp_path).path)
    junk = tmp_path / "junk.db"
    junk.write_bytes(b"not a database at all" * 100)
    truncated = tmp_path / "truncated.db"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 3])
    empty_sqlite = tmp_path / "other.db"
    sqlite3.connect(empty_sqlite).execute("CREATE TABLE t (x)").connection.commit()
    newer = tmp_path / "newer.db"
    shutil.copyfile(good, newer)
    con = sqlite3.connect(newer)
    con.execute("INSERT INTO alembic_version VALUES ('9999_from_the_future')")
    con.commit()
    con.close()
    houston = tmp_path / "houston.db"
    shutil.copyfile(good, houston)
    _set_branch(houston, w.hou.id)
    cases = [(junk, "not a Depot backup"), (truncated, "damaged or truncated"), (empty_sqlite, "not a Depot backup|damaged"),
             (newer, "written by a newer Depot"), (houston, "is a backup of branch HOU; this database is branch DAL's"),
             (tmp_path / "nope.db", "cannot read")]
    before = _state(engine)
    engine.dispose()
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    for bad, why in cases:
        with pytest.raises(BackupError, match=why):
            restore(path, bad, sync=False)
    # pages overwritten in the middle: quick_check lists every damaged page (100 lines on the large file);
    # the refusal says the first problem and how many more, in a sentence
    damaged = tmp_path / "damaged.db"
    shutil.copyfile(good, damaged)
    con = sqlite3.connect(damaged)  # 6 MB of data pages at the end of the file, then 2 MB of them overwritten
    con.execute("CREATE TABLE filler (b BLOB)")
    con.execute("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 60) "
                "INSERT INTO filler SELECT randomblob(100000) FROM n")
    con.commit()
    con.close()
    data = bytearray(damaged.read_bytes())
    at = (len(data) - 4_000_000) // 4096 * 4096
    data[at:at + 2_000_000] = os.urandom(2_000_000)
    damaged.write_bytes(bytes(data))
    with pytest.raises(BackupError, match="damaged") as refused:
        restore(path, damaged, sync=False)
    assert len(str(refused.value)) < 300 and "more problems" in str(refused.value), str(refused.value)[:300]
    assert hashlib.sha256(path.read_bytes()).hexdigest() == digest
    assert not list(tmp_path.glob("*.before-restore-*")) and not list(tmp_path.glob(".*restoring*"))
    eng = open_database(path)
    assert _state(eng) == before
    eng.dispose()


def test_another_workstations_backup_is_refused_once_this_one_has_synced(branch_db: tuple[Path, Engine, World],
                                                                       tmp_path: Path) -> None:
    path, engine, w = branch_db
    other = tmp_path / "other-ws.db"
    src = sqlite3.connect(path)
    backup.copy_database(src, other)  # (a plain file copy would miss what is still in the WAL)
    src.close()
    con = sqlite3.connect(other)
    con.execute("UPDATE local_site SET site_id = ?", (uuid.uuid4(),))  # its 16 bytes, as a workstation stores it
    con.commit()
    con.close()
    theirs = Path(backup.take_backup(other, tmp_path).path)
    with engine.begin() as c:
        c.execute(text("INSERT INTO sync_state (key, value) VALUES ('cursor', '100')"))
    engine.dispose()
    with pytest.raises(BackupError, match="another workstation's backup"):
        restore(path, theirs, sync=False)


def test_prune_keeps_the_newest_and_drops_old_days(tmp_path: Path, branch_db: tuple[Path, Engine, World]) -> None:
    path, _e, _w = branch_db
    now = dt.datetime(2026, 12, 5, 12, tzinfo=dt.UTC)
    for days in (40, 30, 20, 10, 1):
        backup.take_backup(path, tmp_path, keep_days=365, now=now - dt.timedelta(days=days))
    other = tmp_path / "depot-HOU-20200101T000000Z.db"  # another branch's file is not ours to remove
    other.write_bytes(b"x")
    rep = backup.take_backup(path, tmp_path, keep_days=15, now=now)
    left = sorted(b.taken_at.date().isoformat() for b in backup.list_backups(tmp_path, "DAL"))
    assert left == ["2026-11-25", "2026-12-04", "2026-12-05"] and len(rep.removed) == 3 and other.exists()
    assert not backup.due(tmp_path, "DAL", 24, now + dt.timedelta(hours=23))
    assert backup.due(tmp_path, "DAL", 24, now + dt.timedelta(hours=25))


def test_scheduled_job_backs_up_when_due_and_remembers_the_outcome(branch_db: tuple[Path, Engine, World],
                                                                 tmp_path: Path) -> None:
    from app.services import jobs, wiring
    from app.services.settings import Settings

    wiring.load()
    job = jobs.get("backup")
    path, engine, _w = branch_db
    settings = Settings(tmp_path / "settings.json")
    settings.set("backup.dir", str(tmp_path / "share"))
    first = job.run(engine, settings)
    assert not first.ok and "does not exist" in first.error and not settings.get("backup.last")["ok"]
    (tmp_path / "share").mkdir()
    assert job.run(engine, settings).ok and len(backup.list_backups(tmp_path / "share")) == 1
    assert job.run(engine, settings).skipped  # not due again within the day
    assert settings.get("backup.last")["ok"] and "backed up to" in settings.get("backup.last")["line"]
    settings.set("backup.enabled", False)
    assert not job.ready(settings)


def test_scheduled_job_says_the_share_is_missing_even_with_a_recent_local_backup(
        branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    """A disconnected network share fails the round with its sentence; a backup taken earlier into
    the local default folder does not make the job skip it as 'a recent backup exists'."""
    from app.services.settings import Settings

    path, engine, _w = branch_db
    local = backup.default_folder()
    local.mkdir(parents=True, exist_ok=True)
    assert backup.take_backup(path, local).ok
    settings = Settings(tmp_path / "settings.json")
    settings.set("backup.dir", str(tmp_path / "share-not-connected"))
    report = backup.scheduled(engine, settings)
    assert not report.ok and not report.skipped and "does not exist" in report.error
    assert settings.get("backup.last")["ok"] is False


def _run(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *args], capture_output=True, text=True, cwd=ROOT,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.mark.parametrize("point", ["restore-before-swap", "during-restore-swap"])
def test_restore_killed_midway_leaves_the_old_database(branch_db: tuple[Path, Engine, World], tmp_path: Path,
                                                        point: str) -> None:
    path, engine, w = branch_db
    _work(engine, w, 2)
    rep = backup.take_backup(path, tmp_path)
    _work(engine, w, 30)
    engine.dispose()
    assert Path(rep.path).stat().st_size > 256 * 4096  # the swap takes more than one step (killed after the first)
    r = _run("--db", str(path), "restore", rep.path, "--no-sync", env={"DEPOT_SYNC_FAULT": point})
    assert r.returncode == -9, r.stderr
    eng = open_database(path)
    try:
        assert _state(eng)[0] == 32  # all of the old one, none of the backup
        assert eng.connect().execute(text("PRAGMA quick_check")).scalar_one() == "ok"
    finally:
        eng.dispose()
    r = _run("--db", str(path), "restore", rep.path, "--no-sync")  # and a second try works
    assert r.returncode == 0, r.stderr
    eng = make_engine(path)
    assert _state(eng)[0] == 2
    eng.dispose()


def test_backup_killed_before_naming_leaves_no_backup(branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 2)
    share = tmp_path / "share"
    share.mkdir()
    r = _run("--db", str(path), "backup", "--to", str(share), env={"DEPOT_SYNC_FAULT": "backup-before-rename"})
    assert r.returncode == -9
    assert backup.list_backups(share) == [] and len(list(share.glob(".*.partial"))) == 1
    r = _run("--db", str(path), "backup", "--to", str(share))
    assert r.returncode == 0 and "backed up to" in r.stdout
    assert len(backup.list_backups(share)) == 1


def test_cli_backup_list_verify_restore(branch_db: tuple[Path, Engine, World], tmp_path: Path) -> None:
    path, engine, w = branch_db
    _work(engine, w, 2)
    engine.dispose()
    env = {"DEPOT_CONFIG_DIR": str(tmp_path / "cfg"), "DEPOT_DATA_DIR": str(tmp_path / "data")}
    r = _run("--db", str(path), "backup", env=env)  # the default folder is created in the data folder
    assert r.returncode == 0, r.stderr
    made = backup.list_backups(tmp_path / "data" / "backups")
    assert len(made) == 1
    r = _run("backup", "list", env=env)
    assert made[0].path.name in r.stdout
    share = tmp_path / "share"
    share.mkdir()
    r = _run("--db", str(path), "backup", "--to", str(share), env=env)
    assert r.returncode == 0, r.stderr
    (on_share,) = backup.list_backups(share)
    for args in (("backup", "--to", str(share), "list"), ("backup", "list", "--to", str(share)),
                 ("backup", "list", "--dir", str(share))):
        r = _run(*args, env=env)  # the folder named, before or after the action, is the one listed
        assert r.stdout.startswith(f"{share}:") and on_share.path.name in r.stdout, (args, r.stdout, r.stderr)
    r = _run("backup", "verify", str(made[0].path), env=env)
    assert r.returncode == 0 and "ok: the backup restores" in r.stdout and "balances match" in r.stdout
    r = _run("--db", str(path), "backup", "--to", str(tmp_path / "gone"), env=env)
    assert r.returncode == 1 and r.stderr.startswith("depot: error: the backup folder") and "Traceback" not in r.stderr
    r = _run("--db", str(path), "restore", str(tmp_path / "cfg"), env=env)
    assert r.returncode == 1 and "depot: error:" in r.stderr and "Traceback" not in r.stderr
    r = _run("--db", str(path), "restore", str(made[0].path), "--no-sync", env=env)
    assert r.returncode == 0 and "the database as it was is kept as" in r.stdout, r.stderr


def test_backup_refuses_with_a_branch_database_missing(tmp_path: Path) -> None:
    with pytest.raises(BackupError, match="cannot read"):
        backup.take_backup(tmp_path / "none.db", tmp_path)
    (tmp_path / "dir").mkdir()
    with pytest.raises(DatabaseProblem, match="is a directory"):
        restore(tmp_path / "dir", tmp_path / "none.db", sync=False)
