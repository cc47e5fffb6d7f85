"""The poll cycle against the real carrier sandbox over HTTP: cadence, batches, rate limits and
quotas, every carrier failure the Carriers issue names, the sandbox going away mid-cycle, and a
delivery that becomes a sent e-mail (real SMTP on loopback) within the cycle that saw it."""

from __future__ import annotations

import datetime as dt
import threading
import time

import pytest
import requests
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import TrackingCycle, TrackingEvent
from app.services import events as ev
from app.services.carriers import accounts as ac
from app.services.tracking import poller
from tests.smtp_server import Handler
from tests.tracking_world import SandboxProcess, TrackWorld, find_numbers

SBX = "SBX{:012d}"
UPS = "1ZDEP0010{:09d}"


class Clock:
    """Our side's clock, moved by the test (the sandbox has its own: ``TrackWorld.at``)."""

    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now

    def forward(self, **kw: float) -> dt.datetime:
        self.now += dt.timedelta(**kw)
        return self.now


def reload(session: Session, s: Shipment) -> Shipment:
    session.commit()
    session.expire_all()
    got = session.get(Shipment, s.id)
    assert got is not None
    return got


def test_a_parcel_from_label_to_proof_of_delivery_with_mail_sent_in_the_cycle(
        tw: TrackWorld, session: Session, smtp: tuple[Handler, object]) -> None:
    handler, cfg = smtp
    [number] = find_numbers(SBX, {"delivered"}, {"attempt", "delay", "exception"})
    s = tw.ship(session, number, promised=dt.date(2030, 1, 1))
    session.commit()
    clock = Clock()
    story = tw.at_step(number, "label", dt.timedelta(minutes=30))
    rep = poller.run_cycle(tw.engine, tw.settings, clock=clock, smtp=cfg)  # type: ignore[arg-type]
    s = reload(session, s)
    assert rep.shipments == 1 and rep.requests == 1 and s.status == "label_created" and s.poll_outcome == "ok"
    wait = s.next_poll_at - clock.now  # type: ignore[operator]
    assert dt.timedelta(minutes=324) <= wait <= dt.timedelta(minutes=396)  # a new label: every 6 h (+-10%)
    assert not handler.messages
    # a restart finds nothing due until then
    assert poller.run_cycle(tw.engine, tw.settings, clock=clock).shipments == 0

    tw.at_step(number, "depart")
    clock.forward(hours=7)
    rep = poller.run_cycle(tw.engine, tw.settings, clock=clock, smtp=cfg)  # type: ignore[arg-type]
    s = reload(session, s)
    assert s.status == "in_transit" and rep.changed == 1 and rep.mail_sent == 1
    assert session.get(SalesOrder, s.sales_order_id).status == "shipped"  # type: ignore[union-attr]
    [shipped] = handler.messages
    assert shipped["Subject"] == "Your order DAL-SO-000001 has shipped" and shipped["To"] == "orders@buildco.example"
    assert number in shipped.get_payload() and story.eta.strftime("%d %b %Y") in shipped.get_payload()
    wait = s.next_poll_at - clock.now  # type: ignore[operator]
    assert dt.timedelta(minutes=54) <= wait <= dt.timedelta(minutes=66)  # in transit: hourly

    tw.at_step(number, "out")
    clock.forward(hours=2)
    poller.run_cycle(tw.engine, tw.settings, clock=clock)
    s = reload(session, s)
    wait = s.next_poll_at - clock.now  # type: ignore[operator]
    assert s.status == "out_for_delivery" and dt.timedelta(minutes=13) <= wait <= dt.timedelta(minutes=17)

    delivered: list[ev.ShipmentDelivered] = []
    ev.on(ev.ShipmentDelivered, name="test.invoice_release")(lambda _s, e: delivered.append(e))
    try:
        tw.at_step(number, "delivered")
        clock.forward(minutes=20)
        rep = poller.run_cycle(tw.engine, tw.settings, clock=clock, smtp=cfg)  # type: ignore[arg-type]
    finally:
        ev.unregister("test.invoice_release")
    s = reload(session, s)
    assert s.status == "delivered" and s.pod_signed_by == story.signer and s.stopped == "delivered"
    assert s.next_poll_at is None and len(delivered) == 1 and delivered[0].pod
    assert rep.mail_sent == 1 and handler.messages[-1]["Subject"] == "Your order DAL-SO-000001 was delivered"
    assert session.get(SalesOrder, s.sales_order_id).status == "delivered"  # type: ignore[union-attr]
    # delivered with proof: never asked again
    clock.forward(days=1)
    assert poller.run_cycle(tw.engine, tw.settings, clock=clock).shipments == 0
    assert session.scalar(select(func.count()).select_from(TrackingCycle)) == 5


