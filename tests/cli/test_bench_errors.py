"""A benchmark pointed at a database it cannot use says why in a sentence, never a traceback."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bench.__main__ import run


def test_bench_eta_on_a_database_needing_an_upgrade_says_how(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    conn = sqlite3.connect(db_path)
    conn.execute("DELETE FROM alembic_version")
    conn.execute("INSERT INTO alembic_version VALUES ('0003')")  # an older Depot's file
    conn.commit()
    conn.close()
    assert run(["eta", "--db", str(db_path)]) == 2
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out
    assert f"depot bench eta: error: {db_path} needs a schema upgrade: run 'depot db upgrade --db {db_path}'" in out.err


def test_bench_eta_on_a_database_with_nothing_delivered_says_so(db_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert run(["eta", "--db", str(db_path)]) == 2
    assert "no delivered shipments to learn from yet" in capsys.readouterr().err
