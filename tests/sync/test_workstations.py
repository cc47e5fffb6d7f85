"""Several workstations of one branch, and rows two sites create under the same natural key."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.models.catalog import Lot, lot_id_for
from app.services import masterdata as md
from app.services import numbering
from tests.factories import load_world
from tests.sync.conftest import Net, Site, quiesce, server_hashes, site_hashes
from tests.sync.helpers import new_order


@pytest.fixture
def second(net: Net, template_db: Path, tmp_path: Path) -> Iterator[dict[str, Site]]:
    """A second workstation for Dallas and for head office: new files, first sync with the branch login."""
    made = {}
    for code, site in (("dal", net.dal), ("hq", net.hq)):
        path = tmp_path / f"{code}2.db"
        shutil.copy(template_db, path)
        made[code] = Site(path, site.dsn)
    for s in made.values():
        s.sync()
    yield made
    for s in made.values():
        s.close()


def _take(site: Site, branch_id: object, doc: str) -> str:
    with site.session() as s:
        n = numbering.next_number(s, branch_id, doc)  # type: ignore[arg-type]
        s.commit()
        return n


def test_two_workstations_of_a_branch_number_apart_offline_and_converge(net: Net, second: dict[str, Site]) -> None:
    dal2 = second["dal"]
    net.dal.sync()
    assert net.dal.scalar("SELECT value FROM sync_state WHERE key = 'workstation'") == "1"
    assert dal2.scalar("SELECT value FROM sync_state WHERE key = 'workstation'") == "2"
    # both offline: each takes numbers and writes orders under them
    a = [_take(net.dal, net.world.dal.id, "SO") for _ in range(2)]
    b = [_take(dal2, net.world.dal.id, "SO") for _ in range(2)]
    assert a == ["DAL-SO-000001", "DAL-SO-000002"] and b == ["DAL-SO-2-000001", "DAL-SO-2-000002"]
    for number in a:
        new_order(net.dal, net.world, "DAL", number)
    for number in b:
        new_order(dal2, net.world, "DAL", number)
    sites = (net.hq, net.dal, dal2, net.hou)
    quiesce(*sites)
    want = sorted(a + b)
    for site in sites:
        assert site.scalar("SELECT group_concat(number, ',') FROM (SELECT number FROM sales_order ORDER BY number)") \
            == ",".join(want)
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0
        assert site_hashes(site) == server_hashes(net.server)
    # a third number on each continues its own series after the sync
    assert _take(net.dal, net.world.dal.id, "SO") == "DAL-SO-000003"
    assert _take(dal2, net.world.dal.id, "SO") == "DAL-SO-2-000003"


def test_the_same_supplier_lot_born_at_two_branches_converges(net: Net) -> None:
    item = net.world.items["MILK"]
    lot_id = lot_id_for(item.id, "L-42")
    for site, branch in ((net.dal, net.world.dal), (net.hou, net.world.hou)):
        with site.session() as s:
            s.add(Lot(id=lot_id, item_id=item.id, lot_code="L-42", owner_branch_id=branch.id))
            s.commit()
    sites = (net.hq, net.dal, net.hou)
    quiesce(*sites)
    owners = {site.scalar("SELECT owner_branch_id FROM lot WHERE id = :i", i=lot_id.hex) for site in sites}
    assert len(owners) == 1  # every site keeps the server's (the first pushed) copy
    for site in sites:
        assert site.scalar("SELECT count(*) FROM sync_conflict") == 0
        assert site_hashes(site) == server_hashes(net.server)
        # the insert-only guard stepped aside only for that apply
        assert site.scalar("SELECT count(*) FROM sqlite_master WHERE name = 'trg_lot_no_update'") == 1


def test_a_natural_key_clash_is_logged_and_sync_goes_on(net: Net, second: dict[str, Site]) -> None:
    """Two head-office desks create item DUPE offline: the server holds both rows, each desk keeps
    its own and logs the other's as unapplied; everything else keeps flowing."""
    hq2 = second["hq"]
    for site, desc in ((net.hq, "from desk 1"), (hq2, "from desk 2")):
        with site.session() as s:
            md.create_item(s, "DUPE", desc)
            s.commit()
    with hq2.session() as s:
        md.create_item(s, "FINE", "only at desk 2")
        s.commit()
    net.hq.sync()
    res = hq2.sync()
    assert res.ok and res.unapplied == 1
    reason = hq2.scalar("SELECT reason FROM sync_conflict WHERE kind = 'unapplied' AND tbl = 'item'")
    assert "UNIQUE constraint failed: item.sku" in reason
    assert hq2.scalar("SELECT description FROM item WHERE sku = 'DUPE'") == "from desk 2"
    res = net.hq.sync()
    assert res.ok and res.unapplied == 1
    assert net.hq.scalar("SELECT description FROM item WHERE sku = 'FINE'") == "only at desk 2"
    assert net.dal.sync().ok  # a branch pulling both: one applied, one logged, the pull completes
    assert net.dal.scalar("SELECT count(*) FROM sync_conflict WHERE kind = 'unapplied'") == 1
    assert net.dal.scalar("SELECT count(*) FROM item WHERE sku = 'FINE'") == 1


