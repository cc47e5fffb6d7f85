"""Carrier accounts of a branch: create, change, list, and turn into a ready adapter.

The row (``carrier_account``) holds what is not secret; the client secret (and DHL Express's
password) live only in the keyring through ``Settings.set_secret`` under
``carrier:<account id>:secret``. The endpoint is "production", "test" (the carrier's own test
host), "sandbox" (the built-in one, wherever it runs now) or a URL.
"""

from __future__ import annotations

import json
import os
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, exc, select, text
from sqlalchemy.orm import Session

from app.models.carriers import CarrierAccount
from app.models.org import Branch
from app.models.parties import Carrier, CarrierService
from app.services.audit import record
from app.services.auth import Actor
from app.services.carriers.adapters import Account, Adapter, adapter_class
from app.services.carriers.limits import LimitState, RateLimiter
from app.services.carriers.model import Outcome, Reply
from app.services.db import BUSY_TIMEOUT_MS, local_branch_id
from app.services.errors import DomainError, NotFound, ValidationError
from app.services.settings import Settings

ENDPOINTS: dict[str, dict[str, tuple[str, str]]] = {
    "ups": {"production": ("https://onlinetools.ups.com", ""), "test": ("https://wwwcie.ups.com", "")},
    "fedex": {"production": ("https://apis.fedex.com", ""), "test": ("https://apis-sandbox.fedex.com", "")},
    "dhl": {"production": ("https://api-eu.dhl.com", "https://express.api.dhl.com/mydhlapi"),
            "test": ("https://api-test.dhl.com", "https://express.api.dhl.com/mydhlapi/test")},
    "usps": {"production": ("https://apis.usps.com", ""), "test": ("https://apis-tem.usps.com", "")},
    "sandbox": {},
}
#: published default pacing per carrier (requests a minute, a day); an account may set its own
DEFAULT_LIMITS = {"ups": (600, 0), "fedex": (1400, 0), "dhl": (12, 250), "usps": (60, 0), "sandbox": (600, 0)}
SANDBOX_DEFAULT_URL = "http://127.0.0.1:8765"
_sandbox_url: str | None = None


def set_sandbox_url(url: str | None) -> None:
    """Where the built-in sandbox runs in this process (``gui --demo`` starts one on a free port)."""
    global _sandbox_url
    _sandbox_url = url


def sandbox_url(settings: Settings | None = None) -> str:
    env = os.environ.get("DEPOT_CARRIER_SANDBOX", "")
    return (_sandbox_url or (env if env.startswith("http") else "")
            or (str(settings.get("carrier.sandbox_url") or "") if settings else "") or SANDBOX_DEFAULT_URL)


def secret_name(account_id: uuid.UUID | str, n: int = 1) -> str:
    return f"carrier:{account_id}:secret" + ("" if n == 1 else str(n))


def read_secret(settings: Settings, name: str) -> str | None:
    """A secret from the keyring, or None when there is none or no keyring works here."""
    try:
        return settings.get_secret(name)
    except Exception:  # noqa: BLE001 - keyring backends raise their own types (NoKeyringError, ...)
        return None


def store_secret(settings: Settings, name: str, value: str) -> None:
    try:
        settings.set_secret(name, value)
    except DomainError:
        raise  # Depot's own sentence (no keyring yet: where secrets go is chosen in Settings > General)
    except Exception as e:  # noqa: BLE001 - as above
        raise ValidationError("client secret", f"cannot be stored: this workstation's keyring refused it "
                              f"({type(e).__name__})") from None


@dataclass(frozen=True)
class AccountInfo:
    id: uuid.UUID
    carrier_code: str
    carrier_name: str
    api: str
    name: str
    account_number: str
    client_id: str
    endpoint: str
    services: tuple[str, ...]
    requests_per_minute: int
    daily_quota: int
    options: dict[str, str] = field(default_factory=dict)
    active: bool = True
    branch_code: str = ""
    has_secret: bool = False

    @property
    def label(self) -> str:
        name = self.name or self.account_number
        return name if self.carrier_code.upper() in name.upper() else f"{self.carrier_code} {name}"


