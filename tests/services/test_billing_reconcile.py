"""The invoicing queue's safety net: a delivered shipment whose queued follow-up was lost (the
workstation that saw the delivery died for good) is found and queued by the reconcile round,
once; young deliveries, queued ones and decided invoices are left alone; of two workstations
only the tracking lease's holder queues, so a shipment is never invoiced twice. Real SQLite
files (two copies of one branch database for the two workstations)."""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.billing import BillingDue, Invoice
from app.models.exceptions import ExceptionItem
from app.models.ids import uuid7
from app.models.receivables import ReceivableEntry
from app.models.sales import SalesOrderLine
from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent, TrackingLease, event_id_for
from app.services.billing import reconcile, settle
from app.services.db import open_database, session_scope, site_id
from app.services.events import ShipmentPickedUp, emit
from app.services.tracking import lease
from tests.factories import become_branch_site
from tests.services.billing_helpers import billed_customer, deliver, people, rates, settled, ship
from tests.tracking_world import TrackWorld

DELIVERED = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)  # ``deliver``'s proof of delivery
LATER = DELIVERED + dt.timedelta(hours=5)


def _seen(session: Session, *ships: Shipment) -> None:
    """The carrier's delivery event stored by tracking (what queued the invoice before the queue was lost)."""
    for sh in ships:
        session.add(TrackingEvent(id=event_id_for("SANDBOX", sh.number, "DL", sh.delivered_at),
                                  shipment_id=sh.id, carrier_id=sh.carrier_id, tracking_number=sh.tracking_number,
                                  at=sh.delivered_at, event_status="delivered", raw_code="DL", description="Delivered",
                                  seen_at=sh.delivered_at, owner_branch_id=sh.owner_branch_id, created_at=DELIVERED))
    session.flush()


def _delivered(session: Session, sh: Shipment) -> Shipment:
    """``sh`` delivered, and its delivery event stored by tracking."""
    deliver(session, sh)
    _seen(session, sh)
    return sh


def _invoices(session: Session, sh: Shipment) -> list[Invoice]:
    return list(session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id, Invoice.kind == "invoice")))


def test_a_delivery_whose_queue_row_was_lost_is_queued_once_and_invoiced_once(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "LOSTCO")
    # delivered, its billing_due row gone with the workstation that saw it
    lost = _delivered(session, ship(session, world, p["clara"], cust, {"WIDGET": 2}))
    pending = ship(session, world, p["clara"], cust, {"WIDGET": 1})
    emit(session, ShipmentPickedUp(None, shipment=pending, event=None))
    settled(session)  # made pending at the pickup; its delivery's row was lost
    _delivered(session, pending)
    queued = _delivered(session, ship(session, world, p["clara"], cust, {"WIDGET": 3}))
    by_hand = ship(session, world, p["clara"], cust, {"WIDGET": 1})
    deliver(session, by_hand)  # delivered with no carrier event (history, closed by hand): never queued, not caught
    session.add(BillingDue(shipment_id=queued.id, step="delivered", day=dt.date(2026, 12, 3), created_at=LATER))
    session.flush()
    assert [i.status for i in _invoices(session, pending)] == ["pending"]

    # a delivery younger than the grace period is still the seeing workstation's business
    assert reconcile.reconcile(session, DELIVERED + dt.timedelta(minutes=10)).queued == 0
    # later: the lost one and the one still pending are queued; the queued one is not queued twice
    assert reconcile.reconcile(session, LATER).queued == 2
    assert sorted((r.shipment_id, r.step, r.day) for r in session.scalars(select(BillingDue))) == sorted(
        (s.id, "delivered", dt.date(2026, 12, 3)) for s in (lost, pending, queued))
    assert reconcile.reconcile(session, LATER).queued == 0  # run again: nothing new
    done = settled(session)
    assert (done.shipments, done.made, done.released) == (3, 2, 3)
    for sh in (lost, pending, queued):
        (inv,) = _invoices(session, sh)
        assert inv.status == "released" and inv.pod_ref.startswith("signed by J. SMITH")
        assert session.scalar(select(func.count()).select_from(ReceivableEntry).where(
            ReceivableEntry.doc_number == inv.number)) == 1
    # invoiced now: later rounds pick nothing, and nothing is invoiced twice
    assert reconcile.reconcile(session, LATER + dt.timedelta(hours=1)).queued == 0
    assert settled(session).made == 0
    assert sum(len(_invoices(session, s)) for s in (lost, pending, queued)) == 3


