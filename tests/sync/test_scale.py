"""Replication at scale (issue 20): what a push leaves on the server, what a pull reads again.

The figures are in ``depot bench sync_scale``; these tests hold the behaviour that makes them:
a push creates no temporary table, a pull never re-reads what the previous pull read (even with
a transaction held open elsewhere on the cluster) nor the rows this site just pushed, and an idle
sync writes nothing on the server.
"""

from __future__ import annotations

import datetime as dt
import time
from typing import Any

import psycopg
import pytest
from sqlalchemy import select

from app.models.catalog import Item
from app.services.db import session_scope, site_id
from app.services.replication import pull as pull_mod
from app.services.replication.conn import open_server
from app.services.replication.push import push
from tests.sync.conftest import ADMIN_DSN, Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import edit_order, new_order, receive


def _site_id(site: Site) -> str:
    with session_scope(site.engine) as s:
        return site_id(s)


def test_a_push_creates_no_temporary_table(net: Net) -> None:
    w = net.world
    receive(net.dal, w, "DAL", "BOLT", 4)
    oid = new_order(net.dal, w, "DAL", "DAL-SO-000101")
    edit_order(net.dal, oid, customer_po="PO-77")
    pg = open_server(net.dal.dsn)
    try:
        stats = push(net.dal.engine, pg, _site_id(net.dal), head_office=False)
        assert stats.rows >= 2 and stats.rejected == 0
        # a temp table (even ON COMMIT DELETE ROWS) would give this backend a temp schema for life
        assert pg.execute("SELECT pg_my_temp_schema()::int").fetchone() == (0,)
        pg.rollback()
    finally:
        pg.close()
    assert net.server.query("SELECT customer_po FROM sales_order WHERE number = 'DAL-SO-000101'") == [("PO-77",)]
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1


def test_a_big_batch_goes_by_copy_and_lands_whole(net: Net) -> None:
    """Above JSON_MAX_ROWS rows of one table a batch is COPYed (twice as fast to parse); a temp
    table's catalog rows are nothing beside that many rows."""
    from app.services.replication.push import JSON_MAX_ROWS
    from app.services.stock import MoveSpec, post_moves, virtual_location

    w = net.world
    n = JSON_MAX_ROWS + 100
    with net.dal.session() as s:
        sup = virtual_location(s, w.wh_dal.id, "supplier")
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 1, sup.id, w.bins["DAL1-A-01"].id, "receipt")] * n,
                   owner_branch_id=w.dal.id)
        s.commit()
    pg = open_server(net.dal.dsn)
    try:
        assert push(net.dal.engine, pg, _site_id(net.dal), head_office=False, batch_size=5000).rows == n
        assert pg.execute("SELECT pg_my_temp_schema()::int <> 0").fetchone() == (True,)
        pg.rollback()
    finally:
        pg.close()
    assert net.server.query("SELECT count(*), sum(qty) FROM stock_move") == [(n, n)]
    assert net.hou.sync().pulled == n


def test_a_held_transaction_elsewhere_does_not_make_pulls_read_again(net: Net) -> None:
    """An open transaction anywhere on the cluster holds every snapshot's xmin (the cursor) back;
    pulls still read each row once: what the previous pull's snapshot saw is skipped."""
    other = psycopg.connect(ADMIN_DSN)
    try:
        other.execute("SELECT pg_current_xact_id()")
        quiesce(net.dal, net.hou)
        for qty in (1, 2, 3):
            receive(net.dal, net.world, "DAL", "BOLT", qty)
            sent = net.dal.sync()
            assert sent.pushed >= 1
            assert sent.pulled == 0  # its own rows do not come back
            got = net.hou.sync()
            assert got.pulled == sent.pushed  # exactly the new rows, not everything since the held xid
            assert net.hou.sync().pulled == 0
    finally:
        other.close()
    quiesce(net.dal, net.hou)
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)


def test_a_late_commit_during_a_held_transaction_is_still_pulled(net: Net) -> None:
    """Skipping what the previous snapshot saw must not skip a transaction that was running then."""
    late = psycopg.connect(net.server.dsn)
    late.execute("UPDATE item SET description = 'late', hlc = hlc + 1 WHERE sku = 'BOLT'")
    receive(net.dal, net.world, "DAL", "BOLT", 5)
    net.dal.sync()
    assert net.hou.sync().pulled >= 1
    late.commit()
    late.close()
    net.hou.sync()
    assert net.hou.scalar("SELECT description FROM item WHERE sku = 'BOLT'") == "late"


