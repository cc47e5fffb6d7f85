"""Importing the organisation and everything open in the old system: branches, warehouses, bins,
open purchase orders, order points (fixed min/max) and sales history. The usual rules: every bad
row with its line and a one-line reason, nothing written on a refused file, --skip-bad."""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from app.models.demand import ReplenishmentPolicy, SalesHistory
from app.models.org import Location, Warehouse, Zone
from app.models.purchasing import ExpectedReceipt, ExpectedReceiptLine, PurchaseOrder, PurchaseOrderLine
from app.models.stamps import days, micros
from app.services.importer import ImportRejected, import_csv
from app.services.replenishment import run
from tests.factories import World

TODAY = dt.date(2026, 11, 26)


def write(tmp_path: Path, body: str, name: str = "in.csv") -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return p


def count(session: Session, table: str) -> int:
    return int(session.scalar(text(f"SELECT count(*) FROM {table}")) or 0)


def refused(session: Session, world: World, kind: str, path: Path) -> list[str]:
    """Import ``path``; it must be refused. Returns 'line N: reason' of every bad row."""
    with pytest.raises(ImportRejected) as e:
        import_csv(session, world.actors["root"], kind, path)
    session.rollback()
    return [str(p) for p in e.value.problems]


# --------------------------------------------------------------------------- organisation


def test_warehouses_and_locations_import_with_zones_walk_order_and_pick_faces(session: Session, world: World,
                                                                             tmp_path: Path) -> None:
    wh = write(tmp_path, """
        code,branch,name,address
        dal2,DAL,Dallas overflow,9 Lot Rd
        """, "wh.csv")
    assert import_csv(session, world.actors["root"], "warehouses", wh).imported == 1
    locs = write(tmp_path, """
        warehouse,code,kind,role,zone,capacity_volume_cm3,capacity_weight_g,temperature_class,hazmat_class,fixed_sku,min_qty,max_qty
        DAL2,F-01,storage,pick,FRZ,100000,50000,frozen,,BOLT,10,40
        DAL2,F-02,,reserve,FRZ,,,,,,,
        DAL2,H-01,storage,reserve,HZ,,,,3,,,
        DAL2,D9,dock,,,,,,,,,
        """, "loc.csv")
    result = import_csv(session, world.actors["root"], "locations", locs)
    session.commit()
    assert result.imported == 4
    dal2 = session.scalars(select(Warehouse).where(Warehouse.code == "DAL2")).one()
    rows = {loc.code: loc for loc in session.scalars(select(Location).where(Location.warehouse_id == dal2.id))}
    assert {"DOCK", "QA", "SUPPLIER", "CUSTOMER", "ADJUST"} <= set(rows)  # the warehouse came with its own
    f1, f2, h1, d9 = rows["F-01"], rows["F-02"], rows["H-01"], rows["D9"]
    assert (f1.role, f1.fixed_item_id, f1.min_qty, f1.max_qty) == ("pick", world.items["BOLT"].id, 10, 40)
    zones = {z.code: z for z in session.scalars(select(Zone).where(Zone.warehouse_id == dal2.id))}
    assert zones["FRZ"].temperature_class == "frozen" and f2.temperature_class == "frozen"  # from the zone
    assert zones["HZ"].hazmat_class == "3" and h1.hazmat_class == "3"
    assert (d9.kind, d9.role) == ("dock", "")
    assert [f1.walk_seq, f2.walk_seq, h1.walk_seq, d9.walk_seq] == [1, 2, 3, 4]  # file order after the last
    assert count(session, "sync_outbox WHERE tbl = 'location'") >= 4


