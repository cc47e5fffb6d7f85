"""The server's roles and policies: what a branch's real login may and may not write."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
import pytest

from app.services.ownership import ForeignWrite
from tests.sync.conftest import Net, quiesce, server_hashes, site_hashes
from tests.sync.helpers import edit_order, new_order, order_field


def _as(net: Net, code: str) -> psycopg.Connection[Any]:
    return psycopg.connect(net.server.role_dsn(code))


def test_every_replicated_table_has_forced_rls_txid_and_no_delete_grant(net: Net) -> None:
    rows = net.server.query(
        "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity FROM pg_class c "
        "JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'txid' WHERE c.relkind = 'r'")
    assert len(rows) >= 20
    assert all(r[1] and r[2] for r in rows), [r[0] for r in rows if not (r[1] and r[2])]
    deletable = net.server.query(
        "SELECT table_name FROM information_schema.role_table_grants WHERE privilege_type = 'DELETE' "
        "AND grantee LIKE %s", net.server.prefix + "%")
    assert deletable == []
    with _as(net, "DAL") as c, pytest.raises(psycopg.errors.InsufficientPrivilege):
        c.execute("DELETE FROM stock_move")


def test_a_branch_login_cannot_write_another_branchs_document(net: Net) -> None:
    oid = new_order(net.hou, net.world, "HOU", "HOU-SO-000001")
    net.hou.sync()
    with _as(net, "DAL") as c, pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        c.execute("INSERT INTO sales_order (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, number, "
                  "customer_id, warehouse_id, status, order_date, currency, customer_po, ship_to, rush) "
                  "SELECT %s, owner_branch_id, created_at, updated_at, hlc, hlc_site, 'X', customer_id, warehouse_id, "
                  "status, order_date, currency, customer_po, ship_to, rush FROM sales_order", (uuid.uuid4(),))
    with _as(net, "DAL") as c:
        cur = c.execute("UPDATE sales_order SET customer_po = 'hijack' WHERE number = 'HOU-SO-000001'")
        assert cur.rowcount == 0  # not visible for update: the row is Houston's
    assert net.server.query("SELECT customer_po FROM sales_order")[0][0] == ""
    # Dallas's own services are stopped at the write, before anything reaches the outbox
    net.dal.sync()
    with pytest.raises(ForeignWrite, match="belongs to another branch"):
        edit_order(net.dal, oid, customer_po="hijack")
    assert order_field(net.dal, oid, "customer_po") == "" and net.dal.sync().pending == 0
    # a write past the guard (raw SQL, an old client) through Dallas's sync: refused by the server,
    # logged with the local version, local copy restored
    edit_order(net.dal, oid, guard=False, customer_po="hijack")
    res = net.dal.sync()
    assert res.rejected == 1 and res.pending == 0
    assert order_field(net.dal, oid, "customer_po") == ""
    reason, local = net.dal.scalar("SELECT reason || '|' || local_row FROM sync_conflict").split("|", 1)
    assert "row-level security" in reason and "hijack" in local


def test_a_branch_may_change_only_branch_editable_master_fields(net: Net) -> None:
    with _as(net, "DAL") as c:
        c.execute("UPDATE item SET velocity_class = 'A' WHERE sku = 'BOLT'")
        c.commit()
        with pytest.raises(psycopg.errors.InsufficientPrivilege, match="may change only"):
            c.execute("UPDATE item SET description = 'cheap bolt' WHERE sku = 'BOLT'")
    with _as(net, "DAL") as c, pytest.raises(psycopg.errors.InsufficientPrivilege, match="row-level security"):
        c.execute("INSERT INTO branch (id, owner_branch_id, created_at, updated_at, hlc, hlc_site, code, name, timezone, "
                  "is_head_office, address) VALUES (gen_random_uuid(), gen_random_uuid(), '', '', 0, '', 'X', 'X', 'UTC', "
                  "false, '')")
    with _as(net, "HQ") as c:  # head office owns master data
        c.execute("UPDATE item SET description = 'Hex bolt M8 zinc' WHERE sku = 'BOLT'")


def test_posted_documents_refuse_edits_and_the_refusal_is_logged(net: Net) -> None:
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000001")
    edit_order(net.dal, oid, status="cancelled")
    net.dal.sync()
    edit_order(net.dal, oid, customer_po="too late")
    res = net.dal.sync()
    assert res.rejected == 1
    assert order_field(net.dal, oid, "customer_po") == ""
    assert "cancelled and refuses edits" in net.dal.scalar("SELECT reason FROM sync_conflict")
    quiesce(net.dal, net.hou, net.hq)
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)


def test_documents_are_written_only_by_their_owner(net: Net) -> None:
    new_order(net.dal, net.world, "DAL", "DAL-SO-000002")
    new_order(net.hou, net.world, "HOU", "HOU-SO-000002")
    quiesce(net.dal, net.hou)
    owners = dict(net.server.query(
        "SELECT number, replace(owner_branch_id::text, '-', '') FROM sales_order"))
    assert owners == {"DAL-SO-000002": net.world.dal.id.hex, "HOU-SO-000002": net.world.hou.id.hex}


def test_a_branch_cannot_forge_another_sites_receipt_or_cursor(net: Net) -> None:
    receive_site = net.hou.scalar("SELECT hex(site_id) FROM local_site")
    from tests.sync.helpers import receive

    receive(net.hou, net.world, "HOU", "BOLT", 2)
    first = net.hou.scalar("SELECT min(seq) FROM sync_outbox")
    sid = net.server.query("SELECT site_id FROM depot_site WHERE branch_id = %s::uuid", net.world.hou.id)[0][0]
    with _as(net, "DAL") as c:  # Dallas pretends Houston's next batch is already on the server
        c.execute("INSERT INTO depot_receipt (site_id, first_seq, last_seq, n_rows) VALUES (%s, %s, 1000000, 1)",
                  (sid, first))
        c.commit()
        cur = c.execute("UPDATE depot_site SET cursor = '999999999'::xid8 WHERE site_id = %s", (sid,))
        assert cur.rowcount == 0
        with pytest.raises(psycopg.errors.InsufficientPrivilege):
            c.execute("INSERT INTO depot_site (site_id, login) VALUES ('x', 'postgres')")
    res = net.hou.sync()
    assert res.pushed == 1 and res.pending == 0  # Houston's batch was not skipped
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1
    assert receive_site
