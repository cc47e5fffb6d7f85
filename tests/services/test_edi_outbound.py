"""POs out as 850 / ORDERS: read back by our own readers, control numbers per partner."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from app.models.edi import SupplierMessage
from app.services import masterdata as md
from app.services.edi import edifact, x12
from app.services.edi.outbound import export_po, write_outbound
from app.services.errors import Conflict, ValidationError
from tests.factories import World
from tests.services.test_edi_import import make_po, set_edi

WHEN = dt.datetime(2026, 11, 26, 9, 30, tzinfo=dt.UTC)


def test_850_round_trips_through_our_reader_and_counts_are_right(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI", "12")
    po = make_po(session, world, "DAL-PO-000200", [(1, world.items["WIDGET"], 24, "1.25"), (2, world.items["BOLT"], 500, "0.1")],
                 status="approved", expected=dt.date(2026, 12, 3))
    name, data = export_po(session, po.id, "x12", actor=world.actors["alice"], when=WHEN)
    assert name == "DAL-PO-000200-850-000000001.x12"
    ic = x12.parse(data)
    assert ic.all_problems() == [] and ic.warnings == []
    assert (ic.sender_id, ic.receiver_qualifier, ic.receiver_id, ic.control) == ("DEPOTDAL", "12", "ACMEEDI", "000000001")
    (tx,) = ic.transactions
    segs = {s[0]: s for s in tx.segments}
    assert segs["BEG"][1:6] == ["00", "SA", "DAL-PO-000200", "", "20261101"]
    po1 = [s for s in tx.segments if s[0] == "PO1"]
    assert [p[1:8] for p in po1] == [["1", "24", "EA", "1.25", "PE", "BP", "WIDGET"], ["2", "500", "EA", "0.1", "PE", "BP", "BOLT"]]
    assert "UK" in po1[0] and "00012345678905" in po1[0]  # the GTIN goes along
    assert segs["CTT"][1:] == ["2", "524"]
    _, again = export_po(session, po.id, "x12", when=WHEN)
    assert x12.parse(again).control == "000000002"  # per-partner counter moves on
    msgs = session.scalars(select(SupplierMessage).where(SupplierMessage.direction == "out")).all()
    assert [m.interchange_control for m in msgs] == ["1", "2"] and all(m.po_id == po.id for m in msgs)


def test_orders_round_trips(session: Session, world: World) -> None:
    set_edi(world, "ACMEEDI")
    po = make_po(session, world, "DAL-PO-000201", [(1, world.items["MILK"], 40, "0.80")], status="sent")
    name, data = export_po(session, po.id, "edifact", when=WHEN)
    assert name.endswith(".edi")
    ic = edifact.parse(data)
    assert ic.all_problems() == [] and ic.recipient == "ACMEEDI" and ic.control == "1"
    (msg,) = ic.messages
    assert msg.type == "ORDERS" and msg.version == "D"
    tags = [s.tag for s in msg.segments]
    assert tags[:3] == ["UNH", "BGM", "DTM"] and tags[-3:] == ["UNS", "CNT", "UNT"]
    qty = [s for s in msg.segments if s.tag == "QTY"][0]
    pri = [s for s in msg.segments if s.tag == "PRI"][0]
    assert (qty.get(0, 1), pri.get(0, 1), msg.segments[1].get(1)) == ("40", "0.8", "DAL-PO-000201")


def test_export_refusals(session: Session, world: World, tmp_path) -> None:  # type: ignore[no-untyped-def]
    po = make_po(session, world, "DAL-PO-000202", [(1, world.items["BOLT"], 5, "0.1")], status="approved")
    with pytest.raises(ValidationError, match="supplier.edi_id: supplier ACME has no EDI id"):
        export_po(session, po.id, "x12")
    set_edi(world, "ACMEEDI")
    with pytest.raises(ValidationError, match="format: must be one of x12, edifact"):
        export_po(session, po.id, "csv")
    draft = make_po(session, world, "DAL-PO-000203", [(1, world.items["BOLT"], 5, "0.1")], status="draft")
    with pytest.raises(Conflict, match="DAL-PO-000203 is draft"):
        export_po(session, draft.id, "x12")
    other = md.create_supplier(session, "B2", "Second supplier", edi_id="B2EDI")
    po2 = make_po(session, world, "DAL-PO-000204", [(1, world.items["BOLT"], 5, "0.1")], status="approved", supplier=other)
    export_po(session, po.id, "x12", when=WHEN)
    _, data = export_po(session, po2.id, "x12", when=WHEN)
    assert x12.parse(data).control == "000000001"  # the other partner has its own counter
    out = write_outbound(tmp_path / "out", "a.x12", data)
    assert out.read_bytes() == data and not list((tmp_path / "out").glob(".*"))
