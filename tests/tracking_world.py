"""Fixtures of the tracking tests (services, views, CLI): the small world plus carriers, Dallas carrier accounts on a real carrier
sandbox (a local HTTP server in a thread), a customer order per shipment, and the sandbox's clock
under the test's control (``TrackWorld.at``)."""

from __future__ import annotations

import datetime as dt
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.parties import Carrier, CarrierService, Customer
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.models.types import utcnow
from app.services.carriers import accounts as ac
from app.services.carriers.model import Outcome, TrackReply, TrackResult
from app.services.carriers.sandbox.server import Sandbox
from app.services.carriers.sandbox.world import Story, World
from app.services.settings import Settings
from app.services.tracking import poll_report, poller
from tests.factories import World as Small

CARRIERS = (("SANDBOX", "Depot carrier sandbox", "sandbox", ("GROUND",)), ("UPS", "United Parcel Service", "ups", ("03",)),
            ("DHL", "DHL eCommerce", "dhl", ("GROUND",)))


def story_of(number: str) -> Story:
    story = World().story(number)
    assert story is not None, f"the sandbox does not know {number}"
    return story


def find_numbers(pattern: str, want: set[str], avoid: set[str] = frozenset(), n: int = 1,  # type: ignore[assignment]
                 start: int = 1) -> list[str]:
    """Numbers (``pattern.format(i)``) whose sandbox story has every step kind in ``want`` and
    none in ``avoid`` ('delivered', 'attempt', 'delay', 'exception', 'returned', ...)."""
    out: list[str] = []
    i = start
    while len(out) < n:
        number = pattern.format(i)
        story = World().story(number)
        if story is not None:
            kinds = {s.kind for s in story.steps}
            if want <= kinds and not (avoid & kinds):
                out.append(number)
        i += 1
        assert i < start + 20_000, f"no story with {want} without {avoid}"
    return out


@dataclass
class TrackWorld:
    engine: Engine
    world: Small
    sandbox: Sandbox
    settings: Settings
    carriers: dict[str, Carrier]
    accounts: dict[str, ac.AccountInfo]
    customer: Customer
    orders: int = 0
    shipments: dict[str, Shipment] = field(default_factory=dict)

    def at(self, when: dt.datetime) -> None:
        """Set the sandbox's clock to ``when`` (its stories stay where they are)."""
        w = self.sandbox.state.world
        w.started_real = time.time() - (when - w.started).total_seconds() / w.speed

    def at_step(self, number: str, kind: str, after: dt.timedelta = dt.timedelta(minutes=1), nth: int = 1) -> Story:
        """The sandbox clock just after the ``nth`` step ``kind`` of ``number``'s story."""
        story = self.sandbox.state.world.story(number)
        assert story is not None
        steps = [s for s in story.steps if s.kind == kind]
        self.at(steps[nth - 1].at + after)
        return story

    def answer(self, session: Session, *results: TrackResult, outcome: Outcome = Outcome.OK,
               now: dt.datetime | None = None, retry_after: float | None = None,
               also: dict[str, uuid.UUID] | None = None, message: str = "") -> poll_report.AccountReport:
        """The poller's apply step for a sandbox-account answer about these shipments (answers
        built as the parsers return them; the network half is tested against the sandbox)."""
        now = now or utcnow()
        ships = {n: self.shipments[n].id for n in (r.tracking_number or "" for r in results) if n in self.shipments}
        ships.update(also or {})
        info = self.accounts["SANDBOX"]
        work = poller.Work(info.id, info.label, info, "SANDBOX", ships)
        reply = TrackReply(outcome, message, retry_after, 200, list(results))
        rep = poller.apply(session, poller.Plan(now), poller.Fetched(work, reply, 1, 0.0), now)
        session.commit()
        session.expire_all()
        return rep

    def ship(self, session: Session, number: str, *, carrier: str = "SANDBOX", status: str = "label_created",
             promised: dt.date | None = None, order_status: str = "packed", customer: Customer | None = None) -> Shipment:
        self.orders += 1
        cust = customer or self.customer
        order = SalesOrder(number=f"DAL-SO-{self.orders:06d}", customer_id=cust.id, warehouse_id=self.world.wh_dal.id,
                           status=order_status, order_date=dt.date(2026, 12, 1), customer_po=f"PO-{self.orders}",
                           owner_branch_id=self.world.dal.id)
        session.add(order)
        session.flush()
        s = Shipment(number=f"DAL-SH-{self.orders:06d}", sales_order_id=order.id, warehouse_id=self.world.wh_dal.id,
                     carrier_id=self.carriers[carrier].id, tracking_number=number, status=status,
                     shipped_at=utcnow(), moved_at=utcnow(), promised_date=promised,
                     owner_branch_id=self.world.dal.id)
        session.add(s)
        session.flush()
        self.shipments[number] = s
        return s


@pytest.fixture
def sandbox() -> Iterator[Sandbox]:
    with Sandbox(speed=1.0, seed=11) as sb:
        ac.set_sandbox_url(sb.url)
        try:
            yield sb
        finally:
            ac.set_sandbox_url(None)


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(tmp_path / "settings.json")


@pytest.fixture
def tw(engine: Engine, session: Session, world: Small, sandbox: Sandbox, settings: Settings) -> TrackWorld:
    carriers: dict[str, Carrier] = {}
    for code, name, api, services in CARRIERS:
        c = Carrier(code=code, name=name, api=api, owner_branch_id=world.ho.id)
        session.add(c)
        session.flush()
        carriers[code] = c
        for sv in services:
            session.add(CarrierService(carrier_id=c.id, code=sv, name=sv, owner_branch_id=world.ho.id))
    session.flush()
    infos = {}
    for code, *_ in CARRIERS:
        infos[code] = ac.save_account(session, world.actors["root"], carrier_code=code, account_number=f"{code[:3]}-DAL",
                                      endpoint="sandbox", branch_id=world.dal.id, requests_per_minute=6000)
    customer = session.scalar(select(Customer).where(Customer.code == "BUILDCO"))
    assert customer is not None
    customer.contact_email = "orders@buildco.example"
    session.commit()
    return TrackWorld(engine, world, sandbox, settings, carriers, infos, customer)


class SandboxProcess:
    """``depot carrier-sandbox`` in its own process (killed with SIGKILL like a crashed carrier)."""

    def __init__(self, epoch: dt.datetime, speed: float = 1.0, faults: float = 0.0) -> None:
        import os
        import subprocess
        import sys

        self.proc = subprocess.Popen(
            [sys.executable, "-m", "app", "carrier-sandbox", "--port", "0", "--speed", str(speed),
             "--faults", str(faults), "--epoch", epoch.isoformat()],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=dict(os.environ))
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        assert "carrier sandbox on " in line, line + (self.proc.stderr.read() if self.proc.stderr else "")
        self.url = line.split(" on ", 1)[1].split()[0]

    def calls(self, route: str) -> int:
        """How many requests of one route it has served (``ups.track``, ``fedex.track`` ...)."""
        import requests

        return int(requests.get(f"{self.url}/sandbox/status", timeout=2).json()["by_route"].get(route, 0))

    def kill(self) -> None:
        import signal

        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)
