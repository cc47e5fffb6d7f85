"""From the worklist to purchase orders on the command line: `depot replenish --accept`,
`depot requisition convert` (preview, refusals) and a hand-made PO that covers a requisition."""

from __future__ import annotations

import uuid
from decimal import Decimal
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.cli import run
from app.models.buying import Requisition
from app.models.parties import ItemSupplier
from app.models.purchasing import PurchaseOrder, PurchaseOrderLine
from app.services.buying import approvals, conversion
from app.services.errors import Conflict, ValidationError
from tests.factories import World


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _req(session: Session, w: World, sku: str, wh: uuid.UUID, qty: int, n: int, price: str = "0") -> Requisition:
    r = Requisition(number=f"DAL-RQ-{n:06d}", kind="purchase", item_id=w.items[sku].id, warehouse_id=wh, qty=qty,
                    supplier_id=w.supplier.id, unit_price=Decimal(price), requested_by_id=w.actors["alice"].user_id,
                    owner_branch_id=w.dal.id)
    session.add(r)
    session.flush()
    return r


@pytest.fixture
def rules_world(session: Session, world: World) -> World:
    approvals.ensure_default_rules(session, world.ho.id)
    session.commit()
    return world


def test_convert_previews_then_makes_one_po_per_supplier_and_refuses_a_second_time(
        capsys: pytest.CaptureFixture[str], db_path: Path, session: Session, rules_world: World) -> None:
    _req(session, rules_world, "BOLT", rules_world.wh_dal.id, 100, 1, "0.1234")
    _req(session, rules_world, "WIDGET", rules_world.wh_dal.id, 24, 2)  # no price on it: the contract price (1.25) applies
    session.commit()
    code, out, err = _run(capsys, db_path, "requisition", "convert", "--all", "--preview", "--user", "alice")
    assert code == 0, err
    assert "PO for ACME (Acme Industrial Supply), header DAL1: 2 line(s), total 42.34 USD" in out  # 12.34 + 30.00
    assert "0.1234" in out and "1.2500" in out  # one column, one number of decimals
    assert "1 purchase order(s) would be made" in out
    assert session.scalar(select(PurchaseOrder.id)) is None  # the preview wrote nothing
    code, out, err = _run(capsys, db_path, "requisition", "convert", "DAL-RQ-000001", "DAL-RQ-000002", "--submit",
                          "--user", "alice")
    assert code == 0, err
    assert out.startswith("DAL-PO-000001 created (pending approval): ACME, 2 line(s), 42.34 USD, from DAL-RQ-000001, DAL-RQ-000002")
    session.commit()  # a fresh read of what the command wrote
    assert {r.status for r in session.scalars(select(Requisition))} == {"converted"}
    code, out, err = _run(capsys, db_path, "requisition", "convert", "DAL-RQ-000001", "--user", "alice")
    assert code == 1
    assert err.strip() == ("depot: error: requisition DAL-RQ-000001 is already converted (on purchase order "
                           "DAL-PO-000001); nothing was created")
    code, out, err = _run(capsys, db_path, "requisition", "convert", "--all", "--user", "alice")
    assert code == 1 and "no open purchase requisition to convert" in err


def test_a_supplier_without_a_price_is_shown_in_the_preview_and_refused(
        capsys: pytest.CaptureFixture[str], db_path: Path, session: Session, rules_world: World) -> None:
    link = session.scalars(select(ItemSupplier).where(ItemSupplier.item_id == rules_world.items["BOLT"].id)).one()
    link.contract_price = link.last_price = Decimal(0)
    _req(session, rules_world, "BOLT", rules_world.wh_dal.id, 100, 1)
    _req(session, rules_world, "WIDGET", rules_world.wh_dal.id, 24, 2)
    session.commit()
    code, out, err = _run(capsys, db_path, "requisition", "convert", "--supplier", "acme", "--preview", "--user", "alice")
    assert code == 1
    assert "NO PRICE" in out
    assert "cannot be made: BOLT has no price from ACME (no contract or last price, none on DAL-RQ-000001)" in out
    code, out, err = _run(capsys, db_path, "requisition", "convert", "--supplier", "ACME", "--user", "alice")
    assert code == 1 and "enter a unit price on the requisition; nothing was created" in err
    session.commit()  # a fresh read of what the command wrote
    assert session.scalar(select(PurchaseOrder.id)) is None
    assert {r.status for r in session.scalars(select(Requisition))} == {"open"}


