"""Interchange control numbers: one counter per partner and standard, whatever the message type.

A partner's system rejects (or silently drops) an interchange whose ISA13 / UNB 0020 it has seen
before, so a 997 and an 855 to one customer, or an 850 and a 997 to one supplier, must never
share a number; GS06 follows ISA13 (one group per interchange)."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from app.models.edi import EdiCounter
from app.models.sales import CustomerMessage, SalesOrder
from app.services import masterdata as md
from app.services.db import session_factory
from app.services.edi import edifact, x12
from app.services.edi.common import _COUNTER_NS, next_control
from app.services.edi.customer_orders import CustomerImport
from app.services.edi.folder import process_inbound
from app.services.edi.inbound import EdiImportError, import_bytes
from app.services.edi.outbound import export_po
from tests.factories import World
from tests.services import test_customer_edi
from tests.services.test_customer_edi import x850
from tests.services.test_edi_import import fixture, make_po, set_edi


@pytest.fixture
def edi_world(session: Session, world: World) -> dict:
    """The customer EDI tests' world: BUILDMART (X12), EUROBUY (EDIFACT), WIDGET in stock."""
    return test_customer_edi.edi_world.__wrapped__(session, world)  # type: ignore[attr-defined, no-any-return]


def _controls(path: Path) -> tuple[str, str]:
    """(ISA13, GS06) of an X12 file we wrote."""
    ic = x12.parse(path.read_bytes())
    ic.check()
    return ic.control, ic.groups[0].control


def test_a_997_and_an_855_to_one_customer_take_two_numbers_of_one_counter(
        session: Session, world: World, edi_world: dict, tmp_path: Path) -> None:
    out = tmp_path / "outbound"
    res = import_bytes(session, edi_world["clara"], x850(lines=["PO1*1*2*EA*2.99**VP*WIDGET"]), "a.x12", out)
    ack, resp = (out / n for n in res.written)
    assert ack.name.startswith("997-") and resp.name.startswith("855-")
    assert _controls(ack) == ("000000001", "1") and _controls(resp) == ("000000002", "2")
    res2 = import_bytes(session, edi_world["clara"], x850(control="000000102", po="BM-4472",
                                                          lines=["PO1*1*1*EA*2.99**VP*WIDGET"]), "b.x12", out)
    assert [_controls(out / n)[0] for n in res2.written] == ["000000003", "000000004"]
    # one counter row for the partner, whatever the message types
    keys = session.scalars(select(EdiCounter.partner_key)).all()
    assert keys == ["ic:x12:BUILDMART"]


def test_an_edifact_contrl_and_ordrsp_take_two_numbers(session: Session, world: World, edi_world: dict,
                                                        tmp_path: Path) -> None:
    out = tmp_path / "outbound"
    text = ("UNA:+.? '\nUNB+UNOA:2+5412345000013:14+DEPOTDAL:ZZ+261201:1200+77'\nUNH+1+ORDERS:D:96A:UN'\n"
            "BGM+220+EU-900+9'\nDTM+137:20261201:102'\nLIN+1++00012345678905:SRV'\nQTY+21:12'\nUNS+S'\n"
            "UNT+7+1'\nUNZ+1+77'\n")
    res = import_bytes(session, edi_world["clara"], text.encode(), "eu.edi", out)
    refs = [edifact.parse((out / n).read_bytes()).control for n in res.written]
    assert refs == ["1", "2"]


def test_an_850_out_and_a_997_to_one_supplier_take_two_numbers(
        engine: Engine, session: Session, world: World, tmp_path: Path) -> None:
    set_edi(world, "102096559PROD", "ZZ")  # its own files say qualifier 16: still one partner
    item = md.create_item(session, "T05249", "Acrobat Pro 9")
    po = make_po(session, world, "0132710645", [(10, item, 1, "369")])
    session.commit()
    name, data = export_po(session, po.id, "x12", actor=world.actors["alice"])
    session.commit()
    assert x12.parse(data).control == "000000001"
    inbound = tmp_path / "inbound"
    inbound.mkdir()
    (inbound / "a.855").write_bytes(fixture("x12/855_4010_adobe.txt"))
    report = process_inbound(session_factory(engine), inbound, actor=world.actors["alice"])
    (ack,) = (tmp_path / "outbound").iterdir()
    assert report.outcomes[0].ok and _controls(ack) == ("000000002", "2")


def test_a_new_counter_starts_past_every_number_the_old_per_type_counters_gave(
        session: Session, world: World) -> None:
    """Databases made before the change hold one counter per message type; none of their numbers
    may be sent again."""
    for key, value in (("997:ZZ:BUILDMART", 5), ("855:BUILDMART", 9), ("810:BUILDMART", 3),
                       ("x12:ZZ:OTHER", 40), ("ORDRSP:BUILDMART", 70), ("855:BUILDMART#2", 80)):
        session.add(EdiCounter(id=uuid.uuid5(_COUNTER_NS, key), owner_branch_id=world.dal.id, partner_key=key,
                               next_value=value))
    session.flush()
    assert [next_control(session, world.dal.id, "x12", "BUILDMART") for _ in range(2)] == [9, 10]
    assert next_control(session, world.dal.id, "edifact", "BUILDMART") == 70
    assert next_control(session, world.dal.id, "x12", "NEWPARTNER") == 1


