"""One sync run (push, then pull), its history and status, and the back-off timer policy.

``sync_once`` never raises for the faults a branch meets every day (server down, wrong
password, schema gate): it records them in ``sync_history`` and ``sync_state`` and returns
a result whose ``state`` is "offline"; the outbox stays as it was and the branch keeps
working. The GUI controller and ``depot sync`` both call it; ``Backoff`` decides when the
next attempt runs, so retries happen on a timer, not only on the next local write.
"""

from __future__ import annotations

import datetime as dt
import time
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

import psycopg
from psycopg import sql
from sqlalchemy import Engine, select, text, update
from sqlalchemy.exc import SQLAlchemyError

from app.models.sync import LocalSite
from app.models.types import iso_utc, utcnow
from app.services import jobs
from app.services.changes import Change
from app.services.db import session_scope, site_id
from app.services.errors import DomainError
from app.services.jobs import Backoff as Backoff  # where it lived; app.services.jobs now
from app.services.ownership import settle_all
from app.services.replication.conn import (
    SyncError,
    check_gate,
    client_revisions,
    explain,
    get_state,
    open_server,
    set_state,
    set_state_sql,
)
from app.services.replication.link import checkin, checkout, reopen
from app.services.replication.one_at_a_time import WAIT_S, SyncBusy, one_sync_at_a_time
from app.services.replication.pull import PullProgress, pull
from app.services.replication.push import push, read_local_rows, upsert_rows
from app.services.replication.restored import resync, server_was_restored
from app.services.replication.tables import sync_tables


@dataclass
class SyncResult:
    ok: bool
    state: str  # online | offline
    pushed: int = 0
    pulled: int = 0
    lost: int = 0
    rejected: int = 0
    #: server rows not applied here (unique-key clash with a local row; in the conflict log)
    unapplied: int = 0
    pending: int = 0
    duration_ms: int = 0
    error: str = ""
    error_kind: str = ""
    tables: list[str] = field(default_factory=list)
    #: what this site's settlers changed after the pull (see services.ownership), by settler
    settled: dict[str, int] = field(default_factory=dict)
    settle_errors: list[str] = field(default_factory=list)
    #: why this site found the server restored from an older backup and re-synced ('' normally)
    restored: str = ""

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def configure(engine: Engine, dsn: str) -> None:
    """Remember the server address (without password: that lives in the keyring)."""
    from app.services.replication.conn import redact

    set_state(engine, dsn=redact(dsn))


def _site(engine: Engine) -> tuple[str, str | None]:
    with session_scope(engine) as s:
        sid = site_id(s)
        b = s.execute(select(LocalSite.branch_id).where(LocalSite.id == 1)).scalar_one_or_none()
    return sid, (b.hex if b else None)


def pending_count(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one())


# The functions below that take only the server connection send a sync's statements; the bench's
# replay (bench._replay) calls them too, so its simulated workstations send what sync_once sends.


def is_ho(pg: psycopg.Connection[Any]) -> bool:
    with pg.cursor() as cur:
        cur.execute("SELECT depot_is_ho() OR depot_is_admin()")
        row = cur.fetchone()
    pg.rollback()
    return bool(row and row[0])


def claim_workstation(pg: psycopg.Connection[Any], sid: str) -> str:
    """This site's workstation number in its branch (its own document number series); '' if none."""
    with pg.cursor() as cur:
        cur.execute("SELECT depot_claim_workstation(%s)", (sid,))
        row = cur.fetchone()
    pg.commit()
    return str(row[0]) if row and row[0] else ""


def check_branch(pg: psycopg.Connection[Any], branch: str) -> None:
    """A file set to work for one branch must not sync with another branch's login: every push
    would be refused. (An owner login, which has no branch, may publish anything.)"""
    with pg.cursor() as cur:
        cur.execute("SELECT replace(depot_branch()::text, '-', ''), "
                    "(SELECT code FROM branch WHERE id = depot_branch()), "
                    "(SELECT code FROM branch WHERE id = %s::uuid)", (branch,))
        row = cur.fetchone()
    pg.rollback()
    if row and row[0] and row[0] != branch.replace("-", ""):
        raise SyncError(f"this file works for branch {row[2] or branch} but the server login is {row[1] or row[0]}'s: "
                        "use that branch's login (or a new file for this branch)")


