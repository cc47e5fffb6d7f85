"""Settings on a machine without an OS keyring (the real ``keyring`` package, no backend): every
role opens it without a traceback, it says where secrets go in one sentence, a secret that cannot
be kept changes nothing, and the encrypted file (passphrase asked once) keeps it."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import keyring
import pytest
from keyring.backends import fail
from pytestqt.qtbot import QtBot

from app.services import secrets
from app.views.main_window import MainWindow
from app.views.placeholder import ErrorPage
from app.views.settings import secrets_row
from app.views.settings.screen import SettingsScreen
from tests.factories import World
from tests.views.conftest import MakeCtx


@pytest.fixture
def no_keyring(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Path]:
    monkeypatch.delenv("DEPOT_KEYRING", raising=False)
    monkeypatch.delenv(secrets.PASSPHRASE_ENV, raising=False)
    monkeypatch.setenv("DEPOT_CONFIG_DIR", str(tmp_path / "cfg"))
    before = keyring.get_keyring()
    keyring.set_keyring(fail.Keyring())
    secrets.forget_choice()
    yield tmp_path / "cfg"
    keyring.set_keyring(before)
    secrets.forget_choice()


@pytest.mark.qt_log_ignore("propagateSizeHints")
def test_every_role_opens_settings_without_a_keyring(qtbot: QtBot, world: World, make_ctx: MakeCtx,
                                                     no_keyring: Path) -> None:
    for name in ("alice", "bob", "rita", "wes", "mike", "root"):
        ctx = make_ctx(world.actors[name])
        win = MainWindow(ctx, open_key="settings")
        qtbot.addWidget(win)
        page = win.open_screen("settings")
        if page is None:  # this role may not open Settings: the rail says so
            continue
        assert not isinstance(page, ErrorPage), name
        assert isinstance(page, SettingsScreen)
        text = page.general.secrets_row.label.text()
        assert text.startswith("No system keyring on this machine: choose where Depot keeps secrets"), name
        assert ctx.runner.wait_idle(10000)
        win.close()


def test_a_secret_that_cannot_be_kept_changes_nothing_then_the_encrypted_file_keeps_it(
        qtbot: QtBot, world: World, make_ctx: MakeCtx, no_keyring: Path, tmp_path: Path,
        monkeypatch: pytest.MonkeyPatch) -> None:
    ctx = make_ctx(world.actors["root"])
    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    g = screen.general
    g.db_next.setText("/somewhere/else.db")
    g.dsn.setText("postgresql://depot_dal@hq/depot")
    g.server_password.setText("PW-1")
    g.save.click()
    assert g.status.text().startswith("this machine has no system keyring")
    assert "sync:depot_dal was not stored" in g.status.text()
    assert not (tmp_path / "settings.json").exists() or "else.db" not in (tmp_path / "settings.json").read_text()
    assert g.server_password.text() == "PW-1"  # still there to save again

    row = g.secrets_row
    monkeypatch.setattr(secrets_row.PassphraseQuestion, "ask", staticmethod(lambda _p, new: "wrong" if not new else "pp"))
    with qtbot.waitSignal(row.changed):
        row.file_button.click()
    assert row.label.text().startswith("No system keyring on this machine: secrets are kept in Depot's encrypted file")
    assert row.file_button.isHidden() and row.session_button.isHidden()
    g.save.click()
    qtbot.waitUntil(lambda: g.status.text() == "saved", timeout=10000)
    assert "PW-1" not in (no_keyring / "secrets.enc").read_text()
    assert secrets.EncryptedFileStore(no_keyring / "secrets.enc", "pp").get("sync:depot_dal") == "PW-1"
    assert "else.db" in json.dumps(json.loads((tmp_path / "settings.json").read_text()))
    secrets.forget_choice()  # a new session: a wrong passphrase is refused on the page
    row.refresh()
    assert row.file_button.text() == "Unlock encrypted file…"
    row.file_button.click()
    assert row.error.text().startswith("that passphrase does not open")
