"""Exceptions on a branch workstation: its own by default, others' read-only, refusal names the owner."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.services import exception_inbox as exc
from app.services.ownership import ForeignWrite
from tests.factories import World, become_branch_site


def _raise(session: Session, w: World, branch: str) -> ExceptionItem:
    owner = w.dal if branch == "DAL" else w.hou
    return exc.raise_exception(session, None, kind="edi.qty_changed", title=f"{branch}-PO-1: quantity changed",
                               role="buyer", owner_branch_id=owner.id)


def test_a_branch_lists_its_own_and_handles_only_its_own(engine: Engine, session: Session, world: World) -> None:
    dal, hou = _raise(session, world, "DAL"), _raise(session, world, "HOU")
    session.commit()
    assert exc.own_branch_filter(session) is None  # a standalone file shows (and handles) every branch's
    session.commit()
    become_branch_site(engine, world.dal)
    mine = exc.list_open(session, branch_id=exc.own_branch_filter(session))
    assert [(r.id, r.branch, r.handled_here) for r in mine] == [(dal.id, "DAL", True)]
    every = {r.id: (r.branch, r.handled_here) for r in exc.list_open(session)}
    assert every == {dal.id: ("DAL", True), hou.id: ("HOU", False)}
    alice, mike = world.actors["alice"], world.actors["mike"]
    with pytest.raises(ForeignWrite, match="exception 'HOU-PO-1: quantity changed' belongs to HOU; HOU handles it"):
        exc.acknowledge(session, alice, [hou.id])
    with pytest.raises(ForeignWrite, match="belongs to HOU"):
        exc.resolve(session, mike, [dal.id, hou.id], note="both")  # one foreign row refuses the batch
    session.rollback()
    exc.acknowledge(session, alice, [dal.id])
    exc.resolve(session, alice, [dal.id], note="accepted")
    session.commit()
    session.expire_all()
    statuses = dict(session.execute(select(ExceptionItem.owner_branch_id, ExceptionItem.status)).all())
    assert statuses == {world.dal.id: "resolved", world.hou.id: "open"}
