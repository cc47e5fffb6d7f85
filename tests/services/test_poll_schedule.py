"""A poll that learns nothing new is not a change to send: only what the carrier told (events,
status, ETA, proof of delivery, polling stopped) goes to the sync outbox, not the polling
workstation's schedule. Walked: a demo file never connected, its carrier sandbox not running, grew by
42 outbox rows (every shipment in transit) each poll cycle; with the sandbox running, 35 a cycle of
"0 new events, 0 changed status" (migration 0028_poll_schedule)."""

from __future__ import annotations

import datetime as dt
import socket
import sqlite3
from pathlib import Path

from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.registry import tables
from app.models.shipping import POLL_SCHEDULE, Shipment
from app.services.carriers import accounts as ac
from app.services.tracking import poller
from tests.tracking_world import TrackWorld, find_numbers

SBX = "SBX{:012d}"
UPS = "1ZDEP0010{:09d}"


def _outbox(session: Session) -> list[tuple[str, str]]:
    session.commit()
    return [(str(t), str(op)) for t, op in session.execute(text("SELECT tbl, op FROM sync_outbox ORDER BY seq"))]


def _sent(session: Session) -> None:
    """A sync pushed everything (what a push does to the outbox)."""
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()


def _version(session: Session, s: Shipment) -> tuple[object, ...]:
    session.commit()  # a fresh read: what the cycle's own Sessions committed
    session.expire_all()
    got = session.get(Shipment, s.id)
    assert got is not None
    return got.hlc, got.updated_at, got.polled_at, got.poll_outcome, got.poll_failures, got.status


def test_a_poll_sends_what_the_carrier_told_not_the_schedule(tw: TrackWorld, session: Session) -> None:
    [number] = find_numbers(SBX, {"depart"}, {"exception"})
    s = tw.ship(session, number)
    session.commit()
    _sent(session)
    now = dt.datetime.now(dt.UTC).replace(microsecond=0)
    tw.at_step(number, "depart")
    rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: now, shipments=[s.id], force=True)
    assert rep.new_events >= 1
    hlc, updated, polled, outcome, _fail, status = _version(session, s)
    assert status == "in_transit" and polled == now and outcome == "ok"
    assert ("shipment", "U") in _outbox(session) and ("tracking_event", "I") in _outbox(session)  # news: sent
    _sent(session)

    # asked again, nothing new: the schedule moves on here, the shipment is no new version
    later = now + dt.timedelta(hours=1)
    rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda: later, shipments=[s.id], force=True)
    assert rep.shipments == 1 and rep.new_events == 0
    assert _version(session, s) == (hlc, updated, later, "ok", 0, "in_transit")
    assert _outbox(session) == []

    # the carrier cannot be reached: counted and retried here, nothing to send either
    with socket.socket() as sock:  # a port nobody listens on
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    ac.set_sandbox_url(f"http://127.0.0.1:{port}")
    for n in (1, 2, 3):
        at = later + dt.timedelta(hours=n)
        poller.run_cycle(tw.engine, tw.settings, clock=lambda at=at: at, shipments=[s.id], force=True)  # type: ignore[misc]
        assert _version(session, s) == (hlc, updated, at, "transient", n, "in_transit")
    assert _outbox(session) == []


def test_a_shipment_without_an_account_is_not_sent_each_cycle(tw: TrackWorld, session: Session) -> None:
    ac.delete_account(session, tw.world.actors["root"], tw.accounts["UPS"].id)
    s = tw.ship(session, UPS.format(3), carrier="UPS", status="in_transit")
    session.commit()
    _sent(session)
    before = _version(session, s)
    rep = poller.run_cycle(tw.engine, tw.settings)
    assert rep.problems == ["DAL has no active UPS account: 1 shipment not polled (Settings > Carriers)"]
    after = _version(session, s)
    assert after[3] == "no_account" and after[:2] == before[:2]
    assert _outbox(session) == []


def test_a_flush_of_the_schedule_only_is_no_new_version(tw: TrackWorld, session: Session) -> None:
    """Any other write path (a flush) keeps the rule, and a real change is still sent with it."""
    s = tw.ship(session, SBX.format(5), status="in_transit")
    session.commit()
    _sent(session)
    hlc, updated, *_ = _version(session, s)
    s.next_poll_at = dt.datetime(2030, 1, 1, tzinfo=dt.UTC)
    s.poll_failures = 4
    session.commit()
    assert _version(session, s)[:2] == (hlc, updated) and _outbox(session) == []
    s.flag = "customer asked to hold at depot"
    session.commit()
    assert _version(session, s)[0] != hlc and _outbox(session) == [("shipment", "U")]


def test_the_capture_trigger_compares_every_column_but_the_schedule(db_path: Path) -> None:
    """A column added to shipment later must be compared too (recreate the trigger in its migration)."""
    conn = sqlite3.connect(db_path)
    sql = conn.execute("SELECT sql FROM sqlite_master WHERE name = 'trg_shipment_cap_u'").fetchone()[0]
    conn.close()
    spec = tables()["shipment"]
    assert spec.local_columns == POLL_SCHEDULE
    assert not [c for c in spec.columns if c not in POLL_SCHEDULE and f'OLD."{c}" IS NOT NEW."{c}"' not in sql]
    assert not [c for c in POLL_SCHEDULE if f'OLD."{c}"' in sql]
