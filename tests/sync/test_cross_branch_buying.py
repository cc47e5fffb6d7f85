"""Buying across branches over real replication: three SQLite sites and the real PostgreSQL server.

DAL puts its own and HOU's requisitions on one consolidated PO (a line ships to HOU1), DAL's
approver approves level 1, head office's manager level 2 on the HQ site; after ``quiesce`` the PO
is approved everywhere, each ship-to branch has its own expected receipt, HOU's requisition is
converted by HOU, nothing was refused anywhere and every site equals the server.
"""

from __future__ import annotations

import uuid

from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.buying import Requisition
from app.models.parties import ItemSupplier, Supplier
from app.models.purchasing import ExpectedReceipt, PurchaseOrder
from app.services.auth import create_user
from app.services.buying import approvals, conversion, po_receipts, purchasing
from app.services.buying import requisitions as rq
from app.services.buying.po_receipts import expected_receipt_id
from tests.factories import World, load_world
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes


def _world(s: Session) -> World:
    return load_world(s)


def _sync(site: Site) -> None:
    res = site.sync()
    assert res.settle_errors == [] and res.rejected == 0 and res.lost == 0, res


def _accept(site: Site, user: str, wh_code: str, qty: int) -> uuid.UUID:
    with site.session() as s:
        w = _world(s)
        wh = w.wh_dal if wh_code == "DAL1" else w.wh_hou
        (req,) = rq.accept(s, w.actors[user], [rq.AcceptLine(item_id=w.items["DRILL"].id, warehouse_id=wh.id,
                                                             kind="purchase", qty=qty, supplier_id=w.supplier.id)])
        s.commit()
        return req.id


def test_consolidated_po_approved_across_branches_with_receipts_and_requisitions_settled(net: Net) -> None:
    # head office: contracts, a consolidating supplier, the approval rules, a manager and a HOU buyer
    with net.hq.session() as s:
        w = _world(s)
        for link in s.scalars(select(ItemSupplier)):
            link.contracted = True
        s.scalars(select(Supplier)).one().allows_consolidation = True
        approvals.ensure_default_rules(s, w.ho.id)
        create_user(s, "hank", "secret-hank", ["manager"], owner_branch_id=w.ho.id, branch_id=w.ho.id)
        create_user(s, "holly", "secret-holly", ["buyer"], owner_branch_id=w.ho.id, branch_id=w.hou.id)
        s.commit()
    _sync(net.hq)
    _sync(net.hou)
    hou_req = _accept(net.hou, "holly", "HOU1", 300)
    _sync(net.hou)

    # Dallas: one PO for both branches' requisitions (700 x 45 = 31,500: approver and manager levels)
    _sync(net.dal)
    dal_req = _accept(net.dal, "alice", "DAL1", 400)
    with net.dal.session() as s:
        w = _world(s)
        (po,) = conversion.convert(s, w.actors["alice"], [dal_req, hou_req], submit_now=True)
        assert po.status == "pending_approval" and po.owner_branch_id == w.dal.id
        assert {ln.ship_to_warehouse_id for ln in purchasing.lines_of(s, po.id)} == {w.wh_dal.id, w.wh_hou.id}
        approvals.approve(s, w.actors["bob"], po.id, "level 1 ok")
        s.commit()
        po_id, number = po.id, po.number
        assert s.get(Requisition, hou_req).status == "open"  # type: ignore[union-attr]  (HOU's to change)
    _sync(net.dal)

    # head office: level 2 is actionable at once; approving it writes only head office's row
    _sync(net.hq)
    with net.hq.session() as s:
        w = _world(s)
        assert [r.number for r in approvals.inbox_rows(s, w.actors["hank"])] == [number]
        approvals.approve(s, w.actors["hank"], po_id, "level 2 ok")
        s.commit()
        hq_po = s.get(PurchaseOrder, po_id)
        assert hq_po is not None and hq_po.status == "pending_approval"
        assert po_receipts.branch_followups(s, hq_po) == ["DAL's PO follows when DAL syncs"]
        assert approvals.inbox(s, w.actors["mike"]) == []  # no second approval of a level
    _sync(net.hq)

    quiesce(net.hq, net.dal, net.hou)

    w = net.world
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            po = s.get(PurchaseOrder, po_id)
            assert po is not None and po.status == "approved", site.path.name
            ers = s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po_id)).all()
            assert sorted((e.warehouse_id, e.owner_branch_id, e.number[:7], e.status) for e in ers) == sorted([
                (w.wh_dal.id, w.dal.id, "DAL-ER-", "expected"), (w.wh_hou.id, w.hou.id, "HOU-ER-", "expected")])
            assert {e.id for e in ers} == {expected_receipt_id(po_id, 0, w.wh_dal.id),
                                           expected_receipt_id(po_id, 0, w.wh_hou.id)}
            reqs = s.scalars(select(Requisition).where(Requisition.id.in_([dal_req, hou_req]))).all()
            assert {(r.status, r.po_id) for r in reqs} == {("converted", po_id)}, site.path.name
            owners = {r.id: r.owner_branch_id for r in reqs}
            assert owners == {dal_req: w.dal.id, hou_req: w.hou.id}
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path.name
    expected = server_hashes(net.server)
    for site in (net.hq, net.dal, net.hou):
        assert site_hashes(site) == expected, site.path.name


