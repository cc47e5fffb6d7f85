"""Transfers, returns, counts and backorders on replicating branch sites: every step runs at the
site of the branch that performs it and writes only that branch's rows; owners settle the rest.

One SQLite file plays each branch in turn (``become_branch_site``), as the workstations would
after a sync; tests/sync/test_transfers_sync.py runs the same flow over the real server.
"""

from __future__ import annotations

import datetime as dt
import uuid
from decimal import Decimal

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.inventory import CreditRequest, TransferLine, TransferOrder
from app.models.org import Branch
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.receiving import SerialNumber
from app.models.sales import SalesOrder, SalesOrderLine
from app.services.auth import Actor, actor_for, create_user
from app.services.buying.conversion import transfers_from_requisitions
from app.services.db import session_scope
from app.services.errors import Conflict
from app.services.inventory import counts, pick_replenish, rma
from app.services.inventory.queries import item_figures
from app.services.inventory.transfer_settle import er_id_for
from app.services.inventory.transfers import (
    TransferLineSpec,
    cancel_transfer,
    create_transfer,
    receive_note,
    receive_transfer,
    ship_note,
    ship_transfer,
)
from app.services.ownership import ForeignWrite, settle_all
from app.services.stock import virtual_location
from tests.factories import World, become_branch_site
from tests.services.inventory_helpers import bal, stock


def _houston_staff(session: Session, w: World) -> dict[str, Actor]:
    """Users of Houston (created as head office would, before the file becomes a branch site)."""
    out = {}
    for name, roles in (("hank", ["warehouse"]), ("hugo", ["receiver"]), ("hope", ["buyer"])):
        u = create_user(session, name, "secret-" + name, roles, owner_branch_id=w.ho.id, branch_id=w.hou.id)
        out[name] = actor_for(session, u)
    session.commit()
    return out


def _as(engine: Engine, branch: Branch) -> None:
    become_branch_site(engine, branch)


def _settle(engine: Engine) -> dict[str, int]:
    with session_scope(engine) as s:
        done, errors = settle_all(s)
    assert errors == []
    return done


def _shipped(engine: Engine, session: Session, w: World, qty: int = 45) -> uuid.UUID:
    stock(session, w, "WIDGET", 30, "DAL1-A-02")
    stock(session, w, "WIDGET", 30, "DAL1-A-03")
    session.commit()
    _as(engine, w.dal)
    with session_scope(engine) as s:
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id,
                            [TransferLineSpec(w.items["WIDGET"].id, qty)], requested_date=dt.date(2026, 12, 1))
        ship_transfer(s, w.actors["wes"], t.id)
        note = ship_note(s, t)
        tid = t.id
    assert note.endswith("HOU sees it at its dock when HOU next syncs")
    return tid


