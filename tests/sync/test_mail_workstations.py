"""Two workstations of one branch share its outbox through the server: each message is sent once.

The rule (app/services/mail.py): a branch workstation delivers the queued mail it last wrote
(queued, retried or re-queued there). Real PostgreSQL, real SQLite files, a real SMTP server.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from app.models.messaging import EmailOutbox
from app.services import mail
from app.services.replication.server import bytes_column
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


#: a PDF's first bytes and bytes that are no text in any encoding: what an invoice attachment holds
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n" + bytes(range(256)) + b"\x00\xff\xfe\n%%EOF\n"


def test_an_attachment_reaches_every_workstation_byte_for_byte(net: Net, dal2: Site) -> None:
    """An invoice mailed with its PDF: the workstation that queued it syncs (a routine push of one row,
    then a big one of 600), and every site holds the same bytes, as bytes. The push used to stop at
    the first attachment ('Object of type bytes is not JSON serializable'), so that workstation's
    sync failed from then on, and publishing a file with a label or an attachment failed too."""
    alice = net.world.actors["alice"]
    with net.dal.session() as s:
        mail.queue_email(s, alice, to="ap@acme.example", subject="Invoice DAL-INV-1", body="Attached.",
                         owner_branch_id=net.world.dal.id, attachment_name="DAL-INV-1.pdf", attachment=PDF)
        s.commit()
    assert net.dal.sync().ok
    with net.dal.session() as s:  # more than one JSON batch: the COPY path of a big push
        for n in range(600):
            mail.queue_email(s, alice, to="ap@acme.example", subject=f"Invoice DAL-INV-{n + 2}", body="Attached.",
                             owner_branch_id=net.world.dal.id, attachment_name=f"DAL-INV-{n + 2}.pdf",
                             attachment=PDF + str(n).encode(), flush=False)
        s.commit()
    sites = (net.hq, net.dal, dal2, net.hou)
    quiesce(*sites)
    for site in sites:
        with site.session() as s:
            got = dict(s.execute(select(EmailOutbox.attachment_name, EmailOutbox.attachment)).all())
        assert got["DAL-INV-1.pdf"] == PDF
        assert got["DAL-INV-601.pdf"] == PDF + b"599"
        assert len(got) == 601
        assert site.scalar("SELECT count(*) FROM email_outbox WHERE typeof(attachment) <> 'blob'") == 0
        assert site_hashes(site) == server_hashes(net.server)
    assert net.server.query("SELECT count(*) FROM email_outbox WHERE attachment = %s", PDF) == [(1,)]


def test_a_server_that_held_attachments_as_text_gives_them_back_as_bytes(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    """Servers made before bytea kept a bytes column as text (rows pushed by COPY held bytea's hex
    text, '\\x2550...'). 'depot server init' on such a server turns the column into bytea with the
    same bytes (its step is run here: a test network's database is a clone, which init refuses), and
    a new workstation's first sync (the server-side cursor, not COPY) stores them."""
    alice = net.world.actors["alice"]
    with net.dal.session() as s:
        mail.queue_email(s, alice, to="ap@acme.example", subject="Invoice DAL-INV-1", body="Attached.",
                         owner_branch_id=net.world.dal.id, attachment_name="DAL-INV-1.pdf", attachment=PDF)
        s.commit()
    net.dal.sync()
    with psycopg.connect(net.server.dsn) as c:
        c.execute("ALTER TABLE email_outbox ALTER COLUMN attachment TYPE text USING '\\x' || encode(attachment, 'hex')")
        bytes_column(c.cursor(), "email_outbox", "attachment")  # what 'depot server init' runs on each table
    assert net.server.query("SELECT data_type FROM information_schema.columns WHERE table_name = 'email_outbox' "
                            "AND column_name = 'attachment'") == [("bytea",)]
    assert net.server.query("SELECT attachment FROM email_outbox") == [(PDF,)]
    fresh = make_site("dal3", net.server.role_dsn("DAL"))
    fresh.sync()
    with fresh.session() as s:
        assert s.scalars(select(EmailOutbox.attachment)).all() == [PDF]
    assert site_hashes(fresh) == server_hashes(net.server)