def _options(raw: str) -> dict[str, str]:
    try:
        data = json.loads(raw) if raw else {}
    except ValueError:
        return {}
    return {str(k): str(v) for k, v in data.items()} if isinstance(data, dict) else {}


def _info(acct: CarrierAccount, carrier: Carrier, branch_code: str, settings: Settings | None) -> AccountInfo:
    has = bool(settings and read_secret(settings, secret_name(acct.id)))
    return AccountInfo(acct.id, carrier.code, carrier.name, carrier.api, acct.name, acct.account_number, acct.client_id,
                       acct.endpoint, tuple(x for x in acct.services.split(",") if x), acct.requests_per_minute,
                       acct.daily_quota, _options(acct.options), acct.active, branch_code, has)


def list_accounts(session: Session, settings: Settings | None = None, *, all_branches: bool = False) -> list[AccountInfo]:
    """This branch's accounts (every branch's on a file without a branch, or with ``all_branches``)."""
    q = (select(CarrierAccount, Carrier, Branch.code).join(Carrier, Carrier.id == CarrierAccount.carrier_id)
         .join(Branch, Branch.id == CarrierAccount.owner_branch_id, isouter=True)
         .where(CarrierAccount.deleted_at.is_(None)).order_by(Branch.code, Carrier.code, CarrierAccount.name))
    bid = local_branch_id(session)
    if bid is not None and not all_branches:
        q = q.where(CarrierAccount.owner_branch_id == bid)
    return [_info(a, c, b or "", settings) for a, c, b in session.execute(q)]


def get_account(session: Session, account: str | uuid.UUID, settings: Settings | None = None) -> AccountInfo:
    """By id, or by "CARRIER NAME" / name / account number (what the CLI takes)."""
    accounts = list_accounts(session, settings, all_branches=True)
    key = str(account).strip()
    for a in accounts:
        if key in (str(a.id), a.name, a.label, a.account_number) or key.upper() == a.label.upper():
            return a
    raise NotFound("carrier account", key)


def carrier_services(session: Session, carrier_code: str) -> list[tuple[str, str]]:
    q = (select(CarrierService.code, CarrierService.name).join(Carrier, Carrier.id == CarrierService.carrier_id)
         .where(Carrier.code == carrier_code, CarrierService.deleted_at.is_(None)).order_by(CarrierService.transit_days))
    return [(c, n) for c, n in session.execute(q)]


def carriers(session: Session) -> list[tuple[str, str, str]]:
    q = select(Carrier.code, Carrier.name, Carrier.api).where(Carrier.deleted_at.is_(None), Carrier.active.is_(True))
    return [(c, n, a) for c, n, a in session.execute(q.order_by(Carrier.code))]


def _check_endpoint(api: str, endpoint: str) -> str:
    e = endpoint.strip() or "production"
    if e in ("production", "test") and api == "sandbox":
        raise ValidationError("endpoint", "the Depot sandbox carrier has no production host: use 'sandbox' or a URL")
    if e in ("production", "test", "sandbox"):
        return e
    if not e.startswith(("http://", "https://")) or " " in e:
        raise ValidationError("endpoint", "must be production, test, sandbox or an http(s):// URL")
    return e.rstrip("/")


