"""A first sync into an empty database (bulk shape) leaves it exactly as a row-by-row apply would."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any
from unittest.mock import ANY

import pytest

from app.services.replication import apply as apply_mod
from app.services.replication.engine import sync_once
from app.services.stock import MoveSpec, balance_mismatches, post_moves, reverse_move, virtual_location
from tests.sync.conftest import Net, Site, server_hashes, site_hashes
from tests.sync.helpers import new_order, receive
from tests.sync.test_receiving_branches import _dallas_po, _receive, _setup


def answers_of(monkeypatch: pytest.MonkeyPatch, method: str) -> list[bool]:
    """What each call of ``Applier.<method>`` (a given_* step: were the server's sums taken?) answered."""
    seen: list[bool] = []
    real = getattr(apply_mod.Applier, method)

    def spy(self: Any, *args: Any, **kwargs: Any) -> bool:
        seen.append(real(self, *args, **kwargs))
        return seen[-1]

    monkeypatch.setattr(apply_mod.Applier, method, spy)
    return seen

def _schema(site: Site) -> list[tuple[str, str, str, str]]:
    with site.engine.connect() as c:
        return sorted((str(t), str(n), str(tb), str(s)) for t, n, tb, s in c.exec_driver_sql(
            "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL"))


def _rows(site: Site, q: str) -> list[tuple[Any, ...]]:
    with site.engine.connect() as c:
        return sorted(tuple(r) for r in c.exec_driver_sql(q))


def _sell(site: Site, net: Net, sku: str, qty: int, *, reverse: bool = False) -> None:
    w = net.world
    with site.session() as s:
        src = w.bins["HOU1-A-01"].id
        cust = virtual_location(s, w.wh_hou.id, "customer").id
        [m] = post_moves(s, None, [MoveSpec(w.items[sku].id, qty, src, cust, "sale")], owner_branch_id=w.hou.id)
        if reverse:
            reverse_move(s, None, m.id, owner_branch_id=w.hou.id)
        s.commit()


def test_first_sync_into_an_empty_database_equals_a_row_by_row_apply(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:

    _setup(net)  # a Dallas PO with a Houston line, received at Houston: the KPI digests' PO-line case
    _receive(net.hou, "hugo", _dallas_po(net), "HOU1", "WIDGET", 24)
    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    receive(net.hou, net.world, "HOU", "WIDGET", 5)
    _sell(net.hou, net, "BOLT", 3)
    _sell(net.hou, net, "BOLT", 2, reverse=True)  # the sales-week reversal trigger's case
    new_order(net.hou, net.world, "HOU", "HOU-SO-000300")
    net.hou.sync()

    monkeypatch.setattr(apply_mod, "BULK_MOVES", 10**9)  # every row through indexes and triggers
    plain = make_site("plain", net.server.role_dsn("DAL"))
    plain.sync()
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)  # every table bulk-loaded (empty tables)
    bulk = make_site("bulk", net.server.role_dsn("DAL"))
    res = bulk.sync()
    assert res.pulled > 0

    assert _schema(bulk) == _schema(plain)  # same indexes and triggers, same SQL
    assert site_hashes(bulk) == site_hashes(plain) == server_hashes(net.server)
    for q in ("SELECT location_id, item_id, lot_key, qty FROM stock_balance",
              "SELECT item_id, warehouse_id, week, qty FROM sales_week",
              "SELECT * FROM kpi_stock_day", "SELECT * FROM kpi_po_line"):  # the manager KPIs' digests
        assert _rows(bulk, q) == _rows(plain, q), q
    assert _rows(bulk, "SELECT qty FROM sales_week") == [(3,)]  # 3 sold; 2 sold and taken back
    assert _rows(bulk, "SELECT qty, first_at IS NOT NULL FROM kpi_po_line") == [(24, 1)]  # Houston's receipt
    assert _rows(bulk, "SELECT count(*) FROM kpi_stock_day WHERE inflow <> 0") != [(0,)]
    search = "SELECT i.sku FROM item_fts JOIN item i ON i.rowid = item_fts.rowid WHERE item_fts MATCH 'widget OR bolt'"
    assert _rows(bulk, search) == _rows(plain, search) == [("BOLT",), ("WIDGET",)]  # the search index rebuilt
    with bulk.session() as s:
        assert balance_mismatches(s) == []
    assert bulk.scalar("SELECT count(*) FROM sync_outbox") == 0  # capture stayed off while applying
    assert bulk.scalar("SELECT enabled FROM sync_capture") == 1
    assert int(bulk.scalar("SELECT value FROM sync_state WHERE key = 'cursor'")) > 0  # saved with the rows

    # the recreated triggers work: a local move updates the balance and is captured
    receive(bulk, net.world, "DAL", "BOLT", 4)
    with bulk.session() as s:
        assert balance_mismatches(s) == []
    assert bulk.scalar("SELECT count(*) FROM sync_outbox WHERE tbl = 'stock_move'") == 1


def test_a_first_sync_killed_mid_bulk_load_leaves_the_empty_database_as_it_was(
        net: Net, make_site: Callable[[str, str], Site]) -> None:
    import os
    import signal
    import subprocess
    import sys
    from pathlib import Path

    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    _sell(net.hou, net, "BOLT", 3)
    net.hou.sync()
    site = make_site("killed", net.server.role_dsn("DAL"))
    fresh = _schema(site)
    # BULK_MOVES = 2: every table goes the bulk way; killed after a table's rows went in without
    # its indexes and triggers
    code = ("import runpy, sys; import app.services.replication.apply as a; a.BULK_MOVES = 2; "
            "sys.argv = ['app', '--db', sys.argv[1], 'sync', '--once', '--dsn', sys.argv[2]]; "
            "runpy.run_module('app', run_name='__main__')")
    env = {**os.environ, "DEPOT_SYNC_FAULT": "during-bulk-load", "DEPOT_KEYRING": "memory"}
    site.engine.dispose()  # no other connection: the empty file is loaded under a rollback journal
    proc = subprocess.run([sys.executable, "-c", code, str(site.path), site.dsn], cwd=Path(__file__).resolve().parents[2],
                          env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert site.path.with_name(site.path.name + "-journal").exists()  # hot: the next open rolls it back
    assert _schema(site) == fresh  # every dropped index and trigger is back (the DDL rolled back)
    assert site.scalar("SELECT count(*) FROM stock_move") == 0
    assert site.scalar("SELECT count(*) FROM item") == 0
    assert site.scalar("SELECT value FROM sync_state WHERE key = 'cursor'") is None
    assert site.scalar("SELECT enabled FROM sync_capture") == 1
    site.sync()
    assert _schema(site) == fresh
    assert site_hashes(site) == server_hashes(net.server)
    with site.session() as s:
        assert balance_mismatches(s) == []


def _assert_untouched(site: Site, fresh: list[tuple[str, str, str, str]]) -> None:
    assert _schema(site) == fresh  # every dropped index and trigger is back (the DDL rolled back)
    assert site.scalar("SELECT count(*) FROM stock_move") == 0
    assert site.scalar("SELECT count(*) FROM item") == 0
    assert site.scalar("SELECT value FROM sync_state WHERE key = 'cursor'") is None
    assert site.scalar("SELECT enabled FROM sync_capture") == 1


def _no_reader_left() -> bool:
    import threading

    return not any(t.name == "depot-first-sync-reader" for t in threading.enumerate())


def test_a_first_sync_whose_connection_drops_mid_read_rolls_back_and_the_next_one_completes(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader thread's error (the server session killed while it fetches) reaches the sync: offline,
    nothing applied, and the next sync pulls everything."""
    import psycopg

    from app.services.replication import pull as pull_mod
    from app.services.replication import reader as reader_mod

    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    net.hou.sync()
    site = make_site("dropped", net.server.role_dsn("DAL"))
    fresh = _schema(site)
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 1)  # the bulk shape: indexes and triggers set aside
    monkeypatch.setattr(pull_mod, "READ_AHEAD_ROWS", 0)  # under the write lock from the first table on
    monkeypatch.setattr(pull_mod, "CHUNK_ROWS", 1)
    monkeypatch.setattr(reader_mod, "FETCH_ROWS", 1)  # the reader is never more than a row or two ahead
    killed: list[str] = []

    def kill_after_first_table(table: str, done: int, total: int, rows: int) -> None:
        if rows and not killed:
            killed.append(table)
            with psycopg.connect(net.server.dsn, autocommit=True) as admin:
                admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s",
                              (net.server.roles["DAL"],))

    res = sync_once(site.engine, site.dsn, progress=kill_after_first_table)
    assert killed and not res.ok and res.state == "offline" and "server unreachable" in res.error
    assert _no_reader_left()
    _assert_untouched(site, fresh)
    res = site.sync()
    assert res.pulled > 0
    assert _schema(site) == fresh
    assert site_hashes(site) == server_hashes(net.server)
    with site.session() as s:
        assert balance_mismatches(s) == []


def test_a_first_sync_whose_local_write_fails_stops_the_reader_and_rolls_back(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    from sqlalchemy import exc

    from app.services.replication import pull as pull_mod
    from app.services.replication import reader as reader_mod

    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    net.hou.sync()
    site = make_site("full", net.server.role_dsn("DAL"))
    fresh = _schema(site)
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 1)
    monkeypatch.setattr(pull_mod, "READ_AHEAD_ROWS", 0)
    monkeypatch.setattr(pull_mod, "CHUNK_ROWS", 1)
    monkeypatch.setattr(reader_mod, "FETCH_ROWS", 1)
    real = apply_mod.Applier._insert
    calls = {"n": 0}

    def full_disk(self: Any, t: Any, insert: str, rows: Any) -> None:
        calls["n"] += 1
        if calls["n"] == 3:
            raise exc.OperationalError(insert, (), Exception("database or disk is full"))
        real(self, t, insert, rows)

    monkeypatch.setattr(apply_mod.Applier, "_insert", full_disk)
    res = sync_once(site.engine, site.dsn)
    assert not res.ok and "local database: database or disk is full" in res.error
    assert _no_reader_left()
    _assert_untouched(site, fresh)
    monkeypatch.setattr(apply_mod.Applier, "_insert", real)
    res = site.sync()  # the kept server connection is usable (the reader let it go)
    assert res.ok and res.pulled > 0
    assert site_hashes(site) == server_hashes(net.server)


def test_a_first_sync_loads_an_empty_file_under_a_rollback_journal_and_leaves_it_in_wal(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """An empty file is loaded without WAL (every page written once, not again by a checkpoint);
    with another connection open SQLite refuses the switch at once and the sync runs in WAL."""
    import sqlite3
    import time

    from app.services.replication import pull as pull_mod

    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    net.hou.sync()
    modes: list[str] = []
    real = pull_mod.rollback_journal

    took: list[float] = []

    def spy(conn: Any) -> Any:
        t0 = time.monotonic()
        back = real(conn)
        took.append(time.monotonic() - t0)
        modes.append(str(conn.connection.dbapi_connection.execute("PRAGMA journal_mode").fetchone()[0]))
        return back

    monkeypatch.setattr(pull_mod, "rollback_journal", spy)
    site = make_site("journal", net.server.role_dsn("DAL"))
    assert site.sync().pulled > 0
    assert modes == ["delete"]
    assert site.scalar("PRAGMA journal_mode") == "wal"  # back in WAL for the workstation's writers and readers
    assert not site.path.with_name(site.path.name + "-journal").exists()
    assert site_hashes(site) == server_hashes(net.server)

    busy = make_site("busy", net.server.role_dsn("DAL"))
    other = sqlite3.connect(busy.path)  # another program has the file open
    try:
        other.execute("SELECT count(*) FROM sqlite_master").fetchone()
        assert busy.sync().pulled > 0
        assert took[-1] < 4  # refused at once, not after the 5 s busy_timeout
    finally:
        other.close()
    assert modes == ["delete", "wal"]
    assert site_hashes(busy) == server_hashes(net.server)
    with busy.session() as s:
        assert balance_mismatches(s) == []
    assert modes == ["delete", "wal"]
    assert site.sync().pulled == 0  # a routine pull leaves the journal alone
    assert modes == ["delete", "wal"]


def test_a_first_sync_pulling_everything_takes_the_balances_the_server_summed_or_recomputes_them(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """The server sums the moves it sends into balances; the client takes them only when the sides
    summed are exactly its loaded moves, else it recomputes them from the ledger as before."""
    from psycopg import sql

    from app.services.replication import pull as pull_mod

    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    _sell(net.hou, net, "BOLT", 3)
    _sell(net.hou, net, "BOLT", 2, reverse=True)
    net.hou.sync()
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)  # the bulk shape: the balance trigger set aside
    taken = answers_of(monkeypatch, "given_balances")
    want = "SELECT location_id, item_id, lot_key, qty FROM stock_balance"
    plain = make_site("summed", net.server.role_dsn("DAL"))
    assert plain.sync().pulled > 0
    assert taken == [True]
    assert _rows(plain, want)
    with plain.session() as s:
        assert balance_mismatches(s) == []

    real_query = pull_mod.balances_query  # a server whose sums do not match the moves sent: not taken
    monkeypatch.setattr(pull_mod, "balances_query", lambda t, where=None: sql.SQL(
        "SELECT loc, item_id, lot_key, q + 1, n + 1 FROM ({}) x (loc, item_id, lot_key, q, n)").format(real_query(t, where)))
    other = make_site("recomputed", net.server.role_dsn("HOU"))
    assert other.sync().pulled > 0
    assert taken == [True, False]
    assert _rows(other, want) == _rows(plain, want)
    kpi = "SELECT warehouse_id, day, inflow, cogs FROM kpi_stock_day"  # server-summed, then added here
    assert _rows(other, kpi) == _rows(plain, kpi) != []
    with other.session() as s:
        assert balance_mismatches(s) == []


def test_a_selective_first_sync_takes_the_digests_the_server_summed_over_its_scope(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """A branch's first sync takes the balances (and KPI stock days, weekly sales and KPI PO lines)
    the server summed over exactly the moves of its scope (Houston's own, and Dallas's transfer to
    it); sums over any other set of moves (here every branch's) do not match the moves loaded and
    all are recomputed from the ledger instead, to the same rows. A KPI PO line of a PO line the
    branch does not hold (a Houston move naming Dallas's DAL1 line) is left out, as the local
    rebuild's join leaves it out."""
    from sqlalchemy import select

    from app.models.purchasing import PurchaseOrderLine
    from app.services.inventory.transfers import TransferLineSpec, create_transfer, ship_transfer
    from app.services.replication import pull as pull_mod
    from app.services.replication.server import set_selective

    w = net.world
    _setup(net)  # a Dallas PO with a Houston line (in Houston's scope), received at Houston
    po_id = _dallas_po(net)
    _receive(net.hou, "hugo", po_id, "HOU1", "WIDGET", 24)
    with net.hou.session() as s:  # a Houston move naming Dallas's DAL1 line: a PO line Houston does not hold
        bolt_line = s.scalars(select(PurchaseOrderLine.id).where(
            PurchaseOrderLine.po_id == po_id, PurchaseOrderLine.item_id == w.items["BOLT"].id)).one()
        src = virtual_location(s, w.wh_hou.id, "supplier").id
        post_moves(s, None, [MoveSpec(w.items["BOLT"].id, 4, src, w.bins["HOU1-A-01"].id, "receipt",
                                      doc_type="PO", doc_id=po_id, doc_line_id=bolt_line)], owner_branch_id=w.hou.id)
        s.commit()
    for q in (7, 8, 9):
        receive(net.dal, w, "DAL", "BOLT", q)  # Dallas's own: outside Houston's scope
    with net.dal.session() as s:  # Dallas's transfer to Houston: its moves are in Houston's scope
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id, [TransferLineSpec(w.items["BOLT"].id, 5)])
        ship_transfer(s, w.actors["wes"], t.id)
        s.commit()
    receive(net.hou, w, "HOU", "WIDGET", 11)
    _sell(net.hou, net, "WIDGET", 1)
    _sell(net.hou, net, "WIDGET", 2, reverse=True)  # a sale taken back: the weekly sales' reversal case
    net.dal.sync()
    net.hou.sync()
    net.hq.sync()
    assert set_selective(net.server.dsn, True).selective
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)
    taken = answers_of(monkeypatch, "given_balances")
    days = answers_of(monkeypatch, "given_stock_days")
    weeks = answers_of(monkeypatch, "given_sales_weeks")
    po_lines = answers_of(monkeypatch, "given_digests")
    want = "SELECT location_id, item_id, lot_key, qty FROM stock_balance"
    kpi = "SELECT warehouse_id, day, inflow, cogs FROM kpi_stock_day"
    sold = "SELECT item_id, warehouse_id, week, qty FROM sales_week"
    kpi_po = "SELECT * FROM kpi_po_line"
    scoped = make_site("scoped", net.server.role_dsn("HOU"))
    assert scoped.sync().pulled > 0
    assert taken == [True]
    assert days == [True]  # the KPI stock days too, summed over the same moves
    assert weeks == [True]  # and the weekly sales (the sale and its reversal)
    assert po_lines == [True]  # and the KPI PO lines
    assert scoped.scalar("SELECT count(*) FROM stock_move WHERE doc_line_id = :l", l=bolt_line.hex) == 1
    assert scoped.scalar("SELECT count(*) FROM purchase_order_line WHERE id = :l", l=bolt_line.hex) == 0
    assert _rows(scoped, "SELECT qty, first_at IS NOT NULL FROM kpi_po_line") == [(24, 1)]  # the HOU1 line only
    moves = scoped.scalar("SELECT count(*) FROM stock_move")
    assert 0 < moves < net.hq.scalar("SELECT count(*) FROM stock_move")  # a scope, not every move
    assert scoped.scalar("SELECT count(*) FROM stock_move WHERE reason = 'transfer_out'") == 1
    with scoped.session() as s:
        assert balance_mismatches(s) == []

    real_query = pull_mod.balances_query  # sums of every branch's moves, not the scope's: not taken
    monkeypatch.setattr(pull_mod, "balances_query", lambda t, where=None: real_query(t, None))
    other = make_site("recomputed", net.server.role_dsn("HOU"))
    assert other.sync().pulled > 0
    assert taken == [True, False]
    assert days == [True, False]  # not proven the same moves: added from the ledger here
    assert weeks == [True, False]
    assert po_lines == [True, False]
    assert _rows(other, want) == _rows(scoped, want) != []
    assert _rows(other, kpi) == _rows(scoped, kpi) != []
    assert _rows(other, kpi_po) == _rows(scoped, kpi_po) != []
    assert _rows(other, sold) == _rows(scoped, sold) == [(w.items["WIDGET"].id.bytes, w.wh_hou.id.bytes, ANY, 1)]
    with other.session() as s:
        assert balance_mismatches(s) == []


def test_a_first_sync_with_a_row_whose_parent_is_missing_fails_and_keeps_nothing(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """A first sync applies with foreign keys off and checks each parent id its rows name once at
    the end: a row whose parent never came (here Dallas's bin on the lines and moves of its transfer
    to Houston, when the selective pull does not fetch the parents it lacks) fails the sync as
    SQLite's own check at commit did, the file keeps nothing, and foreign keys are on again."""
    from app.services.inventory.transfers import TransferLineSpec, create_transfer, ship_transfer
    from app.services.replication import scope as scope_mod
    from app.services.replication.server import set_selective

    w = net.world
    receive(net.dal, w, "DAL", "BOLT", 30)
    with net.dal.session() as s:
        t = create_transfer(s, w.actors["wes"], w.wh_dal.id, w.wh_hou.id, [TransferLineSpec(w.items["BOLT"].id, 12)])
        ship_transfer(s, w.actors["wes"], t.id)
        s.commit()
    net.dal.sync()
    assert set_selective(net.server.dsn, True).selective
    complete = scope_mod.BranchScope.complete
    monkeypatch.setattr(scope_mod.BranchScope, "complete", lambda self, cur, ap: None)
    site = make_site("orphan", net.server.role_dsn("HOU"))
    res = sync_once(site.engine, site.dsn)
    assert not res.ok and "FOREIGN KEY constraint failed" in res.error and "location" in res.error
    assert site.scalar("SELECT count(*) FROM item") == 0  # rolled back: nothing kept
    assert site.scalar("SELECT value FROM sync_state WHERE key = 'cursor'") is None
    assert site.scalar("PRAGMA foreign_keys") == 1
    monkeypatch.setattr(scope_mod.BranchScope, "complete", complete)
    assert site.sync().pulled > 0  # with the parents fetched, the same first sync goes through
    assert site.scalar("SELECT count(*) FROM stock_move WHERE reason = 'transfer_out'") == 1
    assert site.scalar("PRAGMA foreign_keys") == 1




def test_a_bulk_load_that_meets_a_natural_key_clash_logs_it_and_keeps_every_other_row(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """A first sync bulk-loads the empty item table with its search index's triggers set aside; a
    server row that breaks a local unique key (item DUPE created at two desks, both on the server)
    fails alone: the chunk goes on row by row, the rows in already are updated without touching the
    index (on main this left 'database disk image is malformed'), and the index is rebuilt whole."""
    from app.services import masterdata as md

    hq2 = make_site("hq2", net.hq.dsn)
    hq2.sync()
    for site, desc in ((net.hq, "from desk 1"), (hq2, "from desk 2")):
        with site.session() as s:
            md.create_item(s, "DUPE", desc)
            s.commit()
    with hq2.session() as s:
        md.create_item(s, "FINE", "only at desk 2")
        s.commit()
    net.hq.sync()
    hq2.sync()
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)
    fresh = make_site("fresh", net.server.role_dsn("DAL"))
    res = fresh.sync()
    assert res.ok and res.unapplied == 1
    assert fresh.scalar("SELECT count(*) FROM sync_conflict WHERE kind = 'unapplied'") == 1
    assert "UNIQUE constraint failed: item.sku" in fresh.scalar("SELECT reason FROM sync_conflict")
    assert fresh.scalar("SELECT count(*) FROM item") == net.server.query("SELECT count(*) FROM item")[0][0] - 1
    search = "SELECT i.sku FROM item_fts JOIN item i ON i.rowid = item_fts.rowid WHERE item_fts MATCH 'dupe OR fine'"
    assert sorted(_rows(fresh, search)) == [("DUPE",), ("FINE",)]
    assert fresh.scalar("SELECT count(*) FROM sqlite_master WHERE name IN ('item_ai', 'item_au', 'item_ad')") == 3


def test_a_first_sync_pulling_everything_takes_the_digests_the_server_computed_or_computes_them(
        net: Net, make_site: Callable[[str, str], Site], monkeypatch: pytest.MonkeyPatch) -> None:
    """The KPI PO lines are computed by the server on the second connection in the pull's snapshot;
    the client takes them only when it loaded exactly the rows the server read, else it groups its
    ledger as before. Either way they (and the other digests) equal a row-by-row apply's."""
    from psycopg import sql

    from app.services.replication import digests as digests_mod

    _setup(net)  # a Dallas PO with a Houston line, received at Houston: the KPI digests' PO-line case
    _receive(net.hou, "hugo", _dallas_po(net), "HOU1", "WIDGET", 24)
    for q in (7, 8, 9):
        receive(net.hou, net.world, "HOU", "BOLT", q)
    _sell(net.hou, net, "BOLT", 3)
    receive(net.hou, net.world, "HOU", "WIDGET", 5)
    _sell(net.hou, net, "BOLT", 2, reverse=True)  # the sales-week reversal's case
    _sell(net.hou, net, "WIDGET", 1)
    net.hou.sync()
    monkeypatch.setattr(apply_mod, "BULK_MOVES", 10**9)  # every row through indexes and triggers
    plain = make_site("plain", net.server.role_dsn("DAL"))
    plain.sync()

    monkeypatch.setattr(apply_mod, "BULK_MOVES", 2)  # the bulk shape: the digests' triggers set aside
    taken = answers_of(monkeypatch, "given_digests")
    digests_q = ("SELECT item_id, warehouse_id, week, qty FROM sales_week", "SELECT * FROM kpi_stock_day",
                 "SELECT * FROM kpi_po_line")
    served = make_site("served", net.server.role_dsn("DAL"))
    assert served.sync().pulled > 0
    assert taken == [True]
    for q in digests_q:
        assert _rows(served, q) == _rows(plain, q), q
    assert _rows(served, "SELECT qty FROM sales_week ORDER BY qty") == [(1,), (3,)]
    assert _rows(served, "SELECT qty, first_at IS NOT NULL FROM kpi_po_line") == [(24, 1)]

    real_jobs = digests_mod.jobs  # a server that counts other rows than it sent: not taken, grouped here
    monkeypatch.setattr(digests_mod, "jobs", lambda where=None: [(digests_mod.COUNTS, sql.SQL(
        "SELECT a + 1 FROM ({}) x (a)").format(real_jobs(where)[0][1]))] + real_jobs(where)[1:])
    other = make_site("grouped", net.server.role_dsn("DAL"))
    assert other.sync().pulled > 0
    assert taken == [True, False]
    for q in digests_q:
        assert _rows(other, q) == _rows(plain, q), q
