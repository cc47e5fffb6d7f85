"""`depot bench NAME [ARGS]`: run a benchmark from bench/ (only in a source checkout)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("bench", help="run a benchmark from bench/ (see README for the figures)")
    p.add_argument("name", nargs="?", help="benchmark name; omit to list them")
    p.add_argument("args", nargs=argparse.REMAINDER)
    p.set_defaults(func=_bench)


def _bench(args: argparse.Namespace) -> int:
    root = Path(__file__).resolve().parents[2]
    if not (root / "bench").is_dir():
        print("depot: error: benchmarks live in the source checkout (bench/ not found)", file=sys.stderr)
        return 1
    sys.path.insert(0, str(root))
    from bench.__main__ import run

    return run(([args.name] if args.name else []) + list(args.args))
