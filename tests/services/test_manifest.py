"""End-of-day manifests on real rows: the day's confirmed shipments of one carrier, a second
manifest for what was confirmed after the close, nothing twice, the CSV's columns."""

from __future__ import annotations

import csv
import datetime as dt
import io

import pytest
from sqlalchemy.orm import Session

from app.services.dispatch import manifest
from app.services.dispatch.confirm import confirm_shipment
from app.services.errors import Conflict
from tests.factories import World
from tests.services.ship_helpers import ShipWorld, packed_shipment, picked_order, ship_world

DAY = dt.date(2026, 12, 2)


def _ship(session: Session, sw: ShipWorld, carrier: str, hour: int) -> str:
    so = picked_order(session, sw, {"WIDGET": 2})
    s = packed_shipment(session, sw, so, {"WIDGET": 2}, carrier=carrier)
    confirm_shipment(session, sw.dan, s.number, now=dt.datetime.combine(DAY, dt.time(hour), tzinfo=dt.UTC))
    return s.number


def test_a_manifest_per_carrier_and_day_and_one_more_after_the_close(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    a, b = _ship(session, sw, "SANDBOX", 10), _ship(session, sw, "SANDBOX", 11)
    other = _ship(session, sw, "UPS", 12)
    m1 = manifest.build(session, sw.dan, "SANDBOX", warehouse="DAL1", day=DAY)
    assert (m1.shipments, m1.cartons, m1.weight_g, m1.status) == (2, 2, 3000, "open")
    again = manifest.build(session, sw.dan, "SANDBOX", warehouse="DAL1", day=DAY)  # nothing new: the same one
    assert again.number == m1.number and again.shipments == 2
    data = manifest.manifest_csv(session, m1.number).decode()
    rows = list(csv.DictReader(io.StringIO(data)))
    assert sorted(r["shipment"] for r in rows) == sorted([a, b]) and other not in data
    assert rows[0]["weight_kg"] == "1.500" and rows[0]["freight_billed"] == "12.50"
    closed = manifest.close(session, sw.dan, m1.number)
    assert closed.status == "closed" and "no end-of-day close" in closed.close_ref
    with pytest.raises(Conflict, match="closed already"):
        manifest.close(session, sw.dan, m1.number)
    late = _ship(session, sw, "SANDBOX", 17)
    m2 = manifest.build(session, sw.dan, "SANDBOX", warehouse="DAL1", day=DAY)
    assert m2.number != m1.number and m2.shipments == 1
    assert late in manifest.manifest_csv(session, m2.number).decode()
    with pytest.raises(Conflict, match="no confirmed"):
        manifest.build(session, sw.dan, "SANDBOX", warehouse="DAL1", day=DAY + dt.timedelta(days=1))
    assert [m.number for m in manifest.listing(session, day=DAY)] == sorted([m1.number, m2.number])
