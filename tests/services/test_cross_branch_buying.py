"""Buying across branches on one file that plays each branch's site in turn (``become_branch_site``).

Every step runs with the ownership guard on, as on a replicating workstation: a step that wrote
another branch's row would raise ForeignWrite at its commit. ``settle_all`` is what the site's sync
runs after a pull; here the file already holds every site's rows, so it stands for "after sync".
"""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.approvals import ApprovalDecision
from app.models.buying import Requisition
from app.models.exceptions import ExceptionItem
from app.models.org import Branch
from app.models.parties import ItemSupplier
from app.models.purchasing import ExpectedReceipt, PurchaseOrder
from app.services.auth import create_user
from app.services.buying import approvals, conversion, po_documents, po_receipts, purchasing
from app.services.buying import requisitions as rq
from app.services.buying.consolidation import consolidation_groups
from app.services.buying.po_receipts import expected_receipt_id
from app.services.buying.purchasing import LineInput
from app.services.errors import Conflict, PermissionDenied
from app.services.ownership import settle_all
from app.services.replenishment import run
from tests.factories import World, become_branch_site, load_world
from tests.services.test_replenishment import TODAY, stock_and_sales

MINE = ("approvals", "approvals.late_rejects", "purchasing.expected_receipts", "requisitions")


@pytest.fixture
def bw(bw: World, session: Session) -> World:
    """The buying world (tests/conftest.py) with a consolidating supplier and people at HQ and HOU
    (made on the standalone file, as head office would before the branches first sync)."""
    world = bw
    world.supplier.allows_consolidation = True
    for name, roles, branch in (("hank", ["manager"], world.ho), ("hugo", ["approver"], world.hou),
                                ("holly", ["buyer"], world.hou)):
        create_user(session, name, "secret-" + name, roles, owner_branch_id=world.ho.id, branch_id=branch.id)
    session.commit()
    return world


def _site(engine: Engine, branch: Branch) -> tuple[Session, World]:
    """A fresh session on this file as ``branch``'s replicating site (actors read back)."""
    become_branch_site(engine, branch)
    s = Session(engine, expire_on_commit=False)
    return s, load_world(s)


def _settle(s: Session) -> dict[str, int]:
    done, errors = settle_all(s)
    assert errors == []
    s.commit()
    return {k: v for k, v in done.items() if k in MINE}


def _po(s: Session, w: World, lines: list[LineInput], user: str = "alice") -> PurchaseOrder:
    po = purchasing.create_po(s, w.actors[user], "ACME", "DAL1", lines)
    purchasing.submit(s, w.actors[user], po.id)
    s.commit()
    return po


# --------------------------------------------------------------------------- approvals


def test_head_office_manager_approves_dallas_po_and_dallas_settles_it(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=700)])  # 31,500: level 1 approver, level 2 manager
    assert po.status == "pending_approval"
    approvals.approve(s, w.actors["bob"], po.id, "ok")
    s.commit()
    assert po.status == "pending_approval"
    s.close()

    s, w = _site(engine, bw.ho)
    hq_po = s.get(PurchaseOrder, po.id)
    assert hq_po is not None
    assert [r.number for r in approvals.inbox_rows(s, w.actors["hank"])] == [po.number]  # level 2 at once
    approvals.approve(s, w.actors["hank"], po.id, "fine")
    s.commit()  # no ForeignWrite: the decision is head office's own row, the PO is untouched
    decision = s.scalars(select(ApprovalDecision).where(ApprovalDecision.level == 2)).one()
    assert decision.owner_branch_id == bw.ho.id and hq_po.status == "pending_approval"
    assert po_receipts.branch_followups(s, hq_po) == ["DAL's PO follows when DAL syncs"]
    assert approvals.inbox(s, w.actors["hank"]) == []
    assert "every level of" in approvals.why_not(s, w.actors["mike"], hq_po)  # never approved twice
    assert "DAL's PO follows when DAL syncs" in approvals.why_not(s, w.actors["mike"], hq_po)
    assert s.scalars(select(ExpectedReceipt)).all() == []
    s.close()



