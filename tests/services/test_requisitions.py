"""Worklist decisions and requisitions: no duplicates, snooze/reject, bad input, conversion."""

from __future__ import annotations

import datetime as dt
import json
import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import run as cli_run
from app.models.buying import RecommendationDecision, Requisition
from app.models.docs_common import AuditEntry
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.services.buying import requisitions as rq
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from app.services.replenishment import run
from tests.factories import World
from tests.services.test_replenishment import TODAY, stock_and_sales


def _run(session: Session) -> dict[tuple[str, str], object]:
    return {(r.sku, r.warehouse_code): r for r in run(session, None, today=TODAY, history_weeks=4).recommendations}


def _count(session: Session, model: type) -> int:
    return int(session.scalar(select(func.count()).select_from(model)) or 0)


@pytest.fixture
def needs(session: Session, world: World) -> World:
    stock_and_sales(session, world, "BOLT", world.wh_dal, on_hand_after=20)
    stock_and_sales(session, world, "WIDGET", world.wh_dal, on_hand_after=20)
    session.commit()
    return world


def test_running_twice_after_accepting_produces_no_duplicate(session: Session, needs: World) -> None:
    alice = needs.actors["alice"]
    recs = run(session, alice, today=TODAY, history_weeks=4).recommendations
    assert {r.sku for r in recs} == {"BOLT", "WIDGET"}
    bolt = next(r for r in recs if r.sku == "BOLT")
    made = rq.accept(session, alice, rq.lines_from_recommendations(recs, qty={bolt.key: 160}))
    session.commit()
    assert [r.number for r in made] == ["DAL-RQ-000001", "DAL-RQ-000002"]
    by_sku = {needs.items["BOLT"].id: made[0], needs.items["WIDGET"].id: made[1]}
    b = by_sku[needs.items["BOLT"].id]
    assert (b.kind, b.qty, b.recommended_qty, b.status, b.supplier_id) == ("purchase", 160, 152, "open",
                                                                           needs.supplier.id)
    assert json.loads(b.why)["rop"] == pytest.approx(101.2667, abs=2e-4)
    assert _run(session) == {}  # the open requisitions cover both needs
    with pytest.raises(Conflict, match="already covered by open requisition DAL-RQ-00000"):
        rq.accept(session, alice, rq.lines_from_recommendations(recs))
    session.rollback()
    # converted into a PO: the PO line now covers it, still no duplicate
    po = PurchaseOrder(number="DAL-PO-000009", supplier_id=needs.supplier.id, warehouse_id=needs.wh_dal.id,
                       status="draft", order_date=TODAY, owner_branch_id=needs.dal.id)
    session.add(po)
    session.flush()
    session.add(PurchaseOrderLine(po_id=po.id, line_no=1, item_id=needs.items["BOLT"].id, qty_ordered=160,
                                  ship_to_warehouse_id=needs.wh_dal.id, unit_price=Decimal("0.1"),
                                  owner_branch_id=needs.dal.id))
    rq.mark_converted(session, alice, [b.id], po_id=po.id)
    session.commit()
    assert ("BOLT", "DAL1") not in _run(session)
    # a cancelled requisition no longer covers: the need comes back
    rq.cancel(session, alice, [by_sku[needs.items["WIDGET"].id].id], "changed my mind")
    session.commit()
    assert set(_run(session)) == {("WIDGET", "DAL1")}
    actions = set(session.scalars(select(AuditEntry.action)))
    assert {"requisition.create", "requisition.convert", "requisition.cancel"} <= actions


