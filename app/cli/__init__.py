"""The `depot` command line.

Every module in this package that defines ``register(subparsers)`` adds its sub-commands;
a later issue adds a module here and touches nothing else. A handler takes the parsed
``args`` and returns an exit code. A ``DomainError`` (or a bad argument) prints one line
``depot: error: ...`` on stderr and exits 1 (2 for usage errors).

Conventions: ``--db PATH`` is global (default ``$DEPOT_DB`` or the user data folder);
reporting commands take ``--json`` and print one JSON document on stdout.
"""

from __future__ import annotations

import argparse
import importlib
import os
import pkgutil
import sys
from collections.abc import Sequence
from pathlib import Path

from app import __version__
from app.cli.args import path_arg
from app.services import logfile, wiring
from app.services.errors import DomainError
from app.services.paths import default_db_path


def build_parser(only: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The full parser; ``only`` limits it to those command modules (the GUI's fast start)."""
    parser = argparse.ArgumentParser(prog="depot", description="Depot: back office for wholesale distributors")
    parser.add_argument("--version", action="version", version=f"depot {__version__}")
    parser.add_argument("--db", type=path_arg, default=None, help="branch database file (default: $DEPOT_DB)")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    for mod in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
        if only is not None and mod.name not in only:
            continue
        module = importlib.import_module(f"{__name__}.{mod.name}")
        register = getattr(module, "register", None)
        if register is not None:
            register(sub)
    return parser


def db_path(args: argparse.Namespace) -> Path:
    return Path(args.db) if getattr(args, "db", None) else default_db_path()


def _wants_gui(argv: Sequence[str]) -> bool:
    """No sub-command, or `gui`: skip importing every command module (cold start matters)."""
    words = [a for a in argv if not a.startswith("-")]
    if "--db" in argv:  # the value of --db is not a command
        i = list(argv).index("--db")
        if i + 1 < len(argv) and argv[i + 1] in words:
            words.remove(argv[i + 1])
    return (not words or words[0] == "gui") and not {"-h", "--help", "--version"} & set(argv)


def run(argv: Sequence[str]) -> int:
    """Parse and run one command. Whatever happens, the terminal gets one line, never a
    traceback: a ``DomainError`` (exit 1), a database or file problem (exit 1), or an
    unexpected exception, whose traceback goes to a report file (``crashlog``) and whose
    line says where (exit 2)."""
    try:
        parser = build_parser(only=("gui",) if _wants_gui(argv) else None)
        args = parser.parse_args(list(argv))
        wiring.install()  # the first follow-up or settlement loads every package's handlers
        logfile.setup("depot " + str(args.command or "gui"))  # opened only when something is logged
        if not args.command:
            args = parser.parse_args([*argv, "gui"])
        code = int(args.func(args) or 0)
        sys.stdout.flush()  # a closed pipe shows up here, inside the handler below
        return code
    except DomainError as e:
        print(f"depot: error: {_one_line(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print("depot: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # `depot ... | head`: the reader left; not an error worth a traceback
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 141
    except SystemExit:
        raise  # argparse's usage errors (exit 2) and --help / --version (exit 0)
    except Exception as e:  # noqa: BLE001 - the one place an unexpected error meets the user
        return _unexpected(e, argv)


def _unexpected(e: Exception, argv: Sequence[str]) -> int:
    from sqlalchemy.exc import DBAPIError

    from app.services import crashlog
    from app.services.db import translate

    if isinstance(e, DBAPIError) and type(e.orig).__module__.startswith("sqlite3"):
        # locked, corrupt, read-only, disk full: the user can act on these
        print(f"depot: error: {translate(e, _db_arg(argv))}", file=sys.stderr)
        return 1
    if isinstance(e, OSError) and e.strerror:
        where = f": {e.filename}" if e.filename else ""
        print(f"depot: error: {e.strerror}{where}", file=sys.stderr)
        return 1
    err = crashlog.internal_error(e, context="depot " + " ".join(argv))
    print(f"depot: error: {err}", file=sys.stderr)
    return 2


def _one_line(text: str) -> str:
    """`depot: error:` is one line whatever the message quotes (a file name, a cell with a line break)."""
    return " ".join(text.splitlines()) if "\n" in text or "\r" in text else text


def _db_arg(argv: Sequence[str]) -> str:
    args = list(argv)
    if "--db" in args and args.index("--db") + 1 < len(args):
        return args[args.index("--db") + 1]
    return str(default_db_path())
