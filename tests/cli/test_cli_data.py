"""`depot seed`, `depot import` and `depot export` end to end: exit codes, one-line errors, files."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import run
from app.models.catalog import Item
from app.models.parties import Supplier
from tests.factories import World


def test_seed_prints_a_report_and_refuses_to_seed_twice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    db = tmp_path / "demo.db"
    assert run(["seed", "--size", "demo", "--seed", "3", "--branch", "HOU", "--db", str(db), "--json"]) == 0
    cap = capsys.readouterr()
    report = json.loads(cap.out)
    assert report["size"] == "demo" and report["branch"] == "HOU" and report["counts"]["item"] == 500
    assert report["file_bytes"] == db.stat().st_size and report["seconds"] > 0
    assert "seed: 100% done" in cap.err
    assert run(["--db", str(db), "seed"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("depot: error: ") and "already holds data" in err[0]
    assert run(["--db", str(db), "db", "check"]) == 0, "the seeded file passes the integrity check"
    capsys.readouterr()
    with pytest.raises(SystemExit) as e:
        run(["seed", "--size", "huge", "--db", str(tmp_path / "x.db")])
    assert e.value.code == 2


def test_import_rejects_a_bad_file_line_by_line_and_writes_nothing(
        world: World, session: Session, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "items.csv"
    f.write_text("sku,description,standard_cost\nGOOD,Good,1.00\nBAD,Bad,1.2.3\nWIDGET,Dup,1\n")
    assert run(["--db", str(db_path), "import", "items", str(f), "--user", "root"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err[0] == f"{f}:3: standard_cost: '1.2.3' is not a number"
    assert err[1] == f"{f}:4: sku WIDGET already exists in the database"
    assert err[-1].startswith("depot: error: ") and "nothing imported" in err[-1] and len(err) == 3
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Item)) == 4
    f.write_text("sku,colour\nX,red\n")
    assert run(["--db", str(db_path), "import", "items", str(f), "--user", "root"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "missing column(s) description" in err[0]
    assert run(["--db", str(db_path), "import", "items", str(tmp_path / "none.csv"), "--user", "root"]) == 1
    assert "no such file" in capsys.readouterr().err
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "alice"]) == 1
    assert "alice may not import data: that needs the admin role" in capsys.readouterr().err


def test_import_skip_bad_json_lists_the_skipped_rows(
        world: World, session: Session, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "sup.csv"
    f.write_text("code,name,edi_format\nS1,One,x12\nS2,Two,fax\nS3,Three,\n")
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "root", "--skip-bad", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["imported"] == 2 and out["rows"] == 3
    assert out["skipped"] == [{"line": 3, "reason": "edi_format: 'fax' is not one of x12, edifact"}]
    session.expire_all()
    assert sorted(session.scalars(select(Supplier.code))) == ["ACME", "S1", "S3"]


def test_export_to_a_file_and_to_stdout_and_unknown_table(
        world: World, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "exports" / "customer.csv"
    assert run(["--db", str(db_path), "export", "customer", "--out", str(out)]) == 1  # no such folder: refused
    assert "the folder " in capsys.readouterr().err and not (tmp_path / "exports").exists()  # never made silently
    out.parent.mkdir()
    assert run(["--db", str(db_path), "export", "customer", "--out", str(out)]) == 0
    rows = list(csv.DictReader(out.open()))
    assert [(r["code"], r["credit_limit"]) for r in rows] == [("BUILDCO", "10000.0000")]
    assert "exported 1 rows of customer" in capsys.readouterr().err
    assert run(["--db", str(db_path), "export", "supplier"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("code,name,") and lines[1].startswith("ACME,Acme Industrial Supply,")
    assert run(["--db", str(db_path), "export", "secrets"]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["depot: error: table: unknown table 'secrets' (run 'depot export --list' for the tables)"]
    assert not (tmp_path / "exports" / "secrets.csv").exists()
    assert run(["--db", str(db_path), "export", "--list"]) == 0
    assert "stock_move" in capsys.readouterr().out.split()
