"""A real client process SIGKILLed at the worst moments of push and of apply loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from app.services.replication.engine import sync_once
from app.services.stock import on_hand
from tests.sync.conftest import Net, quiesce, server_hashes, site_hashes
from tests.sync.helpers import new_order, receive

ROOT = Path(__file__).resolve().parents[2]


def _sync_process(db: Path, dsn: str, fault: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DEPOT_SYNC_FAULT": fault, "DEPOT_KEYRING": "memory"}
    return subprocess.run([sys.executable, "-m", "app", "--db", str(db), "sync", "--once", "--dsn", dsn],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)


def test_killed_after_the_server_committed_a_batch(net: Net) -> None:
    receive(net.dal, net.world, "DAL", "BOLT", 11)
    new_order(net.dal, net.world, "DAL", "DAL-SO-000200")
    pending = net.dal.scalar("SELECT count(*) FROM sync_outbox")
    receipts = net.server.query("SELECT count(*) FROM depot_receipt")[0][0]
    proc = _sync_process(net.dal.path, net.dal.dsn, "after-push-commit")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    assert net.dal.scalar("SELECT count(*) FROM sync_outbox") == pending  # the outbox survived the crash
    assert net.server.query("SELECT count(*) FROM depot_receipt")[0][0] == receipts + 1  # the server has it
    quiesce(net.dal, net.hou)
    assert net.server.query("SELECT count(*) FROM stock_move")[0][0] == 1  # not duplicated
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)


def test_killed_while_applying_pulled_rows(net: Net) -> None:
    receive(net.hou, net.world, "HOU", "BOLT", 9)
    new_order(net.hou, net.world, "HOU", "HOU-SO-000200")
    net.hou.sync()
    cursor = net.dal.scalar("SELECT value FROM sync_state WHERE key = 'cursor'")
    proc = _sync_process(net.dal.path, net.dal.dsn, "during-apply")
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    # the apply transaction died with the process: no rows, no cursor move, capture still on
    assert net.dal.scalar("SELECT count(*) FROM stock_move") == 0
    assert net.dal.scalar("SELECT value FROM sync_state WHERE key = 'cursor'") == cursor
    assert net.dal.scalar("SELECT enabled FROM sync_capture") == 1
    net.dal.sync()
    with net.dal.session() as s:
        assert on_hand(s, net.world.items["BOLT"].id) == 9
    assert net.dal.scalar("SELECT count(*) FROM sync_outbox") == 0  # pulled rows are not echoed back
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)


@pytest.mark.slow
def test_server_restart_mid_life_loses_nothing(net: Net) -> None:
    """Restarts the real cluster (DEPOT_SLOW=1 only: others share it), then everything converges."""
    import shutil
    import time

    if not shutil.which("pg_ctlcluster"):
        pytest.skip("pg_ctlcluster not available")
    receive(net.dal, net.world, "DAL", "BOLT", 6)
    version = sorted(os.listdir("/etc/postgresql"))[0]  # the cluster .ci/run starts, whatever its version
    subprocess.run(["pg_ctlcluster", "--skip-systemctl-redirect", version, "main", "restart"], check=True, timeout=120)
    deadline = time.monotonic() + 60
    while True:
        res = sync_once(net.dal.engine, net.dal.dsn)
        if res.ok or time.monotonic() > deadline:
            break
        assert res.pending >= 1  # nothing dropped while the server is away
        time.sleep(0.5)
    assert res.ok, res.error
    quiesce(net.dal, net.hou)
    assert site_hashes(net.dal) == site_hashes(net.hou) == server_hashes(net.server)
