"""Carrier answers into the event ledger and the shipment: stored once, out of order, the newest
event wins, and each kind of event makes its ERP response (order, exception inbox, notice).

Answers are built as the parsers return them and go through the poller's real ``apply`` step
(the network half is covered against the sandbox in test_poller)."""

from __future__ import annotations

import datetime as dt
import uuid

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.messaging import EmailOutbox
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent, TrackingNoticeDue, event_hex_for, event_hexes_for, event_id_for
from app.models.types import iso_utc
from app.services import events as ev
from app.services.carriers.model import Outcome, ProofOfDelivery, TrackEvent, TrackResult
from app.services.errors import ValidationError
from app.services.tracking import notices, policy, poll_report, poller
from app.services.tracking.ingest import write_shipments
from tests.tracking_world import TrackWorld

T0 = dt.datetime(2026, 12, 1, 8, 0, tzinfo=dt.UTC)
NOW = dt.datetime(2026, 12, 4, 12, 0, tzinfo=dt.UTC)  # after every event of these tests (h(56) is the last)


def h(hours: float) -> dt.datetime:
    return T0 + dt.timedelta(hours=hours)


LABEL = TrackEvent(h(0), "label_created", "OC", "Shipment information sent to FedEx", "DALLAS, TX")
PICKUP = TrackEvent(h(3), "picked_up", "PU", "Picked up", "DALLAS, TX")
DEPART = TrackEvent(h(5), "in_transit", "DP", "Departed FedEx location", "DALLAS, TX")
ARRIVE = TrackEvent(h(20), "in_transit", "AR", "Arrived at FedEx location", "MEMPHIS, TN")
OUT = TrackEvent(h(28), "out_for_delivery", "OD", "On FedEx vehicle for delivery", "ATLANTA, GA")
ATTEMPT = TrackEvent(h(32), "delivery_attempted", "DE", "Delivery exception: customer not available", "ATLANTA, GA")
DAMAGE = TrackEvent(h(21), "exception", "SE", "Shipment exception: package damaged", "MEMPHIS, TN")
DELIVERED = TrackEvent(h(31), "delivered", "DL", "Delivered", "ATLANTA, GA")
RETURNED = TrackEvent(h(40), "returned", "RS", "Returned to shipper", "DALLAS, TX")
POD = ProofOfDelivery("R. CHEN", h(31), "fedex:SIGNATURE_PROOF_OF_DELIVERY")


def result(number: str, *evs: TrackEvent, eta: dt.date | None = None, pod: ProofOfDelivery | None = None) -> TrackResult:
    last = max(evs, key=lambda e: e.at or T0) if evs else None
    return TrackResult(number, Outcome.OK, last.status if last else "unknown", last.raw_code if last else "",
                       last.description if last else "", eta, None, list(evs), pod)


def answer(tw: TrackWorld, session: Session, *results: TrackResult, outcome: Outcome = Outcome.OK,
           now: dt.datetime = NOW, retry_after: float | None = None, also: dict[str, uuid.UUID] | None = None,
           message: str = "") -> poll_report.AccountReport:
    return tw.answer(session, *results, outcome=outcome, now=now, retry_after=retry_after, also=also, message=message)


def events_of(session: Session, s: Shipment) -> list[TrackingEvent]:
    return list(session.scalars(select(TrackingEvent).where(TrackingEvent.shipment_id == s.id)
                                .order_by(TrackingEvent.at)))


def cases(session: Session, kind: str) -> list[ExceptionItem]:
    return list(session.scalars(select(ExceptionItem).where(ExceptionItem.kind == kind)))


def mails(session: Session) -> list[EmailOutbox]:
    return list(session.scalars(select(EmailOutbox).order_by(EmailOutbox.created_at)))


