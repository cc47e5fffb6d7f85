"""`depot` meets a bug: one line naming the report file, exit 2, the traceback in the file."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from app.cli import run
from tests.factories import World

ROOT = Path(__file__).resolve().parents[2]


def test_an_unexpected_exception_is_one_line_and_a_report(world: World, db_path: Path, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch,
                                                          capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path / "data"))

    def broken(*_a: object, **_k: object) -> None:
        raise RuntimeError("the ledger is upside down")

    monkeypatch.setattr("app.services.inventory.queries.stock_rows", broken)  # a bug deep in the query
    assert run(["--db", str(db_path), "stock", "WIDGET"]) == 2
    cap = capsys.readouterr()
    (line,) = cap.err.strip().splitlines()
    assert line.startswith("depot: error: internal error (RuntimeError: the ledger is upside down); details in ")
    report = Path(line.split("details in ", 1)[1])
    assert report.parent == tmp_path / "data" / "logs"
    text = report.read_text()
    assert "Traceback (most recent call last)" in text and "the ledger is upside down" in text
    assert f"while: depot --db {db_path} stock WIDGET" in text
    assert "Traceback" not in cap.out + cap.err


def test_file_problems_are_plain_errors_not_internal(world: World, db_path: Path, tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    a_file = tmp_path / "a-file"
    a_file.write_text("x")
    assert run(["--db", str(db_path), "export", "item", "--out", str(a_file / "sub" / "items.csv")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("depot: error: ") and "internal error" not in err[0]
    assert str(a_file) in err[0]


def test_the_process_hook_turns_any_escaped_exception_into_one_line(tmp_path: Path) -> None:
    """What main() installs: an exception that escapes everything (or a thread's) is one line too."""
    code = ("import threading, sys\n"
            "from app import __main__ as m\n"
            "sys.excepthook, threading.excepthook = m._hook, m._thread_hook\n"
            "t = threading.Thread(target=lambda: {}['gone']); t.start(); t.join()\n"
            "raise ValueError('escaped')\n")
    env = {**os.environ, "DEPOT_DATA_DIR": str(tmp_path / "data")}
    res = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=60)
    lines = res.stderr.strip().splitlines()
    assert res.returncode == 1 and "Traceback" not in res.stderr
    assert [ln.split(";")[0] for ln in lines] == ["depot: error: internal error (KeyError: 'gone')",
                                                  "depot: error: internal error (ValueError: escaped)"]
    assert len(list((tmp_path / "data" / "logs").iterdir())) == 2
