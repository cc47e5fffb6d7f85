"""One workstation of a branch polls an account's shipments; another takes over when it has been
silent too long; notices wait for the server. A replicating workstation file whose syncs (and the
other workstation's writes, applied as a pull does) are simulated here; tests/sync/test_tracking_
workstations.py runs the same through a real PostgreSQL server."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.models.sync import SyncHistory
from app.models.tracking import TrackingLease, TrackingNoticeDue
from app.services import mail
from app.services.carriers.model import Outcome, TrackEvent, TrackResult
from app.services.tracking import lease, poller
from tests.factories import become_branch_site
from tests.tracking_world import TrackWorld

NOW = dt.datetime(2026, 12, 5, 9, 0, tzinfo=dt.UTC)


def at(minutes: float) -> dt.datetime:
    return NOW + dt.timedelta(minutes=minutes)


def synced(session: Session, when: dt.datetime) -> None:
    """A sync that reached the server at ``when``: what it pushed left the outbox."""
    session.add(SyncHistory(started_at=when, ok=1))
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()


def accounts(tw: TrackWorld) -> dict:  # type: ignore[type-arg]
    return {a.id: tw.world.dal.id for a in tw.accounts.values()}


def decide(session: Session, tw: TrackWorld, now: dt.datetime) -> dict[str, str]:
    states = lease.decide(session, accounts(tw), now, {a.id: 15 for a in tw.accounts.values()})
    session.commit()
    code = {a.id: c for c, a in tw.accounts.items()}
    return {code[a]: st.state for a, st in states.items()}


def other_holder(session: Session, tw: TrackWorld, when: dt.datetime, *, renewed: dt.datetime | None = None) -> None:
    """Another workstation's claim (or heartbeat) of the sandbox account, as a pull applies it."""
    acct = tw.accounts["SANDBOX"].id
    session.execute(text("UPDATE sync_capture SET enabled = 0 WHERE id = 1"))
    row = session.get(TrackingLease, lease.lease_id(acct))
    if row is None:
        row = TrackingLease(id=lease.lease_id(acct), account_id=acct, owner_branch_id=tw.world.dal.id)
        session.add(row)
    row.holder_site, row.holder_name = "0" * 32, "DAL workstation 2"
    row.claimed_at, row.renewed_at = when, renewed or when
    session.info["apply_remote"] = True
    row.hlc = int(when.timestamp() * 1000) << 16
    session.flush()
    session.info.pop("apply_remote")
    session.execute(text("UPDATE sync_capture SET enabled = 1 WHERE id = 1"))
    session.commit()


def test_a_standalone_file_polls_everything_and_writes_no_lease(tw: TrackWorld, session: Session) -> None:
    assert set(decide(session, tw, NOW).values()) == {"standalone"}
    assert session.scalar(select(func.count()).select_from(TrackingLease)) == 0


def test_a_claim_is_polled_on_only_once_the_server_has_it_then_renewed(tw: TrackWorld, session: Session) -> None:
    become_branch_site(tw.engine, tw.world.dal)
    assert set(decide(session, tw, NOW).values()) == {"offline"}  # never synced: it cannot know the others
    synced(session, at(0))
    assert set(decide(session, tw, at(1)).values()) == {"claimed"}
    assert set(decide(session, tw, at(2)).values()) == {"claimed"}  # the claim is still in the outbox
    synced(session, at(2.5))
    assert set(decide(session, tw, at(3)).values()) == {"held"}
    row = session.get(TrackingLease, lease.lease_id(tw.accounts["UPS"].id))
    assert row is not None and row.holder_name.startswith("DAL workstation") and row.renewed_at == at(1)
    decide(session, tw, at(5))
    session.refresh(row)
    assert row.renewed_at == at(1)  # not yet a third of the lease
    decide(session, tw, at(7))
    session.refresh(row)
    assert row.renewed_at == at(7)  # the heartbeat the others watch
    # cut off from the server, the holder keeps polling (notices wait: see below)
    assert set(decide(session, tw, at(60)).values()) == {"held"}


