"""Branches and head office converge through the real PostgreSQL server."""

from __future__ import annotations

from sqlalchemy import select

from app.models.catalog import Item
from app.services.stock import MoveSpec, on_hand, post_moves, virtual_location
from tests.sync.conftest import Net, quiesce, server_hashes, site_hashes


def test_first_sync_gives_branches_head_office_master_data(net: Net) -> None:
    assert site_hashes(net.dal) == site_hashes(net.hq) == server_hashes(net.server)
    assert net.dal.scalar("SELECT count(*) FROM item") == 4
    assert net.dal.scalar("SELECT count(*) FROM sync_outbox") == 0


def test_stock_moves_and_edits_converge_everywhere(net: Net) -> None:
    w = net.world
    with net.dal.session() as s:
        sup = virtual_location(s, w.wh_dal.id, "supplier")
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 40, sup.id, w.bins["DAL1-A-01"].id, "receipt")],
                   owner_branch_id=w.dal.id)
        s.commit()
    with net.hou.session() as s:
        sup = virtual_location(s, w.wh_hou.id, "supplier")
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 7, sup.id, w.bins["HOU1-A-01"].id, "receipt")],
                   owner_branch_id=w.hou.id)
        it = s.scalars(select(Item).where(Item.sku == "BOLT")).one()
        it.velocity_class = "A"  # branch-editable
        s.commit()
    quiesce(net.dal, net.hou, net.hq)
    h = server_hashes(net.server)
    assert site_hashes(net.dal) == site_hashes(net.hou) == site_hashes(net.hq) == h
    for site in (net.dal, net.hou, net.hq):
        with site.session() as s:
            assert on_hand(s, w.items["BOLT"].id) == 47
            assert s.scalars(select(Item.velocity_class).where(Item.sku == "BOLT")).one() == "A"
