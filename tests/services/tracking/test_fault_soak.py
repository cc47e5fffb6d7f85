"""The sandbox's fault mode over many cycles (DEPOT_SLOW=1): garbage JSON, HTML pages, truncated
bodies, resets, slow answers, 429s and 503s on a third of the requests, while parcels move on for
days. Afterwards every shipment ends where its carrier's story ends, each event is stored once, the
shipment follows its newest event, and every customer got each notice exactly once."""

from __future__ import annotations

import datetime as dt
from collections import Counter

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.messaging import EmailOutbox
from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent
from app.services.tracking import poller
from tests.tracking_world import TrackWorld

pytestmark = pytest.mark.slow

NUMBERS = [("SANDBOX", "SBX{:012d}", range(500, 540)), ("UPS", "1ZDEP0010{:09d}", range(500, 515)),
           ("DHL", "{:010d}", range(3000000500, 3000000510))]
FINAL_OF = {"delivered": "delivered", "returned": "returned"}


def test_the_sandbox_fault_mode_over_days_of_cycles(tw: TrackWorld, session: Session, smtp) -> None:  # noqa: ANN001
    handler, cfg = smtp
    stories = {}
    for carrier, pattern, numbers in NUMBERS:
        for n in numbers:
            number = pattern.format(n)
            story = tw.sandbox.state.world.story(number)
            if story is None:
                continue
            stories[number] = story
            tw.ship(session, number, carrier=carrier, status="label_created", promised=dt.date(2030, 1, 1))
    session.commit()
    first = min(s.steps[0].at for s in stories.values())
    last = max(s.steps[-1].at for s in stories.values())
    with tw.sandbox.state.lock:
        tw.sandbox.state.fault_rate = 0.33
        tw.sandbox.state.slow_seconds = 0.3
    outcomes: Counter[str] = Counter()
    now = dt.datetime.now(dt.UTC)
    when = first
    cycles = 0
    while when <= last + dt.timedelta(hours=12):
        tw.at(when)
        rep = poller.run_cycle(tw.engine, tw.settings, clock=lambda t=now: t, smtp=cfg)
        outcomes.update(rep.outcomes)
        now += dt.timedelta(hours=7)  # everything moving is due again
        when += dt.timedelta(hours=7)
        cycles += 1
    assert cycles >= 10 and outcomes["ok"] and (outcomes["transient"] + outcomes["malformed"]) > 10, outcomes
    # faults off: the carriers answer; whatever a fault hid is caught up
    with tw.sandbox.state.lock:
        tw.sandbox.state.fault_rate = 0.0
    for _ in range(3):
        now += dt.timedelta(hours=7)
        poller.run_cycle(tw.engine, tw.settings, clock=lambda t=now: t, smtp=cfg, force=True,
                         shipments=[s.id for s in tw.shipments.values()])
    session.commit()
    session.expire_all()
    ships = {s.tracking_number: s for s in session.scalars(select(Shipment))}
    for number, story in stories.items():
        want = FINAL_OF.get(story.steps[-1].kind)
        assert want is None or ships[number].status == want, (number, story.steps[-1].kind, ships[number].status)
    # each event once, and the shipment follows its newest
    total = session.scalar(select(func.count()).select_from(TrackingEvent))
    distinct = session.scalar(select(func.count(func.distinct(
        TrackingEvent.tracking_number + "|" + TrackingEvent.raw_code + "|" + func.coalesce(TrackingEvent.at, "")))))
    assert total == distinct
    for s in ships.values():
        newest = session.scalar(select(func.max(TrackingEvent.at)).where(TrackingEvent.shipment_id == s.id,
                                                                         TrackingEvent.source != "eta"))
        assert s.last_event_at == newest, s.tracking_number
    # every notice once: one outbox row per (event, kind), each sent once
    rows = session.scalars(select(EmailOutbox)).all()
    delivered = [s for s in ships.values() if s.status == "delivered"]
    assert len([r for r in rows if "was delivered" in r.subject]) == len(delivered)
    assert all(r.status == "sent" for r in rows)
    ids = [m["Message-ID"] for m in handler.messages]
    assert len(ids) == len(set(ids)) == len(rows)
