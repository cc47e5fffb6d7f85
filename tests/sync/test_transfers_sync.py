"""A transfer between two branches over the real server: Dallas ships, Houston receives at its
dock through the Receiving service, each site writes only its own rows, and after quiescing every
site agrees: received, stock where it belongs, nothing in transit, no conflicts."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import func, select

from app.models.inventory import TransferLine, TransferOrder
from app.models.org import Location
from app.models.purchasing import ExpectedReceipt
from app.models.stock import StockBalance
from app.services.auth import actor_for, create_user
from app.services.db import session_scope
from app.services.errors import Conflict
from app.services.inventory.transfer_settle import er_id_for
from app.services.inventory.transfers import (
    TransferLineSpec,
    create_transfer,
    receive_transfer,
    ship_transfer,
)
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.stock import on_hand
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def _transit(site: Site) -> int:
    with site.session() as s:
        return int(s.scalar(select(func.coalesce(func.sum(StockBalance.qty), 0)).join(
            Location, Location.id == StockBalance.location_id).where(Location.kind == "transit")) or 0)


def test_dallas_ships_houston_receives_every_site_agrees(net: Net, make_site: Callable[[str, str], Site]) -> None:
    w = net.world
    widget, bolt = w.items["WIDGET"].id, w.items["BOLT"].id
    with session_scope(net.hq.engine) as s:  # head office adds a Houston receiver (master data)
        hugo = create_user(s, "hugo", "secret-hugo", ["receiver"], owner_branch_id=w.ho.id, branch_id=w.hou.id)
    net.hq.sync()
    receive(net.dal, w, "DAL", "WIDGET", 60)
    receive(net.dal, w, "DAL", "BOLT", 10)
    with session_scope(net.dal.engine) as s:
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id, [TransferLineSpec(widget, 45), TransferLineSpec(bolt, 10)])
        ship_transfer(s, w.actors["wes"], t.id)
        tid, number = t.id, t.number
    assert _transit(net.dal) == 55
    net.dal.sync()

    res = net.hou.sync()  # Houston pulls the shipment; its settler creates its expected receipt
    assert res.settled == {"transfers.expect": 1} and res.settle_errors == []
    assert _transit(net.hou) == 55  # in transit once, in Dallas's transit location, at every site
    with net.hou.session() as s:
        er = s.get(ExpectedReceipt, er_id_for(tid))
        assert er is not None and er.number.startswith("HOU-ER-") and er.status == "expected"
        actor = actor_for(s, s.merge(hugo))
    with session_scope(net.hou.engine) as s:  # the Receiving screen's path: scan and post
        posted = post_receipt(s, actor, er_id_for(tid), [ReceiveLine(widget, 45), ReceiveLine(bolt, 8)])
    assert posted.notes == [f"{number} received; DAL's transfer shows it received when DAL next syncs"]
    assert _transit(net.hou) == 0  # 2 bolts short: written off from transit by the same receipt
    net.hou.sync()
    # a second Houston workstation (first sync now), before Dallas has settled: Dallas's transfer
    # still says shipped there, yet receiving it again is refused from Houston's own rows
    hou2 = make_site("hou2", net.server.role_dsn("HOU"))
    hou2.sync()
    with hou2.session() as s:
        t = s.get(TransferOrder, tid)
        assert t is not None and t.status == "shipped"
        with pytest.raises(Conflict, match=f"transfer {number} was already received on"):
            receive_transfer(s, actor, tid)
    assert _transit(hou2) == 0

    res = net.dal.sync()  # Dallas pulls Houston's receipt and settles its transfer
    assert res.settled == {"transfers.receipts": 1} and res.settle_errors == []
    quiesce(net.dal, net.hou, net.hq, hou2)

    for site in (net.hq, net.dal, net.hou, hou2):
        with site.session() as s:
            t = s.get(TransferOrder, tid)
            assert t is not None and t.status == "received" and t.expected_receipt_id == er_id_for(tid), site.path
            lines = s.scalars(select(TransferLine).where(TransferLine.transfer_id == tid).order_by(TransferLine.line_no))
            assert [(ln.qty_shipped, ln.qty_received, ln.qty_short) for ln in lines] == [(45, 45, 0), (10, 8, 2)]
            assert (on_hand(s, widget, w.wh_dal.id), on_hand(s, widget, w.wh_hou.id)) == (15, 45), site.path
            assert (on_hand(s, bolt, w.wh_dal.id), on_hand(s, bolt, w.wh_hou.id)) == (0, 8), site.path
        assert _transit(site) == 0, site.path
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path
    with net.hou.session() as s:
        with pytest.raises(Conflict, match=f"transfer {number} was already received"):
            receive_transfer(s, actor, tid)
        s.rollback()
        with pytest.raises(Conflict, match="already received"):
            post_receipt(s, actor, er_id_for(tid), [ReceiveLine(widget, 45)])
    assert net.hou.sync().pending == 0
    hashes = server_hashes(net.server)
    assert site_hashes(net.dal) == site_hashes(net.hou) == site_hashes(net.hq) == site_hashes(hou2) == hashes


def test_houston_turns_dallas_transfer_requisitions_into_its_transfer(net: Net) -> None:
    import datetime as dt

    from app.models.buying import Requisition
    from app.services.buying.conversion import transfers_from_requisitions
    from app.services.buying.requisitions import AcceptLine, accept

    w = net.world
    with session_scope(net.hq.engine) as s:
        hank = create_user(s, "hank", "secret-hank", ["warehouse"], owner_branch_id=w.ho.id, branch_id=w.hou.id)
    with session_scope(net.dal.engine) as s:  # Dallas asks Houston for bolts: its own request row
        (req,) = accept(s, w.actors["alice"], [AcceptLine(w.items["BOLT"].id, w.wh_dal.id, "transfer", 7,
                                                          source_warehouse_id=w.wh_hou.id, need_by=dt.date(2026, 12, 3))])
        rid = req.id
    quiesce(net.hq, net.dal, net.hou)
    with session_scope(net.hou.engine) as s:
        (t,) = transfers_from_requisitions(s, actor_for(s, s.merge(hank)), [rid])
        tid = t.id
        assert t.number.startswith("HOU-TR-") and t.requested_date == dt.date(2026, 12, 3)
    quiesce(net.hou, net.dal, net.hq)
    for site in (net.hq, net.dal, net.hou):
        with site.session() as s:
            r = s.get(Requisition, rid)
            assert r is not None and (r.status, r.transfer_id) == ("converted", tid), site.path
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path
    assert site_hashes(net.dal) == site_hashes(net.hou) == site_hashes(net.hq) == server_hashes(net.server)
