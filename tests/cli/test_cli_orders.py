"""`depot order ...`, `depot allocate` and a customer 850 through `depot edi import`, on a real file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from tests.factories import World
from tests.services.sales_helpers import customer, people, put
from tests.services.test_customer_edi import x850


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def desk(session: Session, world: World) -> World:
    people(session, world)
    customer(session, "GOLDCO", "gold")
    customer(session, "STOPCO", credit_hold=True, credit_note="cheque bounced")
    customer(session, "BUILDMART", "gold", edi_qualifier="ZZ", edi_id="BUILDMART", edi_format="x12")
    put(session, world, "WIDGET", 30)
    session.commit()
    return world


def test_orders_by_command_line_simulate_and_allocate(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                      desk: World) -> None:
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "BUILDCO", "--warehouse", "DAL1",
                          "WIDGET:CS=2", "BOLT=5", "--user", "clara", "--json")
    assert code == 0, err
    first = json.loads(out)
    assert first["status"] == "open" and [ln["qty"] for ln in first["lines"]] == [24, 5]
    assert first["lines"][0]["promise"]["text"] == "available now"
    assert first["lines"][1]["promise"]["kind"] == "not_before"
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "GOLDCO", "--warehouse", "DAL1",
                          "WIDGET=20", "--user", "clara")
    assert code == 0 and "DAL-SO-000002: open, 1 line(s)" in out
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "GOLDCO", "--warehouse", "DAL1",
                          "WIDGET=0", "--user", "clara")
    assert code == 1 and "line 1: quantity: must be more than zero" in err and out == ""
    code, out, err = _run(capsys, db_path, "allocate", "--simulate", "--json", "--user", "dan")
    assert code == 0, err
    plan = json.loads(out)
    assert plan["policy"]["keys"] == ["rush", "tier", "requested_date", "order_date"]
    got = {(ln["order"], ln["sku"]): (ln["proposed"], ln["rule"]) for ln in plan["lines"]}
    assert got[("DAL-SO-000002", "WIDGET")] == (20, "covered")  # gold first
    assert got[("DAL-SO-000001", "WIDGET")] == (10, "tier")
    assert plan["figures"]["units_released"] == 0
    code, out, err = _run(capsys, db_path, "allocate", "--user", "dan")
    assert code == 0 and out.startswith("DAL-AL-000001: 2 line(s) changed, 30 unit(s) allocated"), out + err
    code, out, _ = _run(capsys, db_path, "order", "show", "DAL-SO-000001", "--json")
    detail = json.loads(out)
    assert detail["status"] == "backordered"
    assert [(ln["qty_allocated"], ln["short"]) for ln in detail["lines"]] == [(10, 14), (0, 5)]
    assert detail["lines"][0]["reason"].startswith("rank 2 of 2: 10 of 24")
    # BOLT had no stock: the run wrote no row for it, and the line still says why it waits
    assert detail["lines"][1]["reason"] == "nothing reserved yet: no allocation run has had free stock for it"
    code, out, _ = _run(capsys, db_path, "order", "backorders", "--json")
    assert {(b["number"], b["sku"], b["short"]) for b in json.loads(out)} == {
        ("DAL-SO-000001", "WIDGET", 14), ("DAL-SO-000001", "BOLT", 5)}
    # an order no run has seen yet is waiting for allocation, not backordered (docs/orders.md)
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "GOLDCO", "--warehouse", "DAL1",
                          "BOLT=7", "--user", "clara")
    assert code == 0 and "DAL-SO-000003: open" in out, err
    code, out, _ = _run(capsys, db_path, "order", "backorders", "--json")
    assert {(b["number"], b["sku"], b["short"]) for b in json.loads(out)} == {
        ("DAL-SO-000001", "WIDGET", 14), ("DAL-SO-000001", "BOLT", 5)}


def test_credit_hold_and_release_by_command_line(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                 desk: World) -> None:
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "STOPCO", "--warehouse", "DAL1",
                          "BOLT=3", "--user", "clara")
    assert code == 0 and "on credit hold: customer STOPCO is on credit stop: cheque bounced" in out
    code, out, _ = _run(capsys, db_path, "order", "holds", "--json")
    assert [h["reason"] for h in json.loads(out)] == ["customer STOPCO is on credit stop: cheque bounced"]
    code, out, err = _run(capsys, db_path, "order", "release", "DAL-SO-000001", "--note", "paid", "--user", "clara")
    assert code == 1 and "clara may not release credit holds" in err
    code, out, err = _run(capsys, db_path, "order", "release", "DAL-SO-000001", "--note", "paid", "--user", "mike")
    assert code == 0 and out.strip() == "DAL-SO-000001 released from credit hold"


def test_a_customer_850_in_and_the_855_out(capsys: pytest.CaptureFixture[str], db_path: Path, desk: World,
                                          tmp_path: Path) -> None:
    f = tmp_path / "in" / "po.x12"
    f.parent.mkdir()
    f.write_bytes(x850(lines=["PO1*1*12*EA*2.99**VP*WIDGET"]))
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    code, out, err = _run(capsys, db_path, "edi", "import", str(f), "--outbound", str(out_dir), "--user", "clara",
                          "--json")
    assert code == 0, err
    got = json.loads(out)
    assert got["customer"] == "BUILDMART" and got["orders"][0]["order"] == "DAL-SO-000001"
    assert sorted(p.name.split("-")[0] for p in out_dir.iterdir()) == ["855", "997"]
    bad = tmp_path / "in" / "bad.x12"
    bad.write_bytes(x850(control="000000555", lines=["PO1*1*1*EA*1.00**VP*NOSUCH"]))
    code, out, err = _run(capsys, db_path, "edi", "import", str(bad), "--outbound", str(out_dir), "--user", "clara")
    assert code == 1 and "refused: unknown item (line 1: NOSUCH)" in out


def test_a_promise_or_quote_refusal_names_the_field_once(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                         desk: World, session: Session) -> None:
    from app.services.errors import DomainError
    from app.services.sales.quote import quote_line

    code, out, err = _run(capsys, db_path, "order", "promise", "NOPE", "2", "--warehouse", "DAL1")
    assert code == 1 and err.strip() == "depot: error: item: unknown item NOPE"
    code, out, err = _run(capsys, db_path, "order", "promise", "WIDGET", "-2", "--warehouse", "DAL1")
    assert code == 1 and err.strip() == "depot: error: quantity: -2 is negative"
    code, out, err = _run(capsys, db_path, "order", "promise", "WIDGET", "2", "--uom", "XX", "--warehouse", "DAL1")
    assert code == 1 and err.startswith("depot: error: unit: WIDGET is not sold in XX")
    # the order screen's quote says the same while a line is typed
    for item, qty, said in (("hex bolt", "1", "item: unknown item hex bolt"),
                            ("WIDGET", "0", "quantity: must be more than zero")):
        with pytest.raises(DomainError) as refused:
            quote_line(session, customer="GOLDCO", warehouse_id=desk.wh_dal.id, item=item, qty=qty)
        assert str(refused.value) == said


def test_order_show_says_where_it_goes_and_why_it_was_cancelled(capsys: pytest.CaptureFixture[str], db_path: Path,
                                                                desk: World) -> None:
    code, out, err = _run(capsys, db_path, "order", "create", "--customer", "GOLDCO", "--warehouse", "DAL1",
                          "--ship-to", "Yard 3\n12 Dock Rd", "WIDGET=2", "--user", "clara")
    assert code == 0, err
    code, out, err = _run(capsys, db_path, "order", "cancel", "DAL-SO-000001", "--reason", "ordered twice",
                          "--user", "clara")
    assert code == 0, err
    code, out, err = _run(capsys, db_path, "order", "show", "DAL-SO-000001")
    assert code == 0, err
    assert "ship to Yard 3 / 12 Dock Rd" in out.splitlines()
    assert "cancelled: ordered twice" in out.splitlines()


def test_a_bad_envelope_keeps_its_997_number(capsys: pytest.CaptureFixture[str], db_path: Path, desk: World,
                                             tmp_path: Path) -> None:
    """The rejecting 997 leaves for the partner, so its interchange number is used up: the next 997
    to that partner must not carry it again (the command used to roll the counter back)."""
    out_dir = tmp_path / "out"
    out_dir.mkdir()
    bad = tmp_path / "bad.x12"
    bad.write_bytes(x850(control="000000301", lines=["PO1*1*1*EA*2.99**VP*WIDGET"], se_count=99))
    code, out, err = _run(capsys, db_path, "edi", "import", str(bad), "--outbound", str(out_dir), "--user", "clara")
    assert code == 1 and err.startswith("depot: error: bad.x12: the envelope is wrong (SE01 says 99 segments")
    assert "the 997 rejects it, nothing imported" in err and err.count("\n") == 1
    good = tmp_path / "good.x12"
    good.write_bytes(x850(control="000000302", lines=["PO1*1*1*EA*2.99**VP*WIDGET"]))
    code, out, err = _run(capsys, db_path, "edi", "import", str(good), "--outbound", str(out_dir), "--user", "clara")
    assert code == 0, err
    acks = sorted(p for p in out_dir.iterdir() if p.name.startswith("997-"))
    isa13 = [next(seg for seg in p.read_text().split("~") if seg.strip().startswith("ISA")).split("*")[13] for p in acks]
    assert len(acks) == 2 and len(set(isa13)) == 2, isa13
    code, out, _ = _run(capsys, db_path, "order", "list", "--json")
    assert len(json.loads(out)) == 1  # only the good file's order