def test_cancelled_and_old_and_unordered_shipments_are_left_alone(session: Session, world) -> None:  # type: ignore[no-untyped-def]
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "LEAVECO")
    cancelled = ship(session, world, p["clara"], cust, {"WIDGET": 1})
    emit(session, ShipmentPickedUp(None, shipment=cancelled, event=None))
    settled(session)
    (inv,) = _invoices(session, cancelled)
    inv.status = "cancelled"  # a clerk decided this shipment is not billed
    _delivered(session, cancelled)
    old = _delivered(session, ship(session, world, p["clara"], cust, {"WIDGET": 1}))
    loose = _delivered(session, ship(session, world, p["clara"], cust, {"WIDGET": 1}))
    loose.sales_order_id = None  # nothing to bill it on
    session.flush()
    assert reconcile.reconcile(session, DELIVERED + reconcile.LOOKBACK + dt.timedelta(hours=1)).queued == 0
    n = reconcile.reconcile(session, LATER).queued
    assert n == 1 and [r.shipment_id for r in session.scalars(select(BillingDue))] == [old.id]


def test_a_shipment_with_nothing_to_bill_or_refused_is_queued_again_only_once_it_could_settle(
        session: Session, world) -> None:  # type: ignore[no-untyped-def]
    p = people(session, world)
    cust = billed_customer(session, "NORATE")  # its zone has no tax rate yet
    refused = ship(session, world, p["clara"], cust, {"WIDGET": 2})
    deliver(session, refused)
    nothing = ship(session, world, p["clara"], cust, {"WIDGET": 1}, shipped={})  # shipped no units
    deliver(session, nothing)
    _seen(session, refused, nothing)

    def cases() -> list[ExceptionItem]:
        return list(session.scalars(select(ExceptionItem).where(ExceptionItem.kind == "billing.invoice")))

    # the refused one is queued once, so the clerks hear of it; nothing to bill: not queued at all
    found = reconcile.reconcile(session, LATER)
    assert found.queued == 1
    assert found.left == 1
    assert [r.shipment_id for r in session.scalars(select(BillingDue))] == [refused.id]
    assert settled(session).refused == 1
    (case,) = cases()
    assert case.status == "open" and "no tax rate" in case.detail
    # every hour after: nothing changed that could let either settle, so nothing is queued again
    # (it was: both, every hour for 14 days, and the same case raised again each time)
    for hours in (1, 2, 3):
        again = reconcile.reconcile(session, LATER + dt.timedelta(hours=hours))
        assert again.queued == 0
        assert again.left == 2
        assert "2 with nothing left to bill" in again.line()
        assert session.scalar(select(func.count()).select_from(BillingDue)) == 0
    assert [c.id for c in cases()] == [case.id]
    # the tax rate is set: the refused one is queued and invoiced
    rates(session)
    assert reconcile.reconcile(session, LATER + dt.timedelta(hours=4)).queued == 1
    done = settled(session)
    assert (done.made, done.released, done.refused) == (1, 1, 0)
    assert [i.status for i in _invoices(session, refused)] == ["released"]
    # units of the other shipment become billable (shipped after all): it is queued and invoiced
    for ln in session.scalars(select(SalesOrderLine).where(SalesOrderLine.order_id == nothing.sales_order_id)):
        ln.qty_shipped = 1
    session.flush()
    assert reconcile.reconcile(session, LATER + dt.timedelta(hours=5)).queued == 1
    assert settled(session).made == 1
    assert reconcile.reconcile(session, LATER + dt.timedelta(hours=6)).queued == 0
    assert [c.id for c in cases()] == [case.id]


def _workstation(src: Path, dst: Path) -> Engine:
    """A second workstation of the branch: the same rows (as replication made them), its own site id."""
    dst.unlink(missing_ok=True)
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as conn:
        a.backup(conn)  # with what the first still holds in its WAL
    conn = sqlite3.connect(dst)
    conn.execute("UPDATE local_site SET site_id = ?", (uuid7(),))
    conn.commit()
    conn.close()
    return open_database(dst)


def _round(engine: Engine) -> tuple[int, int]:
    """The reconcile job's round on one workstation: (queued, invoices made by the settle after it)."""
    with session_scope(engine) as s:
        queued = reconcile.reconcile(s, LATER).queued
    return queued, settle.run(engine).made


def _count(engine: Engine, ids: list) -> int:  # type: ignore[type-arg]
    with session_scope(engine, write=False) as s:
        return int(s.scalar(select(func.count()).select_from(Invoice).where(Invoice.shipment_id.in_(ids))) or 0)


