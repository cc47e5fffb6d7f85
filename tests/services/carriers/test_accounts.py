"""Carrier accounts of a branch: validation, secrets only in the keyring, endpoints, pacing that
survives a restart, and the Settings test-connection sentence against a running sandbox."""

from __future__ import annotations

import time

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session

from app.models.parties import Carrier, CarrierService
from app.services.carriers import accounts as ac
from app.services.carriers.limits import RateLimiter
from app.services.carriers.model import Outcome
from app.services.carriers.sandbox.server import DEMO_SECRET, Sandbox
from app.services.errors import PermissionDenied, ValidationError
from app.services.settings import Settings
from tests.factories import World

SECRET = "client-secret-9f8e7d"


def add_carriers(session: Session, world: World) -> None:
    for code, api, services in (("UPS", "ups", ("03", "01")), ("FEDEX", "fedex", ("FEDEX_GROUND",)),
                                ("SANDBOX", "sandbox", ("GROUND",))):
        c = Carrier(code=code, name=code.title(), api=api, owner_branch_id=world.ho.id)
        session.add(c)
        session.flush()
        for s in services:
            session.add(CarrierService(carrier_id=c.id, code=s, name=s, owner_branch_id=world.ho.id))
    session.flush()


@pytest.fixture
def settings(tmp_path) -> Settings:  # noqa: ANN001
    return Settings(tmp_path / "settings.json")


def test_account_saved_with_secret_in_keyring_only(session: Session, world: World, settings: Settings,
                                                   db_path) -> None:  # noqa: ANN001
    add_carriers(session, world)
    info = ac.save_account(session, world.actors["root"], carrier_code="ups", account_number="A1B2C3",
                           client_id="cid", endpoint="test", services=["03"], settings=settings, secret=SECRET,
                           branch_id=world.dal.id)
    session.commit()
    assert info.has_secret and info.services == ("03",) and info.requests_per_minute == 600
    assert settings.get_secret(ac.secret_name(info.id)) == SECRET
    assert SECRET.encode() not in db_path.read_bytes()
    assert not settings.path.exists() or SECRET not in settings.path.read_text()
    acct = ac.runtime_account(info, settings)
    assert acct.base_url == "https://wwwcie.ups.com" and SECRET not in repr(acct)
    # the change is captured for replication (a branch document)
    assert session.scalar(text("SELECT count(*) FROM sync_outbox WHERE tbl = 'carrier_account'")) == 1


@pytest.mark.parametrize(("kw", "field"), [
    ({"carrier_code": "NOPE"}, "carrier"), ({"account_number": " "}, "account number"),
    ({"endpoint": "ftp://x"}, "endpoint"), ({"services": ["99"]}, "services"),
    ({"requests_per_minute": 0}, "requests per minute"), ({"daily_quota": -1}, "daily quota"),
    ({"carrier_code": "SANDBOX", "endpoint": "production"}, "endpoint"),
])
def test_bad_accounts_are_refused_with_the_field(session: Session, world: World, kw: dict, field: str) -> None:
    add_carriers(session, world)
    args = {"carrier_code": "UPS", "account_number": "A1", **kw}
    with pytest.raises(ValidationError) as e:
        ac.save_account(session, world.actors["root"], **args)
    assert e.value.args and field in str(e.value)
    assert session.scalar(text("SELECT count(*) FROM carrier_account")) == 0


def test_only_an_admin_manages_accounts(session: Session, world: World) -> None:
    add_carriers(session, world)
    with pytest.raises(PermissionDenied):
        ac.save_account(session, world.actors["alice"], carrier_code="UPS", account_number="A1")


def test_limiter_state_survives_a_restart(engine: Engine) -> None:
    store = ac.DbLimitStore(engine)
    lim = RateLimiter("acct-1", per_minute=60, burst=5, daily_quota=100, store=store)
    for _ in range(5):
        assert lim.acquire() == 0
    assert lim.acquire() > 0  # bucket empty
    lim.flush()
    again = RateLimiter("acct-1", per_minute=60, burst=5, daily_quota=100, store=store)  # a new process
    assert again.acquire() > 0 and again.quota_left() == 95
    again.block(30)
    third = RateLimiter("acct-1", per_minute=60, burst=5, daily_quota=100, store=store)
    assert 25 < third.acquire() <= 30  # the carrier's Retry-After still holds


def test_daily_quota_answers_until_midnight() -> None:
    lim = RateLimiter("q", per_minute=6000, burst=10, daily_quota=3)
    assert [lim.acquire() for _ in range(3)] == [0, 0, 0]
    wait = lim.acquire()
    assert 0 < wait <= 86400


def test_connection_sentences_against_a_real_sandbox(session: Session, world: World, settings: Settings,
                                                     engine: Engine) -> None:
    add_carriers(session, world)
    with Sandbox() as sb:
        ac.set_sandbox_url(sb.url)
        try:
            info = ac.save_account(session, world.actors["root"], carrier_code="UPS", account_number="A1",
                                   client_id="cid", endpoint="sandbox", settings=settings, secret=DEMO_SECRET)
            session.commit()
            ok = ac.test_connection(info, settings, engine)
            assert ok.outcome == Outcome.OK and ok.message.startswith(f"Connected to {sb.url}")
            settings.set_secret(ac.secret_name(info.id), SECRET)
            bad = ac.test_connection(info, settings, engine)
            assert bad.outcome == Outcome.AUTH_FAILED and "refused the credentials" in bad.message
            assert SECRET not in bad.message
            url = sb.url
        finally:
            ac.set_sandbox_url(None)
    ac.set_sandbox_url(url)
    try:
        down = ac.test_connection(info, settings, engine)
    finally:
        ac.set_sandbox_url(None)
    assert down.outcome == Outcome.TRANSIENT and "could not reach" in down.message and "refused" in down.message, down


def test_pacing_state_is_written_to_the_database(session: Session, world: World, settings: Settings,
                                                  engine: Engine) -> None:
    add_carriers(session, world)
    info = ac.save_account(session, world.actors["root"], carrier_code="SANDBOX", account_number="SANDBOX-1",
                           endpoint="sandbox", requests_per_minute=600, settings=settings)
    session.commit()
    with Sandbox() as sb:
        ac.set_sandbox_url(sb.url)
        try:
            ad = ac.adapter_for(info, settings, engine)
            ad.limiter.flush_every = 0.0  # type: ignore[union-attr]
            assert ad.track(["SBX000000000123"]).outcome in (Outcome.OK, Outcome.NOT_FOUND)
        finally:
            ac.set_sandbox_url(None)
    time.sleep(0.01)
    with engine.connect() as c:
        used = c.execute(text("SELECT used_today FROM carrier_limit_state WHERE account_id = :a"),
                         {"a": str(info.id)}).scalar()
    assert used is not None and used >= 1
