"""Transfer before buying, and consolidation of purchase needs per supplier."""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

from sqlalchemy.orm import Session

from app.models.buying import TransferLane
from app.services import masterdata as md
from app.services.buying import requisitions as rq
from app.services.buying.consolidation import NeedLine, consolidation_groups, group_lines
from app.services.replenishment import run
from tests.factories import World
from tests.services.test_replenishment import TODAY, stock_and_sales


def _lane(session: Session, w: World, days: int, per_unit: str, per_shipment: str) -> None:
    session.add(TransferLane(from_warehouse_id=w.wh_hou.id, to_warehouse_id=w.wh_dal.id, transit_days=days,
                             cost_per_unit=Decimal(per_unit), cost_per_shipment=Decimal(per_shipment),
                             owner_branch_id=w.ho.id))


def _one(session: Session, sku: str = "BOLT", wh: str = "DAL1"):  # type: ignore[no-untyped-def]
    res = run(session, None, today=TODAY, history_weeks=4)
    (rec,) = [r for r in res.recommendations if r.sku == sku and r.warehouse_code == wh]
    return rec


def test_transfer_preferred_when_sister_has_surplus_and_it_arrives_sooner(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    session.commit()
    rec = _one(session)
    assert rec.preferred == "transfer"
    t, p = rec.transfer, rec.purchase
    assert t is not None and p is not None  # both options are shown
    assert (t.source_code, t.qty, t.days, t.arrival) == ("HOU1", 152, 2, TODAY + dt.timedelta(days=2))
    assert t.total_cost == Decimal("32.6000")  # default lane: 25 + 152 x 0.05
    assert (p.source_code, p.qty, p.total_cost, p.arrival) == ("ACME", 152, Decimal("15.2000"),
                                                               TODAY + dt.timedelta(days=7))
    assert rec.qty == 152


def test_transfer_preferred_when_cheaper_even_if_slower(session: Session, world: World) -> None:
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_hou, on_hand_after=500, weekly=(0, 0, 0, 0))
    _lane(session, world, days=10, per_unit="0.10", per_shipment="5")
    session.commit()
    rec = _one(session, "WIDGET")
    assert rec.preferred == "transfer"
    assert rec.transfer is not None and rec.transfer.total_cost == Decimal("21.0000")  # 5 + 160 x 0.10
    assert rec.purchase is not None and rec.purchase.total_cost == Decimal("210.0000")  # 168 x 1.25
    assert rec.transfer.arrival > rec.purchase.arrival


def test_purchase_preferred_when_transfer_is_dearer_and_slower(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    _lane(session, world, days=9, per_unit="0.50", per_shipment="100")
    session.commit()
    rec = _one(session)
    assert rec.preferred == "purchase" and rec.transfer is not None  # still shown as the alternative
    assert rec.transfer.total_cost == Decimal("176.0000")


def test_no_transfer_when_the_sister_needs_its_own_stock(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    # Houston sells the same 70/week: its OUL is 171.27, so 300 on hand leaves 128 surplus < 152 needed
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=300)
    session.commit()
    rec = _one(session)
    assert rec.transfer is None and rec.preferred == "purchase"


def test_surplus_is_not_promised_twice(session: Session, world: World) -> None:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "BOLT", world.wh_hou, on_hand_after=160, weekly=(0, 0, 0, 0))
    session.commit()
    rec = _one(session)
    assert rec.preferred == "transfer"
    rq.accept(session, world.actors["alice"], rq.lines_from_recommendations([rec]))
    session.commit()
    # Dallas is covered by the open transfer requisition; a third warehouse needing stock
    # may not get the same 152 units again: the sister's surplus is now 8
    dal3 = md.create_warehouse(session, world.dal, "DAL3", "Dallas 3")
    world.bins["DAL3-A-01"] = md.create_bin(session, dal3, "A-01")
    stock_and_sales(session, world, "BOLT", dal3, on_hand_after=20)
    session.commit()
    res = run(session, None, today=TODAY, history_weeks=4)
    keys = {(r.sku, r.warehouse_code): r for r in res.recommendations}
    assert ("BOLT", "DAL1") not in keys
    assert keys[("BOLT", "DAL3")].transfer is None


def test_group_lines_consolidates_only_where_the_supplier_allows_it() -> None:
    s1, s2 = uuid.uuid4(), uuid.uuid4()
    w1, w2 = uuid.uuid4(), uuid.uuid4()
    i1, i2 = uuid.uuid4(), uuid.uuid4()
    lines = [NeedLine(i1, w1, s1, 10, Decimal("2")), NeedLine(i2, w2, s1, 5, Decimal("1")),
             NeedLine(i1, w2, s1, 3, Decimal("2")), NeedLine(i1, w1, s2, 4), NeedLine(i2, w2, s2, 6)]
    groups = group_lines(lines, {s1: True, s2: False})
    assert len(groups) == 3
    g1 = groups[0]
    assert g1.supplier_id == s1 and g1.consolidated and g1.ship_tos == [w1, w2] and len(g1.lines) == 3
    assert g1.warehouse_id == w2 and g1.value == Decimal("31")  # w2 has two of the three lines
    assert [(g.supplier_id, g.warehouse_id, g.consolidated) for g in groups[1:]] == [(s2, w1, False), (s2, w2, False)]


def test_consolidation_groups_of_open_requisitions(session: Session, world: World) -> None:
    world.supplier.allows_consolidation = True
    other = md.create_supplier(session, "BOLTCO", "Bolt Co")
    md.link_item_supplier(session, world.items["BOLT"], other, contract_price="0.09", preferred=False)
    root = world.actors["root"]  # head office buys for both branches
    lines = [
        rq.AcceptLine(world.items["WIDGET"].id, world.wh_dal.id, "purchase", 24, supplier_id=world.supplier.id),
        rq.AcceptLine(world.items["WIDGET"].id, world.wh_hou.id, "purchase", 12, supplier_id=world.supplier.id),
        rq.AcceptLine(world.items["BOLT"].id, world.wh_dal.id, "purchase", 50, supplier_id=other.id),
        rq.AcceptLine(world.items["BOLT"].id, world.wh_hou.id, "purchase", 70, supplier_id=other.id),
    ]
    reqs = rq.accept(session, root, lines)
    session.commit()
    groups = consolidation_groups(session)
    acme = [g for g in groups if g.supplier_id == world.supplier.id]
    boltco = [g for g in groups if g.supplier_id == other.id]
    assert len(acme) == 1 and acme[0].consolidated
    assert sorted(acme[0].ship_tos) == sorted([world.wh_dal.id, world.wh_hou.id])
    assert acme[0].value == Decimal("45.0000")  # 36 x 1.25
    assert len(boltco) == 2 and not any(g.consolidated for g in boltco)
    assert {tuple(g.requisition_ids) for g in boltco} == {(reqs[2].id,), (reqs[3].id,)}
    # converted requisitions leave the grouping
    rq.mark_converted(session, root, acme[0].requisition_ids, po_id=uuid.uuid4())
    assert [g.supplier_id for g in consolidation_groups(session)] == [other.id, other.id]
