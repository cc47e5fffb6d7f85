"""A user covering at another branch's workstation works for that workstation's branch.

A Dallas buyer, manager and dispatcher sign in at a Houston workstation (``become_branch_site``:
the file replicates as Houston, holds Houston's documents, and the server takes only Houston's
rows). What their screens and defaults show must be Houston's: seen walking, a Dallas dispatcher
at a joined Houston workstation got "no confirmed shipments from DAL1" and an empty manifest list.
On the standalone file (every branch's data) the same users keep their home branch, as at head
office. Authority stays with the user: a Dallas buyer does not buy for Houston by sitting there.
"""

from __future__ import annotations

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.services.auth import Actor, create_user
from app.services.buying import requisitions as rq
from app.services.dispatch import manifest
from app.services.errors import PermissionDenied
from app.services.kpi.scope import default_branches
from app.services.ownership import working_branch
from app.services.replenishment import run
from app.services.sales.orders import find_warehouse
from tests.factories import World, become_branch_site, load_world
from tests.services.test_replenishment import TODAY, stock_and_sales


def _needs_at_both(session: Session, world: World) -> None:
    for wh in (world.wh_dal, world.wh_hou):
        stock_and_sales(session, world, "BOLT", wh, on_hand_after=20)
    create_user(session, "dina", "secret-dina", ["dispatcher"], owner_branch_id=world.ho.id, branch_id=world.dal.id)
    session.commit()


def _warehouses_shown(s: Session, actor: Actor) -> set[str]:
    return {r.warehouse_code for r in run(s, actor, today=TODAY, history_weeks=4).recommendations}


def test_dallas_users_at_a_houston_workstation_see_and_ship_for_houston(engine: Engine, session: Session, world: World) -> None:
    _needs_at_both(session, world)
    # the standalone file (like head office): the users' home branch
    alice, mike = world.actors["alice"], world.actors["mike"]
    assert working_branch(session, alice.branch_id) == world.dal.id
    assert default_branches(session, mike) == ["DAL"]
    assert _warehouses_shown(session, alice) == {"DAL1"}
    assert find_warehouse(session, None, alice, world.customer).code == "DAL1"
    session.close()

    become_branch_site(engine, world.hou)
    s = Session(engine, expire_on_commit=False)
    try:
        w = load_world(s)
        alice, mike, dina = w.actors["alice"], w.actors["mike"], w.actors["dina"]
        assert alice.branch_id == w.dal.id  # still a Dallas user
        assert working_branch(s, alice.branch_id) == w.hou.id
        assert default_branches(s, mike) == ["HOU"]  # the manager's KPIs: Houston's figures
        assert _warehouses_shown(s, alice) == {"HOU1"}  # recommendations for the warehouse here
        assert find_warehouse(s, None, alice, w.customer).code == "HOU1"  # a new order ships from here
        assert manifest._warehouse(s, None, dina).code == "HOU1"  # the day's manifest: Houston's
        # authority stays the user's: a Dallas buyer does not buy for Houston by sitting there
        with pytest.raises(PermissionDenied, match="alice may not requisition for warehouse HOU1 of another branch"):
            rq.reject(s, alice, [(w.items["BOLT"].id, w.wh_hou.id)], "overstock", today=TODAY)
        s.rollback()
    finally:
        s.close()

