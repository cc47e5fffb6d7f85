"""`depot track ...`: carrier tracking from the command line (a headless workstation, a scheduled
task, support staff).

    depot track poll [--once] [--json] [--shipment NUMBER ...] [--limit N] [--no-mail] [--interval S]
    depot track list [--status moving|trouble|delivered|all|STATUS] [--carrier C] [--customer X]
                     [--risk late|at_risk|on_time] [--search TEXT] [--all-branches] [--limit N] [--json]
    depot track show NUMBER [--json]
    depot track policy [--set KEY=VALUE ...] [--user NAME] [--json]
    depot track notices CUSTOMER [--email ADDR] [--events shipped,eta,delivered,exception|none] [--user NAME]

Without --once, `poll` keeps polling (every --interval seconds at most, sooner when a shipment is
due) until interrupted. Exit code of `poll --once`: 0, or 1 when an account could not be polled.
"""

from __future__ import annotations

import argparse
import datetime as dt
import time
from typing import Any

from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    engine_for,
    print_json,
    print_table,
    session_for,
)
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("track", help="carrier tracking: poll, list, show, policy, customer notices")
    tsub = p.add_subparsers(dest="track_command", metavar="ACTION", required=True)
    poll = tsub.add_parser("poll", help="ask the carriers about the shipments that are due")
    poll.add_argument("--once", action="store_true", help="one cycle, then exit")
    poll.add_argument("--shipment", action="append", default=[], metavar="NUMBER",
                      help="poll this shipment now, due or not (shipment or tracking number; repeatable)")
    poll.add_argument("--limit", type=int, default=10_000, help="most shipments in one cycle")
    poll.add_argument("--no-mail", action="store_true", help="queue customer notices but do not deliver them now")
    poll.add_argument("--interval", type=float, default=60.0, help="longest wait between cycles (loop mode)")
    add_db_option(poll)
    add_json_option(poll)
    poll.set_defaults(func=_poll)
    ls = tsub.add_parser("list", help="shipments with status, promised date, ETA and risk")
    ls.add_argument("--status", default="moving", help="moving (default), trouble, delivered, all, or one status")
    ls.add_argument("--carrier", default="")
    ls.add_argument("--customer", default="", help="customer code or words of its name")
    ls.add_argument("--risk", default="", help="late, at_risk or on_time")
    ls.add_argument("--search", default="", help="part of a shipment, tracking or order number")
    ls.add_argument("--all-branches", action="store_true")
    ls.add_argument("--limit", type=int, default=200)
    add_db_option(ls)
    add_json_option(ls)
    ls.set_defaults(func=_list)
    sh = tsub.add_parser("show", help="one shipment: timeline, proof of delivery, notices, open cases")
    sh.add_argument("number", help="shipment number or tracking number")
    add_db_option(sh)
    add_json_option(sh)
    sh.set_defaults(func=_show)
    po = tsub.add_parser("policy", help="the branch's responses, cadence and notice templates")
    po.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", help="change a setting (manager)")
    po.add_argument("--branch", default="", help="branch code (default: this workstation's branch)")
    add_user_option(po)
    add_db_option(po)
    add_json_option(po)
    po.set_defaults(func=_policy)
    no = tsub.add_parser("notices", help="a customer's shipment notices: address and which it gets")
    no.add_argument("customer", help="customer code")
    no.add_argument("--email", default=None, help="notice address ('' = the contact address)")
    no.add_argument("--events", default=None, help="comma-separated: shipped,eta,delivered,exception; none = opt out")
    add_user_option(no)
    add_db_option(no)
    add_json_option(no)
    no.set_defaults(func=_notices)


def _smtp(args: argparse.Namespace) -> Any:
    if args.no_mail:
        return None
    from app.services import mail
    from app.services.errors import DomainError
    from app.services.settings import Settings

    try:
        return mail.config_from_settings(Settings())
    except DomainError:
        return None  # no SMTP server configured: notices stay queued for `depot mail send-due`


