"""The generic exception inbox."""

from __future__ import annotations

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.docs_common import AuditEntry
from app.services import exception_inbox as exc
from app.services.errors import Conflict, PermissionDenied, ValidationError
from tests.factories import World


def test_raise_dedupe_acknowledge_resolve(session: Session, world: World) -> None:
    alice, rita, mike = world.actors["alice"], world.actors["rita"], world.actors["mike"]
    a = exc.raise_exception(session, None, kind="edi.qty_changed", title="PO X: quantity changed", role="buyer",
                            owner_branch_id=world.dal.id, key="k1")
    same = exc.raise_exception(session, None, kind="edi.qty_changed", title="again", role="buyer",
                               owner_branch_id=world.dal.id, key="k1")
    assert same.id == a.id
    b = exc.raise_exception(session, None, kind="receiving.damaged", title="Damaged carton", role="receiver",
                            owner_branch_id=world.dal.id, severity="error")
    assert [r.id for r in exc.list_open(session, role="buyer")] == [a.id]
    assert {r.id for r in exc.list_open(session)} == {a.id, b.id}
    with pytest.raises(PermissionDenied, match="rita may not handle"):
        exc.resolve(session, rita, [a.id])
    exc.acknowledge(session, alice, [a.id])
    assert a.status == "acknowledged" and a.acknowledged_by_id == alice.user_id
    assert [r.id for r in exc.list_open(session, role="buyer", include_acknowledged=False)] == []
    exc.resolve(session, alice, [a.id], note="accepted the lower quantity")
    assert a.status == "resolved" and a.resolution == "accepted the lower quantity"
    with pytest.raises(Conflict, match="already resolved"):
        exc.resolve(session, mike, [a.id])
    exc.resolve(session, mike, [b.id])  # a manager may handle anyone's
    assert exc.list_open(session) == []
    fresh = exc.raise_exception(session, None, kind="edi.qty_changed", title="new", role="buyer",
                                owner_branch_id=world.dal.id, key="k1")
    assert fresh.id != a.id  # the key is free again once resolved
    actions = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "exception_item")).all()
    assert actions.count("exception.resolve") == 2 and "exception.acknowledge" in actions


def test_bad_input(session: Session, world: World) -> None:
    with pytest.raises(ValidationError, match="severity"):
        exc.raise_exception(session, None, kind="x", title="t", owner_branch_id=world.dal.id, severity="fatal")
    with pytest.raises(ValidationError, match="exceptions: choose at least one"):
        exc.resolve(session, world.actors["mike"], [])