def test_dallas_ships_houston_expects_and_receives_dallas_settles(engine: Engine, session: Session, world: World) -> None:
    hou = _houston_staff(session, world)
    widget = world.items["WIDGET"].id
    tid = _shipped(engine, session, world)
    with Session(engine) as s:
        # Dallas wrote only its rows: no expected receipt for Houston (Houston numbers its own)
        assert s.get(ExpectedReceipt, er_id_for(tid)) is None
        assert bal(s, virtual_location(s, world.wh_dal.id, "transit"), widget) == 45
        assert {f.warehouse: (f.on_hand, f.in_transit_out, f.in_transit_in) for f in item_figures(s, widget)} == {
            "DAL1": (15, 45, 0), "HOU1": (0, 0, 45)}
    assert _settle(engine) == {}  # nothing for Dallas to settle yet

    _as(engine, world.hou)  # Houston pulls the shipment; its settler expects it, from its own series
    assert _settle(engine) == {"transfers.expect": 1}
    assert _settle(engine) == {}  # idempotent
    with Session(engine) as s:
        er = s.get(ExpectedReceipt, er_id_for(tid))
        assert er is not None and er.owner_branch_id == world.hou.id and er.number == "HOU-ER-000001"
        assert er.warehouse_id == world.wh_hou.id and er.expected_at is not None
        assert er.expected_at.date() == dt.date(2026, 12, 1)
        assert [ln.qty_expected for ln in s.scalars(select(ExpectedReceiptLine).where(
            ExpectedReceiptLine.receipt_id == er.id))] == [45]
        with pytest.raises(ForeignWrite, match="transfer DAL-TR-000001 is cancelled by DAL; this workstation belongs to HOU"):
            cancel_transfer(s, hou["hank"], tid)

    with session_scope(engine) as s:
        (ln,) = s.scalars(select(TransferLine).where(TransferLine.transfer_id == tid))
        t = receive_transfer(s, hou["hugo"], tid, {ln.id: 40})
        assert receive_note(s, t) == "DAL-TR-000001 received; DAL's transfer shows it received when DAL next syncs"
    with Session(engine) as s:
        t2 = s.get(TransferOrder, tid)
        assert t2 is not None and t2.status == "shipped"  # Dallas's document, untouched by Houston
        er = s.get(ExpectedReceipt, er_id_for(tid))
        assert er is not None and er.status == "received"
        # transit is empty at once: 40 into Houston's dock, 5 short written off to Dallas's adjust
        assert bal(s, virtual_location(s, world.wh_dal.id, "transit"), widget) == 0
        assert bal(s, virtual_location(s, world.wh_hou.id, "dock"), widget) == 40
        assert bal(s, virtual_location(s, world.wh_dal.id, "adjust"), widget) == 5
        # and no longer "in transit" anywhere, though Dallas has not settled its transfer yet
        assert {f.warehouse: (f.on_hand, f.in_transit_out, f.in_transit_in) for f in item_figures(s, widget)} == {
            "DAL1": (15, 0, 0), "HOU1": (40, 0, 0)}
    # a second receipt (another Houston workstation after sync: same rows) is refused
    with Session(engine) as s, pytest.raises(Conflict, match="transfer DAL-TR-000001 was already received on"):
        receive_transfer(s, hou["hugo"], tid)

    _as(engine, world.dal)  # Dallas pulls Houston's receipt; its settler marks the transfer received
    assert _settle(engine) == {"transfers.receipts": 1}
    assert _settle(engine) == {}
    with Session(engine) as s:
        t3 = s.get(TransferOrder, tid)
        assert t3 is not None and t3.status == "received" and t3.expected_receipt_id == er_id_for(tid)
        (ln,) = s.scalars(select(TransferLine).where(TransferLine.transfer_id == tid))
        assert (ln.qty_shipped, ln.qty_received, ln.qty_short) == (45, 40, 5)
        with pytest.raises(Conflict, match="already received"):
            receive_transfer(s, world.actors["rita"], tid)


def test_only_the_destination_receives_and_a_partial_shipment_is_not_received(
        engine: Engine, session: Session, world: World) -> None:
    _houston_staff(session, world)
    tid = _shipped(engine, session, world)
    with Session(engine) as s, pytest.raises(ForeignWrite, match="received at HOU1 by HOU; this workstation belongs to DAL"):
        receive_transfer(s, world.actors["rita"], tid)
    _as(engine, world.hou)
    with Session(engine) as s:  # the transfer row arrived but its shipment moves did not (yet)
        s.info["ownership_off"] = True
        (ln,) = s.scalars(select(TransferLine).where(TransferLine.transfer_id == tid))
        ln.qty_shipped = 46
        s.commit()
    assert _settle(engine) == {}
    with Session(engine) as s, pytest.raises(Conflict, match="has not fully reached this workstation yet"):
        receive_transfer(s, world.actors["root"], tid)


