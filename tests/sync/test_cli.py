"""`depot server ...` and `depot sync ...` end to end, in-process, against the real server."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from app.cli import run
from app.services.db import open_database, session_scope
from tests.factories import build_world
from tests.sync.conftest import PG_HOST, PG_PORT, Server


def test_server_init_publish_add_branch_and_sync(server: Server, tmp_path: Path, template_db: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    hq = tmp_path / "hq.db"
    shutil.copy(template_db, hq)
    eng = open_database(hq)
    with session_scope(eng) as s:
        build_world(s)
    with eng.begin() as c:  # like the seed: rows written with capture off are not in the outbox
        c.exec_driver_sql("DELETE FROM sync_outbox")
    eng.dispose()
    assert run(["server", "init", "--dsn", server.dsn, "--from-db", str(hq), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["published_rows"] > 50 and "stock_move" in out["tables"]
    assert run(["server", "init", "--dsn", server.dsn]) == 0  # idempotent upgrade
    capsys.readouterr()
    assert run(["server", "add-branch", "dal", "--dsn", server.dsn, "--print"]) == 0
    line = capsys.readouterr().out
    role, pw = line.split()[1], line.split()[3]
    assert role == f"{server.prefix}dal"
    dal = tmp_path / "dal.db"
    shutil.copy(template_db, dal)
    dsn = f"host={PG_HOST} port={PG_PORT} dbname={server.dbname} user={role} password={pw}"
    assert run(["--db", str(dal), "sync", "--once", "--json", "--dsn", dsn]) == 0
    res = json.loads(capsys.readouterr().out)
    assert res["ok"] and res["pulled"] == out["published_rows"]
    assert run(["--db", str(dal), "sync", "status", "--json"]) == 0
    st = json.loads(capsys.readouterr().out)
    assert st["state"] == "online" and st["pending"] == 0 and "password" not in st["server"]
    assert run(["--db", str(dal), "sync", "conflicts"]) == 0
    assert "(none)" in capsys.readouterr().out
    assert run(["server", "add-branch", "NOPE", "--dsn", server.dsn]) == 1
    assert "NOPE is not on the server" in capsys.readouterr().err


def test_sync_offline_exits_non_zero_with_one_line(tmp_path: Path, template_db: Path,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    import shutil

    db = tmp_path / "b.db"
    shutil.copy(template_db, db)
    assert run(["--db", str(db), "sync", "--once", "--dsn", "host=127.0.0.1 port=1 user=x dbname=x"]) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert len(out) == 1 and out[0].startswith("offline: server unreachable")
    assert run(["server", "init"]) == 1
    assert "--dsn" in capsys.readouterr().err
