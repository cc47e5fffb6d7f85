"""E-mail through an outbox: queue in the business transaction, deliver later with retries.

Why an outbox: sending a PO must not fail (or hang the screen) because the SMTP server is
down. ``queue_email`` writes a row in the same transaction as the state change; ``deliver_due``
(the background job ``DELIVERY``) delivers what is due over one SMTP connection in three steps
(read what is due, talk SMTP with no transaction open, record the outcomes in a short write), and
on a temporary failure schedules the next attempt with exponential back-off (1, 2, 4 ... minutes, capped at an hour). A
permanent refusal (5xx, bad address) or too many attempts marks the message failed, which
a user can re-queue. The SMTP host, port and user come from settings and the password from
the keyring; this module takes them as a parameter (``SmtpConfig``) and imports neither.

Who delivers (outbox rows replicate to every site): on a site where the ownership rule applies,
only this branch's mail, and of that only the messages this workstation last wrote (queued,
retried or re-queued here: the row's ``hlc_site`` is this site's id). So each message has exactly
one sender however many workstations and branches hold a copy, and the sender may write the
outcome (its own branch's row). ``requeue`` moves the sender to the workstation that calls it
(also for mail stuck at a workstation out of service). A standalone file delivers everything.
"""

from __future__ import annotations

import datetime as dt
import re
import smtplib
import ssl
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate
from typing import Any, Protocol

from sqlalchemy import Engine, or_, select
from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.models.hlc import clock
from app.models.ids import uuid7
from app.models.messaging import EmailOutbox
from app.models.types import iso_utc, utcnow
from app.services import audit, jobs
from app.services.auth import Actor
from app.services.bulk import BulkInsert
from app.services.changes import Change
from app.services.db import session_scope, site_id
from app.services.errors import Conflict, NotFound, ValidationError
from app.services.masterdata import branch_code
from app.services.ownership import ForeignWrite, ownership
from app.services.workflow import transition

MAX_ATTEMPTS = 8
BASE_DELAY = dt.timedelta(minutes=1)
MAX_DELAY = dt.timedelta(hours=1)
_ADDR = re.compile(r"^[^@\s,;<>]+@[^@\s,;<>]+\.[^@\s,;<>]+$")


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int = 25
    user: str = ""
    password: str = ""
    sender: str = "depot@localhost"
    starttls: bool = False
    use_ssl: bool = False
    timeout: float = 15.0


def config_from_settings(settings: Any) -> SmtpConfig:
    """Build the SMTP config from ``app.services.settings.Settings`` (password from the keyring)."""
    host = str(settings.get("smtp.host", "") or "")
    if not host:
        raise ValidationError("smtp.host", "is not set (Settings > E-mail)")
    try:
        port = int(settings.get("smtp.port", 25))
    except (TypeError, ValueError):
        raise ValidationError("smtp.port", "must be a number") from None
    user = str(settings.get("smtp.user", "") or "")
    return SmtpConfig(host=host, port=port, user=user, password=(settings.get_secret("smtp:password") or "") if user else "",
                      sender=str(settings.get("smtp.sender", "depot@localhost")),
                      starttls=bool(settings.get("smtp.starttls", False)), use_ssl=bool(settings.get("smtp.ssl", False)))


def _addresses(value: str, field: str, *, required: bool) -> str:
    parts = [p.strip() for p in re.split(r"[,;]", value or "") if p.strip()]
    if required and not parts:
        raise ValidationError(field, "needs at least one e-mail address")
    bad = [p for p in parts if not _ADDR.match(p)]
    if bad:
        raise ValidationError(field, f"{', '.join(bad)} is not an e-mail address")
    return ", ".join(parts)


def queue_email(
    session: Session, actor: Actor | None, *, to: str, subject: str, body: str, owner_branch_id: uuid.UUID,
    cc: str = "", attachment_name: str = "", attachment: bytes | None = None, entity: str = "", entity_ref: str = "",
    message_id: uuid.UUID | None = None, flush: bool = True,
) -> EmailOutbox:
    """Queue a message (validated first). ``message_id``: a row id derived from what the message
    is about, so two workstations queueing it for the same reason make one row, not two;
    ``flush=False``: many in one go, written with the caller's next flush."""
    to_addr = _addresses(to, "to", required=True)
    cc_addr = _addresses(cc, "cc", required=False)
    if not subject.strip():
        raise ValidationError("subject", "is required")
    if attachment is not None and not attachment_name:
        raise ValidationError("attachment", "needs a file name")
    msg = EmailOutbox(id=message_id or uuid7(), to_addr=to_addr, cc_addr=cc_addr, subject=subject.strip()[:200], body=body,
                      attachment_name=attachment_name, attachment=attachment, entity=entity, entity_ref=entity_ref,
                      status="queued", attempts=0, next_attempt_at=utcnow(), owner_branch_id=owner_branch_id)
    session.add(msg)
    if flush:
        session.flush()
    audit.record(session, actor, "email.queue", "email_outbox", msg.id, owner_branch_id, to=to_addr,
                 subject=msg.subject, about=entity_ref)
    return msg


