"""`depot po approve` on head office's workstation for Dallas's PO: the user is told what follows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.cli import run
from app.models.parties import ItemSupplier
from app.services.auth import create_user
from app.services.buying import approvals, purchasing
from app.services.buying.purchasing import LineInput
from tests.factories import World, become_branch_site


def test_approving_another_branchs_po_says_when_it_follows(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                           engine: Engine, session: Session, world: World) -> None:
    for link in session.scalars(select(ItemSupplier)):
        link.contracted = True
    approvals.ensure_default_rules(session, world.ho.id)
    create_user(session, "hank", "secret-hank", ["manager"], owner_branch_id=world.ho.id, branch_id=world.ho.id)
    po = purchasing.create_po(session, world.actors["alice"], "ACME", "DAL1", [LineInput(sku="DRILL", qty=700)])
    purchasing.submit(session, world.actors["alice"], po.id)
    approvals.approve(session, world.actors["bob"], po.id)
    session.commit()
    number = po.number
    session.close()
    become_branch_site(engine, world.ho)

    assert run(["--db", str(db_path), "po", "approve", number, "--user", "hank"]) == 0
    out, err = capsys.readouterr()
    assert out.strip() == f"{number} rev 0 approved by hank; DAL's PO follows when DAL syncs", err
    assert run(["--db", str(db_path), "po", "approve", number, "--user", "mike"]) == 1
    _, err = capsys.readouterr()
    assert f"every level of {number} is approved; DAL's PO follows when DAL syncs" in err
