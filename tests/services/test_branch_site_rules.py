"""Replenishment decisions, the importer, this file's branch and head-office configuration on a
branch workstation (``become_branch_site``: the ownership guard is on, as after a first sync).

Each rule is checked on the branch site and, where head office (or a standalone file) may act,
there too: a step that wrote a row the server would refuse raises ForeignWrite at its commit.
"""

from __future__ import annotations

import datetime as dt
import textwrap
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.buying import RecommendationDecision, ReplenishmentClass, Requisition, TransferLane
from app.models.catalog import Item
from app.models.docs_common import AuditEntry
from app.models.org import Branch
from app.models.parties import Supplier
from app.models.sales import SalesOrder
from app.models.stock import StockMove
from app.services import items as items_q
from app.services import settings as st
from app.services.auth import create_user
from app.services.buying import requisitions as rq
from app.services.errors import PermissionDenied
from app.services.importer import ImportRejected, import_csv
from app.services.replenishment import run
from app.services.replenishment.config import class_settings, set_class, set_lane
from app.services.stock import on_hand
from tests.factories import World, become_branch_site, load_world
from tests.services.test_replenishment import TODAY, stock_and_sales


@pytest.fixture
def sites(session: Session, world: World) -> World:
    """Needs for BOLT and WIDGET at DAL1, a head-office buyer (hank), a Dallas admin (dora) and a
    Houston buyer (holly),
    made on the standalone file as head office would before the branches first sync."""
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    create_user(session, "hank", "secret-hank", ["buyer"], owner_branch_id=world.ho.id, branch_id=world.ho.id)
    create_user(session, "dora", "secret-dora", ["admin"], owner_branch_id=world.ho.id, branch_id=world.dal.id)
    create_user(session, "holly", "secret-holly", ["buyer"], owner_branch_id=world.ho.id, branch_id=world.hou.id)
    session.commit()
    return world


def _site(engine: Engine, branch: Branch) -> tuple[Session, World]:
    become_branch_site(engine, branch)
    s = Session(engine, expire_on_commit=False)
    return s, load_world(s)


def _shown(s: Session) -> set[str]:
    return {r.sku for r in run(s, None, today=TODAY, history_weeks=4).recommendations}


def _count(s: Session, model: type, *where: object) -> int:
    return int(s.scalar(select(func.count()).select_from(model).where(*where)) or 0)  # type: ignore[arg-type]


def _csv(tmp_path: Path, name: str, body: str) -> Path:
    p = tmp_path / name
    p.write_text(textwrap.dedent(body).lstrip("\n"), encoding="utf-8")
    return p


# --------------------------------------------------------------------------- decisions


def test_head_office_snoozes_and_lifts_a_dallas_recommendation_with_rows_of_its_own(engine: Engine,
                                                                                     sites: World) -> None:
    dal, w = _site(engine, sites.dal)
    bolt, widget = (w.items["BOLT"].id, w.wh_dal.id), (w.items["WIDGET"].id, w.wh_dal.id)
    (dal_reject,) = rq.reject(dal, w.actors["alice"], [widget], "overstock", today=TODAY)
    dal.commit()
    assert dal_reject.owner_branch_id == w.dal.id and _shown(dal) == {"BOLT"}
    dal.close()

    hq, w = _site(engine, sites.ho)
    (snooze,) = rq.snooze(hq, w.actors["hank"], [bolt], TODAY + dt.timedelta(days=5),
                          "price list due", today=TODAY)
    hq.commit()  # the guard let it through: the decision is head office's row
    assert snooze.owner_branch_id == w.ho.id and _shown(hq) == set()
    assert rq.lift(hq, w.actors["hank"], [widget], today=TODAY) == 1  # Dallas's rejection
    hq.commit()
    assert _shown(hq) == {"WIDGET"}
    assert hq.get(RecommendationDecision, dal_reject.id).deleted_at is None  # type: ignore[union-attr], "Dallas's row is not edited: a newer 'lift' row of HQ's withdraws it"
    lift_row = hq.scalars(select(RecommendationDecision).where(RecommendationDecision.kind == "lift")).one()
    assert lift_row.owner_branch_id == w.ho.id
    assert rq.lift(hq, w.actors["hank"], [widget], today=TODAY) == 0  # nothing left to lift
    hq.close()

    dal, w = _site(engine, sites.dal)  # Dallas, after its pull, sees the same and may override it
    assert _shown(dal) == {"WIDGET"}
    assert rq.lift(dal, w.actors["alice"], [bolt], today=TODAY) == 1  # head office's snooze
    rq.reject(dal, w.actors["alice"], [widget], "seasonal", today=TODAY)
    dal.commit()
    assert _shown(dal) == {"BOLT"}
    newest = dal.scalars(select(RecommendationDecision).order_by(RecommendationDecision.hlc.desc())).first()
    assert newest is not None and (newest.kind, newest.owner_branch_id) == ("reject", w.dal.id)
    dal.close()


