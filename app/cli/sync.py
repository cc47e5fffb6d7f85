"""`depot sync [--once] [--json] [--dsn DSN]`, `depot sync status|conflicts|publish-all`.

Without --once the command keeps syncing on the back-off timer until interrupted (a
headless branch). The exit code of --once is 0 when the run reached the server, 1 when it
ran offline (the reason is printed; the outbox is kept).
"""

from __future__ import annotations

import argparse
import sys
import time

from app.cli.common import add_db_option, add_json_option, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("sync", help="replicate with the shared server (push the outbox, pull changes)")
    add_db_option(p)
    add_json_option(p)
    p.add_argument("--once", action="store_true", help="one run, then exit")
    p.add_argument("--dsn", help="server address; remembered (without password) for later runs")
    p.add_argument("--batch", type=int, default=1000, help="outbox rows per server transaction")
    p.add_argument("--interval", type=float, default=30.0, help="seconds between runs (loop mode)")
    p.add_argument("--publish-all", action="store_true",
                   help="send every replicated row of this database (a seeded head office), then sync")
    p.set_defaults(func=_sync)
    ssub = p.add_subparsers(dest="sync_command", required=False, metavar="ACTION")
    st = ssub.add_parser("status", help="pending changes, last sync, last error")
    add_db_option(st)
    add_json_option(st)
    st.set_defaults(func=_status)
    cf = ssub.add_parser("conflicts", help="versions that lost or that the server refused")
    add_db_option(cf)
    add_json_option(cf)
    cf.add_argument("--limit", type=int, default=50)
    cf.set_defaults(func=_conflicts)


def _engine(args: argparse.Namespace):  # type: ignore[no-untyped-def]
    from app.cli.common import engine_for

    return engine_for(args)


def _sync(args: argparse.Namespace) -> int:
    from app.services.replication.engine import Backoff, configure, publish_all, sync_once

    engine = _engine(args)
    try:
        if args.dsn:
            configure(engine, args.dsn)
        if args.publish_all:
            from app.services.replication.conn import get_state

            n = publish_all(engine, args.dsn or get_state(engine, "dsn"))
            if not args.json:
                print(f"published {n:,} rows")
        backoff = Backoff(interval_s=args.interval)
        while True:
            res = sync_once(engine, args.dsn, batch_size=args.batch,
                            progress=None if args.json or not args.once else _progress)
            if args.json:
                print_json(res.as_dict())
            else:
                if res.ok:
                    print(f"online: pushed {res.pushed}, pulled {res.pulled}, lost {res.lost}, "
                          f"rejected {res.rejected}, {res.pending} pending ({res.duration_ms} ms)")
                    if res.settled:  # what this branch updated on its own documents after others acted
                        print("settled: " + ", ".join(f"{k} {v}" for k, v in res.settled.items()))
                    for err in res.settle_errors:
                        print(err, file=sys.stderr)
                else:
                    print(f"offline: {res.error} · {res.pending} pending")
            if args.once:
                return 0 if res.ok else 1
            time.sleep(backoff.next_delay(res.ok))
    finally:
        engine.dispose()


def _progress(table: str, done: int, total: int, rows: int) -> None:
    if rows:
        print(f"  pull [{done}/{total}] {table}: {rows:,} rows", flush=True)


def _status(args: argparse.Namespace) -> int:
    from app.services.replication.engine import status

    engine = _engine(args)
    try:
        st = status(engine)
    finally:
        engine.dispose()
    if args.json:
        print_json(st)
    else:
        print(st.line())
        print(f"server: {st.server or '(none)'} · conflicts logged: {st.conflicts}")
    return 0


def _conflicts(args: argparse.Namespace) -> int:
    from sqlalchemy import text

    engine = _engine(args)
    try:
        with engine.connect() as c:
            rows = [dict(r._mapping) for r in c.execute(
                text("SELECT seq, at, tbl, row_id, kind, reason, local_row FROM sync_conflict ORDER BY seq DESC LIMIT :n"),
                {"n": args.limit})]
    finally:
        engine.dispose()
    if args.json:
        print_json(rows)
    else:
        print_table(rows, ["seq", "at", "tbl", "row_id", "kind", "reason"])
    return 0
