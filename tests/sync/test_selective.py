"""Selective replication (issue 20): a branch workstation pulls its own branch's rows, master data,
the other branches' rows that reference its warehouses (and what those reference) and the sister
warehouses' figures; head office still pulls everything. Every site still agrees with the server
on every row it holds, and holds every row its scope selects."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Callable

from sqlalchemy import select, text

from app.models.inventory import TransferLine, TransferOrder
from app.models.org import Location, Warehouse
from app.services import masterdata as md
from app.services.auth import actor_for, create_user
from app.services.db import session_scope
from app.services.inventory.queries import item_figures
from app.services.inventory.transfer_settle import er_id_for
from app.services.inventory.transfers import TransferLineSpec, create_transfer, ship_transfer
from app.services.receiving.post import ReceiveLine, post_receipt
from app.services.replenishment.engine import run
from app.services.replenishment.figures_publish import _job as figures_publish_job
from app.services.replenishment.figures_publish import publish
from app.services.replenishment.policies import set_policy
from app.services.replenishment.transfers import Option
from app.services.replication.server import set_selective
from app.services.stock import MoveSpec, on_hand, post_moves, virtual_location
from tests.factories import World
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import assert_scoped_convergence, receive


def _selective(net: Net) -> None:
    assert set_selective(net.server.dsn, True).selective


def test_a_branch_pulls_its_scope_and_sees_a_sisters_transfer_to_it(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    w = net.world
    _selective(net)
    dal2 = make_site("dal2", net.server.role_dsn("DAL"))  # new workstations: their first sync is selective
    hou2 = make_site("hou2", net.server.role_dsn("HOU"))
    receive(net.hou, w, "HOU", "WIDGET", 70)  # Houston's own stock: Dallas never needs its moves
    receive(net.dal, w, "DAL", "BOLT", 30)
    with session_scope(net.dal.engine) as s:
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id, [TransferLineSpec(w.items["BOLT"].id, 12)])
        ship_transfer(s, w.actors["wes"], t.id)
        tid = t.id
    quiesce(net.hq, net.dal, net.hou, dal2, hou2)

    with hou2.session() as s:  # Houston sees Dallas's transfer to it, its lines, and its expected receipt
        tr = s.get(TransferOrder, tid)
        assert tr is not None and tr.status == "shipped"
        assert [ln.qty_shipped for ln in s.scalars(select(TransferLine).where(TransferLine.transfer_id == tid))] == [12]
        assert tr.expected_receipt_id is not None
        assert on_hand(s, w.items["WIDGET"].id, w.wh_hou.id) == 70
    # ... and the moves of that transfer, but not Dallas's own receipt of bolts into its bins
    dal_bin = w.bins["DAL1-A-01"].id.hex
    assert hou2.scalar("SELECT count(*) FROM stock_move WHERE reason = 'transfer_out'") == 1
    assert hou2.scalar("SELECT count(*) FROM stock_move WHERE to_location_id = :b AND reason = 'receipt'", b=dal_bin) == 0
    assert net.hq.scalar("SELECT count(*) FROM stock_move WHERE to_location_id = :b AND reason = 'receipt'", b=dal_bin) == 1
    with dal2.session() as s:
        assert on_hand(s, w.items["BOLT"].id, w.wh_dal.id) == 18
        assert on_hand(s, w.items["WIDGET"].id, w.wh_hou.id) == 0
        assert s.scalars(select(TransferOrder.status).where(TransferOrder.id == tid)).one() == "shipped"

    assert_scoped_convergence(net, dal2, w.dal.id.hex, [w.wh_dal.id.hex])
    assert_scoped_convergence(net, hou2, w.hou.id.hex, [w.wh_hou.id.hex])
    assert hou2.scalar("SELECT count(*) FROM stock_move") < net.hq.scalar("SELECT count(*) FROM stock_move")
    # head office still pulls everything
    assert site_hashes(net.hq) == server_hashes(net.server)


def _dal_bolt_transfer(site: Site, w: World) -> Option | None:
    with site.session() as s:
        res = run(s, None, branch_code="DAL", today=dt.date.today())
        (rec,) = [r for r in res.recommendations if r.sku == "BOLT" and r.warehouse_code == "DAL1"]
        return rec.transfer


def test_a_branch_offers_a_transfer_from_a_sisters_published_surplus(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    """Dallas holds none of Houston's moves, yet sees Houston's surplus of bolts in the figures
    Houston published, and is offered a transfer instead of a purchase."""
    w = net.world
    _selective(net)
    dal2 = make_site("dal2", net.server.role_dsn("DAL"))
    receive(net.hou, w, "HOU", "BOLT", 500)  # no sales at Houston: all of it is surplus
    with session_scope(dal2.engine) as s:  # Dallas buys bolts to a fixed min/max: 0 on hand, so a need of 50
        dal2.sync()
        set_policy(s, w.actors["alice"], "DAL1", "BOLT", 20, 50)
    quiesce(net.hou, dal2)
    with dal2.session() as s:
        assert on_hand(s, w.items["BOLT"].id, w.wh_hou.id) == 0  # Houston's receipt is not here
        # ... so the stock screens show no figure for Houston rather than a wrong 0
        assert "HOU1" not in {f.warehouse for f in item_figures(s, w.items["BOLT"].id)}
    assert _dal_bolt_transfer(dal2, w) is None  # ... and nothing published yet: only a purchase

    with session_scope(net.hou.engine) as s:  # Houston's first workstation publishes (the job's round)
        assert publish(s, w.hou.id) >= 1
    quiesce(net.hou, dal2)
    assert dal2.scalar("SELECT on_hand FROM warehouse_figures WHERE warehouse_id = :h AND item_id = :i",
                       h=w.wh_hou.id.hex, i=w.items["BOLT"].id.hex) == 500
    with dal2.session() as s:  # the Inventory screen and `depot stock` show Houston's published figures
        figures = {f.warehouse: f for f in item_figures(s, w.items["BOLT"].id)}
        assert (figures["HOU1"].on_hand, figures["HOU1"].available) == (500, 500)
        assert figures["HOU1"].published is not None
    t = _dal_bolt_transfer(dal2, w)
    assert t is not None and (t.source_code, t.qty) == ("HOU1", 50)
    # head office, which holds Houston's ledger, offers the same transfer from its own arrays
    net.hq.sync()
    with net.hq.session() as s:
        res = run(s, None, branch_code="DAL", today=dt.date.today())
        (rec,) = [r for r in res.recommendations if r.sku == "BOLT" and r.warehouse_code == "DAL1"]
        assert rec.transfer is not None and (rec.transfer.source_code, rec.transfer.qty) == ("HOU1", 50)
    assert_scoped_convergence(net, dal2, w.dal.id.hex, [w.wh_dal.id.hex])


def test_a_branch_that_gains_a_sisters_warehouse_pulls_its_rows(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    """Head office gives Houston's second warehouse to Dallas: Dallas's next pull brings that
    warehouse's rows, those from before its cursor too (the rules follow the warehouse)."""
    w = net.world
    _selective(net)
    with session_scope(net.hq.engine) as s:
        hou = s.merge(w.hou)
        wh2 = md.create_warehouse(s, hou, "HOU2", "Houston annex")
        bin2 = md.create_bin(s, wh2, "B-01")
        wh2_id, bin2_id = wh2.id, bin2.id
    net.hq.sync()
    dal2 = make_site("dal2", net.server.role_dsn("DAL"))
    net.hou.sync()
    with session_scope(net.hou.engine) as s:  # Houston stocks its annex
        sup = virtual_location(s, wh2_id, "supplier")
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 40, sup.id, bin2_id, "receipt")], owner_branch_id=w.hou.id)
    quiesce(net.hou, dal2)
    assert dal2.scalar("SELECT count(*) FROM stock_move WHERE to_location_id = :b", b=bin2_id.hex) == 0

    with session_scope(net.hq.engine) as s:  # the annex now belongs to Dallas
        s.get(Warehouse, wh2_id).branch_id = w.dal.id  # type: ignore[union-attr]
    net.hq.sync()
    dal2.sync()
    assert dal2.scalar("SELECT count(*) FROM stock_move WHERE to_location_id = :b", b=bin2_id.hex) == 1
    with dal2.session() as s:
        assert on_hand(s, w.items["BOLT"].id, wh2_id) == 40
    scope = dal2.scalar("SELECT value FROM sync_state WHERE key = 'scope'")
    assert set(scope.split(",")) == {w.wh_dal.id.hex, wh2_id.hex}
    assert_scoped_convergence(net, dal2, w.dal.id.hex, [w.wh_dal.id.hex, wh2_id.hex])