def test_a_branch_master_edit_brings_back_head_office_fields_it_had_not_seen(net: Net) -> None:
    """A branch's push of master data updates only its editable fields, so the merged row must
    come back to it (its own pushes are skipped on pull for every other class)."""
    with net.hq.session() as s:
        s.scalars(select(Item).where(Item.sku == "BOLT")).one().description = "Hex bolt M8 zinc"
        s.commit()
    net.hq.sync()
    with net.dal.session() as s:  # Dallas has not pulled the new name yet
        s.scalars(select(Item).where(Item.sku == "BOLT")).one().velocity_class = "A"
        s.commit()
    net.dal.sync()
    assert net.dal.scalar("SELECT description FROM item WHERE sku = 'BOLT'") == "Hex bolt M8 zinc"
    assert net.dal.scalar("SELECT velocity_class FROM item WHERE sku = 'BOLT'") == "A"
    quiesce(net.hq, net.dal, net.hou)
    assert site_hashes(net.dal) == site_hashes(net.hq) == server_hashes(net.server)


def _seen(net: Net, site: Site) -> tuple[Any, ...]:
    rows = net.server.query("SELECT last_seen, cursor::text FROM depot_site WHERE site_id = %s", _site_id(site))
    return rows[0]


def test_an_idle_sync_writes_nothing_on_the_server(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    with net.dal.engine.begin() as c:  # its last report is long ago: the next sync reports, idle or not
        c.exec_driver_sql("UPDATE sync_state SET value = '0' WHERE key = 'reported_at'")
    net.dal.sync()
    before = _seen(net, net.dal)
    assert net.dal.sync().pulled == 0
    assert _seen(net, net.dal) == before
    receive(net.hou, net.world, "HOU", "BOLT", 2)
    net.hou.sync()
    assert net.dal.sync().pulled >= 1  # a pull that brought rows reports (tombstone purge follows it)
    after = _seen(net, net.dal)
    assert after[0] > before[0] and int(after[1]) >= int(before[1])
    monkeypatch.setattr(pull_mod, "REPORT_EVERY_S", 0)  # and an idle site still reports now and then
    net.dal.sync()
    assert _seen(net, net.dal)[0] > after[0]
    assert isinstance(after[0], dt.datetime)


def test_a_retired_workstation_no_longer_holds_purge_back_and_catches_up_when_it_returns(net: Net) -> None:
    from app.services import masterdata as md
    from app.services.replication.engine import purge_local_tombstones
    from app.services.replication.server import purge_tombstones

    with net.hq.session() as s:
        tid = md.create_item(s, "TEMP", "Short-lived item").id
        s.commit()
    quiesce(net.hq, net.dal, net.hou)
    with net.hq.session() as s:  # Houston is switched off from here on
        it = s.get(Item, tid)
        assert it is not None
        it.deleted_at = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=1)
        s.commit()
    net.hq.sync()
    net.dal.sync()
    assert purge_tombstones(net.server.dsn) == {}  # Houston has not seen the delete
    with psycopg.connect(net.server.dsn) as c:  # ... and is not seen for 31 days
        c.execute("UPDATE depot_site SET last_seen = now() - interval '31 days' WHERE site_id = %s", (_site_id(net.hou),))
    assert purge_tombstones(net.server.dsn, site_expiry_days=30) == {"item": 1}
    assert net.server.query("SELECT count(*) FROM depot_purged WHERE tbl = 'item' AND id = %s", tid)[0][0] == 1
    assert net.hou.scalar("SELECT deleted_at IS NULL FROM item WHERE sku = 'TEMP'") == 1
    net.hou.sync()  # back: the purged row becomes a tombstone here too, and the site is seen again
    assert net.hou.scalar("SELECT deleted_at IS NOT NULL FROM item WHERE sku = 'TEMP'") == 1
    assert net.server.query("SELECT last_seen > now() - interval '1 minute' FROM depot_site WHERE site_id = %s",
                            _site_id(net.hou)) == [(True,)]
    assert net.hou.sync().pulled == 0 and net.hou.scalar("SELECT count(*) FROM sync_outbox") == 0
    time.sleep(1.1)  # the local purge's cutoff is whole seconds; the row was deleted when the server purged it
    for site in (net.dal, net.hou):
        assert purge_local_tombstones(site.engine, older_than_days=0) == 1
    assert site_hashes(net.hou) == site_hashes(net.dal) == server_hashes(net.server)


def test_acknowledged_receipts_are_purged(net: Net) -> None:
    from app.services.replication.maintenance import purge_receipts

    for qty in (1, 2, 3):
        receive(net.dal, net.world, "DAL", "BOLT", qty)
    assert net.dal.sync(batch_size=1).pushed == 3
    sid = _site_id(net.dal)
    assert net.server.query("SELECT count(*) FROM depot_receipt WHERE site_id = %s", sid)[0][0] == 3
    assert purge_receipts(net.server.dsn) >= 2
    # the newest stays: it is what recognises that batch if it is resent after a crash
    assert net.server.query("SELECT count(*) FROM depot_receipt WHERE site_id = %s", sid)[0][0] == 1
    receive(net.dal, net.world, "DAL", "BOLT", 4)
    assert net.dal.sync().pushed == 1
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 4


