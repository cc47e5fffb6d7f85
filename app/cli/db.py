"""`depot db upgrade|check|rebuild-balances`."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import add_db_option, add_json_option, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("db", help="database schema and integrity")
    dsub = p.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    up = dsub.add_parser("upgrade", help="create the database or bring it to the newest schema "
                                         "(a file of an older Depot is backed up first)")
    add_db_option(up)
    up.add_argument("--no-backup", action="store_true", help="upgrade an older file without backing it up first")
    up.set_defaults(func=_upgrade)
    chk = dsub.add_parser("check", help="check the schema version and that balances match the ledger")
    add_db_option(chk)
    add_json_option(chk)
    chk.set_defaults(func=_check)
    rb = dsub.add_parser("rebuild-balances", help="recompute stock balances from the ledger")
    add_db_option(rb)
    rb.set_defaults(func=_rebuild)


def _upgrade(args: argparse.Namespace) -> int:
    from app.cli import db_path
    from app.services import backup, schema
    from app.services.db import check_file, make_engine
    from app.services.settings import Settings

    path = db_path(args)
    check_file(path, must_exist=False)
    path.parent.mkdir(parents=True, exist_ok=True)
    if args.no_backup or not path.exists():
        engine = make_engine(path)
        try:
            heads = schema.upgrade(engine, progress=_say)
        finally:
            engine.dispose()
    else:
        settings = Settings()
        taken, heads = backup.upgrade_with_backup(path, backup.folder_from(settings),
                                                  keep_days=backup.keep_days_from(settings), progress=_say)
        if taken is not None:
            print(f"{path}: {taken.line()} before upgrading")
    print(f"{path}: schema at {', '.join(sorted(heads))}")
    return 0


def _say(_step: int, _steps: int, line: str) -> None:
    """An upgrade of a large file takes minutes: each step on stderr as it starts, with the time."""
    import time

    if line != "done":
        print(f"depot: {time.strftime('%H:%M:%S')} {line}", file=sys.stderr, flush=True)


def _check(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.stock import balance_mismatches

    with session_for(args) as s:
        bad = balance_mismatches(s)
    if args.json:
        print_json({"ok": not bad, "mismatches": [list(map(str, r)) for r in bad]})
    else:
        print("ok: balances match the ledger" if not bad else f"{len(bad)} balance rows disagree with the ledger")
    return 0 if not bad else 1


def _rebuild(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.stock import rebuild_balances

    with session_for(args) as s:
        n = rebuild_balances(s)
    print(f"rebuilt {n} balance rows from the ledger")
    return 0
