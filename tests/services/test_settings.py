"""Settings: plain values in a JSON file, secrets only in the keyring (memory backend in tests)."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from app.services.errors import NotFound, PermissionDenied, ValidationError
from app.services.settings import CarrierAccount, Settings
from tests.factories import World


def test_memory_keyring_is_used_in_tests() -> None:
    assert os.environ["DEPOT_KEYRING"] == "memory"


def test_values_survive_a_restart(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    s.set("server.dsn", "postgresql://depot@hq/depot")
    s.set("db.path", "/data/branch.db")
    again = Settings(tmp_path / "settings.json")
    assert again.get("server.dsn") == "postgresql://depot@hq/depot"
    assert again.get("missing", "x") == "x"


def test_carrier_secret_goes_to_keyring_never_the_file(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    s = Settings(path)
    s.save_carrier_account(CarrierAccount("ups", " 12345 ", "client-abc"), secret="s3cr3t-VALUE")
    raw = path.read_text()
    assert "s3cr3t-VALUE" not in raw
    assert json.loads(raw)["carrier.accounts"] == [{"carrier": "UPS", "account_id": "12345", "client_id": "client-abc"}]
    assert Settings(path).carrier_secret("UPS", "12345") == "s3cr3t-VALUE"
    # saving again without a secret keeps it; an empty secret deletes it
    s.save_carrier_account(CarrierAccount("UPS", "12345", "client-xyz"))
    assert s.carrier_secret("UPS", "12345") == "s3cr3t-VALUE"
    assert [a.client_id for a in s.carrier_accounts()] == ["client-xyz"]
    s.save_carrier_account(CarrierAccount("UPS", "12345", "client-xyz"), secret="")
    assert s.carrier_secret("UPS", "12345") is None
    s.delete_carrier_account("UPS", "12345")
    assert s.carrier_accounts() == []


def test_secret_looking_keys_are_refused_in_the_file(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(ValidationError, match="server.password: is a secret"):
        s.set("server.password", "hunter2")
    assert not (tmp_path / "settings.json").exists()
    s.set_secret("server.password", "hunter2")
    assert s.get_secret("server.password") == "hunter2"


def test_carrier_account_needs_carrier_and_account(tmp_path: Path) -> None:
    s = Settings(tmp_path / "settings.json")
    with pytest.raises(ValidationError, match="account id: is required"):
        s.save_carrier_account(CarrierAccount("UPS", "  "), secret="x")
    assert s.carrier_secret("UPS", "") is None


def test_a_damaged_file_does_not_stop_the_app(tmp_path: Path) -> None:
    path = tmp_path / "settings.json"
    path.write_text("{not json")
    s = Settings(path)
    assert s.get("server.dsn") is None
    s.set("server.dsn", "x")
    assert json.loads(path.read_text()) == {"server.dsn": "x"}


def test_only_admin_sets_this_databases_branch(session: Session, world: World) -> None:
    from app.services import settings as st

    assert st.local_branch(session) is None
    with pytest.raises(PermissionDenied):
        st.set_local_branch(session, world.actors["mike"], world.dal.id)
    chosen = st.set_local_branch(session, world.actors["root"], world.dal.id)
    assert chosen.code == "DAL" and st.local_branch(session) == chosen
    assert [b.code for b in st.branch_choices(session)] == ["DAL", "HOU", "HQ"]
    with pytest.raises(NotFound):
        st.set_local_branch(session, world.actors["root"], world.wh_dal.id)
    assert st.local_branch(session) == chosen
