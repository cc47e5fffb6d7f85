"""`depot receive DOCUMENT --scans FILE` and `depot receipts ...` (expected list, holds, arrival).

`depot receive` feeds a batch scanner's file (one scan per line, exactly what the scan field
receives; blank lines skipped) through the same ReceivingSession as the Receiving screen, prints
the screen's message for every scan, and posts the receipt in one transaction. Posting is the
default; `--check` only reports. If any scan is refused, nothing is posted and the exit code is 1.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import uuid
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from app.cli.args import path_arg
from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    print_json,
    print_table,
    session_for,
)
from app.services.errors import ValidationError


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("receive", help="receive an expected receipt from a batch scanner file")
    p.add_argument("document", help="expected receipt number, ASN reference or PO number")
    p.add_argument("--scans", type=path_arg, required=True, help="file with one scan per line ('-' = stdin)")
    p.add_argument("--check", action="store_true", help="only report the scans' messages; post nothing")
    add_user_option(p)
    add_db_option(p)
    add_json_option(p)
    p.set_defaults(func=_receive)

    r = sub.add_parser("receipts", help="expected receipts, quality holds, arrival, dock-to-stock")
    rsub = r.add_subparsers(dest="receipts_command", required=True, metavar="ACTION")
    ex = rsub.add_parser("expected", help="expected receipts by date and dock")
    ex.add_argument("--warehouse", help="warehouse code")
    ex.add_argument("--date", help="YYYY-MM-DD (expected that day, or undated)")
    ex.add_argument("--dock", default="")
    ex.add_argument("--all", action="store_true", help="include received and cancelled")
    ex.set_defaults(func=_expected)
    sh = rsub.add_parser("show", help="an expected receipt's lines: what to expect, what came, lots and cartons")
    sh.add_argument("document", help="expected receipt number, ASN reference or PO number")
    sh.set_defaults(func=_show)
    ho = rsub.add_parser("holds", help="stock waiting in quality hold")
    ho.add_argument("--warehouse", help="warehouse code")
    ho.set_defaults(func=_holds)
    for name, helptext in (("release", "inspection passed: QA -> dock, then putaway"),
                           ("reject", "inspection failed: return to the supplier (RTV)")):
        c = rsub.add_parser(name, help=helptext)
        c.add_argument("holds", nargs="+", help="hold ids (or a unique prefix) from 'depot receipts holds'")
        c.add_argument("--note", default="", help="why (required to reject)")
        add_user_option(c)
        c.set_defaults(func=_decide, decision=name)
    ar = rsub.add_parser("arrived", help="record that the delivery is at the dock")
    ar.add_argument("document")
    add_user_option(ar)
    ar.set_defaults(func=_arrived)
    dts = rsub.add_parser("dock-to-stock", help="arrival -> receipt -> putaway minutes (one receipt, or a period)")
    dts.add_argument("number", nargs="?", help="receipt number (DAL-GR-000001); omit for the summary of a period")
    dts.add_argument("--warehouse", help="warehouse code (summary)")
    dts.add_argument("--since", help="YYYY-MM-DD, receipts posted from that day (UTC) on (summary)")
    dts.set_defaults(func=_dock_to_stock)
    for c in (ex, sh, ho, dts, ar, *[rsub.choices[n] for n in ("release", "reject")]):
        add_db_option(c)
        add_json_option(c)


def _show(args: argparse.Namespace) -> int:
    from app.services.receiving.queries import find_expected
    from app.services.receiving.session import load_context

    with session_for(args) as s:
        er = find_expected(s, args.document)
        rc = load_context(s, er.id)
        head = {"number": rc.number, "status": rc.status, "supplier": rc.supplier_code, "dock": er.dock,
                "expected_at": er.expected_at}
    lines = [{"sku": rc.items[ln.item_id].sku, "description": rc.items[ln.item_id].description,
              "expected": ln.qty_expected, "received": ln.qty_received, "open": max(ln.qty_expected - ln.qty_received, 0),
              "lot": ln.lot_code, "expiry": ln.expiry_date.isoformat() if ln.expiry_date else "", "sscc": ln.sscc}
             for ln in sorted(rc.lines, key=lambda x: rc.items[x.item_id].sku)]
    if args.json:
        print_json({**head, "lines": lines})
        return 0
    from app.services.replication.describe import local_time

    print(f"{rc.number}  {rc.status}  supplier {rc.supplier_code or '-'}  dock {er.dock or '-'}"
          + (f"  expected {local_time(er.expected_at)}" if er.expected_at else ""))
    print_table(lines, ["sku", "description", "expected", "received", "open", "lot", "expiry", "sscc"])
    still = sum(max(ln.qty_expected - ln.qty_received, 0) for ln in rc.lines)
    print(f"{len(lines)} line(s), {still:,} unit(s) still to receive")
    return 0


def _read_scans(path: Path) -> list[str]:
    if str(path) == "-":
        return sys.stdin.read().splitlines()
    try:
        return path.read_text(encoding="utf-8").splitlines()
    except OSError as e:
        raise ValidationError("--scans", f"cannot read {path}: {e.strerror}") from None
    except UnicodeDecodeError:
        raise ValidationError("--scans", f"{path} is not UTF-8 text") from None


def _receive(args: argparse.Namespace) -> int:
    from app.services.receiving.queries import receive_scans

    scans = _read_scans(args.scans)
    with session_for(args) as s:
        actor = actor_of(s, args)
        out = receive_scans(s, actor, args.document, scans, post=not args.check)
        posted = out.posted
    if args.json:
        print_json({"document": out.document,
                    "messages": [{"line": n, "ok": ok, "message": m} for n, ok, m in out.messages],
                    "posted": posted})
    else:
        for n, ok, m in out.messages:
            print(f"{n:5d} {'ok ' if ok else 'REFUSED'} {m}")
        if posted:
            print(f"posted {posted.number}: {posted.lines} line(s), {posted.units} unit(s), "
                  f"{posted.held_units} held, {len(posted.putaway_task_ids)} putaway task(s)"
                  + (f"; released backorders {', '.join(posted.released_orders)}" if posted.released_orders else ""))
    if out.refused:
        print(f"depot: error: {len(out.refused)} scan(s) refused: nothing posted", file=sys.stderr)
        return 1
    return 0


def _wh_id(s: Session, code: str | None) -> uuid.UUID | None:
    if not code:
        return None
    from app.services.receiving.documents import warehouse_by_code

    return warehouse_by_code(s, code).id


def _expected(args: argparse.Namespace) -> int:
    from app.services.receiving.queries import list_expected

    try:
        day = dt.date.fromisoformat(args.date) if args.date else None
    except ValueError:
        raise ValidationError("--date", f"{args.date!r} is not YYYY-MM-DD") from None
    with session_for(args) as s:
        rows = list_expected(s, warehouse_id=_wh_id(s, args.warehouse), day=day, dock=args.dock, include_done=args.all)
    data: list[dict[str, Any]] = [r.__dict__ for r in rows]
    if args.json:
        print_json(data)
    else:
        print_table([{**d, "expected_at": d["expected_at"].strftime("%Y-%m-%d %H:%M") if d["expected_at"] else ""}
                     for d in data], ["number", "source", "supplier", "warehouse", "expected_at", "dock", "status", "lines", "units"])
    return 0


def _holds(args: argparse.Namespace) -> int:
    from app.services.receiving.queries import list_holds

    with session_for(args) as s:
        rows = [r.__dict__ for r in list_holds(s, _wh_id(s, args.warehouse))]
    if args.json:
        print_json(rows)
    else:
        print_table([{**r, "id": r["id"].hex} for r in rows], ["id", "receipt_number", "sku", "lot", "qty", "reason"])
    return 0


def _resolve_ids(s: Session, model: Any, keys: list[str], what: str) -> list[uuid.UUID]:
    from sqlalchemy import select

    from app.services.errors import NotFound

    out = []
    for k in keys:
        k = k.replace("-", "").lower()
        hits = [i for i in s.scalars(select(model.id)) if i.hex.startswith(k)] if k else []
        if len(hits) != 1:
            raise NotFound(what, k) if not hits else ValidationError(what, f"{k} matches {len(hits)}: give more characters")
        out.append(hits[0])
    return out


def _decide(args: argparse.Namespace) -> int:
    from app.models.receiving import QualityHold
    from app.services.receiving.holds import reject_holds, release_holds

    with session_for(args) as s:
        actor = actor_of(s, args)
        ids = _resolve_ids(s, QualityHold, args.holds, "quality hold")
        if args.decision == "release":
            tasks = release_holds(s, actor, ids, note=args.note)
            result: dict[str, Any] = {"released": len(ids), "putaway_tasks": [t.hex for t in tasks]}
        else:
            result = {"rejected": len(ids), "units_returned": reject_holds(s, actor, ids, note=args.note)}
    print_json(result) if args.json else print(", ".join(f"{k}: {v}" for k, v in result.items()))
    return 0


def _arrived(args: argparse.Namespace) -> int:
    from app.services.receiving.queries import find_expected, mark_arrived

    with session_for(args) as s:
        er = find_expected(s, args.document)
        mark_arrived(s, actor_of(s, args), er.id)
        result = {"document": er.number, "arrived_at": er.arrived_at}
    print_json(result) if args.json else print(f"{er.number} arrived at {result['arrived_at']:%Y-%m-%d %H:%M} UTC")
    return 0


def _dock_to_stock(args: argparse.Namespace) -> int:
    from app.services.receiving.documents import receipt_by_number
    from app.services.receiving.putaway import dock_to_stock
    from app.services.receiving.queries import dock_to_stock_summary

    with session_for(args) as s:
        if args.number:
            result: dict[str, Any] = dict(dock_to_stock(s, receipt_by_number(s, args.number).id))
        else:
            try:
                since = dt.datetime.combine(dt.date.fromisoformat(args.since), dt.time(), dt.UTC) if args.since else None
            except ValueError:
                raise ValidationError("--since", f"{args.since!r} is not YYYY-MM-DD") from None
            result = dock_to_stock_summary(s, warehouse_id=_wh_id(s, args.warehouse), since=since).__dict__
    print_json(result) if args.json else print(", ".join(f"{k}: {v}" for k, v in result.items()))
    return 0
