"""Background jobs talk to the network holding no SQLite lock, run off the GUI thread on the I/O pool,
and are all started from one place (a newly registered job needs no code in the window)."""

from __future__ import annotations

import asyncio
import email
import sqlite3
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.services import jobs, mail
from app.services.db import session_scope
from app.views.background import BackgroundJobs
from app.views.jobs import JobRunner
from app.views.mail_delivery import MailDelivery
from app.views.sync.controller import SyncController
from app.views.tracking.poller import TrackingPoller
from tests.factories import World
from tests.smtp_server import LoopbackController
from tests.views.conftest import MakeCtx


class StallingHandler:
    """A real SMTP server's handler that holds every message in DATA until the test releases it
    (a slow or hanging mail server)."""

    def __init__(self) -> None:
        self.in_data = threading.Event()
        self.release = threading.Event()
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.in_data.set()
        while not self.release.is_set():
            await asyncio.sleep(0.02)
        self.messages.append(email.message_from_bytes(envelope.content))
        return "250 Message accepted for delivery"


@pytest.fixture
def stalling() -> Iterator[tuple[StallingHandler, mail.SmtpConfig]]:
    handler = StallingHandler()
    ctl = LoopbackController(handler)
    ctl.start()
    try:
        yield handler, mail.SmtpConfig(host="127.0.0.1", port=ctl.port, sender="buyer@depot.example", timeout=20)
    finally:
        handler.release.set()
        ctl.stop()


def _queue(session: Session, w: World, subject: str = "PO") -> None:
    mail.queue_email(session, w.actors["alice"], to="orders@acme.example", subject=subject, body="see attached",
                     owner_branch_id=w.dal.id)
    session.commit()


def _take_write_lock(db: Path) -> float:
    """Seconds a new writer waits for SQLite's write lock (BEGIN IMMEDIATE); raises when it waited
    0.5 s for nothing ("database is locked")."""
    t = time.monotonic()
    con = sqlite3.connect(db, timeout=0.5, isolation_level=None)
    try:
        con.execute("BEGIN IMMEDIATE")
        con.execute("UPDATE sync_state SET value = value WHERE 0")
        con.execute("COMMIT")
    finally:
        con.close()
    return time.monotonic() - t


def test_the_write_lock_is_free_while_smtp_is_slow(session: Session, world: World, engine: Engine, db_path: Path,
                                                   stalling: tuple[StallingHandler, mail.SmtpConfig]) -> None:
    handler, cfg = stalling
    _queue(session, world)
    done: dict[str, Any] = {}
    worker = threading.Thread(target=lambda: done.setdefault("report", mail.deliver_due(engine, cfg)))
    worker.start()
    try:
        assert handler.in_data.wait(10), "the SMTP server never got the message"
        # the delivery is talking SMTP right now: another writer gets the lock at once ...
        assert _take_write_lock(db_path) < 0.4
        # ... and a real service write (queue another message) commits meanwhile
        with session_scope(engine) as s:
            mail.queue_email(s, world.actors["alice"], to="b@acme.example", subject="second", body="x",
                             owner_branch_id=world.dal.id)
        assert worker.is_alive()  # still waiting on the server
    finally:
        handler.release.set()
        worker.join(20)
    assert done["report"].sent == 1 and [m["Subject"] for m in handler.messages] == ["PO"]
    session.expire_all()
    assert sorted(session.execute(select(EmailOutbox.subject, EmailOutbox.status)).all()) == [
        ("PO", "sent"), ("second", "queued")]


def test_the_check_sees_a_lock_held_during_smtp(session: Session, world: World, engine: Engine, db_path: Path,
                                                stalling: tuple[StallingHandler, mail.SmtpConfig]) -> None:
    """The same server, delivering inside one write transaction (how the outbox used to be sent):
    the writer above is refused, so the first test would have caught it."""
    handler, cfg = stalling
    _queue(session, world)

    def held() -> None:
        with session_scope(engine) as s:
            s.execute(select(func.count()).select_from(EmailOutbox)).scalar()  # BEGIN IMMEDIATE taken
            mail.send_due(s, cfg)

    worker = threading.Thread(target=held)
    worker.start()
    try:
        assert handler.in_data.wait(10)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            _take_write_lock(db_path)
    finally:
        handler.release.set()
        worker.join(20)


def test_a_user_write_is_not_queued_behind_the_mail_job(qtbot: QtBot, session: Session, world: World,
                                                        make_ctx: MakeCtx,
                                                        stalling: tuple[StallingHandler, mail.SmtpConfig]) -> None:
    handler, cfg = stalling
    _queue(session, world)
    ctx = make_ctx(world.actors["alice"])
    ctx.settings.set("smtp.host", cfg.host)
    ctx.settings.set("smtp.port", cfg.port)
    delivery = MailDelivery(ctx)
    assert delivery.run_once()
    assert handler.in_data.wait(10)
    assert not ctx.runner.busy  # a background job does not show the window as busy
    saved: list[str] = []
    with qtbot.waitSignal(ctx.signals.data_changed, timeout=5_000):
        ctx.runner.submit(lambda s: mail.queue_email(s, world.actors["alice"], to="c@acme.example", subject="user",
                                                     body="x", owner_branch_id=world.dal.id).subject,
                          saved.append, kinds=("mail",), label="queue")
    assert saved == ["user"] and delivery.running  # the user's write committed while SMTP still stalls
    with qtbot.waitSignal(delivery.delivered, timeout=20_000) as got:
        handler.release.set()
    assert got.args[0].sent == 1
    delivery.stop()


def test_every_registered_job_starts_from_one_place(qtbot: QtBot, session: Session, world: World,
                                                    make_ctx: MakeCtx) -> None:
    """A job registered in the services (as the carrier poller will be) runs in the window with no
    code of its own there: three steps, the outcome written in a short transaction."""
    seen: list[str] = []

    def due(s: Session) -> int | None:
        n = int(s.scalar(select(func.count()).select_from(EmailOutbox)) or 0)
        return n if n else None

    def talk(n: int) -> str:
        assert threading.current_thread() is not threading.main_thread()
        return f"{n} message(s) seen"

    def record(s: Session, n: int, text: str) -> str:
        seen.append(text)
        return text

    jobs.register(jobs.Job("test.poll", jobs.three_step(due, talk, record), interval_s=3600, first_s=0,
                           kinds=("mail",), label="test poll"))
    try:
        _queue(session, world)
        ctx = make_ctx(world.actors["alice"])
        background = BackgroundJobs(ctx)
        started: dict[str, Any] = {}
        background.runner_started.connect(lambda name, runner: started.setdefault(name, runner))
        ctx.jobs = background
        background.start()
        qtbot.waitUntil(lambda: {"mail", "sync", "tracking.poll", "test.poll"} <= set(started), timeout=10_000)
        assert isinstance(started["sync"], SyncController) and isinstance(started["mail"], MailDelivery)
        # the carrier poller (issue 15): the Tracking screen finds the window's runner
        assert isinstance(started["tracking.poll"], TrackingPoller) and TrackingPoller.of(ctx) is started["tracking.poll"]
        assert type(started["test.poll"]) is JobRunner
        assert SyncController.of(ctx) is started["sync"]  # the Sync screen finds the window's controller
        qtbot.waitUntil(lambda: seen == ["1 message(s) seen"], timeout=10_000)
        background.stop()
        assert not any(r.timer.isActive() for r in background.runners.values())
    finally:
        jobs.unregister("test.poll")
