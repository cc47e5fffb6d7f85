"""Many workstations on one server: what a push, a pull and an idle sync cost the server.

Runs on a private PostgreSQL cluster started for the run (``bench._cluster``), so every CPU
second, WAL byte and system-catalog row counted is ours (the shared server also runs other
people's tests). Head office publishes a small world with ``--branches`` branches; a history of
``--history`` stock moves is pushed; one workstation first-syncs it and is copied into
``--sites`` real SQLite workstations spread over the branches (each with its own site id and
workstation number). Then, per cycle, every site posts ``--rows`` stock moves through the ledger
service (the outbox is filled by the real triggers) and:

* push phase: each site pushes (``sync_once(do_pull=False)``), one after the other;
* pull phase: each site pulls (``sync_once(do_push=False)``);
* idle: each site runs a whole ``sync_once`` with nothing new;
* concurrent: all sites write, then run whole syncs ``--workers`` at a time (p50/p95 latency,
  peak server connections);
* held transaction: one server transaction holds an xid open over two more cycles (an open
  transaction anywhere on the cluster must not make every pull re-read);
* paced: ``--procs`` client processes, each owning a share of the sites, start every site's whole
  sync (after writing its moves) once every ``--period`` seconds at its own offset, so the server
  is offered N / period syncs per second whatever it answers (``bench._sync_clients``): p50/p95,
  start lag, refused syncs, peak connections, and the server's cores over the paced rounds.

* ``--replay`` (paced phase only): the sites are simulated (``bench._replay``): each sync sends exactly
  the server statements of ``sync_once`` (the same functions build them; ``tests/sync/test_replay.py``
  compares them with a real site's) and does no SQLite work, so the client processes can offer
  1,000 workstations every 30 s on the machine that also runs the server. What it leaves out is in
  ``bench/_replay.py``.

Like a workstation, every site keeps its server connection between syncs (``replication.link``);
the sequential phases take longer than its idle lifetime at 1,000 sites, so the bench lengthens
it (a workstation syncing every 30 s never reaches it). ``--phases`` picks phases.

Reported per sync: server CPU (ms), wall time, rows pulled, WAL bytes, and for the run the
system-catalog churn (pg_class, pg_attribute, pg_type, pg_depend rows inserted, updated and
deleted; dead pg_attribute rows). "Server cores for N workstations every 30 s" is server CPU per
whole sync x N / 30.

    depot bench sync_scale [--sites 100] [--branches 10] [--cycles 3] [--rows 6] [--history 20000]
                           [--workers 8] [--analyze] [--autovacuum] [--pooler] [--selective]
                           [--phases push,pull,idle,concurrent,held,paced] [--procs 4] [--threads 8]
                           [--period 30] [--rounds 2] [--replay] [--max-connections 200]
"""

from __future__ import annotations

import argparse
import contextlib
import shutil
import statistics
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import psycopg

from bench import _sync_clients
from bench._cluster import Cluster, Pooler, pgbouncer, private_cluster
from bench._sync_clients import Paced

CATALOGS = ("pg_class", "pg_attribute", "pg_type", "pg_depend")
PHASES = ("push", "pull", "idle", "concurrent", "held", "paced")


@dataclass
class Branchy:
    code: str
    branch_id: str
    item: uuid.UUID
    src: uuid.UUID
    dest: uuid.UUID
    dsn: str


@dataclass
class Phase:
    name: str
    syncs: int = 0
    cpu_s: float = 0.0
    wall: list[float] = field(default_factory=list)
    wal: int = 0
    rows_pulled: int = 0
    rows_pushed: int = 0
    catalog: int = 0
    peak_conn: int = 0
    peak_active: int = 0

    def line(self) -> str:
        n = max(self.syncs, 1)
        w = sorted(self.wall)
        p50 = statistics.median(w) * 1000 if w else 0
        p95 = w[min(len(w) - 1, int(len(w) * 0.95))] * 1000 if w else 0
        extra = f", peak {self.peak_conn} connections ({self.peak_active} active)" if self.peak_conn else ""
        return (f"  {self.name:<22} {self.syncs:>5} syncs  server CPU {self.cpu_s / n * 1000:7.2f} ms/sync  "
                f"wall p50 {p50:6.0f} ms p95 {p95:6.0f} ms  pulled {self.rows_pulled / n:8.1f} rows/sync  "
                f"pushed {self.rows_pushed / n:5.1f}  WAL {self.wal / n / 1024:7.1f} kB/sync  "
                f"catalog rows {self.catalog / n:6.1f}/sync{extra}")


