"""Import from a legacy system: every bad row named with its line, nothing written unless all good
(or --skip-bad), and export writes what the application means."""

from __future__ import annotations

import csv
import io
import textwrap
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.catalog import Item, ItemUom, Lot
from app.models.docs_common import AuditEntry
from app.models.parties import Customer, ItemSupplier, Supplier
from app.models.sales import SalesOrder, SalesOrderLine
from app.models.stock import StockMove
from app.services import masterdata as md
from app.services import schema
from app.services.db import make_engine, open_database
from app.services.errors import PermissionDenied
from app.services.exporter import export_table
from app.services.importer import ImportRejected, import_csv
from app.services.stock import balance_mismatches, on_hand
from tests.factories import World


def write(tmp_path: Path, body: str, name: str = "in.csv") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return p


def count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


def rejected(session: Session, world: World, kind: str, path: Path) -> ImportRejected:
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], kind, path)
    session.rollback()
    return e.value


def test_items_import_with_pack_units_exact_money_capture_and_audit(session: Session, world: World,
                                                                    tmp_path: Path) -> None:
    path = write(tmp_path, """
        sku,description,standard_cost,list_price,case_qty,pallet_qty,track_lot,temperature_class,velocity_class,gtin
        nut-10,Hex nut M10,0.0725,0.19,100,4000,no,ambient,a,
        "SOAP-5L","Hand soap, 5 l",3.10,6,4,,yes,ambient,B,4006381333931
        """)
    outbox = session.scalar(text("SELECT count(*) FROM sync_outbox"))
    result = import_csv(session, world.actors["root"], "items", path)
    session.commit()
    assert (result.rows, result.imported, result.skipped) == (2, 2, [])
    nut = session.scalars(select(Item).where(Item.sku == "NUT-10")).one()
    assert nut.standard_cost == Decimal("0.0725") and nut.velocity_class == "A" and nut.hlc > 0
    assert {(u.uom, u.factor) for u in session.scalars(select(ItemUom).where(ItemUom.item_id == nut.id))} == {
        ("CS", 100), ("PL", 4000)}
    soap = session.scalars(select(Item).where(Item.sku == "SOAP-5L")).one()
    assert soap.description == "Hand soap, 5 l" and soap.track_lot and soap.gtin == "04006381333931"
    # an import is a local change: it replicates
    assert session.scalar(text("SELECT count(*) FROM sync_outbox WHERE tbl = 'item'")) >= 2 + 0 * outbox
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "import")).one()
    assert entry.entity == "items" and '"imported": 2' in entry.detail and entry.username == "root"


def test_wrong_header_names_the_columns_and_writes_nothing(session: Session, world: World, tmp_path: Path) -> None:
    before = count(session, Item)
    e = rejected(session, world, "items", write(tmp_path, """
        sku,colour,price
        X1,red,1.00
        """))
    assert e.header
    assert "missing column(s) description" in str(e) and "unknown column(s) colour, price" in str(e)
    assert str(e).startswith(f"{tmp_path / 'in.csv'}: line 1: header:")
    assert count(session, Item) == before
    e = rejected(session, world, "items", write(tmp_path, "", name="empty.csv"))
    assert "empty" in str(e)


def test_bad_numbers_are_reported_per_line_and_nothing_is_imported(session: Session, world: World,
                                                                  tmp_path: Path) -> None:
    before = count(session, Item)
    e = rejected(session, world, "items", write(tmp_path, """
        sku,description,standard_cost,weight_g,case_qty,velocity_class
        OK-1,Fine,1.25,100,12,A
        BAD-1,Two dots,1.2.3,100,12,A
        BAD-2,Half gram,1.00,12.5,12,A
        BAD-3,Negative case,1.00,10,-6,A
        BAD-4,Too precise,0.00001,10,6,D
        """))
    lines = {p.line: p.reason for p in e.problems}
    assert set(lines) == {3, 4, 5, 6}
    assert "standard_cost: '1.2.3' is not a number" in lines[3]
    assert "weight_g" in lines[4] and "whole number" in lines[4]
    assert "case_qty" in lines[5] and "negative" in lines[5]
    assert "more than 4 decimal places" in lines[6] and "velocity_class: 'D' is not one of A, B, C" in lines[6]
    assert "and 3 more bad rows" in str(e) and "nothing imported" in str(e)
    assert count(session, Item) == before


