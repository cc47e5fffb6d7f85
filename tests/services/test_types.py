"""Money and quantities are exact: no float ever reaches the database."""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import text
from sqlalchemy.orm import Session

from app.models.ids import derived_ids, uuid7, uuid7_time_ms
from app.models.types import DomainValueError, to_money, to_qty
from tests.factories import World


def test_money_round_trips_exactly_through_sqlite(session: Session, world: World) -> None:
    item = world.items["BOLT"]
    item.list_price = Decimal("0.1") + Decimal("0.2")
    session.commit()
    raw = session.execute(text("SELECT list_price FROM item WHERE sku = 'BOLT'")).scalar_one()
    assert raw == 3000 and isinstance(raw, int)  # stored as 1/10,000 units
    session.expire_all()
    assert world.items["BOLT"].list_price == Decimal("0.3000")


@pytest.mark.parametrize("bad, rule", [(0.1, "not float"), ("1.23456", "more than 4 decimal"), ("abc", "not a number"),
                                       ("NaN", "finite"), (Decimal("1e30"), "out of range")])
def test_money_refuses_floats_excess_precision_and_garbage(bad: object, rule: str) -> None:
    with pytest.raises(DomainValueError, match=rule.replace("not float", "not float".replace("not float", "not float"))):
        to_money(bad, "price")


def test_quantities_are_whole_base_units() -> None:
    assert to_qty("12") == 12 and to_qty(Decimal("5")) == 5
    for bad in ("1.5", True, "x", -1, 0):
        with pytest.raises(DomainValueError):
            to_qty(bad)


def test_naive_datetimes_are_refused(session: Session, world: World) -> None:
    world.items["BOLT"].updated_at = dt.datetime(2026, 1, 1)  # naive
    with pytest.raises(Exception, match="naive datetime refused"):
        session.flush()


def test_uuid7_is_time_ordered_and_unique() -> None:
    ids = [uuid7() for _ in range(20_000)]
    assert len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    assert all(u.version == 7 for u in ids[:10])
    assert abs(uuid7_time_ms(ids[0]) - dt.datetime.now(dt.UTC).timestamp() * 1000) < 60_000


def test_derived_ids_repeat_for_one_seed_in_this_thread_only() -> None:
    """The demo seed's service-written rows get ids from the seed, so the same seed gives the same
    rows; another thread (a GUI op meanwhile) keeps clock ids, and so does this one afterwards."""
    start = 1_764_720_000_000

    def run() -> list[uuid.UUID]:
        with derived_ids(7, start):
            return [uuid7() for _ in range(5000)]

    first, again = run(), run()
    assert first == again and len(set(first)) == 5000 and first == sorted(first)
    assert all(u.version == 7 for u in first) and uuid7_time_ms(first[0]) == start
    assert uuid7_time_ms(first[-1]) == start + 1  # 4,096 ids a millisecond
    other: list[uuid.UUID] = []
    with derived_ids(7, start):
        t = threading.Thread(target=lambda: other.append(uuid7()))
        t.start()
        t.join()
    assert uuid7_time_ms(other[0]) > start + 10_000_000  # the clock's, not the seed's
    assert uuid7() not in first and uuid7_time_ms(uuid7()) > start + 10_000_000