def test_a_bin_used_twice_in_one_warehouse_is_refused_with_both_lines(session: Session, world: World,
                                                                     tmp_path: Path) -> None:
    path = write(tmp_path, """
        warehouse,code,role
        DAL1,B-01,reserve
        DAL1,b-01,pick
        HOU1,B-01,reserve
        DAL1,A-01,reserve
        DAL1,P-01,pick
        NOWH,X-1,reserve
        DAL1,P-02,reserve
        """)
    path_minmax = write(tmp_path, """
        warehouse,code,role,fixed_sku,min_qty,max_qty
        DAL1,P-01,pick,BOLT,50,20
        DAL1,P-02,reserve,BOLT,1,2
        DAL1,P-03,pick,NOPE,1,2
        """, "mm.csv")
    before = count(session, "location")
    assert refused(session, world, "locations", path) == [
        "line 3: duplicate bin B-01 in warehouse DAL1 (first on line 2)",
        "line 5: bin A-01 already exists in warehouse DAL1 in the database",
        "line 7: warehouse: unknown warehouse NOWH",
    ]
    assert refused(session, world, "locations", path_minmax) == [
        "line 2: min_qty: 50 is above max qty 20",
        "line 3: fixed_sku: only a pick bin has a fixed item",
        "line 4: fixed_sku: unknown item NOPE",
    ]
    assert count(session, "location") == before
    # --skip-bad: the good rows go in
    result = import_csv(session, world.actors["root"], "locations", path, skip_bad=True)
    assert result.imported == 4 and [p.line for p in result.skipped] == [3, 5, 7]


def test_branches_need_one_head_office_and_warehouses_a_known_branch(session: Session, world: World,
                                                                    tmp_path: Path) -> None:
    branches = write(tmp_path, """
        code,name,head_office,timezone
        PHX,Phoenix,no,America/Phoenix
        AUS,Austin,yes,America/Chicago
        ELP,El Paso,no,Mars/Base
        """, "b.csv")
    assert refused(session, world, "branches", branches) == [
        "line 3: head_office: HQ is already the head office (a company has one)",
        "line 4: timezone: 'Mars/Base' is not a known time zone (use an IANA name such as America/Chicago, or UTC)",
    ]
    warehouses = write(tmp_path, """
        code,branch,name
        PHX1,PHX,Phoenix DC
        """, "w.csv")
    assert refused(session, world, "warehouses", warehouses) == [
        "line 2: branch: unknown branch PHX (known: DAL, HOU, HQ)"]
    assert count(session, "branch") == 3 and count(session, "warehouse") == 2


# --------------------------------------------------------------------------- open purchase orders


