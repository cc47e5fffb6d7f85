"""`depot backup [--to DIR]`, `backup list|verify`, `depot restore FILE`: the branch database's backups
(app.services.backup / app.services.restore; the window's scheduled job runs the same code)."""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

from app.cli.args import path_arg
from app.cli.common import add_db_option, add_json_option, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("backup", help="back up the branch database while it is in use; list and verify backups")
    add_db_option(p)
    add_json_option(p)
    p.add_argument("--to", type=path_arg, default=None,
                   help="backup folder (an existing folder, may be a network share; default: Settings > Backups)")
    p.add_argument("--keep-days", type=int, default=None, help="remove this branch's backups older than N days")
    p.set_defaults(func=_backup)
    bsub = p.add_subparsers(dest="backup_command", required=False, metavar="ACTION")
    ls = bsub.add_parser("list", help="the backups in the backup folder, newest first")
    ls.add_argument("--dir", "--to", dest="dir", type=path_arg, default=None,
                    help="folder to list (default: Settings > Backups)")
    add_json_option(ls)
    add_db_option(ls)
    ls.set_defaults(func=_list)
    ver = bsub.add_parser("verify", help="restore a backup into a scratch file and check it (integrity, schema, balances)")
    ver.add_argument("file", type=path_arg)
    add_json_option(ver)
    ver.set_defaults(func=_verify)
    r = sub.add_parser("restore", help="replace the branch database with a backup (checked first; the current file is kept)")
    add_db_option(r)
    add_json_option(r)
    r.add_argument("file", type=path_arg, help="the backup file")
    r.add_argument("--no-sync", action="store_true", help="do not re-sync with the server right after")
    r.set_defaults(func=_restore)


def _settings() -> object:
    from app.services.settings import Settings

    return Settings()


def _backup(args: argparse.Namespace) -> int:
    from app.cli import db_path
    from app.services import backup
    from app.services.db import check_file

    settings = _settings()
    path = check_file(db_path(args))
    folder = args.to or backup.folder_from(settings)
    keep = args.keep_days if args.keep_days is not None else backup.keep_days_from(settings)
    if keep < 1:
        from app.services.errors import ValidationError

        raise ValidationError("--keep-days", "must be 1 or more")
    report = backup.take_backup(path, folder, keep_days=keep)
    backup.remember(settings, report)
    if args.json:
        print_json(report)
    else:
        print(report.line())
        for p in report.removed:
            print(f"removed {p}")
    return 0


def _list(args: argparse.Namespace) -> int:
    from app.services import backup

    # `depot backup --to DIR list` names the folder before the action: list that one, not the default
    folder = args.dir or getattr(args, "to", None) or backup.folder_from(_settings())
    rows = backup.list_backups(folder)
    if args.json:
        print_json([b.as_dict() for b in rows])
        return 0
    print(f"{folder}:")
    print_table([{"taken (UTC)": b.taken_at.strftime("%Y-%m-%d %H:%M:%S"), "branch": b.branch,
                  "size MB": f"{b.size / 1e6:.1f}", "file": b.path.name} for b in rows])
    return 0


def _verify(args: argparse.Namespace) -> int:
    from app.services.restore import verify

    with tempfile.TemporaryDirectory(prefix="depot-verify-") as tmp:
        rep = verify(Path(args.file), Path(tmp))
    if args.json:
        print_json(rep)
    else:
        for line in rep.lines:
            print(line)
        print("ok: the backup restores" if rep.ok else "the backup restores, but its balances disagree with its ledger")
    return 0 if rep.ok else 1


def _restore(args: argparse.Namespace) -> int:
    from app.cli import db_path
    from app.services.restore import restore

    rep = restore(db_path(args), Path(args.file), sync=not args.no_sync)
    if args.json:
        print_json(rep)
    else:
        for line in rep.lines():
            print(line)
    return 0
