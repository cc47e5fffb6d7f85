"""Push and pull under the conditions that lose writes in weaker designs."""

from __future__ import annotations

import datetime as dt
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from app.models.catalog import Item
from app.models.hlc import HLC
from app.models.types import utcnow
from app.services.replication import push as push_mod
from app.services.replication.engine import purge_local_tombstones
from app.services.replication.push import read_local_rows, upsert_rows
from app.services.replication.server import purge_tombstones
from app.services.replication.tables import sync_tables
from app.services.stock import on_hand
from tests.sync.conftest import ADMIN_DSN, Net, quiesce, server_hashes, site_hashes
from tests.sync.helpers import edit_order, new_order, order_field, receive


def test_a_late_committing_server_transaction_is_still_pulled(net: Net) -> None:
    late = psycopg.connect(net.server.dsn)
    late.execute("UPDATE item SET description = 'late', hlc = hlc + 1 WHERE sku = 'BOLT'")  # txid taken, not committed
    with net.hq.session() as s:  # a later transaction commits first
        s.scalars(select(Item).where(Item.sku == "WIDGET")).one().velocity_class = "B"
        s.commit()
    net.hq.sync()
    net.dal.sync()
    assert net.dal.scalar("SELECT description FROM item WHERE sku = 'BOLT'") == "Hex bolt M8"
    late.commit()
    late.close()
    net.dal.sync()
    assert net.dal.scalar("SELECT description FROM item WHERE sku = 'BOLT'") == "late"
    assert net.dal.scalar("SELECT velocity_class FROM item WHERE sku = 'WIDGET'") == "B"