class Meter:
    """Server CPU, WAL and catalog churn between two readings (private cluster only)."""

    def __init__(self, cluster: Cluster, dsn: str, pooler: Pooler | None = None) -> None:
        self.cluster = cluster
        self.pooler = pooler
        self.conn = psycopg.connect(dsn, autocommit=True)

    def read(self) -> tuple[float, int, int]:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute(
            "SELECT pg_current_wal_lsn() - '0/0'::pg_lsn, "
            "(SELECT COALESCE(sum(n_tup_ins + n_tup_upd + n_tup_del), 0) FROM pg_stat_sys_tables "
            " WHERE relname = ANY(%s))", (list(CATALOGS),)).fetchone()
        assert row is not None
        cpu = self.cluster.cpu_seconds() + (self.pooler.cpu_seconds() if self.pooler else 0.0)
        return cpu, int(row[0]), int(row[1])

    @contextmanager
    def phase(self, ph: Phase) -> Iterator[None]:
        cpu0, wal0, cat0 = self.read()
        yield
        time.sleep(0.6)  # backends flush their table statistics at exit; let the last one land
        cpu1, wal1, cat1 = self.read()
        ph.cpu_s += cpu1 - cpu0
        ph.wal += wal1 - wal0
        ph.catalog += cat1 - cat0

    def dead_attributes(self) -> int:
        self.conn.execute("SELECT pg_stat_clear_snapshot()")
        row = self.conn.execute("SELECT n_dead_tup FROM pg_stat_sys_tables WHERE relname = 'pg_attribute'").fetchone()
        return int(row[0]) if row else 0


def _setup(dsn: str, tmp: Path, branches: int, history: int) -> tuple[Path, list[Branchy], float, int]:
    """Server schema, head office's world with ``branches`` branches, a pushed history, and one
    first-synced workstation file to copy. Returns (that file, the branches, first-sync s, rows)."""
    from psycopg.conninfo import conninfo_to_dict, make_conninfo
    from sqlalchemy import select

    from app.models.org import Location
    from app.services import masterdata as md
    from app.services import schema
    from app.services.db import make_engine, open_database, session_scope
    from app.services.replication.engine import sync_once
    from app.services.replication.server import add_branch, init_server
    from app.services.stock import virtual_location
    from bench.sync_push import post_moves_at
    from tests.factories import build_world

    init_server(dsn, role_prefix="bs_")
    tpl = tmp / "template.db"
    eng = make_engine(tpl)
    schema.upgrade(eng)
    eng.dispose()
    hq = tmp / "hq.db"
    shutil.copy(tpl, hq)
    eng = open_database(hq)
    with session_scope(eng) as s:
        world = build_world(s)
        extra = []
        for n in range(3, branches + 1):
            b = md.create_branch(s, f"B{n:03d}", f"Branch {n}")
            extra.append((b, md.create_warehouse(s, b, f"B{n:03d}W", f"Branch {n} DC")))
        pairs = [(world.dal, world.wh_dal), (world.hou, world.wh_hou), *extra][:branches]
        item = world.items["BOLT"].id
        specs = []
        for b, wh in pairs:
            src = virtual_location(s, wh.id, "supplier").id
            dest = s.scalars(select(Location.id).where(Location.warehouse_id == wh.id, Location.code == "DOCK")).one()
            specs.append((b.code, b.id.hex, item, src, dest))
    res = sync_once(eng, dsn)
    assert res.ok, res.error
    eng.dispose()
    parts = conninfo_to_dict(dsn)
    out = []
    for code, bid, item_id, src, dest in specs:
        login = add_branch(dsn, code, password="bench")
        p = dict(parts, user=login.role, password="bench")
        out.append(Branchy(code, bid, item_id, src, dest,
                           make_conninfo("", **{k: str(v) for k, v in p.items() if v is not None})))
    add_branch(dsn, "HQ", password="bench")
    dal = tmp / "dal.db"
    shutil.copy(tpl, dal)
    eng = open_database(dal)
    assert sync_once(eng, out[0].dsn).ok
    eng.dispose()
    if history:
        post_moves_at(dal, world, history)
        eng = open_database(dal)
        res = sync_once(eng, out[0].dsn, batch_size=10_000, do_pull=False)
        assert res.ok and res.pending == 0, res
        eng.dispose()
    seed = tmp / "seed.db"
    shutil.copy(tpl, seed)
    eng = open_database(seed)
    t0 = time.perf_counter()
    res = sync_once(eng, out[0].dsn)
    first_s = time.perf_counter() - t0
    assert res.ok, res.error
    eng.dispose()
    return seed, out, first_s, res.pulled