def test_a_branch_buyers_own_snooze_reject_and_lift_work_as_before(engine: Engine, sites: World) -> None:
    dal, w = _site(engine, sites.dal)
    alice = w.actors["alice"]
    bolt = (w.items["BOLT"].id, w.wh_dal.id)
    rq.reject(dal, alice, [bolt], "discontinued", today=TODAY)  # 365 days
    rq.snooze(dal, alice, [bolt], TODAY + dt.timedelta(days=3), today=TODAY)  # replaces the rejection
    dal.commit()
    assert "BOLT" not in _shown(dal)
    later = {r.sku for r in run(dal, None, today=TODAY + dt.timedelta(days=3), history_weeks=4).recommendations}
    assert "BOLT" in later, "the newer snooze counts, not the longer rejection it replaced"
    lifts = dal.scalars(select(AuditEntry).where(AuditEntry.action == "recommendation.lift")).all()
    assert len(lifts) == 1 and lifts[0].owner_branch_id == w.dal.id
    with pytest.raises(PermissionDenied, match="holly may not requisition for warehouse DAL1"):
        rq.snooze(dal, w.actors["holly"], [bolt], TODAY + dt.timedelta(days=3), today=TODAY)
    dal.rollback()
    dal.close()


def test_head_office_accepts_a_dallas_recommendation_as_its_own_requisition(engine: Engine, sites: World) -> None:
    hq, w = _site(engine, sites.ho)
    recs = [r for r in run(hq, None, today=TODAY, history_weeks=4).recommendations if r.sku == "BOLT"]
    (req,) = rq.accept(hq, w.actors["hank"], rq.lines_from_recommendations(recs))
    hq.commit()
    assert (req.owner_branch_id, req.warehouse_id, req.number) == (w.ho.id, w.wh_dal.id, "HQ-RQ-000001")
    assert "BOLT" not in _shown(hq), "a requisition covers the need whoever owns it"
    hq.close()
    dal, _w = _site(engine, sites.dal)
    assert "BOLT" not in _shown(dal)
    dal.close()


# --------------------------------------------------------------------------- importer


