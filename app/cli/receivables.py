"""`depot receivables ...` and `depot payment ...`: the open-items ledger from the shell.

    depot receivables open CUSTOMER [--json]          what a customer owes, per document
    depot receivables ageing [--customer C] [--today D] [--json]
    depot receivables dso [--days 90] [--customer C] [--json]
    depot receivables statement CUSTOMER --out FILE.pdf [--today D]
    depot payment apply CUSTOMER AMOUNT [--invoice N ...] [--date D] [--method bank] [--reference R] --user U
    depot payment import FILE.csv --user U           a bank export: every line checked, then all paid
    depot payment list [--customer C] [--json]
"""

from __future__ import annotations

import argparse
import datetime as dt
from decimal import Decimal
from pathlib import Path

from app.cli.args import path_arg
from app.cli.common import (
    actor_of,
    add_db_option,
    add_json_option,
    add_user_option,
    output_path,
    print_json,
    print_table,
    session_for,
    write_output,
)
from app.services.billing import receivables as ar
from app.services.billing.bank import import_bank_csv
from app.services.billing.statements import statement_pdf
from app.services.money import fmt_money


def _date(value: str) -> dt.date:
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{value!r} is not a date (use YYYY-MM-DD)") from None


def register(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("receivables", help="customer open items: open, ageing, DSO, statement")
    rsub = p.add_subparsers(dest="ar_command", metavar="ACTION", required=True)
    c = rsub.add_parser("open", help="a customer's open documents")
    c.add_argument("customer", metavar="CUSTOMER")
    c.add_argument("--today", type=_date, default=None)
    add_json_option(c)
    add_db_option(c)
    c.set_defaults(func=_open)
    c = rsub.add_parser("ageing", help="open amounts per customer by days past due")
    c.add_argument("--customer", metavar="CODE")
    c.add_argument("--today", type=_date, default=None)
    add_json_option(c)
    add_db_option(c)
    c.set_defaults(func=_ageing)
    c = rsub.add_parser("dso", help="days of sales outstanding")
    c.add_argument("--days", type=int, default=90)
    c.add_argument("--customer", metavar="CODE")
    c.add_argument("--today", type=_date, default=None)
    add_json_option(c)
    add_db_option(c)
    c.set_defaults(func=_dso)
    c = rsub.add_parser("statement", help="a customer's statement as PDF")
    c.add_argument("customer", metavar="CUSTOMER")
    c.add_argument("--out", type=path_arg, help="PDF file (default: statement-<customer>-<date>.pdf here)")
    c.add_argument("--today", type=_date, default=None)
    add_db_option(c)
    c.set_defaults(func=_statement)

    p = sub.add_parser("payment", help="customer payments: apply by hand, import a bank file, list")
    psub = p.add_subparsers(dest="payment_command", metavar="ACTION", required=True)
    c = psub.add_parser("apply", help="apply a payment (oldest open items first unless --invoice is given)")
    c.add_argument("customer", metavar="CUSTOMER")
    c.add_argument("amount", metavar="AMOUNT")
    c.add_argument("--invoice", action="append", default=[], metavar="NUMBER")
    c.add_argument("--date", type=_date, default=None, help="received on (default today)")
    c.add_argument("--method", default="bank", choices=ar.METHODS)
    c.add_argument("--reference", default="")
    add_user_option(c)
    add_db_option(c)
    c.set_defaults(func=_apply)
    c = psub.add_parser("import", help="payments from a bank CSV (date, customer, amount, invoice, reference)")
    c.add_argument("file", type=path_arg)
    c.add_argument("--encoding", default=None)
    c.add_argument("--delimiter", default=None)
    add_user_option(c)
    add_db_option(c)
    c.set_defaults(func=_import)
    c = psub.add_parser("list", help="payments, newest first, with what each paid")
    c.add_argument("--customer", metavar="CODE")
    c.add_argument("--limit", type=int, default=50)
    add_json_option(c)
    add_db_option(c)
    c.set_defaults(func=_list)


def _today(args: argparse.Namespace) -> dt.date:
    return args.today or dt.date.today()


def _open(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        cust = ar.customer_by(s, args.customer)
        items = ar.open_items(s, cust.id, today=_today(args))
    if args.json:
        print_json([o.__dict__ for o in items])
        return 0
    print_table([{"document": o.doc_number, "date": o.doc_date, "due": o.due_date or "", "original":
                  fmt_money(o.original, o.currency), "open": fmt_money(o.open, o.currency),
                  "days past due": max(o.days_past_due, 0)} for o in items])
    return 0


def _ageing(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        rows = ar.ageing(s, today=_today(args), customer=args.customer)
    labels = [b[0] for b in ar.BUCKETS]
    if args.json:
        print_json([{"customer": r.code, "name": r.name, "currency": r.currency, **r.buckets, "total": r.total}
                    for r in rows])
        return 0
    table = [{"customer": r.code, **{k: fmt_money(v, r.currency) for k, v in r.buckets.items()},
              "total": fmt_money(r.total, r.currency)} for r in rows]
    if rows:
        tot = ar.ageing_totals(rows)
        table.append({"customer": "TOTAL", **{k: fmt_money(tot[k]) for k in labels},
                      "total": fmt_money(sum(tot.values(), Decimal(0)))})
    print_table(table, ["customer", *labels, "total"])
    return 0


def _dso(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        d = ar.dso(s, today=_today(args), days=args.days, customer=args.customer)
    if args.json:
        print_json({"days": d.days, "receivables": d.receivables, "sales": d.sales, "dso": d.value})
        return 0
    value = "n/a (nothing invoiced in the period)" if d.value is None else f"{d.value} days"
    print(f"DSO over {d.days} days: {value} (open {fmt_money(d.receivables)}, invoiced {fmt_money(d.sales)})")
    return 0


def _statement(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        name, pdf = statement_pdf(s, args.customer, today=_today(args))
    out: Path = output_path(args.out or Path(name), name)
    write_output(out, pdf)
    print(f"{out} ({len(pdf):,} bytes)")
    return 0


def _apply(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        actor = actor_of(s, args)
        done = ar.apply_payment(s, actor, ar.PaymentSpec(args.customer, args.amount, args.date or dt.date.today(),
                                                         invoices=tuple(args.invoice), method=args.method,
                                                         reference=args.reference))
    print(f"{done.number}: {fmt_money(done.amount)} from {done.customer} paid "
          + ", ".join(f"{d} {fmt_money(a)}" for d, a in done.applied))
    return 0


def _import(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        actor = actor_of(s, args)
        done = import_bank_csv(s, actor, args.file, encoding=args.encoding, delimiter=args.delimiter)
    for note in done.notes:
        print(f"{done.name}: {note}")
    print(f"{done.name}: {len(done.paid)} payments applied ({fmt_money(done.total)})"
          + (f"; {len(done.skipped)} lines already paid by an earlier import (skipped)" if done.skipped else ""))
    return 0


def _list(args: argparse.Namespace) -> int:
    with session_for(args) as s:
        rows = ar.payments(s, customer=args.customer, limit=args.limit)
    if args.json:
        print_json(rows)
        return 0
    print_table([{"payment": p.number, "customer": p.customer, "received": p.received_on,
                  "amount": fmt_money(p.amount, p.currency), "method": p.method, "reference": p.reference,
                  "paid": ", ".join(f"{d} {fmt_money(a)}" for d, a in p.applied)} for p in rows])
    return 0