def test_transfer_requisition_is_covered_until_its_transfer_is_made(session: Session, needs: World) -> None:
    stock_and_sales(session, needs, "BOLT", needs.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    session.commit()
    rec = _run(session)[("BOLT", "DAL1")]
    assert rec.preferred == "transfer"  # type: ignore[attr-defined]
    (req,) = rq.accept(session, needs.actors["alice"], rq.lines_from_recommendations([rec]))  # type: ignore[list-item]
    assert (req.kind, req.source_warehouse_id, req.qty) == ("transfer", needs.wh_hou.id, 152)
    session.commit()
    assert ("BOLT", "DAL1") not in _run(session)
    with pytest.raises(ValidationError, match="is a transfer requisition, not a purchase"):
        rq.mark_converted(session, needs.actors["alice"], [req.id], po_id=uuid.uuid4())
    tid = uuid.uuid4()
    rq.mark_converted(session, needs.actors["wes"], [req.id], transfer_id=tid)
    rq.mark_converted(session, needs.actors["wes"], [req.id], transfer_id=tid)  # repeat: no-op
    with pytest.raises(Conflict, match="is converted"):
        rq.mark_converted(session, needs.actors["wes"], [req.id], transfer_id=uuid.uuid4())
    with pytest.raises(ValidationError, match="exactly one of po_id or transfer_id"):
        rq.mark_converted(session, needs.actors["wes"], [req.id])


def test_snooze_and_reject_suppress_until_their_date(session: Session, needs: World) -> None:
    alice = needs.actors["alice"]
    bolt = (needs.items["BOLT"].id, needs.wh_dal.id)
    widget = (needs.items["WIDGET"].id, needs.wh_dal.id)
    rq.snooze(session, alice, [bolt], TODAY + dt.timedelta(days=3), "waiting for price list", today=TODAY)
    rq.reject(session, alice, [widget], "overstock", "promo ended", today=TODAY)
    session.commit()
    res = run(session, None, today=TODAY, history_weeks=4)
    assert res.recommendations == [] and res.suppressed == 2
    later = run(session, None, today=TODAY + dt.timedelta(days=3), history_weeks=4)
    assert [r.sku for r in later.recommendations] == ["BOLT"]  # snooze over; overstock keeps 30 days
    d = session.scalars(select(RecommendationDecision).where(RecommendationDecision.kind == "reject")).one()
    assert d.until_date == TODAY + dt.timedelta(days=30) and d.reason == "overstock: promo ended"
    assert rq.lift(session, alice, [widget]) == 1
    session.commit()
    assert {r.sku for r in run(session, None, today=TODAY, history_weeks=4).recommendations} == {"WIDGET"}


def test_bad_snoozes_are_refused(session: Session, needs: World) -> None:
    for until, rule in [(TODAY, "after today"), (TODAY - dt.timedelta(days=1), "after today"),
                        (TODAY + dt.timedelta(days=400), "more than 366 days")]:
        with pytest.raises(ValidationError, match=rule):
            rq.snooze(session, needs.actors["alice"], [(needs.items["BOLT"].id, needs.wh_dal.id)], until, today=TODAY)
    assert _count(session, RecommendationDecision) == 0


def test_bad_reject_reason_and_unknown_pair(session: Session, needs: World) -> None:
    alice = needs.actors["alice"]
    with pytest.raises(ValidationError, match="reject reason: 'meh' is not one of overstock"):
        rq.reject(session, alice, [(needs.items["BOLT"].id, needs.wh_dal.id)], "meh")
    with pytest.raises(NotFound, match="unknown item"):
        rq.snooze(session, alice, [(uuid.uuid4(), needs.wh_dal.id)], TODAY + dt.timedelta(days=2), today=TODAY)
    with pytest.raises(PermissionDenied):
        rq.snooze(session, needs.actors["rita"], [(needs.items["BOLT"].id, needs.wh_dal.id)],
                  TODAY + dt.timedelta(days=2), today=TODAY)
    assert _count(session, RecommendationDecision) == 0


BAD_QTYS = [(0, "more than zero"), (-12, "negative"), ("1.5", "whole number"), (2.5, "whole number"),
            (10**13, "larger than"), ("lots", "whole number"), (13, "not whole packs of 12 \\(use 12 or 24\\)")]


def test_bad_quantities_write_nothing(session: Session, needs: World) -> None:
    good = rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "purchase", 10, supplier_id=needs.supplier.id)
    for qty, rule in BAD_QTYS:
        bad = rq.AcceptLine(needs.items["WIDGET"].id, needs.wh_dal.id, "purchase", qty, supplier_id=needs.supplier.id)
        with pytest.raises(ValidationError, match=rule) as e:
            rq.accept(session, needs.actors["alice"], [good, bad])
        assert "line 2 quantity" in str(e.value)
        session.rollback()
    assert _count(session, Requisition) == 0