def _receipts(site: Site, po_id: uuid.UUID) -> list[tuple[str, str]]:
    with site.session() as s:
        return sorted((e.number, e.status) for e in s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po_id)))


def test_revise_and_cancel_reach_the_other_ship_to_branchs_receipt(net: Net) -> None:
    with net.hq.session() as s:
        for link in s.scalars(select(ItemSupplier)):
            link.contracted = True
        s.scalars(select(Supplier)).one().allows_consolidation = True
        approvals.ensure_default_rules(s, _world(s).ho.id)
        s.commit()
    quiesce(net.hq, net.dal, net.hou)
    with net.dal.session() as s:
        w = _world(s)
        po = purchasing.create_po(s, w.actors["alice"], "ACME", "DAL1", [
            purchasing.LineInput(sku="WIDGET", qty=12), purchasing.LineInput(sku="BOLT", qty=10, ship_to_warehouse_id=w.wh_hou.id)])
        purchasing.submit(s, w.actors["alice"], po.id)  # small: approved without anyone
        s.commit()
        po_id = po.id
    quiesce(net.dal, net.hou, net.hq)
    assert _receipts(net.dal, po_id) == [("DAL-ER-000001", "expected"), ("HOU-ER-000001", "expected")]

    with net.dal.session() as s:  # a new revision: DAL cancels its receipt, HOU cancels its own
        w = _world(s)
        purchasing.revise(s, w.actors["alice"], po_id, lines=[
            purchasing.LineInput(sku="WIDGET", qty=24), purchasing.LineInput(sku="BOLT", qty=20, ship_to_warehouse_id=w.wh_hou.id)])
        s.commit()
    quiesce(net.dal, net.hou, net.hq)
    want = [("DAL-ER-000001", "cancelled"), ("DAL-ER-000002", "expected"),
            ("HOU-ER-000001", "cancelled"), ("HOU-ER-000002", "expected")]
    assert all(_receipts(site, po_id) == want for site in (net.hq, net.dal, net.hou))

    with net.dal.session() as s:
        purchasing.cancel(s, _world(s).actors["alice"], po_id, "not needed")
        s.commit()
    quiesce(net.dal, net.hou, net.hq)
    want = [(n, "cancelled") for n, _ in want]
    for site in (net.hq, net.dal, net.hou):
        assert _receipts(site, po_id) == want, site.path.name
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path.name
        assert site_hashes(site) == server_hashes(net.server), site.path.name