def test_a_first_sync_holds_a_sisters_bins_only_where_its_rows_name_them(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    """A sister warehouse's storage bins are master data a branch does not work with (51,000 per
    warehouse in the large set): a first sync takes its own warehouses' bins, every warehouse's
    virtual locations, and a sister's bin only where a row it pulls names one (Dallas's transfer to
    Houston leaves DAL1-A-01). A bin that changes later is pulled like any changed row, so what the
    branch holds stays the server's; and Houston receives the transfer out of Dallas's transit."""
    w = net.world
    _selective(net)
    with session_scope(net.hq.engine) as s:  # head office adds a Houston receiver (master data)
        hugo = create_user(s, "hugo", "secret-hugo", ["receiver"], owner_branch_id=w.ho.id, branch_id=w.hou.id)
    net.hq.sync()
    receive(net.dal, w, "DAL", "BOLT", 30)  # into DAL1-A-01
    with session_scope(net.dal.engine) as s:
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id, [TransferLineSpec(w.items["BOLT"].id, 12)])
        ship_transfer(s, w.actors["wes"], t.id)
        tid = t.id
    net.dal.sync()
    hou2 = make_site("hou2", net.server.role_dsn("HOU"))  # a new Houston workstation: a selective first sync
    assert hou2.sync().ok

    def locations(site: Site, wh: uuid.UUID, storage: bool) -> set[str]:
        with site.engine.connect() as c:
            return {bytes(r[0]).hex() for r in c.execute(text(  # ids stored as 16 bytes, read as hex
                "SELECT id FROM location WHERE warehouse_id = :w AND (kind = 'storage') = :s"), {"w": wh.bytes, "s": int(storage)})}

    dal_bin, other = w.bins["DAL1-A-01"].id.hex, w.bins["DAL1-A-02"].id.hex
    assert len(locations(net.hq, w.wh_dal.id, True)) > 1
    assert locations(hou2, w.wh_dal.id, True) == {dal_bin}  # the bin the transfer's line and move leave
    assert locations(hou2, w.wh_dal.id, False) == locations(net.hq, w.wh_dal.id, False)  # dock, transit, ...
    assert locations(hou2, w.wh_hou.id, True) == locations(net.hq, w.wh_hou.id, True)  # its own, every one
    with session_scope(net.hq.engine) as s:  # head office renumbers Dallas's walk: changed rows reach Houston
        for b in (dal_bin, other):
            loc = s.get(Location, uuid.UUID(b))
            assert loc is not None
            loc.walk_seq += 100
    net.hq.sync()
    hou2.sync()
    assert locations(hou2, w.wh_dal.id, True) == {dal_bin, other}
    assert hou2.scalar("SELECT walk_seq FROM location WHERE id = :i", i=dal_bin) == net.hq.scalar(
        "SELECT walk_seq FROM location WHERE id = :i", i=dal_bin)

    with hou2.session() as s:  # Houston's expected receipt of the transfer, posted at the new workstation
        actor = actor_for(s, s.merge(hugo))
    quiesce(net.hou, hou2)
    with session_scope(hou2.engine) as s:
        post_receipt(s, actor, er_id_for(tid), [ReceiveLine(w.items["BOLT"].id, 12)])
    quiesce(hou2, net.dal, net.hou)
    with hou2.session() as s:
        assert on_hand(s, w.items["BOLT"].id, w.wh_hou.id) == 12
    with net.dal.session() as s:
        assert s.get(TransferOrder, tid).status == "received"  # type: ignore[union-attr]
    assert_scoped_convergence(net, hou2, w.hou.id.hex, [w.wh_hou.id.hex])


