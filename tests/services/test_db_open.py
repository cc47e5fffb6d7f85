"""A missing, corrupt, locked or newer-schema database gives a clear message and is not touched."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from app.services.db import open_database, session_scope
from app.services.errors import DatabaseProblem
from app.services.numbering import next_number
from tests.factories import World


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(DatabaseProblem, match="does not exist"):
        open_database(tmp_path / "nope.db")
    assert not (tmp_path / "nope.db").exists()


def test_corrupt_file_is_refused_and_left_as_it_was(tmp_path: Path) -> None:
    bad = tmp_path / "bad.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    before = bad.read_bytes()
    with pytest.raises(DatabaseProblem, match="not a Depot database"):
        open_database(bad)
    assert bad.read_bytes() == before


def test_truncated_sqlite_file_is_reported_corrupt(db_path: Path, tmp_path: Path) -> None:
    data = db_path.read_bytes()
    cut = tmp_path / "cut.db"
    cut.write_bytes(data[:100] + b"\x00" * 50)
    with pytest.raises(DatabaseProblem):
        open_database(cut)


def test_newer_schema_is_refused(db_path: Path) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("UPDATE alembic_version SET version_num = '9999_future' WHERE rowid = (SELECT min(rowid) FROM alembic_version)")
    conn.commit()
    conn.close()
    with pytest.raises(DatabaseProblem, match="newer Depot"):
        open_database(db_path)


def test_empty_sqlite_file_needs_upgrade(tmp_path: Path) -> None:
    p = tmp_path / "empty.db"
    sqlite3.connect(p).close()
    with pytest.raises(DatabaseProblem, match="no Depot schema"):
        open_database(p)


def test_locked_database_gives_a_clear_message(world: World, db_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("app.services.db.BUSY_TIMEOUT_MS", 100)
    blocker = sqlite3.connect(db_path)
    blocker.execute("BEGIN EXCLUSIVE")
    try:
        engine = open_database(db_path, check_schema=False) if False else None
        from app.services.db import make_engine

        engine = make_engine(db_path)
        with pytest.raises(DatabaseProblem, match="locked"), session_scope(engine) as s:
            next_number(s, world.dal.id, "PO")
        engine.dispose()
    finally:
        blocker.rollback()
        blocker.close()