def test_serials_follow_the_transfer_in_the_registry_of_the_branch_that_owns_them(
        engine: Engine, session: Session, world: World) -> None:
    hou = _houston_staff(session, world)
    drill = world.items["DRILL"].id
    stock(session, world, "DRILL", 1, "DAL1-A-02", serial="SN-1")
    session.add(SerialNumber(item_id=drill, serial="SN-1", status="in_stock", location_id=world.bins["DAL1-A-02"].id,
                             owner_branch_id=world.dal.id))
    session.commit()
    _as(engine, world.dal)
    with session_scope(engine) as s:
        t = create_transfer(s, world.actors["wes"], world.wh_dal.id, world.wh_hou.id,
                            [TransferLineSpec(drill, 1, serial_no="SN-1")])
        ship_transfer(s, world.actors["wes"], t.id)
        tid = t.id
    with Session(engine) as s:
        sn = s.scalars(select(SerialNumber)).one()
        assert (sn.status, sn.location_id) == ("transferred", virtual_location(s, world.wh_dal.id, "transit").id)
    _as(engine, world.hou)
    _settle(engine)
    with session_scope(engine) as s:
        receive_transfer(s, hou["hugo"], tid)
    with Session(engine) as s:
        assert s.scalars(select(SerialNumber.status)).one() == "transferred"  # Dallas's row: not Houston's to edit
    _as(engine, world.dal)
    _settle(engine)
    with Session(engine) as s:
        sn = s.scalars(select(SerialNumber)).one()
        assert (sn.status, sn.location_id, sn.owner_branch_id) == (
            "in_stock", virtual_location(s, world.wh_hou.id, "dock").id, world.dal.id)


def test_the_sender_converts_the_requesters_transfer_requisitions(engine: Engine, session: Session, world: World) -> None:
    from app.models.buying import Requisition
    from app.services.buying.requisitions import AcceptLine, accept

    hou = _houston_staff(session, world)
    _as(engine, world.dal)
    with session_scope(engine) as s:  # Dallas asks Houston for stock: its requisitions are the request
        reqs = accept(s, world.actors["alice"], [
            AcceptLine(world.items["BOLT"].id, world.wh_dal.id, "transfer", 7, source_warehouse_id=world.wh_hou.id,
                       need_by=dt.date(2026, 12, 3))])
        rid = reqs[0].id
    with Session(engine) as s:
        with pytest.raises(ForeignWrite, match="asks HOU1 for stock: it is converted into a transfer by HOU"):
            transfers_from_requisitions(s, world.actors["alice"], [rid])
        s.rollback()
        with pytest.raises(ForeignWrite, match="a transfer from HOU1 is created .* by HOU"):
            create_transfer(s, world.actors["wes"], world.wh_hou.id, world.wh_dal.id,
                            [TransferLineSpec(world.items["BOLT"].id, 1)])
    _as(engine, world.hou)
    with session_scope(engine) as s:
        (t,) = transfers_from_requisitions(s, hou["hank"], [rid])
        assert t.number == "HOU-TR-000001" and t.owner_branch_id == world.hou.id
        tid = t.id
    with Session(engine) as s:
        assert s.scalar(select(Requisition.status).where(Requisition.id == rid)) == "open"  # Dallas's row
    _as(engine, world.dal)
    _settle(engine)
    with Session(engine) as s:
        r = s.get(Requisition, rid)
        assert r is not None and (r.status, r.transfer_id) == ("converted", tid)


def _houston_order(session: Session, w: World, status: str, warehouse: uuid.UUID, shipped: int = 0) -> uuid.UUID:
    so = SalesOrder(number=f"HOU-SO-{status[:4]}", customer_id=w.customer.id, warehouse_id=warehouse, status=status,
                    order_date=dt.date(2026, 11, 20), owner_branch_id=w.hou.id)
    session.add(so)
    session.flush()
    session.add(SalesOrderLine(order_id=so.id, line_no=1, item_id=w.items["BOLT"].id, qty_ordered=6, qty_shipped=shipped,
                               unit_price=Decimal("2"), owner_branch_id=w.hou.id))
    session.commit()
    return so.id


