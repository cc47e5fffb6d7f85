"""The window delivers queued e-mail to a real SMTP server, whichever screen is open."""

from __future__ import annotations

from typing import Any

from pytestqt.qtbot import QtBot
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.services import mail
from app.views.context import make_test_context
from app.views.mail_delivery import MailDelivery
from tests.factories import World
from tests.services.test_mail import _queue


def test_due_mail_is_delivered_off_the_gui_thread(qtbot: QtBot, session: Session, world: World, smtp: Any) -> None:
    handler, cfg = smtp
    _queue(session, world)
    session.commit()
    ctx = make_test_context(session.get_bind(), world.actors["alice"])  # type: ignore[arg-type]
    ctx.settings.set("smtp.host", cfg.host)
    ctx.settings.set("smtp.port", cfg.port)
    service = MailDelivery(ctx, interval_ms=50)
    with qtbot.waitSignal(service.delivered, timeout=10_000) as blocker:
        service.start(first_run_ms=0)
    assert service.run_once()  # another run right behind the first, as the timer does on a busy machine
    service.stop()
    # the 50 ms timer may have queued more runs meanwhile: let them finish before looking (and
    # before the test's database goes away), then check that none of them sent the mail again
    assert ctx.runner.wait_idle(10_000)
    ctx.runner.shutdown()
    assert isinstance(blocker.args[0], mail.SendReport)
    assert len(handler.messages) == 1
    session.expire_all()
    assert session.scalars(select(EmailOutbox.status)).one() == "sent"


def test_nothing_is_submitted_without_an_smtp_host(qtbot: QtBot, session: Session, world: World) -> None:
    ctx = make_test_context(session.get_bind(), world.actors["alice"])  # type: ignore[arg-type]
    service = MailDelivery(ctx)
    assert service.run_once() is False
