"""A routine pull reads the server's rows before it takes the local write lock: a workstation
writing while the pull is on the wire is never made to wait on the network."""

from __future__ import annotations

import sqlite3

import pytest

from app.services.replication import pull as pull_mod
from tests.sync.conftest import Net, Site
from tests.sync.helpers import receive


def _writes_during_pull(net: Net, site: Site) -> list[str]:
    """Pull with a progress hook that writes through a second connection that will not wait."""
    outcomes: list[str] = []

    def progress(table: str, _done: int, _total: int, _rows: int) -> None:
        conn = sqlite3.connect(site.path, timeout=0, isolation_level=None)
        try:
            conn.execute("BEGIN IMMEDIATE")
            conn.execute("INSERT INTO sync_state (key, value) VALUES ('probe', ?) "
                         "ON CONFLICT (key) DO UPDATE SET value = excluded.value", (table,))
            conn.execute("COMMIT")
            outcomes.append("wrote")
        except sqlite3.OperationalError as e:
            outcomes.append(str(e))
        finally:
            conn.close()

    res = site.sync(progress=progress)
    assert res.pulled > 0
    return outcomes


def test_local_writes_go_through_while_a_routine_pull_reads_the_server(net: Net) -> None:
    receive(net.hou, net.world, "HOU", "WIDGET", 24)
    net.hou.sync()
    outcomes = _writes_during_pull(net, net.dal)
    assert outcomes and set(outcomes) == {"wrote"}
    assert net.dal.scalar("SELECT sum(qty) FROM stock_move WHERE owner_branch_id = :b",
                          b=net.world.hou.id.hex) == 24


def test_a_pull_bigger_than_the_read_ahead_streams_under_the_lock(net: Net, monkeypatch: pytest.MonkeyPatch) -> None:
    """The other side of the rule (and proof the test above can fail): past the read-ahead budget
    the rows are applied as they stream, inside the write transaction."""
    monkeypatch.setattr(pull_mod, "READ_AHEAD_ROWS", 0)
    receive(net.hou, net.world, "HOU", "WIDGET", 24)
    net.hou.sync()
    outcomes = _writes_during_pull(net, net.dal)
    assert "database is locked" in outcomes
