"""`depot stock`, `depot count`, `depot transfer` and `depot rma` against a real database file."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from tests.factories import World
from tests.services.inventory_helpers import stock


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


@pytest.fixture
def stocked(session: Session, world: World) -> World:
    stock(session, world, "WIDGET", 40, "DAL1-A-02")
    stock(session, world, "WIDGET", 2, "HOU1-A-02")
    session.commit()
    return world


def test_stock_json_by_warehouse_bin_and_history(capsys: pytest.CaptureFixture[str], db_path: Path, stocked: World) -> None:
    code, out, _ = _run(capsys, db_path, "stock", "widget", "--json", "--history", "5")
    assert code == 0
    doc = json.loads(out)
    assert doc["sku"] == "WIDGET" and doc["on_hand"] == 42
    assert {w["warehouse"]: w["on_hand"] for w in doc["warehouses"]} == {"DAL1": 40, "HOU1": 2}
    assert [(r["warehouse"], r["location"], r["qty"]) for r in doc["locations"]] == [("DAL1", "A-02", 40), ("HOU1", "A-02", 2)]
    assert [m["reason"] for m in doc["history"]] == ["receipt", "receipt"]
    code, out, _ = _run(capsys, db_path, "stock", "WIDGET", "--warehouse", "HOU1")
    assert code == 0 and "HOU1" in out and "DAL1" not in out


def test_unknown_sku_or_warehouse_is_one_clear_line(capsys: pytest.CaptureFixture[str], db_path: Path, stocked: World) -> None:
    code, out, err = _run(capsys, db_path, "stock", "NOPE")
    assert code == 1 and err.strip() == "depot: error: unknown SKU or barcode NOPE" and out == ""
    code, _, err = _run(capsys, db_path, "stock", "WIDGET", "--warehouse", "XX9")
    assert code == 1 and err.strip() == "depot: error: unknown warehouse XX9"


def test_count_flow_from_the_shell_is_blind_and_needs_another_manager(
        capsys: pytest.CaptureFixture[str], db_path: Path, stocked: World) -> None:
    code, out, _ = _run(capsys, db_path, "count", "create", "--warehouse", "DAL1", "A-02", "--user", "wes", "--json")
    number = json.loads(out)[0]["number"]
    assert code == 0 and number.startswith("DAL-CC-")
    assert _run(capsys, db_path, "count", "start", number, "--user", "wes")[0] == 0
    code, out, _ = _run(capsys, db_path, "count", "sheet", number, "--user", "wes", "--json")
    sheet = json.loads(out)
    assert [ln["sku"] for ln in sheet["lines"]] == ["WIDGET"] and "expected" not in out and ": 40" not in out
    code, _, err = _run(capsys, db_path, "count", "enter", number, "WIDGET=1.5", "--user", "wes")
    assert code == 1 and "whole number" in err
    code, out, _ = _run(capsys, db_path, "count", "enter", number, "WIDGET=30", "--user", "wes")
    assert "recount needed" in out
    code, out, _ = _run(capsys, db_path, "count", "enter", number, "WIDGET=30", "--user", "rita")
    assert "waiting for a manager" in out
    code, _, err = _run(capsys, db_path, "count", "approve", number, "--user", "wes")
    assert code == 1 and "may not approve counts: that needs the manager or admin role" in err
    code, out, _ = _run(capsys, db_path, "count", "approve", number, "--user", "mike")
    assert code == 0
    code, out, _ = _run(capsys, db_path, "stock", "WIDGET", "--warehouse", "DAL1", "--json")
    assert json.loads(out)["on_hand"] == 30


def test_transfer_flow_from_the_shell(capsys: pytest.CaptureFixture[str], db_path: Path, stocked: World) -> None:
    code, out, _ = _run(capsys, db_path, "transfer", "create", "--from", "DAL1", "--to", "HOU1", "WIDGET=15", "--user", "wes")
    assert code == 0
    number = out.split(":")[0]
    assert _run(capsys, db_path, "transfer", "ship", number, "--user", "wes")[0] == 0
    doc = json.loads(_run(capsys, db_path, "stock", "WIDGET", "--json")[1])
    assert {w["warehouse"]: (w["on_hand"], w["in_transit_out"], w["in_transit_in"]) for w in doc["warehouses"]} == {
        "DAL1": (25, 15, 0), "HOU1": (2, 0, 15)}
    code, _, err = _run(capsys, db_path, "transfer", "receive", number, "WIDGET=16", "--user", "rita")
    assert code == 1 and "more than the 15 shipped" in err
    assert _run(capsys, db_path, "transfer", "receive", number, "--bin", "A-03", "--user", "rita")[0] == 0
    code, _, err = _run(capsys, db_path, "transfer", "receive", number, "--user", "rita")
    assert code == 1 and "already received" in err
    rows = json.loads(_run(capsys, db_path, "transfer", "list", "--json")[1])
    assert [(r["number"], r["status"], r["units"]) for r in rows] == [(number, "received", 15)]


def test_rma_flow_from_the_shell(capsys: pytest.CaptureFixture[str], db_path: Path, stocked: World) -> None:
    code, out, err = _run(capsys, db_path, "rma", "authorise", "--customer", "BUILDCO", "--warehouse", "DAL1",
                          "WIDGET=3:2.0000", "--user", "rita")
    assert code == 0, err
    number = out.split(":")[0]
    assert _run(capsys, db_path, "rma", "receive", number, "--user", "rita")[0] == 0
    assert _run(capsys, db_path, "rma", "inspect", number, "WIDGET=ok", "--user", "rita")[0] == 0
    code, out, _ = _run(capsys, db_path, "rma", "dispose", number, "WIDGET=restock:A-03", "--user", "rita")
    assert code == 0 and "credit request DAL-CR-" in out and "6.0000 USD" in out
    doc = json.loads(_run(capsys, db_path, "rma", "show", number, "--json")[1])
    assert doc["status"] == "closed" and doc["credit_request"]["amount"] == "6.0000"