def test_batches_of_the_carriers_size_and_a_daily_quota(tw: TrackWorld, session: Session) -> None:
    for n in range(1, 36):
        tw.ship(session, SBX.format(n), status="in_transit")
    dhl = [f"{3000000000 + n:010d}" for n in range(1, 4)]
    for n in dhl:
        tw.ship(session, n, carrier="DHL", status="in_transit")
    ac.save_account(session, tw.world.actors["root"], carrier_code="DHL", account_number="DHL-DAL", endpoint="sandbox",
                    branch_id=tw.world.dal.id, account_id=tw.accounts["DHL"].id, daily_quota=2, requests_per_minute=6000)
    session.commit()
    tw.at(dt.datetime.now(dt.UTC))
    before = dict(tw.sandbox.state.counts)
    rep = poller.run_cycle(tw.engine, tw.settings)
    counts = {k: v - before.get(k, 0) for k, v in tw.sandbox.state.counts.items()}
    by = {a.label: a for a in rep.accounts}
    assert by[tw.accounts["SANDBOX"].label].requests == 2  # 35 numbers, 30 a request
    assert counts.get("dhl.track") == 2 and by[tw.accounts["DHL"].label].outcomes["rate_limited"] == 1
    session.commit()
    session.expire_all()
    limited = session.scalar(select(Shipment).where(Shipment.poll_outcome == "rate_limited"))
    assert limited is not None and limited.tracking_number in dhl
    midnight = dt.datetime.combine(dt.datetime.now(dt.UTC).date() + dt.timedelta(days=1), dt.time(0), dt.UTC)
    assert limited.next_poll_at is not None and limited.next_poll_at >= midnight - dt.timedelta(seconds=5)
    assert "quota" in limited.poll_message or "budget" in limited.poll_message


FAULTS = [("garbage", "malformed"), ("html", "malformed"), ("html502", "transient"), ("truncated", None),
          ("500", "transient"), ("429", "rate_limited")]


@pytest.mark.parametrize(("fault", "outcome"), FAULTS)
def test_each_carrier_failure_is_an_outcome_with_a_next_poll_and_nothing_stored(
        tw: TrackWorld, session: Session, fault: str, outcome: str | None) -> None:
    s = tw.ship(session, SBX.format(1), status="in_transit")
    session.commit()
    tw.at(dt.datetime.now(dt.UTC))
    tw.sandbox.force_faults(fault, fault)  # the adapter's one retry of a dropped connection meets it too
    clock = Clock()
    rep = poller.run_cycle(tw.engine, tw.settings, clock=clock)
    s = reload(session, s)
    got = s.poll_outcome
    assert got == outcome if outcome else got in ("malformed", "transient")
    assert rep.outcomes == {got: 1} and s.poll_message and "Traceback" not in s.poll_message
    assert session.scalar(select(func.count()).select_from(TrackingEvent)) == 0
    assert s.next_poll_at is not None and s.next_poll_at > clock.now
    if got == "rate_limited":
        assert s.next_poll_at >= clock.now + dt.timedelta(seconds=2)  # the carrier's Retry-After
    else:
        assert s.next_poll_at == clock.now + dt.timedelta(minutes=5) and s.poll_failures == 1
    with tw.sandbox.state.lock:
        tw.sandbox.state.forced.clear()
    tw.sandbox.state.buckets.clear()
    rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: clock.now + dt.timedelta(minutes=6), force=True,
                           shipments=[s.id])
    s = reload(session, s)
    assert rep.outcomes == {"ok": 1} and s.poll_failures == 0 and s.poll_message == ""


