"""The support log: one rotating file in the data folder, secrets blanked, warnings read back for the
diagnostics; internal errors and failed backups leave their line."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.services import backup, crashlog, logfile


@pytest.fixture
def logdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    monkeypatch.setenv("DEPOT_DATA_DIR", str(tmp_path))
    log = logging.getLogger(logfile.LOGGER)
    saved = list(log.handlers)
    for h in saved:
        log.removeHandler(h)
    yield tmp_path / "logs"
    for h in list(log.handlers):
        h.close()
        log.removeHandler(h)
    for h in saved:
        log.addHandler(h)


def test_redaction_blanks_passwords_in_every_shape() -> None:
    for line in ("password=hunter2 host=x", "PASSWORD = 'hunter2'", "postgresql://dal:hunter2@db:5432/depot",
                 "token: hunter2", 'api_key="hunter2"'):
        assert "hunter2" not in logfile.redact(line), line
    assert logfile.redact("host=db user=dal") == "host=db user=dal"


def test_log_rotates_keeps_secrets_out_and_reads_problems_back(logdir: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(logfile, "MAX_BYTES", 2000)
    path = logfile.setup("test")
    assert path == logdir / "depot.log" and logfile.setup("again") == path  # one handler per process
    log = logging.getLogger("depot.sync")
    log.warning("sync failed for host=db password=%s", "hunter2")
    for i in range(60):
        log.info("routine line %d %s", i, "x" * 40)
    crashlog.write(KeyError("boom"), context="a test")
    text = "".join(p.read_text() for p in logdir.glob("depot.log*"))
    assert "hunter2" not in text and "password=***" in text
    assert sorted(p.name for p in logdir.glob("depot.log*"))[:2] == ["depot.log", "depot.log.1"]
    assert len(list(logdir.glob("depot.log.*"))) <= logfile.BACKUPS
    problems = logfile.recent_problems()
    assert any("internal error while a test: KeyError" in p for p in problems)


def test_a_failed_scheduled_backup_is_logged(logdir: Path, tmp_path: Path) -> None:
    from sqlalchemy import create_engine

    from app.services.settings import Settings

    logfile.setup("test")
    s = Settings(tmp_path / "s.json")
    s.set("backup.dir", str(tmp_path / "unplugged-share"))
    db = tmp_path / "x.db"
    db.write_bytes(b"")
    rep = backup.scheduled(create_engine(f"sqlite:///{db}"), s)
    assert not rep.ok
    assert any("scheduled backup failed" in p and "unplugged-share" in p for p in logfile.recent_problems())
