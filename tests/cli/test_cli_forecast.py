"""`depot forecast run|show|accuracy|evaluate` as a buyer types them; JSON never holds NaN/Infinity."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.cli import run
from app.services.forecast import samples
from tests.factories import World
from tests.services.test_forecast_demand import TODAY, _sell


def _run(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    code = run(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def _strict_json(text: str) -> object:
    def refuse(c: str) -> None:
        raise AssertionError(f"{c} in JSON output")
    return json.loads(text, parse_constant=refuse)  # type: ignore[arg-type]


def test_run_show_and_accuracy(capsys: pytest.CaptureFixture[str], session: Session, world: World,
                               db_path: Path) -> None:
    _sell(session, world, "BOLT", tuple(50 + k % 5 for k in range(30)))
    _sell(session, world, "WIDGET", (0,) * 20 + (3,))  # one sale: too short
    session.commit()
    code, out, _ = _run(capsys, "--db", str(db_path), "forecast", "run", "--json", "--date", TODAY.isoformat())
    assert code == 0
    doc = _strict_json(out)
    assert doc["series"] == 2 and doc["classes"]["too short"] == 1  # type: ignore[index]
    code, out, _ = _run(capsys, "--db", str(db_path), "forecast", "show", "bolt", "dal1")
    assert code == 0 and out.startswith("BOLT at DAL1: ") and "weeks from 2026-11-23" in out
    code, out, _ = _run(capsys, "--db", str(db_path), "forecast", "show", "WIDGET", "DAL1", "--json")
    one = _strict_json(out)
    assert one["class"] == "too short" and one["mae"] is None  # type: ignore[index]
    code, out, _ = _run(capsys, "--db", str(db_path), "forecast", "show", "MILK", "DAL1")
    assert code == 0 and "no forecast for MILK at DAL1" in out
    code, out, err = _run(capsys, "--db", str(db_path), "forecast", "show", "NOPE", "DAL1")
    assert code == 1 and "unknown item NOPE" in err
    code, out, _ = _run(capsys, "--db", str(db_path), "forecast", "accuracy", "--json")
    assert _strict_json(out)["series"] == 2  # type: ignore[index]
    code, _out, err = _run(capsys, "--db", str(db_path), "forecast", "run", "--horizon", "0")
    assert code == 1 and "horizon: 0 must be between 1 and 104" in err


def test_evaluate_json_on_awkward_data(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    data = samples.to_long_csv(samples.make_series(120, seed=4))
    # a constant series (MASE scale zero), a one-point series and one too short for the horizon
    data += b"FLAT,2015-01,5\n" + b"".join(f"FLAT,2015-{m:02d},5\n".encode() for m in range(2, 13))
    data += b"FLAT,2016-01,5\nFLAT,2016-02,5\nONE,2015-01,3\n"
    f = tmp_path / "public.csv"
    f.write_bytes(data)
    code, out, err = _run(capsys, "forecast", "evaluate", str(f), "--horizon", "6", "--season", "12", "--json")
    assert code == 0, err
    doc = _strict_json(out)
    assert doc["bad_rows"] == 2 and doc["methods"]["Depot selection"]["avg_rel_mae"] < 1.0  # type: ignore[index]
    assert doc["methods"]["Depot selection"]["left_out_of_mase"] >= 1  # type: ignore[index]
    assert "seconds" in doc  # type: ignore[operator]
    code, out, _ = _run(capsys, "forecast", "evaluate", str(f), "--horizon", "6", "--season", "12")
    assert code == 0 and "Depot selection" in out and "rows left out" in out
    code, _out, err = _run(capsys, "forecast", "evaluate", str(tmp_path / "nope.csv"), "--horizon", "6")
    assert code == 1 and "no such file" in err


def test_policy_eta_and_anomaly_commands(capsys: pytest.CaptureFixture[str], session: Session, world: World,
                                         db_path: Path) -> None:
    _sell(session, world, "BOLT", tuple(50 + k % 5 for k in range(60)))
    session.commit()
    db = str(db_path)
    code, out, err = _run(capsys, "--db", db, "policy", "set", "BOLT", "DAL1", "--policy", "fixed_minmax", "--min",
                          "100", "--max", "300", "--user", "alice")
    assert code == 0 and out.strip() == "BOLT at DAL1: fixed_minmax (min 100, max 300)", err
    code, out, _ = _run(capsys, "--db", db, "policy", "show", "bolt", "dal1")
    assert out.strip() == "BOLT at DAL1: fixed min/max: min 100, max 300"
    code, _out, err = _run(capsys, "--db", db, "policy", "set", "BOLT", "DAL1", "--policy", "computed", "--user", "rita")
    assert code == 1 and "rita may not" in err
    code, out, _ = _run(capsys, "--db", db, "policy", "report", "--sku", "BOLT", "--warehouse", "DAL1", "--json",
                        "--date", TODAY.isoformat())
    rep = _strict_json(out)
    assert code == 0 and [p["policy"] for p in rep["policies"]] == ["forecast", "computed", "fixed min/max"]  # type: ignore[index]
    code, out, _ = _run(capsys, "--db", db, "eta", "evaluate", "--json")
    assert code == 0 and "fewer than 50 delivered shipments" in _strict_json(out)["note"]  # type: ignore[index]
    code, out, _ = _run(capsys, "--db", db, "eta", "risk", "--json")
    assert code == 0 and "no ETA model" in _strict_json(out)["note"]  # type: ignore[index]
    code, _out, err = _run(capsys, "--db", db, "eta", "train")
    assert code == 1 and "no delivered shipments to learn from yet" in err
    code, out, _ = _run(capsys, "--db", db, "anomaly", "scan", "--json", "--date", TODAY.isoformat())
    assert code == 0 and _strict_json(out)["raised"] == 0  # type: ignore[index]
