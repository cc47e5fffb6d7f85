"""Item lookup (FTS5, local-only, kept by triggers), date-based promises, and price-list import."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.pricing import PriceList, PriceListLine
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine
from app.models.registry import replicated_tables
from app.services import masterdata as md
from app.services.importer import ImportRejected, import_csv
from app.services.inventory.promise import promise
from app.services.sales.search import find_items
from tests.factories import World
from tests.services.sales_helpers import TODAY, customer, order, people, put


def test_items_are_found_by_code_gtin_pack_gtin_and_words_ranked(session: Session, world: World) -> None:
    md.create_item(session, "WIDGET-XL", "Steel widget 80 mm heavy")
    md.create_item(session, "CLAMP", "Widget clamp for steel rails")
    hits = find_items(session, "widget")
    assert [h.sku for h in hits][:2] == ["WIDGET", "WIDGET-XL"]
    assert (hits[0].match, hits[1].match) == ("sku", "sku prefix")
    assert "CLAMP" in [h.sku for h in hits if h.match == "words"]
    assert [(h.sku, h.match) for h in find_items(session, "00012345678905")] == [("WIDGET", "gtin")]
    assert [h.sku for h in find_items(session, "stee rail")] == ["CLAMP"]  # word prefixes, every word
    assert find_items(session, "  ") == [] and find_items(session, "zzzz") == []
    # kept current by triggers: renamed, deactivated
    bolt = world.items["BOLT"]
    bolt.description = "Hex bolt M8 galvanised"
    session.flush()
    assert [h.sku for h in find_items(session, "galvan")] == ["BOLT"]
    bolt.active = False
    session.flush()
    assert find_items(session, "galvan") == []


def test_the_search_index_is_local_only(session: Session, world: World, db_path: Path) -> None:
    assert not any(t.startswith("item_fts") for t in replicated_tables())
    session.execute(text("DELETE FROM sync_outbox"))
    md.create_item(session, "NEWONE", "Brand new thing")
    session.flush()
    tables = {r[0] for r in session.execute(text("SELECT DISTINCT tbl FROM sync_outbox"))}
    assert tables == {"item"}
    triggers = {r[0] for r in session.execute(text(
        "SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name LIKE 'item_fts%'"))}
    assert triggers == set()


def _receipt(session: Session, w: World, sku: str, qty: int, due: dt.date, number: str) -> None:
    er = ExpectedReceipt(number=number, source="po", warehouse_id=w.wh_dal.id, status="expected",
                         expected_at=dt.datetime.combine(due, dt.time(9), dt.UTC), owner_branch_id=w.dal.id)
    session.add(er)
    session.flush()
    session.add(ExpectedReceiptLine(receipt_id=er.id, item_id=w.items[sku].id, qty_expected=qty,
                                    owner_branch_id=w.dal.id))
    session.flush()


def test_promise_now_on_a_receipt_date_or_not_before_the_lead_time(session: Session, world: World) -> None:
    p = people(session, world)
    widget = world.items["WIDGET"].id
    put(session, world, "WIDGET", 30)
    _receipt(session, world, "WIDGET", 50, TODAY + dt.timedelta(days=4), "DAL-ER-000001")
    _receipt(session, world, "WIDGET", 100, TODAY + dt.timedelta(days=9), "DAL-ER-000002")
    assert promise(session, widget, world.wh_dal.id, 30, today=TODAY).text == "available now"
    on = promise(session, widget, world.wh_dal.id, 31, today=TODAY)
    assert (on.kind, on.date, on.source) == ("on", TODAY + dt.timedelta(days=4), "PO DAL-ER-000001")
    # an earlier order waiting for the same item is served first (the backlog counts)
    order(session, world, p["clara"], "BUILDCO", {"WIDGET": 60})
    after = promise(session, widget, world.wh_dal.id, 30, today=TODAY)
    assert (after.kind, after.date, after.available_now) == ("on", TODAY + dt.timedelta(days=9), -30)
    never = promise(session, widget, world.wh_dal.id, 500, today=TODAY)
    assert never.text == f"not before {TODAY + dt.timedelta(days=10)}"  # after the last receipt
    bolt = promise(session, world.items["BOLT"].id, world.wh_dal.id, 1, today=TODAY)
    assert (bolt.kind, bolt.date) == ("not_before", TODAY + dt.timedelta(days=7))  # Acme's lead time


def test_price_lists_import_with_breaks_units_and_replacement(session: Session, world: World) -> None:
    p = people(session, world)
    customer(session, "TRADER", price_group="TRADE")
    body = ("price_list;name;customer_group;sku;uom;min_qty;unit_price;valid_from\n"
            "TRADE-26;Trade 2026;TRADE;WIDGET;;1;2,50;2026-01-01\n"
            "TRADE-26;;;WIDGET;CS;10;24,00;\n"
            "TRADE-26;;;BOLT;;1;0,30;\n")
    res = import_csv(session, world.actors["root"], "price-lists", body.encode("cp1252"))
    assert res.imported == 3 and res.delimiter == ";"
    pl = session.scalars(select(PriceList)).one()
    assert (pl.code, pl.customer_group, pl.valid_from) == ("TRADE-26", "TRADE", dt.date(2026, 1, 1))
    breaks = sorted((ln.min_qty, ln.unit_price) for ln in session.scalars(select(PriceListLine)))
    assert breaks == [(1, Decimal("0.3000")), (1, Decimal("2.5000")), (120, Decimal("2.0000"))]
    so = order(session, world, p["clara"], "TRADER", {"WIDGET": 120, "BOLT": 2}).order
    from tests.services.sales_helpers import lines_of
    assert [(ln.unit_price, ln.price_source) for ln in lines_of(session, so)] == [
        (Decimal("2.0000"), "price list TRADE-26 (from 120)"), (Decimal("0.3000"), "price list TRADE-26")]
    # a second file restates WIDGET's table: its old breaks go
    import_csv(session, world.actors["root"], "price-lists",
               b"price_list,customer_group,sku,unit_price\nTRADE-26,TRADE,WIDGET,2.45\n")
    live = sorted((ln.min_qty, ln.unit_price) for ln in session.scalars(
        select(PriceListLine).where(PriceListLine.deleted_at.is_(None))))
    assert live == [(1, Decimal("0.3000")), (1, Decimal("2.4500"))]
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], "price-lists",
                   b"price_list,customer,customer_group,sku,uom,unit_price\n"
                   b"BAD-1,,,WIDGET,,1\nBAD-2,NOBODY,,WIDGET,,1\nBAD-3,,X,NOPE,,1\nBAD-4,,X,WIDGET,PL,1\n")
    assert [str(x) for x in e.value.problems] == [
        "line 2: customer / customer_group: name exactly one of the two for the list",
        "line 3: customer: unknown customer NOBODY",
        "line 4: sku: unknown item NOPE",
        "line 5: uom: item WIDGET has no unit PL"]


def test_the_whole_warehouse_read_gives_what_the_item_read_gives(session: Session, world: World,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    from app.services.inventory import promise as pr

    p = people(session, world)
    put(session, world, "WIDGET", 30)
    put(session, world, "BOLT", 12, "DAL1-A-03")
    _receipt(session, world, "WIDGET", 50, TODAY + dt.timedelta(days=4), "DAL-ER-000001")
    order(session, world, p["clara"], "BUILDCO", {"WIDGET": 20, "BOLT": 5})
    items = [world.items[s].id for s in ("WIDGET", "BOLT", "MILK")]
    few = pr.supply(session, items, world.wh_dal.id, today=TODAY)
    monkeypatch.setattr(pr, "BULK_ITEMS", 0)
    many = pr.supply(session, items, world.wh_dal.id, today=TODAY)
    assert {k: vars(v) for k, v in few.items()} == {k: vars(v) for k, v in many.items()}
    assert (few[items[0]].pickable, few[items[0]].backlog, few[items[1]].free_now) == (30, 20, 7)
