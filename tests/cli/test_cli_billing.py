"""`depot invoice`, `depot payment`, `depot receivables` and `depot print` (one, COPY, a batch,
resume, history) against a real database file; every PDF parsed back."""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from pypdf import PdfReader
from sqlalchemy.orm import Session

from app.cli import run
from tests.factories import World
from tests.services.billing_helpers import billed_customer, people, rates, ship


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _text(path: Path) -> str:
    return " ".join(p.extract_text() for p in PdfReader(io.BytesIO(path.read_bytes())).pages)


def test_invoice_pay_print_and_a_batch_from_the_shell(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                      session: Session, world: World, tmp_path: Path) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "SHELLCO")
    shipments = [ship(session, world, p["clara"], cust, {"WIDGET": 4 + n}, tracking=f"1ZSHELL{n}") for n in range(3)]
    session.commit()
    code, out, err = _run(capsys, db_path, "invoice", "create", shipments[0].number, "--user", "clara", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert (first["number"], first["status"], first["tracking_number"]) == ("DAL-INV-000001", "pending", "1ZSHELL0")
    code, out, err = _run(capsys, db_path, "invoice", "create", shipments[0].number, "--user", "clara")
    assert code == 1 and "has nothing left to invoice" in err and out == ""
    code, out, _ = _run(capsys, db_path, "invoice", "release", "DAL-INV-000001", "--pod", "signed by K. LEE",
                        "--user", "clara")
    assert code == 0 and "Invoice DAL-INV-000001 (open)" in out and "POD signed by K. LEE" in out
    for sh in shipments[1:]:
        assert _run(capsys, db_path, "invoice", "create", sh.number, "--release", "--user", "clara")[0] == 0
    code, out, _ = _run(capsys, db_path, "invoice", "list", "--json")
    rows = json.loads(out)
    assert [r["number"] for r in rows] == ["DAL-INV-000003", "DAL-INV-000002", "DAL-INV-000001"]
    assert {r["state"] for r in rows} == {"open"}

    # print one: the first output is the original, the second says COPY
    pdf = tmp_path / "inv.pdf"
    code, out, err = _run(capsys, db_path, "print", "invoice", "DAL-INV-000001", "--out", str(pdf), "--user", "clara")
    assert code == 0, err
    text = _text(pdf)
    for want in ("INVOICE", "DAL-INV-000001", "Bill to", "Shellco Ltd", "Ship to", "Tracking number", "1ZSHELL0",
                 "signed by K. LEE", "Sales tax 8.25%", "Remittance: invoice DAL-INV-000001", "page 1 of 1"):
        assert want in text, want
    assert "COPY" not in text
    code, out, _ = _run(capsys, db_path, "print", "invoice", "DAL-INV-000001", "--out", str(pdf), "--user", "clara")
    assert code == 0 and out.strip().endswith("COPY") and "INVOICE — COPY" in _text(pdf)
    code, out, err = _run(capsys, db_path, "print", "invoice", "DAL-INV-000001", "--printer", "NoSuchPrinter")
    assert code == 1 and "printer 'NoSuchPrinter' is not installed on this computer" in err
    code, out, _ = _run(capsys, db_path, "print", "history", "invoice", "DAL-INV-000001", "--json")
    assert [(h["channel"], h["copy"], h["who"]) for h in json.loads(out)] == [("pdf", True, "clara"), ("pdf", False, "clara")]

    # a batch of the day's invoices into a folder
    day = rows[0]["invoice_date"]
    out_dir = tmp_path / "batch"
    out_dir.mkdir()
    code, out, err = _run(capsys, db_path, "print", "invoices", "--date", day, "--out", str(out_dir), "--user", "clara")
    assert code == 0, err
    assert "3 of 3 printed" in out and "(done)" in out
    assert sorted(f.name for f in out_dir.iterdir()) == [f"DAL-INV-00000{n}.pdf" for n in (1, 2, 3)]
    assert "COPY" in _text(out_dir / "DAL-INV-000001.pdf") and "COPY" not in _text(out_dir / "DAL-INV-000002.pdf")
    code, out, err = _run(capsys, db_path, "print", "invoices", "--date", day, "--out", str(tmp_path / "nope"),
                          "--user", "clara")
    assert code == 1 and "is not a folder" in err

    # pay by hand and from a bank file; the ledger and the ageing agree
    code, out, err = _run(capsys, db_path, "payment", "apply", "SHELLCO", "5.00", "--invoice", "DAL-INV-000001",
                          "--user", "clara")
    assert code == 0 and out.startswith("DAL-PAY-000001: 5.00 from SHELLCO paid DAL-INV-000001 5.00"), err
    bank = tmp_path / "bank.csv"
    bank.write_bytes(b"Date;Customer;Amount;Invoice;Reference\r\n2026-12-02;SHELLCO;1,00;DAL-INV-000002;B1\r\n"
                     b"2026-12-02;NOBODY;1,00;;B2\r\n")
    code, out, err = _run(capsys, db_path, "payment", "import", str(bank), "--user", "clara")
    assert code == 1 and "bank.csv: line 3: unknown customer NOBODY; nothing paid" in err
    bank.write_bytes(b"Date;Customer;Amount;Invoice;Reference\r\n2026-12-02;SHELLCO;1,00;DAL-INV-000002;B1\r\n")
    code, out, err = _run(capsys, db_path, "payment", "import", str(bank), "--user", "clara")
    assert code == 0 and "1 payments applied (1.00)" in out, err
    code, out, _ = _run(capsys, db_path, "receivables", "ageing", "--json")
    (age,) = json.loads(out)
    total = sum(float(r["total"]) for r in rows)
    assert age["customer"] == "SHELLCO" and abs(float(age["total"]) - (total - 6)) < 0.001
    stmt = tmp_path / "stmt.pdf"
    code, out, err = _run(capsys, db_path, "receivables", "statement", "SHELLCO", "--out", str(stmt))
    assert code == 0 and "STATEMENT OF ACCOUNT" in _text(stmt), err

    # a price correction credit note
    code, out, err = _run(capsys, db_path, "invoice", "credit", "--invoice", "DAL-INV-000003", "1=0.01",
                          "--reason", "price agreed", "--user", "clara", "--json")
    assert code == 0, err
    cn = json.loads(out)
    assert cn["number"] == "DAL-CN-000001" and cn["credits"] == "DAL-INV-000003"
    code, out, err = _run(capsys, db_path, "invoice", "credit", "--invoice", "DAL-INV-000003", "1=x", "--reason", "r",
                          "--user", "clara")
    assert code == 1 and "line 1 price" in err


def test_a_batch_to_a_missing_folder_leaves_no_batch_behind(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                            session: Session, world: World, tmp_path: Path) -> None:
    from sqlalchemy import func, select

    from app.models.printing import PrintBatch

    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "NOFOLDER", on="shipment")
    sh = ship(session, world, p["clara"], cust, {"BOLT": 1})
    session.commit()
    assert _run(capsys, db_path, "invoice", "create", sh.number, "--release", "--user", "clara")[0] == 0
    code, out, err = _run(capsys, db_path, "print", "invoices", "--date", "2000-01-01", "--out", str(tmp_path),
                          "--user", "clara")
    assert code == 1 and "nothing to print: no document matches" in err
    day = json.loads(_run(capsys, db_path, "invoice", "list", "--json")[1])[0]["invoice_date"]
    code, out, err = _run(capsys, db_path, "print", "invoices", "--date", day, "--out", str(tmp_path / "nope"),
                          "--user", "clara")
    assert code == 1 and "is not a folder: create it first (nothing was printed)" in err
    session.commit()
    assert session.scalar(select(func.count()).select_from(PrintBatch)) == 0