def test_a_return_against_another_branchs_order_writes_only_the_returning_branchs_rows(
        engine: Engine, session: Session, world: World) -> None:
    so_id = _houston_order(session, world, "shipped", world.wh_hou.id, shipped=6)
    _as(engine, world.dal)
    mike = world.actors["mike"]
    with session_scope(engine) as s:
        r = rma.authorise_rma(s, mike, world.customer.id, world.wh_dal.id,
                              [rma.RmaLineSpec(world.items["BOLT"].id, 2)], sales_order_id=so_id)
        (ln,) = rma.rma_lines(s, r.id)
        rma.receive_rma(s, mike, r.id)
        rma.inspect_rma(s, mike, r.id, {ln.id: rma.Inspection("ok")})
        rma.dispose_rma(s, mike, r.id, {ln.id: rma.Disposition("scrap")})
        rid = r.id
    with Session(engine) as s:
        cr = s.scalars(select(CreditRequest).where(CreditRequest.rma_id == rid)).one()
        assert (cr.owner_branch_id, cr.sales_order_id, cr.amount) == (world.dal.id, so_id, Decimal("4"))
        assert cr.number.startswith("DAL-CR-")
        with pytest.raises(ForeignWrite, match="a return into HOU1 is authorised by HOU"):
            rma.authorise_rma(s, mike, world.customer.id, world.wh_hou.id, [rma.RmaLineSpec(world.items["BOLT"].id, 1)])
    _as(engine, world.hou)
    with Session(engine) as s, pytest.raises(ForeignWrite, match=r"RMA DAL-RMA-\d+ is cancelled by DAL"):
        rma.cancel_rma(s, world.actors["root"], rid)


def test_counts_and_pick_replenishment_of_another_branchs_warehouse_are_refused(
        engine: Engine, session: Session, world: World) -> None:
    _as(engine, world.dal)
    wes = world.actors["wes"]
    with Session(engine) as s:
        with pytest.raises(ForeignWrite, match="bin HOU1-A-02|bin A-02 is counted by HOU"):
            counts.create_count_tasks(s, wes, [world.bins["HOU1-A-02"].id])
        with pytest.raises(ForeignWrite, match="bins of HOU1 are counted by HOU"):
            counts.schedule_counts(s, wes, world.wh_hou.id)
        with pytest.raises(ForeignWrite, match="pick faces of HOU1 are replenished by HOU"):
            pick_replenish.check_pick_faces(s, wes, world.wh_hou.id)
        (task,) = counts.create_count_tasks(s, wes, [world.bins["DAL1-A-02"].id])  # its own: fine
        assert task.owner_branch_id == world.dal.id


def test_backorders_are_released_only_by_the_branch_that_owns_the_order(
        engine: Engine, session: Session, world: World) -> None:
    from app.services.inventory.backorders import release_backorders

    so_id = _houston_order(session, world, "backordered", world.wh_dal.id)  # Houston sells from Dallas's stock
    stock(session, world, "BOLT", 10, "DAL1-A-02")
    session.commit()
    _as(engine, world.dal)
    with session_scope(engine) as s:
        assert release_backorders(s, world.actors["rita"], [world.items["BOLT"].id], world.wh_dal.id) == []
    _as(engine, world.hou)
    assert _settle(engine) == {"backorders.elsewhere": 1}
    assert _settle(engine) == {}
    with Session(engine) as s:
        assert s.scalar(select(SalesOrder.status).where(SalesOrder.id == so_id)) == "open"


def test_replenishment_at_the_receiver_counts_a_transfer_inbound_once(
        engine: Engine, session: Session, world: World) -> None:
    from app.services.replenishment import run
    from tests.services.test_replenishment import stock_and_sales

    hou = _houston_staff(session, world)
    stock_and_sales(session, world, "WIDGET", world.wh_hou, on_hand_after=0)  # Houston sells ~70 a week
    tid = _shipped(engine, session, world)
    _as(engine, world.hou)
    _settle(engine)  # Houston's ER exists; Dallas has not linked it to its transfer yet

    def inbound() -> tuple[int, int]:
        with Session(engine) as s:
            res = run(s, None, today=dt.date(2026, 11, 26), history_weeks=4)
            s.rollback()
        (rec,) = [r for r in res.recommendations if r.sku == "WIDGET" and r.warehouse_code == "HOU1"]
        return rec.why.inbound, rec.why.on_hand

    assert inbound() == (45, 0)
    with session_scope(engine) as s:
        receive_transfer(s, hou["hugo"], tid)
    assert inbound() == (0, 45)  # received here, not yet settled by Dallas: on hand, not inbound too
