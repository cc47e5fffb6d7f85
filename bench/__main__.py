"""`python -m bench [NAME [ARGS...]]`: run one benchmark, or list them."""

from __future__ import annotations

import importlib
import pkgutil
import sys
from pathlib import Path


def names() -> list[str]:
    return sorted(m.name for m in pkgutil.iter_modules([str(Path(__file__).parent)]) if not m.name.startswith("_"))


def run(argv: list[str]) -> int:
    if not argv:
        print("benchmarks: " + ", ".join(names()))
        return 0
    if argv[0] not in names():
        print(f"depot: error: unknown benchmark {argv[0]!r} (benchmarks: {', '.join(names())})", file=sys.stderr)
        return 2
    from app.services import wiring
    from app.services.errors import DomainError

    wiring.install()  # follow-up handlers and settlers load on first need, as in the depot command
    module = importlib.import_module(f"bench.{argv[0]}")
    try:
        return int(module.main(argv[1:]) or 0)
    except DomainError as e:  # a database to upgrade, a missing file, nothing to learn from: a sentence
        print(f"depot bench {argv[0]}: error: {e}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(run(sys.argv[1:]))
