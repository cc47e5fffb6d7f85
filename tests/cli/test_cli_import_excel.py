"""`depot import` on files as Excel saves them: the report says how the file was read."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import run
from app.models.catalog import Item
from tests.factories import World
from tests.services.test_import_excel import EXCEL_DE


def test_import_items_from_a_windows_1252_semicolon_file(world: World, session: Session, db_path: Path,
                                                         tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "Artikel.csv"
    f.write_bytes(EXCEL_DE.encode("cp1252"))
    assert run(["--db", str(db_path), "import", "items", str(f), "--user", "root"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out == [f"{f}: read as Windows-1252 (the file is not UTF-8)", f"{f}: columns separated by semicolon",
                   f"imported 3 items from {f}"]
    session.expire_all()
    assert session.scalars(select(Item.description).where(Item.sku == "CAFE-1")).one() == "Café crème 1 kg"


def test_encoding_and_delimiter_options(world: World, session: Session, db_path: Path, tmp_path: Path,
                                        capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "s.txt"
    f.write_bytes("code|name\nS1|Société Générale\nS2|\n".encode("latin-1"))
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "root"]) == 1
    assert "name it with --delimiter" in capsys.readouterr().err
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "root", "--delimiter", "|",
                "--encoding", "latin-1", "--json"]) == 1
    err = capsys.readouterr().err.splitlines()
    assert err[0] == f"{f}: read as latin-1 (as asked)"
    assert err[1] == f"{f}:3: name: is required" and err[-1].startswith("depot: error: ")
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "root", "--delimiter", "pipe",
                "--encoding", "latin-1", "--json", "--skip-bad"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert (out["imported"], out["encoding"], out["delimiter"]) == (1, "latin-1", "|")
    assert run(["--db", str(db_path), "import", "suppliers", str(f), "--user", "root", "--delimiter", "xy"]) == 1
    assert capsys.readouterr().err.strip() == "depot: error: delimiter: 'xy' is not a separator (use , ; tab or |)"
