"""Item search and detail: what the Master data screen shows, checked against the ledger."""

from __future__ import annotations

import pytest
from sqlalchemy.orm import Session

from app.services import items as q
from app.services import masterdata as md
from app.services.errors import NotFound, ValidationError
from app.services.stock import MoveSpec, post_moves, virtual_location
from tests.factories import World


def _receive(session: Session, w: World, sku: str, qty: int, bin_key: str) -> None:
    wh = w.wh_dal if bin_key.startswith("DAL") else w.wh_hou
    sup = virtual_location(session, wh.id, "supplier")
    post_moves(session, w.actors["rita"], [
        MoveSpec(w.items[sku].id, qty, sup.id, w.bins[bin_key].id, "receipt")
    ], owner_branch_id=w.dal.id)


def test_rows_are_items_by_warehouse_with_on_hand_from_the_ledger(session: Session, world: World) -> None:
    _receive(session, world, "WIDGET", 40, "DAL1-A-01")
    _receive(session, world, "WIDGET", 2, "DAL1-A-02")
    _receive(session, world, "WIDGET", 7, "HOU1-A-01")
    cust = virtual_location(session, world.wh_dal.id, "customer")
    post_moves(session, world.actors["wes"], [
        MoveSpec(world.items["WIDGET"].id, 5, world.bins["DAL1-A-01"].id, cust.id, "sale")
    ], owner_branch_id=world.dal.id)
    page = q.search_items(session, "")
    assert [(r.sku, r.warehouse_code) for r in page.rows] == [
        (s, wh) for s in ("BOLT", "DRILL", "MILK", "WIDGET") for wh in ("DAL1", "HOU1")
    ]
    widget = {r.warehouse_code: r.on_hand for r in page.rows if r.sku == "WIDGET"}
    assert widget == {"DAL1": 37, "HOU1": 7}  # the customer location does not count as stock
    assert page.next_after is None


def test_every_word_must_match_sku_or_description(session: Session, world: World) -> None:
    assert {r.sku for r in q.search_items(session, "bolt").rows} == {"BOLT"}
    assert {r.sku for r in q.search_items(session, "HEX m8").rows} == {"BOLT"}
    assert q.search_items(session, "hex drill").rows == []
    assert {r.sku for r in q.search_items(session, "i").rows} == {"DRILL", "MILK", "WIDGET"}
    assert q.count_matches(session, "i") == 3


def test_like_wildcards_are_taken_literally(session: Session, world: World) -> None:
    assert q.search_items(session, "%").rows == []
    assert q.search_items(session, "_").rows == []


def test_gtin_of_item_or_pack_unit_finds_the_item(session: Session, world: World) -> None:
    assert {r.sku for r in q.search_items(session, "00012345678905").rows} == {"WIDGET"}
    assert q.find_by_code(session, "12345678905") == world.items["WIDGET"].id
    assert q.find_by_code(session, "widget") == world.items["WIDGET"].id
    assert q.find_by_code(session, "nope") is None


def test_keyset_pages_cover_every_item_once(session: Session, world: World) -> None:
    for n in range(25):
        md.create_item(session, f"P{n:03d}", f"Paged thing {n}")
    session.flush()
    seen: list[str] = []
    after = None
    pages = 0
    while True:
        page = q.search_items(session, "paged", after_sku=after, limit=10)
        seen += [r.sku for r in page.rows if r.warehouse_code == "DAL1"]
        pages += 1
        if page.next_after is None:
            break
        after = page.next_after
    assert seen == [f"P{n:03d}" for n in range(25)]
    assert pages == 3
    assert q.count_matches(session, "paged") == 25


def test_one_warehouse_filter(session: Session, world: World) -> None:
    rows = q.search_items(session, "", warehouse_id=world.wh_hou.id).rows
    assert {r.warehouse_code for r in rows} == {"HOU1"} and len(rows) == 4
    with pytest.raises(NotFound, match="warehouse"):
        q.search_items(session, "", warehouse_id=world.ho.id)


def test_bad_limits_and_long_text_are_refused(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="limit"):
        q.search_items(session, "", limit=0)
    with pytest.raises(ValidationError, match="search"):
        q.search_items(session, "x" * 500)


def test_detail_has_pack_units_stock_and_suppliers(session: Session, world: World) -> None:
    _receive(session, world, "WIDGET", 24, "DAL1-A-01")
    d = q.item_detail(session, world.items["WIDGET"].id)
    assert d.sku == "WIDGET" and d.base_uom == "EA"
    assert [(p.uom, p.factor) for p in d.pack_units] == [("EA", 1), ("CS", 12)]
    assert {s.warehouse_code: s.on_hand for s in d.stock} == {"DAL1": 24, "HOU1": 0}
    assert d.total_on_hand == 24
    assert [s.supplier_code for s in d.suppliers] == ["ACME"] and d.suppliers[0].pack_size == 12
    milk = q.item_detail(session, world.items["MILK"].id)
    assert milk.tracking == "lot, expiry"
    with pytest.raises(NotFound):
        q.item_detail(session, world.ho.id)


def test_deactivate_needs_item_edit_and_is_audited(session: Session, world: World) -> None:
    from sqlalchemy import select

    from app.models.docs_common import AuditEntry
    from app.services.errors import PermissionDenied

    bolt = world.items["BOLT"].id
    with pytest.raises(PermissionDenied, match="alice may not change items"):
        q.set_items_active(session, world.actors["alice"], [bolt], False)
    assert q.set_items_active(session, world.actors["mike"], [bolt], False) == 1
    assert q.set_items_active(session, world.actors["mike"], [bolt], False) == 0
    assert {r.sku for r in q.search_items(session, "", active_only=True).rows} == {"WIDGET", "MILK", "DRILL"}
    audit = session.scalars(select(AuditEntry).where(AuditEntry.entity_id == bolt)).all()
    assert [a.action for a in audit] == ["item.deactivate"] and audit[0].username == "mike"
    with pytest.raises(NotFound):
        q.set_items_active(session, world.actors["mike"], [world.ho.id], True)
