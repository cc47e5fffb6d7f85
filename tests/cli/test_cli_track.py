"""`depot track ...` on a real database file against the real carrier sandbox, including a
workstation killed in the middle of a poll cycle (a real process, SIGKILL): the restart resumes,
no event is stored twice and no customer notice is sent twice (a real SMTP server on loopback)."""

from __future__ import annotations

import datetime as dt
import json
import os
import signal
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from app.cli import run
from app.models.messaging import EmailOutbox
from app.models.shipping import Shipment
from app.models.tracking import TrackingEvent
from app.services.settings import Settings
from tests.tracking_world import TrackWorld

SBX = "SBX{:012d}"
UPS = "1ZDEP0010{:09d}"


def _run(capsys: pytest.CaptureFixture[str], db: Path, *argv: str) -> tuple[int, str, str]:
    code = run(["--db", str(db), *argv])
    out, err = capsys.readouterr()
    return code, out, err


def _world(tw: TrackWorld, session: Session) -> None:
    for n in range(1, 9):
        tw.ship(session, SBX.format(n), status="label_created", promised=dt.date(2030, 1, 1))
    for n in range(1, 7):
        tw.ship(session, UPS.format(n), carrier="UPS", status="label_created", promised=dt.date(2030, 1, 1))
    session.commit()
    tw.at(dt.datetime.now(dt.UTC) + dt.timedelta(days=3))  # every parcel has moved on since its label


def test_poll_list_show_on_the_command_line(capsys: pytest.CaptureFixture[str], db_path: Path, tw: TrackWorld,
                                            session: Session, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    _world(tw, session)
    code, out, err = _run(capsys, db_path, "track", "poll", "--once", "--json")
    assert code == 0, err
    rep = json.loads(out)
    assert rep["shipments"] == 14 and rep["requests"] >= 7 and rep["new_events"] > 14
    assert rep["cpu_ms_per_shipment"] is not None and rep["notices_queued"] >= 1 and rep["mail_sent"] == 0
    code, out, err = _run(capsys, db_path, "track", "list", "--status", "all", "--json")
    listing = json.loads(out)
    assert code == 0 and listing["counts"]["total"] == 14 and len(listing["shipments"]) == 14
    assert {s["status"] for s in listing["shipments"]} - {"label_created"}  # they moved
    number = listing["shipments"][0]["number"]
    code, out, err = _run(capsys, db_path, "track", "show", number)
    assert code == 0 and out.startswith(number) and "timeline (newest first):" in out
    code, out, err = _run(capsys, db_path, "track", "show", UPS.format(2), "--json")
    detail = json.loads(out)
    assert code == 0 and detail["tracking_number"] == UPS.format(2) and detail["timeline"]
    code, out, err = _run(capsys, db_path, "track", "list", "--status", "all", "--carrier", "UPS")
    assert code == 0 and out.count("1ZDEP0010") >= 1 and "SBX" not in out


def test_policy_and_customer_notices(capsys: pytest.CaptureFixture[str], db_path: Path, tw: TrackWorld) -> None:
    code, out, err = _run(capsys, db_path, "track", "policy", "--branch", "DAL", "--set", "stale_days=7",
                          "--set", "notice-eta=no", "--user", "mike", "--json")
    assert code == 0, err
    assert json.loads(out)["stale_days"] == 7 and json.loads(out)["notice_eta"] is False
    code, out, err = _run(capsys, db_path, "track", "notices", "BUILDCO", "--email", "track@buildco.example",
                          "--events", "delivered,exception", "--user", "mike")
    assert code == 0 and "track@buildco.example (its own notice address)" in out
    assert "gets: delivered, exception" in out
    code, out, err = _run(capsys, db_path, "track", "notices", "BUILDCO", "--events", "none", "--user", "mike")
    assert code == 0 and "none (opted out)" in out


@pytest.mark.parametrize(("argv", "message"), [
    (["track", "show", "NOPE-1"], "shipment NOPE-1"),
    (["track", "list", "--risk", "soon"], "risk: must be one of late, at_risk, on_time"),
    (["track", "list", "--status", "lost"], "status: must be one of moving, trouble, delivered, all"),
    (["track", "policy", "--branch", "DAL", "--set", "stale_days=0", "--user", "mike"],
     "stale after (days): must be between 1 and 60"),
    (["track", "policy", "--branch", "DAL", "--set", "colour=red", "--user", "mike"], "colour: is not a tracking setting"),
    (["track", "policy", "--branch", "DAL", "--set", "stale_days=3", "--user", "alice"],
     "alice may not change the tracking settings: that needs the manager or admin role"),
    (["track", "notices", "BUILDCO", "--events", "sms", "--user", "mike"], "'sms' is not a notice"),
    (["track", "poll", "--once", "--limit", "0"], "--limit: must be at least 1"),
])
def test_bad_input_is_one_line_and_changes_nothing(capsys: pytest.CaptureFixture[str], db_path: Path, tw: TrackWorld,
                                                   argv: list[str], message: str) -> None:
    code, out, err = _run(capsys, db_path, *argv)
    assert code == 1 and err.startswith("depot: error: ") and message in err and err.count("\n") == 1, err


def _poll(db: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "app", "--db", str(db), "track", "poll", "--once", "--json"],
                          capture_output=True, text=True, env=env, timeout=120)


@pytest.mark.parametrize("fault", ["fetch", "apply:1"])
def test_a_workstation_killed_mid_cycle_resumes_without_doubles(db_path: Path, tw: TrackWorld, session: Session,
                                                                smtp: Any, tmp_path: Path, fault: str) -> None:
    handler, cfg = smtp
    _world(tw, session)
    config = tmp_path / "cfg"
    st = Settings(config / "settings.json")
    st.set("smtp.host", cfg.host)
    st.set("smtp.port", cfg.port)
    env = {**os.environ, "DEPOT_CONFIG_DIR": str(config), "DEPOT_CARRIER_SANDBOX": tw.sandbox.url}
    killed = _poll(db_path, {**env, "DEPOT_TRACK_FAULT": fault})
    assert killed.returncode == -signal.SIGKILL, killed.stderr
    session.commit()
    if fault == "fetch":
        assert session.scalar(select(func.count()).select_from(TrackingEvent)) == 0
    else:  # the first account's answers were committed before the kill; the second's were not
        assert session.scalar(select(func.count()).select_from(Shipment).where(Shipment.polled_at.is_not(None))) in (6, 8)
    assert not handler.messages
    again = _poll(db_path, env)
    assert again.returncode == 0, again.stderr
    rep = json.loads(again.stdout)
    session.commit()
    session.expire_all()
    assert session.scalar(select(func.count()).select_from(Shipment).where(Shipment.polled_at.is_(None))) == 0
    total = session.scalar(select(func.count()).select_from(TrackingEvent))
    distinct = session.scalar(select(func.count(func.distinct(
        TrackingEvent.tracking_number + "|" + TrackingEvent.raw_code + "|" + func.coalesce(TrackingEvent.at, "")))))
    assert total == distinct and total and total >= 14 * 3
    notices = session.scalar(select(func.count()).select_from(EmailOutbox))
    assert notices and rep["mail_sent"] == notices == len(handler.messages)
    ids = [m["Message-ID"] for m in handler.messages]
    assert len(set(ids)) == len(ids)  # each notice once
    # a third run: nothing new, nothing sent again
    third = json.loads(_poll(db_path, env).stdout)
    assert third["new_events"] == 0 and third["mail_sent"] == 0 and len(handler.messages) == notices
