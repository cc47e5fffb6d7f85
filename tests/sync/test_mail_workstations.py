"""Two workstations of one branch share its outbox through the server: each message is sent once.

The rule (app/services/mail.py): a branch workstation delivers the queued mail it last wrote
(queued, retried or re-queued there). Real PostgreSQL, real SQLite files, a real SMTP server.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models.messaging import EmailOutbox
from app.services import mail
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes


@pytest.fixture
def dal2(net: Net, template_db: Path, tmp_path: Path) -> Iterator[Site]:
    """A second Dallas workstation: a new file, first sync with the branch login."""
    path = tmp_path / "dal2.db"
    shutil.copy(template_db, path)
    site = Site(path, net.dal.dsn)
    site.sync()
    yield site
    site.close()


def _send(site: Site, cfg: mail.SmtpConfig) -> mail.SendReport:
    with site.session() as s:
        report = mail.send_due(s, cfg)
        s.commit()
        return report


def _statuses(site: Site) -> dict[str, str]:
    with site.session() as s:
        return {to: st for to, st in s.execute(select(EmailOutbox.to_addr, EmailOutbox.status))}


def test_mail_queued_at_one_workstation_is_sent_once_and_requeue_moves_the_sender(
        net: Net, dal2: Site, smtp: Any) -> None:
    handler, cfg = smtp
    handler.refuse.add("bounce@acme.example")
    alice = net.world.actors["alice"]
    with net.dal.session() as s:
        for to in ("orders@acme.example", "bounce@acme.example"):
            mail.queue_email(s, alice, to=to, subject="PO DAL-PO-1", body="Body", owner_branch_id=net.world.dal.id)
        s.commit()
    sites = (net.hq, net.dal, dal2, net.hou)
    quiesce(*sites)
    for site in sites:  # every site holds both, queued; only the workstation that queued them sends
        assert _statuses(site) == {"orders@acme.example": "queued", "bounce@acme.example": "queued"}
    assert [(r.sent, r.failed) for r in (_send(dal2, cfg), _send(net.hou, cfg), _send(net.hq, cfg))] == [(0, 0)] * 3
    assert (_send(net.dal, cfg).sent, _send(net.dal, cfg).sent) == (1, 0)
    assert [m["To"] for m in handler.messages] == ["orders@acme.example"]
    quiesce(*sites)
    for site in sites:
        assert _statuses(site) == {"orders@acme.example": "sent", "bounce@acme.example": "failed"}
    # the mailbox is fixed; the buyer at workstation 2 re-queues it: workstation 2 now sends it
    handler.refuse.clear()
    with dal2.session() as s:
        row = s.scalars(select(EmailOutbox).where(EmailOutbox.to_addr == "bounce@acme.example")).one()
        mail.requeue(s, alice, row.id)
        s.commit()
    quiesce(*sites)
    assert _statuses(net.dal)["bounce@acme.example"] == "queued"
    assert _send(net.dal, cfg).sent == 0
    assert _send(dal2, cfg).sent == 1
    quiesce(*sites)
    assert [m["To"] for m in handler.messages] == ["orders@acme.example", "bounce@acme.example"]
    for site in sites:
        assert _statuses(site) == {"orders@acme.example": "sent", "bounce@acme.example": "sent"}
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0
        assert site_hashes(site) == server_hashes(net.server)
