"""The print centre as the clerk uses it: the queue, preview pages, print through QPrinter (to its
print-to-file printer) with the choice remembered, a missing printer refused with nothing recorded,
save as PDF (a reprint says COPY), e-mail through the outbox, and a bulk run with progress that a
failing printer stops and Resume finishes without printing one twice."""

from __future__ import annotations

import datetime as dt
import io
from pathlib import Path

import pytest
from pypdf import PdfReader
from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.models.printing import PrintRecord
from app.services import print_batch, printing
from app.services.billing import invoices
from app.views.printcentre import screen as pc
from app.views.printcentre.dialogs import PrintDialog
from tests.factories import World
from tests.services.billing_helpers import billed_customer, people, rates, ship
from tests.views.conftest import MakeCtx


@pytest.fixture
def invoiced(session: Session, world: World) -> list[str]:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "PRINTCO")
    numbers = []
    for n in range(3):
        sh = ship(session, world, p["clara"], cust, {"WIDGET": 2 + n}, tracking=f"1ZPC{n}")
        inv = invoices.invoice_shipment(session, p["clara"], sh.number)
        invoices.release(session, p["clara"], inv.id)
        numbers.append(inv.number)
    session.commit()
    world.actors.update(p)
    return numbers


def _records(session: Session) -> list[tuple[str, str, bool]]:
    session.commit()
    return [(r.doc_ref, r.channel, r.reprint) for r in session.scalars(select(PrintRecord).order_by(PrintRecord.created_at))]


def _select(qtbot: QtBot, screen: pc.PrintCentreScreen, ref: str) -> None:
    qtbot.waitUntil(lambda: any(e.row.ref == ref for e in screen.model.rows), timeout=10000)
    row = next(i for i, e in enumerate(screen.model.rows) if e.row.ref == ref)
    screen.table.selectRow(row)


