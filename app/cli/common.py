"""Helpers the sub-command modules share: options, opening the database, printing JSON."""

from __future__ import annotations

import argparse
import json
import os
import sys
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from app.cli.args import path_arg
from app.services.auth import Actor, actor_by_name
from app.services.db import open_database, session_scope
from app.services.errors import ValidationError


def add_db_option(p: argparse.ArgumentParser) -> None:
    """`--db PATH` after the sub-command too (`depot seed --db x.db`)."""
    p.add_argument("--db", type=path_arg, default=argparse.SUPPRESS, help="branch database file")


def add_user_option(p: argparse.ArgumentParser, *, required: bool = False) -> None:
    """`--user NAME`: who acts (permissions, branch); default $DEPOT_USER, the shell user's trust."""
    p.add_argument("--user", default=None if required else os.environ.get("DEPOT_USER"), required=required,
                   help="act as this user" + ("" if required else " (default $DEPOT_USER)"))


def actor_of(session: Session, args: argparse.Namespace) -> Actor:
    """The acting user named by ``--user`` (a one-line error when none is given or known)."""
    if not getattr(args, "user", None):
        raise ValidationError("--user", "is required for this command (or set DEPOT_USER)")
    return actor_by_name(session, args.user)


def add_json_option(p: argparse.ArgumentParser) -> None:
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def engine_for(args: argparse.Namespace) -> Engine:
    from app.cli import db_path

    return open_database(db_path(args))


@contextmanager
def session_for(args: argparse.Namespace) -> Iterator[Session]:
    engine = engine_for(args)
    try:
        with session_scope(engine) as s:
            yield s
    finally:
        engine.dispose()


def _default(o: Any) -> Any:
    if isinstance(o, Decimal):
        return str(o)
    if isinstance(o, uuid.UUID):
        return str(o)
    if hasattr(o, "isoformat"):
        return o.isoformat()
    if hasattr(o, "__dataclass_fields__"):
        return {k: getattr(o, k) for k in o.__dataclass_fields__}
    raise TypeError(f"cannot serialise {type(o).__name__}")


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, default=_default, indent=2, sort_keys=False)
    sys.stdout.write("\n")


def print_table(rows: list[dict[str, Any]], columns: list[str] | None = None) -> None:
    if not rows:
        print("(none)")
        return
    cols = columns or list(rows[0])
    widths = {c: max(len(c), *(len(str(r.get(c, ""))) for r in rows)) for c in cols}
    print("  ".join(c.upper().ljust(widths[c]) for c in cols))
    for r in rows:
        print("  ".join(str(r.get(c, "")).ljust(widths[c]) for c in cols))


def output_path(path: Any, default_name: str = "") -> Any:
    """Where ``--out`` writes: a file in an existing folder (a folder given = ``default_name`` in it).
    A missing folder is refused, never created: a typo must not leave files in a new tree."""
    from pathlib import Path

    from app.services.errors import ValidationError

    out = Path(path)
    if out.is_dir():
        if not default_name:
            raise ValidationError("--out", f"{out} is a folder: give a file name")
        out = out / default_name
    if not out.parent.exists():
        raise ValidationError("--out", f"the folder {out.parent} does not exist: create it first or choose another "
                                       "(nothing was written)")
    if not out.parent.is_dir():
        raise ValidationError("--out", f"{out.parent} is a file, not a folder (nothing was written)")
    return out


def write_output(path: Any, data: bytes) -> None:
    """Write ``data`` to a checked ``--out`` path; an OS refusal becomes one line."""
    from app.services.errors import ValidationError

    try:
        path.write_bytes(data)
    except OSError as e:
        raise ValidationError("--out", f"cannot write {path}: {e.strerror or e}") from None
