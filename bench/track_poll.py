"""One poll cycle over N in-transit shipments against the carrier sandbox, with rate limits on;
and a delivery that becomes a released invoice and a sent customer notice in one cycle (the bench makes
its own delivery: a sandbox parcel on a seed shipment, the in-process sandbox's clock just after it).

    depot bench track_poll [--shipments 5000] [--per-minute 600] [--db FILE | --keep FILE]
    depot bench track_poll --delivery

Without --db a demo seed is made in a temp folder and N shipments are added to it (spread over the
carriers as the large seed does: the sandbox carrier twice as often as UPS, FedEx, DHL, USPS, each
on its branch's account, against the branches' sales orders); with --db a copy of FILE is polled
(a large seed carries 5,000 shipments in transit; ``--keep FILE`` saves the seeded file for A/B runs
with ``--db``). Every account gets ``--per-minute`` requests a
minute (the seed's accounts: 600; DHL also its daily quota). The sandbox runs in its own process
(``depot carrier-sandbox``, its world begun two days ago, so parcels are mid-story), so the CPU
figure is the poller's alone: plan, HTTP, parsing, storing events, follow-ups, notices.
Figures: wall time, CPU per shipment (target under 2 ms), requests, outcomes, events, notices.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import requests


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_sandbox(epoch: dt.datetime, speed: float = 60.0) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "app", "carrier-sandbox", "--port", str(port), "--speed", str(speed),
                             "--epoch", epoch.isoformat()], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90  # a process start takes seconds on a loaded machine (10 s was too short at load 35)
    while time.monotonic() < deadline:
        try:
            requests.get(f"{url}/sandbox/status", timeout=1)
            return proc, url
        except requests.ConnectionError:
            if proc.poll() is not None:
                break
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("the carrier sandbox did not start")


NUMBER = {"SANDBOX": "SBX{:012d}", "UPS": "1ZDEP0010{:09d}", "FEDEX": "{:012d}", "DHL": "{:010d}",
          "USPS": "9400{:018d}"}
OFFSET = {"SANDBOX": 0, "UPS": 0, "FEDEX": 700_000_000_000, "DHL": 3_000_000_000, "USPS": 0}


def add_shipments(path: Path, n: int) -> None:
    """N in-transit shipments on the seed's warehouses, carriers and sales orders, read and written
    through the models (every id, time and date stored as the application stores it)."""
    from sqlalchemy import insert, select

    from app.models.ids import uuid7
    from app.models.org import Branch, Warehouse
    from app.models.parties import Carrier
    from app.models.sales import SalesOrder
    from app.models.shipping import Shipment
    from app.services.db import make_engine, session_scope

    engine = make_engine(path)
    try:
        with session_scope(engine) as s:
            carriers = dict(s.execute(select(Carrier.code, Carrier.id)).all())
            whs = s.execute(select(Warehouse.id, Warehouse.branch_id, Branch.code).join(Branch, Branch.id == Warehouse.branch_id)
                            .where(Branch.is_head_office.is_(False)).order_by(Warehouse.code)).all()
            orders = {wid: list(s.scalars(select(SalesOrder.id).where(SalesOrder.warehouse_id == wid).limit(20000)))
                      for wid, _b, _c in whs}
            mix = ["SANDBOX", "SANDBOX", "UPS", "FEDEX", "DHL", "USPS"]
            now = dt.datetime.now(dt.UTC)
            rows = []
            for i in range(1, n + 1):
                wid, bid, code = whs[i % len(whs)]
                carrier = mix[i % len(mix)]
                shipped = now - dt.timedelta(days=1 + i % 3)
                rows.append({"id": uuid7(), "owner_branch_id": bid, "created_at": now, "updated_at": now,
                             "number": f"{code}-SHB-{i:06d}", "sales_order_id": orders[wid][i % len(orders[wid])],
                             "warehouse_id": wid, "carrier_id": carriers[carrier],
                             "tracking_number": NUMBER[carrier].format(OFFSET[carrier] + 500_000 + i),
                             "status": "in_transit", "shipped_at": shipped, "next_poll_at": now - dt.timedelta(minutes=1),
                             "promised_date": (shipped + dt.timedelta(days=5)).date(), "moved_at": shipped})
            s.execute(insert(Shipment.__table__), rows)
    finally:
        engine.dispose()


def seeded(path: Path, db: str | None, shipments: int, keep: str | None = None) -> None:
    """``path`` as a copy of ``db``, or a new demo file with ``shipments`` more (saved to ``keep``):
    seeding takes longer than the figure, so A/B runs start from one saved file."""
    if db:
        print(f"copying {db} ...", flush=True)
        shutil.copyfile(db, path)
        return
    from app.services.seed import seed_database

    print(f"seeding a demo database and adding {shipments:,} shipments ...", flush=True)
    seed_database(path, size="demo")
    add_shipments(path, shipments)
    if keep:
        shutil.copyfile(path, keep)


def prepare(args: argparse.Namespace, work: Path) -> Path:
    path = work / "track.db"
    seeded(path, args.db, args.shipments, args.keep)
    from sqlalchemy import func, select, update

    from app.models.carriers import CarrierAccount
    from app.models.shipping import Shipment
    from app.services.db import make_engine, session_scope

    now = dt.datetime.now(dt.UTC)
    engine = make_engine(path)
    try:
        with session_scope(engine) as s:  # through the models: times bound in the form they are stored
            open_ = Shipment.status.not_in(("delivered", "returned", "cancelled"))
            s.execute(update(Shipment).where(open_).values(next_poll_at=now - dt.timedelta(minutes=1), stopped="")
                      .execution_options(synchronize_session=False))
            s.execute(update(CarrierAccount).values(requests_per_minute=args.per_minute, endpoint="sandbox")
                      .execution_options(synchronize_session=False))
            s.connection().exec_driver_sql("DELETE FROM carrier_limit_state")
            s.connection().exec_driver_sql("DELETE FROM tracking_policy")  # the default cadence, not the demo's
            s.connection().exec_driver_sql("UPDATE sync_capture SET enabled = 1")
        with session_scope(engine) as s:
            due = s.scalar(select(func.count()).select_from(Shipment).where(Shipment.next_poll_at <= now))
    finally:
        engine.dispose()
    print(f"{due:,} shipments due", flush=True)
    return path


def cycle(args: argparse.Namespace) -> int:
    from app.services.db import open_database
    from app.services.settings import Settings
    from app.services.tracking.poller import run_cycle

    with tempfile.TemporaryDirectory(prefix="depot-track-") as tmp:
        work = Path(tmp)
        path = prepare(args, work)
        proc, url = start_sandbox(dt.datetime.now(dt.UTC) - dt.timedelta(days=2))
        os.environ["DEPOT_CARRIER_SANDBOX"] = url
        engine = open_database(path)
        try:
            settings = Settings(work / "settings.json")
            rep = run_cycle(engine, settings, limit=args.shipments + 1000)
        finally:
            engine.dispose()
            proc.terminate()
            proc.wait(10)
    n = rep.shipments
    print(f"one poll cycle over {n:,} shipments: {rep.wall_s:.1f} s wall, {rep.cpu_s:.2f} s CPU = "
          f"{rep.cpu_s * 1000 / max(n, 1):.2f} ms CPU a shipment ({rep.wall_s * 1000 / max(n, 1):.1f} ms wall); "
          f"{rep.requests:,} requests at {args.per_minute:,} a minute an account")
    print("  outcomes: " + ", ".join(f"{k} {v:,}" for k, v in sorted(rep.outcomes.items())))
    print(f"  {rep.new_events:,} new events, {rep.status_changes:,} status changes, {rep.notices:,} notices queued")
    for p in rep.problems:
        print(f"  problem: {p}")
    return 0


def _make_delivery(engine: Any, world: Any) -> tuple[Any, str]:
    """The bench's own delivery: a sandbox number whose story ends delivered with a signature (in
    the past), put on one of the seed's in-transit shipments with an order to invoice, and the
    sandbox's clock set two minutes after that delivery. (Deliveries fall in the world's working
    hours, so waiting for one "a minute ago" at the real time of day failed in the evening.)
    Returns (shipment id, tracking number)."""
    from sqlalchemy import select, update

    from app.models.parties import Carrier
    from app.models.shipping import Shipment
    from app.services.db import session_scope

    now = dt.datetime.now(dt.UTC)
    for i in range(1, 2000):
        number = NUMBER["SANDBOX"].format(900_000 + i)
        st = world.story(number)
        if st is not None and st.steps[-1].kind == "delivered" and st.signer and \
                st.steps[-1].at <= now - dt.timedelta(minutes=5):
            break
    else:
        raise RuntimeError("the sandbox tells no delivered story for the numbers tried")
    when = st.steps[-1].at + dt.timedelta(minutes=2)  # the sandbox's clock: just after the delivery
    world.started_real = time.time() - (when - world.started).total_seconds() / world.speed
    with session_scope(engine) as s:
        carrier = s.scalar(select(Carrier.id).where(Carrier.code == "SANDBOX"))
        sid = s.scalar(select(Shipment.id).where(Shipment.status == "in_transit", Shipment.sales_order_id.is_not(None),
                                                 Shipment.deleted_at.is_(None)).order_by(Shipment.number).limit(1))
        if carrier is None or sid is None:
            raise RuntimeError("the demo seed has no sandbox carrier or no shipment in transit with an order")
        s.execute(update(Shipment).where(Shipment.id == sid).values(
            carrier_id=carrier, account_id=None, tracking_number=number, stopped="", last_event_at=None))
    return sid, number


def delivery(_args: argparse.Namespace) -> int:
    """A parcel delivered two minutes ago (on the sandbox's clock): from the start of the cycle to the customer's SMTP server."""

    from app.services import events, mail
    from app.services.carriers.sandbox.server import Sandbox
    from app.services.db import open_database
    from app.services.seed import seed_database
    from app.services.settings import Settings
    from app.services.tracking.poller import run_cycle
    from tests.smtp_server import Handler, LoopbackController

    with tempfile.TemporaryDirectory(prefix="depot-track-") as tmp:
        path = Path(tmp) / "demo.db"
        seed_database(path, size="demo")
        engine = open_database(path)
        sandbox = Sandbox(speed=1.0).start()  # in this process: the bench sets its clock
        sid, number = _make_delivery(engine, sandbox.state.world)
        os.environ["DEPOT_CARRIER_SANDBOX"] = sandbox.url
        handler = Handler()
        ctl = LoopbackController(handler)
        ctl.start()
        marks: dict[str, float] = {}
        events.on(events.ShipmentDelivered, name="bench.invoice_release")(
            lambda _s, e: marks.setdefault("delivered", time.perf_counter()))
        orig = handler.handle_DATA

        async def received(*a: Any) -> str:
            marks.setdefault("mail", time.perf_counter())
            return await orig(*a)

        handler.handle_DATA = received  # type: ignore[method-assign,assignment]
        from dataclasses import replace

        from app.services import jobs, wiring

        wiring.load()
        settle_job = jobs.get("billing.settle")

        def settled(engine: Any, settings: Any) -> Any:
            done = settle_job.run(engine, settings)
            if done is not None and done.released:
                marks.setdefault("invoice", time.perf_counter())
            return done

        jobs.register(replace(settle_job, run=settled))
        try:
            settings = Settings(Path(tmp) / "settings.json")
            cfg = mail.SmtpConfig(host="127.0.0.1", port=ctl.port, sender="tracking@depot.example", timeout=5)
            t0 = time.perf_counter()
            rep = run_cycle(engine, settings, shipments=[sid], force=True, smtp=cfg)
            t1 = time.perf_counter()
        finally:
            jobs.register(settle_job)
            events.unregister("bench.invoice_release")
            ctl.stop()
            sandbox.stop()
            engine.dispose()
    if "delivered" not in marks or "mail" not in marks:
        print(f"the delivery did not come through: {rep.to_dict()}")
        return 1
    invoice = (f"its invoice released by the billing job that ends the cycle {(marks['invoice'] - t0) * 1000:.0f} ms"
               if "invoice" in marks else "no invoice released (nothing billable on it)")
    print(f"delivery of {number} seen, the delivery event raised {(marks['delivered'] - t0) * 1000:.0f} ms, {invoice}, and "
          f"the customer's notice accepted by SMTP {(marks['mail'] - t0) * 1000:.0f} ms after the cycle began "
          f"(one cycle, {(t1 - t0) * 1000:.0f} ms; {rep.mail_sent} e-mail: {handler.messages[0]['Subject']!r})")
    return 0


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench track_poll")
    ap.add_argument("--shipments", type=int, default=5000)
    ap.add_argument("--per-minute", type=int, default=600, help="each account's request budget (the seed's: 600)")
    ap.add_argument("--db", type=Path, default=None, help="poll a copy of this database (a large seed)")
    ap.add_argument("--keep", default=None, help="save the seeded file here (before polling) for A/B runs with --db")
    ap.add_argument("--delivery", action="store_true", help="the delivery-to-notice figure instead")
    args = ap.parse_args(argv)
    return delivery(args) if args.delivery else cycle(args)