@dataclass(frozen=True)
class NewMessage:
    """One message for ``queue_many`` (the fields of ``queue_email``'s plain messages)."""

    to: str
    subject: str
    body: str
    owner_branch_id: uuid.UUID
    entity: str = ""
    entity_ref: str = ""
    message_id: uuid.UUID | None = None


def queue_many(session: Session, actor: Actor | None, messages: Sequence[NewMessage]) -> list[str]:
    """``queue_email`` for many plain messages at once (one multi-row insert for the rows and one
    for their audit entries): what a poll cycle's thousands of customer notices need. Returns, per
    message, '' when queued or the sentence that refused it (nothing written for that one)."""
    now = iso_utc(utcnow())
    hlc, site = clock.now(), site_id(session)  # what the flush stamps on ORM rows (app.services.db)
    rows: list[tuple[Any, ...]] = []
    audits: list[tuple[uuid.UUID, uuid.UUID, dict[str, Any]]] = []
    out: list[str] = []
    for m in messages:
        try:
            to_addr = _addresses(m.to, "to", required=True)
            if not m.subject.strip():
                raise ValidationError("subject", "is required")
        except ValidationError as e:
            out.append(str(e))
            continue
        mid = m.message_id or uuid7()
        subject = m.subject.strip()[:200]
        rows.append((mid.bytes, m.owner_branch_id.bytes, now, now, hlc, site, None, to_addr, "", subject, m.body, "", None,
                     m.entity, m.entity_ref, "queued", 0, now, None, ""))
        audits.append((mid, m.owner_branch_id, {"to": to_addr, "subject": subject, "about": m.entity_ref}))
        out.append("")
    if rows:  # the bulk writer: stored-form tuples, one executemany (no ORM object, no type processing)
        BulkInsert(session, EmailOutbox, _QUEUED).write(rows)
        audit.record_many(session, actor, "email.queue", "email_outbox", audits,
                          BulkInsert(session, AuditEntry, audit.COLUMNS).write)
    return out


#: ``queue_many``'s rows: these columns, in this order, in stored form
_QUEUED = ("id", "owner_branch_id", "created_at", "updated_at", "hlc", "hlc_site", "deleted_at", "to_addr", "cc_addr",
           "subject", "body", "attachment_name", "attachment", "entity", "entity_ref", "status", "attempts",
           "next_attempt_at", "sent_at", "last_error")


