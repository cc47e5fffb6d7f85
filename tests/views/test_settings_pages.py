"""Settings > E-mail and Settings > EDI in the real window: typed values checked and saved, a
connection test against a real SMTP server on loopback, mail delivered through what was saved,
an EDI supplier's PO written to the saved folder; and the refusals, each changing nothing."""

from __future__ import annotations

import json
from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.parties import Supplier
from app.services import mail
from app.services.buying import approvals, purchasing
from app.services.buying.po_documents import send_po
from app.services.buying.purchasing import LineInput
from app.services.mail import SmtpConfig
from app.views.settings.edi_page import EdiSettingsPage
from app.views.settings.email_page import EmailSettingsPage
from app.views.settings.screen import SettingsScreen
from tests.factories import World
from tests.smtp_server import Handler, free_port
from tests.views.conftest import MakeCtx


def test_settings_has_edi_and_email_pages(qtbot: QtBot, world: World, make_ctx: MakeCtx) -> None:
    screen = SettingsScreen(make_ctx(world.actors["root"]))
    qtbot.addWidget(screen)
    titles = screen.section_titles()
    assert "EDI" in titles and "E-mail" in titles


def test_email_page_tests_the_server_saves_and_mail_goes_through_it(
        qtbot: QtBot, world: World, make_ctx: MakeCtx, smtp: tuple[Handler, SmtpConfig], session: Session,
        tmp_path: Path) -> None:
    handler, cfg = smtp
    ctx = make_ctx(world.actors["root"])
    page = EmailSettingsPage(ctx)
    qtbot.addWidget(page)
    page.host.setText("127.0.0.1")
    page.port.setText("not a port")
    page.sender_edit.setText("purchasing@depot.example")
    assert not page.save()
    assert page.status.text() == "SMTP port: 'not a port' is not a number"
    assert ctx.settings.get("smtp.host") is None  # nothing stored
    page.port.setText(str(free_port()))
    with qtbot.waitSignal(page.tested, timeout=15000) as sig:
        page.test_button.click()
    assert sig.args[0] is False and sig.args[1].startswith("cannot reach the mail server 127.0.0.1:")
    page.port.setText(str(cfg.port))
    with qtbot.waitSignal(page.tested, timeout=15000) as sig:
        page.test_button.click()
    assert sig.args == [True, f"OK: connected to 127.0.0.1:{cfg.port}; the server accepts mail from Depot"]
    assert page.save()
    stored = json.loads((tmp_path / "settings.json").read_text())
    assert stored["smtp.port"] == cfg.port and stored["smtp.sender"] == "purchasing@depot.example"
    # what was saved is what delivery uses
    mail.queue_email(session, world.actors["alice"], to="orders@acme.example", subject="Purchase order X",
                     body="hello", owner_branch_id=world.dal.id)
    rep = mail.send_due(session, mail.config_from_settings(ctx.settings))
    assert rep.sent == 1 and handler.messages[0]["From"] == "purchasing@depot.example"


def test_edi_page_refuses_a_missing_folder_and_send_writes_to_the_saved_one(
        qtbot: QtBot, world: World, make_ctx: MakeCtx, session: Session, tmp_path: Path) -> None:
    ctx = make_ctx(world.actors["root"])
    page = EdiSettingsPage(ctx)
    qtbot.addWidget(page)
    qtbot.waitUntil(lambda: page.table.rowCount() == 1, timeout=10000)
    assert "DAL: ZZ/DEPOTDAL" in page.our_ids.text()
    page.outbound.setText(str(tmp_path / "missing"))
    assert not page.save_folders()
    assert page.status.text().endswith("missing does not exist: create the folder first (or choose another)")
    assert not (tmp_path / "missing").exists() and ctx.settings.get("edi.outbound_dir") is None
    out = tmp_path / "edi-out"
    out.mkdir()
    page.outbound.setText(str(out))
    assert page.save_folders()

    page.table.selectRow(0)
    assert page.supplier.text() == "ACME"
    page.fmt.setCurrentIndex(page.fmt.findData("x12"))
    page.partner_id.setText("")
    with qtbot.waitSignal(page.saved, timeout=1000, raising=False) as sig:
        page.save_partner_button.click()
        qtbot.waitUntil(lambda: "give its interchange id" in page.status.text(), timeout=10000)
    assert not sig.signal_triggered
    page.partner_id.setText("ACME850")
    with qtbot.waitSignal(page.saved, timeout=10000):
        page.save_partner_button.click()
    assert page.status.text() == "saved: ACME orders by x12 (ZZ/ACME850)"
    qtbot.waitUntil(lambda: page.table.item(0, 4) is not None and page.table.item(0, 4).text() == "ACME850",
                    timeout=10000)
    # a buyer sends an approved PO of that EDI supplier: the file goes to the saved folder
    session.rollback()
    session.expire_all()
    assert session.scalars(select(Supplier.edi_format).where(Supplier.code == "ACME")).one() == "x12"
    approvals.ensure_default_rules(session, world.ho.id)
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    purchasing.mark_approved(session, world.actors["alice"], po)
    outcome = send_po(session, world.actors["alice"], po.id, outbound_dir=ctx.settings.get("edi.outbound_dir"))
    assert outcome.edi_file is not None and outcome.edi_file.parent == out
    assert "ISA*" in outcome.edi_file.read_text()
