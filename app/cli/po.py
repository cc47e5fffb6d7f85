"""`depot po list|show|create|submit|approve|reject|revise|send|cancel|close|inbox` and `depot mail send-due`.

Every command is one transaction: it either does all of its work or prints one error line
and changes nothing. Commands that act need `--user NAME` (or $DEPOT_USER): approvals and
segregation of duties are checked against that user's roles.
"""

from __future__ import annotations

import argparse
import datetime as dt
from typing import Any

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
    p = sub.add_parser("po", help="purchase orders: list, show, create, approve, send, cancel, close")
    ps = p.add_subparsers(dest="po_command", required=True, metavar="ACTION")

    def cmd(name: str, help_: str, func: Any, *, number: bool = True, user: bool = True,
            json_opt: bool = False) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = ps.add_parser(name, help=help_)
        add_db_option(c)
        if number:
            c.add_argument("number", help="PO number, e.g. DAL-PO-000123")
        if user:
            add_user_option(c)
        if json_opt:
            add_json_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("list", "purchase orders, newest first", _list, number=False, user=False, json_opt=True)
    c.add_argument("--status", help="only this status (draft, pending_approval, approved, sent, ...)")
    c.add_argument("--supplier", help="only this supplier code")
    c.add_argument("--limit", type=int, default=100)
    cmd("show", "one purchase order with lines, reasons and decisions", _show, user=False, json_opt=True)
    c = cmd("create", "a PO by hand", _create, number=False, json_opt=True)
    c.add_argument("--supplier", required=True)
    c.add_argument("--warehouse", required=True, help="ship-to warehouse code")
    c.add_argument("--line", action="append", default=[], metavar="SKU:QTY[:PRICE]", required=True,
                   help="a line; QTY in base units; PRICE defaults to the contract price")
    c.add_argument("--rush", action="store_true")
    c.add_argument("--expected", help="deliver-by date YYYY-MM-DD")
    c.add_argument("--notes", default="")
    c.add_argument("--submit", action="store_true", help="submit for approval right away")
    c.add_argument("--close-requisitions", action="store_true",
                   help="mark the open requisitions this PO covers (same item and ship-to) converted into it")
    cmd("submit", "run the approval rules (pending approval, or approved when none fires)", _submit)
    c = cmd("approve", "approve the next level of a PO", _approve)
    c.add_argument("--comment", default="")
    c = cmd("reject", "reject a PO back to the buyer", _reject)
    c.add_argument("--comment", required=True)
    c = cmd("revise", "new revision with new lines; goes back through approval", _revise)
    c.add_argument("--line", action="append", default=[], metavar="SKU:QTY[:PRICE]", required=True)
    c = cmd("send", "e-mail the PDF (outbox) and/or write the EDI file", _send)
    c.add_argument("--outbound", type=path_arg, help="EDI outbound folder (default: setting edi.outbound_dir)")
    c.add_argument("--cc", default="")
    c = cmd("cancel", "cancel a PO", _cancel)
    c.add_argument("--reason", default="")
    c = cmd("close", "close a PO: nothing more is expected", _close)
    c.add_argument("--reason", default="")
    cmd("inbox", "what this user may approve now", _inbox, number=False, json_opt=True)

    m = sub.add_parser("mail", help="the e-mail outbox")
    ms = m.add_subparsers(dest="mail_command", required=True, metavar="ACTION")
    d = ms.add_parser("send-due", help="deliver queued e-mail that is due (SMTP from settings)")
    add_db_option(d)
    d.add_argument("--host", help="SMTP host (default: setting smtp.host)")
    d.add_argument("--port", type=int, help="SMTP port (default: setting smtp.port)")
    d.set_defaults(func=_mail_send)
    o = ms.add_parser("list", help="outbox messages")
    add_db_option(o)
    add_json_option(o)
    o.set_defaults(func=_mail_list)