def test_the_same_answer_twice_stores_each_event_once(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000101")
    session.commit()
    first = answer(tw, session, result(s.tracking_number, LABEL, PICKUP, DEPART))
    second = answer(tw, session, result(s.tracking_number, LABEL, PICKUP, DEPART))
    assert (first.new_events, second.new_events) == (3, 0)
    assert len(events_of(session, s)) == 3
    assert session.get(Shipment, s.id).status == "in_transit"  # type: ignore[union-attr]
    # the derived id is the same on every workstation: (carrier, number, raw code, time)
    assert {e.id for e in events_of(session, s)} == {event_id_for("SANDBOX", s.tracking_number, e.raw_code, e.at)
                                                     for e in (LABEL, PICKUP, DEPART)}


def test_status_and_eta_follow_the_newest_event_not_the_newest_poll(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000102", status="in_transit")
    session.commit()
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART, OUT, eta=dt.date(2026, 12, 2)))
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.status, ship.eta_date, ship.last_event_at) == ("out_for_delivery", dt.date(2026, 12, 2), OUT.at)
    # a lagging carrier replica answers later with older news and an older ETA: the older scan is
    # kept in the ledger, the shipment does not go back
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART, ARRIVE, eta=dt.date(2026, 12, 4)))
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.status, ship.eta_date, ship.last_event_at) == ("out_for_delivery", dt.date(2026, 12, 2), OUT.at)
    assert [e.raw_code for e in events_of(session, s)] == ["PU", "DP", "AR", "OD"]
    # events out of order inside one answer are fine too
    answer(tw, session, result(s.tracking_number, DELIVERED, PICKUP, OUT, pod=POD))
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.status == "delivered" and ship.delivered_at == DELIVERED.at
    assert (ship.pod_signed_by, ship.pod_at, ship.stopped, ship.next_poll_at) == ("R. CHEN", POD.at, "delivered", None)


def test_a_revised_eta_without_a_new_scan_is_kept_as_its_own_event(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000103", status="in_transit", promised=dt.date(2026, 12, 5))
    session.commit()
    answer(tw, session, result(s.tracking_number, PICKUP, ARRIVE, eta=dt.date(2026, 12, 3)))
    answer(tw, session, result(s.tracking_number, PICKUP, ARRIVE, eta=dt.date(2026, 12, 4)))
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.eta_date == dt.date(2026, 12, 4)
    revision = [e for e in events_of(session, s) if e.source == "eta"]
    assert len(revision) == 1 and revision[0].raw_code == "ETA 2026-12-04" and revision[0].notice == "eta"
    # answered again: nothing new
    assert answer(tw, session, result(s.tracking_number, PICKUP, ARRIVE, eta=dt.date(2026, 12, 4))).new_events == 0
    assert len(events_of(session, s)) == 3


def test_pickup_ships_the_order_and_queues_one_shipped_notice(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000104", promised=dt.date(2026, 12, 6))
    session.commit()
    seen: list[ev.Event] = []
    ev.on(ev.ShipmentTracked, name="test.seen")(lambda _s, e: seen.append(e))
    try:
        answer(tw, session, result(s.tracking_number, LABEL))
        assert session.get(SalesOrder, s.sales_order_id).status == "packed"  # type: ignore[union-attr]
        assert not mails(session)
        answer(tw, session, result(s.tracking_number, LABEL, PICKUP, eta=dt.date(2026, 12, 4)))
    finally:
        ev.unregister("test.seen")
    assert [type(e).__name__ for e in seen] == ["ShipmentPickedUp", "ShipmentEtaChanged"]
    assert session.get(SalesOrder, s.sales_order_id).status == "shipped"  # type: ignore[union-attr]
    [m] = mails(session)
    pickup = next(e for e in events_of(session, s) if e.raw_code == "PU")
    assert m.id == notices.notice_id(pickup.id, "shipped") and m.to_addr == "orders@buildco.example"
    assert m.subject == "Your order DAL-SO-000001 has shipped"
    assert "SBX000000000104" in m.body and "Fri 04 Dec 2026" in m.body and "Depot carrier sandbox" in m.body
    # the first ETA (within the promise) is no change: no ETA notice; nothing is left to queue
    assert session.scalar(select(func.count()).select_from(TrackingNoticeDue)) == 0
    answer(tw, session, result(s.tracking_number, LABEL, PICKUP, eta=dt.date(2026, 12, 4)))
    assert len(mails(session)) == 1


def test_an_eta_after_the_promise_is_a_case_for_the_account_team_and_a_notice(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000105", status="in_transit", promised=dt.date(2026, 12, 3))
    session.commit()
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART, eta=dt.date(2026, 12, 3)))
    assert not cases(session, "tracking.late") and not mails(session)
    delay = TrackEvent(h(21), "delayed", "DY", "Delay: weather", "MEMPHIS, TN")
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART, delay, eta=dt.date(2026, 12, 4)))
    [case] = cases(session, "tracking.late")
    assert case.role == "clerk" and case.entity_ref == s.number and "promised 2026-12-03" in case.title
    assert "Suggested action" in case.detail
    [m] = mails(session)
    assert m.subject == "New delivery date for your order DAL-SO-000001: Fri 04 Dec 2026"
    assert "before: Thu 03 Dec 2026" in m.body and "Delay: weather" in m.body
    # the same ETA again: no second case, no second notice
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART, delay, eta=dt.date(2026, 12, 4)))
    assert len(cases(session, "tracking.late")) == 1 and len(mails(session)) == 1