def test_master_kinds_are_refused_on_a_branch_workstation_with_nothing_written(engine: Engine, sites: World,
                                                                             tmp_path: Path) -> None:
    files = {"items": "sku,description\nNUT-10,Hex nut\n", "suppliers": "code,name\nNEWCO,New supplier\n",
             "customers": "code,name\nNEWC,New customer\n", "item-suppliers": "sku,supplier\nBOLT,ACME\n"}
    dal, w = _site(engine, sites.dal)
    audits = _count(dal, AuditEntry)
    for kind, body in files.items():
        with pytest.raises(PermissionDenied, match=f"^{kind.replace('-', ' ')} are head-office data: import them "
                                                   "at a head-office workstation or into a standalone file"):
            import_csv(dal, w.actors["dora"], kind, _csv(tmp_path, f"{kind}.csv", body))
        dal.rollback()
    assert _count(dal, Item, Item.sku == "NUT-10") == 0 and _count(dal, Supplier) == 1
    assert _count(dal, AuditEntry) == audits
    dal.close()

    hq, w = _site(engine, sites.ho)  # head office imports them, owned by head office (but not Dallas's stock)
    assert import_csv(hq, w.actors["root"], "items", _csv(tmp_path, "items.csv", files["items"])).imported == 1
    hq.commit()
    assert hq.scalars(select(Item).where(Item.sku == "NUT-10")).one().owner_branch_id == w.ho.id
    with pytest.raises(ImportRejected, match="line 2: warehouse DAL1 belongs to DAL: import it at a DAL workstation"):
        import_csv(hq, w.actors["root"], "stock", _csv(tmp_path, "s.csv", "warehouse,bin,sku,qty\nDAL1,A-02,BOLT,5\n"))
    hq.close()


def test_stock_and_orders_for_another_branchs_warehouse_are_bad_rows(engine: Engine, sites: World,
                                                                   tmp_path: Path) -> None:
    stock = _csv(tmp_path, "stock.csv", """
        warehouse,bin,sku,qty
        DAL1,A-02,BOLT,50
        HOU1,A-01,WIDGET,120
        """)
    orders = _csv(tmp_path, "orders.csv", """
        order_number,customer,warehouse,sku,qty,unit_price
        L-1,BUILDCO,DAL1,WIDGET,2,2.75
        L-2,BUILDCO,HOU1,BOLT,5,0.35
        L-2,BUILDCO,HOU1,WIDGET,1,2.75
        """)
    dal, w = _site(engine, sites.dal)
    hou_moves = _count(dal, StockMove, StockMove.owner_branch_id == w.hou.id)
    with pytest.raises(ImportRejected) as e:
        import_csv(dal, w.actors["dora"], "stock", stock)
    dal.rollback()
    assert [(p.line, p.reason) for p in e.value.problems] == [
        (3, "warehouse HOU1 belongs to HOU: import it at a HOU workstation")]
    assert "line 3: warehouse HOU1 belongs to HOU" in str(e.value)

    got = import_csv(dal, w.actors["dora"], "stock", stock, skip_bad=True)
    dal.commit()
    assert got.imported == 1 and [p.line for p in got.skipped] == [3]
    assert on_hand(dal, w.items["WIDGET"].id, w.wh_hou.id) == 0
    assert _count(dal, StockMove, StockMove.owner_branch_id == w.hou.id) == hou_moves
    assert {m.owner_branch_id for m in dal.scalars(select(StockMove).where(StockMove.reason == "opening"))} == {
        w.dal.id}

    got = import_csv(dal, w.actors["dora"], "orders", orders, skip_bad=True)
    dal.commit()
    assert got.imported == 1
    assert {(p.line, p.reason) for p in got.skipped} == {
        (3, "warehouse HOU1 belongs to HOU: import it at a HOU workstation"),
        (4, "warehouse HOU1 belongs to HOU: import it at a HOU workstation")}
    assert [(o.number, o.owner_branch_id) for o in dal.scalars(select(SalesOrder))] == [("L-1", w.dal.id)]
    entry = dal.scalars(select(AuditEntry).where(AuditEntry.action == "import", AuditEntry.entity == "orders")).one()
    assert entry.owner_branch_id == w.dal.id
    dal.close()


def test_a_standalone_file_imports_every_branchs_stock(session: Session, sites: World, tmp_path: Path) -> None:
    got = import_csv(session, sites.actors["root"], "stock", _csv(tmp_path, "s.csv", """
        warehouse,bin,sku,qty
        DAL1,A-02,BOLT,50
        HOU1,A-02,WIDGET,120
        """))
    session.commit()
    assert got.imported == 2 and on_hand(session, sites.items["WIDGET"].id, sites.wh_hou.id) == 120


# --------------------------------------------------------------------------- this file's branch


