"""The invoicing queue: a carrier event queues its follow-up in the tracking transaction, the billing
job settles the queue in batches (one numbering call a branch, numbers without gaps), an event seen
twice or a settlement run twice invoices nothing twice, and a process killed half way through a
batch loses nothing (a real process, SIGKILL)."""

from __future__ import annotations

import datetime as dt
import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.billing import BillingDue, Invoice
from app.models.docs_common import AuditEntry
from app.models.exceptions import ExceptionItem
from app.models.receivables import ReceivableEntry
from app.models.shipping import Shipment
from app.services.billing import settle, tax
from app.services.events import PodReceived, ShipmentDelivered, ShipmentPickedUp, emit
from tests.factories import World
from tests.services.billing_helpers import billed_customer, deliver, people, rates, settled, ship

POD_AT = dt.datetime(2026, 12, 3, 14, 5, tzinfo=dt.UTC)


def _deliver(session: Session, sh: Shipment) -> None:
    if sh.status != "delivered":
        deliver(session, sh)
    emit(session, ShipmentDelivered(None, shipment=sh, event=None, at=sh.pod_at, pod=True))
    emit(session, PodReceived(None, shipment=sh, event=None, signed_by=sh.pod_signed_by, at=sh.pod_at))


def _numbers(session: Session) -> list[str]:
    return sorted(session.scalars(select(Invoice.number).where(Invoice.kind == "invoice")))


def test_deliveries_are_queued_then_invoiced_in_one_batch_with_numbers_in_a_row(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    tax.set_item_tax_class(session, world.items["BOLT"].id, "nocode")  # no rate for it: refused, with a case
    pod = billed_customer(session, "PODCO")
    shipco = billed_customer(session, "SHIPCO", on="shipment")
    ships = [ship(session, world, p["clara"], pod, {"WIDGET": 2}) for _ in range(3)]
    bad = ship(session, world, p["clara"], pod, {"BOLT": 1})
    early = ship(session, world, p["clara"], shipco, {"WIDGET": 1})
    for sh in [*ships, bad]:
        _deliver(session, sh)
    emit(session, ShipmentPickedUp(None, shipment=early, event=None))
    # the tracking transaction queued the follow-ups and invoiced nothing: a delivery and its POD are one row
    assert session.scalar(select(func.count()).select_from(Invoice)) == 0
    assert sorted((r.shipment_id, r.step) for r in session.scalars(select(BillingDue))) == sorted(
        [(s.id, "delivered") for s in [*ships, bad]] + [(early.id, "shipped")])
    done = settled(session)
    assert (done.shipments, done.made, done.released, done.refused) == (5, 4, 4, 1)
    # one numbering call: the invoices made got the numbers in a row, the refused one took none
    assert _numbers(session) == [f"DAL-INV-00000{n}" for n in range(1, 5)]
    for sh in ships:
        inv = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
        assert (inv.status, inv.invoice_date, inv.pod_ref) == (
            "released", dt.date(2026, 12, 3), "signed by J. SMITH; delivered 2026-12-03 14:05 UTC; ref POD-7781")
        assert inv.total == inv.subtotal + inv.tax_total and inv.total > 0
        assert [(e.kind, e.amount) for e in session.scalars(select(ReceivableEntry).where(
            ReceivableEntry.doc_number == inv.number))] == [("invoice", inv.total)]
        # the release is audited as a pending invoice's release always was
        assert session.scalar(select(func.count()).select_from(AuditEntry).where(
            AuditEntry.entity_id == inv.id, AuditEntry.action == "invoice.release")) == 1
    (case,) = session.scalars(select(ExceptionItem).where(ExceptionItem.kind == "billing.invoice"))
    assert case.entity_ref == bad.number and "no tax rate for zone STD and tax class nocode" in case.detail
    shipped = session.scalars(select(Invoice).where(Invoice.shipment_id == early.id)).one()
    assert shipped.status == "released" and shipped.pod_ref == ""  # billed on shipment: released at the pickup
    assert session.scalar(select(func.count()).select_from(BillingDue)) == 0


def test_an_event_seen_twice_or_settled_twice_invoices_once(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "TWICE")
    sh = ship(session, world, p["clara"], cust, {"WIDGET": 4})
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))
    assert settled(session).made == 1
    pending = session.scalars(select(Invoice).where(Invoice.shipment_id == sh.id)).one()
    assert pending.status == "pending"
    emit(session, ShipmentPickedUp(None, shipment=sh, event=None))  # another workstation's copy of the event
    assert settled(session).made == 0
    _deliver(session, sh)
    _deliver(session, sh)
    assert session.scalar(select(func.count()).select_from(BillingDue)) == 1
    done = settled(session)
    assert (done.made, done.released) == (0, 1) and pending.status == "released"
    _deliver(session, sh)  # the delivery read again a poll later
    assert (settled(session).made, settled(session).released) == (0, 0)
    assert _numbers(session) == ["DAL-INV-000001"]
    assert session.scalar(select(func.count()).select_from(ReceivableEntry).where(
        ReceivableEntry.doc_number == "DAL-INV-000001")) == 1


def test_two_shipments_of_one_order_in_a_batch_never_bill_the_same_units(session: Session, world: World) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "SPLIT")
    first = ship(session, world, p["clara"], cust, {"WIDGET": 5})
    second = Shipment(number=first.number + "B", sales_order_id=first.sales_order_id, warehouse_id=first.warehouse_id,
                      carrier_id=first.carrier_id, tracking_number="1Z998", status="label_created",
                      shipped_at=first.shipped_at, owner_branch_id=first.owner_branch_id)
    session.add(second)
    session.flush()
    _deliver(session, first)
    _deliver(session, second)
    done = settled(session)
    assert (done.shipments, done.made) == (2, 1)
    (inv,) = session.scalars(select(Invoice))
    assert inv.shipment_id == first.id


def _settle_cli(db: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--db", str(db), "invoice", "settle", "--batch", "2", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)


def test_a_process_killed_mid_batch_loses_nothing_and_invoices_nothing_twice(
        db_path: Path, engine: Engine, session: Session, world: World, tmp_path: Path) -> None:
    p = people(session, world)
    rates(session)
    cust = billed_customer(session, "KILLCO")
    ships = [ship(session, world, p["clara"], cust, {"WIDGET": n + 1}) for n in range(5)]
    for sh in ships:
        _deliver(session, sh)
    session.commit()
    env = {**os.environ, "DEPOT_CONFIG_DIR": str(tmp_path / "cfg")}
    killed = _settle_cli(db_path, {**env, settle.FAULT_ENV: "commit:2"})  # the second batch of two, before its commit
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    session.commit()
    session.expire_all()
    assert _numbers(session) == ["DAL-INV-000001", "DAL-INV-000002"]  # the first batch stands, the second left no trace
    assert session.scalar(select(func.count()).select_from(BillingDue)) == 3
    again = _settle_cli(db_path, env)
    assert again.returncode == 0, again.stderr
    session.commit()
    session.expire_all()
    assert _numbers(session) == [f"DAL-INV-00000{n}" for n in range(1, 6)]  # none lost, none twice, no gap
    assert {i.shipment_id for i in session.scalars(select(Invoice))} == {s.id for s in ships}
    assert session.scalar(select(func.count()).select_from(ReceivableEntry).where(ReceivableEntry.kind == "invoice")) == 5
    assert session.scalar(select(func.count()).select_from(BillingDue)) == 0
    assert _settle_cli(db_path, env).stdout.count('"shipments": 0') == 1