def test_failed_attempt_damage_and_return_open_cases_with_a_suggested_action(tw: TrackWorld, session: Session) -> None:
    a = tw.ship(session, "SBX000000000106", status="in_transit")
    b = tw.ship(session, "SBX000000000107", status="in_transit")
    c = tw.ship(session, "SBX000000000108", status="in_transit")
    session.commit()
    answer(tw, session, result(a.tracking_number, PICKUP, OUT, ATTEMPT), result(b.tracking_number, PICKUP, DAMAGE),
           result(c.tracking_number, PICKUP, OUT, ATTEMPT, RETURNED))
    attempts = cases(session, "tracking.attempt")
    assert sorted(x.entity_ref for x in attempts) == [a.number, c.number]
    assert all(x.role == "dispatcher" and "contact the customer" in x.detail for x in attempts)
    [damage] = cases(session, "tracking.exception")
    assert "file a claim" in damage.detail and damage.severity == "error" and damage.entity_ref == b.number
    [ret] = cases(session, "tracking.returned")
    assert ret.entity_ref == c.number and "reship or refund" in ret.detail
    ship_c = session.get(Shipment, c.id)
    assert ship_c is not None and (ship_c.status, ship_c.stopped, ship_c.next_poll_at) == ("returned", "returned", None)
    subjects = sorted(m.subject for m in mails(session))
    assert subjects == ["A problem with the delivery of your order DAL-SO-000001"] * 1 + \
        ["A problem with the delivery of your order DAL-SO-000002"] + \
        ["A problem with the delivery of your order DAL-SO-000003"] * 2  # its attempt, then its return
    # a second failed attempt on another day is a new event: a notice, but the open case stays one
    again = TrackEvent(h(56), "delivery_attempted", "DE", "Delivery exception: business closed", "ATLANTA, GA")
    out2 = TrackEvent(h(52), "out_for_delivery", "OD", "On FedEx vehicle for delivery", "ATLANTA, GA")
    answer(tw, session, result(a.tracking_number, PICKUP, OUT, ATTEMPT, out2, again))
    assert len(cases(session, "tracking.attempt")) == 2
    assert len([m for m in mails(session) if "DAL-SO-000001" in m.subject]) == 2


