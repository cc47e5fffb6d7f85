"""`depot server init|add-branch|purge|check`: set up and look after the shared PostgreSQL server.

Run with an owner (or superuser) DSN. ``init --from-db FILE`` also publishes every
replicated row of a seeded head-office database (the seed writes with capture off, so
its rows are not in the outbox).
"""

from __future__ import annotations

import argparse
import os

from app.cli.common import add_json_option, print_json


def _dsn(args: argparse.Namespace) -> str:
    from app.services.errors import ValidationError

    dsn = args.dsn or os.environ.get("DEPOT_SERVER_DSN", "")
    if not dsn:
        raise ValidationError("--dsn", "give the server address (or set DEPOT_SERVER_DSN)")
    return str(dsn)


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("server", help="shared PostgreSQL server: schema, branch logins, tombstone purge")
    ssub = p.add_subparsers(dest="server_command", required=True, metavar="ACTION")
    init = ssub.add_parser("init", help="create or upgrade the server schema (idempotent)")
    init.add_argument("--dsn", help="owner/superuser DSN (default $DEPOT_SERVER_DSN)")
    init.add_argument("--role-prefix", default=None,
                      help="prefix of the branch roles (default: the server database's name, e.g. depot_; fixed at "
                           "the first init, except to give a copied database logins of its own)")
    init.add_argument("--min-client", default=None,
                      help="comma-separated schema revisions every client must have (the schema gate)")
    init.add_argument("--from-db", default=None, help="publish every row of this (seeded head-office) database")
    init.add_argument("--selective", choices=("on", "off"), default=None,
                      help="branch workstations pull only their branch's rows, what references their warehouses, "
                           "master data and the sister-warehouse figures (head office pulls everything); kept until changed")
    add_json_option(init)
    init.set_defaults(func=_init)
    ab = ssub.add_parser("add-branch", help="create the login role of a branch (password into the keyring, or printed once)")
    ab.add_argument("code")
    ab.add_argument("--dsn")
    ab.add_argument("--print", action="store_true", help="print the password instead of storing it in the keyring")
    ab.set_defaults(func=_add_branch)
    pu = ssub.add_parser("purge", help="delete tombstones every site has already pulled, and acknowledged receipts")
    pu.add_argument("--dsn")
    pu.add_argument("--site-expiry-days", type=int, default=None,
                    help="a workstation unseen this long no longer holds purge back (default 30)")
    add_json_option(pu)
    pu.set_defaults(func=_purge)
    ck = ssub.add_parser("check", help="server settings and state that decide sync cost (autovacuum, statistics, "
                                       "connections, long transactions)")
    ck.add_argument("--dsn")
    ck.add_argument("--fix", action="store_true", help="ANALYZE the replicated tables first")
    add_json_option(ck)
    ck.set_defaults(func=_check)


def _init(args: argparse.Namespace) -> int:
    from app.services.replication.server import init_server

    mins = {r.strip() for r in args.min_client.split(",") if r.strip()} if args.min_client else None
    selective = None if args.selective is None else args.selective == "on"
    info = init_server(_dsn(args), role_prefix=args.role_prefix, min_client_revisions=mins, selective=selective)
    published = 0
    if args.from_db:
        from app.services.db import open_database
        from app.services.replication.engine import publish_all

        engine = open_database(args.from_db)
        try:
            published = publish_all(engine, _dsn(args), progress=None if args.json else _progress)
        finally:
            engine.dispose()
    if args.json:
        print_json({"tables": info.tables, "revisions": info.revisions, "role_prefix": info.role_prefix,
                    "min_client_revisions": info.min_client_revisions, "selective": info.selective,
                    "published_rows": published})
    else:
        print(f"server schema ready: {len(info.tables)} replicated tables, role prefix {info.role_prefix}, "
              f"selective replication {'on' if info.selective else 'off'}")
        if args.from_db:
            print(f"published {published:,} rows from {args.from_db}")
    return 0


def _progress(table: str, done: int, total: int, rows: int) -> None:
    print(f"  [{done}/{total}] {table}: {rows:,} rows so far", flush=True)


def _add_branch(args: argparse.Namespace) -> int:
    """Never loses the generated password: without --print, where it will be stored is checked
    before the role is made, and should storing still fail, the password is printed instead."""
    from app.services import secrets
    from app.services.replication.conn import store_password
    from app.services.replication.server import add_branch

    if not args.print and secrets.current().kind == "none":
        raise secrets.SecretStoreError(
            f"{secrets.NO_KEYRING}, so the new password of {args.code.upper()} could not be kept: nothing was "
            f"created. Run again with --print (the password is shown once), or set {secrets.PASSPHRASE_ENV} to keep "
            "it in Depot's encrypted secrets file")
    login = add_branch(_dsn(args), args.code)
    if args.print:
        print(f"role {login.role} password {login.password}  (shown once: give it to the branch)")
        return 0
    try:
        store_password(login.role, login.password)
    except secrets.SecretStoreError as e:
        print(f"role {login.role} created, but its password could not be stored ({e}).")
        print(f"role {login.role} password {login.password}  (shown once: give it to the branch)")
        return 0
    where = "this machine's keyring" if secrets.current().kind == "os" else f"Depot's secrets ({secrets.status().text})"
    print(f"role {login.role} created; password stored in {where}")
    return 0


def _expiry(args: argparse.Namespace) -> int:
    from app.services.errors import ValidationError
    from app.services.replication.server import SITE_EXPIRY_DAYS

    days = SITE_EXPIRY_DAYS if args.site_expiry_days is None else int(args.site_expiry_days)
    if days < 1:
        raise ValidationError("--site-expiry-days", "must be at least 1")
    return days


def _purge(args: argparse.Namespace) -> int:
    from app.services.replication.maintenance import purge_receipts
    from app.services.replication.server import purge_tombstones

    out = purge_tombstones(_dsn(args), site_expiry_days=_expiry(args))
    receipts = purge_receipts(_dsn(args))
    if args.json:
        print_json({**out, "depot_receipt": receipts})
    else:
        print(f"purged {sum(out.values())} tombstones" + (f" ({', '.join(f'{k} {v}' for k, v in out.items())})" if out else "")
              + f" and {receipts} acknowledged receipts")
    return 0


def _check(args: argparse.Namespace) -> int:
    from app.services.replication.maintenance import analyze, check_server

    analyzed = analyze(_dsn(args)) if args.fix else 0
    found = check_server(_dsn(args))
    if args.json:
        print_json({"analyzed": analyzed, "findings": [f.__dict__ for f in found]})
    else:
        if analyzed:
            print(f"analyzed {analyzed} tables")
        for f in found:
            print(f.line())
    return 0 if all(f.ok for f in found) else 1
