"""`depot seed --size demo|large [--seed N] [--branch CODE] [--db PATH] [--json]`."""

from __future__ import annotations

import argparse
import sys

from app.cli.common import add_db_option, add_json_option, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("seed", help="create a new database filled with demo or large-scale data")
    p.add_argument("--size", choices=("demo", "large"), default="demo",
                   help="demo: 3 branches, ~500 items, a year of history; large: 50,000 items x 3 warehouses")
    p.add_argument("--seed", type=int, default=1, help="random seed: the same seed gives the same data (default 1)")
    p.add_argument("--branch", default=None, help="branch this database works for (DAL, HOU or PHX; default DAL)")
    p.add_argument("--quiet", action="store_true", help="no progress lines on stderr")
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=_seed)


def _seed(args: argparse.Namespace) -> int:
    from app.cli import db_path
    from app.services.seed import seed_database

    path = db_path(args)
    last: list[str] = [""]

    def progress(done: int, total: int, text: str) -> None:
        if args.quiet or text == last[0]:
            return
        last[0] = text
        print(f"seed: {done * 100 // max(total, 1):3d}% {text}", file=sys.stderr, flush=True)

    report = seed_database(path, args.size, args.seed, args.branch, progress, day_under_way=True)
    if args.json:
        print_json(report.as_dict())
        return 0
    c = report.counts
    print(f"{report.path}: {args.size} data (seed {report.seed}, branch {report.branch}) in {report.seconds:.1f} s, "
          f"{report.file_bytes / 1e6:.1f} MB")
    print(f"  {c.get('item', 0):,} items, {c.get('location', 0):,} locations, {c.get('stock_move', 0):,} stock moves, "
          f"{c.get('purchase_order', 0):,} POs, {c.get('sales_order', 0):,} sales orders, "
          f"{c.get('shipment', 0):,} shipments in transit")
    print("  users: buyer, approver, receiver, warehouse, dispatcher, clerk, manager, admin (password 'demo')")
    if report.samples:
        print(f"  partner EDI files and an Excel CSV to try: {report.samples} (see README.txt there)")
    return 0
