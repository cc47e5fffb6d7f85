"""`depot wave ...`, `depot pick --scans` and `depot print picklist` on a real file; the pick list
PDF parsed back (walking order, totes, lots, page x of y)."""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.cli import run
from app.services.dispatch.setup import set_cutoff
from tests.factories import World
from tests.services.dispatch_helpers import allocated_orders, desk
from tests.services.inventory_helpers import lot, stock


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def book(session: Session, world: World) -> dict:
    p = desk(session, world)
    # the cut-off half a day from now: the plan is in time whenever the test runs (the CLI plans at now)
    later = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=12)).strftime("%H:%M")
    set_cutoff(session, p["dan"], "DAL1", "UPS", later, default=True)
    milk = lot(session, world, "MILK", "L-EARLY", dt.date(2031, 1, 10))
    stock(session, world, "MILK", 6, "DAL1-C-01", lot_id=milk)
    orders = allocated_orders(session, world, p, [{"WIDGET": 30, "BOLT": 5}, {"BOLT": 7, "MILK": 4}],
                              {"WIDGET": [("DAL1-A-01", 20), ("DAL1-A-03", 30)], "BOLT": [("DAL1-A-02", 100)]})
    session.commit()
    return {"orders": [o.number for o in orders]}


def test_plan_release_print_and_pick_from_the_command_line(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                           book: dict, tmp_path: Path) -> None:
    code, out, err = _run(capsys, db_path, "wave", "plan", "--warehouse", "DAL1", "--user", "dan", "--json")
    assert code == 0, err
    plan = json.loads(out)
    (wave,) = plan["waves"]
    assert (wave["carrier"], wave["lines"], wave["units"], wave["in_time"]) == ("UPS", 5, 46, True)
    assert sorted(wave["orders"]) == sorted(book["orders"])
    number = wave["number"]
    code, out, err = _run(capsys, db_path, "wave", "release", number, "--user", "clara")
    assert code == 1 and "clara may not plan and release waves" in err and out == ""
    code, out, err = _run(capsys, db_path, "wave", "release", number, "--user", "dan")
    assert code == 0 and f"released {number}: 2 order(s), 5 line(s)" in out, err
    pdf = tmp_path / "pl.pdf"
    code, out, err = _run(capsys, db_path, "print", "picklist", number, "--out", str(pdf))
    assert code == 0, err
    reader = PdfReader(str(pdf))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert f"Pick list {number}" in text and "page 1 of 1" in text
    # walking order: A-01, A-02 (both orders' BOLT), A-03, then the chilled zone's C-01
    order_seen = [b for b in ("A-01", "A-02", "A-03", "C-01") if b in text]
    positions = [text.index(b) for b in order_seen]
    assert order_seen == ["A-01", "A-02", "A-03", "C-01"] and positions == sorted(positions)
    assert "L-EARLY" in text and "exp 2031-01-10" in text  # the lot to pick, FEFO
    assert "2 CS + 6 EA" in text or "1 CS + 8 EA" in text  # WIDGET's 20 from the pick face, 10 from reserve
    assert "Totes on the cart" in text
    # the pick list is a kind of the print registry: the output is recorded (who, when, where)
    with sqlite3.connect(db_path) as conn:
        assert conn.execute("SELECT count(*) FROM print_record WHERE doc_type = 'picklist' AND doc_ref = ?",
                            (number,)).fetchone()[0] == 1
    scans = tmp_path / "scans.txt"
    scans.write_text("A-01\nWIDGET\n\nC-01\nA-02\nMILK\nBOLT\n\nBOLT\n3\nSHORT 3 damaged\nA-03\nWIDGET\n+\nC-01\nMILK\n\n",
                     encoding="utf-8")
    code, out, err = _run(capsys, db_path, "pick", number, "--scans", str(scans), "--user", "wes")
    assert code == 1, err  # C-01 before its turn is fine; MILK at A-02 and a bare 3 are refused
    assert "line 6: REFUSED wrong item: MILK is picked from C-01" in out
    assert "line 10: REFUSED short reason: 3 of 7 BOLT: say why the rest is missing" in out
    # the only BOLT is in the short bin: nothing covers the 4, a dispatcher is told
    assert "line 11: 3 BOLT from A-02 into tote 2; 4 short; short pick DAL-SO-000002/1 BOLT: 4 not covered" in out
    assert "5 pick(s) confirmed, 2 scan(s) refused" in out
    code, out, err = _run(capsys, db_path, "wave", "list", "--json")
    (row,) = json.loads(out)
    assert (row["status"], row["lines_done"], row["lines_short"]) == ("picked", 5, 1)


def test_bad_input_is_one_line(capsys: pytest.CaptureFixture[str], db_path: Path, book: dict) -> None:
    code, out, err = _run(capsys, db_path, "wave", "release", "DAL-WV-999", "--user", "dan")
    assert code == 1 and err.strip() == "depot: error: unknown wave DAL-WV-999"
    code, out, err = _run(capsys, db_path, "wave", "cutoff", "DAL1", "UPS", "25:00", "--user", "dan")
    assert code == 1 and "cut-off: '25:00' is not a time of day" in err
    code, out, err = _run(capsys, db_path, "wave", "settings", "DAL1", "--pickers", "0", "--user", "dan")
    assert code == 1 and "pickers: must be a whole number from 1 to 500" in err
    code, out, err = _run(capsys, db_path, "pick", "DAL-WV-999", "--scans", "/nonexistent/x.txt", "--user", "dan")
    assert code == 1 and "cannot read" in err