def _shipment_ids(engine: Any, numbers: list[str]) -> list[Any]:
    from app.services.db import session_scope
    from app.services.tracking import queries

    with session_scope(engine, write=False) as s:
        return [queries.find(s, n).id for n in numbers]


def _print_report(rep: Any, as_json: bool) -> None:
    if as_json:
        print_json(rep.to_dict())
        return
    print(rep.line())
    if rep.shipments:
        cpu = rep.cpu_s * 1000 / rep.shipments
        print(f"  {rep.requests} requests; outcomes: "
              + ", ".join(f"{k} {v}" for k, v in sorted(rep.outcomes.items()))
              + f"; CPU {cpu:.2f} ms a shipment" + (f"; {rep.mail_sent} e-mails sent" if rep.mail_sent else ""))
    for line in rep.problems:
        print(f"  problem: {line}")
    for line in rep.notes:
        print(f"  note: {line}")
    for line in rep.leases.values():
        if not line.endswith("polled here"):
            print(f"  {line}")


def _poll(args: argparse.Namespace) -> int:
    from app.services.settings import Settings
    from app.services.tracking.poller import run_cycle

    if args.limit < 1:
        raise ValidationError("--limit", "must be at least 1")
    if args.interval <= 0:
        raise ValidationError("--interval", "must be above 0")
    engine = engine_for(args)
    settings = Settings()
    try:
        ids = _shipment_ids(engine, args.shipment) if args.shipment else None
        while True:
            rep = run_cycle(engine, settings, limit=args.limit, shipments=ids, force=bool(ids), smtp=_smtp(args))
            _print_report(rep, args.json)
            if args.once or ids:
                return 1 if rep.problems else 0
            time.sleep(_until_due(engine, args.interval))
    finally:
        engine.dispose()


def _until_due(engine: Any, longest: float) -> float:
    from sqlalchemy import func, select

    from app.models.shipping import Shipment
    from app.models.types import utcnow
    from app.services.db import session_scope

    with session_scope(engine, write=False) as s:
        nxt = s.scalar(select(func.min(Shipment.next_poll_at)).where(Shipment.stopped == "",
                                                                     Shipment.deleted_at.is_(None)))
    if nxt is None:
        return longest
    return min(longest, max(1.0, (nxt - utcnow()).total_seconds()))


def _fmt_date(v: dt.date | dt.datetime | None) -> str:
    if v is None:
        return ""
    if isinstance(v, dt.datetime):
        return v.astimezone().strftime("%Y-%m-%d %H:%M")
    return v.isoformat()


