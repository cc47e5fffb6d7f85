"""The bench's replay client sends what a real workstation's ``sync_once`` sends (issue 20).

``depot bench sync_scale --replay`` offers the load of 1,000 workstations with simulated sites that
do no local work; its figures mean something only if each simulated sync is a real sync's server
conversation. Here one real site syncs and the replay syncs from the same state (its sync state, its
outbox batch), both on a new connection, and every statement that reaches the server (text,
parameters, isolation level, commits and rollbacks) is captured and compared.
"""

from __future__ import annotations

import re
import shutil
import sqlite3
import uuid
from typing import Any

import psycopg
import pytest
from psycopg import sql
from sqlalchemy import text

from app.models.ids import uuid7
from app.services.replication import link
from app.services.replication.conn import client_revisions
from app.services.replication.push import read_batch
from app.services.replication.server import set_selective
from bench import _replay
from tests.sync.conftest import Net, Site
from tests.sync.helpers import receive

LOG: list[tuple[Any, ...]] = []


class _Cursor(psycopg.Cursor[Any]):
    def execute(self, query: Any, params: Any = None, **kw: Any) -> Any:
        LOG.append(("execute", str(self.connection.isolation_level), _text(query, self.connection), _params(params)))
        return super().execute(query, params, **kw)

    def copy(self, statement: Any, params: Any = None, **kw: Any) -> Any:
        LOG.append(("copy", str(self.connection.isolation_level), _text(statement, self.connection), _params(params)))
        return super().copy(statement, params, **kw)


class _Connection(psycopg.Connection[Any]):
    """Records what goes to the server (an idle rollback sends nothing, so it is not recorded)."""

    def commit(self) -> None:
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            LOG.append(("commit",))
        super().commit()

    def rollback(self) -> None:
        if self.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            LOG.append(("rollback",))
        super().rollback()


def _text(q: Any, conn: psycopg.Connection[Any]) -> str:
    return q.as_string(conn) if isinstance(q, sql.Composable) else str(q)


def _params(p: Any) -> Any:
    return tuple(p) if isinstance(p, list | tuple) else (dict(p) if isinstance(p, dict) else p)


def _recording_connect(conninfo: str = "", **kw: Any) -> psycopg.Connection[Any]:
    return _Connection.connect(conninfo, cursor_factory=_Cursor, **kw)


def _capture(monkeypatch: pytest.MonkeyPatch, run: Any) -> list[tuple[Any, ...]]:
    LOG.clear()
    with monkeypatch.context() as m:
        m.setattr(psycopg, "connect", _recording_connect)
        run()
    return list(LOG)


def _normalised(log: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """The values the server hands out differ between two runs: the push transaction's id (in the
    pull's window, which skips it) and the snapshot the cursor report stores."""
    out = []
    own = 0
    for entry in log:
        if entry[0] in ("execute", "copy"):
            kind, iso, q, p = entry
            q, n = re.subn(r"txid <> ALL\('\{\d+\}'::xid8\[\]\)", "txid <> ALL('{<own push>}'::xid8[])", q)
            own += n
            if q.startswith("INSERT INTO depot_site"):
                p = (*p[:2], "<xmin>", "<snapshot>", *p[4:])
            entry = (kind, iso, q, p)
        out.append(entry)
    assert own, "the pull's window should skip the site's own push"
    return out


def _second_workstation(net: Net, site: Site, make_site: Any) -> Site:
    """Another workstation of the same branch: a copy of ``site``'s file with its own site id."""
    site.engine.dispose()
    other = make_site("dal2", site.dsn)
    other.engine.dispose()
    shutil.copy(site.path, other.path)
    with sqlite3.connect(other.path) as c:
        c.execute("UPDATE local_site SET site_id = ? WHERE id = 1", (uuid7(),))  # a UUID binds as its 16 stored bytes
        c.execute("DELETE FROM sync_state WHERE key IN ('workstation', 'reported_cursor', 'reported_at', 'last_receipt')")
    return Site(other.path, site.dsn)


@pytest.mark.parametrize("selective", [False, True], ids=["everything", "selective"])
def test_a_replayed_sync_sends_the_statements_of_a_real_one(net: Net, make_site: Any, selective: bool,
                                                             monkeypatch: pytest.MonkeyPatch) -> None:
    if selective:
        set_selective(net.server.dsn, True)
    dal = net.dal
    dal.sync()
    dal2 = _second_workstation(net, dal, make_site)
    dal = Site(dal.path, dal.dsn)
    try:
        dal2.sync()
        for qty in (1, 2, 3):  # moves of the branch's other workstation: the pull below brings them
            receive(dal2, net.world, "DAL", "BOLT", qty)
        dal2.sync()
        for qty in (4, 5):  # this site's own moves: the push
            receive(dal, net.world, "DAL", "BOLT", qty)
        dal.sync(do_push=False)  # the other workstation's first rows: a routine state to start from
        receive(dal2, net.world, "DAL", "BOLT", 6)
        dal2.sync()
        link.close_all()  # both runs below open a new connection (and ask the server for room)

        with dal.engine.connect() as c:
            state = {str(k): str(v) for k, v in c.execute(text("SELECT key, value FROM sync_state")).all()}
            site_id = str(uuid.UUID(bytes=c.execute(text("SELECT site_id FROM local_site WHERE id = 1")).scalar_one()))
        branch = net.world.dal.id.hex
        batch, unknown = read_batch(dal.engine, 1000)
        assert batch is not None and not unknown and sum(map(len, batch.by_table.values())) == 2
        site = _replay.ReplaySite(site_id, branch, dal.dsn, {k: v for k, v in state.items() if k in _replay.STATE_KEYS},
                                  seq=batch.first - 1)
        replayed: list[Any] = []
        replay = _capture(monkeypatch, lambda: replayed.append(_replay.sync(site, client_revisions(dal.engine), batch)))
        site.close()
        assert replayed[0].ok, replayed[0].error
        assert (replayed[0].pushed, replayed[0].pulled) == (2, 1)
        # what the replay changed on the server goes back, so the real site meets the same server
        net.server.query("DELETE FROM depot_receipt WHERE site_id = %s AND first_seq = %s RETURNING 1",
                         site_id, batch.first)

        real: list[Any] = []
        sent = _capture(monkeypatch, lambda: real.append(dal.sync()))
        # (it pulls 3 rows: its own 2 came back, the replay's transaction having written them first)
        assert real[0].pushed == 2
        assert _normalised(replay) == _normalised(sent)
        kinds = [e[2].split()[0] for e in sent if e[0] != "commit" and e[0] != "rollback"]
        assert "COPY" in kinds and "INSERT" in kinds  # the pull's COPY and the push's upsert and receipt
    finally:
        dal2.close()
        dal.close()