def test_the_same_change_at_two_workstations_is_not_a_conflict(net: Net, second: dict[str, Site]) -> None:
    """Both Dallas desks settle one document the same way before either pushes: nothing was lost,
    so nothing lands in the conflict log; a different value still does."""
    from tests.sync.helpers import edit_order, order_field

    dal2 = second["dal"]
    oid = new_order(net.dal, net.world, "DAL", "DAL-SO-000001")
    quiesce(net.dal, dal2)
    edit_order(dal2, oid, status="allocated")  # older: its push finds desk 1's newer, equal version
    edit_order(net.dal, oid, status="allocated")
    net.dal.sync()
    dal2.sync()
    assert dal2.scalar("SELECT count(*) FROM sync_conflict") == 0
    assert order_field(dal2, oid, "status") == "allocated"
    edit_order(dal2, oid, customer_po="PO-B")  # older: loses to desk 1's later edit
    edit_order(net.dal, oid, customer_po="PO-A")
    net.dal.sync()
    dal2.sync()
    assert dal2.scalar("SELECT kind FROM sync_conflict") == "lost"
    quiesce(net.dal, dal2)
    assert order_field(net.dal, oid, "customer_po") == order_field(dal2, oid, "customer_po") == "PO-A"


def test_one_delivery_received_on_two_offline_workstations_is_flagged_once(net: Net, second: dict[str, Site]) -> None:
    """Nothing can stop two offline desks posting the same delivery; the moment both receipts are on
    one site the branch gets one exception (the same row at every workstation) naming both."""
    from sqlalchemy import select

    from app.models.exceptions import ExceptionItem
    from app.models.purchasing import ExpectedReceipt
    from app.services.receiving.post import ReceiveLine, post_receipt
    from tests.sync.test_receiving_branches import _dallas_po, _setup

    dal2 = second["dal"]
    _setup(net)
    po_id = _dallas_po(net)
    quiesce(net.dal, dal2)
    numbers = []
    for site in (net.dal, dal2):  # both offline: each sees the delivery still expected
        with site.session() as s:
            w = load_world(s)
            er = s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po_id,
                                                         ExpectedReceipt.warehouse_id == w.wh_dal.id)).one()
            numbers.append(post_receipt(s, w.actors["rita"], er.id, [ReceiveLine(w.items["BOLT"].id, 100)]).number)
            s.commit()
    quiesce(net.hq, net.dal, dal2, net.hou)
    for site in (net.dal, dal2):
        with site.session() as s:
            items = s.scalars(select(ExceptionItem).where(ExceptionItem.kind == "receipt.posted_twice")).all()
            assert len(items) == 1  # one row, raised by both desks under one id
            assert all(n in items[0].title for n in numbers) and items[0].role == "manager"
    assert site_hashes(net.dal) == site_hashes(dal2) == server_hashes(net.server)