def test_an_attempt_followed_by_delivery_in_one_answer_needs_nobody(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000109", status="in_transit")
    session.commit()
    later = TrackEvent(h(50), "delivered", "DL", "Delivered", "ATLANTA, GA")
    answer(tw, session, result(s.tracking_number, PICKUP, OUT, ATTEMPT, later, pod=POD))
    assert not cases(session, "tracking.attempt")
    assert [m.subject for m in mails(session)] == ["Your order DAL-SO-000001 was delivered"]


def test_delivery_with_pod_raises_the_invoice_event_and_later_exception_is_flagged(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000110", status="in_transit", order_status="shipped")
    session.commit()
    seen: list[ev.Event] = []
    ev.on(ev.ShipmentDelivered, name="test.delivered")(lambda _s, e: seen.append(e))
    ev.on(ev.PodReceived, name="test.pod")(lambda _s, e: seen.append(e))
    try:
        answer(tw, session, result(s.tracking_number, PICKUP, OUT, DELIVERED, pod=POD))
    finally:
        ev.unregister("test.delivered")
        ev.unregister("test.pod")
    delivered, pod = seen
    assert isinstance(delivered, ev.ShipmentDelivered) and delivered.pod and delivered.at == DELIVERED.at
    assert isinstance(pod, ev.PodReceived) and (pod.signed_by, pod.at) == ("R. CHEN", POD.at)
    assert session.get(SalesOrder, s.sales_order_id).status == "delivered"  # type: ignore[union-attr]
    [m] = mails(session)
    assert m.subject == "Your order DAL-SO-000001 was delivered" and "signed for by R. CHEN" in m.body
    # the carrier reports damage after delivery: the shipment stays delivered, flagged, with a case
    late_damage = TrackEvent(h(45), "exception", "SE", "Shipment exception: damage reported by consignee", "ATLANTA, GA")
    answer(tw, session, result(s.tracking_number, PICKUP, OUT, DELIVERED, late_damage, pod=POD))
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.status == "delivered" and "exception after delivery" in ship.flag
    assert "damage reported by consignee" in ship.flag
    [case] = cases(session, "tracking.after_delivery")
    assert case.role == "dispatcher" and "file a claim" in case.detail
    assert len(mails(session)) == 2


def test_an_event_dated_ahead_of_both_clocks_is_not_used_until_its_time(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000115", status="in_transit", order_status="shipped")
    session.commit()
    # a delivery stamped 30 h after our clock (a local time read as UTC, a typo'd date) with its POD
    ahead = TrackEvent(NOW + dt.timedelta(hours=30), "delivered", "DL", "Delivered", "ATLANTA, GA")
    pod = ProofOfDelivery("R. CHEN", ahead.at, "ref:pod")
    rep = answer(tw, session, result(s.tracking_number, PICKUP, DEPART, ahead, pod=pod))
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.status, ship.last_event_at, ship.pod_signed_by) == ("in_transit", DEPART.at, "")
    assert [e.raw_code for e in events_of(session, ship)] == ["PU", "DP"]  # not stored: asked again
    sentence = ("1 carrier event dated 2026-12-05 18:00 UTC, 30 h ahead of the clock, not used for the status, ETA "
                "or proof of delivery: the carrier's timestamp is wrong (or this computer's clock is); asked again "
                "at the next poll")
    assert ship.poll_message == sentence and rep.notes == [f"{ship.number}: {sentence}"] and rep.future_events == 1
    assert not [m for m in mails(session) if "delivered" in m.subject]
    # the carrier's own clock (its answer's Date) has passed it: a computer running behind refuses nothing
    info = tw.accounts["SANDBOX"]
    work = poller.Work(info.id, info.label, info, "SANDBOX", {s.tracking_number: s.id})
    reply = poller.TrackReply(Outcome.OK, "", None, 200, [result(s.tracking_number, PICKUP, DEPART, ahead, pod=pod)])
    rep = poller.apply(session, poller.Plan(NOW), poller.Fetched(work, reply, 1, 0.0, 1, 1, ahead.at), NOW)
    session.commit()
    session.expire_all()
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.status, ship.pod_signed_by, ship.poll_message) == ("delivered", "R. CHEN", "")
    assert rep.future_events == 0 and [e.raw_code for e in events_of(session, ship)] == ["PU", "DP", "DL"]


def test_a_proof_of_delivery_that_comes_a_poll_later(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000111", status="in_transit")
    session.commit()
    answer(tw, session, result(s.tracking_number, PICKUP, DELIVERED))
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.status == "delivered" and not ship.pod_signed_by
    assert ship.stopped == "" and ship.next_poll_at is not None  # asked again for the proof
    seen: list[ev.Event] = []
    ev.on(ev.PodReceived, name="test.pod")(lambda _s, e: seen.append(e))
    try:
        answer(tw, session, result(s.tracking_number, PICKUP, DELIVERED, pod=POD))
    finally:
        ev.unregister("test.pod")
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.pod_signed_by == "R. CHEN" and ship.stopped == "delivered"
    assert len(seen) == 1 and len(mails(session)) == 1  # one delivered notice, not two


def test_an_answer_for_a_number_nobody_asked_about_is_counted_not_stored(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000112", status="in_transit")
    session.commit()
    rep = answer(tw, session, result(s.tracking_number, PICKUP), result("SBX999999999999", PICKUP, DEPART))
    assert rep.unknown_numbers == 1 and rep.new_events == 1
    assert session.scalar(select(func.count()).select_from(TrackingEvent)) == 1


def test_failures_back_off_and_a_refused_number_stops_with_a_case(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000113", status="in_transit")
    session.commit()
    rep = answer(tw, session, outcome=Outcome.TRANSIENT, message="connection reset", also={s.tracking_number: s.id})
    ship = session.get(Shipment, s.id)
    assert rep.outcomes == {"transient": 1} and ship is not None
    assert (ship.poll_outcome, ship.poll_failures, ship.next_poll_at) == ("transient", 1, NOW + dt.timedelta(minutes=5))
    answer(tw, session, outcome=Outcome.MALFORMED, message="an HTML page", also={s.tracking_number: s.id})
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.poll_failures, ship.next_poll_at) == (2, NOW + dt.timedelta(minutes=10))
    answer(tw, session, outcome=Outcome.RATE_LIMITED, retry_after=90, also={s.tracking_number: s.id})
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.next_poll_at == NOW + dt.timedelta(seconds=90) and ship.poll_failures == 2
    answer(tw, session, TrackResult(s.tracking_number, Outcome.PERMANENT, message="invalid tracking number"))
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.stopped, ship.next_poll_at) == ("invalid", None)
    [case] = cases(session, "tracking.invalid")
    assert "check the tracking number" in case.detail


def test_no_movement_for_n_days_stops_polling_with_a_stale_case(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000114", status="in_transit")
    session.commit()
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART))
    later = NOW + dt.timedelta(days=4, hours=23)
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART), now=later)
    assert not cases(session, "tracking.stale")
    answer(tw, session, result(s.tracking_number, PICKUP, DEPART), now=NOW + dt.timedelta(days=5, minutes=1))
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.stopped, ship.next_poll_at) == ("stale", None)
    [case] = cases(session, "tracking.stale")
    assert "no new event for 5 days" in case.detail and "trace" in case.detail


