"""Helpers the packing / shipping tests share: carriers, a packing location, an allocated order whose
stock has been picked to it, and a packed shipment built row by row (the packing service's own
tests build theirs by scanning)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.org import Location
from app.models.packing import Carton, CartonLine, ShipmentLabel
from app.models.parties import Carrier, CarrierService
from app.models.sales import SalesOrder
from app.models.shipping import Shipment
from app.services.allocation import runs
from app.services.auth import Actor
from app.services.carriers import accounts as ac
from app.services.stock import MoveSpec, post_moves
from tests.factories import World
from tests.services.sales_helpers import TODAY, customer, lines_of, order, people, put

#: code, name, api, services
CARRIERS = (("SANDBOX", "Depot carrier sandbox", "sandbox", ("GROUND", "2DAY", "NEXT")),
            ("UPS", "United Parcel Service", "ups", ("03", "12", "02", "01")))


@dataclass
class ShipWorld:
    w: World
    people: dict[str, Actor]
    pack: Location
    carriers: dict[str, Carrier]
    cust_code: str = "SHIPCO"
    seq: int = 0
    extra: dict[str, object] = field(default_factory=dict)

    @property
    def dan(self) -> Actor:
        return self.people["dan"]


def pack_location(session: Session, w: World) -> Location:
    found = session.scalar(select(Location).where(Location.warehouse_id == w.wh_dal.id, Location.kind == "pack"))
    if found is not None:
        return found
    loc = Location(warehouse_id=w.wh_dal.id, code="PACK", kind="pack", owner_branch_id=w.wh_dal.owner_branch_id)
    session.add(loc)
    session.flush()
    return loc


def ship_world(session: Session, w: World) -> ShipWorld:
    p = people(session, w)
    w.wh_dal.address = "2400 Irving Blvd, Dallas TX 75207"
    customer(session, "SHIPCO", "gold", limit="100000", ship_to="1 Dock Road, Austin TX 78701")
    carriers: dict[str, Carrier] = {}
    for code, name, api, services in CARRIERS:
        c = session.scalar(select(Carrier).where(Carrier.code == code))
        if c is None:
            c = Carrier(code=code, name=name, api=api, owner_branch_id=w.ho.id)
            session.add(c)
            session.flush()
            for n, sv in enumerate(services):
                session.add(CarrierService(carrier_id=c.id, code=sv, name=sv.title(), transit_days=max(1, 5 - 2 * n),
                                           owner_branch_id=w.ho.id))
        carriers[code] = c
    session.flush()
    return ShipWorld(w, p, pack_location(session, w), carriers)


def picked_order(session: Session, sw: ShipWorld, lines: dict[str, int], *, stock: dict[str, int] | None = None,
                 pick: dict[str, int] | None = None) -> SalesOrder:
    """An order, allocated by a real run, whose stock (``pick``, default all) was moved to PACK."""
    for sku, q in (lines if stock is None else stock).items():
        put(session, sw.w, sku, q)
    so = order(session, sw.w, sw.people["clara"], sw.cust_code, lines).order
    plan = runs.simulate(session, sw.dan, warehouse="DAL1", today=TODAY)
    runs.run(session, sw.dan, plan)
    bin_ = sw.w.bins["DAL1-A-02"]
    moves = [MoveSpec(sw.w.items[sku].id, q, bin_.id, sw.pack.id, "pick", doc_type="sales_order", doc_id=so.id)
             for sku, q in (lines if pick is None else pick).items() if q]
    post_moves(session, sw.dan, moves, owner_branch_id=sw.w.dal.id)
    session.flush()
    return so


def packed_shipment(session: Session, sw: ShipWorld, so: SalesOrder, contents: dict[str, int], *,
                    carrier: str = "SANDBOX", label: bool = True, amount: str = "12.5000") -> Shipment:
    """A shipment of ``so`` in one closed carton holding ``contents`` (sku -> qty), with a label."""
    sw.seq += 1
    lines = {ln.item_id: ln for ln in lines_of(session, so)}
    s = Shipment(number=f"DAL-SH-{sw.seq:06d}", sales_order_id=so.id, warehouse_id=so.warehouse_id,
                 carrier_id=sw.carriers[carrier].id, status="packed", promised_date=TODAY + dt.timedelta(days=3),
                 owner_branch_id=so.owner_branch_id, service_code="GROUND", freight_quoted=Decimal("12.0000"))
    session.add(s)
    session.flush()
    c = Carton(shipment_id=s.id, seq=1, sscc=f"0{sw.seq:017d}", weight_g=1500, status="closed",
               owner_branch_id=s.owner_branch_id)
    session.add(c)
    session.flush()
    for sku, q in contents.items():
        item = sw.w.items[sku]
        session.add(CartonLine(carton_id=c.id, order_line_id=lines[item.id].id, item_id=item.id, qty=q,
                               owner_branch_id=s.owner_branch_id))
    if label:
        lab = ShipmentLabel(shipment_id=s.id, tracking_number=f"SBX{sw.seq:010d}", service_code="GROUND",
                            data=b"%PDF-1.4 label", amount=Decimal(amount), owner_branch_id=s.owner_branch_id)
        session.add(lab)
        session.flush()
        s.label_id, s.label_number = lab.id, lab.tracking_number
    session.flush()
    return s


def carrier_accounts(session: Session, sw: ShipWorld) -> dict[str, ac.AccountInfo]:
    """Dallas accounts of both carriers on the test's carrier sandbox (endpoint ``sandbox``)."""
    out = {}
    for code, _n, _a, services in CARRIERS:
        out[code] = ac.save_account(session, sw.w.actors["root"], carrier_code=code, account_number=f"{code}-DAL",
                                    endpoint="sandbox", branch_id=sw.w.dal.id, requests_per_minute=6000,
                                    services=services)
    session.flush()
    return out


def picked_by_wave(session: Session, sw: ShipWorld, lines: dict[str, int], *,
                   stock: dict[str, int] | None = None) -> SalesOrder:
    """An order allocated, planned on a wave of its own, released and picked whole by the real
    picking services (bin -> PACK), as a packer finds it at the station."""
    from app.services.dispatch import picking, queries, waves
    from app.services.dispatch.setup import set_cutoff

    so = picked_order(session, sw, lines, stock=stock, pick={})
    set_cutoff(session, sw.dan, "DAL1", "SANDBOX", "16:00", default=True)
    now = dt.datetime.combine(TODAY, dt.time(14, 0), tzinfo=dt.UTC)
    wave = waves.plan_waves(session, sw.dan, warehouse="DAL1", orders=[so.number], now=now).waves[0].number
    waves.release(session, sw.dan, [wave], now=now)
    for r in queries.wave_lines(session, wave):
        if r.status == "open":
            picking.confirm(session, sw.w.actors["wes"], wave, bin=r.bin, item=r.sku)
    session.flush()
    return so
