"""Two programs syncing one branch file (the window in the background and `depot sync`).

Seen walking a server restore with the window open: the window's re-sync and `depot sync --once`
pushed the same outbox at once, and the command line failed with "server error: duplicate key value
violates unique constraint depot_receipt_pkey" twice in a row. A sync now holds the file's sync
lock (a second program waits, then gives up with a sentence, losing nothing), and a push whose batch
was committed meanwhile by another push of the same outbox counts it as received.
"""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from typing import Any

import psycopg
from sqlalchemy import text

from app.services.db import session_scope, site_id
from app.services.replication.conn import open_server
from app.services.replication.engine import sync_once
from app.services.replication.one_at_a_time import lock_path
from app.services.replication.push import push
from tests.sync.conftest import Net
from tests.sync.helpers import new_order

HOLD = """
import sys
from app.services.replication.one_at_a_time import one_sync_at_a_time
with one_sync_at_a_time(sys.argv[1]):
    print("held", flush=True)
    sys.stdin.readline()
"""


def _pending(net: Net) -> int:
    with net.dal.engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one())


def test_a_second_program_gives_up_with_a_sentence_and_loses_nothing_then_syncs(net: Net) -> None:
    w = net.world
    new_order(net.dal, w, "DAL", "DAL-SO-000301")
    before = _pending(net)
    assert before > 0
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(net.dal.path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    try:
        assert other.stdout is not None and other.stdout.readline().strip() == "held"
        t0 = time.monotonic()
        res = sync_once(net.dal.engine, net.dal.dsn, lock_wait_s=1.0)
        assert time.monotonic() - t0 >= 1.0  # it waited for the other program first
        assert not res.ok and res.error_kind == "busy"
        assert f"another Depot program (process {other.pid}) is syncing this database" in res.error
        assert res.pushed == 0 and res.pending == before == _pending(net)  # nothing sent, nothing lost
        assert net.server.query("SELECT count(*) FROM sales_order WHERE number = 'DAL-SO-000301'") == [(0,)]
        with net.dal.engine.connect() as c:  # the history says why, for the Sync screen
            assert "another Depot program" in c.execute(text(
                "SELECT error FROM sync_history ORDER BY rowid DESC LIMIT 1")).scalar_one()
    finally:
        assert other.stdin is not None
        other.stdin.write("\n")
        other.stdin.flush()
        other.wait(10)
    res = net.dal.sync()  # the other program is done: the lock is free again
    assert res.pushed == before and res.pending == 0
    assert net.server.query("SELECT count(*) FROM sales_order WHERE number = 'DAL-SO-000301'") == [(1,)]
    assert lock_path(net.dal.path).exists()


def test_a_killed_program_leaves_no_stale_lock(net: Net) -> None:
    other = subprocess.Popen([sys.executable, "-c", HOLD, str(net.dal.path)], stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, text=True)
    assert other.stdout is not None and other.stdout.readline().strip() == "held"
    other.kill()
    other.wait(10)
    new_order(net.dal, net.world, "DAL", "DAL-SO-000302")
    res = sync_once(net.dal.engine, net.dal.dsn, lock_wait_s=1.0)
    assert res.ok, res.error
    assert net.server.query("SELECT count(*) FROM sales_order WHERE number = 'DAL-SO-000302'") == [(1,)]


def test_a_batch_committed_meanwhile_by_another_push_counts_as_received(net: Net) -> None:
    """The race itself, without the lock: this push has checked the receipt (none yet) and sent its
    rows when another push of the same batch commits its receipt first."""
    new_order(net.dal, net.world, "DAL", "DAL-SO-000303")
    with net.dal.engine.connect() as c:
        first, last = c.execute(text("SELECT min(seq), max(seq) FROM sync_outbox")).one()
    with session_scope(net.dal.engine) as s:
        sid = site_id(s)
    rival = psycopg.connect(net.dal.dsn)  # the other push: its receipt of the same batch, not yet committed
    rival.execute("INSERT INTO depot_receipt (site_id, first_seq, last_seq, n_rows) VALUES (%s, %s, %s, 1)",
                  (sid, first, last))
    pg = open_server(net.dal.dsn)
    out: dict[str, Any] = {}

    def ours() -> None:
        try:
            out["stats"] = push(net.dal.engine, pg, sid, head_office=False, batch_size=10_000)
        except Exception as e:  # noqa: BLE001 - the test reads it
            out["error"] = e

    t = threading.Thread(target=ours)
    t.start()
    try:
        waiting = 0
        for _ in range(200):  # until our receipt insert waits on the rival's
            waiting = net.server.query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                                       "AND wait_event_type = 'Lock'")[0][0]
            if waiting:
                break
            time.sleep(0.05)
        assert waiting, "our push never reached its receipt"
        rival.commit()
        t.join(30)
    finally:
        rival.close()
        pg.close()
    assert "error" not in out, out.get("error")
    stats = out["stats"]
    assert stats.skipped_batches == 1 and stats.batches == 0
    assert _pending(net) == 0  # the rival has it: this site's outbox is cleared, nothing sent twice
