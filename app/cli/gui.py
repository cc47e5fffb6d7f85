"""`depot gui [--demo]`: open the application window (the default command)."""

from __future__ import annotations

import argparse

from app.cli.common import add_db_option


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("gui", help="open the application window (default)")
    add_db_option(p)
    p.add_argument("--demo", action="store_true", help="use (and create if missing) the demo database")
    p.add_argument("--user", default=None, help="pre-fill the login name")
    p.set_defaults(func=_gui)


def _gui(args: argparse.Namespace) -> int:
    from app.gui import launch  # Qt is imported only when the window is wanted

    return launch(args)
