"""A server restored from a backup older than what the sites have seen (issue 20): each site
notices at its next sync, pushes its branch's rows again and re-reads, and nothing is lost."""

from __future__ import annotations

import psycopg
from sqlalchemy import select

from app.models.catalog import Item
from app.services.replication import link
from app.services.stock import on_hand
from tests.sync.conftest import ADMIN_DSN, Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import receive


def _bolts(site: Site, net: Net) -> tuple[int, int]:
    w = net.world
    with site.session() as s:
        bolt = s.scalars(select(Item.id).where(Item.sku == "BOLT")).one()
        return on_hand(s, bolt, w.wh_dal.id), on_hand(s, bolt, w.wh_hou.id)


def restore_after_more_work(net: Net) -> None:
    """A backup of the server, then pushes it will not hold (one followed by a pull, one not), then
    the server restored from that backup."""
    w = net.world
    db, bak = net.server.dbname, net.server.dbname + "_bak"
    receive(net.dal, w, "DAL", "BOLT", 5)
    quiesce(net.dal, net.hou, net.hq)
    # CREATE DATABASE ... TEMPLATE (this test's backup) wants nobody connected to its source, and sites
    # keep their connection between syncs; a real backup (pg_dump, pg_basebackup) does not care
    link.close_all()
    with psycopg.connect(ADMIN_DSN, autocommit=True) as c:  # the nightly backup
        c.execute(f'CREATE DATABASE "{bak}" TEMPLATE "{db}"')
    try:
        receive(net.dal, w, "DAL", "BOLT", 7)  # pushed after the backup: its outbox rows are cleared
        net.dal.sync()
        receive(net.hou, w, "HOU", "BOLT", 3)
        net.hou.sync(do_pull=False)  # a push with no pull after it (no cursor report)
        assert net.dal.sync().pending == net.hou.sync().pending == 0
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:  # the server dies; the backup comes back
            c.execute(f'DROP DATABASE "{db}" WITH (FORCE)')
            c.execute(f'CREATE DATABASE "{db}" TEMPLATE "{bak}"')
    finally:
        with psycopg.connect(ADMIN_DSN, autocommit=True) as c:
            c.execute(f'DROP DATABASE IF EXISTS "{bak}" WITH (FORCE)')


def test_sites_notice_a_server_restored_from_an_older_backup_and_lose_nothing(net: Net) -> None:
    w = net.world
    restore_after_more_work(net)
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1  # only the first receipt survived
    receive(net.hou, w, "HOU", "BOLT", 11)  # work goes on against the restored server

    res = net.dal.sync()
    assert "restored from an older backup" in res.restored and res.pushed >= 2
    res = net.hou.sync()
    assert "restored from an older backup" in res.restored
    assert net.hq.sync().restored == ""  # head office had pushed nothing since: it only re-reads through pulls
    quiesce(net.dal, net.hou, net.hq)
    assert net.dal.sync().restored == ""  # noticed once
    hashes = server_hashes(net.server)
    for site in (net.hq, net.dal, net.hou):
        assert _bolts(site, net) == (12, 14), site.path
        assert site_hashes(site) == hashes, site.path
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0, site.path
