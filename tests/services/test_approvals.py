"""Approval rules and the approval chain: every level must approve, segregation of duties."""

from __future__ import annotations

import json
from decimal import Decimal

import pytest
from sqlalchemy import select, text
from sqlalchemy.orm import Session

from app.models.approvals import ApprovalDecision
from app.models.docs_common import AuditEntry
from app.models.parties import ItemSupplier
from app.models.purchasing import ExpectedReceipt
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.errors import Conflict, NotFound, PermissionDenied, ValidationError
from tests.factories import World


def _po(session: Session, w: World, qty: int, price: str = "45.0000", *, rush: bool = False, sku: str = "DRILL") -> purchasing.PurchaseOrder:
    po = purchasing.create_po(session, w.actors["alice"], "ACME", "DAL1", [LineInput(sku=sku, qty=qty, price=price)], rush=rush)
    purchasing.submit(session, w.actors["alice"], po.id)
    return po


def test_defaults_are_seeded_once_and_editable(session: Session, bw: World) -> None:
    rules = approvals.list_rules(session)
    assert {r.kind for r in rules} == {"value_threshold", "non_contracted", "rush", "price_variance"}
    assert approvals.ensure_default_rules(session, bw.ho.id) == 0
    high = next(r for r in rules if r.kind == "value_threshold" and r.level == 2)
    approvals.update_rule(session, bw.actors["root"], high.id, amount="30000")
    assert high.amount == Decimal("30000.0000")
    with pytest.raises(PermissionDenied):
        approvals.update_rule(session, bw.actors["alice"], high.id, amount="1")
    with pytest.raises(ValidationError, match="amount"):
        approvals.update_rule(session, bw.actors["root"], high.id, amount="-5")
    assert high.amount == Decimal("30000.0000")  # the bad edit changed nothing
    with pytest.raises(ValidationError, match="kind"):
        approvals.create_rule(session, bw.actors["root"], bw.ho.id, name="x", kind="moon_phase")


def test_small_po_is_approved_without_anyone(session: Session, bw: World) -> None:
    po = _po(session, bw, 10)  # 450.00
    assert po.status == "approved"
    assert po.approval_reasons == ""
    assert session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).one().status == "expected"


def test_two_level_po_stays_pending_after_first_approver(session: Session, bw: World) -> None:
    po = _po(session, bw, 1000)  # 45,000.00: above 5,000 (approver) and 25,000 (manager)
    assert po.status == "pending_approval"
    assert approvals.required_levels(po) == {1: frozenset({"approver"}), 2: frozenset({"manager"})}
    assert "above 5,000.00" in po.approval_reasons and "above 25,000.00" in po.approval_reasons

    approvals.approve(session, bw.actors["bob"], po.id, "ok")
    assert po.status == "pending_approval"  # the first approver does not let it through
    assert session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).first() is None
    assert po in approvals.inbox(session, bw.actors["mike"])
    assert po not in approvals.inbox(session, bw.actors["bob"])

    approvals.approve(session, bw.actors["mike"], po.id)
    assert po.status == "approved"
    assert approvals.approvers_of(session, po.id) == {bw.actors["bob"].user_id, bw.actors["mike"].user_id}
    actions = [a for (a,) in session.execute(select(AuditEntry.action).where(AuditEntry.entity_id == po.id))]
    assert actions.count("po.approve") == 2 and "po.approved" in actions


def test_one_person_cannot_approve_two_levels(session: Session, bw: World) -> None:
    po = _po(session, bw, 1000)
    approvals.approve(session, bw.actors["mike"], po.id)  # a manager may take level 1 ...
    with pytest.raises(PermissionDenied, match="another person"):
        approvals.approve(session, bw.actors["mike"], po.id)  # ... but not level 2 as well
    assert po.status == "pending_approval"


def test_level_role_is_enforced(session: Session, bw: World) -> None:
    po = _po(session, bw, 1000)
    approvals.approve(session, bw.actors["bob"], po.id)
    from app.services.auth import actor_for, create_user

    u = create_user(session, "bea", "secret-bea", ["approver"], owner_branch_id=bw.ho.id, branch_id=bw.dal.id)
    with pytest.raises(PermissionDenied, match="level 2 .* needs the role manager"):
        approvals.approve(session, actor_for(session, u), po.id)


