"""Two Dallas workstations and carrier tracking through the real server: one polls an account's
shipments (its lease replicates); the other takes over when the first has gone silent, measured
on its own clock; the silent one, back online, stops; the customer hears of each event once.

Real PostgreSQL, real SQLite files, the real carrier sandbox over HTTP, a real SMTP server. Time
on our side is injected (the cycles' clock, and the sync history's times where a test says that a
sync happened later), since a lease is minutes long."""

from __future__ import annotations

import datetime as dt
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from app.models.messaging import EmailOutbox
from app.models.parties import Carrier, CarrierService, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.sync import SyncHistory
from app.services import mail
from app.services.carriers import accounts as ac
from app.services.carriers.sandbox.server import Sandbox
from app.services.settings import Settings
from app.services.tracking.poll_report import CycleReport
from app.services.tracking.poller import run_cycle
from tests.sync.conftest import Net, Site, quiesce
from tests.tracking_world import find_numbers


@pytest.fixture
def dal2(net: Net, template_db: Path, tmp_path: Path) -> Iterator[Site]:
    path = tmp_path / "dal2.db"
    shutil.copy(template_db, path)
    site = Site(path, net.dal.dsn)
    site.sync()
    yield site
    site.close()


class Clock:
    def __init__(self) -> None:
        self.now = dt.datetime.now(dt.UTC).replace(microsecond=0)

    def __call__(self) -> dt.datetime:
        return self.now


def _synced_at(site: Site, when: dt.datetime) -> None:
    """A real sync, recorded as if it happened at ``when`` (the lease compares its own clock only)."""
    site.sync()
    with site.session() as s:
        s.add(SyncHistory(started_at=when, ok=1))
        s.commit()


def _cycle(site: Site, settings: Settings, clock: Clock, cfg: mail.SmtpConfig) -> CycleReport:
    return run_cycle(site.engine, settings, clock=clock, smtp=cfg)


