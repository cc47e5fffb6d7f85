"""`depot invoice ...`: invoices and credit notes from the shell.

    depot invoice list [--customer C] [--status pending|released|cancelled|open|overdue|paid] [--kind invoice|credit]
                       [--since D] [--until D] [--json]
    depot invoice show NUMBER [--json]
    depot invoice create SHIPMENT --user U          the shipment's unbilled lines (pending)
    depot invoice release NUMBER --user U           release a pending invoice (as on delivery)
    depot invoice cancel NUMBER --reason TEXT --user U
    depot invoice credit --return CR-OR-RMA --user U
    depot invoice credit --invoice NUMBER LINE=PRICE ... --reason TEXT --user U
    depot invoice edi [--outbound DIR] [NUMBER ...]  EDI customers' 810 / INVOIC files
    depot invoice settle [--batch N] [--json]       invoice the carrier events' queued follow-ups (the billing job)
    depot invoice reconcile [--json]                queue and invoice delivered shipments left neither invoiced nor queued
    depot invoice tax-rate ZONE CLASS PERCENT [--name TEXT]
    depot invoice billing CUSTOMER [--on delivery|shipment] [--zone Z] [--rounding line|invoice] [--email A]
"""

from __future__ import annotations

import argparse
from typing import Any

from app.cli.args import path_arg
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
from app.cli.receivables import _date
from app.services.billing import credits, edi_out, invoices, reconcile, settle, tax
from app.services.billing.profile import billing_of, set_billing
from app.services.billing.queries import invoice_detail, list_invoices
from app.services.billing.receivables import customer_by
from app.services.errors import ValidationError
from app.services.money import fmt_money


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("invoice", help="invoices and credit notes: list, show, create, release, cancel, credit")
    isub = p.add_subparsers(dest="invoice_command", metavar="ACTION", required=True)

    def cmd(name: str, help_: str, func: Any, *, user: bool = True, json: bool = False) -> argparse.ArgumentParser:
        c: argparse.ArgumentParser = isub.add_parser(name, help=help_)
        add_db_option(c)
        if user:
            add_user_option(c)
        if json:
            add_json_option(c)
        c.set_defaults(func=func)
        return c

    c = cmd("list", "invoices and credit notes, newest first", _list, user=False, json=True)
    c.add_argument("--customer", metavar="CODE")
    c.add_argument("--status", choices=("pending", "released", "cancelled", "open", "overdue", "paid", "credit"))
    c.add_argument("--kind", choices=("invoice", "credit"))
    c.add_argument("--since", type=_date)
    c.add_argument("--until", type=_date)
    c.add_argument("--limit", type=int, default=100)
    c = cmd("show", "one invoice or credit note with its lines, taxes and ledger rows", _show, user=False, json=True)
    c.add_argument("number")
    c = cmd("create", "invoice a shipment's unbilled lines (pending until released)", _create, json=True)
    c.add_argument("shipment", metavar="SHIPMENT")
    c.add_argument("--release", action="store_true", help="release it at once")
    c = cmd("release", "release a pending invoice into the receivables", _release, json=True)
    c.add_argument("number")
    c.add_argument("--pod", default=None, help="proof of delivery reference to print on it")
    c = cmd("cancel", "cancel a pending invoice (its number stays, marked cancelled)", _cancel)
    c.add_argument("number")
    c.add_argument("--reason", required=True)
    c = cmd("credit", "a credit note: for a return (--return) or a price correction (--invoice LINE=PRICE)", _credit,
            json=True)
    c.add_argument("--return", dest="ret", metavar="CREDIT-REQUEST-OR-RMA")
    c.add_argument("--invoice", metavar="NUMBER")
    c.add_argument("--reason", default="")
    c.add_argument("prices", nargs="*", metavar="LINE=PRICE")
    c = cmd("edi", "write the waiting EDI invoices (810 / INVOIC) into the outbound folder", _edi)
    c.add_argument("--outbound", type=path_arg, help="folder (default: Settings > EDI outbound)")
    c.add_argument("numbers", nargs="*", metavar="NUMBER", help="only these (default: every waiting one)")
    c = cmd("settle", "invoice what the carrier's pickups and deliveries queued (the billing job, once)", _settle,
            user=False, json=True)
    c.add_argument("--batch", type=int, default=settle.BATCH, help="shipments a transaction")
    cmd("reconcile", "queue and invoice this branch's delivered shipments left neither invoiced nor queued (the "
        "hourly safety net; for a headless workstation's scheduled task)", _reconcile, user=False, json=True)
    c = cmd("tax-rate", "set the tax rate of a customer tax zone and an item tax class", _rate)
    c.add_argument("zone")
    c.add_argument("tax_class", metavar="CLASS")
    c.add_argument("percent")
    c.add_argument("--name", default="")
    c = cmd("billing", "how a customer is billed", _billing, json=True)
    c.add_argument("customer")
    c.add_argument("--on", choices=("delivery", "shipment"))
    c.add_argument("--zone")
    c.add_argument("--rounding", choices=("line", "invoice"))
    c.add_argument("--email")
    c.add_argument("--bill-to")
    c.add_argument("--tax-id")


