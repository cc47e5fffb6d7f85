"""`depot user add|list|disable|enable|set-roles|reset-password|roles`: users and what roles may do.

Passwords are read from a prompt (typed twice) or, with ``--password-stdin`` or when standard
input is not a terminal, from the first line of standard input; never from an argument, which
would stay in the shell's history and the process list. On a file with no users the first one
is added without ``--user`` and must be an admin.
"""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import Any

from app.cli.common import add_db_option, add_json_option, print_json, print_table


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    u = sub.add_parser("user", help="users, their roles and passwords")
    us = u.add_subparsers(dest="user_command", required=True, metavar="ACTION")

    def cmd(name: str, help_text: str, func: Any, *, target: bool = True, actor: bool = True,
            json: bool = False) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = us.add_parser(name, help=help_text)
        add_db_option(p)
        if json:
            add_json_option(p)
        if target:
            p.add_argument("username")
        if actor:
            p.add_argument("--user", dest="acting", default=None,
                           help="acting admin (not needed for the first user of a new file)")
        p.set_defaults(func=func)
        return p

    add = cmd("add", "add a user (password from a prompt or standard input)", _add, json=True)
    add.add_argument("--roles", required=True, help="comma-separated: buyer,approver,...")
    add.add_argument("--branch", default=None, help="the user's branch code")
    add.add_argument("--full-name", default="")
    add.add_argument("--email", default="")
    add.add_argument("--password-stdin", action="store_true", help="read the password from standard input")
    cmd("list", "list users and their roles", _list, target=False, actor=False, json=True)
    cmd("disable", "disable a user (the last admin cannot be)", _disable)
    cmd("enable", "enable a disabled user", _enable)
    sr = cmd("set-roles", "replace a user's roles", _set_roles)
    sr.add_argument("--roles", required=True)
    rp = cmd("reset-password", "set a new password (prompt or standard input)", _reset)
    rp.add_argument("--password-stdin", action="store_true")
    cmd("roles", "what each role may do (the permission table)", _roles, target=False, actor=False, json=True)


def read_password(args: argparse.Namespace, username: str) -> str:
    """From standard input (``--password-stdin`` or not a terminal), else a prompt typed twice."""
    from app.services.errors import ValidationError

    if getattr(args, "password_stdin", False) or not sys.stdin.isatty():
        return sys.stdin.readline().rstrip("\r\n")
    first = getpass.getpass(f"Password for {username}: ")
    if getpass.getpass("Type it again: ") != first:
        raise ValidationError("password", "the two entries differ; nothing changed")
    return first


def _actor(s: Any, args: argparse.Namespace) -> Any:
    from app.services.auth import actor_by_name

    return actor_by_name(s, args.acting) if args.acting else None


def _need_actor(s: Any, args: argparse.Namespace) -> Any:
    from app.services.errors import ValidationError

    actor = _actor(s, args)
    if actor is None:
        raise ValidationError("--user", "name the admin who does this (depot user ... --user ADMIN)")
    return actor


def _session(args: argparse.Namespace) -> Any:
    from app.cli.common import session_for

    return session_for(args)


def _show(args: argparse.Namespace, info: Any, text: str) -> int:
    if getattr(args, "json", False):
        print_json(info.as_dict())
    else:
        print(text)
    return 0


def _add(args: argparse.Namespace) -> int:
    from app.services.users import add_user

    roles = args.roles.split(",")
    password = read_password(args, args.username)
    with _session(args) as s:
        info = add_user(s, _actor(s, args), args.username, password, roles, branch=args.branch,
                        full_name=args.full_name, email=args.email)
    return _show(args, info, f"user {info.username} added ({', '.join(info.roles)}; branch {info.branch})")


def _list(args: argparse.Namespace) -> int:
    from app.services.users import list_users

    with _session(args) as s:
        rows = [u.as_dict() for u in list_users(s)]
    if args.json:
        print_json(rows)
        return 0
    print_table([{**r, "roles": ",".join(str(x) for x in r["roles"]),  # type: ignore[attr-defined]
                  "active": "yes" if r["active"] else "disabled"} for r in rows])
    return 0


def _disable(args: argparse.Namespace) -> int:
    from app.services.users import set_active

    with _session(args) as s:
        info = set_active(s, _need_actor(s, args), args.username, False)
    print(f"user {info.username} disabled")
    return 0


def _enable(args: argparse.Namespace) -> int:
    from app.services.users import set_active

    with _session(args) as s:
        info = set_active(s, _need_actor(s, args), args.username, True)
    print(f"user {info.username} enabled")
    return 0


def _set_roles(args: argparse.Namespace) -> int:
    from app.services.users import set_roles

    with _session(args) as s:
        info = set_roles(s, _need_actor(s, args), args.username, args.roles.split(","))
    print(f"user {info.username}: {', '.join(info.roles)}")
    return 0


def _reset(args: argparse.Namespace) -> int:
    from app.services.users import reset_password

    password = read_password(args, args.username)
    with _session(args) as s:
        info = reset_password(s, _need_actor(s, args), args.username, password)
    print(f"password of {info.username} changed")
    return 0


def _roles(args: argparse.Namespace) -> int:
    from app.models.users import ROLES
    from app.services.users import ROLE_NOTES, permission_table

    table = permission_table()
    if args.json:
        print_json({"roles": {r: ROLE_NOTES[r] for r in ROLES},
                    "permissions": [{"action": p.action, "roles": sorted(p.roles)} for p in table]})
        return 0
    print_table([{"action": p.action, **{r: "x" if r in p.roles else "" for r in ROLES}} for p in table])
    print()
    for r in ROLES:
        print(f"{r:10s} {ROLE_NOTES[r]}")
    return 0
