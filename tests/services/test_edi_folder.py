"""Folder processing: good files to processed/, bad ones to error/ with the reason, 997s out."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.exceptions import ExceptionItem
from app.models.purchasing import PurchaseOrder
from app.services import masterdata as md
from app.services.db import session_factory
from app.services.edi import x12
from app.services.edi.folder import process_inbound
from tests.factories import World
from tests.services.test_edi_import import fixture, make_po, set_edi


def test_poll_moves_files_writes_reasons_and_997s(session: Session, world: World, engine: Engine, tmp_path: Path) -> None:
    set_edi(world, "102096559PROD", "16")
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 1, "369")])
    session.commit()
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    good = fixture("x12/855_4010_adobe.txt")
    (inbound / "a_good.855").write_bytes(good)
    (inbound / "b_resent.855").write_bytes(good)
    (inbound / "c_unknown_po.855").write_bytes(
        good.replace(b"BAK*00*AD*0132710645", b"BAK*00*AD*0000000001").replace(b"855336885", b"855336886"))
    (inbound / "d_counts.855").write_bytes(good.replace(b"SE*43*", b"SE*41*").replace(b"855336885", b"855336887"))
    (inbound / "e_garbage.txt").write_bytes(b"this is not EDI")
    (inbound / "f_reused_control.855").write_bytes(good.replace(b"PO1*000010*1*", b"PO1*000010*3*"))
    report = process_inbound(session_factory(engine), inbound, actor=world.actors["alice"])
    assert [(o.file_name, o.ok) for o in report.outcomes] == [
        ("a_good.855", True), ("b_resent.855", True), ("c_unknown_po.855", False), ("d_counts.855", False),
        ("e_garbage.txt", False), ("f_reused_control.855", False)]
    assert "imported before" in report.outcomes[1].message
    assert sorted(p.name for p in (inbound / "processed").iterdir()) == ["a_good.855", "b_resent.855"]
    err = inbound / "error"
    assert sorted(p.name for p in err.iterdir()) == [
        "c_unknown_po.855", "c_unknown_po.855.error.txt", "d_counts.855", "d_counts.855.error.txt",
        "e_garbage.txt", "e_garbage.txt.error.txt", "f_reused_control.855", "f_reused_control.855.error.txt"]
    assert "unknown purchase order 0000000001" in (err / "c_unknown_po.855.error.txt").read_text()
    assert "SE01 says 41 segments" in (err / "d_counts.855.error.txt").read_text()
    assert "neither ISA (X12) nor UNA/UNB" in (err / "e_garbage.txt.error.txt").read_text()
    assert [p for p in inbound.iterdir() if p.is_file()] == []
    acks = sorted((tmp_path / "outbound").iterdir())
    assert "already used by a different message" in (err / "f_reused_control.855.error.txt").read_text()
    assert len(acks) == 5  # every readable X12 file is acknowledged; garbage is not
    ak9 = [x12.parse(p.read_bytes()).transactions[0].body[-1][1] for p in acks]
    assert sorted(ak9) == ["A", "A", "A", "A", "R"]  # an unknown PO is a business error, not a syntax one
    with session_factory(engine)() as s:
        assert s.get(PurchaseOrder, po.id).status == "confirmed"  # type: ignore[union-attr]
        refused = s.scalars(select(ExceptionItem.title).where(ExceptionItem.kind == "edi.file_rejected")).all()
        assert sorted(refused) == ["EDI file c_unknown_po.855 refused", "EDI file d_counts.855 refused",
                                   "EDI file e_garbage.txt refused", "EDI file f_reused_control.855 refused"]