@dataclass
class Site:
    path: Path
    branch: Branchy
    engine: Any = None


def _make_sites(seed: Path, tmp: Path, n: int, branches: list[Branchy]) -> list[Site]:
    """Copies of the first-synced file, each a workstation of its own (new site id, no number yet)."""
    import sqlite3

    from app.models.ids import uuid7

    sites = []
    for i in range(n):
        b = branches[i % len(branches)]
        path = tmp / f"site{i:04d}.db"
        shutil.copy(seed, path)
        with sqlite3.connect(path) as c:
            # UUIDs bind as the ids' stored form (app.models.types registers their sqlite3 adapter)
            c.execute("UPDATE local_site SET site_id = ?, branch_id = ? WHERE id = 1", (uuid7(), uuid.UUID(b.branch_id)))
            # a new workstation: it has never reported a cursor nor pushed a batch (else its first sync
            # would take the server for one restored from an older backup)
            c.execute("DELETE FROM sync_state WHERE key IN ('workstation', 'dsn', 'reported_cursor', 'reported_at', "
                      "'last_receipt')")
        sites.append(Site(path, b))
    return sites


def _write(site: Site, rows: int) -> None:
    from app.services.db import session_scope
    from app.services.stock import MoveSpec, post_moves

    b = site.branch
    with session_scope(site.engine) as s:
        post_moves(s, None, [MoveSpec(b.item, 1, b.src, b.dest, "receipt")] * rows,
                   owner_branch_id=uuid.UUID(b.branch_id))


def _run(sites: list[Site], ph: Phase, meter: Meter, call: Callable[[Site], Any]) -> None:
    with meter.phase(ph):
        for s in sites:
            t0 = time.perf_counter()
            res = call(s)
            ph.wall.append(time.perf_counter() - t0)
            assert res.ok, res.error
            ph.syncs += 1
            ph.rows_pulled += res.pulled
            ph.rows_pushed += res.pushed