def test_other_bad_input(session: Session, needs: World) -> None:
    alice = needs.actors["alice"]
    line = rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "purchase", 10, supplier_id=needs.supplier.id)
    cases: list[tuple[rq.AcceptLine, type[Exception], str]] = [
        (rq.AcceptLine(uuid.uuid4(), needs.wh_dal.id, "purchase", 5), NotFound, "unknown item"),
        (rq.AcceptLine(needs.items["BOLT"].id, uuid.uuid4(), "purchase", 5), NotFound, "unknown warehouse"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "gift", 5), ValidationError, "kind"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "purchase", 5, supplier_id=uuid.uuid4()),
         ValidationError, "no supplier of BOLT"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "transfer", 5), NotFound, "source warehouse"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "transfer", 5, source_warehouse_id=needs.wh_dal.id),
         ValidationError, "must differ"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_dal.id, "purchase", 5, supplier_id=needs.supplier.id,
                       unit_price="-1"), ValidationError, "must not be negative"),
        (rq.AcceptLine(needs.items["BOLT"].id, needs.wh_hou.id, "purchase", 5, supplier_id=needs.supplier.id),
         PermissionDenied, "HOU1 of another branch"),
    ]
    for bad, exc, msg in cases:
        with pytest.raises(exc, match=msg):
            rq.accept(session, alice, [bad])
        session.rollback()
    with pytest.raises(ValidationError, match="appears twice"):
        rq.accept(session, alice, [line, line])
    with pytest.raises(PermissionDenied):
        rq.accept(session, needs.actors["bob"], [line])
    with pytest.raises(ValidationError, match="nothing to accept"):
        rq.accept(session, alice, [])
    session.rollback()
    assert _count(session, Requisition) == 0


def test_editing_open_and_converted_requisitions(session: Session, needs: World) -> None:
    alice = needs.actors["alice"]
    (req,) = rq.accept(session, alice, [rq.AcceptLine(needs.items["WIDGET"].id, needs.wh_dal.id, "purchase", 24,
                                                      supplier_id=needs.supplier.id)])
    session.commit()
    assert rq.update_qty(session, alice, req.id, 36).qty == 36
    with pytest.raises(ValidationError, match="not whole packs of 12"):
        rq.update_qty(session, alice, req.id, 30)
    with pytest.raises(ValidationError, match="more than zero"):
        rq.update_qty(session, alice, req.id, 0)
    rq.mark_converted(session, alice, [req.id], po_id=uuid.uuid4())
    session.commit()
    with pytest.raises(Conflict, match=f"requisition {req.number} is converted: only an open requisition can be edited"):
        rq.update_qty(session, alice, req.id, 48)
    with pytest.raises(Conflict, match="only an open requisition can be cancelled"):
        rq.cancel(session, alice, [req.id], "too late")
    with pytest.raises(ValidationError, match="cancel reason: is required"):
        rq.cancel(session, alice, [req.id], " ")
    session.rollback()
    assert session.get(Requisition, req.id).qty == 36  # type: ignore[union-attr]
    rows = rq.list_requisitions(session, status="converted")
    assert [(r.number, r.sku, r.warehouse, r.qty, r.source) for r in rows] == [(req.number, "WIDGET", "DAL1", 36, "ACME")]


