"""First sync of a new branch by COPY (goal >= 30,000 rows/s), and publishing a seeded head office.

Source data: ``--db PATH``; else, when ``--moves N`` is given, a generated head office (the small
test world plus N ledger rows written with capture off, like the seed does); else the large data set
at /work/large.db when /work/large.db.READY exists; else the generated head office of 200,000 moves.
Steps, each timed:

1. ``server init`` on a private database, then ``publish_all`` of the source as the owner
   (what ``depot server init --from-db FILE`` does for a seeded head office);
2. a new, empty branch workstation's first sync: COPY per table in one snapshot, each table
   applied while it streams in, all in one SQLite transaction, with per-table progress
   (``DEPOT_BENCH_VERBOSE=1``), the peak RSS of the sync alone and the load average.

    depot bench sync_first [--db PATH] [--moves 200000] [--selective | --compare] [--server NAME]

``--server NAME`` keeps the published server database NAME (and its roles) for the next run: the
first run creates and publishes it, later runs skip the publish and only first-sync (A/B runs of
the client against the same server); a kept server is brought to this version's schema first (as
``depot server init`` does), and a source seeded by an earlier Depot is upgraded on its copy. Beside wall time and rows/s each first sync reports the CPU
seconds of the client process and of its server backends (from /proc, same machine), per million
rows: the load-independent figures.

``--selective`` turns selective replication on before the branch's first sync (issue 20): the
branch then pulls its own rows, master data, what references its warehouses and the sister
figures, not every branch's ledger.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import resource
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from unittest import mock

from sqlalchemy import Engine

from bench.sync_push import ADMIN

LARGE = Path("/work/large.db")


def _generate(path: Path, moves: int) -> Path:
    from sqlalchemy import insert

    from app.models.ids import uuid7
    from app.models.stock import StockMove
    from app.models.types import utcnow
    from app.services import schema
    from app.services.db import make_engine, session_scope
    from app.services.stock import virtual_location
    from tests.factories import build_world

    eng = make_engine(path)
    schema.upgrade(eng)
    with session_scope(eng) as s:
        w = build_world(s)
        src = virtual_location(s, w.wh_dal.id, "supplier").id
    now = utcnow()
    move = {"owner_branch_id": w.dal.id, "created_at": now, "item_id": w.items["BOLT"].id, "from_location_id": src,
            "to_location_id": w.bins["DAL1-A-02"].id, "qty": 1, "reason": "receipt", "moved_at": now}
    with eng.connect() as c:  # capture off, like the seed; through the model's table, so stored as the app stores
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 0")
        for lo in range(0, moves, 100_000):
            c.execute(insert(StockMove.__table__), [dict(move, id=uuid7()) for _ in range(lo, min(lo + 100_000, moves))])
        c.exec_driver_sql("UPDATE sync_capture SET enabled = 1")
        c.commit()
    eng.dispose()
    return path


def _reset_peak_rss() -> None:
    """Start the process's peak-RSS counter (VmHWM) afresh, so it measures the first sync only."""
    with contextlib.suppress(OSError):  # not Linux, or not allowed: the peak then covers the whole run
        Path("/proc/self/clear_refs").write_text("5")


def _rss_mib(field: str) -> int:
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return int(line.split()[1]) // 1024
    except OSError:
        pass
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) // 1024


class _ServerCpu:
    """CPU seconds (user+sys) of the server backends a sync opens: read from /proc before each closes."""

    def __init__(self) -> None:
        self.seconds = 0.0

    @staticmethod
    def _cpu(pid: int) -> float:
        try:
            f = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # the server is on another machine: not measured
            return 0.0
        return (int(f[11]) + int(f[12])) / os.sysconf("SC_CLK_TCK")

    @contextlib.contextmanager
    def watch(self) -> Iterator[None]:
        """Count the backends the sync opens (its kept connection included: read when the block ends)."""
        from app.services.replication import conn as conn_mod
        from app.services.replication import engine as engine_mod
        from app.services.replication import link as link_mod

        opened = conn_mod.open_server
        live: dict[int, float] = {}

        def counted(dsn: str) -> Any:
            conn = opened(dsn)
            pid = conn.info.backend_pid
            live[pid] = self._cpu(pid)
            close = conn.close

            def closing() -> None:
                if pid in live:
                    self.seconds += self._cpu(pid) - live.pop(pid)
                close()

            conn.close = closing  # type: ignore[method-assign]
            return conn

        with mock.patch.object(engine_mod, "open_server", counted), mock.patch.object(link_mod, "open_server", counted):
            yield
        for pid, start in live.items():  # kept open for the next sync
            self.seconds += self._cpu(pid) - start