def _list(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        rows = list_invoices(s, customer=args.customer, status=args.status, kind=args.kind, since=args.since,
                             until=args.until, limit=args.limit)
    if args.json:
        print_json([{**r.__dict__, "state": r.state} for r in rows])
        return 0
    print_table([{"number": r.number, "kind": r.kind, "state": r.state, "customer": r.customer, "date": r.invoice_date,
                  "due": r.due_date if r.kind == "invoice" else "", "total": fmt_money(r.total, r.currency),
                  "open": fmt_money(r.open, r.currency), "shipment": r.shipment, "tracking": r.tracking_number}
                 for r in rows])
    return 0


def _print_detail(d: dict[str, Any]) -> None:
    cur = d["currency"]
    what = "Credit note" if d["kind"] == "credit" else "Invoice"
    print(f"{what} {d['number']} ({d['state']}) for {d['customer']} {d['customer_name']}")
    print(f"  date {d['invoice_date']}, due {d['due_date']} ({d['terms']}), order {d['order'] or '-'}, "
          f"your PO {d['customer_po'] or '-'}")
    if d["shipment"]:
        print(f"  shipment {d['shipment']} via {d['carrier'] or '-'}, tracking {d['tracking_number'] or '-'}, "
              f"POD {d['pod_ref'] or 'not yet'}")
    if d["credits"]:
        print(f"  credits invoice {d['credits']}: {d['reason']}")
    print_table([{"#": ln["line"], "sku": ln["sku"], "description": ln["description"][:34], "qty": ln["qty"],
                  "price": ln["price"], "tax %": ln["tax_pct"].normalize(), "amount": fmt_money(ln["amount"], cur),
                  "tax": fmt_money(ln["tax"], cur)} for ln in d["lines"]])
    for t in d["taxes"]:
        print(f"  {t['name']}: {fmt_money(t['amount'], cur)} on {fmt_money(t['base'], cur)}"
              + (f" (per-line minus per-invoice rounding {fmt_money(t['rounding_diff'], cur)})" if t["rounding_diff"] else ""))
    print(f"  subtotal {fmt_money(d['subtotal'], cur)}  tax {fmt_money(d['tax'], cur)}  total "
          f"{fmt_money(d['total'], cur, code=True)}  open {fmt_money(d['open'], cur)}  (tax rounded per {d['tax_rounding']})")


def _show(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        d = invoice_detail(s, args.number)
    if args.json:
        print_json(d)
    else:
        _print_detail(d)
    return 0


def _done(args: argparse.Namespace, number: str) -> int:
    with session_for(args) as s:
        d = invoice_detail(s, number)
    if args.json:
        print_json(d)
    else:
        _print_detail(d)
    return 0


def _create(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        actor = actor_of(s, args)
        inv = invoices.invoice_shipment(s, actor, args.shipment)
        if args.release:
            invoices.release(s, actor, inv.id)
        number = inv.number
    return _done(args, number)


def _release(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        inv = invoices.release(s, actor_of(s, args), args.number, pod_ref=args.pod)
        number = inv.number
    return _done(args, number)


def _cancel(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        inv = invoices.cancel(s, actor_of(s, args), args.number, args.reason)
        print(f"{inv.number} cancelled ({args.reason})")
    return 0


def _credit(args: argparse.Namespace) -> int:
    if bool(args.ret) == bool(args.invoice):
        raise ValidationError("credit", "give either --return CREDIT-REQUEST (or RMA) or --invoice NUMBER LINE=PRICE ...")
    with session_for(args) as s:
        actor = actor_of(s, args)
        if args.ret:
            if args.prices:
                raise ValidationError("LINE=PRICE", "a return's credit takes its lines from the return")
            cn = credits.credit_from_return(s, actor, args.ret)
        else:
            prices: dict[int, str] = {}
            for pair in args.prices:
                line, sep, price = pair.partition("=")
                if not sep or not line.strip().isdigit():
                    raise ValidationError("LINE=PRICE", f"{pair!r}: write the line number, '=', the correct unit price")
                prices[int(line)] = price.strip()
            cn = credits.credit_price_correction(s, actor, args.invoice, prices, args.reason)
        number = cn.number
    return _done(args, number)


def _edi(args: argparse.Namespace) -> int:
    from app.services.edi.config import folders
    from app.services.settings import Settings

    folder = args.outbound or folders(Settings())[0]
    if not folder:
        raise ValidationError("--outbound", "no EDI outbound folder: give --outbound DIR or set it in Settings > EDI")
    with session_for(args) as s:
        run = edi_out.send_pending(s, actor_of(s, args), folder, refs=args.numbers or None)
    for path in run.written:
        print(path)
    print(f"{len(run.written)} EDI invoice file(s) written to {folder}")
    return 0


def _settle(args: argparse.Namespace) -> int:
    if args.batch < 1:
        raise ValidationError("--batch", "must be at least 1")
    engine = engine_for(args)
    try:
        done = settle.run(engine, batch=args.batch)
    finally:
        engine.dispose()
    if args.json:
        print_json(done.to_dict())
    else:
        print(done.line())
        for note in done.notes:
            print(f"  {note}")
    return 0 if done.ok else 1


def _reconcile(args: argparse.Namespace) -> int:
    engine = engine_for(args)
    try:
        found, done = reconcile.run_and_settle(engine)
    finally:
        engine.dispose()
    if args.json:
        print_json({"queued": found.queued, "settled": done.to_dict()})
    else:
        print(found.line())
        if found.queued:
            print(done.line())
    return 0 if done.ok else 1


def _rate(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        actor = actor_of(s, args) if getattr(args, "user", None) else None
        r = tax.set_tax_rate(s, actor, args.zone, args.tax_class, args.percent, args.name)
        print(f"tax rate {r.tax_zone} / {r.tax_class}: {r.rate_pct.normalize()} % ({r.name})")
    return 0


def _billing(args: argparse.Namespace) -> int:
    values = {k: v for k, v in (("invoice_on", args.on), ("tax_zone", args.zone), ("tax_rounding", args.rounding),
                                ("invoice_email", args.email), ("bill_to", args.bill_to), ("tax_id", args.tax_id))
              if v is not None}
    with session_for(args) as s:
        actor = actor_of(s, args) if values and getattr(args, "user", None) else None
        cust = customer_by(s, args.customer)
        b = set_billing(s, actor, cust, **values) if values else billing_of(s, cust)
    if args.json:
        print_json(b)
    else:
        print(f"{args.customer.upper()}: released on {b.invoice_on}, tax zone {b.tax_zone}, tax rounded per "
              f"{b.tax_rounding}, invoices to {b.invoice_email or '-'}, bill to {b.bill_to.replace(chr(10), ', ') or '-'}")
    return 0
