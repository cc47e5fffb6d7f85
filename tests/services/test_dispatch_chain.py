"""The outbound chain across both halves of Dispatch on real rows: a wave planned, released and
picked (one line short) by the picking services, then packed, labelled and confirmed by the
shipping services: stock goes bin -> PACK -> customer, nothing is left in PACK, what was picked
ships and the short unit stays owed."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.packing import ShipmentLabel
from app.models.sales import SalesOrder
from app.services.allocation import runs
from app.services.dispatch import packing, picking, waves
from app.services.dispatch.confirm import confirm_shipment
from app.services.dispatch.setup import set_cutoff
from app.services.inventory.queries import ledger_page
from tests.factories import World
from tests.services.dispatch_helpers import NOW
from tests.services.inventory_helpers import bal
from tests.services.sales_helpers import TODAY, lines_of, order, put
from tests.services.ship_helpers import ship_world
from tests.services.test_packing import _boxes


def test_picked_wave_is_packed_and_shipped(session: Session, world: World) -> None:
    sw = ship_world(session, world)
    _boxes(session, sw)
    dan = sw.dan
    set_cutoff(session, dan, "DAL1", "SANDBOX", "16:00", default=True)
    put(session, world, "WIDGET", 10, "DAL1-A-01")
    put(session, world, "BOLT", 20, "DAL1-A-02")
    so: SalesOrder = order(session, world, sw.people["clara"], sw.cust_code, {"WIDGET": 4, "BOLT": 6}).order
    runs.run(session, dan, runs.simulate(session, dan, warehouse="DAL1", today=TODAY))
    number = waves.plan_waves(session, dan, warehouse="DAL1", now=NOW).waves[0].number
    waves.release(session, dan, [number])
    picking.confirm(session, dan, number, bin="A-01", item="WIDGET")
    out = picking.confirm(session, dan, number, bin="A-02", item="BOLT", qty=5, short_reason="damaged")
    assert out.wave_status == "picked" and out.short == 1
    w, b = world.items["WIDGET"], world.items["BOLT"]
    assert (bal(session, sw.pack, w.id), bal(session, sw.pack, b.id)) == (4, 5)
    session.refresh(so)
    assert so.status == "picking"
    assert packing.packable(session, so) == {ln.id: q for ln, q in zip(lines_of(session, so), (4, 5), strict=True)}
    s = packing.start(session, dan, so.number)
    packing.pack(session, dan, s.number, "WIDGET", qty=4)
    packing.pack(session, dan, s.number, "BOLT", qty=5)
    packing.close_carton(session, dan, s.number, 2000, last=True, short_reason="1 BOLT damaged at the pick")
    session.refresh(s)
    assert s.status == "packed"
    lab = ShipmentLabel(shipment_id=s.id, tracking_number="SBX0000000099", service_code="GROUND",
                        data=b"%PDF-1.4 label", owner_branch_id=s.owner_branch_id)
    session.add(lab)
    session.flush()
    s.label_id, s.label_number, s.service_code = lab.id, lab.tracking_number, "GROUND"
    session.flush()
    confirm_shipment(session, dan, s.number)
    session.expire_all()
    assert (bal(session, sw.pack, w.id), bal(session, sw.pack, b.id)) == (0, 0)
    assert [ln.qty_shipped for ln in lines_of(session, so)] == [4, 5]
    # the BOLT the picker found damaged is still owed: the order waits for it
    assert session.scalar(select(SalesOrder.status).where(SalesOrder.id == so.id)) == "backordered"
    # the item's ledger names the wave and the shipment by their numbers, as the stock screen shows them
    refs = {(r.reason, r.doc_ref) for r in ledger_page(session, w.id).rows}
    assert ("pick", number) in refs and ("sale", s.number) in refs
