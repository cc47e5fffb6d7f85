"""Push and pull throughput against the real PostgreSQL server (goal: push >= 20,000 rows/s).

Builds a private server database (dropped at the end), a head office that publishes a small
world, and a Dallas branch; then for each batch size Dallas posts ``--rows`` stock moves
(ledger rows, through ``post_moves``, so the outbox is filled by the real triggers), pushes
them (timed), and a second Dallas workstation pulls them (timed).

    depot bench sync_push [--rows 20000] [--batches 1000,10000] [--dsn "host=127.0.0.1 user=postgres"]
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ADMIN = "host=127.0.0.1 port=5432 user=postgres dbname=postgres"


@dataclass
class BenchNet:
    admin_dsn: str  # owner DSN of the bench database
    dbname: str
    role_dsn: dict[str, str]
    hq: Path
    dal: Path
    tmp: Path
    world: Any

    def new_site(self, name: str, code: str) -> Path:
        """A fresh, migrated, first-synced workstation of branch ``code``."""
        from app.services.db import open_database
        from app.services.replication.engine import sync_once

        path = self.tmp / f"{name}.db"
        shutil.copy(self.tmp / "template.db", path)
        eng = open_database(path)
        res = sync_once(eng, self.role_dsn[code])
        eng.dispose()
        assert res.ok, res.error
        return path


@contextmanager
def bench_net(admin: str = ADMIN) -> Iterator[BenchNet]:
    """A private server database with head office (published world) and DAL/HOU logins."""
    import psycopg
    from psycopg.conninfo import conninfo_to_dict, make_conninfo

    from app.services import schema
    from app.services.db import make_engine, open_database, session_scope
    from app.services.replication.engine import sync_once
    from app.services.replication.server import add_branch, drop_roles, init_server
    from tests.factories import build_world

    tag = secrets.token_hex(4)
    dbname = f"depot_b_{tag}"
    with psycopg.connect(admin, autocommit=True) as c:
        c.execute(f'CREATE DATABASE "{dbname}"')
    parts = conninfo_to_dict(admin)
    parts["dbname"] = dbname
    dsn = make_conninfo("", **{k: str(v) for k, v in parts.items() if v is not None})
    tmp = Path(tempfile.mkdtemp(prefix="depot-bench-sync-"))
    try:
        init_server(dsn, role_prefix=f"db_{tag}_")
        tpl = tmp / "template.db"
        eng = make_engine(tpl)
        schema.upgrade(eng)
        eng.dispose()
        hq = tmp / "hq.db"
        shutil.copy(tpl, hq)
        eng = open_database(hq)
        with session_scope(eng) as s:
            world = build_world(s)
        res = sync_once(eng, dsn)
        assert res.ok, res.error
        eng.dispose()
        roles = {}
        for code in ("HQ", "DAL", "HOU"):
            login = add_branch(dsn, code, password="bench")
            p = dict(parts, user=login.role, password="bench")
            roles[code] = make_conninfo("", **{k: str(v) for k, v in p.items() if v is not None})
        net = BenchNet(dsn, dbname, roles, hq, tmp / "dal.db", tmp, world)
        net.new_site("dal", "DAL")
        yield net
    finally:
        try:
            drop_roles(dsn)
        finally:
            with psycopg.connect(admin, autocommit=True) as c:
                c.execute(f'DROP DATABASE IF EXISTS "{dbname}" WITH (FORCE)')
            shutil.rmtree(tmp, ignore_errors=True)


def post_moves_at(path: Path, world: Any, n: int, chunk: int = 2000) -> None:
    """``n`` receipt moves at Dallas through the real ledger service (outbox filled by triggers)."""
    from app.services.db import open_database, session_scope
    from app.services.stock import MoveSpec, post_moves, virtual_location

    eng = open_database(path)
    item = world.items["BOLT"].id
    dest = world.bins["DAL1-A-02"].id
    with session_scope(eng) as s:
        src = virtual_location(s, world.wh_dal.id, "supplier").id
    done = 0
    while done < n:
        k = min(chunk, n - done)
        with session_scope(eng) as s:
            post_moves(s, None, [MoveSpec(item, 1, src, dest, "receipt")] * k, owner_branch_id=world.dal.id)
        done += k
    eng.dispose()


def main(argv: list[str]) -> int:
    ap = argparse.ArgumentParser(prog="depot bench sync_push")
    ap.add_argument("--rows", type=int, default=20_000)
    ap.add_argument("--batches", default="1000,10000")
    ap.add_argument("--dsn", default=ADMIN, help="superuser DSN of the server (a private database is created)")
    args = ap.parse_args(argv)
    from app.services.db import open_database
    from app.services.replication.engine import sync_once

    sizes = [int(b) for b in args.batches.split(",")]
    print(f"sync_push: {args.rows:,} stock moves per run, batch sizes {sizes}")
    with bench_net(args.dsn) as net:
        reader = net.new_site("dal2", "DAL")
        for size in sizes:
            post_moves_at(net.dal, net.world, args.rows)
            eng = open_database(net.dal)
            t0 = time.perf_counter()
            res = sync_once(eng, net.role_dsn["DAL"], batch_size=size, do_pull=False)
            push_s = time.perf_counter() - t0
            eng.dispose()
            assert res.ok and res.pushed == args.rows and res.pending == 0, res
            eng = open_database(reader)
            t0 = time.perf_counter()
            res2 = sync_once(eng, net.role_dsn["DAL"], do_push=False)
            pull_s = time.perf_counter() - t0
            eng.dispose()
            assert res2.ok and res2.pulled >= args.rows, res2
            print(f"  batch {size:>6,}: push {args.rows / push_s:>9,.0f} rows/s ({push_s:.2f} s)   "
                  f"pull {res2.pulled / pull_s:>9,.0f} rows/s ({res2.pulled:,} rows, {pull_s:.2f} s)")
    return 0