def save_account(session: Session, actor: Actor, *, carrier_code: str, account_number: str, client_id: str = "",
                 name: str = "", endpoint: str = "production", services: Sequence[str] = (),
                 requests_per_minute: int | None = None, daily_quota: int | None = None,
                 options: dict[str, str] | None = None, account_id: uuid.UUID | None = None,
                 branch_id: uuid.UUID | None = None, active: bool = True,
                 settings: Settings | None = None, secret: str | None = None, secret2: str | None = None) -> AccountInfo:
    """Add or change an account (admin). ``secret=None`` keeps the stored one; "" removes it."""
    actor.require("settings.edit")
    carrier = session.scalar(select(Carrier).where(Carrier.code == carrier_code.strip().upper(),
                                                   Carrier.deleted_at.is_(None)))
    if carrier is None:
        raise ValidationError("carrier", f"'{carrier_code}' is not a carrier of the master data")
    number = account_number.strip()
    if not number:
        raise ValidationError("account number", "is required")
    if len(number) > 40 or len(client_id) > 120 or len(name) > 60:
        raise ValidationError("account", "account number (40), client id (120) or name (60) is too long")
    rpm_default, quota_default = DEFAULT_LIMITS.get(carrier.api, (60, 0))
    rpm = rpm_default if requests_per_minute is None else requests_per_minute
    quota = quota_default if daily_quota is None else daily_quota
    if not 1 <= rpm <= 100_000:
        raise ValidationError("requests per minute", "must be between 1 and 100000")
    if not 0 <= quota <= 10_000_000:
        raise ValidationError("daily quota", "must be between 0 (none) and 10000000")
    known = {c for c, _n in carrier_services(session, carrier.code)}
    wanted = [s.strip() for s in services if s.strip()]
    unknown = [s for s in wanted if known and s not in known]
    if unknown:
        raise ValidationError("services", f"{', '.join(unknown)} not a service of {carrier.code} "
                              f"({', '.join(sorted(known))})")
    endpoint = _check_endpoint(carrier.api, endpoint)
    owner = branch_id or local_branch_id(session)
    if owner is None:
        first = session.scalar(select(Branch.id).where(Branch.deleted_at.is_(None)).order_by(Branch.code))
        if first is None:
            raise ValidationError("branch", "no branch exists yet to own the account")
        owner = first
    acct = session.get(CarrierAccount, account_id) if account_id else None
    if account_id and (acct is None or acct.deleted_at is not None):
        raise NotFound("carrier account", account_id)
    before = None
    if acct is None:
        acct = CarrierAccount(owner_branch_id=owner, carrier_id=carrier.id)
        session.add(acct)
    else:
        before = {"account_number": acct.account_number, "endpoint": acct.endpoint, "services": acct.services}
    acct.carrier_id = carrier.id
    acct.name = name.strip() or f"{carrier.code} {number}"
    acct.account_number = number
    acct.client_id = client_id.strip()
    acct.endpoint = endpoint
    acct.services = ",".join(wanted)
    acct.requests_per_minute, acct.daily_quota = rpm, quota
    acct.options = json.dumps(options or {}, sort_keys=True) if options else ""
    acct.active = active
    session.flush()
    record(session, actor, "carrier.account.save", "carrier_account", acct.id, acct.owner_branch_id,
           before=before, after={"account_number": number, "endpoint": acct.endpoint, "services": acct.services})
    if settings is not None:
        if secret is not None:
            store_secret(settings, secret_name(acct.id), secret)
        if secret2 is not None:
            store_secret(settings, secret_name(acct.id, 2), secret2)
    code = session.scalar(select(Branch.code).where(Branch.id == acct.owner_branch_id)) or ""
    return _info(acct, carrier, code, settings)


def delete_account(session: Session, actor: Actor, account_id: uuid.UUID, settings: Settings | None = None) -> None:
    actor.require("settings.edit")
    acct = session.get(CarrierAccount, account_id)
    if acct is None or acct.deleted_at is not None:
        raise NotFound("carrier account", account_id)
    from app.models.types import utcnow

    acct.deleted_at = utcnow()
    record(session, actor, "carrier.account.delete", "carrier_account", acct.id, acct.owner_branch_id)
    if settings is not None:
        settings.delete_secret(secret_name(account_id))
        settings.delete_secret(secret_name(account_id, 2))


def runtime_account(info: AccountInfo, settings: Settings) -> Account:
    """The adapter's view: endpoint resolved, secrets read from the keyring (the sandbox's public
    demo secret when a sandbox account has none stored)."""
    from app.services.carriers.sandbox.server import DEMO_SECRET

    secret = read_secret(settings, secret_name(info.id)) or ""
    secret2 = read_secret(settings, secret_name(info.id, 2)) or ""
    if info.endpoint == "sandbox":
        base, alt = sandbox_url(settings), ""
        secret = secret or DEMO_SECRET
        client_id = info.client_id or "depot-sandbox"
    elif info.endpoint in ("production", "test"):
        base, alt = ENDPOINTS.get(info.api, {}).get(info.endpoint, ("", ""))
    else:
        base, alt = info.endpoint, ""
    if info.endpoint != "sandbox":
        client_id = info.client_id
    return Account(str(info.id), info.api, base, info.account_number, client_id, secret, info.carrier_code,
                   info.options, alt, secret2)