def test_customer_preferences_address_and_opt_out(tw: TrackWorld, session: Session) -> None:
    root = tw.world.actors["root"]
    with_own = notices.set_preferences(session, root, "BUILDCO", email="tracking@buildco.example",
                                       events=["delivered"])
    session.commit()
    assert with_own.email == "tracking@buildco.example" and with_own.events == ("delivered",)
    a = tw.ship(session, "SBX000000000115", status="label_created")
    session.commit()
    rep = answer(tw, session, result(a.tracking_number, LABEL, PICKUP, DELIVERED, pod=POD))
    [m] = mails(session)
    assert m.to_addr == "tracking@buildco.example" and "delivered" in m.subject
    b = tw.ship(session, "SBX000000000116", status="in_transit")
    notices.set_preferences(session, root, "BUILDCO", events=[])
    session.commit()
    rep = answer(tw, session, result(b.tracking_number, PICKUP, DELIVERED, pod=POD))
    assert len(mails(session)) == 1 and rep.notes == ["DAL-SH-000002 delivered: BUILDCO does not want delivered notices"]
    with pytest.raises(ValidationError, match="notice e-mail: not-an-address is not an e-mail address"):
        notices.set_preferences(session, root, "BUILDCO", email="not-an-address")
    with pytest.raises(ValidationError, match="'sms' is not a notice"):
        notices.set_preferences(session, root, "BUILDCO", events=["sms"])


def test_responses_follow_the_branch_policy(tw: TrackWorld, session: Session) -> None:
    policy.save_policy(session, tw.world.actors["mike"], tw.world.dal.id, order_shipped_on_pickup=False,
                       notice_shipped="no", trouble_cases=False)
    session.commit()
    s = tw.ship(session, "SBX000000000117")
    session.commit()
    answer(tw, session, result(s.tracking_number, LABEL, PICKUP, OUT, ATTEMPT))
    assert session.get(SalesOrder, s.sales_order_id).status == "packed"  # type: ignore[union-attr]
    assert not cases(session, "tracking.attempt")
    assert [m.subject for m in mails(session)] == ["A problem with the delivery of your order DAL-SO-000001"]


def test_event_ids_are_the_uuid5_every_workstation_derived_before() -> None:
    """The fast derivation gives exactly ``uuid.uuid5``'s ids (stored events keep theirs)."""
    from app.models.tracking import _EVENT_NS

    east = dt.timezone(dt.timedelta(hours=-5))
    for at in (dt.datetime(2026, 12, 3, 14, 5, 7, 123456, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 9, 5, 7, tzinfo=east),
               None):
        stamp = at.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S") if at else ""
        want = uuid.uuid5(_EVENT_NS, f"UPS|1Z999AA10123456784|DL|{stamp}")
        got = event_id_for("ups", " 1z999aa10123456784 ", "DL", at)
        assert (got, got.version, got.variant, hash(got), str(got)) == (want, 5, uuid.RFC_4122, hash(want), str(want))
        # the stored form ingest derives from the time's stored text (its first 19 characters: UTC, to the second)
        assert event_hex_for("ups", " 1z999aa10123456784 ", "DL", iso_utc(at)[:19] if at else "") == want.hex
        # and a parcel's events at once (the shared part hashed once), a code of any letters too
        stamp = iso_utc(at)[:19] if at else ""
        assert event_hexes_for("ups", " 1z999aa10123456784 ", [("DL", stamp), ("Zustellung ü", stamp)]) == \
            [want.hex, uuid.uuid5(_EVENT_NS, f"UPS|1Z999AA10123456784|Zustellung ü|{stamp}").hex]


