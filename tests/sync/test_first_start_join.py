"""A new workstation joins its branch from the first-start dialog's service: a new file filled by the
first sync with the branch login; a refused login leaves no file behind."""

from __future__ import annotations

from pathlib import Path

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