def _check(eng: Engine, tmp: Path) -> None:
    """Not timed: the synced site has a fresh site's indexes and triggers, and balances equal the ledger."""
    from sqlalchemy.orm import Session

    from app.services import schema
    from app.services.db import make_engine
    from app.services.stock import balance_mismatches

    q = "SELECT type, name, tbl_name, sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY type, name"
    fresh = make_engine(tmp / "fresh.db")
    schema.upgrade(fresh)
    with fresh.connect() as c:
        want = [tuple(r) for r in c.exec_driver_sql(q)]
    fresh.dispose()
    with eng.connect() as c:
        got = [tuple(r) for r in c.exec_driver_sql(q)]
    assert got == want, "the first sync changed the schema"
    with Session(eng) as s:
        bad = balance_mismatches(s)
    assert not bad, f"balances disagree with the ledger: {bad[:3]}"
    print("  checked: schema (indexes, triggers) as a fresh site's, balances equal the ledger")


def _cpu_all() -> float:
    """CPU seconds of this process and of its finished children (a decoding helper process, if any)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def _first_sync(role_dsn: str, tmp: Path, code: str, mode: str) -> None:
    """A new, empty workstation of branch ``code`` first-syncs; timed and checked."""
    from app.services import schema, wiring
    from app.services.db import make_engine, open_database
    from app.services.replication.engine import sync_once

    site = tmp / f"new-{uuid.uuid4().hex[:6]}.db"
    eng = make_engine(site)
    schema.upgrade(eng)
    eng.dispose()
    eng = open_database(site)
    last = [time.perf_counter()]

    def progress(table: str, done: int, total: int, rows: int) -> None:
        if os.environ.get("DEPOT_BENCH_VERBOSE"):
            print(f"    [{done}/{total}] {table}: {rows:,} rows, {time.perf_counter() - last[0]:.2f} s")

    wiring.load()  # the service modules a sync's settlers use: imported once per app run, not per sync
    _reset_peak_rss()
    base_rss = _rss_mib("VmRSS")
    load = os.getloadavg()[0]
    server = _ServerCpu()
    t0, c0 = time.perf_counter(), _cpu_all()
    with server.watch():
        res = sync_once(eng, role_dsn, progress=progress)
    first_s, first_cpu = time.perf_counter() - t0, _cpu_all() - c0
    peak_rss = _rss_mib("VmHWM")
    assert res.ok, res.error
    m = max(res.pulled, 1) / 1e6
    from app.services.replication.conn import get_state

    # selective: the branch's first workstation (which publishes its warehouse figures) also pulls its
    # own figures back; the later ones (a kept server's second and later runs) do not
    ws = get_state(eng, "workstation") or "-"
    print(f"  first sync of branch {code} ({mode}, workstation {ws}): {res.pulled:,} rows in {first_s:.1f} s = {res.pulled / first_s:,.0f} rows/s "
          f"(client CPU {first_cpu:.1f} s = {first_cpu / m:.1f} s per million rows, server CPU {server.seconds:.1f} s = "
          f"{server.seconds / m:.1f} s per million rows; peak RSS {peak_rss:,} MiB, {base_rss:,} MiB before; "
          f"load {load:.2f} -> {os.getloadavg()[0]:.2f})")
    _check(eng, tmp)
    eng.dispose()


def _copy(source: Path, tmp: Path) -> Path:
    """Publishing clears the source's outbox: work on a copy, never on the shared data set."""
    if source.parent == tmp:  # generated here
        return source
    t0 = time.perf_counter()
    copy = tmp / "source.db"
    shutil.copy(source, copy)
    print(f"sync_first: source {source} (copied in {time.perf_counter() - t0:.1f} s)")
    # a data set seeded by an earlier Depot (the shared large file) is brought to this schema first,
    # as 'depot db upgrade' would: publishing refuses a file of another schema
    from app.services import schema
    from app.services.db import make_engine

    eng = make_engine(copy)
    try:
        before = schema.db_heads(eng)
        if before != schema.upgrade(eng):
            print(f"  source upgraded to this schema in {time.perf_counter() - t0:.1f} s")
    finally:
        eng.dispose()
    return copy


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench sync_first")
    ap.add_argument("--db", type=Path, default=None)
    ap.add_argument("--moves", type=int, default=None,
                    help="generate a head office with this many moves (default 200,000 when the large set is not there)")
    ap.add_argument("--dsn", default=ADMIN)
    ap.add_argument("--selective", action="store_true", help="selective replication on the server (issue 20)")
    ap.add_argument("--server", default=None, metavar="NAME",
                    help="keep the published server database NAME for later runs (publish only if it is not there)")
    ap.add_argument("--compare", action="store_true",
                    help="two new workstations of the branch first-sync, pulling everything then selectively")
    args = ap.parse_args(argv)
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from app.services.db import open_database
    from app.services.replication.engine import publish_all
    from app.services.replication.server import add_branch, drop_roles, init_server, set_selective

    tmp = Path(tempfile.mkdtemp(prefix="depot-bench-first-"))
    source = args.db
    if source is None and args.moves is None and LARGE.exists() and Path(str(LARGE) + ".READY").exists():
        source = LARGE
    moves = 200_000 if args.moves is None else args.moves
    tag = secrets.token_hex(4)
    dbname = args.server or f"depot_b_{tag}"
    parts = conninfo_to_dict(args.dsn)
    dsn = make_conninfo("", **{k: str(v) for k, v in dict(parts, dbname=dbname).items() if v is not None})
    with psycopg.connect(args.dsn, autocommit=True) as c:
        kept = args.server is not None and c.execute("SELECT 1 FROM pg_database WHERE datname = %s",
                                                     (dbname,)).fetchone() is not None
        if kept:
            with psycopg.connect(dsn) as k:
                kept = k.execute("SELECT to_regclass('depot_meta') IS NOT NULL AND EXISTS (SELECT 1 FROM depot_meta "
                                 "WHERE key = 'bench_published')").fetchone() == (True,)
            if not kept:  # a run that stopped before its publish finished: start that database again
                c.execute(f'DROP DATABASE "{dbname}" WITH (FORCE)')
        if not kept:
            c.execute(f'CREATE DATABASE "{dbname}"')
    try:
        if kept:
            # the kept server is brought to this version's schema, as 'depot server init' does after an
            # upgrade (idempotent): a newer client refuses a server that lacks its migrations
            init_server(dsn)
            print(f"  server database {dbname} kept from an earlier run: no publish")
        else:
            init_server(dsn, role_prefix=f"db_{tag}_")
            if source is None:
                t0 = time.perf_counter()
                source = _generate(tmp / "hq.db", moves)
                print(f"sync_first: generated head office with {moves:,} moves in {time.perf_counter() - t0:.1f} s")
            src = open_database(_copy(source, tmp))
            t0 = time.perf_counter()
            n = publish_all(src, dsn)
            pub_s = time.perf_counter() - t0
            src.dispose()
            print(f"  publish (server init --from-db): {n:,} rows in {pub_s:.1f} s = {n / pub_s:,.0f} rows/s")
            with psycopg.connect(dsn) as c:
                c.execute("INSERT INTO depot_meta (key, value) VALUES ('bench_published', 'yes')")
        with psycopg.connect(dsn) as c:
            row = c.execute("SELECT code FROM branch WHERE NOT is_head_office ORDER BY code LIMIT 1").fetchone()
        assert row is not None, "the source has no branch"
        login = add_branch(dsn, str(row[0]), password="bench")
        role_dsn = make_conninfo("", **{k: str(v) for k, v in dict(parts, dbname=dbname, user=login.role,
                                                                       password="bench").items() if v is not None})
        modes = ["everything", "selective"] if args.compare else ["selective" if args.selective else "everything"]
        for mode in modes:
            set_selective(dsn, mode == "selective")
            _first_sync(role_dsn, tmp, str(row[0]), mode)
    finally:
        try:
            if args.server is None:
                try:
                    drop_roles(dsn)
                finally:
                    with psycopg.connect(args.dsn, autocommit=True) as c:
                        c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    return 0
