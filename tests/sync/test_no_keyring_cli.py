"""`depot server add-branch` on a machine without an OS keyring, as a real process with the real
``keyring`` package and no backend: it refuses before making the role (the password would be lost),
and with the secrets file's passphrase it keeps the password there, and that password logs in."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import psycopg
import pytest

from app.cli import run
from app.services.db import open_database, session_scope
from app.services.secrets import EncryptedFileStore
from tests.factories import build_world
from tests.sync.conftest import PG_HOST, PG_PORT, Server


def _depot(env: dict[str, str], *argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", *argv], env=env, capture_output=True, text=True, timeout=120)


def test_add_branch_without_a_keyring_never_loses_the_password(server: Server, tmp_path: Path, template_db: Path,
                                                               capsys: pytest.CaptureFixture[str]) -> None:
    hq = tmp_path / "hq.db"
    shutil.copy(template_db, hq)
    eng = open_database(hq)
    with session_scope(eng) as s:
        build_world(s)
    eng.dispose()
    assert run(["server", "init", "--dsn", server.dsn, "--from-db", str(hq)]) == 0
    capsys.readouterr()
    env = {k: v for k, v in os.environ.items() if k not in ("DEPOT_KEYRING", "DEPOT_SECRETS_PASSPHRASE")}
    env.update(PYTHON_KEYRING_BACKEND="keyring.backends.fail.Keyring", DEPOT_CONFIG_DIR=str(tmp_path / "cfg"))
    role = f"{server.prefix}dal"
    done = _depot(env, "server", "add-branch", "DAL", "--dsn", server.dsn)
    assert done.returncode == 1 and "Traceback" not in done.stderr
    assert done.stderr.startswith("depot: error: this machine has no system keyring")
    assert "nothing was created. Run again with --print" in done.stderr
    assert server.query("SELECT 1 FROM pg_roles WHERE rolname = %s", role) == []  # no role, no lost password

    done = _depot({**env, "DEPOT_SECRETS_PASSPHRASE": "pass phrase"}, "server", "add-branch", "DAL", "--dsn", server.dsn)
    assert done.returncode == 0, done.stderr
    assert f"role {role} created; password stored in Depot's secrets (No system keyring" in done.stdout
    password = EncryptedFileStore(tmp_path / "cfg" / "secrets.enc", "pass phrase").get(f"sync:{role}")
    assert password
    with psycopg.connect(f"host={PG_HOST} port={PG_PORT} dbname={server.dbname} user={role} password={password}") as c:
        assert c.execute("SELECT current_user").fetchone() == (role,)