def test_a_connection_reset_and_a_token_expired_mid_run(tw: TrackWorld, session: Session) -> None:
    numbers = [UPS.format(n) for n in range(1, 7)]
    for n in numbers:
        tw.ship(session, n, carrier="UPS", status="in_transit")
    session.commit()
    tw.at(dt.datetime.now(dt.UTC))
    ids = [tw.shipments[n].id for n in numbers]
    rep = poller.run_cycle(tw.engine, tw.settings)
    assert rep.requests >= 6 and rep.outcomes.get("ok", 0) + rep.outcomes.get("not_found", 0) == 6
    requests.post(f"{tw.sandbox.url}/sandbox/expire-tokens", timeout=5)  # every token dies mid-run
    rep = poller.run_cycle(tw.engine, tw.settings, force=True, shipments=ids)
    assert rep.outcomes.get("ok", 0) + rep.outcomes.get("not_found", 0) == 6  # a new token, nothing lost
    tw.sandbox.force_faults("reset", "reset")  # two requests in a row are reset
    rep = poller.run_cycle(tw.engine, tw.settings, force=True, shipments=ids)
    failed = rep.outcomes["transient"]
    assert 1 <= failed <= 2 and rep.outcomes.get("ok", 0) + rep.outcomes.get("not_found", 0) == 6 - failed
    assert rep.problems == []  # a failed request or two is not an account problem: the pass went on
    assert session.scalar(select(func.count()).select_from(ExceptionItem).where(ExceptionItem.kind == "tracking.account")) == 0


def test_refused_credentials_stop_the_account_with_a_case_for_the_admin(tw: TrackWorld, session: Session) -> None:
    tw.settings.set_secret(ac.secret_name(tw.accounts["UPS"].id), "not-the-secret")
    s = tw.ship(session, UPS.format(7), carrier="UPS", status="in_transit")
    session.commit()
    clock = Clock()
    rep = poller.run_cycle(tw.engine, tw.settings, clock=clock)
    s = reload(session, s)
    assert s.poll_outcome == "auth_failed" and s.next_poll_at == clock.now + dt.timedelta(hours=1)
    assert any("refused the credentials" in p for p in rep.problems)
    case = session.scalar(select(ExceptionItem).where(ExceptionItem.kind == "tracking.account"))
    assert case is not None and case.role == "admin" and "Settings > Carriers" in case.detail
    assert "not-the-secret" not in case.detail and "not-the-secret" not in s.poll_message


def test_the_sandbox_killed_mid_cycle_and_restarted_resumes_without_doubles(tw: TrackWorld, session: Session) -> None:
    numbers = [UPS.format(n) for n in range(10, 40)]
    for n in numbers:
        tw.ship(session, n, carrier="UPS", status="in_transit")
    # a real pace: 10 requests at once, then 10 a second (so the carrier dies half way)
    ac.save_account(session, tw.world.actors["root"], carrier_code="UPS", account_number="UPS-DAL", endpoint="sandbox",
                    branch_id=tw.world.dal.id, account_id=tw.accounts["UPS"].id, requests_per_minute=600)
    session.commit()
    epoch = dt.datetime.now(dt.UTC) - dt.timedelta(days=1)
    carrier = SandboxProcess(epoch)
    ac.set_sandbox_url(carrier.url)
    try:
        killer = threading.Thread(target=_kill_after, args=(carrier, 12))
        killer.start()
        clock = Clock()
        rep = poller.run_cycle(tw.engine, tw.settings, clock=clock)
        killer.join()
    finally:
        carrier.stop()
    answered = rep.outcomes.get("ok", 0) + rep.outcomes.get("not_found", 0)
    assert rep.shipments == 30 and answered >= 8 and rep.outcomes["transient"] >= 10, rep.outcomes
    assert any("transient" in p for p in rep.problems)  # three failures in a row stopped the pass
    session.commit()
    first = session.scalar(select(func.count()).select_from(TrackingEvent))
    # the carrier is back (a new process, the same world): the failed ones are due after their back-off
    again = SandboxProcess(epoch)
    ac.set_sandbox_url(again.url)
    try:
        rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: clock.now + dt.timedelta(minutes=6))
        assert rep.shipments == 30 - answered and rep.outcomes.get("transient", 0) == 0, rep.outcomes
        rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: clock.now + dt.timedelta(hours=2), force=True,
                               shipments=[tw.shipments[n].id for n in numbers])
        assert rep.new_events == 0 and rep.outcomes.get("transient", 0) == 0  # everything stored exactly once
    finally:
        again.stop()
    session.commit()
    total = session.scalar(select(func.count()).select_from(TrackingEvent))
    distinct = session.scalar(select(func.count(func.distinct(
        TrackingEvent.tracking_number + "|" + TrackingEvent.raw_code + "|" + func.coalesce(TrackingEvent.at, "")))))
    assert total == distinct and first is not None and total > first