def test_an_event_in_the_carriers_own_zone_is_the_same_event_as_in_utc(tw: TrackWorld, session: Session) -> None:
    """Carriers give local times (UPS, USPS): the id, the stored time and the "stored once" rule go by
    the instant, so the same scan written as 03:00-05:00 and as 08:00 UTC is one event."""
    s = tw.ship(session, "SBX000000000118", status="in_transit")
    session.commit()
    east = dt.timezone(dt.timedelta(hours=-5))
    local = TrackEvent(dt.datetime(2026, 12, 1, 14, 30, 15, 250000, tzinfo=east), "in_transit", "AR", "Arrived", "MEMPHIS, TN")
    in_utc = TrackEvent(dt.datetime(2026, 12, 1, 19, 30, 15, 250000, tzinfo=dt.UTC), "in_transit", "AR", "Arrived",
                        "MEMPHIS, TN")
    assert answer(tw, session, result(s.tracking_number, PICKUP, local)).new_events == 2
    assert answer(tw, session, result(s.tracking_number, PICKUP, in_utc)).new_events == 0
    [_pickup, ev_] = events_of(session, s)
    assert ev_.id == event_id_for("SANDBOX", s.tracking_number, "AR", in_utc.at) and ev_.at == in_utc.at
    # stored as every other time of the file (UTC text to the microsecond), so it sorts with rows the ORM wrote
    raw = session.execute(text("SELECT max(at) FROM tracking_event")).scalar()
    assert raw == "2026-12-01T19:30:15.250000+00:00"
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.last_event_at == in_utc.at


def test_a_status_without_events_is_one_event_stored_once(tw: TrackWorld, session: Session) -> None:
    """Some answers carry only the parcel's status (no scan list, no time): it is kept as one event
    without a time, and the same answer again adds nothing."""
    s = tw.ship(session, "SBX000000000119")
    session.commit()
    bare = TrackResult(s.tracking_number, Outcome.OK, "in_transit", "IT", "In transit", None, None, [], None)
    assert answer(tw, session, bare).new_events == 1
    assert answer(tw, session, bare).new_events == 0
    [only] = events_of(session, s)
    assert (only.at, only.event_status, only.raw_code, only.description) == (None, "in_transit", "IT", "In transit")
    assert only.id == event_id_for("SANDBOX", s.tracking_number, "IT", None)
    assert session.get(Shipment, s.id).status == "in_transit"  # type: ignore[union-attr]


def test_the_carriers_delivery_window_is_kept_on_the_event_and_the_shipment(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000120", status="in_transit", promised=dt.date(2026, 12, 5))
    session.commit()
    start, end = dt.datetime(2026, 12, 3, 14, 0, tzinfo=dt.UTC), dt.datetime(2026, 12, 3, 18, 0, tzinfo=dt.UTC)
    windowed = TrackResult(s.tracking_number, Outcome.OK, "in_transit", "DP", "Departed", dt.date(2026, 12, 3), (start, end),
                           [PICKUP, DEPART], None)
    answer(tw, session, windowed)
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.eta_date, ship.eta) == (dt.date(2026, 12, 3), end)
    anchor = next(e for e in events_of(session, s) if e.raw_code == "DP")
    assert (anchor.eta_date, anchor.eta_end) == (dt.date(2026, 12, 3), end)
    assert [e.eta_date for e in events_of(session, s) if e.raw_code == "PU"] == [None]


def _stored_row(session: Session, s: Shipment) -> dict[str, object]:
    return dict(session.execute(text("SELECT * FROM shipment WHERE number = :n"), {"n": s.number}).mappings().one())


