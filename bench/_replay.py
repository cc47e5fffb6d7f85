"""``sync_scale --replay``: simulated workstations that send a sync's server statements and nothing else.

Why: a real workstation's sync costs its own machine about 60 ms of CPU (writing the moves, the
outbox, applying the pulled rows, settling, its history). 1,000 of them syncing every 30 s need
~2 cores of client CPU, the whole of this 2-core machine, before the server gets any: the bench
could not offer the load it was meant to measure. A replayed site costs the client a few ms.

What it sends is ``sync_once``'s, statement for statement, from the same functions in the same
order: the schema gate (``check_gate``), the branch check, the restored-server probe
(``restored_since``), the head-office question and the push batch (``push.send_batch``: receipt
check, one JSON upsert per table, the receipt), the pull's snapshot, changed-table probe and scope
(``pull.open_window``), one COPY per changed table (``Window.read``, the rows read and parsed), and the
cursor report (``pull.report_due`` / ``report_cursor``), on a connection kept between syncs and
asked once whether the server has room for it (``link.server_has_room``). ``tests/sync/test_replay.py``
runs a real site's ``sync_once`` and this replay from the same state and requires the same
statements with the same parameters.

What it leaves out (all local work, or paths a routine sync of the bench's moves never takes):
writing the moves and the outbox (a site's rows are one real batch of the ledger service's moves,
copied with new ids, clocks and this site as writer), applying the pulled rows (they are parsed,
not applied), the parents a selective pull would fetch when this file lacked them (a real site
has them; the bench's moves reference none), the settlers and the push that follows when they
changed something, conflicts (a ledger row never loses), a warehouse joining the branch's scope,
re-syncing after a restored server, and the history and state rows of the local file.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

import psycopg

from app.models.hlc import clock
from app.models.ids import uuid7
from app.services.errors import DomainError
from app.services.replication import link
from app.services.replication.conn import check_gate, explain, open_server
from app.services.replication.engine import check_branch, claim_workstation, is_ho
from app.services.replication.pull import open_window, report_cursor, report_due
from app.services.replication.push import Batch, Row, send_batch
from app.services.replication.restored import restored_since
from app.services.replication.tables import sync_tables

#: the sync_state keys a replayed site keeps (those the statements read)
STATE_KEYS = ("cursor", "snapshot", "own_txids", "scope", "reported_at", "reported_cursor", "last_receipt",
              "workstation")


@dataclass
class Replayed:
    ok: bool
    error: str = ""
    pushed: int = 0
    pulled: int = 0


@dataclass
class ReplaySite:
    """What a workstation knows of the server, without its file: its ids, sync state and outbox seq."""

    site_id: str
    branch_id: str
    dsn: str
    state: dict[str, str] = field(default_factory=dict)
    seq: int = 0  # the last outbox seq pushed
    conn: psycopg.Connection[Any] | None = None
    keep: bool = True

    def close(self) -> None:
        if self.conn is not None:
            with contextlib.suppress(Exception):
                self.conn.close()
        self.conn = None


class Template:
    """A site's new rows for one sync: copies of one real batch (the ledger service's moves, read from
    the outbox as ``push`` reads them) with new ids and clocks, written by the site that pushes them."""

    def __init__(self, batch: Batch) -> None:
        self.by_table = batch.by_table
        self.n = sum(len(v) for v in batch.by_table.values())
        self.cols = {name: sync_tables()[name].names for name in batch.by_table}

    def batch(self, site: ReplaySite) -> Batch:
        out: dict[str, list[Row]] = {}
        for name, rows in self.by_table.items():
            names = self.cols[name]
            fresh = {"id": lambda: uuid7().hex, "hlc": clock.now, "hlc_site": lambda: site.site_id}
            out[name] = [tuple(fresh[c]() if c in fresh else v for c, v in zip(names, r, strict=True)) for r in rows]
        first = site.seq + 1
        site.seq += self.n
        return Batch(first, site.seq, out)


def sync(site: ReplaySite, revisions: set[str], batch: Batch | None) -> Replayed:
    """One sync of ``site``: push ``batch`` (None: an empty outbox), then pull, as ``sync_once`` does."""
    res = Replayed(ok=True)
    reused = site.conn is not None and not site.conn.closed
    try:
        if not reused:
            site.conn = open_server(site.dsn)
        assert site.conn is not None
        try:
            check_gate(site.conn, revisions)
        except psycopg.OperationalError:
            if not reused:
                raise
            site.close()  # the server closed the kept connection meanwhile: once more on a new one
            site.conn = open_server(site.dsn)
            reused = False
            check_gate(site.conn, revisions)
        pg = site.conn
        check_branch(pg, site.branch_id)
        if not site.state.get("workstation"):
            site.state["workstation"] = claim_workstation(pg, site.site_id)
        if why := restored_since(pg, site.site_id, site.state):
            raise DomainError(f"the replay cannot re-sync: {why}")
        if batch is not None:
            sent = send_batch(pg, site.site_id, batch, is_ho(pg))
            if sent.already is None:
                own = site.state.get("own_txids") or ""
                site.state["own_txids"] = f"{own},{sent.txid}" if own else sent.txid
                site.state["last_receipt"] = f"{sent.login} {batch.first}"
                res.pushed = sum(len(v) for v in batch.by_table.values())
        res.pulled = _pull(pg, site)
        if not reused:
            site.keep = link.server_has_room(pg)
        if not site.keep:
            site.close()
    except DomainError as e:
        res.ok, res.error = False, str(e)
    except psycopg.OperationalError as e:
        res.ok, res.error = False, str(explain(e, site.dsn))
    except psycopg.Error as e:
        res.ok, res.error = False, f"server error: {str(e).strip()}"
    if not res.ok:
        site.close()
    return res


def _pull(pg: psycopg.Connection[Any], site: ReplaySite) -> int:
    """``pull.pull`` less the local file: the rows are read and parsed, then dropped."""
    pg.rollback()
    old = pg.isolation_level
    pg.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
    rows = 0
    try:
        with pg.cursor() as cur:
            w = open_window(cur, site.state, site.site_id, site.branch_id)
            if w.empty:
                pg.rollback()
                due = bool(w.own)
            else:
                if w.scope is not None and w.scope.added:
                    raise DomainError("the replay cannot read a warehouse that joined the branch's scope")
                for n, t in enumerate(sync_tables().values(), 1):
                    if t.name in w.changed:
                        for chunk in w.read(cur, t, n):
                            rows += len(list(w.scope.tap(t.name, chunk)) if w.scope else chunk)
                site.state.update(cursor=str(w.xmin), snapshot=w.snapshot, own_txids="")
                if w.scope is not None:
                    site.state["scope"] = ",".join(w.scope.warehouses)
                due = bool(rows or w.purged or w.own)
        pg.rollback()
    finally:
        if not pg.closed and pg.info.transaction_status != psycopg.pq.TransactionStatus.IDLE:
            pg.rollback()
        if not pg.closed:
            pg.isolation_level = old
    now = time.time()
    if report_due(site.state, due, now):
        if report_cursor(pg, site.site_id, site.branch_id, w.xmin, w.snapshot):
            site.state["reported_cursor"] = str(w.xmin)
        site.state["reported_at"] = str(int(now))
    return rows


def site_from_state(state: dict[str, str], branch_id: str, dsn: str) -> ReplaySite:
    """A new workstation that starts from a first-synced file's sync state (its own site id, no
    workstation number, nothing reported or pushed yet)."""
    keep = {k: state[k] for k in ("cursor", "snapshot", "scope") if k in state}
    return ReplaySite(str(uuid7()), branch_id, dsn, keep)