def _adopt_branch(engine: Engine, pg: psycopg.Connection[Any]) -> str | None:
    """A new site learns its branch from its server login (the role's branch)."""
    with pg.cursor() as cur:
        cur.execute("SELECT replace(depot_branch()::text, '-', '')")
        row = cur.fetchone()
    pg.rollback()
    if not row or not row[0]:
        return None
    with engine.begin() as c:
        c.execute(update(LocalSite).where(LocalSite.id == 1).values(branch_id=uuid.UUID(str(row[0]))))
    return str(row[0])


def sync_once(engine: Engine, dsn: str | None = None, *, batch_size: int = 1000,
              progress: PullProgress | None = None, do_push: bool = True, do_pull: bool = True,
              lock_wait_s: float = WAIT_S) -> SyncResult:
    """Push the outbox, then pull; record the run. Faults give state 'offline', never an exception.
    One program at a time syncs a file (``one_at_a_time``): another waits up to ``lock_wait_s``."""
    t0 = time.monotonic()
    started = utcnow()
    stored = get_state(engine, "dsn")
    if dsn and not stored:
        configure(engine, dsn)  # the first address used is remembered (without its password)
    dsn = dsn or stored
    res = SyncResult(ok=True, state="online")
    changed: set[str] = set()
    if not dsn:  # not a fault: this site was never connected (no history row, no back-off)
        res.ok, res.state, res.error_kind = False, "offline", "config"
        res.error = "no server configured: run 'depot sync --dsn ...' once"
        res.pending = pending_count(engine)
        return res
    try:
        with one_sync_at_a_time(engine.url.database, lock_wait_s):
            _sync_locked(engine, dsn, res, changed, batch_size, progress, do_push, do_pull)
    except SyncBusy as e:  # not a fault of the server or of this file: no back-off
        res.ok, res.state, res.error, res.error_kind = False, "offline", str(e), "busy"
    except SyncError as e:
        res.ok, res.state, res.error, res.error_kind = False, "offline", str(e), e.kind
    except psycopg.OperationalError as e:  # connection lost mid-run
        err = explain(e, dsn or "")
        res.ok, res.state, res.error, res.error_kind = False, "offline", str(err), err.kind
    except psycopg.Error as e:
        res.ok, res.state, res.error, res.error_kind = False, "offline", f"server error: {str(e).strip()}", "error"
    except (SQLAlchemyError, DomainError) as e:  # this site's database refused (locked, full, a constraint)
        why = str(getattr(e, "orig", None) or e).strip().splitlines()[0]
        res.ok, res.state, res.error, res.error_kind = False, "offline", f"local database: {why}", "local"
    res.tables = sorted(changed)
    res.pending = pending_count(engine)
    res.duration_ms = int((time.monotonic() - t0) * 1000)
    _record(engine, started, res)
    return res