def test_a_batch_resent_after_a_crash_changes_nothing(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    w = net.world
    receive(net.dal, w, "DAL", "BOLT", 25)
    new_order(net.dal, w, "DAL", "DAL-SO-000010")

    def crash(point: str) -> None:
        if point == "after-push-commit":
            raise RuntimeError("power cut")

    monkeypatch.setattr(push_mod, "fault", crash)
    pending = net.dal.scalar("SELECT count(*) FROM sync_outbox")
    with pytest.raises(RuntimeError):
        net.dal.sync()
    assert net.dal.scalar("SELECT count(*) FROM sync_outbox") == pending  # server committed, outbox kept
    monkeypatch.undo()
    res = net.dal.sync()
    assert res.pending == 0
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1
    assert net.server.query("SELECT count(*) FROM depot_receipt WHERE site_id <> ''")[0][0] >= 1
    quiesce(net.dal, net.hou)
    with net.hou.session() as s:
        assert on_hand(s, w.items["BOLT"].id) == 25


def test_reordered_and_repeated_versions_leave_the_newest(net: Net) -> None:
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000011")
    t = sync_tables()["sales_order"]
    versions = []
    for po in ("v1", "v2", "v3"):
        edit_order(net.dal, oid, customer_po=po)
        with net.dal.engine.connect() as c:
            versions.append(read_local_rows(c, t, [oid.hex])[0])
    with psycopg.connect(net.server.role_dsn("DAL")) as pg:
        for row in (versions[2], versions[0], versions[1], versions[2], versions[0]):
            with pg.cursor() as cur:
                upsert_rows(cur, t, [row], head_office=False)
            pg.commit()
    assert net.server.query("SELECT customer_po FROM sales_order")[0][0] == "v3"


def test_workstations_of_one_branch_resolve_by_hlc_and_the_loser_is_logged(net: Net, make_site: Any) -> None:
    dal2 = make_site("dal2", net.server.role_dsn("DAL"))
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000012")
    net.dal.sync()
    dal2.sync()
    edit_order(net.dal, oid, customer_po="first")  # earlier clock
    edit_order(dal2, oid, customer_po="second")  # later clock wins, whoever pushes first
    dal2.sync()
    res = net.dal.sync()
    assert res.lost == 1
    assert order_field(net.dal, oid, "customer_po") == "second"
    kind, local = net.dal.scalar("SELECT kind || '|' || local_row FROM sync_conflict").split("|", 1)
    assert kind == "lost" and '"first"' in local
    quiesce(net.dal, dal2, net.hou)
    assert site_hashes(net.dal) == site_hashes(dal2) == site_hashes(net.hou) == server_hashes(net.server)


def test_a_clock_an_hour_ahead_is_refused_and_one_an_hour_behind_loses_visibly_but_converges(
        net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    real = HLC()
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000013")
    net.dal.sync()
    monkeypatch.setattr("app.services.db.clock", HLC(lambda: real.now() // 65536 + 3_600_000))
    edit_order(net.dal, oid, customer_po="from the future")
    monkeypatch.setattr("app.services.db.clock", HLC(lambda: real.now() // 65536 - 3_600_000))
    receive(net.hou, net.world, "HOU", "BOLT", 3)
    with net.hou.session() as s:
        s.scalars(select(Item).where(Item.sku == "MILK")).one().velocity_class = "A"
        s.commit()
    monkeypatch.undo()
    res = net.dal.sync()
    assert res.rejected == 1
    assert "ahead of the server clock" in net.dal.scalar("SELECT reason FROM sync_conflict")
    assert order_field(net.dal, oid, "customer_po") == ""
    # an hour behind, Houston's edit is older than head office's version: it loses, visibly
    assert net.hou.sync().lost == 1
    assert net.hou.scalar("SELECT kind FROM sync_conflict WHERE tbl = 'item'") == "lost"
    quiesce(net.hou, net.dal, net.hq)
    assert net.dal.scalar("SELECT velocity_class FROM item WHERE sku = 'MILK'") == "C"
    with net.dal.session() as s:
        assert on_hand(s, net.world.items["BOLT"].id) == 3  # its ledger rows are never lost
    assert site_hashes(net.dal) == site_hashes(net.hou) == site_hashes(net.hq) == server_hashes(net.server)


@pytest.mark.parametrize("long_transaction", [False, True], ids=["quiet", "long-transaction-elsewhere"])
def test_soft_deletes_replicate_and_tombstones_are_purged_after_every_site_passed(net: Net,
                                                                                  long_transaction: bool) -> None:
    """With ``long_transaction`` an unrelated transaction holds the cluster's xmin back the whole
    time (as other users of a shared server do): purge still follows what each site has seen."""
    other = psycopg.connect(ADMIN_DSN) if long_transaction else None
    try:
        if other is not None:
            other.execute("SELECT pg_current_xact_id()")  # holds an xid until the test ends
        _tombstone_walk(net)
    finally:
        if other is not None:
            other.close()


def _tombstone_walk(net: Net) -> None:
    from app.services import masterdata as md

    with net.hq.session() as s:
        tmp = md.create_item(s, "TEMP", "Short-lived item")
        s.commit()
        tid = tmp.id
    quiesce(net.hq, net.dal, net.hou)
    with net.hq.session() as s:
        it = s.get(Item, tid)
        assert it is not None
        it.deleted_at = utcnow() - dt.timedelta(seconds=1)
        s.commit()
    net.hq.sync()
    net.dal.sync()
    assert net.dal.scalar("SELECT deleted_at IS NOT NULL FROM item WHERE sku = 'TEMP'") == 1
    assert purge_tombstones(net.server.dsn) == {}  # Houston has not pulled the tombstone yet
    net.hou.sync()
    net.hq.sync()
    assert purge_tombstones(net.server.dsn) == {"item": 1}
    assert net.server.query("SELECT count(*) FROM item WHERE sku = 'TEMP'")[0][0] == 0
    for site in (net.hq, net.dal, net.hou):
        assert purge_local_tombstones(site.engine, older_than_days=0) == 1
        assert site.scalar("SELECT count(*) FROM sync_outbox") == 0
    assert site_hashes(net.dal) == server_hashes(net.server)


def test_a_big_pull_recomputes_balances_once_and_keeps_the_trigger(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.replication import apply as apply_mod
    from app.services.stock import balance_mismatches

    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)
    receive(net.dal, net.world, "DAL", "WIDGET", 5)  # a local balance the rebuild must keep
    for q in (1, 2, 3):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    net.hou.sync()
    net.dal.sync()
    with net.dal.session() as s:
        assert balance_mismatches(s) == []
        assert on_hand(s, net.world.items["BOLT"].id) == 6
        assert on_hand(s, net.world.items["WIDGET"].id) == 5
    assert net.dal.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'trg_stock_move_balance'") == 1
    receive(net.dal, net.world, "DAL", "BOLT", 4)  # the trigger works again afterwards
    with net.dal.session() as s:
        assert on_hand(s, net.world.items["BOLT"].id) == 10
