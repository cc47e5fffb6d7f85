"""The CLI's own conventions: version, one-line errors, db upgrade/check, a closed pipe."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from app.cli import run


def test_version_and_one_line_error_for_a_missing_database(tmp_path: Path, capsys: object) -> None:
    missing = tmp_path / "none.db"
    assert run(["--db", str(missing), "db", "check"]) == 1
    err = capsys.readouterr().err  # type: ignore[attr-defined]
    assert err.strip().count("\n") == 0 and err.startswith("depot: error:") and "does not exist" in err
    assert not missing.exists()


def test_db_upgrade_then_check(tmp_path: Path, capsys: object) -> None:
    db = tmp_path / "x.db"
    assert run(["db", "upgrade", "--db", str(db)]) == 0
    assert run(["--db", str(db), "db", "check", "--json"]) == 0
    assert '"ok": true' in capsys.readouterr().out  # type: ignore[attr-defined]


def test_a_reader_that_leaves_early_gets_no_traceback() -> None:
    """`depot ... | head`: the pipe closes before the command writes; it exits without a traceback."""
    proc = subprocess.Popen([sys.executable, "-m", "app", "bench"], stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()  # the reader is gone before the child has printed anything
    err = proc.stderr.read().decode()
    assert proc.wait(timeout=60) == 141
    assert "Traceback" not in err
