"""Customer EDI: an 850 / ORDERS becomes a sales order, answered with a 997 / CONTRL and an 855 /
ORDRSP that says what was accepted, changed or backordered; bad files are refused whole."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.models.sales import CustomerMessage, SalesOrder
from app.services.edi import edifact, x12
from app.services.edi.customer_orders import CustomerImport
from app.services.edi.inbound import EdiImportError, import_bytes
from tests.factories import World
from tests.services.sales_helpers import customer, lines_of, people, put

FUTURE = (dt.date.today() + dt.timedelta(days=5)).strftime("%Y%m%d")


def x850(control: str = "000000101", po: str = "BM-4471", lines: list[str] | None = None, sender: str = "BUILDMART",
         se_count: int | None = None) -> bytes:
    body = [f"BEG*00*SA*{po}**20261201", f"DTM*002*{FUTURE}", "N1*ST*BuildMart Yard 3", "N3*12 Dock Rd",
            "N4*Dallas*TX*75201"]
    body += lines if lines is not None else ["PO1*1*24*EA*2.99**VP*WIDGET*BP*BM-W40", "PO1*2*5*EA*0.30**UP*NOPE-GTIN"]
    st = ["ST*850*0001", *body, f"SE*{se_count or len(body) + 2}*0001"]
    isa = (f"ISA*00*          *00*          *ZZ*{sender:<15}*ZZ*DEPOTDAL       *261201*1200*U*00401*{control}*0*P*>")
    segs = [isa, f"GS*PO*{sender}*DEPOTDAL*20261201*1200*{int(control)}*X*004010", *st, f"GE*1*{int(control)}",
            f"IEA*1*{control}"]
    return ("~\n".join(segs) + "~\n").encode()


@pytest.fixture
def edi_world(session: Session, world: World) -> dict:
    p = people(session, world)
    customer(session, "BUILDMART", "gold", edi_qualifier="ZZ", edi_id="BUILDMART", edi_format="x12")
    customer(session, "EUROBUY", "silver", edi_qualifier="14", edi_id="5412345000013", edi_format="edifact")
    put(session, world, "WIDGET", 100)
    session.commit()
    return p


def _read(path: Path) -> list[list[str]]:
    ic = x12.parse(path.read_bytes())
    ic.check()
    return [s for t in ic.transactions for s in t.body]


def test_an_850_becomes_an_order_and_is_answered_by_997_and_855(session: Session, world: World, edi_world: dict,
                                                                 tmp_path: Path) -> None:
    tmp_path = tmp_path / "outbound"
    tmp_path.mkdir()
    lines = ["PO1*1*24*EA*2.99**VP*WIDGET*BP*BM-W40", "PO1*2*2*CA*30.00**UP*00012345678905",
             "PO1*3*5*EA*0.20**VP*BOLT"]
    res = import_bytes(session, edi_world["clara"], x850(lines=lines), "po4471.x12", tmp_path)
    (o,) = res.outcomes
    so = session.scalar(select(SalesOrder).where(SalesOrder.number == o.order))
    assert so is not None and (so.customer_po, so.source, so.status) == ("BM-4471", "edi", "open")
    assert so.ship_to.startswith("BuildMart Yard 3")
    assert [(ln.qty_ordered, ln.uom, ln.customer_line) for ln in lines_of(session, so)] == [
        (24, "", "1"), (24, "CS", "2"), (5, "", "3")]
    resp, ack = sorted(tmp_path.iterdir())
    assert ack.name.startswith("997-BUILDMART-000000101")
    ak9 = next(s for s in _read(ack) if s[0] == "AK9")
    assert ak9[1] == "A"
    segs = _read(resp)
    bak = next(s for s in segs if s[0] == "BAK")
    assert (bak[2], bak[3], bak[8]) == ("AC", "BM-4471", so.number)
    acks = [s for s in segs if s[0] == "ACK"]
    # 24 of 100 now: accepted; the case line too, but at another price; BOLT has no stock: backordered with a date
    assert [a[1] for a in acks] == ["IA", "IP", "IB"]
    assert acks[2][4] == "068" and acks[2][5] == (dt.date.today() + dt.timedelta(days=7)).strftime("%Y%m%d")
    assert res.written == [ack.name, resp.name]
    # the same file again: a resend, nothing changes
    again = import_bytes(session, edi_world["clara"], x850(lines=lines), "po4471.x12", tmp_path)
    assert again.outcomes[0].duplicate
    assert session.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.source == "edi")) == 1


def test_unknown_items_refuse_the_order_and_the_855_says_so(session: Session, world: World, edi_world: dict,
                                                            tmp_path: Path) -> None:
    tmp_path = tmp_path / "outbound"
    tmp_path.mkdir()
    res = import_bytes(session, edi_world["clara"], x850(), "bad.x12", tmp_path)
    (o,) = res.outcomes
    assert not o.accepted and o.reason == "unknown item (line 2: NOPE-GTIN)"
    assert session.scalar(select(SalesOrder.id).where(SalesOrder.source == "edi")) is None
    resp = next(p for p in tmp_path.iterdir() if p.name.startswith("855"))
    segs = _read(resp)
    assert next(s for s in segs if s[0] == "BAK")[2] == "RD"
    assert [s[1] for s in segs if s[0] == "ACK"] == ["IR", "R2"]
    assert res.summary().startswith("bad.x12 from BUILDMART: PO BM-4471 refused: unknown item")


def test_a_reused_control_number_and_a_bad_envelope_are_refused(session: Session, world: World, edi_world: dict,
                                                                 tmp_path: Path) -> None:
    tmp_path = tmp_path / "outbound"
    tmp_path.mkdir()
    ok = ["PO1*1*1*EA*2.99**VP*WIDGET"]
    import_bytes(session, edi_world["clara"], x850(lines=ok), "a.x12", tmp_path)
    other = import_bytes(session, edi_world["clara"], x850(lines=["PO1*1*9*EA*2.99**VP*WIDGET"]), "b.x12", tmp_path)
    assert other.outcomes[0].reason.startswith("control number 000000101/0001 was already used by another order")
    orders = session.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.source == "edi"))
    refused = import_bytes(session, edi_world["clara"], x850(control="000000102", lines=ok, se_count=99), "c.x12",
                           tmp_path)
    assert isinstance(refused, CustomerImport) and refused.outcomes == []
    assert re.search("the envelope is wrong .* the 997 rejects it, nothing imported", refused.refused)
    rejected = next(p for p in tmp_path.iterdir() if "000000102" in p.name)
    assert next(s for s in _read(rejected) if s[0] == "AK9")[1] == "R"
    assert session.scalar(select(func.count()).select_from(SalesOrder).where(SalesOrder.source == "edi")) == orders
    with pytest.raises(EdiImportError, match="sender 'STRANGER' is not the EDI id of any customer"):
        import_bytes(session, edi_world["clara"], x850(sender="STRANGER"), "d.x12", tmp_path)
    with pytest.raises(EdiImportError, match="name who imports the file"):
        import_bytes(session, None, x850(control="000000103", lines=ok), "e.x12", tmp_path)


def test_an_edifact_orders_gets_contrl_and_ordrsp(session: Session, world: World, edi_world: dict,
                                                  tmp_path: Path) -> None:
    tmp_path = tmp_path / "outbound"
    tmp_path.mkdir()
    text = ("UNA:+.? '\nUNB+UNOA:2+5412345000013:14+DEPOTDAL:ZZ+261201:1200+77'\nUNH+1+ORDERS:D:96A:UN'\n"
            "BGM+220+EU-900+9'\nDTM+137:20261201:102'\nNAD+ST+++Eurobuy depot'\nLIN+1++00012345678905:SRV'\n"
            "QTY+21:12'\nPRI+AAA:2.99'\nLIN+2++BOLT:SA'\nQTY+21:4'\nUNS+S'\nUNT+11+1'\nUNZ+1+77'\n")
    res = import_bytes(session, edi_world["clara"], text.encode(), "eu900.edi", tmp_path)
    (o,) = res.outcomes
    assert o.accepted and o.order.startswith("DAL-SO-")
    contrl, ordrsp = sorted(tmp_path.iterdir())
    assert contrl.name.startswith("CONTRL-5412345000013-77")
    ic = edifact.parse(ordrsp.read_bytes())
    ic.check()
    (msg,) = ic.messages
    lins = [s for s in msg.body if s.tag == "LIN"]
    assert [(s.get(0), s.get(1)) for s in lins] == [("1", "5"), ("2", "3")]  # WIDGET accepted; BOLT backordered
    assert any(s.tag == "QTY" and s.get(0, 0) == "83" for s in msg.body)
    assert session.scalar(select(func.count()).select_from(CustomerMessage)) == 3  # ORDERS in, CONTRL and ORDRSP out
