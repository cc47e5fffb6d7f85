"""`depot import KIND FILE.csv [--skip-bad] [--json]` and `depot export TABLE [--out FILE]`.

A rejected import prints every bad row as ``FILE:LINE: reason`` on stderr, then the one
``depot: error:`` line, and exits 1 with nothing written.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from app.cli.args import path_arg
from app.cli.common import add_db_option, add_json_option, output_path, print_json

IMPORT_KINDS = ("items", "suppliers", "customers", "item-suppliers", "stock", "orders", "branches", "warehouses",
                "locations", "purchase-orders", "order-points", "sales-history", "carriers")


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("import", help="import master data, opening stock or open orders from a legacy CSV file")
    p.add_argument("kind", choices=IMPORT_KINDS, help="what the file holds")
    p.add_argument("file", type=path_arg, nargs="?", help="CSV file with a header row (see docs/data.md for the columns)")
    p.add_argument("--skip-bad", action="store_true", help="import the good rows and list the bad ones")
    p.add_argument("--encoding", default=None,
                   help="the file's encoding when detection guesses wrong (default: byte-order mark, UTF-8, "
                        "else Windows-1252)")
    p.add_argument("--delimiter", default=None,
                   help="the column separator: , ; tab or | (default: detected from the header)")
    p.add_argument("--check", action="store_true", help="check the file and list its bad rows; write nothing")
    p.add_argument("--sample", action="store_true",
                   help="print a sample file for KIND (its columns and two example rows) instead of importing")
    p.add_argument("--user", default=None,
                   help="user the import is recorded under (needs import rights; default admin, or nobody while "
                        "a new file has no users and the kind is branches, warehouses or locations)")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=_import)
    e = sub.add_parser("export", help="write a table to CSV")
    e.add_argument("table", nargs="?", help="table name (see --list)")
    e.add_argument("--out", type=path_arg, default=None, help="output file (default: standard output)")
    e.add_argument("--list", action="store_true", help="list the tables that can be exported")
    add_db_option(e)
    e.set_defaults(func=_export)


def _import(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.importer import ImportRejected, import_csv

    if args.sample:
        from app.services.importer.samples import sample_csv

        sys.stdout.write(sample_csv(args.kind))
        return 0
    if args.file is None:
        from app.services.errors import ValidationError

        raise ValidationError("file", f"name the CSV file to import (or --sample to see a {args.kind} file)")
    try:
        with session_for(args) as s:
            actor = _import_actor(s, args.user)
            result = import_csv(s, actor, args.kind, args.file, skip_bad=args.skip_bad, dry_run=args.check,
                                encoding=args.encoding, delimiter=args.delimiter)
    except ImportRejected as e:
        for note in e.notes:
            print(f"{e.source}: {note}", file=sys.stderr)
        if not e.header:
            for p in e.problems:
                print(f"{e.source}:{p.line}: {p.reason}", file=sys.stderr)
        raise
    if args.json:
        print_json(result.as_dict())
        return 0
    for note in result.notes:
        print(f"{result.source}: {note}")
    if result.dry_run:
        for p in result.skipped:
            print(f"{result.source}:{p.line}: {p.reason}", file=sys.stderr)
        print(f"checked {result.rows} rows of {result.source}: {result.rows - len(result.skipped)} good, "
              f"{len(result.skipped)} bad; nothing written")
        return 1 if result.skipped else 0
    for p in result.skipped:
        print(f"{result.source}:{p.line}: skipped: {p.reason}", file=sys.stderr)
    print(f"imported {result.imported} {args.kind} from {result.source}"
          + (f" ({result.replaced} replaced)" if result.replaced else "")
          + (f"; skipped {len(result.skipped)} bad rows" if result.skipped else ""))
    return 0


def _import_actor(s: Any, user: str | None) -> Any:
    """--user, else admin; on a file that has no users yet, nobody (org kinds only)."""
    from app.services.auth import actor_by_name
    from app.services.org.setup import in_setup

    if user is None and in_setup(s):
        return None
    return actor_by_name(s, user or "admin")


def _export(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.errors import ValidationError
    from app.services.exporter import check_table, export_table, table_names

    if args.list:
        print("\n".join(table_names()))
        return 0
    if not args.table:
        raise ValidationError("table", "name the table to export (or --list)")
    check_table(args.table)
    if args.out is not None:
        args.out = output_path(args.out, f"{args.table}.csv")
    with session_for(args) as s:
        if args.out is None:
            n = export_table(s, args.table, sys.stdout)
        else:
            tmp = args.out.with_name(args.out.name + ".part")
            with tmp.open("w", newline="", encoding="utf-8") as f:
                n = export_table(s, args.table, f)
            tmp.replace(args.out)
    if args.out is not None:
        print(f"exported {n} rows of {args.table} to {args.out}", file=sys.stderr)
    return 0