def test_of_two_workstations_only_the_lease_holder_queues_and_the_other_invoices_nothing_twice(
        db_path: Path, tw: TrackWorld, session: Session, tmp_path: Path) -> None:
    w = tw.world
    p = people(session, w)
    rates(session)
    cust = billed_customer(session, "TWOWS")
    ships = [ship(session, w, p["clara"], cust, {"WIDGET": n + 1}) for n in range(3)]
    for sh in ships:
        deliver(session, sh)  # the queue rows died with workstation 1's disk, before their settlement
    _seen(session, *ships)
    session.commit()
    ids = [s.id for s in ships]
    become_branch_site(tw.engine, w.dal)
    session.info.pop("ownership", None)
    acct = tw.accounts["SANDBOX"].id
    ws1_site = site_id(session)
    session.add(TrackingLease(id=lease.lease_id(acct), account_id=acct, owner_branch_id=w.dal.id,
                              holder_site=ws1_site, holder_name="DAL workstation 1", claimed_at=DELIVERED,
                              renewed_at=DELIVERED))
    session.commit()
    ws2 = _workstation(db_path, tmp_path / "ws2.db")
    try:
        # workstation 2 does not hold the lease: it queues nothing while workstation 1 holds it
        with session_scope(ws2, write=False) as s:
            assert s.get(TrackingLease, lease.lease_id(acct)) is not None and s.get(Shipment, ids[0]) is not None
        assert _round(ws2) == (0, 0)
        # workstation 1 (the holder) queues and invoices them; a second round does nothing
        assert _round(tw.engine) == (3, 3)
        assert _round(tw.engine) == (0, 0)
        assert _count(tw.engine, ids) == 3
        # workstation 1 is lost after its invoices reached the others; workstation 2 takes the lease
        ws2.dispose()
        ws2 = _workstation(db_path, tmp_path / "ws2.db")
        with session_scope(ws2) as s:
            row = s.get(TrackingLease, lease.lease_id(acct))
            assert row is not None
            row.holder_site, row.holder_name = site_id(s), "DAL workstation 2"
        assert _round(ws2) == (0, 0)  # invoiced already: nothing queued, nothing invoiced twice
        assert _count(ws2, ids) == 3
        with session_scope(ws2, write=False) as s:
            assert s.scalar(select(func.count()).select_from(BillingDue)) == 0
    finally:
        ws2.dispose()


def test_the_new_lease_holder_invoices_what_the_lost_workstation_left_queued(
        db_path: Path, tw: TrackWorld, session: Session, tmp_path: Path) -> None:
    w = tw.world
    p = people(session, w)
    rates(session)
    cust = billed_customer(session, "TAKEOVER")
    ships = [ship(session, w, p["clara"], cust, {"WIDGET": 1}) for _ in range(2)]
    for sh in ships:
        deliver(session, sh)
    _seen(session, *ships)
    session.commit()
    become_branch_site(tw.engine, w.dal)
    acct = tw.accounts["SANDBOX"].id
    session.add(TrackingLease(id=lease.lease_id(acct), account_id=acct, owner_branch_id=w.dal.id,
                              holder_site="0" * 32, holder_name="DAL workstation 1 (lost)", claimed_at=DELIVERED,
                              renewed_at=DELIVERED))
    session.commit()
    ws2 = _workstation(db_path, tmp_path / "ws2.db")
    try:
        assert _round(ws2) == (0, 0)  # the lost one still holds it
        with session_scope(ws2) as s:  # the lease taken over (lease.decide, after the holder's silence)
            row = s.get(TrackingLease, lease.lease_id(acct))
            assert row is not None
            row.holder_site, row.holder_name = site_id(s), "DAL workstation 2"
        # the headless workstation's scheduled task (the window runs the same as its hourly job)
        env = {**os.environ, "DEPOT_CONFIG_DIR": str(tmp_path / "cfg")}
        cli = [sys.executable, "-m", "app", "--db", str(tmp_path / "ws2.db"), "invoice", "reconcile", "--json"]
        done = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=120)
        assert done.returncode == 0, done.stderr
        out = json.loads(done.stdout)
        assert (out["queued"], out["settled"]["made"], out["settled"]["released"]) == (2, 2, 2)
        assert _round(ws2) == (0, 0)
        assert _count(ws2, [s.id for s in ships]) == 2
        again = subprocess.run(cli, capture_output=True, text=True, env=env, timeout=120)
        assert again.returncode == 0 and json.loads(again.stdout)["queued"] == 0, again.stderr
    finally:
        ws2.dispose()
