"""A new workstation joins its branch from the first-start dialog's service: a new file filled by the
first sync with the branch login; a refused login leaves no file behind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from app.services import first_start
from app.services.db import open_database
from app.services.errors import ValidationError
from app.services.secrets import current as secret_store
from tests.sync.conftest import PG_HOST, PG_PORT, Net


def test_join_fills_a_new_file_with_the_branch(net: Net, tmp_path: Path) -> None:
    role = net.server.roles["DAL"]
    dsn = first_start.server_address(PG_HOST, PG_PORT, net.server.dbname, role)
    target = tmp_path / "new-ws" / "depot.db"
    seen: list[str] = []
    res = first_start.join_branch(target, dsn, "x", progress=lambda t, n, total, rows: seen.append(t))
    assert res.ok and res.pulled > 0 and seen
    eng = open_database(target)
    try:
        with eng.connect() as c:
            branch = c.execute(text("SELECT b.code FROM local_site s JOIN branch b ON b.id = s.branch_id")).scalar_one()
            items = c.execute(text("SELECT count(*) FROM item")).scalar_one()
            ws = c.execute(text("SELECT value FROM sync_state WHERE key = 'workstation'")).scalar_one()
        assert branch == "DAL" and items == len(net.world.items) and int(ws) >= 2  # a second DAL workstation
    finally:
        eng.dispose()
    assert secret_store().get(f"sync:{role}") == "x"


def test_a_refused_join_leaves_nothing(net: Net, tmp_path: Path) -> None:
    dsn = first_start.server_address(PG_HOST, PG_PORT, net.server.dbname, "no_such_login")
    target = tmp_path / "new-ws" / "depot.db"
    with pytest.raises(first_start.JoinFailed, match="could not join the branch"):
        first_start.join_branch(target, dsn)
    assert not target.exists() and not list(target.parent.iterdir())
    with pytest.raises(ValidationError, match="port"):
        first_start.server_address("h", "99999", "d", "u")
    with pytest.raises(ValidationError, match="already exists"):
        first_start.create_new(Path(__file__))


def test_a_cancelled_join_stops_the_first_sync_and_leaves_nothing(net: Net, tmp_path: Path) -> None:
    """The user cancels while the first sync copies tables: it stops after the table under way, rolls
    back and removes the new file, so the next start asks again (a half-filled file would open as
    an empty branch)."""
    role = net.server.roles["DAL"]
    dsn = first_start.server_address(PG_HOST, PG_PORT, net.server.dbname, role)
    target = tmp_path / "new-ws" / "depot.db"
    seen: list[str] = []
    with pytest.raises(first_start.JoinCancelled, match="nothing was kept"):
        first_start.join_branch(target, dsn, progress=lambda t, n, total, rows: seen.append(t),
                                cancelled=lambda: len(seen) >= 3)
    assert len(seen) == 3 and not target.exists() and not list(target.parent.iterdir())
    # and joining again afterwards works: nothing of the cancelled one is in the way
    res = first_start.join_branch(target, dsn)
    assert res.ok and res.pulled > 0


def test_the_join_page_cancels_its_first_sync_by_button_or_by_closing(net: Net, tmp_path: Path, qtbot: Any) -> None:
    """In the window: while the first sync runs, Back reads Cancel and stops it (the form stays, the
    file is gone); closing the dialog meanwhile cancels too and closes once the sync has stopped."""
    from app.views.setup.first_start import FirstStartDialog

    role = net.server.roles["DAL"]
    target = tmp_path / "ws" / "depot.db"
    dlg = FirstStartDialog(target)
    qtbot.addWidget(dlg)
    closed: list[int] = []
    dlg.rejected.connect(lambda: closed.append(1))
    dlg.join_button.click()
    dlg.host.setText(PG_HOST)
    dlg.port.setText(str(PG_PORT))
    dlg.dbname.setText(net.server.dbname)
    dlg.login.setText(role)
    dlg.join_go.click()
    assert dlg.join_back.text() == "Cancel" and not dlg.join_go.isEnabled()
    dlg.join_back.click()
    assert "Cancelling" in dlg.status.text()
    qtbot.waitUntil(lambda: "The first sync was cancelled" in dlg.status.text(), timeout=30000)
    assert "nothing was kept" in dlg.status.text() and dlg.choice is None and not target.exists()
    assert dlg.join_back.text() == "Back" and dlg.join_go.isEnabled() and dlg.stack.currentIndex() == 1

    dlg.join_go.click()
    dlg.reject()  # Esc or the window's X while it syncs
    assert not closed  # not yet: the sync stops first
    qtbot.waitUntil(lambda: bool(closed), timeout=30000)
    assert dlg.choice is None and not target.exists()
