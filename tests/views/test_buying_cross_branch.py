"""The approvals inbox on head office's workstation, approving Dallas's PO: the message says what follows."""

from __future__ import annotations

from pathlib import Path

from pytestqt.qtbot import QtBot
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.parties import ItemSupplier
from app.models.purchasing import PurchaseOrder
from app.services.auth import actor_for, create_user
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from app.services.settings import Settings
from app.views.buying.approvals import ApprovalsInbox
from app.views.context import make_test_context
from tests.factories import World, become_branch_site


def test_head_office_approves_dallas_po_and_is_told_dallas_follows(qtbot: QtBot, engine: Engine, session: Session,
                                                                  world: World, tmp_path: Path) -> None:
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    approvals.ensure_default_rules(session, world.ho.id)
    hank = actor_for(session, create_user(session, "hank", "secret-hank", ["manager"], owner_branch_id=world.ho.id,
                                          branch_id=world.ho.id))
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=700)])
    purchasing.submit(session, world.actors["alice"], po.id)
    approvals.approve(session, world.actors["bob"], po.id)
    session.commit()
    become_branch_site(engine, world.ho)

    ctx = make_test_context(engine, hank, Settings(tmp_path / "hank.json"))
    try:
        inbox = ApprovalsInbox(ctx)
        qtbot.addWidget(inbox)
        qtbot.waitUntil(lambda: inbox.model.rowCount() == 1, timeout=10000)
        with qtbot.waitSignal(ctx.signals.message, timeout=10000) as sig:
            inbox.approve_selected()
        assert sig.args == [f"{po.number}: level 2 approved; DAL's PO follows when DAL syncs"]
        qtbot.waitUntil(lambda: inbox.model.rowCount() == 0, timeout=10000)
        session.rollback()
        session.expire_all()
        assert session.get(PurchaseOrder, po.id).status == "pending_approval"  # type: ignore[union-attr]
    finally:
        assert ctx.runner.wait_idle(10000)
        ctx.runner.shutdown()
