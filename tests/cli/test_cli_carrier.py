"""`depot carrier parse` on every published fixture (the JSON shape support staff and the
checks read), its one-line errors, and the account commands against a running sandbox."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services.carriers import accounts as ac
from app.services.carriers.sandbox.server import Sandbox
from tests.factories import World
from tests.services.carriers.test_accounts import add_carriers

FIX = Path(__file__).resolve().parents[2] / ".." / "shared" / "fixtures" / "carriers"


@pytest.mark.parametrize("path", sorted(FIX.glob("*/*.json")), ids=lambda p: f"{p.parent.name}/{p.name}")
def test_parse_every_fixture_as_json(path: Path, capsys: Any) -> None:
    assert run(["carrier", "parse", "--carrier", path.parent.name, str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert set(out) >= {"outcome", "retry_after", "shipments"}
    for s in out["shipments"]:
        assert set(s) >= {"tracking_number", "outcome", "status", "raw_status", "eta_date", "events", "pod"}
        assert set(s["pod"]) >= {"signed_by", "at"}
        for e in s["events"]:
            assert set(e) >= {"at", "status", "raw_code", "description", "location"}


def test_parse_with_status_and_retry_after(capsys: Any) -> None:
    path = FIX / "fedex" / "track_v1_error_examples_by_status.json"
    assert run(["carrier", "parse", "--carrier", "fedex", str(path), "--http-status", "401", "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["outcome"] == "auth_failed"
    dhl = FIX / "dhl" / "track_shipments_404_problem.json"
    assert run(["carrier", "parse", "--carrier", "dhl", str(dhl), "--http-status", "429", "--retry-after", "30",
                "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["outcome"] == "rate_limited" and out["retry_after"] == 30


def test_parse_errors_are_one_line(tmp_path: Path, capsys: Any) -> None:
    assert run(["carrier", "parse", "--carrier", "ups", str(tmp_path / "none.json")]) == 1
    err = capsys.readouterr().err
    assert err.startswith("depot: error: FILE") and err.count("\n") == 1
    assert run(["carrier", "parse", "--carrier", "ups", str(FIX / "ups" / "track_v1_auth_error.json"),
                "--http-status", "999"]) == 1
    assert "--http-status" in capsys.readouterr().err


def test_accounts_test_track_and_label_from_the_command_line(world: World, session: Session, db_path: Path,
                                                            tmp_path: Path, capsys: Any,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    add_carriers(session, world)
    session.commit()
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    monkeypatch.setenv("CARRIER_SECRET", "sandbox-demo-secret")
    db = ["--db", str(db_path)]
    with Sandbox() as sb:
        ac.set_sandbox_url(sb.url)
        try:
            assert run(["carrier", "account-add", *db, "--user", "root", "--carrier", "FEDEX", "--account-number",
                        "510087", "--client-id", "cid", "--endpoint", "sandbox", "--secret-env", "CARRIER_SECRET",
                        "--name", "DAL FedEx"]) == 0
            assert run(["carrier", "accounts", *db, "--json"]) == 0
            capsys.readouterr()
            assert run(["carrier", "account-test", *db, "DAL FedEx"]) == 0
            assert capsys.readouterr().out.startswith("ok: Connected to")
            out = tmp_path / "label.pdf"
            assert run(["carrier", "label", *db, "--account", "DAL FedEx", "--from-zip", "75261", "--to-zip", "30320",
                        "--weight-g", "1200", "--service", "FEDEX_2_DAY", "--out", str(out)]) == 0
            number = capsys.readouterr().out.split()[0]
            assert out.read_bytes().startswith(b"%PDF")
            assert run(["carrier", "track", *db, "--account", "DAL FedEx", number, "--json"]) == 0
            got = json.loads(capsys.readouterr().out)
            assert got["shipments"][0]["tracking_number"] == number and got["shipments"][0]["status"] == "label_created"
        finally:
            ac.set_sandbox_url(None)
    assert "sandbox-demo-secret" not in json.dumps(list((tmp_path / "cfg").glob("*")), default=str)
