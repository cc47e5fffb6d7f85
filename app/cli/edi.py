"""`depot edi import FILE | export po NUMBER --format x12|edifact | poll --inbound DIR | check FILE`.

Each command is one transaction (``session_for``); a refused file prints one line naming
the problem and exits 1. ``poll`` is what a scheduled job runs against the partner's
drop folder: one transaction per file, bad files moved to ``error/`` with their reason.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from app.cli.args import path_arg
from app.cli.common import add_db_option, add_json_option, print_json


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("edi", help="supplier EDI: import confirmations and ship notices, export POs")
    esub = p.add_subparsers(dest="edi_command", required=True, metavar="ACTION")

    imp = esub.add_parser("import", help="import an 855, 856, ORDRSP or DESADV file, or a customer's 850 / ORDERS "
                          "(type detected; a customer order is answered with a 997 / CONTRL and an 855 / ORDRSP)")
    imp.add_argument("file", type=path_arg)
    imp.add_argument("--outbound", type=path_arg, default=None,
                     help="where acknowledgements go (default: the EDI outbound folder of Settings, else FILE's folder)")
    imp.add_argument("--user", default="", help="who imports (for the audit log)")
    add_db_option(imp)
    add_json_option(imp)
    imp.set_defaults(func=_import)

    exp = esub.add_parser("export", help="write a document as an EDI file")
    xsub = exp.add_subparsers(dest="export_what", required=True, metavar="DOC")
    po = xsub.add_parser("po", help="a purchase order as X12 850 or EDIFACT ORDERS")
    po.add_argument("number")
    po.add_argument("--format", choices=("x12", "edifact"), required=True)
    po.add_argument("--out", type=path_arg, default=Path("."), help="folder to write into (default: current)")
    po.add_argument("--user", default="")
    add_db_option(po)
    po.set_defaults(func=_export_po)

    poll = esub.add_parser("poll", help="import every file in an inbound folder; write 997s")
    poll.add_argument("--inbound", type=path_arg, required=True)
    poll.add_argument("--outbound", type=path_arg, default=None, help="where 997s go (default: INBOUND/../outbound)")
    poll.add_argument("--user", default="")
    add_db_option(poll)
    add_json_option(poll)
    poll.set_defaults(func=_poll)

    chk = esub.add_parser("check", help="read a file and report its envelope, counts and content (writes nothing)")
    chk.add_argument("file", type=path_arg)
    add_json_option(chk)
    chk.set_defaults(func=_check)


def _actor(session: Any, name: str) -> Any:
    from app.services.auth import actor_by_name

    return actor_by_name(session, name) if name else None


def _import(args: argparse.Namespace) -> int:
    from app.cli.common import session_for
    from app.services.edi.customer_orders import CustomerImport
    from app.services.edi.inbound import import_file

    outbound = args.outbound or _configured_outbound() or args.file.parent
    with session_for(args) as s:
        result = import_file(s, _actor(s, args.user), args.file, outbound)
    if isinstance(result, CustomerImport):
        if result.refused:  # committed: the rejecting 997 / CONTRL and its control number are kept
            print(f"depot: error: {result.summary()}", file=sys.stderr)
            return 1
        if args.json:
            print_json({"file": result.file_name, "standard": result.standard, "customer": result.customer,
                        "outbound": str(outbound), "sent": result.written,
                        "orders": [o.__dict__ for o in result.outcomes]})
        else:
            print(result.summary())
            for o in result.outcomes:
                for line in o.lines:
                    print(f"  PO {o.po_number} line {line}")
        return 1 if any(not o.accepted and not o.duplicate for o in result.outcomes) else 0
    if args.json:
        print_json({"file": result.file_name, "standard": result.standard, "type": result.msg_type,
                    "sender": result.sender, "duplicate": result.duplicate, "warnings": result.warnings,
                    "messages": [m.__dict__ for m in result.messages]})
    else:
        print(result.summary())
        for m in result.messages:
            for d in m.differences:
                print(f"  difference: {d}")
    return 0


def _configured_outbound() -> Path | None:
    from app.services.edi.config import folders
    from app.services.settings import Settings

    try:
        outbound, _inbound = folders(Settings())
    except Exception:  # noqa: BLE001 - no settings file yet: fall back to the file's folder
        return None
    return Path(outbound) if outbound else None


def _export_po(args: argparse.Namespace) -> int:
    from sqlalchemy import select

    from app.cli.common import session_for
    from app.models.purchasing import PurchaseOrder
    from app.services.edi.outbound import export_po, write_outbound
    from app.services.errors import NotFound

    with session_for(args) as s:
        po_id = s.scalars(select(PurchaseOrder.id).where(PurchaseOrder.number == args.number)).first()
        if po_id is None:
            raise NotFound("purchase order", args.number)
        name, data = export_po(s, po_id, args.format, actor=_actor(s, args.user))
        path = write_outbound(args.out, name, data)
    print(path)
    return 0


def _poll(args: argparse.Namespace) -> int:
    from app.cli import db_path
    from app.services.db import open_database, session_factory, session_scope
    from app.services.edi.folder import process_inbound

    engine = open_database(db_path(args))
    try:
        with session_scope(engine) as s:
            actor = _actor(s, args.user)
        report = process_inbound(session_factory(engine), args.inbound, actor=actor, outbound_dir=args.outbound)
    finally:
        engine.dispose()
    if args.json:
        print_json({"processed": report.processed, "failed": report.failed,
                    "files": [{"file": o.file_name, "ok": o.ok, "moved_to": o.moved_to, "message": o.message,
                               "ack": o.ack_file} for o in report.outcomes]})
    else:
        for o in report.outcomes:
            print(("ok    " if o.ok else "ERROR ") + o.message, file=sys.stdout if o.ok else sys.stderr)
        print(f"{report.processed} file(s) imported, {report.failed} refused")
    return 0 if report.failed == 0 else 1


def _check(args: argparse.Namespace) -> int:
    from app.services.edi import edifact, x12
    from app.services.edi.inbound import detect_type, standard_of
    from app.services.edi.text import decode, was_utf16
    from app.services.errors import DomainError

    try:
        data = Path(args.file).read_bytes()
    except OSError as e:
        raise DomainError(f"cannot read {args.file}: {e.strerror}") from None
    text = decode(data)
    kind = detect_type(text)
    parts: list[dict[str, Any]] = []
    if standard_of(text) == "x12":
        for ic in x12.parse_all(text):
            parts.append({"standard": "x12", "type": kind, "sender": ic.sender_id, "receiver": ic.receiver_id,
                          "control": ic.control, "delimiters": ic.delimiters.__dict__,
                          "transactions": [{"set": t.set_id, "control": t.control, "segments": len(t.segments)}
                                           for t in ic.transactions],
                          "problems": ic.all_problems(), "warnings": ic.warnings})
    else:
        for ie in edifact.parse_all(text):
            parts.append({"standard": "edifact", "type": kind, "sender": ie.sender, "receiver": ie.recipient,
                          "control": ie.control,
                          "messages": [{"type": m.type, "ref": m.ref, "segments": len(m.segments)} for m in ie.messages],
                          "problems": ie.all_problems(), "warnings": ie.warnings})
    if was_utf16(data):
        parts[0]["warnings"].insert(0, "the file came as UTF-16; X12 and EDIFACT files are 8-bit text")
    problems = [p for info in parts for p in info["problems"]]
    if args.json:
        print_json(parts[0] if len(parts) == 1 else {"interchanges": parts})
    else:
        for n, info in enumerate(parts, 1):
            head = f"{args.file}: " + (f"interchange {n} of {len(parts)}: " if len(parts) > 1 else "")
            sets = info.get("transactions") or info.get("messages") or []
            types = ", ".join(dict.fromkeys(str(t.get("set") or t.get("type")) for t in sets)) or kind
            print(f"{head}{info['standard']} {types} from {info['sender']} to {info['receiver']}, "
                  f"control {info['control']}, {len(sets)} message(s)")
            for w in info["warnings"]:
                print(f"  warning: {w}")
            for p in info["problems"]:
                print(f"  PROBLEM: {p}")
    if problems:
        raise DomainError(f"{args.file}: " + "; ".join(problems))
    return 0
