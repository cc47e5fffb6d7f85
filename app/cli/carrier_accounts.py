"""`depot carrier accounts|account-add|account-test|account-delete|track|rate|label|void`.

Secrets never go on the command line (shell history): ``--secret-env VAR`` reads one from the
environment, ``--secret-stdin`` from the first line of standard input.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from app.cli.common import add_db_option, add_user_option, engine_for, print_json, print_table
from app.services.errors import ValidationError


def register_actions(csub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    def cmd(name: str, help_: str, func: Any) -> argparse.ArgumentParser:
        p: argparse.ArgumentParser = csub.add_parser(name, help=help_)
        add_db_option(p)
        p.add_argument("--json", action="store_true", help="print JSON")
        p.set_defaults(func=func)
        return p

    cmd("accounts", "this branch's carrier accounts", _accounts)
    p = cmd("account-add", "add or change a carrier account (admin)", _add)
    add_user_option(p)
    p.add_argument("--carrier", required=True, help="carrier code of the master data (UPS, FEDEX, DHL, USPS, SANDBOX)")
    p.add_argument("--account-number", required=True)
    p.add_argument("--client-id", default="")
    p.add_argument("--name", default="")
    p.add_argument("--endpoint", default="production", help="production, test, sandbox or a URL")
    p.add_argument("--services", default="", help="comma-separated service codes (empty: all)")
    p.add_argument("--per-minute", type=int, default=None, help="requests a minute (default: the carrier's)")
    p.add_argument("--daily-quota", type=int, default=None, help="requests a day, 0 = none")
    p.add_argument("--option", action="append", default=[], help="KEY=VALUE (USPS: crid=..., mid=...)")
    p.add_argument("--secret-env", default=None, help="read the client secret from this environment variable")
    p.add_argument("--secret-stdin", action="store_true", help="read the client secret from standard input")
    p.add_argument("--id", default=None, help="change this account instead of adding one")
    p = cmd("account-test", "test connection and credentials of an account", _test)
    p.add_argument("account", help="account id, name or number")
    p = cmd("account-delete", "delete an account and its stored secret (admin)", _delete)
    add_user_option(p)
    p.add_argument("account")
    p = cmd("track", "track numbers through an account", _track)
    p.add_argument("--account", required=True)
    p.add_argument("numbers", nargs="+")
    for name, fn, help_ in (("rate", _rate, "quote a parcel"), ("label", _label, "buy a label")):
        p = cmd(name, help_, fn)
        p.add_argument("--account", required=True)
        p.add_argument("--from-zip", required=True)
        p.add_argument("--to-zip", required=True)
        p.add_argument("--weight-g", type=int, required=True, help="parcel weight in grams")
        p.add_argument("--to-name", default="Customer")
        p.add_argument("--reference", default="")
        if name == "label":
            p.add_argument("--service", required=True)
            p.add_argument("--out", required=True, type=Path, help="where to write the label (PDF or ZPL)")
    p = cmd("void", "void a label", _void)
    p.add_argument("--account", required=True)
    p.add_argument("number")


def _ctx(args: argparse.Namespace) -> tuple[Any, Any, Any]:
    from app.services.carriers import accounts as ac
    from app.services.db import session_scope
    from app.services.settings import Settings

    engine = engine_for(args)
    settings = Settings()
    with session_scope(engine, write=False) as s:
        info = ac.get_account(s, args.account, settings)
    return engine, settings, info


def _accounts(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac
    from app.services.db import session_scope
    from app.services.settings import Settings

    engine = engine_for(args)
    try:
        with session_scope(engine, write=False) as s:
            rows = ac.list_accounts(s, Settings())
    finally:
        engine.dispose()
    data = [{"id": str(a.id), "branch": a.branch_code, "carrier": a.carrier_code, "name": a.name,
             "account": a.account_number, "client_id": a.client_id, "endpoint": a.endpoint,
             "services": ",".join(a.services) or "all", "per_minute": a.requests_per_minute,
             "daily_quota": a.daily_quota, "secret": "stored" if a.has_secret else ("sandbox demo" if a.endpoint == "sandbox" else "missing")} for a in rows]
    if args.json:
        print_json(data)
    else:
        print_table(data, ["branch", "carrier", "name", "account", "endpoint", "services", "per_minute", "secret"])
    return 0


def _read_secret(args: argparse.Namespace) -> str | None:
    if args.secret_env:
        value = os.environ.get(args.secret_env)
        if value is None:
            raise ValidationError("--secret-env", f"environment variable {args.secret_env} is not set")
        return value
    if args.secret_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return None


def _add(args: argparse.Namespace) -> int:
    import uuid

    from app.services.auth import actor_by_name
    from app.services.carriers import accounts as ac
    from app.services.db import session_scope
    from app.services.settings import Settings

    if not args.user:
        raise ValidationError("--user", "is required for this command (or set DEPOT_USER)")
    options = {}
    for kv in args.option:
        k, sep, v = kv.partition("=")
        if not sep or not k.strip():
            raise ValidationError("--option", f"'{kv}' is not KEY=VALUE")
        options[k.strip()] = v.strip()
    try:
        account_id = uuid.UUID(args.id) if args.id else None
    except ValueError:
        raise ValidationError("--id", f"'{args.id}' is not an account id") from None
    secret = _read_secret(args)
    engine = engine_for(args)
    try:
        with session_scope(engine) as s:
            info = ac.save_account(s, actor_by_name(s, args.user), carrier_code=args.carrier,
                                   account_number=args.account_number, client_id=args.client_id, name=args.name,
                                   endpoint=args.endpoint, services=args.services.split(","),
                                   requests_per_minute=args.per_minute, daily_quota=args.daily_quota,
                                   options=options, account_id=account_id, settings=Settings(), secret=secret)
    finally:
        engine.dispose()
    print_json({"id": str(info.id), "name": info.name}) if args.json else print(f"saved {info.label} ({info.id})")
    return 0


def _delete(args: argparse.Namespace) -> int:
    from app.services.auth import actor_by_name
    from app.services.carriers import accounts as ac
    from app.services.db import session_scope
    from app.services.settings import Settings

    if not args.user:
        raise ValidationError("--user", "is required for this command (or set DEPOT_USER)")
    engine = engine_for(args)
    try:
        with session_scope(engine) as s:
            info = ac.get_account(s, args.account)
            ac.delete_account(s, actor_by_name(s, args.user), info.id, Settings())
    finally:
        engine.dispose()
    print(f"deleted {info.label}")
    return 0


def _test(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac

    engine, settings, info = _ctx(args)
    try:
        reply = ac.test_connection(info, settings, engine)
    finally:
        engine.dispose()
    if args.json:
        print_json({"outcome": str(reply.outcome), "message": reply.message, "retry_after": reply.retry_after})
    else:
        print(f"{reply.outcome}: {reply.message}")
    return 0 if reply.ok else 1


def _track(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac

    engine, settings, info = _ctx(args)
    try:
        reply = ac.adapter_for(info, settings, engine).track(args.numbers)
    finally:
        engine.dispose()
    if args.json:
        print_json(reply.to_dict())
    else:
        print(f"{reply.outcome}{': ' + reply.message if reply.message else ''}")
        for sh in reply.shipments:
            print(f"  {sh.tracking_number}  {sh.outcome}  {sh.status}  eta {sh.eta_date or '-'}  {sh.raw_text}")
    return 0 if reply.outcome in ("ok", "not_found") else 1


def _shipment(args: argparse.Namespace) -> Any:
    from app.services.carriers.model import Address, Parcel, ShipmentRequest

    if args.weight_g <= 0 or args.weight_g > 70_000:
        raise ValidationError("--weight-g", "must be between 1 and 70000 grams")
    return ShipmentRequest(args.reference or "CLI", Address("Depot", "1 Dock Rd", "", "", args.from_zip),
                           Address(args.to_name, "1 Main St", "", "", args.to_zip), (Parcel(args.weight_g),))


def _rate(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac

    engine, settings, info = _ctx(args)
    try:
        reply = ac.adapter_for(info, settings, engine).rate(_shipment(args), info.services)
    finally:
        engine.dispose()
    if args.json:
        print_json({"outcome": str(reply.outcome), "message": reply.message, "quotes": [q.to_dict() for q in reply.quotes]})
    else:
        print(f"{reply.outcome}: {reply.message}")
        for q in reply.quotes:
            print(f"  {q.service_code:22} {q.amount:>10} {q.currency}  {q.transit_days or '?'} days  {q.service_name}")
    return 0 if reply.ok else 1


def _label(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac

    engine, settings, info = _ctx(args)
    try:
        reply = ac.adapter_for(info, settings, engine).create_label(_shipment(args), args.service)
    finally:
        engine.dispose()
    if reply.label is None:
        raise ValidationError("label", f"{reply.outcome}: {reply.message}")
    args.out.write_bytes(reply.label.data)
    print(f"{reply.label.tracking_number}  {reply.label.format}  {reply.label.amount or ''} -> {args.out}")
    return 0


def _void(args: argparse.Namespace) -> int:
    from app.services.carriers import accounts as ac
    from app.services.carriers.model import Label

    engine, settings, info = _ctx(args)
    try:
        reply = ac.adapter_for(info, settings, engine).void(Label(args.number, "", "", b""))
    finally:
        engine.dispose()
    print(f"{reply.outcome}: {reply.message}")
    return 0 if reply.ok else 1
