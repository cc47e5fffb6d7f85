"""Rate shopping, labels and voids against the carrier sandbox over loopback HTTP (its FedEx and UPS
wire formats): quotes from every account, the cheapest service that meets the promise, overrides
with a reason, a label that fails or times out changes nothing and can be bought again, a carton
over the carrier's limit is refused, a voided label goes at the carrier and here."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.packing import Carton, ShipmentLabel
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.carriers import accounts as ac
from app.services.carriers.sandbox.server import Sandbox
from app.services.dispatch.confirm import confirm_shipment
from app.services.dispatch.labels import CarrierFailed, buy_label, void_label
from app.services.dispatch.rating import add_business_days, choose, rate_shipment, stored_quotes
from app.services.errors import Conflict, ValidationError
from app.services.settings import Settings
from tests.factories import World
from tests.services.sales_helpers import TODAY
from tests.services.ship_helpers import (
    ShipWorld,
    carrier_accounts,
    packed_shipment,
    picked_order,
    ship_world,
)

#: the sandbox dates its FedEx-format commits from its own today
SHIP_DAY = dt.date.today()


def _ready(session: Session, world: World, *, promised: dt.date | None = None, weight: int = 1500) -> tuple[ShipWorld, Shipment]:
    sw = ship_world(session, world)
    carrier_accounts(session, sw)
    so = picked_order(session, sw, {"WIDGET": 10})
    s = packed_shipment(session, sw, so, {"WIDGET": 10}, label=False)
    s.promised_date = promised
    s.freight_quoted = None
    session.scalars(select(Carton).where(Carton.shipment_id == s.id)).one().weight_g = weight
    session.commit()
    return sw, s


def _labels(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(ShipmentLabel)) or 0)


def test_quotes_from_every_account_and_the_cheapest_that_meets_the_promise(
        engine: Engine, session: Session, world: World, sandbox: Sandbox, settings: Settings) -> None:
    sw, s = _ready(session, world, promised=add_business_days(SHIP_DAY, 2))
    res = rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    assert not res.failures
    carriers = {q.carrier_code for q in res.quotes}
    assert carriers == {"SANDBOX", "UPS"}
    meets = [q for q in res.quotes if q.meets]
    late = [q for q in res.quotes if q.meets is False]
    assert meets and late  # ground (5 days) is late for a promise in two business days, air is not
    assert res.suggested is not None and res.suggested.amount == min(q.amount for q in meets)
    assert all(q.amount < res.suggested.amount for q in late[:1])  # the cheapest overall is late
    session.expire_all()
    row = session.get(Shipment, s.id)
    assert row is not None
    assert (row.service_code, row.freight_quoted, row.override_reason) == (res.suggested.service_code,
                                                                          res.suggested.amount, "")
    # the quotes stay on the shipment (the Shipping tab after a restart)
    again = stored_quotes(session, s.number)
    assert [q.key for q in again.quotes] == [q.key for q in res.quotes] and again.suggested == res.suggested
    # no promise on the shipment: the order's (already past here): nothing meets it, the fastest is suggested
    row.promised_date = None
    session.commit()
    past = rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    assert past.promised == TODAY and not any(q.meets for q in past.quotes)
    assert past.suggested is not None and past.suggested.eta == min(q.eta for q in past.quotes if q.eta)
    assert "no service meets the promised date" in past.note
    # nothing promised anywhere: simply the cheapest
    order = session.get(SalesOrder, row.sales_order_id)
    assert order is not None
    order.promised_date = order.requested_date = None
    session.commit()
    cheap = rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    assert cheap.suggested is not None and cheap.suggested.amount == min(q.amount for q in cheap.quotes)
    assert {q.meets for q in cheap.quotes} == {None}


def test_override_needs_a_reason(engine: Engine, session: Session, world: World, sandbox: Sandbox,
                                 settings: Settings) -> None:
    sw, s = _ready(session, world)
    res = rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    other = next(q for q in res.quotes if q.key != res.suggested.key)  # type: ignore[union-attr]
    session.expire_all()
    with pytest.raises(ValidationError, match="say why"):
        choose(session, sw.dan, s.number, other.key, "")
    with pytest.raises(ValidationError, match="was not quoted"):
        choose(session, sw.dan, s.number, "UPS:99", "because")
    choose(session, sw.dan, s.number, other.key, "customer pays for air")
    session.commit()
    session.refresh(s)
    assert (s.service_code, s.freight_quoted, s.override_reason) == (other.service_code, other.amount,
                                                                     "customer pays for air")


def test_label_then_confirm(engine: Engine, session: Session, world: World, sandbox: Sandbox,
                           settings: Settings) -> None:
    sw, s = _ready(session, world)
    rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    got = buy_label(engine, settings, sw.dan, s.number)
    session.expire_all()
    row = session.get(Shipment, s.id)
    assert row is not None and row.status == "packed" and row.tracking_number == ""  # not polled before confirmation
    label = session.get(ShipmentLabel, row.label_id)
    assert label is not None and label.tracking_number == got.tracking_number == row.label_number
    assert label.data[:4] == b"%PDF" or label.format == "zpl"
    assert row.freight_billed is not None and row.freight_billed > 0
    with pytest.raises(Conflict, match="has label"):
        buy_label(engine, settings, sw.dan, s.number)
    confirm_shipment(session, sw.dan, s.number)
    session.commit()
    assert row.status == "label_created" and row.tracking_number == got.tracking_number


@pytest.mark.parametrize("fault", ["500", "reset", "garbage", pytest.param("slow", id="timed-out")])
def test_a_failed_label_changes_nothing_and_can_be_retried(engine: Engine, session: Session, world: World,
                                                           sandbox: Sandbox, settings: Settings, fault: str) -> None:
    sw, s = _ready(session, world)
    rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    session.expire_all()
    before = (session.get(Shipment, s.id).status, _labels(session))  # type: ignore[union-attr]
    sandbox.state.slow_seconds = 1.5

    def quick(info: ac.AccountInfo):  # type: ignore[no-untyped-def]
        return ac.adapter_for(info, settings, engine, timeout=(1.0, 0.5))

    sandbox.force_faults(fault)
    with pytest.raises(CarrierFailed) as e:
        buy_label(engine, settings, sw.dan, s.number, factory=quick)
    assert "the shipment is unchanged, try again" in str(e.value)
    session.expire_all()
    row = session.get(Shipment, s.id)
    assert row is not None and (row.status, _labels(session)) == before and row.label_id is None
    with pytest.raises(Conflict, match="has no label"):
        confirm_shipment(session, sw.dan, s.number)
    session.rollback()
    got = buy_label(engine, settings, sw.dan, s.number, factory=quick)  # the retry works
    assert got.tracking_number


def test_a_carton_over_the_carriers_limit_is_refused(engine: Engine, session: Session, world: World,
                                                     sandbox: Sandbox, settings: Settings) -> None:
    sw, s = _ready(session, world, weight=80_000)
    res = rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    assert not res.quotes and res.suggested is None
    assert "80.0 kg, over" in next(iter(res.skipped.values()))
    # a person who insists on a carrier still cannot buy a label for it
    session.expire_all()
    row = session.get(Shipment, s.id)
    assert row is not None
    row.account_id, row.service_code = ac.get_account(session, "SANDBOX-DAL").id, "GROUND"
    session.commit()
    calls = sandbox.state.counts.get("fedex.ship", 0)
    with pytest.raises(Conflict, match="over Depot carrier sandbox's limit of 68.0 kg"):
        buy_label(engine, settings, sw.dan, s.number)
    assert sandbox.state.counts.get("fedex.ship", 0) == calls  # nobody was asked


def test_void_goes_to_the_carrier_and_the_shipment_can_be_labelled_again(
        engine: Engine, session: Session, world: World, sandbox: Sandbox, settings: Settings) -> None:
    sw, s = _ready(session, world)
    rate_shipment(engine, settings, sw.dan, s.number, ship_date=SHIP_DAY)
    first = buy_label(engine, settings, sw.dan, s.number)
    with pytest.raises(ValidationError, match="say why"):
        void_label(engine, settings, sw.dan, s.number, " ")
    msg = void_label(engine, settings, sw.dan, s.number, "wrong service")
    assert "voided" in msg
    session.expire_all()
    old = session.scalar(select(ShipmentLabel).where(ShipmentLabel.tracking_number == first.tracking_number))
    assert old is not None and (old.status, old.void_reason) == ("voided", "wrong service") and old.voided_at
    row = session.get(Shipment, s.id)
    assert row is not None and (row.label_id, row.label_number, row.status) == (None, "", "packed")
    second = buy_label(engine, settings, sw.dan, s.number)
    assert second.tracking_number != first.tracking_number
    assert Decimal(second.amount.split()[0]) > 0
