"""`depot edi ...` end to end on a real database file."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services import masterdata as md
from app.services.edi import x12
from tests.factories import World
from tests.services.test_edi_import import FIXTURES, fixture, make_po, set_edi

pytestmark = pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared EDI fixtures not found")


@pytest.fixture
def ready(session: Session, world: World) -> World:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    make_po(session, world, "0132710645", [(10, item, 2, "369")])
    make_po(session, world, "DAL-PO-000300", [(1, world.items["WIDGET"], 24, "1.25")], status="approved")
    session.commit()
    return world


def test_import_reports_differences_and_a_duplicate(ready: World, db_path: Path, tmp_path: Path,
                                                    capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "in.855"
    f.write_bytes(fixture("x12/855_4010_adobe.txt"))
    assert run(["--db", str(db_path), "edi", "import", str(f), "--user", "alice"]) == 0
    out = capsys.readouterr().out
    assert "855 for PO 0132710645: differences, 1 difference(s)" in out
    assert "difference: line 10 T05249: quantity changed 2 -> 1" in out
    assert run(["edi", "import", str(f), "--json", "--db", str(db_path)]) == 0
    assert '"duplicate": true' in capsys.readouterr().out


def test_bad_file_is_one_line_and_exit_1(ready: World, db_path: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    f = tmp_path / "bad.855"
    f.write_bytes(fixture("x12/855_4010_adobe.txt").replace(b"SE*43*", b"SE*40*"))
    assert run(["--db", str(db_path), "edi", "import", str(f)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == ["depot: error: SE01 says 40 segments but transaction 855 852281220 has 43"]


def test_export_po_writes_a_readable_850(ready: World, db_path: Path, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    code = run(["--db", str(db_path), "edi", "export", "po", "DAL-PO-000300", "--format", "x12", "--out", str(tmp_path / "out")])
    assert code == 0
    path = Path(capsys.readouterr().out.strip())
    assert path.parent == tmp_path / "out" and x12.parse(path.read_bytes()).transactions[0].set_id == "850"
    assert run(["--db", str(db_path), "edi", "export", "po", "NOPE", "--format", "edifact"]) == 1
    assert "unknown purchase order NOPE" in capsys.readouterr().err


def test_poll_and_check(ready: World, db_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    inbound = tmp_path / "in"
    inbound.mkdir()
    (inbound / "ok.855").write_bytes(fixture("x12/855_4010_adobe.txt"))
    (inbound / "junk.txt").write_text("nope")
    assert run(["--db", str(db_path), "edi", "poll", "--inbound", str(inbound), "--user", "alice", "--json"]) == 1
    out = capsys.readouterr().out
    assert '"processed": 1' in out and '"failed": 1' in out
    assert (inbound / "processed" / "ok.855").exists() and (inbound / "error" / "junk.txt.error.txt").exists()
    assert len(list((tmp_path / "outbound").iterdir())) == 1  # the 997
    assert run(["edi", "check", str(FIXTURES / "edifact" / "desadv_d01b_ean007_emagiz.edi")]) == 1
    captured = capsys.readouterr()
    assert "PROBLEM: UNZ01 says 2 messages but the interchange holds 1" in captured.out