def test_only_the_publishing_workstation_pulls_its_own_branchs_figures(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    """A branch reads its own warehouses' figures from its own ledger; the rows it publishes of them
    are for its sisters. So a second workstation of Dallas pulls Houston's published figures but not
    Dallas's (50,000 rows of the large set's first sync), at its first sync and after; the first
    workstation, which publishes them, holds its own to write only what changed."""
    w = net.world
    _selective(net)
    bolt = w.items["BOLT"].id
    receive(net.hou, w, "HOU", "BOLT", 500)
    receive(net.dal, w, "DAL", "BOLT", 40)
    for site, branch in ((net.hou, w.hou), (net.dal, w.dal)):  # each branch's first workstation publishes
        with session_scope(site.engine) as s:
            assert publish(s, branch.id) >= 1
    quiesce(net.hou, net.dal, net.hq)
    dal2 = make_site("dal2", net.server.role_dsn("DAL"))
    dal2.sync()

    def figures(site: Site, wh: uuid.UUID) -> int:
        return int(site.scalar("SELECT count(*) FROM warehouse_figures WHERE warehouse_id = :w", w=wh.hex))

    assert (net.dal.scalar("SELECT value FROM sync_state WHERE key = 'workstation'"),
            dal2.scalar("SELECT value FROM sync_state WHERE key = 'workstation'")) == ("1", "2")
    assert figures(dal2, w.wh_dal.id) == 0 and figures(net.dal, w.wh_dal.id) >= 1
    assert figures(dal2, w.wh_hou.id) == figures(net.hq, w.wh_hou.id) >= 1
    with dal2.session() as s:  # the stock screens: Dallas from its ledger, Houston as published
        by = {f.warehouse: f for f in item_figures(s, bolt)}
        assert (by["DAL1"].on_hand, by["DAL1"].published) == (40, None)
        assert (by["HOU1"].on_hand, by["HOU1"].published is not None) == (500, True)
    receive(net.dal, w, "DAL", "BOLT", 10)  # a later publish of Dallas's: still not pulled by the second
    with session_scope(net.dal.engine) as s:
        assert publish(s, w.dal.id) == 1
    assert figures_publish_job(dal2.engine, None) == 0  # the second workstation never publishes
    quiesce(net.dal, dal2)
    assert figures(dal2, w.wh_dal.id) == 0
    with dal2.session() as s:
        assert {f.warehouse: f.on_hand for f in item_figures(s, bolt)}["DAL1"] == 50
    assert_scoped_convergence(net, dal2, w.dal.id.hex, [w.wh_dal.id.hex])
