"""Secrets on a machine without an OS keyring: the real ``keyring`` package with no backend (what
a stock Linux desktop without a Secret Service, a server or a container has), the encrypted file
fallback, this-session-only, and a keyring that refuses."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backend import KeyringBackend
from keyring.backends import fail
from keyring.errors import KeyringLocked

from app.services import secrets
from app.services.secrets import SecretStoreError
from app.services.settings import CarrierAccount, Settings


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Settings]:
    """The real keyring package, with the backend it picks on a machine that has none."""
    monkeypatch.delenv("DEPOT_KEYRING", raising=False)
    monkeypatch.delenv(secrets.PASSPHRASE_ENV, raising=False)
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    secrets.forget_choice()
    try:
        yield Settings(tmp_path / "cfg" / "settings.json")
    finally:
        keyring.set_keyring(before)
        secrets.forget_choice()


def test_without_a_keyring_nothing_is_found_and_storing_says_what_to_do(no_keyring: Settings) -> None:
    with pytest.raises(keyring.errors.NoKeyringError):  # what the app used to show as a traceback
        keyring.get_password("depot", "x")
    assert no_keyring.get_secret("server.password") is None
    st = no_keyring.secret_store()
    assert st.kind == "none" and st.text.startswith("No system keyring on this machine: choose where Depot keeps")
    with pytest.raises(SecretStoreError, match=r"this machine has no system keyring .*: server.password was not "
                                               r"stored\. Choose where Depot keeps secrets in Settings > General"):
        no_keyring.set_secret("server.password", "hunter2")
    with pytest.raises(SecretStoreError):
        no_keyring.save_carrier_account(CarrierAccount("UPS", "A1"), secret="s3")
    assert no_keyring.carrier_accounts() == []  # refused before anything was written


def test_the_encrypted_file_keeps_secrets_across_sessions_and_refuses_a_wrong_passphrase(
        no_keyring: Settings, tmp_path: Path) -> None:
    secrets.unlock_file("correct horse")
    no_keyring.set_secret("server.password", "hunter2")
    no_keyring.save_carrier_account(CarrierAccount("UPS", "A1"), secret="s3")  # what the carriers helper does
    path = tmp_path / "cfg" / "secrets.enc"
    raw = path.read_text()
    assert "hunter2" not in raw and "s3\"" not in raw and path.stat().st_mode & 0o077 == 0
    assert no_keyring.secret_store().kind == "file"
    secrets.forget_choice()  # the next session
    assert no_keyring.get_secret("server.password") is None
    with pytest.raises(SecretStoreError, match="that passphrase does not open .*secrets.enc: nothing was read"):
        secrets.unlock_file("wrong")
    secrets.unlock_file("correct horse")
    assert no_keyring.get_secret("server.password") == "hunter2"
    assert no_keyring.carrier_secret("UPS", "A1") == "s3"
    json.loads(raw)  # a plain JSON file of tokens


def test_the_passphrase_from_the_environment_opens_it_for_the_command_line(
        no_keyring: Settings, monkeypatch: pytest.MonkeyPatch) -> None:
    secrets.unlock_file("pp")
    no_keyring.set_secret("sync:depot_dal", "pw1")
    secrets.forget_choice()
    monkeypatch.setenv(secrets.PASSPHRASE_ENV, "pp")
    assert no_keyring.get_secret("sync:depot_dal") == "pw1"


def test_this_session_only_keeps_secrets_in_memory(no_keyring: Settings, tmp_path: Path) -> None:
    secrets.use_session_only()
    no_keyring.set_secret("smtp:password", "m")
    assert no_keyring.get_secret("smtp:password") == "m"
    assert "this session only" in no_keyring.secret_store().text
    assert not (tmp_path / "cfg" / "secrets.enc").exists()
    secrets.forget_choice()
    assert no_keyring.get_secret("smtp:password") is None


class _Locked(KeyringBackend):
    priority = 5  # type: ignore[assignment]

    def get_password(self, service: str, username: str) -> str | None:
        raise KeyringLocked("the collection is locked")

    def set_password(self, service: str, username: str, password: str) -> None:
        raise KeyringLocked("the collection is locked")

    def delete_password(self, service: str, username: str) -> None:
        raise KeyringLocked("the collection is locked")


def test_a_keyring_that_refuses_gives_one_sentence(no_keyring: Settings) -> None:
    keyring.set_keyring(_Locked())
    with pytest.raises(SecretStoreError, match=r"the system keyring refused to store server.password "
                                               r"\(KeyringLocked: the collection is locked\); unlock it"):
        no_keyring.set_secret("server.password", "x")
    no_keyring.delete_secret("server.password")  # best effort: no error
