"""The demo's partner files (seed/samples.py): made from the database's own sent POs, they
import (each 856 line on its own PO, a two-interchange batch, a wrapped file, a partial ORDRSP),
the damaged one is refused, and the Excel CSV imports with its accents."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from app.models.catalog import Item
from app.models.purchasing import ExpectedReceipt
from app.services import masterdata as md
from app.services.db import session_factory
from app.services.edi.folder import process_inbound
from app.services.importer import import_csv
from app.services.seed.samples import write_samples
from tests.factories import World
from tests.services.test_edi_import import make_po, set_edi


def test_demo_samples_import_and_the_damaged_one_is_refused(session: Session, world: World, engine: Engine,
                                                           db_path: Path) -> None:
    set_edi(world, "ACMEEDI")
    i = world.items
    make_po(session, world, "DAL-PO-000801", [(1, i["WIDGET"], 24, "1.25"), (2, i["BOLT"], 100, "0.10")])
    make_po(session, world, "DAL-PO-000802", [(1, i["MILK"], 40, "0.80")])
    euro = md.create_supplier(session, "EURO", "Euro Foods", edi_id="5060000000099", edi_qualifier="14",
                              edi_format="edifact")
    make_po(session, world, "DAL-PO-000803", [(1, i["MILK"], 24, "0.80")], supplier=euro)
    session.commit()
    folder = write_samples(db_path)
    assert folder is not None and (folder / "README.txt").exists()
    report = process_inbound(session_factory(engine), folder / "edi-inbound", actor=world.actors["alice"])
    assert [(o.file_name, o.ok) for o in report.outcomes] == [
        ("1-856-po-inside-each-item-bom.x12", True), ("2-855-two-interchanges.x12", True),
        ("3-856-wrapped-80-columns.x12", True), ("4-ordrsp-partial.edi", True), ("5-damaged-nul-byte.x12", False)], \
        [o.message for o in report.outcomes]
    assert "(2 interchanges)" in report.outcomes[1].message
    assert "is not a segment tag" in report.outcomes[4].message
    session.expire_all()
    asn_pos = sorted(session.scalars(select(ExpectedReceipt.asn_ref).where(ExpectedReceipt.source == "asn")))
    assert asn_pos == ["SHIP-DEMO-0001", "SHIP-DEMO-0001", "SHIP-DEMO-0002"]  # one receipt per PO and file
    result = import_csv(session, world.actors["root"], "items", folder / "items-excel-windows1252.csv")
    assert result.imported == 3 and result.encoding == "windows-1252"
    assert session.scalars(select(Item.description).where(Item.sku == "CAF-0001")).one() == "Café crème 1 kg"