def test_duplicate_keys_within_the_file_and_against_the_database(session: Session, world: World,
                                                                tmp_path: Path) -> None:
    e = rejected(session, world, "items", write(tmp_path, """
        sku,description
        NEW-1,First
        widget,Already in the database
        NEW-1,Again
        """))
    assert [(p.line, p.reason) for p in e.problems] == [
        (3, "sku WIDGET already exists in the database"),
        (4, "duplicate sku NEW-1 (first on line 2)"),
    ]
    e = rejected(session, world, "suppliers", write(tmp_path, """
        code,name
        acme,Acme again
        """))
    assert "supplier code ACME already exists" in str(e)
    e = rejected(session, world, "item-suppliers", write(tmp_path, """
        sku,supplier,contract_price
        WIDGET,ACME,1.10
        """))
    assert "item-supplier WIDGET / ACME already exists" in str(e)


def test_unknown_references_are_named(session: Session, world: World, tmp_path: Path) -> None:
    e = rejected(session, world, "item-suppliers", write(tmp_path, """
        sku,supplier,lead_time_days,pack_size,min_order_qty
        NOPE,ACME,5,1,1
        BOLT,GHOST,5,1,1
        """))
    assert [p.reason for p in e.problems] == ["sku: unknown item NOPE", "supplier: unknown supplier GHOST"]
    e = rejected(session, world, "stock", write(tmp_path, """
        warehouse,bin,sku,qty
        XXX1,A-01,BOLT,5
        DAL1,Z-99,BOLT,5
        DAL1,A-01,NOPE,5
        """))
    assert [p.reason for p in e.problems] == [
        "warehouse: unknown warehouse XXX1", "bin: unknown bin Z-99 in warehouse DAL1", "sku: unknown item NOPE"]
    e = rejected(session, world, "customers", write(tmp_path, """
        code,name,home_branch,priority_tier
        NEWCO,New Co,NYC,gold
        """))
    assert "home_branch: unknown branch NYC" in str(e)


def test_skip_bad_imports_the_good_rows_and_lists_the_bad(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        code,name,credit_limit,priority_tier,home_branch
        C1,Good one,5000.00,gold,DAL
        C2,Bad limit,lots,gold,DAL
        C3,Good two,,bronze,
        C4,Bad tier,100,diamond,HOU
        """)
    result = import_csv(session, world.actors["root"], "customers", path, skip_bad=True)
    session.commit()
    assert result.imported == 2 and [p.line for p in result.skipped] == [3, 5]
    got = {c.code: c for c in session.scalars(select(Customer).where(Customer.code.in_(["C1", "C2", "C3", "C4"])))}
    assert set(got) == {"C1", "C3"}
    assert got["C1"].credit_limit == Decimal("5000.0000") and got["C1"].home_branch_id == world.dal.id
    assert got["C3"].credit_limit == Decimal(0) and got["C3"].priority_tier == "bronze", "an empty cell: default"


def test_opening_stock_goes_through_the_ledger(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        warehouse,bin,sku,qty,lot,expiry_date,serial
        DAL1,A-01,BOLT,500,,,
        DAL1,C-01,MILK,40,L2026-11,2026-12-20,
        DAL1,A-02,DRILL,1,,,SN-001
        DAL1,A-02,DRILL,1,,,SN-002
        HOU1,A-01,WIDGET,120,,,
        """)
    result = import_csv(session, world.actors["root"], "stock", path)
    session.commit()
    assert result.imported == 5
    assert on_hand(session, world.items["BOLT"].id, world.wh_dal.id) == 500
    assert on_hand(session, world.items["DRILL"].id) == 2
    assert on_hand(session, world.items["WIDGET"].id, world.wh_hou.id) == 120
    moves = session.scalars(select(StockMove).where(StockMove.reason == "opening")).all()
    assert len(moves) == 5 and {m.owner_branch_id for m in moves} == {world.dal.id, world.hou.id}
    lot = session.scalars(select(Lot).where(Lot.item_id == world.items["MILK"].id)).one()
    assert lot.lot_code == "L2026-11" and str(lot.expiry_date) == "2026-12-20"
    assert balance_mismatches(session) == []
    # importing the same opening balance twice is refused
    e = rejected(session, world, "stock", write(tmp_path, """
        warehouse,bin,sku,qty
        DAL1,A-01,BOLT,500
        """, name="again.csv"))
    assert "already holds 500 of BOLT" in str(e)


def test_stock_rules_of_lots_serials_and_quantities(session: Session, world: World, tmp_path: Path) -> None:
    e = rejected(session, world, "stock", write(tmp_path, """
        warehouse,bin,sku,qty,lot,serial
        DAL1,C-01,MILK,10,,
        DAL1,A-01,BOLT,10,L1,
        DAL1,A-02,DRILL,2,,SN-9
        DAL1,A-02,DRILL,1,,SN-1
        DAL1,A-03,DRILL,1,,SN-1
        DAL1,A-01,BOLT,0,,
        DAL1,A-01,WIDGET,2.5,,
        """))
    reasons = {p.line: p.reason for p in e.problems}
    assert "MILK is lot-tracked: a lot is required" in reasons[2]
    assert "BOLT is not lot-tracked" in reasons[3]
    assert "exactly 1 unit" in reasons[4]
    assert "duplicate serial SN-1 of DRILL (first on line 5)" in reasons[6]
    assert "qty: must be more than zero" in reasons[7]
    assert "qty: '2.5' is not a whole number" in reasons[8]
    assert 5 not in reasons
    assert session.scalar(select(func.count()).select_from(StockMove)) == 0


