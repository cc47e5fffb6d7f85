"""Receivables: payments by hand and from a bank file, ageing, DSO; the credit check reads the result."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.billing import Payment
from app.models.receivables import ReceivableEntry
from app.services.billing import receivables as ar
from app.services.billing.bank import BankFileRejected, import_bank_csv
from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.sales import credit
from tests.factories import World
from tests.services.sales_helpers import TODAY, customer, people


def _item(session: Session, w: World, cust: str, doc: str, due: dt.date, amount: str, days_before: int = 30) -> None:
    c = ar.customer_by(session, cust)
    session.add(ReceivableEntry(customer_id=c.id, kind="invoice", doc_number=doc, doc_date=due - dt.timedelta(days=days_before),
                                due_date=due, amount=Decimal(amount), owner_branch_id=w.dal.id, source="import"))
    session.flush()


def _open(session: Session, cust: str) -> dict[str, Decimal]:
    return {o.doc_number: o.open for o in ar.open_items(session, ar.customer_by(session, cust).id, today=TODAY)}


def test_a_payment_by_hand_pays_the_oldest_first_and_the_credit_check_sees_it(session: Session, world: World) -> None:
    p = people(session, world)
    customer(session, "PAYER", limit="1000")
    _item(session, world, "PAYER", "INV-1", dt.date(2026, 10, 1), "600.00")
    _item(session, world, "PAYER", "INV-2", dt.date(2026, 11, 1), "300.00")
    before = credit.exposure(session, ar.customer_by(session, "PAYER").id, today=TODAY).receivables
    done = ar.apply_payment(session, p["clara"], ar.PaymentSpec("payer", "700.00", TODAY, reference="CHQ 11"), today=TODAY)
    assert done.number == "DAL-PAY-000001"
    assert done.applied == [("INV-1", Decimal("600.0000")), ("INV-2", Decimal("100.0000"))]
    assert _open(session, "PAYER") == {"INV-2": Decimal("200.0000")}
    assert before - credit.exposure(session, ar.customer_by(session, "PAYER").id, today=TODAY).receivables == Decimal("700")
    # a named invoice is paid only up to what is open on it
    with pytest.raises(ValidationError, match=r"amount: payment 250.00 USD is larger than the open amount 200.00 USD of INV-2"):
        ar.apply_payment(session, p["clara"], ar.PaymentSpec("PAYER", "250", TODAY, invoices=("INV-2",)), today=TODAY)
    with pytest.raises(ValidationError, match="larger than the open amount 200.00 USD of customer PAYER's open items"):
        ar.apply_payment(session, p["clara"], ar.PaymentSpec("PAYER", "200.01", TODAY), today=TODAY)
    with pytest.raises(NotFound, match="unknown customer NOBODY"):
        ar.apply_payment(session, p["clara"], ar.PaymentSpec("NOBODY", "1", TODAY), today=TODAY)
    with pytest.raises(ValidationError, match="INV-9: no open item of customer PAYER"):
        ar.apply_payment(session, p["clara"], ar.PaymentSpec("PAYER", "1", TODAY, invoices=("INV-9",)), today=TODAY)
    with pytest.raises(ValidationError, match="amount: must be more than zero"):
        ar.apply_payment(session, p["clara"], ar.PaymentSpec("PAYER", "0", TODAY), today=TODAY)
    with pytest.raises(PermissionDenied, match="may not apply customer payments"):
        ar.apply_payment(session, world.actors["wes"], ar.PaymentSpec("PAYER", "1", TODAY), today=TODAY)
    # refused payments wrote nothing
    assert session.scalar(select(func.count()).select_from(Payment)) == 1
    (view,) = ar.payments(session, customer="PAYER")
    assert (view.number, view.amount, view.reference) == ("DAL-PAY-000001", Decimal("700.0000"), "CHQ 11")


BANK = ("sep=;\r\n"
        "Date;Customer;Amount;Invoice;Reference\r\n"
        "2026-11-30;PAYER;100,50;INV-1;TX-1\r\n"
        "2026-11-30;PAYER;50;;TX-2\r\n"
        "2026-11-30;OTHER;10;A-1;TX-3\r\n")


def test_a_bank_file_saved_by_excel_pays_once_and_a_bad_line_pays_nothing(session: Session, world: World) -> None:
    p = people(session, world)
    customer(session, "PAYER")
    customer(session, "OTHER")
    _item(session, world, "PAYER", "INV-1", dt.date(2026, 10, 1), "600.00")
    _item(session, world, "PAYER", "INV-2", dt.date(2026, 11, 1), "300.00")
    _item(session, world, "OTHER", "A-1", dt.date(2026, 11, 1), "10.00")
    done = import_bank_csv(session, p["clara"], BANK.encode("cp1252"), today=TODAY)
    assert [x.applied for x in done.paid] == [[("INV-1", Decimal("100.5000"))], [("INV-1", Decimal("50.0000"))],
                                               [("A-1", Decimal("10.0000"))]]
    assert done.total == Decimal("160.5000")
    assert _open(session, "PAYER")["INV-1"] == Decimal("449.5000") and _open(session, "OTHER") == {}
    again = import_bank_csv(session, p["clara"], BANK.encode("cp1252"), today=TODAY)
    assert again.paid == [] and again.skipped == [3, 4, 5]
    # a file with one bad line: named with its line, nothing paid
    bad = ("date,customer,amount,invoice,reference\n"
           "2026-12-01,PAYER,10,INV-2,T-10\n"
           "2026-12-01,GHOST,5,,T-11\n"
           "2026-12-01,PAYER,9999,INV-2,T-12\n"
           "2026-13-01,PAYER,1,,T-13\n")
    with pytest.raises(BankFileRejected) as e:
        import_bank_csv(session, p["clara"], bad.encode(), today=TODAY)
    assert str(e.value) == "<input>: line 5: date: '2026-13-01' is not a date (use YYYY-MM-DD); nothing paid"
    with pytest.raises(BankFileRejected) as e:
        import_bank_csv(session, p["clara"], "\n".join(bad.splitlines()[:4]).encode(), today=TODAY)
    msg = str(e.value)
    assert "line 3: unknown customer GHOST" in msg and "(and 1 more bad lines); nothing paid" in msg
    assert [str(x) for x in e.value.problems][1].startswith("line 4: amount: payment 9,999.00 USD is larger")
    # two lines of one file may not pay the same invoice beyond what is open
    twice = ("date,customer,amount,invoice,reference\n2026-12-01,PAYER,200,INV-2,T-20\n2026-12-01,PAYER,200,INV-2,T-21\n")
    with pytest.raises(BankFileRejected, match="line 3: amount: payment 200.00 USD is larger than the open amount 100.00 USD"):
        import_bank_csv(session, p["clara"], twice.encode(), today=TODAY)
    assert session.scalar(select(func.count()).select_from(Payment)) == 3
    with pytest.raises(BankFileRejected, match="header: missing column"):
        import_bank_csv(session, p["clara"], b"when,who\n1,2\n", today=TODAY)


def test_ageing_buckets_by_days_past_due_and_dso(session: Session, world: World) -> None:
    customer(session, "AGED")
    customer(session, "FRESH")
    _item(session, world, "AGED", "A-NOTDUE", TODAY + dt.timedelta(days=5), "10")
    _item(session, world, "AGED", "A-DUE-TODAY", TODAY, "1")
    _item(session, world, "AGED", "A-1", TODAY - dt.timedelta(days=1), "20")
    _item(session, world, "AGED", "A-30", TODAY - dt.timedelta(days=30), "30")
    _item(session, world, "AGED", "A-31", TODAY - dt.timedelta(days=31), "40")
    _item(session, world, "AGED", "A-90", TODAY - dt.timedelta(days=90), "50")
    _item(session, world, "AGED", "A-91", TODAY - dt.timedelta(days=91), "60")
    _item(session, world, "FRESH", "F-1", TODAY + dt.timedelta(days=30), "5")
    rows = ar.ageing(session, today=TODAY)
    assert [r.code for r in rows] == ["AGED", "FRESH"]
    assert {k: int(v) for k, v in rows[0].buckets.items()} == {"current": 11, "1-30": 50, "31-60": 40, "61-90": 50,
                                                                 "over 90": 60}
    assert ar.ageing_totals(rows)["current"] == Decimal("16")
    assert [r.code for r in ar.ageing(session, today=TODAY, customer="fresh")] == ["FRESH"]
    # DSO: open 216 against what was invoiced in the last 90 days (documents dated 30 days before due:
    # 10 + 1 + 20 + 30 + 40 of AGED and FRESH's 5, dated today) = 106 -> 216 / 106 x 90
    d = ar.dso(session, today=TODAY, days=90)
    assert (d.receivables, d.sales) == (Decimal("216.0000"), Decimal("106.0000"))
    assert d.value == Decimal("183.4")
    with pytest.raises(ValidationError, match="days: must be between 1 and 3660"):
        ar.dso(session, today=TODAY, days=0)


def test_dso_counts_the_legacy_systems_open_invoices_as_sales(session: Session, world: World) -> None:
    """A branch that adopted Depot last month: its imported open items are owed and were sold in the
    period, so they are in both halves of DSO (only in the open half, the demo's DSO was 267 days)."""
    customer(session, "NEW")
    _item(session, world, "NEW", "INV-1", TODAY + dt.timedelta(days=20), "100", days_before=30)  # dated 10 days ago
    c = ar.customer_by(session, "NEW")
    for doc, days_ago, amount in (("L-1", 20, "300"), ("L-OLD", 120, "50")):
        session.add(ReceivableEntry(customer_id=c.id, kind="opening", doc_number=doc, due_date=TODAY,
                                    doc_date=TODAY - dt.timedelta(days=days_ago), amount=Decimal(amount),
                                    owner_branch_id=world.dal.id, source="import"))
    session.flush()
    d = ar.dso(session, today=TODAY, days=90)
    # open 450; sold in the last 90 days: the invoice and the opening item of 20 days ago (not the 120-day one)
    assert (d.receivables, d.sales) == (Decimal("450.0000"), Decimal("400.0000"))
    assert d.value == Decimal("101.2")  # 101.25, rounded half to even


def test_a_statement_lists_what_is_open_with_its_ageing_and_a_remittance_slip(session: Session, world: World,
                                                                               tmp_path: object) -> None:
    import io

    from pypdf import PdfReader

    from app.services.billing.statements import statement_pdf

    p = people(session, world)
    customer(session, "STMT")
    _item(session, world, "STMT", "INV-OLD", TODAY - dt.timedelta(days=45), "1234.50")
    _item(session, world, "STMT", "INV-NEW", TODAY + dt.timedelta(days=10), "100")
    ar.apply_payment(session, p["clara"], ar.PaymentSpec("STMT", "234.50", TODAY, invoices=("INV-OLD",)), today=TODAY)
    name, pdf = statement_pdf(session, "STMT", today=TODAY)
    assert name == "statement-STMT-2026-12-01.pdf"
    text = " ".join(pg.extract_text() for pg in PdfReader(io.BytesIO(pdf)).pages)
    for want in ("STATEMENT OF ACCOUNT", "As of 2026-12-01", "INV-OLD", "1,234.50", "1,000.00", "45", "INV-NEW",
                 "Total due: 1,100.00 USD", "Remittance: statement of 2026-12-01", "page 1 of 1"):
        assert want in text, want


def test_an_invoice_and_a_statement_are_mailed_through_the_outbox_with_their_pdf(session: Session, world: World,
                                                                                  smtp: object) -> None:
    import io

    from pypdf import PdfReader

    from app.services import mail
    from app.services.billing import invoices
    from app.services.billing.printables import mail_document
    from tests.services.billing_helpers import billed_customer, rates, ship

    handler, cfg = smtp  # type: ignore[misc]
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "MAILCO", email="payables@mailco.example")
    inv = invoices.invoice_shipment(session, p["clara"], ship(session, world, p["clara"], cust, {"WIDGET": 2}).number)
    invoices.release(session, p["clara"], inv.id)
    with pytest.raises(ValidationError, match="not an e-mail address"):
        mail_document(session, p["clara"], "invoice", inv.number, to="not-an-address")
    mail_document(session, p["clara"], "invoice", inv.number)
    mail_document(session, p["clara"], "statement", f"MAILCO@{dt.date.today().isoformat()}", to="boss@mailco.example")
    assert mail.send_due(session, cfg).sent == 2
    first, second = handler.messages
    assert first["To"] == "payables@mailco.example" and first["Subject"] == f"Invoice {inv.number}"
    pdf = next(x for x in first.walk() if x.get_filename())
    assert pdf.get_filename() == f"{inv.number}.pdf"
    assert inv.number in PdfReader(io.BytesIO(pdf.get_payload(decode=True))).pages[0].extract_text()
    assert second["To"] == "boss@mailco.example" and second["Subject"].startswith("Statement of account")
