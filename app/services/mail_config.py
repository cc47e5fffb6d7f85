"""The e-mail settings a user types (Settings > E-mail) and the test that proves them.

The values live in the settings file (``smtp.host``, ``smtp.port``, ``smtp.security``, ``smtp.user``,
``smtp.sender``); the password only with Depot's secrets (``smtp:password``), as
``mail.config_from_settings`` reads them. ``save`` checks everything first and stores nothing on
the first bad field; ``test_connection`` opens a real SMTP session (greeting, STARTTLS or TLS,
login when a user is set) and says in one sentence what worked or what failed.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass
from typing import Any

from app.services.errors import DomainError, ValidationError
from app.services.mail import _ADDR, SmtpConfig

SECURITY = {"none": "none (plain SMTP, e.g. a relay on this network)", "starttls": "STARTTLS (usually port 587)",
            "ssl": "TLS from the start (usually port 465)"}
PASSWORD = "smtp:password"


@dataclass(frozen=True)
class SmtpForm:
    host: str
    port: Any
    security: str = "none"
    user: str = ""
    sender: str = ""
    password: str | None = None  # None: keep the stored one; "": delete it


def current(settings: Any) -> SmtpForm:
    """What the page shows (the password never leaves the secrets store)."""
    security = str(settings.get("smtp.security", "") or "")
    if not security:  # older files kept two booleans
        security = "ssl" if settings.get("smtp.ssl") else "starttls" if settings.get("smtp.starttls") else "none"
    return SmtpForm(str(settings.get("smtp.host", "") or ""), settings.get("smtp.port", 25), security,
                    str(settings.get("smtp.user", "") or ""), str(settings.get("smtp.sender", "") or ""))


def check(form: SmtpForm) -> SmtpConfig:
    """The form as an SmtpConfig, or the first field that is wrong."""
    host = form.host.strip()
    if not host or any(c.isspace() for c in host):
        raise ValidationError("SMTP host", "give the mail server's name or address (e.g. smtp.example.com)")
    try:
        port = int(str(form.port).strip())
    except ValueError:
        raise ValidationError("SMTP port", f"{form.port!r} is not a number") from None
    if not 1 <= port <= 65535:
        raise ValidationError("SMTP port", f"{port} is not a port (1 to 65535)")
    if form.security not in SECURITY:
        raise ValidationError("security", f"{form.security!r} is not one of {', '.join(SECURITY)}")
    sender = form.sender.strip()
    if not _ADDR.match(sender):
        raise ValidationError("sender", f"{sender!r} is not an e-mail address (suppliers reply to it)")
    return SmtpConfig(host=host, port=port, user=form.user.strip(), password=form.password or "", sender=sender,
                      starttls=form.security == "starttls", use_ssl=form.security == "ssl", timeout=10.0)


def save(settings: Any, form: SmtpForm) -> SmtpConfig:
    """Check, then store: the password first (a secret that cannot be kept changes nothing)."""
    cfg = check(form)
    if form.password is not None:
        settings.set_secret(PASSWORD, form.password)
    for key, value in (("smtp.host", cfg.host), ("smtp.port", cfg.port), ("smtp.security", form.security),
                       ("smtp.user", cfg.user), ("smtp.sender", cfg.sender), ("smtp.starttls", cfg.starttls),
                       ("smtp.ssl", cfg.use_ssl)):
        settings.set(key, value)
    return cfg


def test_connection(cfg: SmtpConfig) -> str:
    """Talk to the server as delivery will (no message is sent); one sentence either way."""
    where = f"{cfg.host}:{cfg.port}"
    try:
        if cfg.use_ssl:
            smtp: smtplib.SMTP = smtplib.SMTP_SSL(cfg.host, cfg.port, timeout=cfg.timeout,
                                                  context=ssl.create_default_context())
        else:
            smtp = smtplib.SMTP(cfg.host, cfg.port, timeout=cfg.timeout)
        try:
            code, banner = smtp.ehlo()
            steps = [f"connected to {where}"]
            if cfg.starttls:
                smtp.starttls(context=ssl.create_default_context())
                smtp.ehlo()
                steps.append("STARTTLS on")
            if cfg.user:
                smtp.login(cfg.user, cfg.password)
                steps.append(f"signed in as {cfg.user}")
            code, _ = smtp.noop()
            if code != 250:
                raise smtplib.SMTPResponseException(code, b"NOOP refused")
            steps.append("the server accepts mail from Depot")
            return "; ".join(steps)
        finally:
            try:
                smtp.quit()
            except (OSError, smtplib.SMTPException):
                smtp.close()
    except smtplib.SMTPNotSupportedError:
        raise DomainError(f"{where} does not offer STARTTLS: choose another security setting") from None
    except smtplib.SMTPAuthenticationError as e:
        raise DomainError(f"{where} refused the sign-in of {cfg.user} ({e.smtp_code}): check user and password") from None
    except ssl.SSLError as e:
        raise DomainError(f"TLS with {where} failed ({e.reason or e}): check the security setting and port") from None
    except TimeoutError:
        raise DomainError(f"{where} did not answer within {cfg.timeout:.0f} s") from None
    except (OSError, smtplib.SMTPException) as e:
        text = getattr(e, "strerror", None) or str(e) or type(e).__name__
        raise DomainError(f"cannot reach the mail server {where}: {text}") from None
