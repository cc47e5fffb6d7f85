"""The command line as a receiver and a buyer meet it: a barcode finds the item, the ledger names
documents by number, an expected receipt's lines are listed, --out never creates folders, and a
refusal reads as a sentence."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services.receiving.post import ReceiveLine, post_receipt
from tests.factories import World
from tests.services._receiving_world import make_expected


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def received(session: Session, world: World) -> str:
    er = make_expected(session, world, [("WIDGET", 24), ("BOLT", 10)])
    posted = post_receipt(session, world.actors["rita"], er.id, [ReceiveLine(world.items["WIDGET"].id, 24)])
    session.commit()
    return posted.number


def test_stock_by_barcode_and_the_ledger_names_the_receipt(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                           received: str) -> None:
    code, out, err = _run(capsys, db_path, "stock", "00012345678905", "--json", "--history", "5")
    assert code == 0, err
    doc = json.loads(out)
    assert doc["sku"] == "WIDGET" and doc["on_hand"] == 24
    assert [m["doc"] for m in doc["history"]] == [received]  # not "receipt"


def test_receipts_show_lists_an_expected_receipts_lines(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                        session: Session, world: World) -> None:
    er = make_expected(session, world, [("WIDGET", 24), ("BOLT", 10)])
    session.commit()
    code, out, err = _run(capsys, db_path, "receipts", "show", er.number)
    assert code == 0, err
    assert out.splitlines()[0].startswith(f"{er.number}  expected  supplier ACME  dock D1")
    assert "BOLT" in out and "WIDGET" in out and "2 line(s), 34 unit(s) still to receive" in out
    code, _out, err = _run(capsys, db_path, "receipts", "show", "NOPE-1")
    assert code == 1 and err.strip() == "depot: error: unknown expected receipt, ASN or PO NOPE-1"


def test_out_into_a_missing_folder_is_refused_and_nothing_is_created(
        capsys: pytest.CaptureFixture[str], db_path: Path, received: str, tmp_path: Path) -> None:
    missing = tmp_path / "no" / "such" / "labels.pdf"
    code, _out, err = _run(capsys, db_path, "labels", "receipt", received, "--out", str(missing))
    assert code == 1 and "--out: the folder" in err and "does not exist" in err
    assert not (tmp_path / "no").exists()
    code, out, err = _run(capsys, db_path, "labels", "receipt", received, "--out", str(tmp_path))
    assert code == 0 and (tmp_path / "receipt-labels.pdf").exists()


def test_a_refusal_reads_as_a_sentence(capsys: pytest.CaptureFixture[str], db_path: Path, session: Session,
                                       world: World) -> None:
    er = make_expected(session, world, [("BOLT", 5)])
    session.commit()
    scans = db_path.parent / "scans.txt"
    scans.write_text("BOLT\n")
    code, _out, err = _run(capsys, db_path, "receive", er.number, "--scans", str(scans), "--user", "alice")
    assert code == 1
    assert "alice may not post receipts: that needs the receiver, warehouse or admin role (alice has: buyer)" in err


def test_depot_without_a_display_says_what_to_do_instead_of_aborting(db_path: Path) -> None:
    import os
    import subprocess
    import sys

    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    done = subprocess.run([sys.executable, "-m", "app", "--db", str(db_path)], env=env, capture_output=True, text=True,
                          timeout=60)
    assert done.returncode == 2  # not 134 (Qt's abort)
    assert done.stderr.strip() == ("depot: error: no display: this machine shows no window. Use a sub-command "
                                   "(`depot --help` lists them), or open the window under a virtual display: "
                                   "xvfb-run -a depot")