def _sync_locked(engine: Engine, dsn: str, res: SyncResult, changed: set[str], batch_size: int,
                 progress: PullProgress | None, do_push: bool, do_pull: bool) -> None:
    """The sync proper, under this file's sync lock: fills ``res`` and ``changed`` (the tables changed,
    kept when a fault ends the run half-way)."""
    sid, branch = _site(engine)
    revs = client_revisions(engine)
    link = checkout(engine, dsn)  # kept from the last sync when it is still good (replication.link)
    done = False
    try:
        try:
            check_gate(link.conn, revs)
        except psycopg.OperationalError:
            if not link.reused:
                raise
            link = reopen(link)  # the server closed the kept connection meanwhile: once more on a new one
            check_gate(link.conn, revs)
        pg = link.conn
        if branch is None:
            branch = _adopt_branch(engine, pg)
        else:
            check_branch(pg, branch)
        if branch is not None and not get_state(engine, "workstation") and (ws := claim_workstation(pg, sid)):
            set_state(engine, workstation=ws)
        if why := server_was_restored(engine, pg, sid):
            n = resync(engine, pg, sid, branch)
            res.restored = (f"the server was restored from an older backup ({why}): {n:,} rows of this branch "
                            "are pushed again and the server's changes read again")
        if do_push and pending_count(engine):  # an empty outbox asks the server nothing
            ps = push(engine, pg, sid, head_office=is_ho(pg), batch_size=batch_size)
            res.pushed, res.lost, res.rejected = ps.rows, ps.lost, ps.rejected
            changed |= ps.tables
        if do_pull:
            pl = pull(engine, pg, sid, branch, progress, second=lambda: open_server(link.dsn))
            res.pulled, res.unapplied = pl.rows, pl.unapplied
            changed |= pl.tables
            if pl.rows:  # settlers act on rows others wrote: an empty pull leaves nothing to settle
                res.settled, res.settle_errors = settle(engine)
            if res.settled and do_push:  # send what settling changed now, not one interval later
                ps = push(engine, pg, sid, head_office=is_ho(pg), batch_size=batch_size)
                res.pushed, res.lost, res.rejected = res.pushed + ps.rows, res.lost + ps.lost, res.rejected + ps.rejected
                changed |= ps.tables
        done = True
    finally:
        checkin(engine, link, ok=done)


def settle(engine: Engine) -> tuple[dict[str, int], list[str]]:
    """After a pull: bring this branch's documents in line with what other branches recorded
    about them (approval decisions, receipts of its transfers...). A settler that fails is rolled
    back alone and named in the result; the sync itself still counts as done."""
    with session_scope(engine) as s:
        return settle_all(s)


def _record(engine: Engine, started: Any, res: SyncResult) -> None:
    with engine.begin() as c:
        c.execute(text("INSERT INTO sync_history (started_at, duration_ms, pushed, pulled, conflicts, ok, error) "
                       "VALUES (:s, :d, :pu, :pl, :c, :ok, :e)"),
                  {"s": iso_utc(started), "d": res.duration_ms, "pu": res.pushed, "pl": res.pulled,
                   "c": res.lost + res.rejected + res.unapplied, "ok": int(res.ok),
                   "e": (res.error or res.restored or "; ".join(res.settle_errors))[:1000]})
        vals = {"last_attempt_at": iso_utc(started), "last_error": res.error}
        if res.ok:
            vals["last_sync_at"] = iso_utc(started)
        set_state_sql(c, vals)


def publish_all(engine: Engine, dsn: str, *, chunk: int = 10_000,
                progress: PullProgress | None = None) -> int:
    """Send every replicated row of this database to the server (seeded head office, new server).

    The seed loads data with capture off, so the outbox does not list those rows; this reads
    the tables themselves. Idempotent (the same upserts as push), one transaction per chunk.
    """
    pg = open_server(dsn)
    total = 0
    try:
        check_gate(pg, client_revisions(engine))
        ho = is_ho(pg)
        tables = sync_tables()
        with engine.connect() as c:
            for n, t in enumerate(tables.values(), 1):
                ids = [str(r[0]) for r in c.exec_driver_sql(f'SELECT lower(hex(id)) FROM "{t.name}" ORDER BY id')]
                for i in range(0, len(ids), chunk):
                    rows = read_local_rows(c, t, ids[i:i + chunk])
                    with pg.cursor() as cur:
                        upsert_rows(cur, t, rows, ho)
                    pg.commit()
                    total += len(rows)
                if progress:
                    progress(t.name, n, len(tables), total)
        with engine.begin() as c:  # everything is on the server now; captured changes are redundant
            c.execute(text("DELETE FROM sync_outbox"))
        # planner statistics for what was just published: without them (autovacuum off, or before it
        # gets round) every pull's plan is a guess (a non-owner login's ANALYZE skips with a warning)
        with pg.cursor() as cur:
            for t in tables.values():
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(t.name)))
        pg.commit()
    except psycopg.OperationalError as e:
        raise explain(e, dsn) from None
    finally:
        pg.close()
    return total