def _concurrent(sites: list[Site], ph: Phase, meter: Meter, workers: int) -> None:
    from app.services.replication.engine import sync_once

    stop = threading.Event()

    def watch() -> None:
        with psycopg.connect(meter.conn.info.dsn, autocommit=True) as c:
            while not stop.is_set():
                row = c.execute("SELECT count(*), count(*) FILTER (WHERE state <> 'idle') FROM pg_stat_activity "
                                "WHERE backend_type = 'client backend' AND pid <> pg_backend_pid()").fetchone()
                if row:  # less the meter; kept connections wait idle between syncs
                    ph.peak_conn = max(ph.peak_conn, int(row[0]) - 1)
                    ph.peak_active = max(ph.peak_active, int(row[1]))
                stop.wait(0.02)

    def one(s: Site) -> tuple[float, Any]:
        t0 = time.perf_counter()
        res = sync_once(s.engine, s.branch.dsn)
        return time.perf_counter() - t0, res

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    with meter.phase(ph), ThreadPoolExecutor(workers) as pool:
        for wall, res in pool.map(one, sites):
            assert res.ok, res.error
            ph.wall.append(wall)
            ph.syncs += 1
            ph.rows_pulled += res.pulled
            ph.rows_pushed += res.pushed
    stop.set()
    watcher.join()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench sync_scale")
    ap.add_argument("--sites", type=int, default=100)
    ap.add_argument("--branches", type=int, default=10)
    ap.add_argument("--cycles", type=int, default=3)
    ap.add_argument("--rows", type=int, default=6, help="stock moves each site posts per cycle")
    ap.add_argument("--history", type=int, default=20_000, help="stock moves on the server before the run")
    ap.add_argument("--workers", type=int, default=8, help="syncs in flight at once in the concurrent phase")
    ap.add_argument("--analyze", action="store_true", help="ANALYZE the server before the run (planner statistics)")
    ap.add_argument("--autovacuum", action="store_true", help="run the cluster with autovacuum on")
    ap.add_argument("--selective", action="store_true",
                    help="selective replication on the server (issue 20): a site pulls its own branch's moves only")
    ap.add_argument("--pooler", action="store_true",
                    help="sites connect through PgBouncer in transaction mode (its CPU counts as the server's)")
    ap.add_argument("--phases", default=",".join(PHASES),
                    help=f"which phases to run, of {','.join(PHASES)} (paced: --procs client processes, each site "
                         "syncing every --period s)")
    ap.add_argument("--procs", type=int, default=4, help="client processes of the paced phase")
    ap.add_argument("--threads", type=int, default=8, help="syncs in flight at once per client process (paced)")
    ap.add_argument("--period", type=float, default=30.0, help="seconds between two syncs of a site (paced)")
    ap.add_argument("--rounds", type=int, default=2, help="periods of the paced phase (after an unpaced round that connects)")
    ap.add_argument("--replay", action="store_true",
                    help="paced phase with simulated sites that send sync_once's server statements and do no local "
                         "work (bench/_replay.py), so the clients can offer 1,000 workstations on this machine")
    ap.add_argument("--max-connections", type=int, default=200, help="the cluster's max_connections")
    args = ap.parse_args(argv)
    args.phases = [p for p in args.phases.split(",") if p]
    if set(args.phases) - set(PHASES):
        ap.error(f"--phases: one of {','.join(PHASES)}")
    if args.replay and args.phases != ["paced"]:
        ap.error("--replay runs the paced phase only: add --phases paced")
    if args.branches < 2:
        ap.error("--branches must be at least 2")
    from psycopg.conninfo import conninfo_to_dict

    tmp = Path(tempfile.mkdtemp(prefix="depot-bench-scale-"))
    av = "on" if args.autovacuum else "off"
    try:
        with private_cluster({"autovacuum": av, "max_connections": str(args.max_connections)}) as cluster:
            with psycopg.connect(cluster.dsn, autocommit=True) as c:
                c.execute("CREATE DATABASE depot")
            dsn = cluster.dsn.replace("dbname=postgres", "dbname=depot")
            seed, branches, first_s, first_rows = _setup(dsn, tmp, args.branches, args.history)
            if args.selective:  # after the template workstation's first sync: each copy learns its own scope
                from app.services.replication.server import set_selective

                set_selective(dsn, True)
            if args.analyze:
                with psycopg.connect(dsn, autocommit=True) as c:
                    c.execute("ANALYZE")
            with contextlib.ExitStack() as stack:
                pooler = None
                if args.pooler:
                    users = [conninfo_to_dict(b.dsn)["user"] for b in branches]
                    pooler = stack.enter_context(pgbouncer(cluster, "depot", [str(u) for u in users]))
                    for b in branches:
                        b.dsn = pooler.dsn(b.dsn)
                phases, dead, paced = _measure(cluster, dsn, pooler, seed, tmp, branches, args)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    by = {ph.name: ph for ph in phases}
    print(f"sync_scale: {args.sites} workstations in {args.branches} branches, {args.rows} moves per site and cycle, "
          f"{args.cycles} cycles, history {args.history:,} moves, statistics {'on' if args.analyze else 'none'}, "
          f"autovacuum {av}{', through PgBouncer (transaction mode)' if args.pooler else ''}"
          f"{', selective replication' if args.selective else ''}, max_connections {args.max_connections}; "
          f"each site keeps its server connection{' (while the server has room)' if args.replay else ''}")
    print(f"  first sync of a workstation: {first_rows:,} rows in {first_s:.2f} s")
    for ph in phases:
        print(ph.line())
    if paced is not None:
        print("\n".join(paced.lines()))
    print(f"  dead pg_attribute rows at the end: {dead:,}")
    if "push" in by and "pull" in by and "idle sync" in by:
        push, pull, idle = by["push"], by["pull"], by["idle sync"]
        whole = (push.cpu_s / max(push.syncs, 1) + pull.cpu_s / max(pull.syncs, 1))
        for n in (100, 300, 1000):
            print(f"  server cores for {n:>5} workstations every 30 s: push+pull {whole * n / 30:.3f}, "
                  f"idle {idle.cpu_s / max(idle.syncs, 1) * n / 30:.3f}")
    return 0