def test_open_pos_become_sent_pos_with_expected_receipts_and_what_was_received_before(
        session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        number,supplier,warehouse,sku,qty_ordered,qty_received,price,expected_date,order_date
        PO-9001,ACME,DAL1,WIDGET,120,0,1.20,2026-12-01,2026-11-20
        PO-9001,ACME,DAL1,BOLT,500,0,0.09,2026-12-03,2026-11-20
        PO-9002,ACME,DAL1,BOLT,100,40,0.10,2026-11-30,2026-11-10
        """)
    result = import_csv(session, world.actors["root"], "purchase-orders", path)
    session.commit()
    assert result.imported == 3
    pos = {po.number: po for po in session.scalars(select(PurchaseOrder))}
    assert pos["PO-9001"].status == "sent" and pos["PO-9002"].status == "partially_received"
    assert pos["PO-9001"].order_date == dt.date(2026, 11, 20) and pos["PO-9001"].expected_date == dt.date(2026, 12, 1)
    lines = {(pl.po_id, pl.line_no): pl for pl in session.scalars(select(PurchaseOrderLine))}
    assert lines[(pos["PO-9002"].id, 1)].qty_received == 40
    ers: dict[tuple[str, str], list[tuple[int, int]]] = {}
    for er in session.scalars(select(ExpectedReceipt).order_by(ExpectedReceipt.number)):
        assert er.warehouse_id == world.wh_dal.id
        number = next(n for n, po in pos.items() if po.id == er.po_id)
        ers.setdefault((number, er.status), []).extend(
            (el.qty_expected, el.qty_received) for el in session.scalars(
                select(ExpectedReceiptLine).where(ExpectedReceiptLine.receipt_id == er.id)))
    # PO-9002's 40 came in the old system: recorded as a received delivery, the 60 still owed expected
    assert ers == {("PO-9001", "expected"): [(120, 0), (500, 0)], ("PO-9002", "received"): [(100, 40)],
                   ("PO-9002", "expected"): [(60, 0)]}
    # nothing was e-mailed to the supplier, and the approval rules did not stop it
    assert not _has(session, "email_outbox") or count(session, "email_outbox") == 0
    assert count(session, "audit_entry WHERE action = 'po.sent'") == 2
    # replenishment counts what is still on order: 120 + 500 + 60
    from app.services.replenishment.reads import OPEN_PO_STATES

    assert {"sent", "partially_received"} <= set(OPEN_PO_STATES)


def _has(session: Session, table: str) -> bool:
    return session.scalar(text("SELECT 1 FROM sqlite_master WHERE name = :t"), {"t": table}) is not None


def test_an_open_po_of_an_unknown_supplier_is_refused_whole(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        number,supplier,warehouse,sku,qty_ordered,qty_received,price
        PO-1,NOSUCH,DAL1,WIDGET,10,0,1.00
        PO-1,NOSUCH,DAL1,BOLT,10,0,1.00
        PO-2,ACME,DAL1,BOLT,10,11,1.00
        PO-3,ACME,DAL1,BOLT,10,10,1.00
        PO-4,ACME,DAL1,GHOST,5,0,1.00
        PO-4,ACME,DAL1,BOLT,5,0,1.00
        PO-5,ACME,DAL1,BOLT,5,0,-1
        """)
    dated = write(tmp_path, """
        number,supplier,warehouse,sku,qty_ordered,price,order_date,expected_date
        PO-6,ACME,DAL1,BOLT,5,1.00,2026-02-10,2026-02-01
        PO-7,ACME,DAL1,BOLT,5,1.00,,2020-01-31
        """, "dated.csv")
    assert refused(session, world, "purchase-orders", path) == [
        "line 2: supplier: unknown supplier NOSUCH",
        "line 3: supplier: unknown supplier NOSUCH",
        "line 4: qty_received: 11 is more than qty_ordered 10",
        "line 5: number: nothing is open on PO PO-3 (every line is received): import only open purchase orders",
        "line 6: sku: unknown item GHOST",
        "line 7: PO PO-4 has a bad line, so none of its lines is imported",
        "line 8: price: -1 is negative",
    ]
    assert count(session, "purchase_order") == 0 and count(session, "expected_receipt") == 0
    assert refused(session, world, "purchase-orders", dated) == [
        "line 2: expected_date: 2026-02-01 is before the order date 2026-02-10"]
    # an overdue PO without an order date is open all the same (ordered no later than it was due)
    import_csv(session, world.actors["root"], "purchase-orders", dated, skip_bad=True)
    po7 = session.scalars(select(PurchaseOrder).where(PurchaseOrder.number == "PO-7")).one()
    assert po7.status == "sent" and po7.order_date == dt.date(2020, 1, 31)


# --------------------------------------------------------------------------- order points and the fixed min/max policy


