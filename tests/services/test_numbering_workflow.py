"""Document numbers are unique per branch without coordination; workflows refuse bad transitions."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.models.workflow import FINAL_STATES, WORKFLOWS, allowed, check_transition
from app.services.db import open_database, session_scope
from app.services.numbering import next_number
from tests.factories import World


def test_numbers_carry_the_branch_prefix_and_count_per_branch(session: Session, world: World) -> None:
    a = [next_number(session, world.dal.id, "PO") for _ in range(3)]
    b = next_number(session, world.hou.id, "PO")
    c = next_number(session, world.dal.id, "SO")
    assert a == ["DAL-PO-000001", "DAL-PO-000002", "DAL-PO-000003"]
    assert b == "HOU-PO-000001" and c == "DAL-SO-000001"


def test_concurrent_writers_never_take_the_same_number(world: World, db_path: Path) -> None:
    engine = open_database(db_path)
    taken: list[str] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(25):
            with session_scope(engine) as s:
                n = next_number(s, world.dal.id, "GR")
            with lock:
                taken.append(n)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    engine.dispose()
    assert len(taken) == 100 and len(set(taken)) == 100


@pytest.mark.parametrize("doc", sorted(WORKFLOWS))
def test_every_declared_transition_is_allowed_and_final_states_go_nowhere(doc: str) -> None:
    states = WORKFLOWS[doc]
    for state, nexts in states.items():
        for new in nexts:
            assert new in states, f"{doc}: {state} -> {new} leads to an undeclared state"
            check_transition(doc, state, new)
        for other in set(states) - set(nexts) - {state}:
            assert not allowed(doc, state, other)
            with pytest.raises(ValueError, match="cannot go from"):
                check_transition(doc, state, other)
    for final in FINAL_STATES[doc]:
        assert not states[final]