def test_owner_settles_approval_creates_its_receipt_and_a_second_run_changes_nothing(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=700)])
    approvals.approve(s, w.actors["bob"], po.id)
    s.commit()
    s.close()
    s, w = _site(engine, bw.ho)
    approvals.approve(s, w.actors["hank"], po.id)
    s.commit()
    s.close()

    s, w = _site(engine, bw.dal)
    assert _settle(s) == {"approvals": 1}
    dal_po = s.get(PurchaseOrder, po.id)
    assert dal_po is not None and dal_po.status == "approved"
    (er,) = s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).all()
    assert er.id == expected_receipt_id(po.id, 0, bw.wh_dal.id) and er.owner_branch_id == bw.dal.id
    assert er.number.startswith("DAL-ER-")
    assert _settle(s) == {}
    assert approvals.approvers_of(s, po.id) == {w.actors["bob"].user_id, w.actors["hank"].user_id}


def test_segregation_of_duties_holds_across_sites(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = purchasing.create_po(s, w.actors["alice"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=700)],
                              requested_by_id=w.actors["hugo"].user_id)
    purchasing.submit(s, w.actors["alice"], po.id)
    s.commit()
    s.close()
    s, w = _site(engine, bw.hou)
    with pytest.raises(PermissionDenied, match="hugo requested"):
        approvals.approve(s, w.actors["hugo"], po.id)
    s.rollback()
    s.close()
    s, w = _site(engine, bw.ho)
    approvals.approve(s, w.actors["hank"], po.id)  # a manager may take the approver level
    s.commit()
    with pytest.raises(PermissionDenied, match="already decided level 1"):
        approvals.approve(s, w.actors["hank"], po.id)
    s.rollback()
    s.close()
    s, w = _site(engine, bw.dal)
    assert _settle(s) == {}  # one level is not enough
    approvals.approve(s, w.actors["mike"], po.id)
    s.commit()  # the owner's own decision settles at once
    dal_po = s.get(PurchaseOrder, po.id)
    assert dal_po is not None and dal_po.status == "approved"


def test_a_reject_on_another_site_stops_everyone_and_the_owner_settles_it(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=700)])
    approvals.approve(s, w.actors["bob"], po.id)
    s.commit()
    s.close()
    s, w = _site(engine, bw.ho)
    approvals.reject(s, w.actors["hank"], po.id, "too much")
    s.commit()
    s.close()
    s, w = _site(engine, bw.dal)
    dal_po = s.get(PurchaseOrder, po.id)
    assert dal_po is not None
    assert "rejected by hank" in approvals.why_not(s, w.actors["mike"], dal_po)
    assert _settle(s) == {"approvals": 1}
    assert dal_po.status == "rejected"


def test_a_rejection_arriving_after_the_approval_is_put_to_the_buyer_once(engine: Engine, bw: World) -> None:
    """Bob approves at Dallas while Houston's approver, offline and not yet aware, rejects: when the
    rejection arrives the PO has gone on, so Dallas's buyer gets one exception saying who and why."""
    from app.services import exception_inbox

    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=200)])  # 9,000: one level, an approver
    approvals.approve(s, w.actors["bob"], po.id, "ok")
    s.commit()
    assert po.status == "approved"
    hugo = w.actors["hugo"]
    # Houston's decision, as its pull brings it (Houston's own row, written before it saw bob's)
    s.info["ownership_off"] = True  # the way replication apply writes a pulled row
    s.add(ApprovalDecision(po_id=po.id, revision=po.revision, level=1, approver_id=hugo.user_id,
                           approver_name="hugo", decision="reject", comment="wrong supplier",
                           owner_branch_id=bw.hou.id))
    s.commit()
    s.info.pop("ownership_off")
    assert _settle(s) == {"approvals.late_rejects": 1}
    item = s.scalars(select(ExceptionItem).where(ExceptionItem.kind == "po.rejected_after_approval")).one()
    assert item.owner_branch_id == bw.dal.id and item.role == "buyer" and item.entity_ref == po.number
    assert "rejected at level 1 by hugo after it was approved" in item.title
    assert "wrong supplier" in item.detail and po.status == "approved"
    assert _settle(s) == {}  # once
    exception_inbox.resolve(s, w.actors["mike"], [item.id], "called hugo: keep it")
    s.commit()
    assert _settle(s) == {}  # and not again once resolved


# --------------------------------------------------------------------------- expected receipts