def test_order_points_drive_a_fixed_min_max_recommendation(session: Session, world: World, tmp_path: Path) -> None:
    from app.services.stock import MoveSpec, post_moves, virtual_location

    path = write(tmp_path, """
        warehouse,sku,min_qty,max_qty
        DAL1,BOLT,100,400
        DAL1,WIDGET,30,60
        HOU1,BOLT,5,10
        """)
    assert import_csv(session, world.actors["root"], "order-points", path).imported == 3
    # 99 BOLT on hand at DAL1: below min 100 -> order up to 400 (301); 30 WIDGET: at min, not below -> nothing
    adj = virtual_location(session, world.wh_dal.id, "adjust")
    post_moves(session, None, [MoveSpec(world.items["BOLT"].id, 99, adj.id, world.bins["DAL1-A-02"].id, "opening"),
                               MoveSpec(world.items["WIDGET"].id, 30, adj.id, world.bins["DAL1-A-02"].id, "opening")],
               owner_branch_id=world.dal.id)
    session.flush()
    res = run(session, None, branch_code="DAL", today=TODAY)
    recs = {r.sku: r for r in res.recommendations}
    assert set(recs) == {"BOLT"}
    w = recs["BOLT"].why
    assert (w.policy, w.policy_label, w.rop, w.oul, w.ss, w.position, w.raw_qty) == \
        ("fixed_minmax", "fixed min/max", 100, 400, 0, 99, 301)
    assert recs["BOLT"].qty == 301  # pack 1, minimum 1
    from app.views.buying.worklist import why_html

    assert "fixed min/max" in why_html(recs["BOLT"]) and "falls below min 100, up to max 400" in why_html(recs["BOLT"])
    # importing the file again replaces the pairs' min and max (the file states what is in force)
    again = write(tmp_path, """
        warehouse,sku,min_qty,max_qty
        DAL1,BOLT,50,200
        """, "again.csv")
    result = import_csv(session, world.actors["root"], "order-points", again)
    assert (result.imported, result.replaced) == (1, 1)
    assert count(session, "replenishment_policy") == 3
    assert not {r.sku for r in run(session, None, branch_code="DAL", today=TODAY).recommendations}


