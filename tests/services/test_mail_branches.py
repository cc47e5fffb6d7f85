"""Mail delivery on branch workstations: each queued message has exactly one sender.

Outbox rows replicate to every site. A branch workstation delivers only its own branch's mail,
and of that only what this workstation queued or re-queued (the row's last writer), so neither
another branch nor a second workstation of the same branch sends a copy.
"""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.services import mail
from app.services.db import open_database
from app.services.errors import Conflict
from app.services.ownership import ForeignWrite
from tests.factories import World, become_branch_site


def _queue(session: Session, w: World, branch: str, to: str) -> EmailOutbox:
    owner = w.dal if branch == "DAL" else w.hou
    return mail.queue_email(session, None, to=to, subject=f"PO from {branch}", body="Body", owner_branch_id=owner.id)


def _status(session: Session, row_id: object) -> str:
    session.expire_all()
    return str(session.scalar(select(EmailOutbox.status).where(EmailOutbox.id == row_id)))


def test_a_branch_workstation_delivers_only_its_own_branch_mail(engine: Engine, session: Session, world: World,
                                                                 smtp: Any) -> None:
    handler, cfg = smtp
    dal = _queue(session, world, "DAL", "dal@acme.example")
    hou = _queue(session, world, "HOU", "hou@acme.example")
    session.commit()
    become_branch_site(engine, world.dal)
    for _ in range(3):  # the window's timer runs again and again: still one copy each
        mail.send_due(session, cfg)
        session.commit()
    assert [m["To"] for m in handler.messages] == ["dal@acme.example"]
    assert _status(session, dal.id) == "sent"
    assert _status(session, hou.id) == "queued"  # HOU's workstation sends it; DAL never touched the row


def test_requeue_of_another_branch_mail_is_refused_with_the_owner_named(engine: Engine, session: Session,
                                                                         world: World) -> None:
    hou = _queue(session, world, "HOU", "hou@acme.example")
    hou.status = "failed"
    session.commit()
    become_branch_site(engine, world.dal)
    with pytest.raises(ForeignWrite, match="e-mail to hou@acme.example was queued by HOU; it is re-queued at a HOU"):
        mail.requeue(session, world.actors["alice"], hou.id)


def second_workstation(engine: Engine, path: Path) -> Engine:
    """A copy of this file as a second workstation of the same branch (its own site id): what
    workstation 2 holds after a sync brings it workstation 1's rows."""
    path.unlink(missing_ok=True)
    src = sqlite3.connect(str(engine.url.database), isolation_level=None)
    src.execute("VACUUM INTO ?", (str(path),))
    src.close()
    conn = sqlite3.connect(path)
    conn.execute("DELETE FROM local_site")
    conn.commit()
    conn.close()
    return open_database(path)


def test_two_workstations_of_one_branch_never_both_send_a_message(engine: Engine, session: Session, world: World,
                                                                  smtp: Any, tmp_path: Path) -> None:
    handler, cfg = smtp
    become_branch_site(engine, world.dal)
    queued_here = _queue(session, world, "DAL", "first@acme.example")
    bounced = _queue(session, world, "DAL", "second@acme.example")
    session.commit()
    handler.refuse.add("second@acme.example")
    later = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=1)
    eng2 = second_workstation(engine, tmp_path / "dal2.db")
    try:
        become_branch_site(eng2, world.dal)  # the copy holds the same branches and users
        with Session(eng2, expire_on_commit=False) as s2:
            # workstation 2 holds both rows (as after a sync) but queued neither: it sends nothing,
            # and says whose they are (`depot mail send-due`, `depot mail list`)
            assert mail.send_due(s2, cfg, now=later).sent == 0
            assert mail.waiting_elsewhere(s2, now=later) == 2
            assert {mail.sender(s2, r) for r in mail.outbox(s2)} == {"another workstation"}
            s2.commit()
            assert handler.messages == []
        assert mail.waiting_elsewhere(session, now=later) == 0
        assert {mail.sender(session, r) for r in mail.outbox(session)} == {"here"}
        report = mail.send_due(session, cfg, now=later)  # workstation 1 queued them: it delivers
        session.commit()
        assert (report.sent, report.failed) == (1, 1)
        assert [m["To"] for m in handler.messages] == ["first@acme.example"]
        assert _status(session, queued_here.id) == "sent" and _status(session, bounced.id) == "failed"
        with Session(eng2) as s2:  # workstation 2 wrote nothing about them (so no conflicting versions)
            assert s2.scalars(select(EmailOutbox.status).order_by(EmailOutbox.to_addr)).all() == ["queued", "queued"]
    finally:
        eng2.dispose()


def test_a_workstation_takes_over_mail_stuck_at_one_out_of_service(engine: Engine, session: Session, world: World,
                                                                   smtp: Any, tmp_path: Path) -> None:
    handler, cfg = smtp
    become_branch_site(engine, world.dal)
    stuck = _queue(session, world, "DAL", "stuck@acme.example")
    session.commit()
    eng2 = second_workstation(engine, tmp_path / "dal2.db")  # workstation 1 is gone after its last sync
    try:
        become_branch_site(eng2, world.dal)
        with Session(eng2, expire_on_commit=False) as s2:
            assert mail.send_due(s2, cfg).sent == 0
            mail.requeue(s2, world.actors["alice"], stuck.id)  # take it over
            s2.commit()
            with pytest.raises(Conflict, match="is queued; only a failed one can be re-queued"):
                mail.requeue(s2, world.actors["alice"], stuck.id)  # already this workstation's
            s2.rollback()
            assert mail.send_due(s2, cfg).sent == 1
            s2.commit()
            assert mail.send_due(s2, cfg).sent == 0
        assert [m["To"] for m in handler.messages] == ["stuck@acme.example"]
    finally:
        eng2.dispose()