def test_each_ship_to_branch_creates_and_cancels_its_own_receipts(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    with pytest.raises(PermissionDenied, match="HOU1 belongs to another branch"):
        purchasing.create_po(s, w.actors["alice"], "ACME", "HOU1", [LineInput(sku="BOLT", qty=5)])
    s.rollback()
    po = _po(s, w, [LineInput(sku="WIDGET", qty=12), LineInput(sku="BOLT", qty=10, ship_to_warehouse_id=bw.wh_hou.id)])
    assert po.status == "approved"  # small: no rule fires
    (dal_er,) = s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id)).all()
    assert dal_er.warehouse_id == bw.wh_dal.id
    assert po_receipts.branch_followups(s, po) == ["HOU creates its expected receipt for HOU1 when it syncs"]
    s.close()

    s, w = _site(engine, bw.hou)
    assert _settle(s) == {"purchasing.expected_receipts": 1}
    hou_er = s.get(ExpectedReceipt, expected_receipt_id(po.id, 0, bw.wh_hou.id))
    assert hou_er is not None and hou_er.owner_branch_id == bw.hou.id and hou_er.number == "HOU-ER-000001"
    assert _settle(s) == {}
    s.close()

    s, w = _site(engine, bw.dal)
    po = s.get(PurchaseOrder, po.id)  # type: ignore[assignment]
    purchasing.revise(s, w.actors["alice"], po.id, lines=[
        LineInput(sku="WIDGET", qty=24), LineInput(sku="BOLT", qty=20, ship_to_warehouse_id=bw.wh_hou.id)])
    s.commit()  # DAL's receipt cancelled, HOU's left to HOU; the revision is approved again
    assert po.status == "approved" and po.revision == 1
    assert s.get(ExpectedReceipt, dal_er.id).status == "cancelled"  # type: ignore[union-attr]
    assert s.get(ExpectedReceipt, hou_er.id).status == "expected"  # type: ignore[union-attr]
    assert po_receipts.branch_followups(s, po) == ["HOU creates its expected receipt for HOU1 when it syncs"]
    s.close()

    s, w = _site(engine, bw.hou)
    assert _settle(s) == {"purchasing.expected_receipts": 2}  # old one cancelled, revision 1's made
    live = s.scalars(select(ExpectedReceipt).where(ExpectedReceipt.po_id == po.id,
                                                   ExpectedReceipt.warehouse_id == bw.wh_hou.id,
                                                   ExpectedReceipt.status != "cancelled")).all()
    assert [e.id for e in live] == [expected_receipt_id(po.id, 1, bw.wh_hou.id)]
    s.close()

    s, w = _site(engine, bw.dal)
    purchasing.cancel(s, w.actors["alice"], po.id, "not needed")
    s.commit()
    assert po_receipts.branch_followups(s, s.get(PurchaseOrder, po.id)) == [  # type: ignore[arg-type]
        f"HOU cancels receipt {live[0].number} when it syncs"]
    s.close()
    s, w = _site(engine, bw.hou)
    assert _settle(s) == {"purchasing.expected_receipts": 1}
    assert s.get(ExpectedReceipt, live[0].id).status == "cancelled"  # type: ignore[union-attr]


def test_a_receipt_with_goods_refuses_and_the_buyer_hears_of_it(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="WIDGET", qty=12), LineInput(sku="BOLT", qty=10, ship_to_warehouse_id=bw.wh_hou.id)])
    s.close()
    s, w = _site(engine, bw.hou)
    _settle(s)
    hou_er = s.get(ExpectedReceipt, expected_receipt_id(po.id, 0, bw.wh_hou.id))
    assert hou_er is not None
    hou_er.status = "received"  # HOU posted a receipt on it (stands for post_receipt)
    s.commit()
    s.close()

    s, w = _site(engine, bw.dal)  # DAL knows HOU received goods: it refuses, as for its own receipts
    with pytest.raises(Conflict, match=f"receipt {hou_er.number} is received; goods have already been received"):
        purchasing.cancel(s, w.actors["alice"], po.id)
    s.rollback()
    s.close()

    # DAL cancelled before it knew (simulated: HOU receives after DAL's cancel, before its pull)
    s, w = _site(engine, bw.hou)
    s.get(ExpectedReceipt, hou_er.id).status = "expected"  # type: ignore[union-attr]
    s.commit()
    s.close()
    s, w = _site(engine, bw.dal)
    purchasing.cancel(s, w.actors["alice"], po.id)
    s.commit()
    s.close()
    s, w = _site(engine, bw.hou)
    s.get(ExpectedReceipt, hou_er.id).status = "received"  # type: ignore[union-attr]
    s.commit()
    _settle(s)
    _settle(s)
    (exc,) = s.scalars(select(ExceptionItem).where(ExceptionItem.kind == "po.receipt_has_goods")).all()
    assert exc.owner_branch_id == bw.hou.id and exc.role == "buyer" and exc.entity_id == po.id
    assert po.number in exc.title and f"goods were already received on {hou_er.number}" in exc.title
    assert s.get(ExpectedReceipt, hou_er.id).status == "received"  # type: ignore[union-attr]


