"""The adoption test: a small company moves in from CSV files only (no seed), through the `depot`
command as its admin would type it, then receives, replenishes and prints a purchase order.

The files are the sample files of every kind (the setup assistant's downloads) plus a half year of
daily sales history for the computed items, written the way an old system exports them; the last
one comes as Excel saves it in Windows-1252 with ';'.
"""

from __future__ import annotations

import datetime as dt
import io
import json
import sqlite3
from pathlib import Path

import pytest
from pypdf import PdfReader

from app.cli import run
from app.services.importer import ADOPTION_ORDER
from app.services.importer.samples import sample_csv


def _png() -> bytes:
    from PIL import Image

    buf = io.BytesIO()
    Image.new("RGB", (300, 100), (31, 78, 121)).save(buf, "PNG")
    return buf.getvalue()


def depot(db: Path, *args: str, stdin: str | None = None, monkeypatch: pytest.MonkeyPatch | None = None) -> int:
    if stdin is not None:
        assert monkeypatch is not None
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin))
    return run(["--db", str(db), *args])


def test_a_company_adopted_from_csv_files_receives_replenishes_and_prints_a_po(
        tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> None:
    db = tmp_path / "company.db"
    assert depot(db, "db", "upgrade") == 0
    files = {}
    for kind in ADOPTION_ORDER:
        files[kind] = tmp_path / f"{kind}.csv"
        files[kind].write_text(sample_csv(kind), encoding="utf-8")
    # half a year of SOLV-5L sales at DAL1: 2 a day on weekdays (ten a week), with the old invoice numbers;
    # Windows-1252 with ';' as Excel writes it in many countries, the customer's name with an accent
    today = dt.date.today()
    lines = ["date;warehouse;sku;qty;customer;reference"]
    for n in range(7, 7 * 27):
        day = today - dt.timedelta(days=n)
        if day.weekday() < 5:
            lines.append(f"{day.isoformat()};DAL1;SOLV-5L;2;BUILDCO;Facture n°{n}")
    files["sales-history"].write_bytes(("\r\n".join(lines) + "\r\n").encode("cp1252"))
    capsys.readouterr()

    # 1. the organisation, before anybody can sign in; then the first admin (password on stdin)
    assert depot(db, "import", "branches", str(files["branches"])) == 0
    assert depot(db, "import", "items", str(files["items"])) == 1  # items need a signed-in admin
    assert "importing items needs a signed-in user" in capsys.readouterr().err
    assert depot(db, "user", "add", "ada", "--roles", "buyer", stdin="correct-horse\n", monkeypatch=monkeypatch) == 1
    assert "the first user of a file must be an admin" in capsys.readouterr().err
    assert depot(db, "user", "add", "ada", "--roles", "admin", "--full-name", "Ada Admin",
                 stdin="correct-horse\n", monkeypatch=monkeypatch) == 0
    (tmp_path / "logo.png").write_bytes(_png())
    assert depot(db, "company", "set", "--name", "Lone Star Supply", "--address", "100 Main St\nAustin TX 78701",
                 "--tax-id", "74-1234567", "--currency", "USD", "--timezone", "America/Chicago",
                 "--logo", str(tmp_path / "logo.png"), "--user", "ada") == 0
    assert depot(db, "user", "add", "rita", "--roles", "receiver", "--branch", "DAL", "--user", "ada",
                 stdin="receive-it-1\n", monkeypatch=monkeypatch) == 0
    assert depot(db, "user", "add", "bea", "--roles", "buyer,approver", "--branch", "DAL", "--user", "ada",
                 stdin="buy-it-all-1\n", monkeypatch=monkeypatch) == 0

    # 2. every file of the old system, in order; each says what it imported
    for kind in ADOPTION_ORDER[1:]:
        assert depot(db, "import", kind, str(files[kind]), "--user", "ada") == 0, capsys.readouterr().err
    out = capsys.readouterr().out
    assert "imported 5 locations" in out and "imported 2 purchase-orders" in out
    assert "imported 130 sales-history" in out and "windows-1252" in out.lower()
    assert depot(db, "locations", "generate", "--warehouse", "DAL1", "--aisles", "B01-B04", "--bays", "01-10",
                 "--levels", "1-3", "--zone", "AMB", "--user", "ada") == 0
    assert "made 120 bins in DAL1" in capsys.readouterr().out

    # 3. receive the open PO the old system left (24 of 48 gloves had come already; 24 more now)
    scans = tmp_path / "scans.txt"
    scans.write_text("*2000\nBOLT-M8\n*24\nGLOVE-L\n", encoding="utf-8")
    assert depot(db, "receive", "PO-10451", "--scans", str(scans), "--user", "rita") == 0
    posted = capsys.readouterr().out
    assert "posted DAL-GR-000001" in posted and "2024 unit(s)" in posted
    assert depot(db, "po", "show", "PO-10451", "--json") == 0
    assert json.loads(capsys.readouterr().out)["status"] == "received"

    # 4. replenish: SOLV-5L is computed from its sales history (8 on hand, 10 a week, 14 days' lead time);
    # bolts (3,200) and gloves (54) are above the min of their fixed min/max, so they are not bought
    con = sqlite3.connect(db)
    moves_before = con.execute("SELECT count(*) FROM stock_move").fetchone()[0]
    con.close()
    assert depot(db, "replenish", "--user", "bea", "--json") == 0
    recs = {r["sku"]: r for r in json.loads(capsys.readouterr().out)["recommendations"]}
    assert set(recs) == {"SOLV-5L"}
    why = recs["SOLV-5L"]["why"]
    assert why["policy"] == "computed" and why["d"] == pytest.approx(10 / 7, rel=0.02) and why["on_hand"] == 8
    assert recs["SOLV-5L"]["qty"] % 4 == 0  # whole packs of 4
    assert depot(db, "replenish", "--user", "bea", "--accept", "--all") == 0
    assert depot(db, "requisition", "convert", "--all", "--user", "bea") == 0
    out = capsys.readouterr().out
    number = next(w for w in out.split() if w.startswith("DAL-PO-"))

    # 5. print it: the company's letterhead, its logo, the line; nothing moved stock while planning
    pdf = tmp_path / "po.pdf"
    assert depot(db, "print", "po", number, "--out", str(pdf)) == 0
    page = PdfReader(pdf).pages[0]
    text = page.extract_text()
    assert "Lone Star Supply" in text and "Tax id 74-1234567" in text and "Issued by Dallas" in text
    assert "SOLV-5L" in text and "ChemPro Supply" in text and len(page.images) == 1
    con = sqlite3.connect(db)
    assert con.execute("SELECT count(*) FROM stock_move").fetchone()[0] == moves_before
    assert con.execute("SELECT count(*) FROM sync_outbox").fetchone()[0] > 0  # all of it goes to the server
    con.close()
    assert depot(db, "db", "check") == 0