def _list(args: argparse.Namespace) -> int:
    from app.services.tracking import queries

    f = queries.Filter(view=args.status, carrier=args.carrier, customer=args.customer, risk=args.risk,
                       search=args.search, all_branches=args.all_branches)
    with session_for(args) as s:
        rows, _note = queries.with_predictions(s, queries.list_shipments(s, f, limit=args.limit))
        counts = queries.count_shipments(s, f, with_model=True)
    if args.json:
        print_json({"counts": counts, "shipments": [r.to_dict() for r in rows]})
        return 0
    print_table([{"shipment": r.number, "order": r.order, "customer": r.customer_code, "carrier": r.carrier_code,
                  "tracking": r.tracking_number, "status": r.status, "promised": _fmt_date(r.promised),
                  "eta": _fmt_date(r.eta),
                  "predicted": _fmt_date(r.predicted.median) if r.predicted and r.predicted.predicted else "",
                  "risk": "at risk (ETA)" if r.model_at_risk else r.risk.replace("_", " "),
                  "last event": _fmt_date(r.last_event_at), "flag": r.flag[:40]} for r in rows])
    print(queries.count_sentence(counts) + (f" (first {len(rows)} shown)" if len(rows) < counts["total"] else ""))
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.services.tracking import queries

    with session_for(args) as s:
        d = queries.show(s, args.number)
    if args.json:
        print_json(d.to_dict())
        return 0
    r = d.row
    print(f"{r.number}  {r.carrier} {r.tracking_number}  {r.status}" + (f" ({r.status_text})" if r.status_text else ""))
    print(f"  order {r.order or '-'}  customer {r.customer or '-'}  branch {r.branch}")
    when = f"delivered {_fmt_date(r.delivered_at)}" if r.status == "delivered" and r.delivered_at \
        else f"ETA {_fmt_date(r.eta) or '-'}"
    print(f"  promised {_fmt_date(r.promised) or '-'}  {when}  risk {r.risk.replace('_', ' ') or '-'}")
    poll = f"next poll {_fmt_date(r.next_poll_at)}" if r.next_poll_at else f"polling stopped ({r.stopped or 'not started'})"
    print(f"  last poll {_fmt_date(r.polled_at) or 'never'} ({r.poll_outcome or '-'}), {poll}, by {d.polled_by}")
    if r.flag:
        print(f"  FLAG: {r.flag}")
    if d.pod:
        print(f"  proof of delivery: signed by {d.pod.signed_by or '-'} at {_fmt_date(d.pod.at) or '?'}"
              f" ({d.pod.location or '-'}); image {d.pod.image or '-'}")
    print("  timeline (newest first):")
    for e in d.timeline:
        mark = "*" if e.newest else " "
        extra = f"  [notice: {e.notice}]" if e.notice else ""
        print(f"   {mark} {_fmt_date(e.at) or '?':16}  {e.status:18} {e.description}  {e.location}{extra}")
    for n in d.notices:
        print(f"  notice: {n['kind']} -> {n['to']} ({n['status']})")
    for c in d.cases:
        print(f"  case ({c['role']}, {c['status']}): {c['title']}")
    return 0


def _policy(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.models.org import Branch
    from app.services.db import local_branch_id
    from app.services.tracking import policy

    with session_for(args) as s:
        if args.branch:
            branch_id = s.scalar(select(Branch.id).where(Branch.code == args.branch.strip().upper()))
            if branch_id is None:
                raise ValidationError("--branch", f"{args.branch} is not a branch")
        else:
            branch_id = local_branch_id(s)
            if branch_id is None:
                raise ValidationError("--branch", "this file works for no branch yet: say which (--branch DAL)")
        if args.set:
            changes: dict[str, Any] = {}
            for item in args.set:
                key, sep, value = item.partition("=")
                if not sep:
                    raise ValidationError("--set", f"{item!r} is not KEY=VALUE")
                changes[key.strip().replace("-", "_")] = value
            pol = policy.save_policy(s, actor_of(s, args), branch_id, **changes)
        else:
            pol = policy.policy_for(s, branch_id)
    data = pol.to_dict()
    if args.json:
        print_json(data)
    else:
        for k, v in data.items():
            if k != "templates":
                print(f"{k:24} {v}")
        print(f"{'templates':24} {', '.join(data['templates']) or 'built in'}")
    return 0


def _notices(args: argparse.Namespace) -> int:
    from app.services.tracking import notices

    with session_for(args) as s:
        if args.email is None and args.events is None:
            prefs = notices.preferences(s, args.customer)
        else:
            events = None if args.events is None else (
                [] if args.events.strip().lower() == "none" else args.events.split(","))
            prefs = notices.set_preferences(s, actor_of(s, args), args.customer, email=args.email, events=events)
    if args.json:
        print_json(prefs.to_dict())
    else:
        print(f"{prefs.customer} {prefs.name}: notices to {prefs.email or '(no address)'}"
              + (" (its own notice address)" if prefs.own_email else " (the contact address)"))
        print(f"  gets: {', '.join(prefs.events) or 'none (opted out)'}")
    return 0


__all__ = ["register"]
