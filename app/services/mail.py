"""E-mail through an outbox: queue in the business transaction, deliver later with retries.

Why an outbox: sending a PO must not fail (or hang the screen) because the SMTP server is
down. ``queue_email`` writes a row in the same transaction as the state change; ``send_due``
delivers what is due over one SMTP connection, and on a temporary failure schedules the
next attempt with exponential back-off (1, 2, 4 ... minutes, capped at an hour). A
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
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any

from sqlalchemy import or_, select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.models.types import utcnow
from app.services import audit
from app.services.auth import Actor
from app.services.db import site_id
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
) -> EmailOutbox:
    to_addr = _addresses(to, "to", required=True)
    cc_addr = _addresses(cc, "cc", required=False)
    if not subject.strip():
        raise ValidationError("subject", "is required")
    if attachment is not None and not attachment_name:
        raise ValidationError("attachment", "needs a file name")
    msg = EmailOutbox(to_addr=to_addr, cc_addr=cc_addr, subject=subject.strip()[:200], body=body,
                      attachment_name=attachment_name, attachment=attachment, entity=entity, entity_ref=entity_ref,
                      status="queued", attempts=0, next_attempt_at=utcnow(), owner_branch_id=owner_branch_id)
    session.add(msg)
    session.flush()
    audit.record(session, actor, "email.queue", "email_outbox", msg.id, owner_branch_id, to=to_addr,
                 subject=msg.subject, about=entity_ref)
    return msg


def backoff(attempts: int) -> dt.timedelta:
    """Delay before attempt ``attempts + 1``: 1, 2, 4, 8 ... minutes, at most an hour."""
    delay: dt.timedelta = BASE_DELAY * (2 ** max(attempts - 1, 0))
    return min(delay, MAX_DELAY)


def build_message(row: EmailOutbox, sender: str) -> EmailMessage:
    m = EmailMessage()
    m["From"] = sender
    m["To"] = row.to_addr
    if row.cc_addr:
        m["Cc"] = row.cc_addr
    m["Subject"] = row.subject
    m["Date"] = formatdate(localtime=False)
    m["Message-ID"] = make_msgid(idstring=row.id.hex[:16], domain="depot.local")
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


def send_due(session: Session, cfg: SmtpConfig, *, now: dt.datetime | None = None, limit: int = 50,
             connect: SmtpFactory = _connect) -> SendReport:
    """Deliver the messages that are due over one connection; record each outcome."""
    now = now or utcnow()
    rows = due(session, now, limit)
    report = SendReport(errors=[])
    if not rows:
        return report
    smtp: smtplib.SMTP | None = None
    try:
        smtp = connect(cfg)
    except (OSError, smtplib.SMTPException) as e:
        for row in rows:
            _fail(session, row, e, now, report, permanent=isinstance(e, smtplib.SMTPAuthenticationError))
        session.flush()
        return report
    try:
        for row in rows:
            try:
                smtp.send_message(build_message(row, cfg.sender))
            except (OSError, smtplib.SMTPException) as e:
                _fail(session, row, e, now, report, permanent=_permanent(e))
                if isinstance(e, smtplib.SMTPServerDisconnected | OSError):
                    try:
                        smtp.close()
                        smtp = connect(cfg)
                    except (OSError, smtplib.SMTPException):
                        smtp = None
                        for rest in rows[rows.index(row) + 1:]:
                            _fail(session, rest, e, now, report, permanent=False)
                        break
                continue
            row.last_error = ""
            row.attempts += 1
            report.sent += 1
            transition(row, "sent", None, at=now, about=row.entity_ref, attempts=row.attempts)
    finally:
        if smtp is not None:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    session.flush()
    return report


def _fail(session: Session, row: EmailOutbox, e: BaseException, now: dt.datetime, report: SendReport, *,
          permanent: bool) -> None:
    row.attempts += 1
    row.last_error = f"{type(e).__name__}: {e}"[:2000]
    if permanent or row.attempts >= MAX_ATTEMPTS:
        row.next_attempt_at = None
        report.failed += 1
        transition(row, "failed", None, about=row.entity_ref, error=row.last_error, attempts=row.attempts)
    else:
        row.next_attempt_at = now + backoff(row.attempts)
        report.retry += 1
    if report.errors is not None:
        report.errors.append(f"{row.to_addr}: {row.last_error}")


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
