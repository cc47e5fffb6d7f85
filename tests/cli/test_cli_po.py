"""`depot po ...`, `depot print po` and `depot mail` against a real database file."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import run
from tests.factories import World


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err




def test_create_approve_in_two_levels_send_and_print(capsys: pytest.CaptureFixture[str], db_path: Path, bw: World,
                                                     tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    code, out, err = _run(capsys, db_path, "po", "create", "--supplier", "ACME", "--warehouse", "DAL1",
                          "--line", "DRILL:700:45", "--line", "BOLT:100", "--submit", "--user", "alice", "--json")
    assert code == 0, err
    created = json.loads(out)
    number = created["number"]
    assert number == "DAL-PO-000001" and created["status"] == "pending_approval"  # 31,510: two levels

    code, out, _ = _run(capsys, db_path, "po", "inbox", "--user", "bob", "--json")
    assert [r["number"] for r in json.loads(out)] == [number]
    code, out, err = _run(capsys, db_path, "po", "approve", number, "--user", "alice")
    assert code == 1 and "alice may not approve purchase orders" in err and out == ""
    code, out, _ = _run(capsys, db_path, "po", "approve", number, "--user", "bob", "--comment", "fine")
    assert code == 0 and "now pending_approval" in out  # level 2 still open
    code, out, err = _run(capsys, db_path, "po", "send", number, "--user", "alice")
    assert code == 1 and "only an approved PO can be sent" in err
    code, out, _ = _run(capsys, db_path, "po", "approve", number, "--user", "mike")
    assert code == 0 and "now approved" in out

    code, out, _ = _run(capsys, db_path, "po", "show", number, "--json")
    shown = json.loads(out)
    assert shown["status"] == "approved" and shown["total"] == "31510.00"  # the total as printed: extensions rounded to the cent
    assert [(ln["sku"], ln["qty"]) for ln in shown["lines"]] == [("DRILL", 700), ("BOLT", 100)]
    assert [(a["level"], a["approved_by"]) for a in shown["approval"]] == [(1, "bob"), (2, "mike")]
    code, out, _ = _run(capsys, db_path, "po", "show", number)
    assert "level 2 (manager): approved by mike" in out and "31,510.00" in out

    code, out, err = _run(capsys, db_path, "po", "send", number, "--user", "alice")
    assert code == 0 and "e-mail to orders@acme.example queued" in out
    code, out, _ = _run(capsys, db_path, "mail", "list", "--json")
    assert json.loads(out)[0]["status"] == "queued"

    pdf_path = tmp_path / "po.pdf"
    code, out, _ = _run(capsys, db_path, "print", "po", number, "--out", str(pdf_path))
    assert code == 0
    text = PdfReader(io.BytesIO(pdf_path.read_bytes())).pages[0].extract_text()
    assert number in text and "DRILL" in text and "page 1 of" in text

    code, out, _ = _run(capsys, db_path, "po", "list", "--status", "sent", "--json")
    assert [r["number"] for r in json.loads(out)] == [number]
    code, out, _ = _run(capsys, db_path, "po", "close", number, "--user", "alice")
    assert code == 0 and "now closed" in out
    code, out, err = _run(capsys, db_path, "po", "cancel", number, "--user", "alice")
    assert code == 1 and "is closed" in err


@pytest.mark.parametrize(("line", "message"), [
    ("WIDGET:0", "quantity: must be more than zero"),
    ("WIDGET:-3", "is negative"),
    ("WIDGET:1.5", "not a whole number"),
    ("WIDGET:99999999999999", "larger than"),
    ("WIDGET:5:-2", "price: -2.0000 is negative"),
    ("GHOST:5", "unknown item"),
    ("WIDGET", "is not SKU:QTY"),
])
def test_bad_lines_give_one_line_and_write_nothing(capsys: pytest.CaptureFixture[str], db_path: Path, bw: World,
                                                   line: str, message: str) -> None:
    code, out, err = _run(capsys, db_path, "po", "create", "--supplier", "ACME", "--warehouse", "DAL1",
                          "--line", "BOLT:10", "--line", line, "--user", "alice")
    assert code == 1 and message in err and err.startswith("depot: error:") and err.count("\n") == 1
    code, out, _ = _run(capsys, db_path, "po", "list", "--json")
    assert json.loads(out) == []


def test_unknown_supplier_po_and_user(capsys: pytest.CaptureFixture[str], db_path: Path, bw: World) -> None:
    code, _, err = _run(capsys, db_path, "po", "create", "--supplier", "NOPE", "--warehouse", "DAL1",
                        "--line", "BOLT:1", "--user", "alice")
    assert code == 1 and "unknown supplier NOPE" in err
    code, _, err = _run(capsys, db_path, "po", "show", "DAL-PO-999999")
    assert code == 1 and "unknown purchase order DAL-PO-999999" in err
    code, _, err = _run(capsys, db_path, "po", "approve", "DAL-PO-999999", "--user", "ghost")
    assert code == 1 and "unknown user ghost" in err
    code, _, err = _run(capsys, db_path, "print", "po", "DAL-PO-999999", "--out", "/tmp/x.pdf")
    assert code == 1 and "unknown purchase order" in err
