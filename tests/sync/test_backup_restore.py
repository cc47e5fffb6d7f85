"""A Dallas workstation's disk dies; its backup is restored onto a new file and re-syncs with the real
server: what the server had since comes back, what only the backup had goes up, nothing is lost, and
work after the restore is pushed (its outbox does not count again over batches the server has receipts for)."""

from __future__ import annotations

from pathlib import Path

import psycopg
import pytest

from app.services import backup
from app.services.errors import Conflict
from app.services.numbering import RESTORED_KEY, next_number
from app.services.restore import restore
from app.services.stock import balance_mismatches
from tests.sync.conftest import Net, Site
from tests.sync.helpers import new_order, receive


def _orders(site: Site) -> set[str]:
    with site.engine.connect() as c:
        return {r[0] for r in c.exec_driver_sql("SELECT number FROM sales_order WHERE number LIKE 'DAL-R-%'")}


def _server_orders(net: Net) -> set[str]:
    return {r[0] for r in net.server.query("SELECT number FROM sales_order WHERE number LIKE %s", "DAL-R-%")}


def _on_hand(site: Site, sku_id: str) -> int:
    return int(site.scalar("SELECT coalesce(sum(qty), 0) FROM stock_balance b JOIN location l ON l.id = b.location_id "
                           "WHERE b.item_id = :i AND l.kind = 'storage'", i=sku_id))


def _server_on_hand(net: Net, sku_id: str) -> int:
    with psycopg.connect(net.server.dsn) as c:
        row = c.execute("SELECT coalesce(sum(CASE WHEN t.kind = 'storage' THEN m.qty ELSE 0 END), 0) - "
                        "coalesce(sum(CASE WHEN f.kind = 'storage' THEN m.qty ELSE 0 END), 0) FROM stock_move m "
                        "JOIN location t ON t.id = m.to_location_id JOIN location f ON f.id = m.from_location_id "
                        "WHERE m.item_id = %s", (sku_id,)).fetchone()
    return int(row[0]) if row else 0


def test_restore_after_a_dead_disk_loses_nothing(net: Net, tmp_path: Path) -> None:
    dal, w = net.dal, net.world
    widget = w.items["WIDGET"].id.hex
    new_order(dal, w, "DAL", "DAL-R-A")
    receive(dal, w, "DAL", "WIDGET", 10)
    dal.sync()
    new_order(dal, w, "DAL", "DAL-R-B")  # waiting in the outbox when the backup is taken
    receive(dal, w, "DAL", "WIDGET", 5)
    share = tmp_path / "share"
    share.mkdir()
    taken = backup.take_backup(dal.path, share)
    dal.sync()  # B reaches the server after the backup (its batch has a receipt there)
    new_order(dal, w, "DAL", "DAL-R-C")  # work after the backup, synced before the disk died
    receive(dal, w, "DAL", "WIDGET", 7)
    dal.sync()
    assert _server_orders(net) == {"DAL-R-A", "DAL-R-B", "DAL-R-C"}
    dal.close()
    dal.path.unlink()  # the disk dies
    for extra in dal.path.parent.glob(dal.path.name + "-*"):
        extra.unlink()

    new_file = tmp_path / "new-disk" / "dal.db"
    new_file.parent.mkdir()
    rep = restore(new_file, Path(taken.path))  # syncs at once with the address the file remembers
    assert rep.synced.startswith("re-synced with the server"), rep.synced
    again = Site(new_file, dal.dsn)
    try:
        assert _orders(again) == {"DAL-R-A", "DAL-R-B", "DAL-R-C"}  # C came back from the server
        assert _on_hand(again, widget) == 22 == _server_on_hand(net, widget)
        # work after the restore reaches the server: its outbox numbers above every earlier batch
        new_order(again, w, "DAL", "DAL-R-D")
        receive(again, w, "DAL", "WIDGET", 3)
        res = again.sync()
        assert res.pushed >= 2 and res.pending == 0
        assert _server_orders(net) == {"DAL-R-A", "DAL-R-B", "DAL-R-C", "DAL-R-D"}
        assert _on_hand(again, widget) == 25 == _server_on_hand(net, widget)
        with again.session() as s:
            assert balance_mismatches(s) == []
    finally:
        again.close()


def test_restore_pushes_what_only_the_backup_had(net: Net, tmp_path: Path) -> None:
    dal, w = net.dal, net.world
    new_order(dal, w, "DAL", "DAL-R-A")
    dal.sync()
    new_order(dal, w, "DAL", "DAL-R-B")  # never synced before the disk died: only the backup has it
    receive(dal, w, "DAL", "BOLT", 4)
    taken = backup.take_backup(dal.path, tmp_path)
    net.hou.sync()
    new_order(net.hou, w, "HOU", "HOU-R-X")  # meanwhile the server moves on (another branch)
    net.hou.sync()
    dal.close()
    target = tmp_path / "dal-restored.db"
    rep = restore(target, Path(taken.path))
    assert "pushed" in rep.synced
    assert _server_orders(net) == {"DAL-R-A", "DAL-R-B"}
    back = Site(target, dal.dsn)
    try:
        assert _on_hand(back, w.items["BOLT"].id.hex) == _server_on_hand(net, w.items["BOLT"].id.hex) == 4
    finally:
        back.close()


def test_an_offline_restore_hands_out_no_number_the_server_has_seen(net: Net, tmp_path: Path) -> None:
    dal, w = net.dal, net.world

    def take(site: Site) -> str:
        with site.session() as s:
            n = next_number(s, w.dal.id, "SO")
            s.commit()
            return n

    first = take(dal)
    dal.sync()
    share = tmp_path / "share"
    share.mkdir()
    taken = backup.take_backup(dal.path, share)
    later = [take(dal), take(dal)]  # numbered after the backup and sent to the server
    dal.sync()
    dal.close()
    dal.path.unlink()
    for extra in dal.path.parent.glob(dal.path.name + "-*"):
        extra.unlink()

    new_file = tmp_path / "new-disk" / "dal.db"
    new_file.parent.mkdir()
    rep = restore(new_file, Path(taken.path), sync=False)  # the network is down
    assert rep.synced == ""
    again = Site(new_file, dal.dsn)
    try:
        with again.session() as s, pytest.raises(Conflict, match="restored from a backup and has not synced"):
            next_number(s, w.dal.id, "SO")
        again.sync()
        after = take(again)
        assert after not in [first, *later] and after > later[-1], (first, later, after)
        assert again.scalar("SELECT count(*) FROM sync_state WHERE key = :k", k=RESTORED_KEY) == 0
    finally:
        again.close()