# --------------------------------------------------------------------------- requisitions


def _req(s: Session, w: World, branch: Branch, wh: uuid.UUID, sku: str, qty: int, number: str, requester: str) -> Requisition:
    r = Requisition(number=number, kind="purchase", item_id=w.items[sku].id, warehouse_id=wh, qty=qty,
                    supplier_id=w.supplier.id, requested_by_id=w.actors[requester].user_id, owner_branch_id=branch.id,
                    unit_price=w.items[sku].standard_cost)
    s.add(r)
    s.commit()
    return r


def test_dallas_converts_houston_requisitions_and_houston_settles_them(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.hou)
    hou_req = _req(s, w, bw.hou, bw.wh_hou.id, "DRILL", 150, "HOU-RQ-000001", "hugo")  # 6,750 -> level 1
    s.close()
    s, w = _site(engine, bw.dal)
    dal_req = _req(s, w, bw.dal, bw.wh_dal.id, "BOLT", 100, "DAL-RQ-000001", "alice")
    (po,) = conversion.convert(s, w.actors["alice"], [dal_req.id, hou_req.id], submit_now=True)
    s.commit()
    po_id, number = po.id, po.number
    assert po.owner_branch_id == bw.dal.id and po.status == "pending_approval"
    assert s.get(Requisition, dal_req.id).status == "converted"  # type: ignore[union-attr]
    assert s.get(Requisition, hou_req.id).status == "open"  # type: ignore[union-attr]
    assert consolidation_groups(s) == []  # covered: not offered again
    (row,) = rq.list_requisitions(s, status="open")
    assert (row.number, row.po_id, row.covered_by) == ("HOU-RQ-000001", po_id, f"purchase order {number}")
    with pytest.raises(Conflict, match=f"HOU-RQ-000001 is already on purchase order {number}"):
        conversion.convert(s, w.actors["alice"], [hou_req.id])
    s.rollback()
    s.close()

    s, w = _site(engine, bw.hou)
    hou_po = s.get(PurchaseOrder, po_id)
    assert hou_po is not None
    assert "hugo requested" in approvals.why_not(s, w.actors["hugo"], hou_po)  # asked for it via HOU's requisition
    with pytest.raises(Conflict, match="already on purchase order"):
        rq.cancel(s, w.actors["holly"], [hou_req.id], "changed my mind")
    s.rollback()
    assert _settle(s) == {"requisitions": 1}
    req = s.get(Requisition, hou_req.id)
    assert req is not None and req.status == "converted" and req.po_id == po_id
    assert _settle(s) == {}


def test_replenishment_counts_a_covered_requisition_once(engine: Engine, bw: World, session: Session) -> None:
    stock_and_sales(session, bw, "BOLT", bw.wh_hou, on_hand_after=20)
    session.commit()
    s, w = _site(engine, bw.hou)
    before = {r.key: r for r in run(s, None, warehouse_code="HOU1", today=TODAY, history_weeks=4).recommendations}
    hou_req = _req(s, w, bw.hou, bw.wh_hou.id, "BOLT", 40, "HOU-RQ-000001", "holly")
    mid = {r.key: r for r in run(s, None, warehouse_code="HOU1", today=TODAY, history_weeks=4).recommendations}
    key = (bw.items["BOLT"].id, bw.wh_hou.id)
    assert mid[key].why.requisitioned == 40 and mid[key].qty == before[key].qty - 40  # type: ignore[attr-defined]
    s.close()
    s, w = _site(engine, bw.dal)
    (po,) = conversion.convert(s, w.actors["alice"], [hou_req.id], submit_now=True)
    s.commit()  # a consolidating supplier: Dallas's PO (header DAL1) with one line shipping to HOU1
    assert po.owner_branch_id == bw.dal.id and po.warehouse_id == bw.wh_dal.id
    after = {r.key: r for r in run(s, None, warehouse_code="HOU1", today=TODAY, history_weeks=4).recommendations}
    assert after[key].why.on_order == 40 and after[key].why.requisitioned == 0  # type: ignore[attr-defined]
    assert after[key].qty == mid[key].qty