def test_queue_preview_print_save_and_mail(qtbot: QtBot, make_ctx: MakeCtx, session: Session, world: World,
                                           invoiced: list[str], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(world.actors["clara"])
    screen = pc.PrintCentreScreen(ctx)
    qtbot.addWidget(screen)
    # every printable kind in one queue: the invoices, the customer's statement of today, and the
    # shipments' packing slips and carton labels (Dispatch's documents)
    qtbot.waitUntil(lambda: len(screen.model.rows) == 10, timeout=10000)
    today = dt.date.today().isoformat()
    kinds = sorted({(e.row.doc_type, e.row.ref) for e in screen.model.rows if e.row.doc_type in ("invoice", "statement")})
    assert kinds == sorted([*(("invoice", n) for n in invoiced), ("statement", f"PRINTCO@{today}")])
    assert sorted(e.row.doc_type for e in screen.model.rows).count("packing-slip") == 3
    assert screen.count.text() == "10 documents"
    assert {e.last for e in screen.model.rows} == {""} and screen.model.data(screen.model.index(0, 6)) == "not printed"
    _select(qtbot, screen, invoiced[0])
    qtbot.waitUntil(lambda: len(screen.preview.pages) == 1, timeout=10000)
    page = screen.preview.pages[0].pixmap()
    assert 480 < page.width() < 520 and abs(page.height() / page.width() - 2 ** 0.5) < 0.01  # A4 at 60 dpi

    # a printer that is not installed: refused, nothing recorded
    monkeypatch.setattr(PrintDialog, "answer", printing.Preference("NoSuchPrinter", "", 1))
    screen.print_selected()
    qtbot.waitUntil(lambda: "not installed on this computer" in screen.message.text(), timeout=10000)
    assert _records(session) == []
    # the print-to-file printer through QPrinter: a real print job, recorded, the choice remembered
    out = tmp_path / "printed.pdf"
    monkeypatch.setattr(PrintDialog, "answer", printing.Preference(f"file:{out}", "Tray 2", 2))
    screen.print_selected()
    qtbot.waitUntil(lambda: "to file:" in screen.message.text(), timeout=15000)
    assert len(PdfReader(io.BytesIO(out.read_bytes())).pages) == 1
    assert _records(session) == [(invoiced[0], "printer", False)]
    pref = printing.preference(session, "invoice")
    assert (pref.tray, pref.copies) == ("Tray 2", 2)
    # save as PDF: the second output says COPY
    saved = tmp_path / "saved.pdf"
    screen.save_to(screen.selected()[0], saved)
    qtbot.waitUntil(lambda: "saved to" in screen.message.text(), timeout=10000)
    assert "(COPY)" in screen.message.text()
    assert "COPY" in PdfReader(io.BytesIO(saved.read_bytes())).pages[0].extract_text()
    # e-mail: queued in the outbox with the PDF attached, to the customer's invoice address
    session.commit()
    screen.mail_selected(to="")
    qtbot.waitUntil(lambda: "queued for" in screen.message.text() or "e-mail" in screen.message.text(), timeout=10000)
    assert "queued for ap@printco.example" in screen.message.text()
    session.commit()
    mail = session.scalars(select(EmailOutbox)).one()
    assert mail.to_addr == "ap@printco.example" and mail.attachment_name == f"{invoiced[0]}.pdf"
    assert mail.attachment and mail.attachment.startswith(b"%PDF")
    assert _records(session)[-1] == (invoiced[0], "email", True)


def test_bulk_printing_stops_on_a_failing_printer_and_resumes(qtbot: QtBot, make_ctx: MakeCtx, session: Session,
                                                             world: World, invoiced: list[str], tmp_path: Path,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(world.actors["clara"])
    screen = pc.PrintCentreScreen(ctx)
    qtbot.addWidget(screen)
    screen.kind.setCurrentIndex(screen.kind.findData("invoice"))
    qtbot.waitUntil(lambda: len(screen.model.rows) == 3, timeout=10000)
    folder = tmp_path / "out"
    folder.mkdir()
    calls = {"n": 0}
    real = print_batch.folder_sink

    def flaky(path: object) -> print_batch.Sink:
        sink = real(path)  # type: ignore[arg-type]

        def out(name: str, pdf: bytes, copies: int) -> None:
            calls["n"] += 1
            if calls["n"] == 2:
                raise print_batch.DomainError("printer jammed on page 1")
            sink(name, pdf, copies)
        return out
    monkeypatch.setattr(print_batch, "folder_sink", flaky)
    screen.print_all(target=f"file:{folder}/")
    qtbot.waitUntil(lambda: "printed 1 of 3 (failed)" in screen.message.text(), timeout=20000)
    assert "printer jammed" in screen.message.text() and screen.resume_button.isEnabled()
    assert sorted(p.name for p in folder.iterdir()) == [f"{invoiced[0]}.pdf"]
    assert [r[0] for r in _records(session)] == [invoiced[0]]  # the jammed one is not recorded
    # the window is closed and opened again: the new screen offers the unfinished batch
    screen.close()
    screen = pc.PrintCentreScreen(ctx)
    qtbot.addWidget(screen)
    qtbot.waitUntil(lambda: "an unfinished batch of 3 invoice documents" in screen.message.text(), timeout=10000)
    assert "1 printed, 2 left (failed: " in screen.message.text() and screen.resume_button.isEnabled()
    screen.resume_batch()
    qtbot.waitUntil(lambda: "printed 3 of 3 (done)" in screen.message.text(), timeout=20000)
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{n}.pdf" for n in invoiced)
    assert sorted(r[0] for r in _records(session)) == sorted(invoiced)  # each once
    assert screen.progress.value() == 3
    screen.tabs.setCurrentIndex(1)
    qtbot.waitUntil(lambda: screen.history_model.rowCount() == 3, timeout=10000)
    assert screen.history_model.data(screen.history_model.index(0, 8)) == "clara"
