"""Settings > Carriers driven as an admin would: add an account, test it against a running
sandbox, a wrong secret, the sandbox stopped; secrets only in the keyring; read-only for others."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.services.carriers import accounts as ac
from app.services.carriers.sandbox.server import DEMO_SECRET, Sandbox
from tests.factories import World
from tests.services.carriers.test_accounts import add_carriers
from tests.views.conftest import MakeCtx

WRONG = "WRONG-SECRET-77"


def _panel(qtbot: Any, ctx: Any) -> tuple[Any, Any]:
    """The Settings screen and its Carriers panel. The test holds the screen (the panel's C++
    object lives as long as it does); the panel must not: a child holding its top-level window
    makes a cycle that only the garbage collector frees, and PySide 6.11 segfaults destroying a
    live window from inside the collector (this file crashed so in full runs)."""
    from app.views.settings.screen import SettingsScreen

    screen = SettingsScreen(ctx)
    qtbot.addWidget(screen)
    assert "Carriers" in screen.section_titles()
    return screen, screen.sections["Carriers"]


def test_add_account_then_test_connection_wrong_secret_and_sandbox_down(
        qtbot: Any, world: World, session: Session, make_ctx: MakeCtx, tmp_path: Path) -> None:
    add_carriers(session, world)
    session.commit()
    ctx = make_ctx(world.actors["root"])
    _screen, p = _panel(qtbot, ctx)
    qtbot.waitUntil(lambda: p.carrier.count() == 3)
    with Sandbox() as sb:
        ac.set_sandbox_url(sb.url)
        try:
            p.new.click()
            p.carrier.setCurrentIndex(p.carrier.findData("UPS"))
            assert p.per_minute.value() == 600  # UPS's published pace
            p.account_number.setText("A1B2C3")
            p.client_id.setText("depot-dal")
            p.secret.setText(DEMO_SECRET)
            p.endpoint.setCurrentText("sandbox")
            p.services.item(1).setCheckState(p.services.item(1).checkState().Unchecked)  # only one service
            p.save.click()
            qtbot.waitUntil(lambda: p.table.rowCount() == 1 and p.selected() is not None)
            assert p.table.item(0, 7).text() == "stored" and p.table.item(0, 4).text() == "03"
            assert p.status.text().startswith("Saved UPS A1B2C3") and "not in the database" in p.status.text()
            p.test.click()
            qtbot.waitUntil(lambda: p.test.isEnabled() and "Testing" not in p.status.text(), timeout=15000)
            assert p.status.text().startswith(f"Connected to {sb.url}")
            # a wrong secret
            p.secret.setText(WRONG)
            p.save.click()
            qtbot.waitUntil(lambda: p.status.text().startswith("Saved"))
            qtbot.waitUntil(lambda: p.selected() is not None)
            p.test.click()
            qtbot.waitUntil(lambda: p.test.isEnabled() and "Testing" not in p.status.text(), timeout=15000)
            assert "refused the credentials" in p.status.text() and WRONG not in p.status.text()
            url = sb.url
        finally:
            ac.set_sandbox_url(None)
    ac.set_sandbox_url(url)  # the sandbox is gone: nothing listens there now
    try:
        p.test.click()
        qtbot.waitUntil(lambda: p.test.isEnabled() and "Testing" not in p.status.text(), timeout=15000)
        assert "could not reach" in p.status.text() and "refused" in p.status.text()
    finally:
        ac.set_sandbox_url(None)
    # the secret is in the keyring only: not in the settings file, not in the database
    assert WRONG not in (tmp_path / "settings.json").read_text() if (tmp_path / "settings.json").exists() else True
    with sqlite3.connect(str(ctx.engine.url.database)) as con:
        assert WRONG not in "\n".join(con.iterdump())


def test_bad_input_is_refused_in_words(qtbot: Any, world: World, session: Session, make_ctx: MakeCtx) -> None:
    add_carriers(session, world)
    session.commit()
    _screen, p = _panel(qtbot, make_ctx(world.actors["root"]))
    qtbot.waitUntil(lambda: p.carrier.count() == 3)
    p.new.click()
    p.carrier.setCurrentIndex(p.carrier.findData("FEDEX"))
    p.endpoint.setCurrentText("ftp://nowhere")
    p.account_number.setText("510087")
    p.save.click()
    qtbot.waitUntil(lambda: "endpoint" in p.status.text())
    assert p.table.rowCount() == 0


def test_read_only_for_a_non_admin(qtbot: Any, world: World, make_ctx: MakeCtx) -> None:
    _screen, p = _panel(qtbot, make_ctx(world.actors["mike"]))
    assert not p.save.isEnabled() and not p.secret.isEnabled() and p.test.isEnabled()