def _kill_after(carrier: SandboxProcess, n: int) -> None:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        try:
            if carrier.calls("ups.track") >= n:
                break
        except requests.RequestException:
            break
        time.sleep(0.02)
    carrier.kill()


def test_an_unknown_number_is_asked_again_slowly_then_goes_stale(tw: TrackWorld, session: Session) -> None:
    unknown = next(SBX.format(n) for n in range(1, 500) if tw.sandbox.state.world.story(SBX.format(n)) is None)
    s = tw.ship(session, unknown, status="in_transit")
    session.commit()
    clock = Clock()
    poller.run_cycle(tw.engine, tw.settings, clock=clock)
    s = reload(session, s)
    assert s.poll_outcome == "not_found" and s.next_poll_at is not None
    assert dt.timedelta(minutes=100) <= s.next_poll_at - clock.now <= dt.timedelta(minutes=140)
    clock.forward(days=5, minutes=1)
    poller.run_cycle(tw.engine, tw.settings, clock=clock)
    s = reload(session, s)
    assert s.stopped == "stale" and s.next_poll_at is None
    assert session.scalar(select(ExceptionItem.kind).where(ExceptionItem.entity_id == s.id)) == "tracking.stale"


def test_a_next_poll_written_by_a_clock_far_ahead_is_polled_now(tw: TrackWorld, session: Session) -> None:
    clock = Clock()
    s = tw.ship(session, SBX.format(2), status="in_transit")
    s.next_poll_at = clock.now + dt.timedelta(hours=40)  # another workstation's clock was a day and more ahead
    near = tw.ship(session, SBX.format(3), status="in_transit")
    near.next_poll_at = clock.now + dt.timedelta(hours=2)
    session.commit()
    tw.at(dt.datetime.now(dt.UTC))
    rep = poller.run_cycle(tw.engine, tw.settings, clock=clock)
    assert rep.shipments == 1 and reload(session, s).polled_at == clock.now
    assert reload(session, near).polled_at is None


def test_a_shipment_of_a_branch_without_an_account_is_named_not_polled(tw: TrackWorld, session: Session) -> None:
    ac.delete_account(session, tw.world.actors["root"], tw.accounts["UPS"].id)
    s = tw.ship(session, UPS.format(3), carrier="UPS", status="in_transit")
    session.commit()
    rep = poller.run_cycle(tw.engine, tw.settings)
    assert rep.problems == ["DAL has no active UPS account: 1 shipment not polled (Settings > Carriers)"]
    s = reload(session, s)
    assert s.poll_outcome == "no_account" and s.next_poll_at is not None
    assert poller.run_cycle(tw.engine, tw.settings).problems == []  # not again until it is due


def test_a_carrier_that_cannot_be_reached_is_named_in_the_cycle(tw: TrackWorld, session: Session) -> None:
    import socket

    s = tw.ship(session, SBX.format(2), status="in_transit")
    session.commit()
    with socket.socket() as sock:  # a port nobody listens on: the sandbox is not running
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ac.set_sandbox_url(f"http://127.0.0.1:{port}")
    rep = poller.run_cycle(tw.engine, tw.settings, clock=Clock())
    s = reload(session, s)
    assert rep.outcomes == {"transient": 1} and s.poll_failures == 1
    assert "connection refused" in s.poll_message
    # its one request (the token's: fewer than the three that stop a pass) failed at connect and
    # nothing was answered: the cycle says the carrier could not be reached, not "0 requests"
    assert [p for p in rep.problems if "connection refused" in p and p.startswith(
        "SANDBOX SAN-DAL: could not be reached: 1 request sent, none answered")], rep.problems
    assert rep.line() == ("the carrier could not be reached: SANDBOX SAN-DAL (1 request, no answer); 1 shipment not "
                          "polled, asked again after a back-off; 1 problem")
    assert rep.to_dict()["unreachable"] == ["SANDBOX SAN-DAL"]
