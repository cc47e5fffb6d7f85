"""`python -m app` = the `depot` command: the GUI by default, sub-commands for headless jobs."""

from __future__ import annotations

import sys
import threading
from types import TracebackType


def _hook(exc_type: type[BaseException], exc: BaseException, tb: TracebackType | None) -> None:
    """Anything that escapes ``run`` (or a worker thread): one line, the traceback in a report."""
    if issubclass(exc_type, KeyboardInterrupt):
        print("depot: interrupted", file=sys.stderr)
        return
    try:
        from app.services.crashlog import excepthook_line

        print(excepthook_line(exc_type, exc, tb), file=sys.stderr)
    except Exception:  # noqa: BLE001 - the last resort must not raise
        print(f"depot: error: internal error ({exc_type.__name__})", file=sys.stderr)


def _thread_hook(args: threading.ExceptHookArgs) -> None:
    if args.exc_value is not None and not issubclass(args.exc_type, SystemExit):
        _hook(args.exc_type, args.exc_value, args.exc_traceback)


def main(argv: list[str] | None = None) -> int:
    sys.excepthook = _hook
    threading.excepthook = _thread_hook
    from app.cli import run

    return run(sys.argv[1:] if argv is None else argv)


if __name__ == "__main__":
    sys.exit(main())