def test_a_replicating_site_keeps_the_branch_of_its_server_login(engine: Engine, sites: World) -> None:
    s, w = _site(engine, sites.dal)
    assert st.branch_fixed_reason(s).startswith("this workstation replicates with a server")
    with pytest.raises(PermissionDenied, match="its branch is its server login's branch"):
        st.set_local_branch(s, w.actors["dora"], w.hou.id)
    s.rollback()
    assert st.local_branch(s) is not None and st.local_branch(s).code == "DAL"  # type: ignore[union-attr]
    assert _count(s, AuditEntry, AuditEntry.action == "settings.branch") == 0
    s.close()


def test_a_standalone_file_may_set_its_branch(session: Session, sites: World) -> None:
    assert st.branch_fixed_reason(session) == ""
    assert st.set_local_branch(session, sites.actors["root"], sites.hou.id).code == "HOU"


# --------------------------------------------------------------------------- head-office configuration


def test_replenishment_classes_lanes_and_item_activation_are_refused_on_a_branch(engine: Engine,
                                                                                sites: World) -> None:
    dal, w = _site(engine, sites.dal)
    with pytest.raises(PermissionDenied, match="^replenishment classes are head-office data: change them at "
                                               r"head office \(this workstation replicates as branch DAL\)"):
        set_class(dal, w.actors["dora"], "A", service_level_pct=99)
    with pytest.raises(PermissionDenied, match="^transfer lanes are head-office data: change them at head office"):
        set_lane(dal, w.actors["dora"], "HOU1", "DAL1", transit_days=2, cost_per_unit=0, cost_per_shipment=50)
    with pytest.raises(PermissionDenied, match="^items are head-office data: change them at head office"):
        items_q.set_items_active(dal, w.actors["mike"], [w.items["BOLT"].id], False)
    dal.rollback()
    assert _count(dal, ReplenishmentClass) == 0 and _count(dal, TransferLane) == 0
    assert dal.get(Item, w.items["BOLT"].id).active  # type: ignore[union-attr]
    dal.close()

    hq, w = _site(engine, sites.ho)
    set_class(hq, w.actors["root"], "A", service_level_pct=99)
    set_lane(hq, w.actors["root"], "HOU1", "DAL1", transit_days=2, cost_per_unit=0, cost_per_shipment=50)
    assert items_q.set_items_active(hq, w.actors["root"], [w.items["BOLT"].id], False) == 1
    hq.commit()
    assert class_settings(hq)["A"][0] == 99
    hq.close()


def test_a_standalone_file_changes_head_office_configuration(session: Session, sites: World) -> None:
    set_class(session, sites.actors["root"], "B", review_days=14)
    assert items_q.set_items_active(session, sites.actors["root"], [sites.items["MILK"].id], False) == 1
    session.commit()
    assert class_settings(session)["B"][1] == 14
    assert _count(session, Requisition) == 0


def test_depot_import_at_a_branch_workstation_says_what_to_do(engine: Engine, db_path: Path, sites: World,
                                                               tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from app.cli import run as cli_run

    become_branch_site(engine, sites.dal)
    items = _csv(tmp_path, "items.csv", "sku,description\nNUT-10,Hex nut\n")
    assert cli_run(["--db", str(db_path), "import", "items", str(items), "--user", "dora"]) == 1
    err = capsys.readouterr().err
    assert "depot: error: items are head-office data: import them at a head-office workstation" in err
    stock = _csv(tmp_path, "stock.csv", "warehouse,bin,sku,qty\nDAL1,A-02,BOLT,5\nHOU1,A-02,BOLT,7\n")
    assert cli_run(["--db", str(db_path), "import", "stock", str(stock), "--user", "dora", "--skip-bad"]) == 0
    out = capsys.readouterr()
    assert f"{stock}:3: skipped: warehouse HOU1 belongs to HOU: import it at a HOU workstation" in out.err
    assert "imported 1 stock" in out.out
