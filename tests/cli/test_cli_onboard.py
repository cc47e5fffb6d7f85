"""`depot company|branch|warehouse|zone|locations|user` and the new import options, as typed:
one-line errors, exit codes, passwords never on the command line."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest

from app.cli import run
from tests.factories import World


def _stdin(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO(text))


def test_a_new_file_is_set_up_on_the_command_line(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(tmp_path / "new.db")
    assert run(["--db", db, "db", "upgrade"]) == 0
    assert run(["--db", db, "company", "show"]) == 0
    assert "this file has no users yet" in capsys.readouterr().out
    assert run(["--db", db, "branch", "add", "DAL", "--name", "Dallas"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["depot: error: head office: create the head office first (it owns the company's master data): "
                   "mark the first branch as head office"]
    assert run(["--db", db, "branch", "add", "HQ", "--name", "Head office", "--head-office"]) == 0
    assert run(["--db", db, "branch", "add", "DAL", "--name", "Dallas", "--timezone", "America/Chicago"]) == 0
    assert run(["--db", db, "warehouse", "add", "DAL1", "--branch", "DAL", "--name", "Dallas DC"]) == 0
    assert run(["--db", db, "zone", "add", "CHL", "--warehouse", "DAL1", "--temperature", "chilled"]) == 0
    assert run(["--db", db, "locations", "generate", "--warehouse", "DAL1", "--aisles", "C01-C02", "--bays", "1-4",
                "--levels", "1-2", "--zone", "CHL", "--role", "pick", "--json"]) == 0
    capsys.readouterr()
    assert run(["--db", db, "locations", "list", "--warehouse", "DAL1", "--kind", "storage", "--json"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert [r["code"] for r in rows[:5]] == ["C01-1-1", "C01-1-2", "C01-2-1", "C01-2-2", "C01-3-1"]
    assert rows[8]["code"] == "C02-4-1" and {r["temperature"] for r in rows} == {"chilled"}
    # the first user: password on standard input, never an argument
    with pytest.raises(SystemExit):
        run(["--db", db, "user", "add", "ada", "--roles", "admin", "--password", "secret"])
    capsys.readouterr()
    _stdin(monkeypatch, "correct-horse\n")
    assert run(["--db", db, "user", "add", "ada", "--roles", "admin"]) == 0
    # now the file has users: changes need a named admin
    assert run(["--db", db, "branch", "add", "HOU", "--name", "Houston"]) == 1
    assert "this file has users: sign in (or name one with --user)" in capsys.readouterr().err
    assert run(["--db", db, "branch", "add", "HOU", "--name", "Houston", "--user", "ada"]) == 0
    assert run(["--db", db, "branch", "list", "--json"]) == 0
    branches = {b["code"]: b for b in json.loads(capsys.readouterr().out.split("\n", 1)[1])}
    assert branches["HQ"]["head_office"] == "yes" and branches["HQ"]["this_file"] == "yes"


def test_users_on_the_command_line(world: World, db_path: Path, capsys: pytest.CaptureFixture[str],
                                   monkeypatch: pytest.MonkeyPatch) -> None:
    db = str(db_path)
    _stdin(monkeypatch, "correct-horse\n")
    assert run(["--db", db, "user", "add", "bea", "--roles", "buyer,approver", "--branch", "DAL", "--user", "root",
                "--password-stdin"]) == 0
    assert "user bea added (buyer, approver; branch DAL)" in capsys.readouterr().out
    _stdin(monkeypatch, "correct-horse\n")
    assert run(["--db", db, "user", "add", "zed", "--roles", "boss", "--user", "root"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["depot: error: roles: unknown role boss (known: buyer, approver, receiver, warehouse, dispatcher, "
                   "clerk, manager, admin)"]
    assert run(["--db", db, "user", "disable", "root", "--user", "root"]) == 1
    assert capsys.readouterr().err.strip() == ("depot: error: root is the last active admin: make another user "
                                               "admin before disabling root")
    assert run(["--db", db, "user", "disable", "alice"]) == 1
    assert "name the admin who does this" in capsys.readouterr().err
    assert run(["--db", db, "user", "disable", "alice", "--user", "root"]) == 0
    assert run(["--db", db, "user", "set-roles", "bea", "--roles", "buyer", "--user", "root"]) == 0
    _stdin(monkeypatch, "brand-new-pass\n")
    assert run(["--db", db, "user", "reset-password", "bea", "--user", "root"]) == 0
    capsys.readouterr()
    assert run(["--db", db, "user", "list", "--json"]) == 0
    users = {u["username"]: u for u in json.loads(capsys.readouterr().out)}
    assert users["alice"]["active"] is False and users["bea"]["roles"] == ["buyer"]
    assert run(["--db", db, "user", "roles"]) == 0
    table = capsys.readouterr().out
    assert "po.approve" in table and "approves or rejects purchase orders" in table


def test_import_check_and_sample(world: World, db_path: Path, tmp_path: Path,
                                 capsys: pytest.CaptureFixture[str]) -> None:
    db = str(db_path)
    assert run(["--db", db, "import", "order-points", "--sample"]) == 0
    sample = capsys.readouterr().out
    assert sample.splitlines()[0] == "warehouse,sku,min_qty,max_qty,policy"
    f = tmp_path / "op.csv"
    f.write_text("warehouse,sku,min_qty,max_qty\nDAL1,BOLT,10,40\nDAL1,WIDGET,50,20\n", encoding="utf-8")
    assert run(["--db", db, "import", "order-points", str(f), "--check", "--user", "root"]) == 1
    cap = capsys.readouterr()
    assert f"{f}:3: min_qty: 50 is above max_qty 20" in cap.err
    assert "checked 2 rows" in cap.out and "1 good, 1 bad; nothing written" in cap.out
    assert run(["--db", db, "import", "order-points", str(f), "--user", "root", "--skip-bad"]) == 0
    assert "imported 1 order-points" in capsys.readouterr().out
    assert run(["--db", db, "import", "order-points"]) == 1
    assert "name the CSV file to import (or --sample" in capsys.readouterr().err