def test_settlers_do_nothing_on_a_quiet_site(engine: Engine, bw: World) -> None:
    s, _ = _site(engine, bw.hou)
    assert _settle(s) == {}


def test_another_branchs_po_is_changed_only_at_its_branch(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="BOLT", qty=10)])
    s.close()
    s, w = _site(engine, bw.ho)
    for action, call in (("revised", lambda: purchasing.revise(s, w.actors["root"], po.id, notes="x")),
                         ("cancelled", lambda: purchasing.cancel(s, w.actors["root"], po.id)),
                         ("closed", lambda: purchasing.close(s, w.actors["root"], po.id))):
        with pytest.raises(PermissionDenied, match=f"belongs to DAL: it can be {action} only at DAL"):
            call()
        s.rollback()
    with pytest.raises(PermissionDenied, match="is DAL's: send it at a DAL workstation"):
        po_documents.send_po(s, w.actors["root"], po.id)
    s.rollback()
    can = po_documents.po_detail(s, po.id, w.actors["root"])["can"]  # the screen's buttons say so first
    assert not any(can[k] for k in ("submit", "send", "cancel", "close", "revise"))
    assert can["owned_elsewhere"] == f"DAL owns {po.number}: submit, send, revise, cancel and close it there"


def test_a_requisition_cancelled_before_its_branch_learnt_of_the_po_is_reported_once(engine: Engine, bw: World) -> None:
    s, w = _site(engine, bw.hou)
    hou_req = _req(s, w, bw.hou, bw.wh_hou.id, "BOLT", 40, "HOU-RQ-000001", "holly")
    s.close()
    s, w = _site(engine, bw.dal)
    (po,) = conversion.convert(s, w.actors["alice"], [hou_req.id])
    s.commit()
    number = po.number
    s.close()
    s, w = _site(engine, bw.hou)  # HOU had cancelled it before its pull brought DAL's PO
    req = s.get(Requisition, hou_req.id)
    assert req is not None
    req.status, req.cancel_reason = "cancelled", "not needed after all"
    s.commit()
    assert _settle(s) == {"requisitions": 1}
    assert _settle(s) == {}
    (exc,) = s.scalars(select(ExceptionItem).where(ExceptionItem.kind == "requisition.cancelled_on_po")).all()
    assert exc.owner_branch_id == bw.hou.id and exc.role == "buyer" and exc.entity_ref == number
    assert exc.title == f"HOU-RQ-000001 was cancelled, but purchase order {number} orders it"
    assert s.get(Requisition, hou_req.id).status == "cancelled"  # type: ignore[union-attr]


def test_a_branch_site_without_rules_applies_the_defaults_without_writing_them(engine: Engine, world: World,
                                                                               session: Session) -> None:
    from app.models.approvals import ApprovalRule

    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    session.commit()
    s, w = _site(engine, world.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=700)])  # no ForeignWrite: rules are head office's to write
    assert po.status == "pending_approval"
    assert approvals.required_levels(po) == {1: frozenset({"approver"}), 2: frozenset({"manager"})}
    assert s.scalars(select(ApprovalRule)).all() == []


def test_levels_decided_on_two_sites_at_once_still_need_distinct_people(engine: Engine, bw: World) -> None:
    """Two sites that had not seen each other's decisions: one person's two approvals count once."""
    s, w = _site(engine, bw.dal)
    po = _po(s, w, [LineInput(sku="DRILL", qty=700)])
    s.close()
    s, w = _site(engine, bw.ho)
    hank = w.actors["hank"]
    for level in (1, 2):  # as if hank had approved level 1 on one site and level 2 on another
        s.add(ApprovalDecision(po_id=po.id, revision=0, level=level, approver_id=hank.user_id, approver_name="hank",
                               decision="approve", owner_branch_id=bw.ho.id))
    s.commit()
    s.close()
    s, w = _site(engine, bw.dal)
    assert _settle(s) == {}
    dal_po = s.get(PurchaseOrder, po.id)
    assert dal_po is not None and dal_po.status == "pending_approval"
    # bob's level-1 approval made elsewhere at the same time: now each level has its own person
    s.add(ApprovalDecision(po_id=po.id, revision=0, level=1, approver_id=w.actors["bob"].user_id, approver_name="bob",
                           decision="approve", owner_branch_id=bw.dal.id))
    s.commit()
    assert _settle(s) == {"approvals": 1} and dal_po.status == "approved"