# pacing that survives a restart ---------------------------------------------------------------
class DbLimitStore:
    """``carrier_limit_state`` rows, written in their own short transactions."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def load(self, account_id: str) -> LimitState | None:
        with self.engine.connect() as c:
            row = c.execute(text("SELECT tokens, updated, day, used_today, blocked_until FROM carrier_limit_state "
                                 "WHERE account_id = :a"), {"a": account_id}).first()
        return LimitState(float(row[0]), float(row[1]), str(row[2]), int(row[3]), float(row[4])) if row else None

    def save(self, account_id: str, state: LimitState) -> None:
        """Best effort: while another writer holds the database (a poll cycle storing an account's
        answers) the pacing state is not worth a wait, let alone a failed carrier call; it stays in
        memory and the next flush (a second later) writes it."""
        try:
            with self.engine.connect() as c:
                c.exec_driver_sql("PRAGMA busy_timeout = 200")
                c.commit()
                try:
                    c.execute(text(
                        "INSERT INTO carrier_limit_state (account_id, tokens, updated, day, used_today, blocked_until) "
                        "VALUES (:a, :t, :u, :d, :n, :b) ON CONFLICT(account_id) DO UPDATE SET tokens = :t, "
                        "updated = :u, day = :d, used_today = :n, blocked_until = :b"),
                        {"a": account_id, "t": state.tokens, "u": state.updated, "d": state.day,
                         "n": state.used_today, "b": state.blocked_until})
                    c.commit()
                finally:
                    c.rollback()
                    c.exec_driver_sql(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
                    c.commit()
        except exc.OperationalError as e:
            if "locked" not in str(e) and "busy" not in str(e):
                raise


_limiters: dict[tuple[str, str], RateLimiter] = {}
_limiters_lock = threading.Lock()


def limiter_for(info: AccountInfo, engine: Engine | None) -> RateLimiter:
    """One limiter per account and database in this process (every thread shares it)."""
    key = (str(info.id), str(engine.url) if engine is not None else "")
    with _limiters_lock:
        lim = _limiters.get(key)
        if lim is None or lim.daily_quota != info.daily_quota or round(lim.rate * 60) != info.requests_per_minute:
            store = DbLimitStore(engine) if engine is not None else None
            lim = RateLimiter(str(info.id), info.requests_per_minute, None, info.daily_quota, store)
            _limiters[key] = lim
        return lim


def adapter_for(info: AccountInfo, settings: Settings, engine: Engine | None = None, **kwargs: Any) -> Adapter:
    return adapter_class(info.api)(runtime_account(info, settings), limiter=limiter_for(info, engine), **kwargs)


def test_connection(info: AccountInfo, settings: Settings, engine: Engine | None = None) -> Reply:
    """One sentence a person can act on, for the Settings page and ``depot carrier account-test``."""
    acct = runtime_account(info, settings)
    if not acct.base_url:
        return Reply(Outcome.PERMANENT, f"{info.label}: no endpoint for '{info.endpoint}'")
    if not acct.secret and info.api != "sandbox":
        return Reply(Outcome.AUTH_FAILED, f"{info.label}: no client secret stored on this workstation (enter it and save)")
    reply = adapter_for(info, settings, engine, timeout=(3.0, 10.0), max_wait=0.5).test_connection()
    where = acct.base_url
    if reply.outcome is Outcome.OK:
        return Reply(Outcome.OK, f"Connected to {where}: the carrier accepted the credentials of {info.label}")
    advice = {Outcome.AUTH_FAILED: "the carrier refused the credentials: check the client id and secret",
              Outcome.TRANSIENT: f"could not reach {where}",
              Outcome.RATE_LIMITED: "the carrier asks us to slow down",
              Outcome.MALFORMED: f"{where} answered something that is not the carrier's API",
              Outcome.PERMANENT: "the carrier refused the request"}.get(reply.outcome, str(reply.outcome))
    wait = f" (retry in {reply.retry_after:g} s)" if reply.retry_after else ""
    return Reply(reply.outcome, f"{info.label}: {advice}{wait}. {reply.message}".strip(), reply.retry_after,
                 reply.http_status)