def test_open_orders_are_grouped_and_a_bad_line_refuses_its_whole_order(session: Session, world: World,
                                                                         tmp_path: Path) -> None:
    path = write(tmp_path, """
        order_number,customer,warehouse,sku,qty,unit_price,requested_date
        L-1001,BUILDCO,DAL1,WIDGET,24,2.75,2026-12-01
        L-1001,BUILDCO,DAL1,BOLT,100,0.30,2026-12-01
        L-1002,BUILDCO,DAL1,WIDGET,12,2.75,
        L-1002,BUILDCO,DAL1,NOPE,1,1.00,
        L-1003,NOBODY,HOU1,BOLT,5,0.35,
        L-1004,BUILDCO,HOU1,BOLT,x,0.35,
        """)
    result = import_csv(session, world.actors["root"], "orders", path, skip_bad=True)
    session.commit()
    assert result.imported == 2
    assert {p.line: p.reason for p in result.skipped} == {
        4: "order L-1002 has a bad line, so none of its lines is imported",
        5: "sku: unknown item NOPE",
        6: "customer: unknown customer NOBODY",
        7: "qty: 'x' is not a whole number",
    }
    order = session.scalars(select(SalesOrder)).one()
    assert (order.number, order.status, order.owner_branch_id) == ("L-1001", "open", world.dal.id)
    lines = session.scalars(select(SalesOrderLine).order_by(SalesOrderLine.line_no)).all()
    assert [(ln.line_no, ln.qty_ordered, ln.unit_price) for ln in lines] == [
        (1, 24, Decimal("2.7500")), (2, 100, Decimal("0.3000"))]
    e = rejected(session, world, "orders", write(tmp_path, """
        order_number,customer,warehouse,sku,qty,unit_price
        L-1001,BUILDCO,DAL1,WIDGET,1,1
        """, name="again.csv"))
    assert "order L-1001 already exists" in str(e)


def test_only_roles_with_import_rights_may_import(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, "code,name\nNEW,New supplier\n")
    with pytest.raises(PermissionDenied, match="alice may not import data"):
        import_csv(session, world.actors["alice"], "suppliers", path)
    assert count(session, Supplier) == 1


def test_export_writes_decimal_money_uuid_text_and_utc_times(session: Session, world: World) -> None:
    out = io.StringIO()
    n = export_table(session, "item", out)
    rows = list(csv.DictReader(io.StringIO(out.getvalue())))
    assert n == len(rows) == 4
    widget = next(r for r in rows if r["sku"] == "WIDGET")
    assert widget["standard_cost"] == "1.2500" and widget["list_price"] == "2.9900"
    assert widget["id"] == str(world.items["WIDGET"].id)
    assert widget["created_at"].endswith("+00:00") and widget["track_lot"] == "false"
    with pytest.raises(Exception, match="unknown table 'nope'"):
        export_table(session, "nope", io.StringIO())


def test_export_then_import_round_trip_into_a_new_database(session: Session, world: World, tmp_path: Path) -> None:
    for _kind, table in (("items", "item"), ("suppliers", "supplier"), ("customers", "customer")):
        with (tmp_path / f"{table}.csv").open("w", newline="") as f:
            export_table(session, table, f)
    fresh = tmp_path / "fresh.db"
    eng = make_engine(fresh)
    schema.upgrade(eng)
    eng.dispose()
    eng = open_database(fresh)
    with Session(eng) as s2:
        hq = md.create_branch(s2, "HQ", "Head office", head_office=True)
        from app.services.auth import actor_for, create_user

        admin = actor_for(s2, create_user(s2, "admin", "secret", ["admin"], owner_branch_id=hq.id))
        for kind, table in (("items", "item"), ("suppliers", "supplier")):
            import_csv(s2, admin, kind, tmp_path / f"{table}.csv")
        import_csv(s2, admin, "customers", tmp_path / "customer.csv")
        s2.commit()
        limits = {c.code: c.credit_limit for c in s2.scalars(select(Customer))}
        got = {i.sku: (i.standard_cost, i.list_price, i.track_serial) for i in s2.scalars(select(Item))}
    eng.dispose()
    want = {i.sku: (i.standard_cost, i.list_price, i.track_serial) for i in session.scalars(select(Item))}
    assert got == want
    assert limits == {c.code: c.credit_limit for c in session.scalars(select(Customer))}
    assert count(session, ItemSupplier) == 4