def test_a_silent_holder_is_taken_over_measured_on_this_workstations_own_clock(tw: TrackWorld, session: Session) -> None:
    become_branch_site(tw.engine, tw.world.dal)
    other_holder(session, tw, at(0))
    synced(session, at(0))
    assert decide(session, tw, at(1))["SANDBOX"] == "other"
    # the holder's clock is an hour ahead: its heartbeat says 10:15; what counts is that the row
    # changed, seen here at 09:10
    other_holder(session, tw, at(9), renewed=at(75))
    synced(session, at(9.5))
    assert decide(session, tw, at(10))["SANDBOX"] == "other"
    for minute in (13, 18, 23):
        synced(session, at(minute))
        assert decide(session, tw, at(minute + 1))["SANDBOX"] == "other"
    synced(session, at(25.5))
    assert decide(session, tw, at(26))["SANDBOX"] == "claimed"  # 16 minutes without a change
    row = session.get(TrackingLease, lease.lease_id(tw.accounts["SANDBOX"].id))
    assert row is not None and row.holder_name.startswith("DAL workstation")
    synced(session, at(27))
    assert decide(session, tw, at(28))["SANDBOX"] == "held"


def test_no_takeover_without_a_view_of_the_others(tw: TrackWorld, session: Session) -> None:
    become_branch_site(tw.engine, tw.world.dal)
    other_holder(session, tw, at(0))
    synced(session, at(0))
    assert decide(session, tw, at(1))["SANDBOX"] == "other"
    # this workstation lost the server: the holder may be renewing all along; no claim
    assert decide(session, tw, at(40))["SANDBOX"] == "other"
    row = session.get(TrackingLease, lease.lease_id(tw.accounts["SANDBOX"].id))
    assert row is not None and row.holder_name == "DAL workstation 2"
    # back online: its pull brings the holder's heartbeat of 09:30, so the holder is alive
    other_holder(session, tw, at(30))
    synced(session, at(41))
    assert decide(session, tw, at(42))["SANDBOX"] == "other"
    # had the server still held the 09:00 row, 41 minutes of silence would be real: it claims
    synced(session, at(58))
    assert decide(session, tw, at(59))["SANDBOX"] == "claimed"


def test_a_second_workstation_waits_longer_before_claiming(tw: TrackWorld, session: Session) -> None:
    become_branch_site(tw.engine, tw.world.dal)
    session.execute(text("INSERT INTO sync_state (key, value) VALUES ('workstation', '2')"))
    session.commit()
    other_holder(session, tw, at(0))
    synced(session, at(0))
    decide(session, tw, at(1))
    synced(session, at(16.5))
    assert decide(session, tw, at(17))["SANDBOX"] == "other"  # workstation 1 would claim now
    synced(session, at(18.5))
    assert decide(session, tw, at(19))["SANDBOX"] == "claimed"


def test_notices_wait_for_the_server_and_the_lease(tw: TrackWorld, session: Session, smtp) -> None:  # noqa: ANN001
    handler, cfg = smtp
    s = tw.ship(session, "SBX000000000301", status="label_created")
    session.commit()
    become_branch_site(tw.engine, tw.world.dal)
    synced(session, at(0))
    decide(session, tw, at(1))
    synced(session, at(2))
    assert decide(session, tw, at(3))["SANDBOX"] == "held"
    events = [TrackEvent(at(-600), "label_created", "OC", "Label"), TrackEvent(at(-400), "picked_up", "PU", "Picked up")]
    p = poller.Plan(at(4), held={a.id for a in tw.accounts.values()})
    info = tw.accounts["SANDBOX"]
    work = poller.Work(info.id, info.label, info, "SANDBOX", {s.tracking_number: s.id})
    reply = poller.TrackReply(Outcome.OK, shipments=[TrackResult(s.tracking_number, Outcome.OK, "picked_up", events=events)])
    rep = poller.apply(session, p, poller.Fetched(work, reply, 1, 0.0), at(4))
    session.commit()
    assert rep.notices == 0  # the pickup is not on the server yet: another workstation could not see it
    assert session.scalar(select(func.count()).select_from(TrackingNoticeDue)) == 1
    synced(session, at(5))
    plan = poller.plan(session, at(6))
    session.commit()
    assert plan.notices == 1 and session.scalar(select(func.count()).select_from(EmailOutbox)) == 1
    assert poller.plan(session, at(7)).notices == 0  # once
    session.commit()
    sent = mail.send_due(session, cfg)
    session.commit()
    assert sent.sent == 1 and handler.messages[0]["Subject"] == "Your order DAL-SO-000001 has shipped"


def test_poll_now_on_a_workstation_that_does_not_hold_the_lease_asks_nobody(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000302", status="in_transit")
    session.commit()
    become_branch_site(tw.engine, tw.world.dal)
    other_holder(session, tw, dt.datetime.now(dt.UTC))
    synced(session, dt.datetime.now(dt.UTC))
    rep = poller.run_cycle(tw.engine, tw.settings, shipments=[s.id], force=True)
    assert rep.shipments == 0 and rep.requests == 0
    assert any("polled by DAL workstation 2" in line for line in rep.leases.values())
