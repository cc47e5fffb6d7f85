"""The e-mail outbox against a real SMTP server on loopback (aiosmtpd), and sending POs."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path
from typing import Any

import pytest
from pypdf import PdfReader
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.parties import ItemSupplier
from app.services import mail
from app.services.buying import approvals, purchasing
from app.services.buying.po_documents import send_po
from app.services.buying.purchasing import LineInput
from app.services.errors import Conflict, ValidationError
from tests.factories import World
from tests.smtp_server import free_port


def _queue(session: Session, w: World, to: str = "orders@acme.example") -> mail.EmailOutbox:
    return mail.queue_email(session, w.actors["alice"], to=to, subject="Hello", body="Body text",
                            owner_branch_id=w.dal.id, attachment_name="a.pdf", attachment=b"%PDF-1.4 test")


def test_queued_mail_is_delivered_with_its_attachment(session: Session, world: World, smtp: Any) -> None:
    handler, cfg = smtp
    row = _queue(session, world)
    report = mail.send_due(session, cfg)
    assert (report.sent, report.retry, report.failed) == (1, 0, 0)
    assert row.status == "sent" and row.attempts == 1
    (msg,) = handler.messages
    assert msg["Subject"] == "Hello" and msg["To"] == "orders@acme.example"
    parts = [p for p in msg.walk() if p.get_filename()]
    assert parts[0].get_filename() == "a.pdf" and parts[0].get_payload(decode=True) == b"%PDF-1.4 test"
    assert mail.send_due(session, cfg).sent == 0  # nothing sent twice


def test_server_down_backs_off_then_delivers(session: Session, world: World, smtp: Any) -> None:
    handler, cfg = smtp
    row = _queue(session, world)
    down = mail.SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2)
    t0 = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    r1 = mail.send_due(session, down, now=t0)
    assert (r1.retry, row.status, row.attempts) == (1, "queued", 1)
    assert row.next_attempt_at == t0 + dt.timedelta(minutes=1) and "Connection" in row.last_error
    mail.send_due(session, down, now=t0 + dt.timedelta(minutes=1))
    assert row.next_attempt_at == t0 + dt.timedelta(minutes=3)  # 1 + 2 minutes: exponential back-off
    assert mail.send_due(session, cfg, now=t0 + dt.timedelta(minutes=2)).sent == 0  # not due yet
    assert mail.send_due(session, cfg, now=t0 + dt.timedelta(minutes=3)).sent == 1
    assert row.status == "sent" and len(handler.messages) == 1


def test_gives_up_after_max_attempts_and_can_be_requeued(session: Session, world: World, smtp: Any) -> None:
    _handler, cfg = smtp
    row = _queue(session, world)
    down = mail.SmtpConfig(host="127.0.0.1", port=free_port(), timeout=2)
    now = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    for _ in range(mail.MAX_ATTEMPTS):
        mail.send_due(session, down, now=now)
        now += dt.timedelta(hours=2)
    assert row.status == "failed" and row.attempts == mail.MAX_ATTEMPTS
    mail.requeue(session, world.actors["alice"], row.id)
    assert mail.send_due(session, cfg).sent == 1
    with pytest.raises(Conflict):
        mail.requeue(session, world.actors["alice"], row.id)


def test_refused_recipient_fails_at_once_others_still_go(session: Session, world: World, smtp: Any) -> None:
    handler, cfg = smtp
    handler.refuse.add("nobody@acme.example")
    bad = _queue(session, world, "nobody@acme.example")
    good = _queue(session, world)
    report = mail.send_due(session, cfg)
    assert (report.sent, report.failed) == (1, 1)
    assert bad.status == "failed" and "no such mailbox" in bad.last_error and good.status == "sent"


def test_bad_addresses_are_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="to: not-an-address is not an e-mail address"):
        _queue(session, world, "not-an-address")
    with pytest.raises(ValidationError, match="to: needs at least one"):
        _queue(session, world, " ")
    assert mail.outbox(session) == []


@pytest.fixture
def approved_po(session: Session, world: World) -> purchasing.PurchaseOrder:
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    approvals.ensure_default_rules(session, world.ho.id)
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1",
                              [LineInput(sku="WIDGET", qty=120), LineInput(sku="BOLT", qty=1000, price="0.09")])
    purchasing.submit(session, world.actors["alice"], po.id)
    assert po.status == "approved"
    return po


def test_send_po_emails_the_pdf_and_marks_it_sent(session: Session, world: World, approved_po: Any, smtp: Any) -> None:
    handler, cfg = smtp
    with pytest.raises(Exception, match="may not po send|may not"):
        send_po(session, world.actors["rita"], approved_po.number)
    out = send_po(session, world.actors["alice"], approved_po.number)
    assert out.status == "sent" and approved_po.status == "sent" and out.edi_file is None
    mail.send_due(session, cfg)
    (msg,) = handler.messages
    assert msg["Subject"] == f"Purchase order {approved_po.number}"
    pdf = next(p for p in msg.walk() if p.get_filename())
    assert pdf.get_filename() == f"{approved_po.number}.pdf"
    text = PdfReader(io.BytesIO(pdf.get_payload(decode=True))).pages[0].extract_text()
    assert approved_po.number in text and "WIDGET" in text
    # a resend is allowed and recorded; a cancelled PO cannot be sent
    send_po(session, world.actors["alice"], approved_po.number)
    assert approved_po.status == "sent"


def test_send_refuses_unapproved_po(session: Session, world: World) -> None:
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=1)])
    with pytest.raises(Conflict, match="only an approved PO can be sent"):
        send_po(session, world.actors["alice"], po.number)
    assert mail.outbox(session) == []


def test_send_po_by_edi_writes_the_850(session: Session, world: World, approved_po: Any, tmp_path: Path) -> None:
    world.supplier.edi_format, world.supplier.edi_qualifier, world.supplier.edi_id = "x12", "ZZ", "ACMEEDI"
    world.supplier.contact_email = ""
    with pytest.raises(ValidationError, match="outbound folder"):
        send_po(session, world.actors["alice"], approved_po.number)
    out = send_po(session, world.actors["alice"], approved_po.number, outbound_dir=tmp_path / "out")
    assert out.edi_file is not None and out.edi_file.exists() and out.email_id is None
    content = out.edi_file.read_text()
    assert content.startswith("ISA") and "ST*850" in content and approved_po.number in content
    assert approved_po.status == "sent"


def test_many_queued_at_once_are_stored_as_one_queued_alone(session: Session, world: World) -> None:
    """``queue_many`` (a poll cycle's notices) writes stored-form rows by the bulk writer: read back raw,
    a message and its audit entry are the rows ``queue_email`` writes through the ORM."""
    alice, dal = world.actors["alice"], world.dal.id
    one = mail.queue_email(session, alice, to="a@buildco.example", subject=" Shipped ", body="B", owner_branch_id=dal,
                           entity="shipment", entity_ref="DAL-SH-1")
    assert mail.queue_many(session, alice, [mail.NewMessage("b@buildco.example", " Shipped ", "B", dal, "shipment",
                                                            "DAL-SH-1"), mail.NewMessage("no address", "x", "B", dal)]) \
        == ["", "to: no address is not an e-mail address"]
    session.flush()
    many = session.scalars(select(mail.EmailOutbox.id).where(mail.EmailOutbox.to_addr == "b@buildco.example")).one()

    def raw(table: str, where: str, row_id: Any) -> dict[str, Any]:
        cols = [str(r[1]) for r in session.execute(text(f"PRAGMA table_info({table})"))]
        got = session.execute(text(f"SELECT {', '.join(f'{c}, typeof({c}) AS t_{c}' for c in cols)} FROM {table} "
                                   f"WHERE {where} = :i"), {"i": row_id.bytes}).mappings().one()
        return {k: v for k, v in got.items() if k not in ("id", "created_at", "updated_at", "next_attempt_at", "hlc",
                                                          "to_addr", "entity_id", "detail")}

    assert raw("email_outbox", "id", many) == raw("email_outbox", "id", one.id)
    assert raw("audit_entry", "entity_id", many) == raw("audit_entry", "entity_id", one.id)
