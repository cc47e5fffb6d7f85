"""`depot receive`, `depot receipts`, `depot putaway` and `depot labels` on a real database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.cli import run
from tests.factories import World
from tests.services._receiving_world import make_expected


@pytest.fixture
def doc(session: Session, world: World) -> str:
    world.items["BOLT"].needs_inspection = True
    er = make_expected(session, world, [("WIDGET", 24), ("BOLT", 3), ("DRILL", 2)])
    session.commit()
    return er.number


def _run(db: Path, *argv: str) -> int:
    return run(["--db", str(db), *argv])


def test_receive_file_posts_with_the_screens_messages(db_path: Path, engine: Engine, doc: str, tmp_path: Path,
                                                      capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans.txt"
    scans.write_text("*2\n00012345678905\n\nwidget\n*21\nWIDGET\n*3\nBOLT\n*2\nDRILL\nSN-1\nSN-2\n", encoding="utf-8")
    assert _run(db_path, "receive", doc, "--scans", str(scans), "--user", "rita", "--json") == 0
    out = json.loads(capsys.readouterr().out)
    assert out["messages"][0] == {"line": 1, "ok": True, "message": "quantity 2 for the next scan"}
    assert out["messages"][1]["message"] == "WIDGET +2 = 2 of 24"
    assert out["messages"][2]["line"] == 4  # blank line 3 skipped
    assert out["posted"]["number"] == "DAL-GR-000001" and out["posted"]["units"] == 29 and out["posted"]["held_units"] == 3
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM receipt")).scalar() == 1
    # posting the same document again is refused, one line on stderr, exit 1
    assert _run(db_path, "receive", doc, "--scans", str(scans), "--user", "rita") == 1
    err = capsys.readouterr()
    assert "is received: nothing more can be received" in err.out and "nothing posted" in err.err

    # holds and putaway from the command line
    assert _run(db_path, "receipts", "holds", "--json") == 0
    holds = json.loads(capsys.readouterr().out)
    assert [(h["sku"], h["qty"]) for h in holds] == [("BOLT", 3)]
    assert _run(db_path, "receipts", "release", holds[0]["id"][:8], "--user", "rita") == 0
    capsys.readouterr()
    assert _run(db_path, "putaway", "list", "--warehouse", "DAL1", "--json") == 0
    tasks = json.loads(capsys.readouterr().out)
    assert sorted(t["sku"] for t in tasks) == ["BOLT", "DRILL", "WIDGET"]
    widget = next(t for t in tasks if t["sku"] == "WIDGET")
    assert _run(db_path, "putaway", "confirm", widget["task_id"], "C-01", "--user", "wes") == 1
    assert "bin C-01 is chilled; WIDGET needs ambient" in capsys.readouterr().err
    assert _run(db_path, "putaway", "confirm", widget["task_id"], widget["proposed_code"], "--user", "wes") == 0
    assert "put away 24 into A-01" in capsys.readouterr().out
    assert _run(db_path, "receipts", "dock-to-stock", "--warehouse", "DAL1", "--json") == 0
    summary = json.loads(capsys.readouterr().out)
    assert (summary["receipts"], summary["stocked"]) == (1, 0)  # BOLT and DRILL still on the dock
    out_pdf = tmp_path / "putaway.pdf"
    assert _run(db_path, "putaway", "pdf", "--warehouse", "DAL1", "--out", str(out_pdf)) == 0
    text_ = PdfReader(str(out_pdf)).pages[0].extract_text()
    assert "BOLT" in text_ and "DRILL" in text_ and "WIDGET" not in text_


def test_refused_scan_posts_nothing_and_exits_1(db_path: Path, engine: Engine, doc: str, tmp_path: Path,
                                               capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "scans.txt"
    scans.write_text("*30\nWIDGET\nLOT:X\n", encoding="utf-8")
    assert _run(db_path, "receive", doc, "--scans", str(scans), "--user", "rita") == 1
    out = capsys.readouterr()
    assert "REFUSED WIDGET: 30 would be above the expected 24" in out.out
    assert "2 scan(s) refused: nothing posted" in out.err
    with engine.connect() as c:
        assert c.execute(text("SELECT count(*) FROM stock_move")).scalar() == 0


def test_receive_check_only_and_missing_user_or_document(db_path: Path, doc: str, tmp_path: Path,
                                                         capsys: pytest.CaptureFixture[str]) -> None:
    scans = tmp_path / "s.txt"
    scans.write_text("WIDGET\n", encoding="utf-8")
    assert _run(db_path, "receive", doc, "--scans", str(scans), "--user", "rita", "--check") == 0
    assert "WIDGET +1 = 1 of 24" in capsys.readouterr().out
    assert _run(db_path, "receive", "NOPE-1", "--scans", str(scans), "--user", "rita") == 1
    assert "unknown expected receipt, ASN or PO NOPE-1" in capsys.readouterr().err
    assert _run(db_path, "receive", doc, "--scans", str(tmp_path / "missing.txt"), "--user", "rita") == 1
    assert "--scans: cannot read" in capsys.readouterr().err
    assert _run(db_path, "receipts", "expected", "--warehouse", "DAL1", "--json") == 0
    rows = json.loads(capsys.readouterr().out)
    assert [(r["number"], r["lines"], r["units"]) for r in rows] == [(doc, 3, 29)]


def test_labels_commands_write_pdfs(db_path: Path, doc: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "bins.pdf"
    assert _run(db_path, "labels", "bins", "--warehouse", "DAL1", "--prefix", "A-", "--out", str(out)) == 0
    assert "wrote 3 label(s)" in capsys.readouterr().out
    assert "A-03" in PdfReader(str(out)).pages[0].extract_text()
    assert _run(db_path, "labels", "items", "WIDGET", "--copies", "2", "--out", str(tmp_path / "i.pdf")) == 0
    assert _run(db_path, "labels", "receipt", "DAL-GR-000099", "--out", str(tmp_path / "r.pdf")) == 1
    assert "unknown receipt DAL-GR-000099" in capsys.readouterr().err