def test_a_min_above_its_max_and_unknown_pairs_are_refused(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        warehouse,sku,min_qty,max_qty
        DAL1,BOLT,50,20
        DAL1,WIDGET,0,0
        DAL1,NOPE,1,2
        NOWH,BOLT,1,2
        DAL1,BOLT,-1,2
        DAL1,MILK,1,2
        dal1,milk,1,3
        """)
    assert refused(session, world, "order-points", path) == [
        "line 2: min_qty: 50 is above max_qty 20",
        "line 3: max_qty: must be more than zero",
        "line 4: sku: unknown item NOPE",
        "line 5: warehouse: unknown warehouse NOWH",
        "line 6: min_qty: -1 is negative",
        "line 8: duplicate order point of MILK at DAL1 (first on line 7)",
    ]
    assert session.scalar(select(func.count()).select_from(ReplenishmentPolicy)) == 0


# --------------------------------------------------------------------------- sales history


def _weekly_history(start: dt.date, weekly: tuple[int, ...], wh: str = "DAL1", sku: str = "BOLT") -> str:
    rows = ["date,warehouse,sku,qty,customer,reference"]
    for k, q in enumerate(weekly):
        rows.append(f"{(start + dt.timedelta(days=7 * k + 2)).isoformat()},{wh},{sku},{q},BUILDCO,INV-{k}")
    return "\n".join(rows) + "\n"


def test_sales_history_is_demand_for_replenishment_and_moves_no_stock(session: Session, world: World,
                                                                      tmp_path: Path) -> None:
    # the worked example of test_replenishment (56, 84, 56, 84 in the 4 weeks before TODAY), as legacy history
    start = TODAY - dt.timedelta(days=28)
    path = tmp_path / "hist.csv"
    path.write_text(_weekly_history(start, (56, 84, 56, 84)), encoding="utf-8")
    moves, balances = count(session, "stock_move"), count(session, "stock_balance")
    result = import_csv(session, world.actors["root"], "sales-history", path)
    session.commit()
    assert (result.rows, result.imported) == (4, 4)
    assert count(session, "stock_move") == moves and count(session, "stock_balance") == balances
    assert count(session, "sync_outbox WHERE tbl = 'sales_history'") == 4
    res = run(session, None, branch_code="DAL", today=TODAY, history_weeks=4)
    bolt = next(r for r in res.recommendations if r.sku == "BOLT")
    assert bolt.why.d == pytest.approx(10.0) and bolt.why.sigma_d ** 2 == pytest.approx(37.3333, abs=1e-3)
    assert bolt.why.policy == "computed" and bolt.why.raw_qty == 172  # nothing on hand: ceil(OUL 171.27)
    # the weekly digest is rebuilt from ledger and history alike
    from app.services.replenishment.reads import rebuild_sales_weeks

    before = session.execute(text("SELECT item_id, warehouse_id, week, qty FROM sales_week ORDER BY 1, 2, 3")).all()
    rebuild_sales_weeks(session)
    assert session.execute(text("SELECT item_id, warehouse_id, week, qty FROM sales_week ORDER BY 1, 2, 3")).all() \
        == before
    # history is insert-only, like a ledger
    with pytest.raises(Exception, match="insert-only ledger"):
        session.execute(text("UPDATE sales_history SET qty = 1"))
    session.rollback()
    # the same file again: every row is already there, nothing added
    assert refused(session, world, "sales-history", path) == [
        f"line {n}: this sale is already in the database (sales history imported before?)" for n in (2, 3, 4, 5)]
    assert session.scalar(select(func.count()).select_from(SalesHistory)) == 4


def test_sales_history_on_top_of_history_skips_the_rows_already_there(session: Session, world: World,
                                                                     tmp_path: Path) -> None:
    # the duplicate check reads the history's keys from a temporary table made for the import
    # (sales_history keeps no (item, warehouse, day) index since 0024b_history_index)
    start = TODAY - dt.timedelta(days=28)
    first, again = tmp_path / "first.csv", tmp_path / "again.csv"
    first.write_text(_weekly_history(start, (56, 84, 56, 84)), encoding="utf-8")
    assert import_csv(session, world.actors["root"], "sales-history", first).imported == 4
    session.commit()
    # two rows of the first file, one of them for another customer's reference, and a new day
    again.write_text(_weekly_history(start, (56, 84)) + f"{(start + dt.timedelta(days=3)).isoformat()},DAL1,BOLT,7,"
                     "BUILDCO,INV-0\n" + f"{start.isoformat()},DAL1,BOLT,5,,INV-0\n", encoding="utf-8")
    result = import_csv(session, world.actors["root"], "sales-history", again, skip_bad=True)
    session.commit()
    assert result.imported == 2
    assert [str(p) for p in result.skipped] == [
        f"line {n}: this sale is already in the database (sales history imported before?)" for n in (2, 3)]
    assert count(session, "sales_history") == 6
    assert count(session, "temp.sqlite_master WHERE name = 'import_sales_have'") == 0, "gone with the import"


def test_sales_history_in_the_future_or_unknown_is_refused_and_nothing_is_written(
        session: Session, world: World, tmp_path: Path) -> None:
    tomorrow = dt.date.today() + dt.timedelta(days=1)
    path = write(tmp_path, f"""
        date,warehouse,sku,qty,customer
        2026-01-05,DAL1,BOLT,10,
        {tomorrow.isoformat()},DAL1,BOLT,5,
        2026-01-05,DAL1,BOLT,7,
        2026-01-06,DAL1,GHOST,1,
        2026-01-06,DAL1,BOLT,1,NOBODY
        2026-01-07,DAL1,BOLT,0,
        06/01/2026,DAL1,BOLT,3,
        """)
    assert refused(session, world, "sales-history", path) == [
        f"line 3: date: {tomorrow.isoformat()} is in the future (today is {dt.date.today().isoformat()}); "
        "sales history is what was sold",
        "line 4: duplicate sales of BOLT at DAL1 on 2026-01-05 (first on line 2)",
        "line 5: sku: unknown item GHOST",
        "line 6: customer: unknown customer NOBODY",
        "line 7: qty: must be more than zero",
        "line 8: date: '06/01/2026' is not a date (use YYYY-MM-DD)",
    ]
    assert count(session, "sales_history") == 0 and count(session, "sales_week") == 0
    assert count(session, "sync_outbox WHERE tbl = 'sales_history'") == 0
    # --skip-bad keeps the one good row; a check (dry run) writes nothing at all
    check = import_csv(session, world.actors["root"], "sales-history", path, dry_run=True)
    assert check.dry_run and check.imported == 0 and len(check.skipped) == 6 and check.rows == 7
    assert count(session, "sales_history") == 0
    result = import_csv(session, world.actors["root"], "sales-history", path, skip_bad=True)
    assert (result.rows, result.imported, len(result.skipped)) == (7, 1, 6)
    assert count(session, "sales_history") == 1


def test_sales_history_streams_a_file_bigger_than_one_chunk(session: Session, world: World, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    import app.services.importer as imp

    monkeypatch.setattr(imp, "STREAM_CHUNK", 7)
    day0 = dt.date(2026, 1, 1)
    rows = ["date,warehouse,sku,qty"] + [f"{(day0 + dt.timedelta(days=n)).isoformat()},DAL1,BOLT,{n + 1}"
                                         for n in range(30)]
    bad = [*rows, "2026-01-02,DAL1,BOLT,9"]  # line 32 repeats line 3: found after 4 chunks were written
    path = tmp_path / "h.csv"
    path.write_text("\n".join(bad) + "\n", encoding="utf-8")
    schema = session.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all()
    assert refused(session, world, "sales-history", path) == [
        "line 32: duplicate sales of BOLT at DAL1 on 2026-01-02 (first on line 3)"]
    assert count(session, "sales_history") == 0 and count(session, "sales_week") == 0
    # the load set the triggers and (the table being empty) the indexes aside: all back as they were
    assert session.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all() == schema
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert import_csv(session, world.actors["root"], "sales-history", path).imported == 30
    assert session.scalar(text("SELECT sum(qty) FROM sales_week")) == sum(range(1, 31))
    assert session.execute(text("SELECT type, name, sql FROM sqlite_master ORDER BY name")).all() == schema
    assert count(session, "sync_outbox WHERE tbl = 'sales_history'") == 30


def test_a_branch_workstation_imports_only_its_own_warehouses_history(session: Session, world: World,
                                                                      tmp_path: Path) -> None:
    from app.models.sync import LocalSite

    session.get(LocalSite, 1) or session.execute(text(
        "INSERT INTO local_site (id, site_id, branch_id, created_at) VALUES (1, 'x', NULL, '2026-01-01')"))
    session.execute(text("UPDATE local_site SET branch_id = :b"), {"b": world.dal.id})
    session.execute(text("INSERT INTO sync_state (key, value) VALUES ('dsn', 'host=x')"))
    session.commit()
    path = write(tmp_path, """
        date,warehouse,sku,qty
        2026-01-05,DAL1,BOLT,10
        2026-01-05,HOU1,BOLT,10
        """)
    assert refused(session, world, "sales-history", path) == [
        "line 3: warehouse HOU1 belongs to HOU: import it at a HOU workstation"]
    with pytest.raises(Exception, match="locations are head-office data"):
        import_csv(session, world.actors["root"], "locations", write(tmp_path, "warehouse,code\nDAL1,Z-9\n", "l.csv"))


def test_a_big_batch_is_captured_and_digested_exactly_as_row_by_row(session: Session, world: World, tmp_path: Path,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Bulk writes set the per-row triggers aside and do their work set-based: the outbox, the weekly
    digest and the schema must come out exactly as the triggers would have left them."""
    import app.services.bulk as bulk

    schema_before = session.execute(text("SELECT name, sql FROM sqlite_master ORDER BY name")).all()
    day0 = dt.date(2026, 3, 2)
    body = "date,warehouse,sku,qty,customer\n" + "".join(
        f"{(day0 + dt.timedelta(days=n % 40)).isoformat()},{wh},{sku},{n % 7 + 1},{'BUILDCO' if n % 3 else ''}\n"
        for n in range(120) for wh, sku in [(("DAL1", "HOU1")[n % 2], ("BOLT", "WIDGET", "MILK")[n % 3])])
    path = tmp_path / "h.csv"
    path.write_text(body, encoding="utf-8")
    monkeypatch.setattr(bulk, "BATCH_MIN", 1)
    assert import_csv(session, world.actors["root"], "sales-history", path).imported == 120
    ids = [r[0].hex() for r in session.execute(text("SELECT id FROM sales_history ORDER BY rowid"))]  # outbox: hex
    captured = session.execute(text("SELECT row_id, op FROM sync_outbox WHERE tbl = 'sales_history' ORDER BY seq")).all()
    assert [tuple(r) for r in captured] == [(i, "I") for i in ids]
    assert session.execute(text("SELECT name, sql FROM sqlite_master ORDER BY name")).all() == schema_before
    digest = session.execute(text("SELECT item_id, warehouse_id, week, qty FROM sales_week ORDER BY 1, 2, 3")).all()
    from app.services.replenishment.reads import rebuild_sales_weeks

    rebuild_sales_weeks(session)
    assert session.execute(text("SELECT item_id, warehouse_id, week, qty FROM sales_week ORDER BY 1, 2, 3")).all() \
        == digest
    assert session.scalar(text("SELECT sum(qty) FROM sales_week")) == sum(n % 7 + 1 for n in range(120))
    # a later single row still fires the triggers that were put back (time and day in their stored
    # numbers, ``stamps``: text is refused by the table's CHECKs)
    session.execute(text("INSERT INTO sales_history (id, owner_branch_id, created_at, item_id, warehouse_id, sale_date,"
                         " qty, reference) VALUES ('x1', :o, :c, :i, :w, :d, 5, '')"),
                    {"o": world.dal.id, "i": world.items["BOLT"].id, "w": world.wh_dal.id,
                     "c": micros(dt.datetime(2026, 1, 1, tzinfo=dt.UTC)), "d": days(dt.date(2026, 1, 1))})
    assert session.scalar(text("SELECT count(*) FROM sync_outbox WHERE row_id = 'x1'")) == 1
    assert session.scalar(text("SELECT sum(qty) FROM sales_week")) == sum(n % 7 + 1 for n in range(120)) + 5


def test_an_import_tells_the_screens_what_kinds_of_data_it_wrote(session: Session, world: World,
                                                                 tmp_path: Path) -> None:
    """Bulk writes go around the ORM: they still count in the Session's record of what it wrote, so
    the window refreshes the screens that show them."""
    from app.services import changes
    from app.services.changes import Change

    changes.forget(session)
    path = write(tmp_path, "warehouse,sku,min_qty,max_qty\nDAL1,BOLT,1,5\n")
    import_csv(session, world.actors["root"], "order-points", path)
    assert Change.RULES in changes.flushed(session)
    changes.forget(session)
    path = write(tmp_path, "date,warehouse,sku,qty\n2026-01-05,DAL1,BOLT,3\n", "h.csv")
    import_csv(session, world.actors["root"], "sales-history", path)
    assert Change.ORDER in changes.flushed(session) and "sales_history" in changes.flushed_tables(session)


@pytest.mark.parametrize("kind", ["sales-history", "order-points", "locations"])
def test_a_file_in_another_encoding_or_separator_reads_or_is_refused_whole(session: Session, world: World,
                                                                           tmp_path: Path, kind: str) -> None:
    """Excel's habits (Windows-1252, ';', a workbook saved under a .csv name) reach the new kinds
    through the importer's one reading function: read as it is, or refused with nothing written."""
    from app.services.errors import DomainError

    bodies = {
        "sales-history": "date;warehouse;sku;qty;reference\r\n2026-01-05;DAL1;BOLT;3;Réf n°1\r\n",
        "order-points": "warehouse;sku;min_qty;max_qty\r\nDAL1;BOLT;2;9\r\n",
        "locations": "warehouse;code;zone;hazmat_class\r\nDAL1;É-01;ZÉ;\r\n",
    }
    path = tmp_path / "excel.csv"
    path.write_bytes(bodies[kind].encode("cp1252"))
    result = import_csv(session, world.actors["root"], kind, path)
    encoding = "utf-8" if bodies[kind].isascii() else "windows-1252"  # plain ASCII is UTF-8 too
    assert result.imported == 1 and result.encoding == encoding and result.delimiter == ";"
    session.rollback()
    before = count(session, "sync_outbox")
    workbook = tmp_path / "book.csv"
    workbook.write_bytes(b"PK\x03\x04" + b"\x00" * 200)  # an .xlsx saved under a .csv name
    with pytest.raises(DomainError) as e:
        import_csv(session, world.actors["root"], kind, workbook)
    assert "\n" not in str(e.value) and ("workbook" in str(e.value).lower() or "not" in str(e.value).lower())
    session.rollback()
    assert count(session, "sync_outbox") == before


def test_carriers_and_their_services_import_by_carrier(session: Session, world: World, tmp_path: Path) -> None:
    path = write(tmp_path, """
        carrier,service_code,service_name,carrier_name,api,service_level,transit_days
        ups,03,UPS Ground,United Parcel Service,ups,standard,5
        UPS,01,UPS Next Day Air,,,next_day,1
        ACMEX,X1,Acme Express,,sandbox,two_day,2
        UPS,03,Again,,,,
        FAST,F,Fast,Fast Freight,teleport,,
        SLOW,S,Slow boat,Slow Co,sandbox,,90
        """)
    assert refused(session, world, "carriers", path) == [
        "line 4: carrier_name: carrier ACMEX is new: give its name",
        "line 5: duplicate service 03 of carrier UPS (first on line 2)",
        "line 6: api: 'teleport' is not one of ups, fedex, dhl, usps, sandbox",
        "line 7: transit_days: 90 is more than 60",
    ]
    assert count(session, "carrier") == 0
    result = import_csv(session, world.actors["root"], "carriers", path, skip_bad=True)
    assert result.imported == 2
    rows = session.execute(text("SELECT c.code, c.name, c.api, s.code, s.service_level, s.transit_days FROM carrier c "
                                "JOIN carrier_service s ON s.carrier_id = c.id ORDER BY s.code")).all()
    assert [tuple(r) for r in rows] == [("UPS", "United Parcel Service", "ups", "01", "next_day", 1),
                                        ("UPS", "United Parcel Service", "ups", "03", "standard", 5)]
    # a known carrier takes more services without its name again
    more = write(tmp_path, "carrier,service_code,service_name\nUPS,02,UPS 2nd Day Air\n", "more.csv")
    assert import_csv(session, world.actors["root"], "carriers", more).imported == 1
    assert count(session, "carrier") == 1 and count(session, "carrier_service") == 3


def test_control_characters_in_cells_are_bad_rows_but_line_breaks_in_text_are_kept(
        session: Session, world: World, tmp_path: Path) -> None:
    path = tmp_path / "items.csv"
    path.write_text('sku,description\nA1,"two\nlines\tand a tab"\nA2,bell\x07here\nA3,next line \x85 (C1)\nA\x014,x\n',
                    encoding="utf-8")
    problems = refused(session, world, "items", path)
    assert problems == [
        "line 4: description: holds a control character (U+0007): is the file damaged?",
        "line 5: description: holds a control character (U+0085): is the file damaged?",
        "line 6: sku: holds a control character (U+0001): is the file damaged?",
    ]
    result = import_csv(session, world.actors["root"], "items", path, skip_bad=True)
    assert result.imported == 1
    assert session.scalar(text("SELECT description FROM item WHERE sku = 'A1'")) == "two\nlines\tand a tab"