def _measure(cluster: Cluster, dsn: str, pooler: Pooler | None, seed: Path, tmp: Path, branches: list[Branchy],
             args: argparse.Namespace) -> tuple[list[Phase], int, Paced | None]:
    from app.services.db import open_database
    from app.services.replication import link
    from app.services.replication.engine import sync_once

    # A workstation syncs every 30 s, well inside the kept connection's idle lifetime; the bench runs
    # the sites one after the other per phase, which takes longer than that at 1,000 sites.
    link.KEEP_IDLE_S = max(link.KEEP_IDLE_S, 3600.0)
    if args.replay:
        meter = Meter(cluster, dsn, pooler)
        replay, sites_ = _replay_sites(seed, tmp, args.sites, branches, args.rows)
        paced = _sync_clients.paced(sites_, args.procs, args.period, args.rounds, args.threads, args.rows,
                                    lambda: meter.read()[0], meter.conn.info.dsn, replay)
        dead = meter.dead_attributes()
        meter.conn.close()
        return [], dead, paced
    sites = _make_sites(seed, tmp, args.sites, branches)
    want = set(args.phases)
    for s in sites:  # first contact: workstation number, the branch's view, the connection each keeps
        s.engine = open_database(s.path)
        if want - {"paced"}:  # (the paced phase's client processes connect the sites themselves)
            assert sync_once(s.engine, s.branch.dsn).ok
    meter = Meter(cluster, dsn, pooler)
    phases: list[Phase] = []
    push, pull = Phase("push"), Phase("pull")
    for _ in range(args.cycles if want & {"push", "pull"} else 0):
        for s in sites:
            _write(s, args.rows)
        _run(sites, push, meter, lambda s: sync_once(s.engine, s.branch.dsn, do_pull=False))
        _run(sites, pull, meter, lambda s: sync_once(s.engine, s.branch.dsn, do_push=False))
    phases += [ph for ph in (push, pull) if ph.name in want]
    if "idle" in want:
        phases.append(Phase("idle sync"))
        _run(sites, phases[-1], meter, lambda s: sync_once(s.engine, s.branch.dsn))
    if "concurrent" in want:
        phases.append(Phase(f"whole sync x{args.workers}"))
        for s in sites:
            _write(s, args.rows)
        _concurrent(sites, phases[-1], meter, args.workers)
    if "held" in want:
        phases.append(Phase("with a held xact"))
        with psycopg.connect(dsn) as hold:
            hold.execute("SELECT pg_current_xact_id()")  # an xid stays open: every snapshot's xmin stops here
            for _ in range(2):
                for s in sites:
                    _write(s, args.rows)
                _run(sites, phases[-1], meter, lambda s: sync_once(s.engine, s.branch.dsn))
            hold.rollback()
    for s in sites:
        s.engine.dispose()  # closes each site's kept connection too
    paced = None
    if "paced" in want:  # the client processes open the sites (and their connections) themselves
        paced = _sync_clients.paced(sites, args.procs, args.period, args.rounds, args.threads, args.rows,
                                    lambda: meter.read()[0], meter.conn.info.dsn)
    dead = meter.dead_attributes()
    meter.conn.close()
    return phases, dead, paced


def _replay_sites(seed: Path, tmp: Path, n: int, branches: list[Branchy],
                  rows: int) -> tuple[_sync_clients.Replay, list[Any]]:
    """Simulated sites starting from the first-synced file's state, and per branch one real batch of
    ``rows`` moves (written by the ledger service in a copy of that file, read as push reads it)."""
    from sqlalchemy import text

    from app.services.db import open_database
    from app.services.replication.conn import client_revisions
    from app.services.replication.push import read_batch
    from bench import _replay

    templates: dict[str, Any] = {}
    for site in _make_sites(seed, tmp, len(branches), branches):
        site.engine = open_database(site.path)
        _write(site, rows)
        batch, unknown = read_batch(site.engine, 10_000)
        assert batch is not None and not unknown
        templates[site.branch.branch_id] = _replay.Template(batch)
        with site.engine.connect() as c:
            state = {str(k): str(v) for k, v in c.execute(text("SELECT key, value FROM sync_state")).all()}
        revisions = client_revisions(site.engine)
        site.engine.dispose()
    sites = [_replay.site_from_state(state, branches[i % len(branches)].branch_id, branches[i % len(branches)].dsn)
             for i in range(n)]
    return _sync_clients.Replay(set(revisions), templates), sites