def test_cli_replenish_json_and_requisition_commands(db_path: Path, needs: World, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_run(["--db", str(db_path), "replenish", "--json", "--date", TODAY.isoformat(), "--weeks", "4",
                    "--user", "alice"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["pairs"] == 4 and out["date"] == "2026-11-26"  # 4 items x DAL1 (alice is in Dallas)
    recs = {r["sku"]: r for r in out["recommendations"]}
    assert set(recs) == {"BOLT", "WIDGET"}
    assert recs["WIDGET"]["qty"] == 168 and recs["WIDGET"]["purchase"]["total_cost"] == "210.0000"
    assert recs["BOLT"]["why"]["rop"] == pytest.approx(101.2667, abs=2e-4)
    assert cli_run(["--db", str(db_path), "replenish", "--date", TODAY.isoformat(), "--weeks", "4"]) == 0
    text = capsys.readouterr().out
    assert "WIDGET" in text and "buy from ACME" in text and "2 recommendations" in text
    assert cli_run(["--db", str(db_path), "replenish", "--branch", "NOPE"]) == 1
    assert "depot: error: unknown branch NOPE" in capsys.readouterr().err
    assert cli_run(["--db", str(db_path), "replenish", "--date", "26/11/2026"]) == 1
    assert "--date: '26/11/2026' is not a date" in capsys.readouterr().err
    assert cli_run(["--db", str(db_path), "requisition", "list", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == []
    assert cli_run(["--db", str(db_path), "requisition", "cancel", "DAL-RQ-000404", "--reason", "x",
                    "--user", "alice"]) == 1
    assert "unknown requisition DAL-RQ-000404" in capsys.readouterr().err


def test_cli_replenish_config(db_path: Path, world: World, capsys: pytest.CaptureFixture[str]) -> None:
    db = ["--db", str(db_path)]
    assert cli_run([*db, "replenish-config", "class", "A", "--service-level", "97.5", "--user", "root"]) == 0
    assert "class A: service level 97.5000%" in capsys.readouterr().out
    assert cli_run([*db, "replenish-config", "class", "A", "--service-level", "97.5", "--user", "alice"]) == 1
    assert "alice may not change settings" in capsys.readouterr().err
    assert cli_run([*db, "replenish-config", "lane", "HOU1", "DAL1", "--days", "3", "--per-unit", "0.02",
                    "--per-shipment", "10", "--user", "root"]) == 0
    capsys.readouterr()
    assert cli_run([*db, "replenish-config", "show", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["classes"][0] == {"class": "A", "service_level_pct": "97.5000", "review_days": 7}
    assert out["lanes"] == [{"from": "HOU1", "to": "DAL1", "transit_days": 3, "cost_per_unit": "0.0200",
                             "cost_per_shipment": "10.0000"}]


def test_end_to_end_with_purchasing_and_transfers_no_duplicates(session: Session, needs: World) -> None:
    """Accepted needs converted by the purchasing and transfer services stay covered."""
    from app.services.buying import conversion

    stock_and_sales(session, needs, "WIDGET", needs.wh_hou, on_hand_after=1000, weekly=(0, 0, 0, 0))
    session.commit()
    recs = run(session, needs.actors["alice"], today=TODAY, history_weeks=4).recommendations
    assert {(r.sku, r.preferred) for r in recs} == {("BOLT", "purchase"), ("WIDGET", "transfer")}
    reqs = rq.accept(session, needs.actors["alice"], rq.lines_from_recommendations(recs))
    session.commit()
    buy = [r.id for r in reqs if r.kind == "purchase"]
    move = [r.id for r in reqs if r.kind == "transfer"]
    (po,) = conversion.convert(session, needs.actors["alice"], buy)
    conversion.transfers_from_requisitions(session, needs.actors["root"], move)
    session.commit()
    assert {r.status for r in rq.open_requisitions(session)} == set()
    assert _run(session) == {}  # the PO line and the draft transfer cover both needs
    req = session.get(Requisition, buy[0])
    assert req is not None and req.po_id == po.id