def test_plan_groups_like_the_conversion(session: Session, rules_world: World) -> None:
    rules_world.supplier.allows_consolidation = True
    a = _req(session, rules_world, "BOLT", rules_world.wh_dal.id, 100, 1, "0.1000")
    b = _req(session, rules_world, "BOLT", rules_world.wh_dal.id, 50, 2, "0.1000")
    c = _req(session, rules_world, "BOLT", rules_world.wh_hou.id, 70, 3, "0.1000")
    (p,) = conversion.plan(session, rules_world.actors["alice"], [a.id, b.id, c.id])
    assert p.consolidated and p.ship_tos == ["DAL1", "HOU1"] and p.warehouse_code == "DAL1"
    assert [(ln.ship_to, ln.qty, ln.requisitions) for ln in p.lines] == [
        ("DAL1", 150, ("DAL-RQ-000001", "DAL-RQ-000002")), ("HOU1", 70, ("DAL-RQ-000003",))]
    (po,) = conversion.convert(session, rules_world.actors["alice"], [a.id, b.id, c.id])
    lines = session.scalars(select(PurchaseOrderLine).where(PurchaseOrderLine.po_id == po.id)
                            .order_by(PurchaseOrderLine.line_no)).all()
    assert [(ln.qty_ordered, ln.unit_price) for ln in lines] == [(150, Decimal("0.1000")), (70, Decimal("0.1000"))]
    with pytest.raises(Conflict, match="already converted"):
        conversion.plan(session, rules_world.actors["alice"], [a.id])


def test_transfer_requisition_is_refused_with_where_to_convert_it(session: Session, rules_world: World) -> None:
    r = Requisition(number="DAL-RQ-000009", kind="transfer", item_id=rules_world.items["BOLT"].id, warehouse_id=rules_world.wh_dal.id,
                    qty=5, source_warehouse_id=rules_world.wh_hou.id, owner_branch_id=rules_world.dal.id)
    session.add(r)
    session.flush()
    with pytest.raises(ValidationError, match="is a transfer, not a purchase: convert it under Transfers"):
        conversion.plan(session, rules_world.actors["alice"], [r.id])


def test_accept_on_the_command_line_needs_a_choice_and_a_user(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                              rules_world: World) -> None:
    code, _out, err = _run(capsys, db_path, "replenish", "--accept", "--user", "alice")
    assert code == 1 and "give either --all or one or more --sku" in err
    code, _out, err = _run(capsys, db_path, "replenish", "--accept", "--all")
    assert code == 1 and "--user: is required with --accept" in err
    code, _out, err = _run(capsys, db_path, "replenish", "--accept", "--sku", "NOPE", "--user", "alice")
    assert code == 1 and "NOPE has no recommendation now (nothing accepted)" in err


def test_a_hand_made_po_offers_to_close_the_requisition_it_covers(
        capsys: pytest.CaptureFixture[str], db_path: Path, session: Session, rules_world: World) -> None:
    _req(session, rules_world, "BOLT", rules_world.wh_dal.id, 100, 1, "0.1000")
    _req(session, rules_world, "WIDGET", rules_world.wh_hou.id, 24, 2, "1.0000")  # another ship-to: not covered
    session.commit()
    code, out, err = _run(capsys, db_path, "po", "create", "--supplier", "ACME", "--warehouse", "DAL1",
                          "--line", "BOLT:100", "--user", "alice")
    assert code == 0, err
    assert "DAL-PO-000001 covers open requisition(s) DAL-RQ-000001 (BOLT at DAL1, 100)" in out
    assert "depot requisition close-with-po DAL-PO-000001 DAL-RQ-000001 --user alice" in out
    code, out, err = _run(capsys, db_path, "requisition", "close-with-po", "DAL-PO-000001", "DAL-RQ-000002",
                          "--user", "alice")
    assert code == 1 and "asks for an item or ship-to that DAL-PO-000001 does not order" in err
    code, out, err = _run(capsys, db_path, "po", "create", "--supplier", "ACME", "--warehouse", "DAL1",
                          "--line", "BOLT:50", "--close-requisitions", "--user", "alice")
    assert code == 0 and "DAL-RQ-000001 converted into DAL-PO-000002" in out
    session.commit()  # a fresh read of what the command wrote
    r1 = session.scalars(select(Requisition).where(Requisition.number == "DAL-RQ-000001")).one()
    assert r1.status == "converted"


def test_a_po_refuses_an_expected_date_in_the_past(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                   rules_world: World) -> None:
    code, _out, err = _run(capsys, db_path, "po", "create", "--supplier", "ACME", "--warehouse", "DAL1",
                           "--line", "BOLT:10", "--expected", "2001-01-01", "--user", "alice")
    assert code == 1
    assert "expected date: 2001-01-01 is before the order date" in err