def test_requester_and_users_without_the_right_cannot_approve(session: Session, bw: World) -> None:
    po = purchasing.create_po(session, bw.actors["mike"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=200, price="45")])
    purchasing.submit(session, bw.actors["mike"], po.id)
    before = session.scalar(text("SELECT count(*) FROM approval_decision"))
    with pytest.raises(PermissionDenied, match="segregation of duties"):
        approvals.approve(session, bw.actors["mike"], po.id)
    with pytest.raises(PermissionDenied, match="may not approve"):
        approvals.approve(session, bw.actors["rita"], po.id)
    assert session.scalar(text("SELECT count(*) FROM approval_decision")) == before
    assert po not in approvals.inbox(session, bw.actors["mike"])
    assert approvals.inbox(session, bw.actors["rita"]) == []


def test_rush_non_contracted_and_price_variance_stamp_reasons(session: Session, bw: World) -> None:
    link = session.scalars(select(ItemSupplier).where(ItemSupplier.item_id == bw.items["BOLT"].id)).one()
    link.contracted = False
    po = _po(session, bw, 10, "0.1000", rush=True, sku="BOLT")
    assert "marked rush" in po.approval_reasons
    assert "no supplier contract for BOLT" in po.approval_reasons
    po2 = _po(session, bw, 10, "55.0000")  # 22% above the 45.00 contract price
    assert "price above contract price by more than 10%" in po2.approval_reasons
    assert "DRILL 55.00 vs 45.00 (+22.2%)" in po2.approval_reasons
    po3 = _po(session, bw, 10, "49.0000")  # 8.9%: under the threshold
    assert po3.status == "approved"


def test_reject_needs_a_reason_and_goes_back_to_the_buyer(session: Session, bw: World) -> None:
    po = _po(session, bw, 200)
    with pytest.raises(ValidationError, match="comment"):
        approvals.reject(session, bw.actors["bob"], po.id, "  ")
    approvals.reject(session, bw.actors["bob"], po.id, "too many drills")
    assert po.status == "rejected"
    entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "po.reject")).one()
    assert json.loads(entry.detail)["comment"] == "too many drills"
    with pytest.raises(Conflict, match="rejected"):
        approvals.approve(session, bw.actors["mike"], po.id)


def test_revision_after_approval_needs_approval_again(session: Session, bw: World) -> None:
    po = _po(session, bw, 200)  # 9,000
    approvals.approve(session, bw.actors["bob"], po.id)
    assert po.status == "approved"
    purchasing.revise(session, bw.actors["alice"], po.id, lines=[LineInput(sku="DRILL", qty=210, price="45")])
    assert po.revision == 1 and po.status == "pending_approval"
    receipts = session.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).all()
    assert [r.status for r in receipts] == ["cancelled"]
    # bob's approval of revision 0 does not count for revision 1, and bob may approve again
    assert approvals.next_level(session, po) == 1
    approvals.approve(session, bw.actors["bob"], po.id)
    assert po.status == "approved"
    decisions = session.scalars(select(ApprovalDecision).where(ApprovalDecision.po_id == po.id)).all()
    assert sorted(d.revision for d in decisions) == [0, 1]


def test_decisions_are_insert_only(session: Session, bw: World) -> None:
    po = _po(session, bw, 200)
    approvals.approve(session, bw.actors["bob"], po.id)
    session.commit()
    with pytest.raises(Exception, match="insert-only"):
        session.execute(text("UPDATE approval_decision SET decision = 'reject'"))
    session.rollback()


def test_unknown_po(session: Session, bw: World) -> None:
    import uuid

    with pytest.raises(NotFound):
        approvals.approve(session, bw.actors["bob"], uuid.uuid4())


def test_first_submit_seeds_the_default_rules(session: Session, world: World) -> None:
    assert approvals.list_rules(session) == []
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="BOLT", qty=10)])
    purchasing.submit(session, world.actors["alice"], po.id)
    assert len(approvals.list_rules(session)) == len(approvals.DEFAULT_RULES)
    # the factory's supplier links are not contracted: the default non-contracted rule fires
    assert po.status == "pending_approval" and "no supplier contract for BOLT" in po.approval_reasons