def test_one_workstation_polls_another_takes_over_and_each_notice_goes_once(
        net: Net, dal2: Site, smtp: Any, tmp_path: Path) -> None:
    handler, cfg = smtp
    w = net.world
    with net.hq.session() as s:  # carriers are head office's master data
        c = Carrier(code="SANDBOX", name="Depot carrier sandbox", api="sandbox", owner_branch_id=w.ho.id)
        s.add(c)
        s.flush()
        s.add(CarrierService(carrier_id=c.id, code="GROUND", name="Ground", owner_branch_id=w.ho.id))
        s.commit()
        carrier_id = c.id
    net.hq.sync()
    net.dal.sync()
    [number] = find_numbers("SBX{:012d}", {"delivered"}, {"attempt", "delay", "exception"}, start=400)
    with net.dal.session() as s:  # the account and the shipment are Dallas's documents
        ac.save_account(s, w.actors["root"], carrier_code="SANDBOX", account_number="SANDBOX-DAL",
                        endpoint="sandbox", branch_id=w.dal.id, requests_per_minute=6000)
        so = SalesOrder(number="DAL-SO-000001", customer_id=w.customer.id, warehouse_id=w.wh_dal.id, status="packed",
                        order_date=dt.date(2026, 12, 1), owner_branch_id=w.dal.id)
        s.add(so)
        s.flush()
        ship = Shipment(number="DAL-SH-000001", sales_order_id=so.id, warehouse_id=w.wh_dal.id, carrier_id=carrier_id,
                        tracking_number=number, status="label_created", promised_date=dt.date(2030, 1, 1),
                        owner_branch_id=w.dal.id)
        s.add(ship)
        s.commit()
        ship_id = ship.id
    with net.hq.session() as s:
        cust = s.get(Customer, w.customer.id)
        assert cust is not None
        cust.contact_email = "orders@buildco.example"
        s.commit()
    quiesce(net.hq, net.dal, dal2)
    settings = Settings(tmp_path / "settings.json")
    clock = Clock()
    with Sandbox(speed=1.0) as sb:
        ac.set_sandbox_url(sb.url)
        world = sb.state.world
        story = world.story(number)
        assert story is not None
        first = {st.kind: st.at for st in story.steps}
        world.started_real -= (first["depart"] + dt.timedelta(minutes=5) - world.now()).total_seconds()
        try:
            # workstation 1 claims the lease; only once the server has the claim does it poll
            r = _cycle(net.dal, settings, clock, cfg)
            assert r.shipments == 0 and "taking over" in " ".join(r.leases.values())
            net.dal.sync()
            r = _cycle(net.dal, settings, clock, cfg)
            assert r.shipments == 1 and r.outcomes == {"ok": 1} and r.status_changes == 1
            assert r.notices == 0  # the pickup must reach the server before the customer hears of it
            net.dal.sync()
            clock.now += dt.timedelta(minutes=1)
            r = _cycle(net.dal, settings, clock, cfg)
            assert r.notices == 1 and r.mail_sent == 1
            net.dal.sync()
            # workstation 2 sees the lease and polls nothing
            dal2.sync()
            r = _cycle(dal2, settings, clock, cfg)
            assert r.shipments == 0 and any("polled by DAL workstation 1" in t for t in r.leases.values())
            # workstation 1 falls silent (cut off). The parcel is delivered; workstation 1 still
            # polls (it holds the lease as far as it knows), but its notice waits for the server
            world.started_real -= (first["delivered"] + dt.timedelta(minutes=5) - world.now()).total_seconds()
            silent_from = clock.now
            clock.now = silent_from + dt.timedelta(minutes=65)  # its next hourly poll
            r = _cycle(net.dal, settings, clock, cfg)
            assert r.status_changes == 1 and r.notices == 0 and r.mail_sent == 0
            # workstation 2 keeps syncing: after 15 minutes without a change of the lease it claims
            for minutes in (5, 12, 17):
                _synced_at(dal2, silent_from + dt.timedelta(minutes=minutes))
                clock.now = silent_from + dt.timedelta(minutes=minutes, seconds=30)
                r = _cycle(dal2, settings, clock, cfg)
                assert r.shipments == 0
            assert "taking over" in " ".join(r.leases.values())
            _synced_at(dal2, silent_from + dt.timedelta(minutes=18))
            clock.now = silent_from + dt.timedelta(minutes=18, seconds=30)
            r = _cycle(dal2, settings, clock, cfg)  # holds it now: polls everything of the account once
            assert r.shipments == 1 and r.status_changes == 1 and r.notices == 0
            _synced_at(dal2, silent_from + dt.timedelta(minutes=19))
            clock.now = silent_from + dt.timedelta(minutes=19, seconds=30)
            r = _cycle(dal2, settings, clock, cfg)
            assert r.notices == 1 and r.mail_sent == 1
            dal2.sync()
            # workstation 1 comes back: its events meet the same rows, it learns of the new holder,
            # and its waiting notice is never sent
            net.dal.sync()
            clock.now = silent_from + dt.timedelta(minutes=130)
            r = _cycle(net.dal, settings, clock, cfg)
            assert r.shipments == 0 and r.mail_sent == 0
            assert any("polled by DAL workstation 2" in t for t in r.leases.values())
        finally:
            ac.set_sandbox_url(None)
    quiesce(net.hq, net.dal, dal2, net.hou)
    assert [m["Subject"] for m in handler.messages] == ["Your order DAL-SO-000001 has shipped",
                                                         "Your order DAL-SO-000001 was delivered"]
    for site in (net.dal, dal2, net.hq):
        with site.session() as s:
            assert s.scalar(select(Shipment.status).where(Shipment.id == ship_id)) == "delivered"
            assert s.scalar(select(SalesOrder.status).where(SalesOrder.number == "DAL-SO-000001")) == "delivered"
            assert sorted(s.scalars(select(EmailOutbox.status))) == ["sent", "sent"]
        assert site.scalar("SELECT count(*) FROM tracking_event") == net.dal.scalar("SELECT count(*) FROM tracking_event")