def test_an_850_without_beg_is_rejected_by_the_997_and_keeps_its_number(
        session: Session, world: World, edi_world: dict, tmp_path: Path) -> None:
    """A set that cannot be read as an order (no BEG, X12's mandatory segment) is a syntax error the
    997 reports (AK5 R); that 997 leaves, so its number is committed, and nothing else is sent."""
    out = tmp_path / "outbound"
    bad = x850(control="000000201").replace(b"BEG*00*SA*BM-4471**20261201~\n", b"")
    bad = bad.replace(b"SE*9*0001", b"SE*8*0001")
    res = import_bytes(session, edi_world["clara"], bad, "nobeg.x12", out)
    assert isinstance(res, CustomerImport) and res.outcomes == []
    assert "no BEG segment" in res.refused and "the 997 rejects it" in res.refused
    (ack,) = out.iterdir()
    body = [s for t in x12.parse(ack.read_bytes()).transactions for s in t.body]
    assert [s[1] for s in body if s[0] in ("AK5", "AK9")] == ["R", "R"]
    assert [s[:5] for s in body if s[0] == "AK3"] == [["AK3", "BEG", "2", "", "3"]]  # mandatory segment missing
    session.commit()  # what the poller does with a refused customer file
    good = import_bytes(session, edi_world["clara"], x850(control="000000202", lines=["PO1*1*1*EA*2.99**VP*WIDGET"]),
                        "good.x12", out)
    numbers = [_controls(p)[0] for p in sorted(out.iterdir())]
    assert len(numbers) == len(set(numbers)) == 3 and len(good.written) == 2
    assert session.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.source == "edi")) == 1


def test_a_file_with_a_good_and_an_unreadable_interchange_sends_nothing_for_the_good_one(
        session: Session, world: World, edi_world: dict, tmp_path: Path) -> None:
    """Every order is read before anything is answered: no 855 leaves for an order that the
    refusal of its file then takes back."""
    out = tmp_path / "outbound"
    good = x850(control="000000301", lines=["PO1*1*1*EA*2.99**VP*WIDGET"])
    bad = x850(control="000000302").replace(b"BEG*00*SA*BM-4471**20261201~\n", b"").replace(b"SE*9*", b"SE*8*")
    res = import_bytes(session, edi_world["clara"], good + bad, "two.x12", out)
    assert isinstance(res, CustomerImport) and res.refused and res.outcomes == []
    assert [p.name.split("-")[0] for p in out.iterdir()] == ["997"]
    assert session.scalar(select(func.count()).select_from(CustomerMessage).where(
        CustomerMessage.msg_type == "855")) == 0


def test_a_customer_order_is_not_imported_where_its_answers_cannot_be_written(
        session: Session, world: World, edi_world: dict) -> None:
    """Without an outbound folder the 997 and 855 would take numbers and go nowhere."""
    with pytest.raises(EdiImportError, match="answered with a 997 and an 855"):
        import_bytes(session, edi_world["clara"], x850(lines=["PO1*1*1*EA*2.99**VP*WIDGET"]), "a.x12", None)
    assert session.scalar(select(func.count()).select_from(EdiCounter)) == 0


def test_the_855_echoes_the_item_qualifiers_the_buyer_sent(session: Session, world: World, edi_world: dict,
                                                           tmp_path: Path) -> None:
    out = tmp_path / "outbound"
    lines = ["PO1*1*24*EA*2.99**VP*WIDGET*BP*BM-W40", "PO1*2*2*CA*30.00**UP*00012345678905"]
    res = import_bytes(session, edi_world["clara"], x850(lines=lines), "q.x12", out)
    resp = out / res.written[1]
    po1 = [s for t in x12.parse(resp.read_bytes()).transactions for s in t.body if s[0] == "PO1"]
    assert [s[6:] for s in po1] == [["VP", "WIDGET", "BP", "BM-W40"], ["UP", "00012345678905"]]


def test_the_ordrsp_echoes_the_item_qualifier_the_buyer_sent(session: Session, world: World, edi_world: dict,
                                                             tmp_path: Path) -> None:
    out = tmp_path / "outbound"
    text = ("UNA:+.? '\nUNB+UNOA:2+5412345000013:14+DEPOTDAL:ZZ+261201:1200+78'\nUNH+1+ORDERS:D:96A:UN'\n"
            "BGM+220+EU-901+9'\nDTM+137:20261201:102'\nLIN+1++00012345678905:EN'\nQTY+21:12'\n"
            "LIN+2'\nPIA+5+WIDGET:SA'\nQTY+21:1'\nUNS+S'\nUNT+10+1'\nUNZ+1+78'\n")
    res = import_bytes(session, edi_world["clara"], text.encode(), "eu.edi", out)
    (msg,) = edifact.parse((out / res.written[1]).read_bytes()).messages
    assert [(s.get(2, 0), s.get(2, 1)) for s in msg.body if s.tag == "LIN"] == [
        ("00012345678905", "EN"), ("WIDGET", "SA")]