def backoff(attempts: int) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most an hour."""
    delay: dt.timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


class _Message(Protocol):
    @property
    def id(self) -> uuid.UUID: ...
    @property
    def to_addr(self) -> str: ...
    @property
    def cc_addr(self) -> str: ...
    @property
    def subject(self) -> str: ...
    @property
    def body(self) -> str: ...
    @property
    def attachment_name(self) -> str: ...
    @property
    def attachment(self) -> bytes | None: ...


def build_message(row: _Message, sender: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = row.to_addr
    if row.cc_addr:
        m["Cc"] = row.cc_addr
    m["Subject"] = row.subject
    m["Date"] = formatdate(localtime=False)
    # one Message-ID per outbox row: a message sent again after a crash between the SMTP answer
    # and the commit is recognised as the same message by the receiving mail systems
    m["Message-ID"] = f"<{row.id.hex}@depot.local>"
    m.set_content(row.body or "")
    if row.attachment is not None:
        maintype, subtype = ("application", "pdf") if row.attachment_name.lower().endswith(".pdf") else (
            "application", "octet-stream")
        m.add_attachment(row.attachment, maintype=maintype, subtype=subtype, filename=row.attachment_name)
    return m


@dataclass
class SendReport:
    sent: int = 0
    retry: int = 0
    failed: int = 0
    errors: list[str] | None = None

    @property
    def changed(self) -> bool:
        """Did the run write anything (the outbox screens refresh)?"""
        return bool(self.sent or self.retry or self.failed)


SmtpFactory = Callable[[SmtpConfig], smtplib.SMTP]


def _connect(cfg: SmtpConfig) -> smtplib.SMTP:
    if cfg.use_ssl:
        smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout, context=ssl.create_default_context())
    else:
        smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        if cfg.starttls:
            smtp.starttls(context=ssl.create_default_context())
    if cfg.user:
        smtp.login(cfg.user, cfg.password)
    return smtp


def _permanent(e: BaseException) -> bool:
    if isinstance(e, smtplib.SMTPRecipientsRefused | smtplib.SMTPSenderRefused | smtplib.SMTPAuthenticationError):
        return True
    code = getattr(e, "smtp_code", None)
    return isinstance(code, int) and 500 <= code < 600


def due(session: Session, now: dt.datetime | None = None, limit: int = 50) -> list[EmailOutbox]:
    """Queued messages due now that this site delivers (see the module docstring: one sender each)."""
    now = now or utcnow()
    q = select(EmailOutbox).where(
        EmailOutbox.status == "queued", EmailOutbox.deleted_at.is_(None),
        or_(EmailOutbox.next_attempt_at.is_(None), EmailOutbox.next_attempt_at <= now),
    )
    own = ownership(session)
    if own.enforced:  # owner_branch_id and status are indexed; hlc_site narrows the few queued rows left
        q = q.where(EmailOutbox.owner_branch_id == own.branch_id, EmailOutbox.hlc_site == site_id(session))
    return list(session.scalars(q.order_by(EmailOutbox.next_attempt_at, EmailOutbox.id).limit(limit)))


# ---- delivery in three steps: read what is due, talk SMTP holding no lock, record the outcomes ----


@dataclass(frozen=True)
class Outgoing:
    """A due message as plain data: what SMTP needs, read in step 1 (no database row crosses the network)."""

    id: uuid.UUID
    to_addr: str
    cc_addr: str
    subject: str
    body: str
    attachment_name: str
    attachment: bytes | None


@dataclass(frozen=True)
class Attempt:
    """The outcome of one message in step 2: sent (``error`` empty), or why not."""

    id: uuid.UUID
    error: str = ""
    permanent: bool = False


def due_messages(session: Session, now: dt.datetime | None = None, limit: int = 50) -> list[Outgoing]:
    """Step 1: the messages this site delivers now (a read)."""
    return [Outgoing(r.id, r.to_addr, r.cc_addr, r.subject, r.body, r.attachment_name, r.attachment)
            for r in due(session, now, limit)]


def transmit(cfg: SmtpConfig, messages: Sequence[Outgoing], connect: SmtpFactory = _connect) -> list[Attempt]:
    """Step 2: hand the messages to SMTP over one connection (reconnecting once after a drop); no
    database here, so a slow or hanging server holds no lock."""
    out: list[Attempt] = []
    if not messages:
        return out

    def failed(m: Outgoing, e: BaseException, permanent: bool) -> Attempt:
        return Attempt(m.id, f"{type(e).__name__}: {e}"[:2000], permanent)

    try:
        smtp: smtplib.SMTP | None = connect(cfg)
    except (OSError, smtplib.SMTPException) as e:
        return [failed(m, e, isinstance(e, smtplib.SMTPAuthenticationError)) for m in messages]
    try:
        for n, m in enumerate(messages):
            assert smtp is not None
            try:
                smtp.send_message(build_message(m, cfg.sender))
            except (OSError, smtplib.SMTPException) as e:
                out.append(failed(m, e, _permanent(e)))
                if isinstance(e, smtplib.SMTPServerDisconnected | OSError):
                    try:
                        smtp.close()
                        smtp = connect(cfg)
                    except (OSError, smtplib.SMTPException):
                        smtp = None
                        out += [failed(rest, e, False) for rest in messages[n + 1:]]
                        break
                continue
            out.append(Attempt(m.id))
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    return out


def record_attempts(session: Session, attempts: Sequence[Attempt], now: dt.datetime | None = None) -> SendReport:
    """Step 3: write each outcome (sent, retry later with back-off, failed). A message that is no
    longer queued (re-queued or taken over meanwhile) keeps what happened to it since."""
    now = now or utcnow()
    report = SendReport(errors=[])
    rows = {r.id: r for r in session.scalars(select(EmailOutbox).where(EmailOutbox.id.in_([a.id for a in attempts])))}
    for a in attempts:
        row = rows.get(a.id)
        if row is None or row.status != "queued":
            continue
        row.attempts += 1
        if not a.error:
            row.last_error = ""
            report.sent += 1
            transition(row, "sent", None, at=now, about=row.entity_ref, attempts=row.attempts)
            continue
        row.last_error = a.error
        if a.permanent or row.attempts >= MAX_ATTEMPTS:
            row.next_attempt_at = None
            report.failed += 1
            transition(row, "failed", None, about=row.entity_ref, error=row.last_error, attempts=row.attempts)
        else:
            row.next_attempt_at = now + backoff(row.attempts)
            report.retry += 1
        if report.errors is not None:
            report.errors.append(f"{row.to_addr}: {row.last_error}")
    session.flush()
    return report


def send_due(session: Session, cfg: SmtpConfig, *, now: dt.datetime | None = None, limit: int = 50,
             connect: SmtpFactory = _connect) -> SendReport:
    """The three steps in one caller's transaction (tests; a caller that already holds the session).
    The window and ``depot mail send-due`` use ``deliver_due``, which holds no lock while on SMTP."""
    now = now or utcnow()
    return record_attempts(session, transmit(cfg, due_messages(session, now, limit), connect), now)


def deliver_due(engine: Engine, cfg: SmtpConfig, *, now: dt.datetime | None = None, limit: int = 50,
                connect: SmtpFactory = _connect) -> SendReport:
    """Deliver what is due: read it (a read transaction), talk SMTP with no transaction open, then
    record the outcomes in one short write transaction."""
    now = now or utcnow()
    with session_scope(engine, write=False) as s:
        messages = due_messages(s, now, limit)
    if not messages:
        return SendReport(errors=[])
    attempts = transmit(cfg, messages, connect)
    with session_scope(engine) as s:
        return record_attempts(s, attempts, now)


def _deliver_job(engine: Engine, settings: Any) -> SendReport:
    return deliver_due(engine, config_from_settings(settings))


#: the outbox's background job: every minute, when an SMTP host is set (app.services.jobs)
DELIVERY = jobs.register(jobs.Job(
    "mail", _deliver_job, interval_s=60, first_s=3, kinds=(Change.MAIL,), label="deliver e-mail",
    ready=lambda settings: bool(str(settings.get("smtp.host", "") or "").strip())))


def requeue(session: Session, actor: Actor, outbox_id: uuid.UUID) -> EmailOutbox:
    """Try a failed message again from now (after fixing the address or the server); this
    workstation then delivers it. Only the branch that queued it may.

    On a branch workstation this also takes over a message still queued at another workstation
    of the branch (one that is out of service): from then on this workstation sends it.
    """
    actor.require("po.send")
    row = session.get(EmailOutbox, outbox_id)
    if row is None:
        raise NotFound("e-mail", outbox_id)
    own = ownership(session)
    if not own.owns(row.owner_branch_id):
        code = branch_code(session, row.owner_branch_id, "its branch")
        raise ForeignWrite(f"e-mail to {row.to_addr} was queued by {code}; it is re-queued at a {code} workstation")
    take_over = own.enforced and row.status == "queued" and row.hlc_site != site_id(session)
    if row.status != "failed" and not take_over:
        raise Conflict(f"e-mail to {row.to_addr} is {row.status}; only a failed one can be re-queued")
    row.next_attempt_at, row.attempts = utcnow(), 0
    if take_over:  # still queued: only the sender changes (this workstation writes the row now)
        audit.record(session, actor, "email.takeover", "email_outbox", row.id, row.owner_branch_id, to=row.to_addr)
    else:
        transition(row, "queued", actor)
    session.flush()
    return row


def waiting_elsewhere(session: Session, now: dt.datetime | None = None) -> int:
    """Due messages of this branch that another of its workstations delivers (it queued them)."""
    own = ownership(session)
    if not own.enforced:
        return 0
    now = now or utcnow()
    return len(session.scalars(select(EmailOutbox.id).where(
        EmailOutbox.status == "queued", EmailOutbox.deleted_at.is_(None),
        EmailOutbox.owner_branch_id == own.branch_id, EmailOutbox.hlc_site != site_id(session),
        or_(EmailOutbox.next_attempt_at.is_(None), EmailOutbox.next_attempt_at <= now))).all())


def sender(session: Session, row: EmailOutbox) -> str:
    """Who delivers a message, as the mail list shows it: 'here', 'another workstation', or the
    branch that queued it."""
    own = ownership(session)
    if not own.enforced:
        return "here"
    if row.owner_branch_id != own.branch_id:
        return branch_code(session, row.owner_branch_id)
    return "here" if row.hlc_site == site_id(session) else "another workstation"


def outbox(session: Session, *, entity_ref: str | None = None, limit: int = 200) -> list[EmailOutbox]:
    q = select(EmailOutbox).where(EmailOutbox.deleted_at.is_(None))
    if entity_ref:
        q = q.where(EmailOutbox.entity_ref == entity_ref)
    return list(session.scalars(q.order_by(EmailOutbox.created_at.desc()).limit(limit)))