def test_server_check_names_what_to_fix(net: Net, capsys: pytest.CaptureFixture[str]) -> None:
    import json

    from app.cli import run

    other = psycopg.connect(ADMIN_DSN)
    try:
        other.execute("SELECT pg_current_xact_id()")
        other.execute("SET application_name = 'forgotten'")
        assert run(["server", "check", "--dsn", net.server.dsn, "--fix", "--json"]) in (0, 1)
        out = json.loads(capsys.readouterr().out)
    finally:
        other.close()
    found = {f["name"]: f for f in out["findings"]}
    assert out["analyzed"] > 40
    assert found["statistics"]["ok"], found["statistics"]
    assert {"autovacuum", "connections", "long transactions", "sites", "receipts"} <= set(found)
    assert "2 workstations known" in found["sites"]["detail"]
    assert run(["server", "purge", "--dsn", net.server.dsn, "--site-expiry-days", "0"]) == 1
    assert "--site-expiry-days" in capsys.readouterr().err


def test_server_check_recommends_a_pooler_beyond_a_few_hundred_workstations(
        net: Net, capsys: pytest.CaptureFixture[str]) -> None:
    """Against the real server (max_connections as it is set): a few workstations fit; more than the
    connections leave room for are told to raise max_connections (or use a pooler); several hundred
    are told to put PgBouncer in transaction mode in front, not to raise the limit."""
    import json

    from app.cli import run
    from app.services.replication.link import KEEP_SHARE
    from app.services.replication.maintenance import SENSIBLE_CONNECTIONS

    def connections() -> dict[str, Any]:
        assert run(["server", "check", "--dsn", net.server.dsn, "--json"]) in (0, 1)
        found = {f["name"]: f for f in json.loads(capsys.readouterr().out)["findings"]}
        return dict(found["connections"])

    with psycopg.connect(net.server.dsn) as c:
        max_conn, reserved = c.execute("SELECT current_setting('max_connections')::int, "
                                       "current_setting('superuser_reserved_connections')::int").fetchone()  # type: ignore[misc]

    def seen_today(n: int) -> None:  # workstations that synced today (as many as the check needs)
        with psycopg.connect(net.server.dsn) as c:
            c.execute("DELETE FROM depot_site WHERE site_id LIKE 'ws-%'")
            c.execute("INSERT INTO depot_site (site_id, last_seen) SELECT 'ws-' || g, now() FROM generate_series(1, %s) g",
                      (n,))

    few = connections()
    assert few["ok"], few
    keep = int((max_conn - reserved) * KEEP_SHARE)
    need = reserved + -(-(keep + 10) * 4 // 3) + 10
    if need <= SENSIBLE_CONNECTIONS:  # a server with a small limit: raising it is still sensible
        seen_today(keep + 10 - 2)
        more = connections()
        assert not more["ok"]
        assert f"raise max_connections to at least {need}" in more["detail"], more
        assert "PgBouncer" in more["detail"]
    seen_today(600)
    many = connections()
    assert not many["ok"]
    assert "602 workstations seen today" in many["detail"], many
    assert "pool_mode = transaction" in many["detail"] and "raise max_connections" not in many["detail"], many
    assert "more than a server holds sensibly" in many["detail"]


def test_a_limit_already_raised_for_a_thousand_workstations_still_gets_the_pooler_advice() -> None:
    """max_connections 1400 fits 1,000 kept connections, but ~30 GB of backends is not a sensible
    server: the line still says to put PgBouncer in front; 200 workstations on it are fine."""
    from app.services.replication.maintenance import connections_finding

    big = connections_finding(1400, 3, 1000)
    assert not big.ok and "pool_mode = transaction" in big.detail and "about 30 GB" in big.detail, big.line()
    assert connections_finding(1400, 3, 200).ok


def test_a_large_push_gives_its_tables_planner_statistics(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """A branch login cannot ANALYZE (it owns no table): the server's depot_analyze does it after a
    push of at least ANALYZE_ROWS rows of a table, and a routine push leaves statistics alone."""
    from app.services.replication import push as push_mod

    def analyzed() -> int:
        with psycopg.connect(net.server.dsn) as c:
            row = c.execute("SELECT analyze_count FROM pg_stat_user_tables WHERE relname = 'stock_move'").fetchone()
            return int(row[0]) if row else 0

    monkeypatch.setattr(push_mod, "ANALYZE_ROWS", 5)
    w = net.world
    before = analyzed()
    receive(net.dal, w, "DAL", "BOLT", 3)  # one move: a routine push
    net.dal.sync()
    assert analyzed() == before
    for _ in range(5):
        receive(net.dal, w, "DAL", "BOLT", 1)
    assert net.dal.sync().pushed >= 5
    assert analyzed() == before + 1
