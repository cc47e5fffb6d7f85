"""`depot carrier ...`: read a carrier's answer (support staff), run the sandbox, use accounts.

    depot carrier parse --carrier ups|fedex|dhl|usps FILE [--http-status N] [--number N ...] --json
    depot carrier-sandbox [--port N] [--speed X] [--faults RATE]
    depot carrier accounts | account-add | account-test | track | rate | label | void
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("carrier", help="carrier answers, accounts, tracking, rating and labels")
    csub = p.add_subparsers(dest="carrier_command", metavar="ACTION", required=True)
    parse = csub.add_parser("parse", help="read a carrier's tracking answer from a file (or - for stdin)")
    parse.add_argument("--carrier", required=True, choices=("ups", "fedex", "dhl", "usps", "sandbox"))
    parse.add_argument("file", help="the body as the carrier sent it")
    parse.add_argument("--http-status", type=int, default=None, help="the HTTP status it came with")
    parse.add_argument("--retry-after", default=None, help="the Retry-After header it came with")
    parse.add_argument("--number", action="append", default=[], help="the tracking number(s) asked for")
    parse.add_argument("--json", action="store_true", help="print the normalised result as JSON")
    parse.set_defaults(func=_parse)
    from app.cli import carrier_accounts

    carrier_accounts.register_actions(csub)  # not auto-registered: its actions live under `depot carrier`
    sb = sub.add_parser("carrier-sandbox", help="run the local carrier sandbox (UPS, FedEx, DHL, USPS wire formats)")
    sb.add_argument("--host", default="127.0.0.1")
    sb.add_argument("--port", type=int, default=8765, help="0 = any free port (default 8765)")
    sb.add_argument("--speed", type=float, default=60.0, help="sandbox seconds per real second (default 60)")
    sb.add_argument("--faults", type=float, default=0.0, help="share of answers that go wrong (0..1)")
    sb.add_argument("--secret", default=None, help="client secret / API key the sandbox accepts")
    sb.add_argument("--epoch", default=None, help="when its world began (ISO time, UTC): a restart with the same "
                    "epoch tells the same stories at the same times (default: now)")
    sb.set_defaults(func=_sandbox)


def _parse(args: argparse.Namespace) -> int:
    from app.services.carriers.parsers import parse_track

    if args.http_status is not None and not 100 <= args.http_status <= 599:
        raise ValidationError("--http-status", "must be an HTTP status between 100 and 599")
    if args.file == "-":
        body = sys.stdin.buffer.read()
    else:
        path = Path(args.file)
        try:
            body = path.read_bytes()
        except OSError as e:
            raise ValidationError("FILE", f"cannot read {path}: {e.strerror or e}") from None
    headers = {"Retry-After": args.retry_after} if args.retry_after else None
    reply = parse_track(args.carrier, body, args.http_status, headers, args.number)
    if args.json:
        print(json.dumps(reply.to_dict(), indent=2))
        return 0
    print(f"{reply.outcome}" + (f" (retry after {reply.retry_after:g} s)" if reply.retry_after else "")
          + (f": {reply.message}" if reply.message else ""))
    for sh in reply.shipments:
        eta = f" eta {sh.eta_date}" if sh.eta_date else ""
        print(f"  {sh.tracking_number or '?'}  {sh.outcome}  {sh.status} [{sh.raw_status}]{eta}  {sh.raw_text}")
        for ev in sh.events:
            print(f"      {ev.to_dict()['at'] or '?':20}  {ev.status:18} {ev.raw_code:8} {ev.description}  {ev.location}")
        if sh.pod and (sh.pod.signed_by or sh.pod.at):
            print(f"      proof of delivery: {sh.pod.signed_by or '-'} at {sh.pod.to_dict()['at'] or '?'}")
    return 0


def _sandbox(args: argparse.Namespace) -> int:
    from app.services.carriers.sandbox.server import DEMO_SECRET, Sandbox

    if args.speed <= 0:
        raise ValidationError("--speed", "must be above 0")
    if not 0 <= args.faults <= 1:
        raise ValidationError("--faults", "must be between 0 and 1")
    epoch = None
    if args.epoch:
        import datetime as dt

        try:
            epoch = dt.datetime.fromisoformat(args.epoch.replace("Z", "+00:00"))
        except ValueError:
            raise ValidationError("--epoch", f"{args.epoch!r} is not an ISO time (2026-12-05T08:00:00Z)") from None
        if epoch.tzinfo is None:
            epoch = epoch.replace(tzinfo=dt.UTC)
    sandbox = Sandbox(host=args.host, port=args.port, speed=args.speed, fault_rate=args.faults,
                      secret=args.secret or DEMO_SECRET, epoch=epoch)
    try:
        sandbox.start()
    except OSError as e:
        raise ValidationError("--port", f"cannot listen on {args.host}:{args.port}: {e.strerror or e}") from None
    print(f"carrier sandbox on {sandbox.url} (speed x{args.speed:g}, faults {args.faults:.0%}); Ctrl+C stops it",
          flush=True)
    try:
        sandbox.wait()
    except KeyboardInterrupt:
        pass
    finally:
        sandbox.stop()
    return 0