def test_polled_shipments_are_stored_as_the_flush_stores_them(tw: TrackWorld, session: Session,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """apply writes the polled shipments by one executemany of stored values (``write_shipments``):
    read back raw, a shipment is the row the ORM's flush writes for the same answer, with a new
    version and its change captured for replication."""
    a, b = tw.ship(session, "SBX000000000301", promised=dt.date(2026, 12, 6)), \
        tw.ship(session, "SBX000000000302", promised=dt.date(2026, 12, 6))
    session.commit()
    before = {s.tracking_number: _stored_row(session, s) for s in (a, b)}
    session.execute(text("DELETE FROM sync_outbox"))
    session.commit()
    on_way, done = (LABEL, PICKUP, DEPART, ARRIVE, OUT), (LABEL, PICKUP, DEPART, ARRIVE, OUT, DELIVERED)
    written: list[int] = []
    for story, pod in ((on_way, None), (done, POD)):
        with monkeypatch.context() as m:
            m.setattr(poller, "write_shipments", lambda s_, ships: written.append(write_shipments(s_, ships)) or 0)
            answer(tw, session, result(a.tracking_number, *story, eta=dt.date(2026, 12, 3), pod=pod))
        with monkeypatch.context() as m:  # the flush's way, as before
            m.setattr(poller, "write_shipments", lambda _session, _ships: 0)
            answer(tw, session, result(b.tracking_number, *story, eta=dt.date(2026, 12, 3), pod=pod))
    core, orm = _stored_row(session, a), _stored_row(session, b)
    assert written == [1, 1]
    assert core["status"] == "delivered" and core["pod_signed_by"] == "R. CHEN" and core["eta_date"] == "2026-12-03"
    own = {"id", "number", "tracking_number", "sales_order_id", "created_at", "shipped_at", "updated_at", "hlc"}
    assert {k: v for k, v in core.items() if k not in own} == {k: v for k, v in orm.items() if k not in own}
    for row, old in ((core, before[a.tracking_number]), (orm, before[b.tracking_number])):
        assert row["hlc"] > old["hlc"] and str(row["updated_at"]) > str(old["updated_at"])  # type: ignore[operator]
        assert len(str(row["updated_at"])) == len(str(old["updated_at"]))
    captured = session.execute(text("SELECT row_id, op FROM sync_outbox WHERE tbl = 'shipment'")).all()
    assert sorted(captured) == sorted([(a.id.hex, "U"), (b.id.hex, "U")] * 2)


def test_stored_shipments_are_clean_in_the_session_and_a_rollback_undoes_them(tw: TrackWorld, session: Session) -> None:
    s = tw.ship(session, "SBX000000000303")
    session.commit()
    info = tw.accounts["SANDBOX"]
    work = poller.Work(info.id, info.label, info, "SANDBOX", {s.tracking_number: s.id})
    reply = poller.TrackReply(Outcome.OK, "", None, 200, [result(s.tracking_number, LABEL, PICKUP, DEPART)])
    poller.apply(session, poller.Plan(NOW), poller.Fetched(work, reply, 1, 0.0), NOW)
    ship = session.get(Shipment, s.id)
    assert ship is not None and ship.status == "in_transit" and ship not in session.dirty
    assert _stored_row(session, ship)["status"] == "in_transit" and ship.polled_at == NOW
    session.rollback()
    ship = session.get(Shipment, s.id)
    assert ship is not None and (ship.status, ship.polled_at) == ("label_created", None)


def test_an_order_is_delivered_when_its_last_shipment_is_even_if_only_that_one_is_polled(tw: TrackWorld,
                                                                                          session: Session) -> None:
    first = tw.ship(session, "SBX000000000304", status="in_transit", order_status="shipped")
    second = Shipment(number="DAL-SH-000304B", sales_order_id=first.sales_order_id, warehouse_id=first.warehouse_id,
                      carrier_id=first.carrier_id, tracking_number="SBX000000000305", status="in_transit",
                      owner_branch_id=first.owner_branch_id)
    session.add(second)
    session.commit()
    tw.shipments[second.tracking_number] = second
    answer(tw, session, result(first.tracking_number, PICKUP, OUT, DELIVERED, pod=POD))
    assert session.get(SalesOrder, first.sales_order_id).status == "shipped"  # type: ignore[union-attr]
    answer(tw, session, result(second.tracking_number, PICKUP, OUT, DELIVERED, pod=POD))  # the other not polled
    assert session.get(SalesOrder, first.sales_order_id).status == "delivered"  # type: ignore[union-attr]