def _parse_lines(specs: list[str]) -> list[Any]:
    from app.services.buying.purchasing import LineInput

    out = []
    for n, spec in enumerate(specs, 1):
        parts = spec.split(":")
        if len(parts) not in (2, 3) or not parts[0].strip():
            raise ValidationError(f"--line {n}", f"{spec!r} is not SKU:QTY or SKU:QTY:PRICE")
        out.append(LineInput(sku=parts[0], qty=parts[1], price=parts[2] if len(parts) == 3 else None))
    return out


def _row(r: Any) -> dict[str, Any]:
    return {"number": r.number, "rev": r.revision, "status": r.status, "supplier": r.supplier_code,
            "date": r.order_date.isoformat(), "lines": r.lines, "total": f"{r.total:,.2f}", "currency": r.currency,
            "rush": r.rush}


def _list(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import list_pos

    with session_for(args) as s:
        rows = list_pos(s, status=args.status, supplier=args.supplier, limit=args.limit)
    if args.json:
        print_json([{**_row(r), "total": str(r.total), "id": str(r.id)} for r in rows])
    else:
        print_table([_row(r) for r in rows])
    return 0


def _show(args: argparse.Namespace) -> int:
    from app.services.buying.po_documents import po_detail

    with session_for(args) as s:
        d = po_detail(s, args.number)
    if args.json:
        print_json(d)
        return 0
    print(f"{d['number']} rev {d['revision']}  {d['status']}  supplier {d['supplier']} ({d['supplier_name']})"
          f"  {d['order_date']}{'  RUSH' if d['rush'] else ''}")
    from app.services.money import fmt_money, fmt_price, price_places

    places = price_places([ln["price"] for ln in d["lines"]], d["currency"])
    print_table([{**ln, "price": fmt_price(ln["price"], places), "per": ln["uom"],
                  "extension": fmt_money(ln["extension"], d["currency"])} for ln in d["lines"]],
                ["line", "sku", "description", "qty", "uom", "price", "per", "extension", "ship_to"])
    print(f"total {fmt_money(d['total'], d['currency'], code=True)}  terms {d['payment_terms']}")
    for st in d["approval"]:
        who = f"approved by {st['approved_by']}" if st["approved_by"] else (
            f"rejected by {st['rejected_by']}" if st["rejected_by"] else "waiting")
        print(f"level {st['level']} ({'/'.join(st['roles'])}): {who}")
        for r in st["reasons"]:
            print(f"  - {r}")
    return 0


def _create(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import create_po

    expected = None
    if args.expected:
        try:
            expected = dt.date.fromisoformat(args.expected)
        except ValueError:
            raise ValidationError("--expected", f"{args.expected!r} is not a date YYYY-MM-DD") from None
    with session_for(args) as s:
        actor = actor_of(s, args)
        po = create_po(s, actor, args.supplier, args.warehouse, _parse_lines(args.line), rush=args.rush,
                       expected_date=expected, notes=args.notes, submit_now=args.submit)
        number, status = po.number, po.status
        from app.services.buying import conversion

        covered = conversion.covered_by(s, po.id)
        closed = [r.number for r in conversion.close_with_po(s, actor, po.id, [c.id for c in covered])] \
            if covered and args.close_requisitions else []
    if args.json:
        print_json({"number": number, "status": status, "requisitions_closed": closed,
                    "requisitions_covered": [c.number for c in covered]})
        return 0
    print(f"{number} created ({status.replace('_', ' ')})")
    if closed:
        print(f"  {', '.join(closed)} converted into {number}")
    elif covered:
        what = ", ".join(f"{c.number} ({c.sku} at {c.warehouse}, {c.qty:,})" for c in covered)
        print(f"  {number} covers open requisition(s) {what}: close them with `depot requisition close-with-po "
              f"{number} {' '.join(c.number for c in covered)} --user {args.user}` or the next run counts the need twice")
    return 0


def _act(args: argparse.Namespace, fn: Any, verb: str, **kw: Any) -> int:
    from app.services.buying.po_receipts import followup_note
    from app.services.buying.purchasing import get_po
    from app.services.ownership import owns

    with session_for(args) as s:
        actor = actor_of(s, args)
        po = get_po(s, args.number)
        fn(s, actor, po.id, **kw)
        number, status, rev = po.number, po.status, po.revision
        mine = owns(s, po.owner_branch_id)
        follow = followup_note(s, po)
    # another branch's PO keeps its status here until its owner syncs: say so instead
    print(f"{number} rev {rev} {verb}" + (f": now {status}" if mine else "") + follow)
    return 0


def _submit(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import submit

    return _act(args, submit, "submitted")


def _approve(args: argparse.Namespace) -> int:
    from app.services.buying.approvals import approve

    return _act(args, approve, "approved by " + str(args.user), comment=args.comment)


def _reject(args: argparse.Namespace) -> int:
    from app.services.buying.approvals import reject

    return _act(args, reject, "rejected", comment=args.comment)


def _revise(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import revise

    return _act(args, revise, "revised", lines=_parse_lines(args.line))


def _cancel(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import cancel

    return _act(args, cancel, "cancelled", reason=args.reason)


def _close(args: argparse.Namespace) -> int:
    from app.services.buying.purchasing import close

    return _act(args, close, "closed", reason=args.reason)


def _settings() -> Any:
    from app.services.settings import Settings

    return Settings()


def _send(args: argparse.Namespace) -> int:
    from app.services.buying.po_documents import send_po

    outbound = args.outbound or _settings().get("edi.outbound_dir") or None
    with session_for(args) as s:
        out = send_po(s, actor_of(s, args), args.number, outbound_dir=outbound, cc=args.cc)
    parts = []
    if out.email_id:
        parts.append(f"e-mail to {out.email_to} queued (deliver with 'depot mail send-due')")
    if out.edi_file:
        parts.append(f"EDI file {out.edi_file}")
    print(f"{out.number} {out.status}: " + "; ".join(parts))
    return 0


def _mail_send(args: argparse.Namespace) -> int:
    from app.services import mail

    st = _settings()
    if args.host:
        st_cfg = mail.SmtpConfig(host=args.host, port=args.port or 25,
                                 sender=str(st.get("smtp.sender", "depot@localhost")))
    else:
        st_cfg = mail.config_from_settings(st)
        if args.port:
            st_cfg = mail.SmtpConfig(**{**st_cfg.__dict__, "port": args.port})
    from app.cli.common import engine_for
    from app.services.db import session_scope

    engine = engine_for(args)
    try:
        rep = mail.deliver_due(engine, st_cfg)  # no database lock held while SMTP answers
        with session_scope(engine, write=False) as s:
            elsewhere = mail.waiting_elsewhere(s)
    finally:
        engine.dispose()
    print(f"sent {rep.sent}, will retry {rep.retry}, failed {rep.failed}")
    if elsewhere:
        print(f"  {elsewhere} due message(s) of this branch are sent by the workstation that queued them")
    for e in rep.errors or []:
        print(f"  {e}")
    return 0 if not rep.failed else 1


def _mail_list(args: argparse.Namespace) -> int:
    from app.services.mail import outbox, sender

    with session_for(args) as s:
        rows = [{"to": m.to_addr, "subject": m.subject, "status": m.status, "attempts": m.attempts,
                 "next_attempt": m.next_attempt_at.isoformat(timespec="seconds") if m.next_attempt_at else "",
                 "sender": sender(s, m), "last_error": m.last_error[:60]} for m in outbox(s)]
    if args.json:
        print_json(rows)
    else:
        print_table(rows)
    return 0


def _inbox(args: argparse.Namespace) -> int:
    from app.services.buying.approvals import inbox
    from app.services.buying.purchasing import list_pos

    with session_for(args) as s:
        actor = actor_of(s, args)
        numbers = {po.number for po in inbox(s, actor)}
        rows = [r for r in list_pos(s, status="pending_approval", limit=10_000) if r.number in numbers]
    if args.json:
        print_json([{**_row(r), "total": str(r.total)} for r in rows])
    else:
        print_table([_row(r) for r in rows])
    return 0