@dataclass
class SyncStatus:
    state: str
    pending: int
    last_sync_at: str
    last_error: str
    conflicts: int
    server: str

    def line(self) -> str:
        """The status-bar sentence, e.g. 'online · 0 pending · last sync 12:03'."""
        last = self.last_sync_at[11:16] if self.last_sync_at else "never"
        if self.state == "online":
            return f"online · {self.pending} pending · last sync {last}"
        if not self.server:
            return f"not connected · {self.pending} pending"
        return f"offline: {self.last_error or 'not synced yet'} · {self.pending} pending"


def status(engine: Engine) -> SyncStatus:
    with engine.connect() as c:
        st: dict[str, str] = {str(k): str(v) for k, v in c.execute(text("SELECT key, value FROM sync_state")).all()}
        conflicts = int(c.execute(text("SELECT count(*) FROM sync_conflict")).scalar_one())
        pending = int(c.execute(text("SELECT count(*) FROM sync_outbox")).scalar_one())
    err = st.get("last_error", "")
    ok = bool(st.get("last_sync_at")) and not err and bool(st.get("dsn"))
    return SyncStatus("online" if ok else "offline", pending, st.get("last_sync_at", ""), err, conflicts, st.get("dsn", ""))


def _sync_job(engine: Engine, _settings: Any) -> SyncResult:
    return sync_once(engine)


#: the background job (app.services.jobs): push then pull every ``sync.interval_s`` (30 s), backing off
#: when offline; each of its SQLite transactions is short, none is open while waiting on the server
SYNC = jobs.register(jobs.Job("sync", _sync_job, interval_s=30, interval_setting="sync.interval_s", first_s=1,
                              backoff=True, kinds=(Change.SYNC,), label="sync"))


def purge_local_tombstones(engine: Engine, older_than_days: int = 30) -> int:
    """Delete local soft-deleted rows older than the retention, unless they still wait to be pushed."""
    cutoff = iso_utc(utcnow().replace(microsecond=0) - dt.timedelta(days=older_than_days))
    n = 0
    with engine.begin() as c:
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 0 WHERE id = 1")
        for t in sync_tables().values():
            if t.versioned:
                r = c.exec_driver_sql(
                    f'DELETE FROM "{t.name}" WHERE deleted_at IS NOT NULL AND deleted_at < ? '
                    f"AND lower(hex(id)) NOT IN (SELECT row_id FROM sync_outbox WHERE tbl = ?)",
                    (t.stored("deleted_at", cutoff), t.name))
                n += r.rowcount or 0
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 1 WHERE id = 1")
    return n


# --- read-outs for the sync panel (Session-based, so they run as ordinary read ops) ----------


def _rows(session: Any, q: str, limit: int) -> list[dict[str, Any]]:
    return [dict(r._mapping) for r in session.execute(text(q), {"n": limit})]


def history(session: Any, limit: int = 200) -> list[dict[str, Any]]:
    return _rows(session, "SELECT started_at, duration_ms, pushed, pulled, conflicts, ok, error "
                          "FROM sync_history ORDER BY seq DESC LIMIT :n", limit)


def pending_changes(session: Any, limit: int = 500) -> list[dict[str, Any]]:
    return _rows(session, "SELECT seq, tbl, row_id, op, changed_at FROM sync_outbox ORDER BY seq LIMIT :n", limit)


def conflicts(session: Any, limit: int = 200) -> list[dict[str, Any]]:
    return _rows(session, "SELECT seq, at, tbl, row_id, kind, reason, local_row "
                          "FROM sync_conflict ORDER BY seq DESC LIMIT :n", limit)


def status_for(session: Any) -> SyncStatus:
    """``status`` for a Session's engine (so the GUI can ask through the op runner)."""
    return status(session.get_bind())
