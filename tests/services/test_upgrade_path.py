"""An upgrade of Depot as a branch meets it: yesterday's file, the new version installed.

Walked by hand on a copy of the large file (docs: /work/notes/issue-19-upgrade.md): the upgrade
said nothing for minutes; killed while compacting, the file stayed at 1,525 MB for good (the next
upgrade found the schema current and never compacted); a full disk during the compaction gave an
internal error. The older file here is a file at today's schema taken down through the later
migrations' own downgrades (``test_storage.down_to``), with 2 MB of freed pages to give back.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import event

from app.services import backup, schema
from app.services.db import make_engine, session_scope
from app.services.errors import DatabaseProblem
from tests.factories import build_world
from tests.services.test_storage import down_to, table_digests

OLDER = "0023_numeric_times"  # the schema of the session's start (main 418378a)
ROOT = Path(__file__).resolve().parents[2]


def older_file(path: Path, *, freed: bool = True) -> Path:
    engine = make_engine(path)
    try:
        schema.upgrade(engine)
        with session_scope(engine) as s:
            build_world(s)
    finally:
        engine.dispose()
    down_to(path, OLDER)
    if not freed:
        return path
    con = sqlite3.connect(path)
    try:  # pages to give back, as a conversion leaves them
        con.execute("CREATE TABLE scratch (b BLOB)")
        con.executemany("INSERT INTO scratch VALUES (?)", [(b"x" * 4000,) for _ in range(600)])
        con.commit()
        con.execute("DROP TABLE scratch")
        con.commit()
    finally:
        con.close()
    return path


def facts(path: Path) -> tuple[set[str], int, list[Any]]:
    con = sqlite3.connect(path)
    try:
        heads = {str(r[0]) for r in con.execute("SELECT version_num FROM alembic_version")}
        free = int(con.execute("PRAGMA freelist_count").fetchone()[0]) * int(con.execute("PRAGMA page_size").fetchone()[0])
        marks = con.execute("SELECT key FROM sync_state WHERE key = ?", (schema.COMPACT_PENDING,)).fetchall()
        return heads, free, marks
    finally:
        con.close()


def test_an_upgrade_says_each_step_before_it_runs(tmp_path: Path) -> None:
    path = older_file(tmp_path / "old.db")
    heard: list[tuple[int, int, str, set[str]]] = []
    engine = make_engine(path)
    try:
        def progress(step: int, steps: int, line: str) -> None:
            heard.append((step, steps, line, facts(path)[0]))

        new = schema.upgrade(engine, progress=progress)
    finally:
        engine.dispose()
    later = [r for r, _doc in schema._steps({OLDER}, "heads")]
    assert later and later[0] == "0024_structure" and new == schema.script_heads()
    n = len(later) + 1
    lines = [h[2] for h in heard]
    assert lines[:n] == [f"step {k + 1} of {n}: {rev}: {schema._steps({OLDER}, 'heads')[k][1]}"
                         for k, rev in enumerate(later)] + [lines[n - 1]]
    assert lines[n - 1].startswith(f"step {n} of {n}: compacting the file") and lines[n:] == ["done"]
    assert [h[0] for h in heard] == list(range(n + 1)) and {h[1] for h in heard} == {n}
    assert heard[0][3] == {OLDER}  # told before the migrations ran (none committed yet)
    heads, free, marks = facts(path)
    assert heads == new and free == 0 and marks == []


def test_an_upgrade_killed_before_its_compaction_compacts_on_the_next_run(tmp_path: Path) -> None:
    path = older_file(tmp_path / "old.db")
    assert facts(path)[1] > 2_000_000  # bytes of free pages
    code = ("import sys; from app.services import schema; from app.services.db import make_engine; "
            "schema.upgrade(make_engine(sys.argv[1]))")
    env = {**os.environ, "DEPOT_SYNC_FAULT": "upgrade-before-compact"}
    done = subprocess.run([sys.executable, "-c", code, str(path)], env=env, cwd=ROOT, timeout=120)
    assert done.returncode == -9
    heads, free, marks = facts(path)
    assert heads == schema.script_heads() and free > 2_000_000 and marks == [(schema.COMPACT_PENDING,)]
    engine = make_engine(path)
    try:
        with pytest.raises(schema.SchemaOutdated, match="did not finish its upgrade"):
            schema.check_current(engine)  # the window offers to finish; the CLI says what to run
        schema.upgrade(engine)
        schema.check_current(engine)
    finally:
        engine.dispose()
    heads, free, marks = facts(path)
    assert heads == schema.script_heads() and free == 0 and marks == []


def test_a_full_disk_during_the_migrations_leaves_the_file_as_it_was_with_a_sentence(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = older_file(tmp_path / "old.db", freed=False)
    before = table_digests(path)

    def small_disk(p: Any) -> Any:  # the disk fills up in the middle of the migrations (0025's rebuild)
        engine = make_engine(p)

        def write(_conn: Any, _cursor: Any, statement: str, *_a: Any) -> None:
            if "INSERT INTO sales_history" in statement or "DROP TABLE sales_history" in statement:
                raise sqlite3.OperationalError("database or disk is full")

        event.listen(engine, "before_cursor_execute", write)
        return engine

    monkeypatch.setattr(backup, "make_engine", small_disk)
    with pytest.raises(DatabaseProblem) as e:
        backup.upgrade_with_backup(path, tmp_path)
    text = str(e.value)
    assert text.startswith("the disk is full: ") and "was not changed" in text and "MB free" in text
    assert "\n" not in text and len(text) < 400
    assert facts(path)[0] == {OLDER} and table_digests(path) == before


def test_a_full_disk_during_the_compaction_says_the_upgrade_is_done_and_finishes_later(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = older_file(tmp_path / "old.db")

    def full(engine: Any) -> bool:
        raise sqlite3.OperationalError("database or disk is full")

    monkeypatch.setattr(schema, "compact_if_freed", full)
    with pytest.raises(DatabaseProblem) as e:
        backup.upgrade_with_backup(path, tmp_path)
    assert "was upgraded, but the disk is too full to compact it" in str(e.value)
    assert facts(path)[0] == schema.script_heads() and facts(path)[2] == [(schema.COMPACT_PENDING,)]
    monkeypatch.undo()
    taken, heads = backup.upgrade_with_backup(path, tmp_path)
    assert taken is None and heads == schema.script_heads() and facts(path)[1:] == (0, [])


def test_an_upgrade_the_disk_has_no_room_for_is_refused_before_anything_is_written(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Seen on a 240 MB disk with the 106 MB demo file: the backup fitted, then the compaction
    failed; the file was upgraded but not compacted and the backup took the room."""
    path = older_file(tmp_path / "old.db")
    before = table_digests(path)
    size = path.stat().st_size
    need = backup.space_needed(path, tmp_path / "backups")
    assert sum(need.values()) == 3 * size and need[tmp_path] >= 2 * size  # backup, -wal, temporary copy
    real = shutil.disk_usage

    def disk(where: Any) -> Any:  # the disk of the file and its backups lacks one byte
        u = real(where)
        return u._replace(free=need[tmp_path] - 1) if Path(where) == tmp_path else u

    monkeypatch.setattr(backup.shutil, "disk_usage", disk)
    with pytest.raises(DatabaseProblem, match=r"^not enough free disk to upgrade .*nothing was changed") as e:
        backup.upgrade_with_backup(path, tmp_path / "backups")
    assert "\n" not in str(e.value) and len(str(e.value)) < 400
    assert facts(path)[0] == {OLDER} and table_digests(path) == before
    assert not (tmp_path / "backups").exists() or not list((tmp_path / "backups").iterdir())
