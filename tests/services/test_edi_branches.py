"""EDI on a branch workstation: control counters and exports are the owning branch's; a folder
polled at a DAL workstation acknowledges and raises exceptions as DAL whoever is logged in."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session

from app.models.edi import EdiCounter, SupplierMessage
from app.models.exceptions import ExceptionItem
from app.services.db import session_factory
from app.services.edi import x12
from app.services.edi.common import next_control
from app.services.edi.folder import process_inbound
from app.services.edi.outbound import export_po
from app.services.ownership import ForeignWrite
from tests.factories import World, become_branch_site
from tests.services.test_edi_import import FIXTURES, fixture, make_po, set_edi
from tests.services.test_mail_branches import second_workstation


def test_a_branch_takes_only_its_own_control_numbers(engine: Engine, session: Session, world: World) -> None:
    session.commit()
    become_branch_site(engine, world.dal)
    with pytest.raises(ForeignWrite, match="HOU's EDI control numbers are taken only at a HOU workstation"):
        next_control(session, world.hou.id, "x12", "ACMEEDI")
    session.rollback()
    assert [next_control(session, world.dal.id, "x12", "ACMEEDI") for _ in range(2)] == [1, 2]
    session.commit()
    owners = session.scalars(select(EdiCounter.owner_branch_id)).all()
    assert owners == [world.dal.id]


def test_two_workstations_of_a_branch_never_send_a_partner_the_same_control_number(
        engine: Engine, session: Session, world: World, tmp_path: Path) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000001", [(1, world.items["WIDGET"], 5, "1.25")], status="approved")
    session.commit()
    become_branch_site(engine, world.dal)
    eng2 = second_workstation(engine, tmp_path / "dal2.db")  # holds the same PO after a sync
    try:
        become_branch_site(eng2, world.dal)
        with eng2.begin() as c:
            c.execute(text("INSERT INTO sync_state (key, value) VALUES ('workstation', '2')"))
        with Session(eng2) as s2:  # both offline: each exports the PO twice
            names2 = [export_po(s2, po.id, "x12", actor=world.actors["alice"])[0] for _ in range(2)]
            s2.commit()
        names1 = [export_po(session, po.id, "x12", actor=world.actors["alice"])[0] for _ in range(2)]
        session.commit()
    finally:
        eng2.dispose()
    assert names1 == ["DAL-PO-000001-850-000000001.x12", "DAL-PO-000001-850-000000002.x12"]
    assert names2 == ["DAL-PO-000001-850-010000001.x12", "DAL-PO-000001-850-010000002.x12"]


def test_exporting_another_branch_po_is_refused_before_anything_is_taken(engine: Engine, session: Session,
                                                                         world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "HOU-PO-000001", [(1, world.items["WIDGET"], 5, "1.25")], status="approved")
    po.owner_branch_id = world.hou.id
    session.commit()
    become_branch_site(engine, world.dal)
    with pytest.raises(ForeignWrite, match="purchase order HOU-PO-000001 belongs to HOU; it goes to the supplier "
                                           "from a HOU workstation"):
        export_po(session, po.id, "x12", actor=world.actors["alice"])
    session.rollback()
    assert session.scalar(select(func.count()).select_from(EdiCounter)) == 0
    assert session.scalar(select(func.count()).select_from(SupplierMessage)) == 0


@pytest.mark.skipif(not FIXTURES.is_dir(), reason="shared EDI fixtures not found")
def test_hq_user_polling_at_a_dal_workstation_acks_and_raises_as_dal(engine: Engine, session: Session, world: World,
                                                                     tmp_path: Path) -> None:
    set_edi(world, "102096559PROD", "16")
    session.commit()
    become_branch_site(engine, world.dal)
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    unknown = fixture("x12/855_4010_adobe.txt").replace(b"BAK*00*AD*0132710645", b"BAK*00*AD*0000000001")
    (inbound / "unknown_po.855").write_bytes(unknown)
    report = process_inbound(session_factory(engine), inbound, actor=world.actors["root"])  # root works at HQ
    (outcome,) = report.outcomes
    assert not outcome.ok and "unknown purchase order 0000000001" in outcome.message
    assert outcome.ack_file  # the refused file still gets its 997 ...
    ack = x12.parse((tmp_path / "outbound" / outcome.ack_file).read_bytes())
    assert ack.sender_id == "DEPOTDAL"  # ... from this workstation's branch, on DAL's counter
    with session_factory(engine)() as s:
        refused = s.execute(select(ExceptionItem.title, ExceptionItem.owner_branch_id)
                            .where(ExceptionItem.kind == "edi.file_rejected")).all()
        assert refused == [("EDI file unknown_po.855 refused", world.dal.id)]
        assert s.scalars(select(EdiCounter.owner_branch_id)).all() == [world.dal.id]
